/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RESP (Redis serialization protocol) framing over libevent evbuffers.
 *
 * Two resumable parsers, one per direction, and a few helpers to read and write arguments:
 *
 *   - sp_resp_request frames the next client request at the HEAD of an evbuffer (RESP2
 *     multibulk `*N\r\n$len\r\narg\r\n...` or an inline line `GET foo\r\n`).  It neither removes
 *     nor copies the request: it reports its total length and, per argument, an offset from the
 *     request start and a length.  The caller then moves `len` bytes out of the buffer
 *     (evbuffer_remove_buffer / evbuffer_drain) before asking for the next request.
 *   - sp_resp_reply frames the next server reply (`+ - : $ *`, arrays nested to any depth).
 *
 * Both return an enum sp_parse (core/parse.h): SP_PARSE_OK (a whole message is framed),
 * SP_PARSE_AGAIN (need more bytes; state is kept, so call again when more data was appended -
 * bytes already examined are not examined again, and the body of a bulk is never examined at
 * all) or SP_PARSE_ERROR (framing is lost: the caller must close the connection; the message
 * names the problem and the byte offset).
 *
 * Byte offsets in error messages count from the first byte the parser saw after init/reset,
 * i.e. from the start of the connection's stream, provided each framed message was removed from
 * the buffer before the next call (the documented usage).
 *
 * Between an AGAIN and the next call the caller may APPEND to the buffer but must not remove
 * anything from it.  No function here keeps a pointer into the buffer across calls.
 */
#ifndef SP_RESP_H
#define SP_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "core/parse.h"

struct evbuffer;
struct sp_command;


/* Default limits (as Redis: proto-max-bulk-len 512 MiB, PROTO_INLINE_MAX_SIZE 64 KiB). */
#define SP_RESP_MAX_ARGS       (1024u * 1024u)          /* args in one multibulk request */
#define SP_RESP_MAX_BULK       (512u * 1024u * 1024u)   /* bytes in one request argument */
#define SP_RESP_MAX_INLINE     (64u * 1024u)            /* bytes in one inline line, w/o EOL */
#define SP_RESP_MAX_REPLY_LINE (1024u * 1024u)          /* bytes in a + - : reply line */

/* Argument and element arrays kept between messages up to this many entries (beyond: freed
   once the message is done, so one huge request does not pin its memory for good). */
#define SP_RESP_KEEP_ELEMS 4096

/* Recommended size of caller error buffers: every message fits. */
#define SP_RESP_ERRLEN 128

/* One argument of a framed request: `len` bytes at `off` bytes from the request's first byte. */
struct sp_resp_arg {
    size_t off;
    size_t len;
};

/*
 * A request parser, one per client connection.  Fields above the line are results, valid after
 * SP_PARSE_OK until the next call; fields below are private parser state.
 */
struct sp_resp_request {
    size_t len;                     /* total bytes of the request, incl. the final CRLF / LF */
    size_t argc;                    /* 0: an empty request (`*0`, `*-1`, blank line): drain len
                                       bytes and send nothing, as Redis does */
    struct sp_resp_arg *argv;       /* argc entries; owned by the parser, reused */
    const struct sp_command *cmd;   /* command table entry of argv[0]; NULL if unknown / argc 0 */
    int is_inline;                  /* 1 if the request was an inline line */
    struct evbuffer *body;          /* inline: the request rewritten as a RESP multibulk (what
                                       the server gets); argv offsets refer to it, not to the
                                       input (see sp_resp_request_args) */

    /* limits, set to the SP_RESP_MAX_* defaults by init; may be lowered by the caller */
    size_t max_args;
    size_t max_bulk;
    size_t max_inline;

    /* statistics: bytes the parser looked at (headers, CRLFs, inline lines); bulk bodies are
       skipped, never examined.  Tests use it to prove big values are not rescanned. */
    uint64_t examined;

    /* ---- private ---- */
    int state;
    size_t pos;                     /* request-relative offset where parsing resumes */
    size_t expect;                  /* multibulk: announced argument count */
    size_t argv_cap;
    unsigned char *line;            /* inline: the line, decoded in place */
    size_t line_cap;
    uint64_t stream_off;            /* stream offset of this request's first byte */
    const struct sp_command *last_cmd;  /* the previous request's command: tried first */
};

/* Initialises a request parser with default limits.  Allocates nothing. */
void sp_resp_request_init(struct sp_resp_request *r);

/* Frees the argument array; the parser may be re-initialised afterwards. */
void sp_resp_request_free(struct sp_resp_request *r);

/*
 * Frames the request at the head of `in`.
 * Returns SP_PARSE_OK: r->len, argc, argv, cmd, is_inline describe the request; the caller must
 *   remove exactly r->len bytes from the head of `in` before calling again (the next call starts
 *   a new request).
 * Returns SP_PARSE_AGAIN: incomplete; progress is kept.  `in` is never modified.
 * Returns SP_PARSE_ERROR: framing lost (bad multibulk or bulk header, missing CRLF after a bulk,
 *   a limit exceeded, out of memory); a NUL-terminated message like
 *   "Protocol error: invalid bulk length at byte 17" is written into err (errlen bytes, may be
 *   0).  Further calls return SP_PARSE_ERROR again until sp_resp_request_reset.
 * An unknown command is NOT an error: framing is intact and r->cmd is NULL.
 * Steady state allocates nothing; argv grows (doubling) only when a request has more arguments
 * than any earlier one, to at most twice the arguments actually received (a "*1000000" header
 * alone allocates nothing).  Inline lines are read exactly as Redis reads them (quotes, escapes:
 * resp_inline.c) and rewritten as RESP in r->body; a line Redis would not read the same way (an
 * unbalanced quote, a NUL byte before the LF) is an ERROR.
 */
int sp_resp_request_parse(struct sp_resp_request *r, struct evbuffer *in,
                          char *err, size_t errlen);

/*
 * The buffer the framed request's arguments (argv offsets) refer to, and whose r->body length
 * (inline) or r->len first bytes (multibulk) are the request to forward: r->body for an inline
 * request, else `in` itself.
 */
struct evbuffer *sp_resp_request_args(const struct sp_resp_request *r, struct evbuffer *in);

/* Forgets any partial request and resets the stream offset to 0; keeps argv's memory and limits. */
void sp_resp_request_reset(struct sp_resp_request *r);

/*
 * Is part of a request framed and the rest awaited (an AGAIN in the middle of a request)?  A
 * parser that is not pending holds nothing of its stream but the offset, so it can serve another
 * connection's stream next (sp_resp_request_restart).
 */
int sp_resp_request_pending(const struct sp_resp_request *r);

/*
 * Starts framing a (possibly different) stream whose next request begins at stream offset
 * `off`: as reset, but the offset is given; argv's memory, limits and the command cache stay.
 */
void sp_resp_request_restart(struct sp_resp_request *r, uint64_t off);

/* Reply types: the first byte of a RESP2 reply. */
enum sp_resp_type {
    SP_RESP_STATUS = '+',
    SP_RESP_ERRORREPLY = '-',
    SP_RESP_INTEGER = ':',
    SP_RESP_BULK = '$',
    SP_RESP_ARRAY = '*',
};

/* A top-level array element of a framed reply (only recorded when want_elems is set). */
struct sp_resp_elem {
    size_t off;                     /* from the reply's first byte */
    size_t len;                     /* the element's full encoding, e.g. "$3\r\nfoo\r\n" */
};

/*
 * A reply parser, one per server connection.  Results are valid after SP_PARSE_OK until the next
 * call.  Nested arrays are framed with O(1) state whatever their depth.
 */
struct sp_resp_reply {
    size_t len;                     /* total bytes of the reply */
    enum sp_resp_type type;         /* type of the top-level value */
    int is_error;                   /* type == SP_RESP_ERRORREPLY */
    long long integer;              /* ':' value; '$' and '*' length (-1 = null bulk / array) */
    size_t nelems;                  /* '*': element count (0 for *0 and *-1) */
    struct sp_resp_elem *elems;     /* top-level elements (nelems entries) if want_elems */

    int want_elems;                 /* set by the caller before parsing (e.g. for MGET parts) */
    size_t max_line;                /* limit for + - : lines (default SP_RESP_MAX_REPLY_LINE) */
    uint64_t examined;              /* bytes looked at, as for requests */

    /* ---- private ---- */
    int state;
    size_t pos;
    size_t scan;                    /* line scan resume offset */
    uint64_t top_left;              /* top-level elements not yet started */
    uint64_t inner_left;            /* values left inside the current top-level element */
    size_t elem_start;
    size_t elems_cap;
    uint64_t stream_off;
};

/* Initialises a reply parser with default limits.  Allocates nothing. */
void sp_resp_reply_init(struct sp_resp_reply *p);

/* Frees the element array. */
void sp_resp_reply_free(struct sp_resp_reply *p);

/*
 * Frames the reply at the head of `in`; same contract as sp_resp_request_parse (remove p->len
 * bytes after OK; `in` never modified; ERROR is sticky until reset).  ERROR means the server's
 * stream is unparseable: unknown type byte, bad length, missing CRLF, line over max_line.
 */
int sp_resp_reply_parse(struct sp_resp_reply *p, struct evbuffer *in, char *err, size_t errlen);

/* Forgets any partial reply and resets the stream offset; keeps elems' memory and settings. */
void sp_resp_reply_reset(struct sp_resp_reply *p);

/* ---- reading arguments of a framed request (the request starts `base` bytes into `buf`) ---- */

/*
 * Copies min(arg->len, cap) bytes of an argument into dst without pulling the buffer up.
 * Returns the number of bytes copied, or -1 if `buf` does not hold the whole argument.
 */
long sp_resp_arg_copy(struct evbuffer *buf, size_t base, const struct sp_resp_arg *arg,
                      void *dst, size_t cap);

/*
 * Returns a pointer to the argument's bytes: into the buffer when they are contiguous there
 * (zero copy; valid until `buf` is modified), else copied into scratch (cap bytes); a static ""
 * for an empty argument.  Returns NULL when the argument is longer than cap and not contiguous,
 * or `buf` is too short.
 */
const void *sp_resp_arg_view(struct evbuffer *buf, size_t base, const struct sp_resp_arg *arg,
                             void *scratch, size_t cap);

/*
 * Parses an argument as a decimal integer as Redis does (optional '-', no '+', no spaces, no
 * leading zeros, fits in long long).  Returns 0 and sets *out, or -1 when it is not one.
 */
int sp_resp_arg_ll(struct evbuffer *buf, size_t base, const struct sp_resp_arg *arg,
                   long long *out);

/* ---- writing RESP (for fragments and local replies); each returns 0, or -1 on ENOMEM ---- */

/* Room sp_resp_format_header needs: type byte, '-', 19 digits, CRLF (and one spare). */
#define SP_RESP_HEADER_MAX 24

/* Writes "<type><n>\r\n" at dst (SP_RESP_HEADER_MAX bytes of room); returns its length. */
size_t sp_resp_format_header(char *dst, char type, long long n);

/* Appends "*n\r\n". */
int sp_resp_write_array(struct evbuffer *out, size_t n);

/* Appends "$len\r\n<bytes>\r\n". */
int sp_resp_write_bulk(struct evbuffer *out, const void *bytes, size_t len);

/* Appends an argument of a framed request as a bulk, copying from `buf` without a pull-up. */
int sp_resp_write_arg(struct evbuffer *out, struct evbuffer *buf, size_t base,
                      const struct sp_resp_arg *arg);

/* Appends ":n\r\n". */
int sp_resp_write_integer(struct evbuffer *out, long long n);

/* Appends "+msg\r\n" / "-msg\r\n"; CR and LF in msg are replaced by spaces. */
int sp_resp_write_status(struct evbuffer *out, const char *msg);
int sp_resp_write_error(struct evbuffer *out, const char *msg);

#endif /* SP_RESP_H */
