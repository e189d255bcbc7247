/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcached text-protocol framing over libevent evbuffers (the classic commands and the meta
 * commands share one grammar: a command line, and for storage commands a data block).
 *
 * Two resumable parsers, one per direction:
 *
 *   - sp_mc_request frames the next client request at the HEAD of an evbuffer: its command line
 *     (ended by LF, with or without CR, as memcached accepts) and, for set/add/replace/append/
 *     prepend/cas/ms, the data block and its CRLF.  It tokenizes the line and checks it as
 *     memcached does, so a request memcached would refuse is never forwarded (a refused storage
 *     line's data block would otherwise reach the server as a command).  A refused request is
 *     still framed (OK): r->err holds memcached's answer, and the stream goes on where memcached
 *     would go on.  Only a line too long to ever end, or a value no server can take, loses the
 *     framing (ERROR).
 *   - sp_mc_reply frames the next server reply: one line (STORED, NOT_FOUND, a number, HD, EN,
 *     ...), a run of VALUE items ended by END, or a meta VA item.
 *
 * Both return an enum sp_parse (core/parse.h) and keep their progress between calls: a line is
 * scanned for its LF once, and a data block is never examined, only waited for (its length
 * compared) and its CRLF checked.  Neither removes bytes from the buffer; the caller removes `len`
 * bytes after OK, and may only append between an AGAIN and the next call.  Byte offsets in error
 * messages count from the start of the stream (see *_restart).
 */
#ifndef SP_MC_H
#define SP_MC_H

#include <stddef.h>
#include <stdint.h>

#include "core/proto.h"
#include "mc_commands.h"

struct evbuffer;

#define SP_MC_KEY_MAX            250                     /* memcached's KEY_MAX_LENGTH */
#define SP_MC_MAX_LINE           2048                    /* a command line (memcached's) */
#define SP_MC_MAX_RETRIEVAL_LINE (256u * 1024u)          /* get/gets/gat/gats key lists */
#define SP_MC_MAX_VALUE          (1024u * 1024u * 1024u) /* memcached's largest item size */
#define SP_MC_MAX_REPLY_LINE     (64u * 1024u)
#define SP_MC_ERRLEN             160                     /* every message fits */
#define SP_MC_KEEP_ELEMS         1024   /* token / item arrays kept between messages (beyond:
                                           freed, so one huge multi-get does not pin memory) */

/*
 * A request parser, one per client stream (lent, see proto.h).  Fields above the line are
 * results, valid after SP_PARSE_OK until the next call; fields below are private.
 */
struct sp_mc_request {
    size_t len;                     /* the whole message: line, and data block with its CRLF */
    size_t line_len;                /* the command line with its LF */
    const struct sp_mc_command *cmd; /* NULL: unknown command or empty line (err is set) */
    size_t ntok;                    /* tokens of the line, the command name first, as byte ranges
                                       from the request's first byte (the core's key type, so
                                       keys are handed over without a copy) */
    struct sp_key_span *tok;
    size_t first_key;               /* keys are tok[first_key .. first_key + nkeys) */
    size_t nkeys;
    int has_data;                   /* a data block of data_len bytes + CRLF ends the message */
    size_t data_len;
    int noreply;                    /* the line asked for no reply (errors included) */
    int quiet;                      /* a meta command with flag q: a reply may or may not come */
    const char *err;                /* NULL: forwardable; else the reply line (no CRLF) */

    /* limits, set by init; may be lowered by the caller */
    size_t max_line;
    size_t max_retrieval_line;
    size_t max_value;
    uint64_t examined;              /* bytes scanned for line ends (data blocks are skipped) */

    /* ---- private ---- */
    int state;
    size_t scan;                    /* where the LF search resumes */
    size_t tok_cap;
    uint64_t stream_off;
    const struct sp_mc_command *last_cmd;
    char errbuf[SP_MC_ERRLEN];
};

/* Initialises a request parser with default limits.  Allocates nothing. */
void sp_mc_request_init(struct sp_mc_request *r);

/* Frees the token array. */
void sp_mc_request_free(struct sp_mc_request *r);

/*
 * Frames the request at the head of `in`.  OK: the fields above describe it (err set: answer
 * err unless noreply, and drop the len bytes).  AGAIN: incomplete, progress kept.  ERROR: the
 * framing is lost (a line over the limit, a value over max_value); err (errlen bytes) gets the
 * reply line, e.g. "CLIENT_ERROR line too long (over 2048 bytes) at byte 0"; sticky.
 */
enum sp_parse sp_mc_request_parse(struct sp_mc_request *r, struct evbuffer *in, char *err,
                                  size_t errlen);

/* Is part of a request framed and the rest awaited? */
int sp_mc_request_pending(const struct sp_mc_request *r);

/* Starts on a (possibly other) stream whose next request begins at stream offset `off`. */
void sp_mc_request_restart(struct sp_mc_request *r, uint64_t off);

/*
 * Checks a tokenized command line as memcached would (mc_check.c): sets cmd, first_key, nkeys,
 * has_data, data_len, noreply and err.  `line` holds the line's bytes (tokens index into it).
 * Returns 0, or -1 when the data block is longer than r->max_value (err then says so).
 */
int sp_mc_request_check(struct sp_mc_request *r, const unsigned char *line);

/* What a reply is. */
enum sp_mc_reply_kind {
    SP_MC_REPLY_LINE,               /* one line */
    SP_MC_REPLY_VALUES,             /* VALUE items (maybe none) and END */
    SP_MC_REPLY_VA,                 /* a meta VA line and its data block */
};

/* A reply parser, one per server connection. */
struct sp_mc_reply {
    size_t len;
    enum sp_mc_reply_kind kind;
    int is_error;                   /* ERROR, CLIENT_ERROR or SERVER_ERROR */
    size_t nelems;
    struct sp_part *elems;          /* VALUE items (line, data, CRLF) from the reply's first
                                       byte, when want_elems: the core's parts, as they are */
    int want_elems;                 /* set before parsing to get elems */
    size_t max_line;
    size_t max_value;
    uint64_t examined;

    /* ---- private ---- */
    int state;
    size_t pos;                     /* start of the line being framed */
    size_t scan;
    size_t need;                    /* RP_DATA: bytes the buffer must hold */
    size_t elems_cap;
    uint64_t stream_off;
};

void sp_mc_reply_init(struct sp_mc_reply *p);
void sp_mc_reply_free(struct sp_mc_reply *p);

/*
 * Frames the reply at the head of `in` (same contract as the request parser; ERROR means the
 * server's stream cannot be read: an unknown reply line, a bad length, a missing CRLF).
 */
enum sp_parse sp_mc_reply_parse(struct sp_mc_reply *p, struct evbuffer *in, char *err,
                                size_t errlen);

/* Forgets any partial reply; offsets restart at 0. */
void sp_mc_reply_reset(struct sp_mc_reply *p);

/*
 * The caller consumed n more bytes right after the framed reply, which it read itself (the MN
 * behind a quiet request): stream offsets in later messages count them.
 */
void sp_mc_reply_skip(struct sp_mc_reply *p, size_t n);

/* The fields of a "VALUE <key> <flags> <bytes> [<cas>]" line. */
struct sp_mc_value {
    size_t key_off;                 /* from the line's first byte */
    size_t key_len;
    size_t bytes;
};

/*
 * Parses a VALUE line (n bytes, its CR/LF excluded).  Returns 0, or -1 when it is not one or
 * bytes exceeds max_value.
 */
int sp_mc_value_line(const unsigned char *line, size_t n, size_t max_value,
                     struct sp_mc_value *v);

/* ---- reading a buffer in place (mc_scan.c) ---- */

/* Offset of the first LF in [from, to) of `in` (to <= its length), or -1. */
long sp_mc_find_lf(struct evbuffer *in, size_t from, size_t to);

/* Copies n bytes at offset `off` of `in` into dst.  Returns 0, or -1 when `in` is too short. */
int sp_mc_copy_at(struct evbuffer *in, size_t off, void *dst, size_t n);

/*
 * Strict unsigned decimal (digits only, at least one, no sign) up to `max`.  Returns 0 and sets
 * *out, else -1.  The proxy accepts a subset of what memcached does, never more.
 */
int sp_mc_parse_u64(const unsigned char *s, size_t n, uint64_t max, uint64_t *out);

#endif /* SP_MC_H */
