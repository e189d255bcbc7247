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
    free(r->argv);
    r->argv = NULL;
    r->argv_cap = 0;
    r->argc = 0;
}

static void start_request(struct sp_resp_request *r)
{
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

static int is_inline_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Appends the inline argument [off, off+len); the argument limit holds for inline lines too. */
static int add_inline_arg(struct sp_resp_request *r, size_t off, size_t len, char *err,
                          size_t errlen)
{
    if (r->argc >= r->max_args) {
        r->state = RQ_FAILED;
        return sp_resp_fail(err, errlen, at(r, off), "too many inline arguments (limit %zu)",
                            r->max_args);
    }
    if (reserve_arg(r, r->max_inline) < 0)
        return fail(r, err, errlen, 0, "out of memory for inline arguments");
    r->argv[r->argc].off = off;
    r->argv[r->argc].len = len;
    r->argc++;
    return SP_PARSE_OK;
}

/*
 * Splits the complete inline line [0, eol) into arguments at runs of blanks (as Redis' inline
 * parser does, minus its quoting: quotes are ordinary bytes here).  Walks the chains once.
 */
static int split_inline(struct sp_resp_request *r, struct sp_resp_cur *c, size_t eol,
                        char *err, size_t errlen)
{
    size_t start = 0;
    int in_arg = 0;

    c->pos = 0;
    c->wlen = 0;
    while (c->pos < eol && sp_resp_cur_load(c)) {
        size_t n = c->wlen < eol - c->pos ? c->wlen : eol - c->pos;

        for (size_t i = 0; i < n; i++) {
            int blank = is_inline_space(c->w[i]);

            if (!blank && !in_arg) {
                start = c->pos + i;
                in_arg = 1;
            } else if (blank && in_arg) {
                if (add_inline_arg(r, start, c->pos + i - start, err, errlen) != SP_PARSE_OK)
                    return SP_PARSE_ERROR;
                in_arg = 0;
            }
        }
        *c->examined += n;
        sp_resp_cur_skip(c, n);
    }
    if (in_arg)
        return add_inline_arg(r, start, eol - start, err, errlen);
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
    eol = c->pos;                   /* the LF; an optional CR before it is a blank */
    r->len = eol + 1;
    r->is_inline = 1;
    rc = split_inline(r, c, eol, err, errlen);
    if (rc != SP_PARSE_OK)
        return rc;
    if (r->argc > 0) {
        c->pos = r->argv[0].off;
        c->wlen = 0;
        lookup_command(r, c, r->argv[0].len);
    }
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
