/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client request framing: RESP2 multibulk and inline commands, resumable across reads.
 *
 * Multibulk headers are parsed in place from the buffer's chains; a bulk body is never looked
 * at: the parser waits until the buffer is long enough to hold it, then checks the two bytes of
 * its CRLF.  So a 64 MiB value arriving in thousands of reads costs one length comparison per
 * read.  Inline lines are scanned once for their LF (the scan resumes where it stopped) and split
 * once when complete.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "resp.h"
#include "resp_inline.h"
#include "resp_scan.h"

enum rq_state {
    RQ_START,       /* nothing of the request seen yet */
    RQ_MB_COUNT,    /* waiting for "*N\r\n" */
    RQ_BULK_HDR,    /* waiting for "$len\r\n" of argv[argc] */
    RQ_BULK_DATA,   /* waiting for the body and CRLF of argv[argc] */
    RQ_INLINE,      /* scanning for the inline line's LF; pos = where the scan resumes */
    RQ_DONE,        /* framed; the next call starts the next request */
    RQ_FAILED,      /* framing lost; sticky */
};

void sp_resp_request_init(struct sp_resp_request *r)
{
    memset(r, 0, sizeof(*r));
    r->max_args = SP_RESP_MAX_ARGS;
    r->max_bulk = SP_RESP_MAX_BULK;
    r->max_inline = SP_RESP_MAX_INLINE;
    r->state = RQ_START;
}

void sp_resp_request_free(struct sp_resp_request *r)
{
    if (r->body != NULL)
        evbuffer_free(r->body);
    r->body = NULL;
    free(r->line);
    r->line = NULL;
    r->line_cap = 0;
    free(r->argv);
    r->argv = NULL;
    r->argv_cap = 0;
    r->argc = 0;
}

static void start_request(struct sp_resp_request *r)
{
    /* An argument array sized for a huge request is not kept for the next, small one. */
    if (r->argv_cap > SP_RESP_KEEP_ELEMS) {
        free(r->argv);
        r->argv = NULL;
        r->argv_cap = 0;
    }
    r->len = 0;
    r->argc = 0;
    r->cmd = NULL;
    r->is_inline = 0;
    r->state = RQ_START;
    r->pos = 0;
    r->expect = 0;
}

void sp_resp_request_reset(struct sp_resp_request *r)
{
    start_request(r);
    r->stream_off = 0;
}

struct evbuffer *sp_resp_request_args(const struct sp_resp_request *r, struct evbuffer *in)
{
    return r->is_inline ? r->body : in;
}

int sp_resp_request_pending(const struct sp_resp_request *r)
{
    return r->state != RQ_START && r->state != RQ_DONE && r->state != RQ_FAILED;
}

void sp_resp_request_restart(struct sp_resp_request *r, uint64_t off)
{
    start_request(r);
    r->stream_off = off;
}

/* Stream offset of a request-relative position, for error messages. */
static uint64_t at(const struct sp_resp_request *r, size_t pos)
{
    return r->stream_off + pos;
}

static int fail(struct sp_resp_request *r, char *err, size_t errlen, size_t pos, const char *what)
{
    r->state = RQ_FAILED;
    return sp_resp_fail(err, errlen, at(r, pos), "%s", what);
}

/*
 * Makes room for one more argument.  Growth is by doubling but never beyond the announced count
 * (`bound`), and only when an argument is actually arriving, so a 10-byte "*1000000" header
 * allocates nothing.
 */
static int reserve_arg(struct sp_resp_request *r, size_t bound)
{
    struct sp_resp_arg *a;
    size_t cap;

    if (r->argc < r->argv_cap)
        return 0;
    cap = r->argv_cap ? r->argv_cap * 2 : 8;
    if (cap > bound)
        cap = bound;
    if (cap <= r->argc)
        cap = r->argc + 1;
    a = realloc(r->argv, cap * sizeof(*a));
    if (a == NULL)
        return -1;
    r->argv = a;
    r->argv_cap = cap;
    return 0;
}

/* Sets r->cmd from a command name (NULL when unknown). */
static void lookup_name(struct sp_resp_request *r, const unsigned char *name, size_t len)
{
    /* Pipelines mostly repeat one command: one short compare instead of a binary search. */
    if (r->last_cmd != NULL && sp_command_is(r->last_cmd, name, len)) {
        r->cmd = r->last_cmd;
        return;
    }
    r->cmd = sp_command_lookup(name, len);
    if (r->cmd != NULL)
        r->last_cmd = r->cmd;
}

/*
 * Sets r->cmd from argv[0], which starts at c->pos: a short peek (in place when contiguous),
 * pos unchanged.  Unknown or overlong names leave NULL.
 */
static void lookup_command(struct sp_resp_request *r, struct sp_resp_cur *c, size_t len)
{
    unsigned char buf[SP_COMMAND_NAME_MAX];
    const unsigned char *name;

    r->cmd = NULL;
    if (len == 0 || len > sizeof(buf))
        return;
    if (sp_resp_cur_load(c) && c->wlen >= len)
        name = c->w;
    else if (sp_resp_cur_peek(c, buf, len) == len)
        name = buf;
    else
        return;
    lookup_name(r, name, len);
}

/*
 * Parses a "<type>N\r\n" header at c->pos.  Returns SP_PARSE_OK with *value and c->pos past the
 * CRLF, SP_PARSE_AGAIN, or SP_PARSE_ERROR (message `bad` at the header's offset).  Bytes that
 * cannot start a number fail at once, so a header never waits for more than 20 digits.
 */
static int header(struct sp_resp_request *r, struct sp_resp_cur *c, unsigned char type,
                  long long *value, const char *bad, char *err, size_t errlen)
{
    unsigned char first;
    int rc;

    if (!sp_resp_cur_load(c))
        return SP_PARSE_AGAIN;
    first = c->w[0];
    if (first != type) {
        /* Redis' wording; only a bulk header can be anything but what we dispatched on. */
        r->state = RQ_FAILED;
        if (first >= 0x20 && first < 0x7f)
            return sp_resp_fail(err, errlen, at(r, c->pos), "expected '%c', got '%c'",
                                (char)type, (char)first);
        return sp_resp_fail(err, errlen, at(r, c->pos), "expected '%c', got byte 0x%02x",
                            (char)type, (unsigned)first);
    }
    rc = sp_resp_cur_number(c, value);
    if (rc == SP_PARSE_ERROR)
        return fail(r, err, errlen, c->pos, bad);
    return rc;
}

static int parse_count(struct sp_resp_request *r, struct sp_resp_cur *c, char *err, size_t errlen)
{
    long long n;
    int rc = header(r, c, '*', &n, "invalid multibulk length", err, errlen);

    if (rc != SP_PARSE_OK)
        return rc;
    r->pos = c->pos;
    if (n <= 0) {               /* "*0" and "*-1": an empty request, ignored as Redis does */
        r->state = RQ_DONE;
        return SP_PARSE_OK;
    }
    if ((unsigned long long)n > r->max_args) {
        r->state = RQ_FAILED;
        return sp_resp_fail(err, errlen, at(r, 0),
                            "invalid multibulk length (%lld arguments, limit %zu)", n,
                            r->max_args);
    }
    r->expect = (size_t)n;
    r->state = RQ_BULK_HDR;
    return SP_PARSE_OK;
}

static int parse_bulk_header(struct sp_resp_request *r, struct sp_resp_cur *c,
                             char *err, size_t errlen)
{
    size_t hdr = c->pos;
    long long n;
    int rc = header(r, c, '$', &n, "invalid bulk length", err, errlen);

    if (rc != SP_PARSE_OK)
        return rc;
    if (n < 0)
        return fail(r, err, errlen, hdr, "invalid bulk length");
    if ((unsigned long long)n > r->max_bulk) {
        r->state = RQ_FAILED;
        return sp_resp_fail(err, errlen, at(r, hdr),
                            "invalid bulk length (%lld bytes, limit %zu)", n, r->max_bulk);
    }
    if (reserve_arg(r, r->expect) < 0) {
        r->state = RQ_FAILED;
        return sp_resp_fail(err, errlen, at(r, hdr), "out of memory for %zu arguments",
                            r->argc + 1);
    }
    r->argv[r->argc].off = c->pos;
    r->argv[r->argc].len = (size_t)n;
    r->pos = c->pos;
    r->state = RQ_BULK_DATA;
    return SP_PARSE_OK;
}

static int parse_bulk_data(struct sp_resp_request *r, struct sp_resp_cur *c,
                           char *err, size_t errlen)
{
    const struct sp_resp_arg *a = &r->argv[r->argc];
    size_t end = a->off + a->len;
    unsigned char crlf[2];

    if (c->total < end + 2)
        return SP_PARSE_AGAIN;
    if (r->argc == 0)
        lookup_command(r, c, a->len);
    sp_resp_cur_skip(c, end - c->pos);
    if (sp_resp_cur_peek(c, crlf, 2) != 2 || crlf[0] != '\r' || crlf[1] != '\n') {
        *c->examined += 2;
        return fail(r, err, errlen, end, "expected CRLF after bulk");
    }
    *c->examined += 2;
    sp_resp_cur_skip(c, 2);
    r->argc++;
    r->pos = c->pos;
    r->state = r->argc == r->expect ? RQ_DONE : RQ_BULK_HDR;
    return SP_PARSE_OK;
}

/* Inline line buffers above this size are freed after use (a 64 KiB line is rare). */
#define RQ_LINE_KEEP 4096

/* Collects one decoded inline argument; the argument limit holds for inline lines too. */
static int add_inline_arg(void *ctx, size_t off, size_t len)
{
    struct sp_resp_request *r = ctx;

    if (r->argc >= r->max_args)
        return -1;
    if (reserve_arg(r, r->max_args) < 0)
        return -2;
    r->argv[r->argc].off = off;
    r->argv[r->argc].len = len;
    r->argc++;
    return SP_INLINE_OK;
}

/* Copies the line [0, n) out of the input into r->line.  Returns 0 or -1 (out of memory). */
static int copy_line(struct sp_resp_request *r, struct evbuffer *in, size_t n)
{
    if (n > r->line_cap) {
        unsigned char *l = realloc(r->line, n);

        if (l == NULL)
            return -1;
        r->line = l;
        r->line_cap = n;
    }
    return n == 0 || evbuffer_copyout(in, r->line, n) == (ev_ssize_t)n ? 0 : -1;
}

/*
 * Writes the decoded arguments into r->body as a RESP multibulk, the request the server will
 * get, and points argv there.  Returns 0 or -1 (out of memory).
 */
static int build_body(struct sp_resp_request *r)
{
    char hdr[SP_RESP_HEADER_MAX];
    size_t off;

    if (r->body == NULL && (r->body = evbuffer_new()) == NULL)
        return -1;
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    off = sp_resp_format_header(hdr, '*', (long long)r->argc);
    if (evbuffer_add(r->body, hdr, off) < 0)
        return -1;
    for (size_t i = 0; i < r->argc; i++) {
        struct sp_resp_arg *a = &r->argv[i];
        size_t h = sp_resp_format_header(hdr, '$', (long long)a->len);

        if (evbuffer_add(r->body, hdr, h) < 0 ||
            (a->len > 0 && evbuffer_add(r->body, r->line + a->off, a->len) < 0) ||
            evbuffer_add(r->body, "\r\n", 2) < 0)
            return -1;
        a->off = off + h;
        off += h + a->len + 2;
    }
    return 0;
}

/* Splits the complete line [0, eol) as Redis does (resp_inline.c) and rewrites it as RESP. */
static int split_inline(struct sp_resp_request *r, struct sp_resp_cur *c, size_t eol,
                        char *err, size_t errlen)
{
    size_t n = eol, bad = 0;
    int rc;

    if (copy_line(r, c->buf, n) < 0)
        return fail(r, err, errlen, 0, "out of memory for an inline request");
    *c->examined += n;
    if (n > 0 && r->line[n - 1] == '\r')
        n--; /* the CR of the CRLF; any other CR is a blank */
    rc = sp_resp_inline_split(r->line, n, add_inline_arg, r, &bad);
    switch (rc) {
    case SP_INLINE_OK:
        break;
    case SP_INLINE_NUL:
        return fail(r, err, errlen, bad, "NUL byte in an inline request");
    case SP_INLINE_QUOTES:
        return fail(r, err, errlen, bad, "unbalanced quotes in request");
    case -1:
        r->state = RQ_FAILED;
        return sp_resp_fail(err, errlen, at(r, bad), "too many inline arguments (limit %zu)",
                            r->max_args);
    default:
        return fail(r, err, errlen, bad, "out of memory for inline arguments");
    }
    if (r->argc > 0)
        lookup_name(r, r->line + r->argv[0].off, r->argv[0].len);
    if (build_body(r) < 0)
        return fail(r, err, errlen, 0, "out of memory for an inline request");
    if (r->line_cap > RQ_LINE_KEEP) {
        free(r->line);
        r->line = NULL;
        r->line_cap = 0;
    }
    return SP_PARSE_OK;
}

static int parse_inline(struct sp_resp_request *r, struct sp_resp_cur *c, char *err, size_t errlen)
{
    size_t limit = r->max_inline + 1 - c->pos;   /* the LF may be byte max_inline */
    size_t eol;
    int rc;

    if (!sp_resp_cur_find(c, '\n', limit)) {
        r->pos = c->pos;
        if (c->pos > r->max_inline)
            return fail(r, err, errlen, 0, "too big inline request");
        return SP_PARSE_AGAIN;
    }
    eol = c->pos;
    r->len = eol + 1;
    r->is_inline = 1;
    rc = split_inline(r, c, eol, err, errlen);
    if (rc != SP_PARSE_OK)
        return rc;
    r->pos = r->len;
    r->state = RQ_DONE;
    return SP_PARSE_OK;
}

static int step(struct sp_resp_request *r, struct sp_resp_cur *c, char *err, size_t errlen)
{
    switch (r->state) {
    case RQ_START:
        if (!sp_resp_cur_load(c))
            return SP_PARSE_AGAIN;
        r->state = c->w[0] == '*' ? RQ_MB_COUNT : RQ_INLINE;
        return SP_PARSE_OK;
    case RQ_MB_COUNT:
        return parse_count(r, c, err, errlen);
    case RQ_BULK_HDR:
        return parse_bulk_header(r, c, err, errlen);
    case RQ_BULK_DATA:
        return parse_bulk_data(r, c, err, errlen);
    case RQ_INLINE:
        return parse_inline(r, c, err, errlen);
    default:
        return fail(r, err, errlen, r->pos, "request parser in a bad state");
    }
}

int sp_resp_request_parse(struct sp_resp_request *r, struct evbuffer *in,
                          char *err, size_t errlen)
{
    struct sp_resp_cur c;
    int rc;

    if (r->state == RQ_FAILED)
        return sp_resp_fail(err, errlen, at(r, r->pos), "stream already failed");
    if (r->state == RQ_DONE) {
        r->stream_off += r->len;
        start_request(r);
    }
    /* Waiting for a bulk body: one length check, no chain walk. */
    if (r->state == RQ_BULK_DATA &&
        evbuffer_get_length(in) < r->argv[r->argc].off + r->argv[r->argc].len + 2)
        return SP_PARSE_AGAIN;
    sp_resp_cur_init(&c, in, r->pos, &r->examined);
    do {
        rc = step(r, &c, err, errlen);
    } while (rc == SP_PARSE_OK && r->state != RQ_DONE);
    if (rc == SP_PARSE_OK && !r->is_inline)
        r->len = r->pos;
    return rc;
}
