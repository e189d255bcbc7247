/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server reply framing: RESP2 `+ - : $ *`, arrays nested to any depth, resumable across reads.
 *
 * Nesting needs no stack: framing only has to know how many values are still owed.  We keep two
 * counters, the top-level elements not yet started and the values still owed inside the current
 * top-level element, which also gives the top-level element boundaries an MGET merge needs.
 * Bulk bodies are skipped by length, never examined, exactly as in the request parser.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "resp.h"
#include "resp_scan.h"

enum rp_state {
    RP_VALUE,       /* at the type byte of the next value */
    RP_LINE,        /* in a + or - line; scan resumes at p->scan */
    RP_BULK_DATA,   /* waiting for a bulk body; p->scan = its end */
    RP_DONE,
    RP_FAILED,
};

/* Values beyond this are refused rather than risk overflowing offsets and counters. */
#define RP_MAX_LENGTH ((long long)1 << 48)

void sp_resp_reply_init(struct sp_resp_reply *p)
{
    memset(p, 0, sizeof(*p));
    p->max_line = SP_RESP_MAX_REPLY_LINE;
    p->state = RP_VALUE;
}

void sp_resp_reply_free(struct sp_resp_reply *p)
{
    free(p->elems);
    p->elems = NULL;
    p->elems_cap = 0;
    p->nelems = 0;
}

static void start_reply(struct sp_resp_reply *p)
{
    p->len = 0;
    p->type = SP_RESP_STATUS;
    p->is_error = 0;
    p->integer = 0;
    p->nelems = 0;
    p->state = RP_VALUE;
    p->pos = 0;
    p->scan = 0;
    p->top_left = 0;
    p->inner_left = 0;
    p->elem_start = 0;
}

void sp_resp_reply_reset(struct sp_resp_reply *p)
{
    start_reply(p);
    p->stream_off = 0;
}

static int fail(struct sp_resp_reply *p, char *err, size_t errlen, size_t pos, const char *what)
{
    p->state = RP_FAILED;
    return sp_resp_fail(err, errlen, p->stream_off + pos, "%s", what);
}

/* Makes room for top-level element i (growth bounded by the announced count). */
static int reserve_elem(struct sp_resp_reply *p, size_t i)
{
    struct sp_resp_elem *e;
    size_t cap;

    if (i < p->elems_cap)
        return 0;
    cap = p->elems_cap ? p->elems_cap * 2 : 16;
    if (cap > p->nelems)
        cap = p->nelems;
    if (cap <= i)
        cap = i + 1;
    e = realloc(p->elems, cap * sizeof(*e));
    if (e == NULL)
        return -1;
    p->elems = e;
    p->elems_cap = cap;
    return 0;
}

/*
 * A value that started at `start` ended at p->pos, owing `children` more values (an array's
 * elements).  Settles the counters; sets RP_DONE when the whole reply is framed.
 */
static int end_value(struct sp_resp_reply *p, size_t start, uint64_t children,
                     char *err, size_t errlen)
{
    if (start == 0) {
        p->top_left = children;
        p->state = children == 0 ? RP_DONE : RP_VALUE;
        return SP_PARSE_OK;
    }
    if (p->inner_left - 1 > UINT64_MAX - children)
        return fail(p, err, errlen, start, "too many nested reply elements");
    p->inner_left = p->inner_left - 1 + children;
    p->state = RP_VALUE;
    if (p->inner_left > 0)
        return SP_PARSE_OK;
    if (p->want_elems) {
        size_t i = p->nelems - (size_t)p->top_left - 1;

        if (reserve_elem(p, i) < 0)
            return fail(p, err, errlen, start, "out of memory for reply elements");
        p->elems[i].off = p->elem_start;
        p->elems[i].len = p->pos - p->elem_start;
    }
    if (p->top_left == 0)
        p->state = RP_DONE;
    return SP_PARSE_OK;
}

/* Reads the number of a ":" "$" or "*" header at c->pos into *v; moves c past it on OK. */
static int number(struct sp_resp_reply *p, struct sp_resp_cur *c, long long *v, const char *bad,
                  char *err, size_t errlen)
{
    int rc = sp_resp_cur_number(c, v);

    if (rc == SP_PARSE_ERROR)
        return fail(p, err, errlen, c->pos, bad);
    return rc;
}

static int parse_integer(struct sp_resp_reply *p, struct sp_resp_cur *c, char *err, size_t errlen)
{
    size_t start = c->pos;
    long long v;
    int rc = number(p, c, &v, "invalid integer reply", err, errlen);

    if (rc != SP_PARSE_OK)
        return rc;
    if (start == 0)
        p->integer = v;
    p->pos = c->pos;
    return end_value(p, start, 0, err, errlen);
}

static int parse_bulk(struct sp_resp_reply *p, struct sp_resp_cur *c, char *err, size_t errlen)
{
    size_t start = c->pos;
    long long v;
    int rc = number(p, c, &v, "invalid bulk length", err, errlen);

    if (rc != SP_PARSE_OK)
        return rc;
    if (v < -1 || v > RP_MAX_LENGTH)
        return fail(p, err, errlen, start, "invalid bulk length");
    if (start == 0)
        p->integer = v;
    if (v == -1) {
        p->pos = c->pos;
        return end_value(p, start, 0, err, errlen);
    }
    p->scan = c->pos + (size_t)v + 2;
    p->state = RP_BULK_DATA;
    return SP_PARSE_OK;
}

static int parse_array(struct sp_resp_reply *p, struct sp_resp_cur *c, char *err, size_t errlen)
{
    size_t start = c->pos;
    long long v;
    int rc = number(p, c, &v, "invalid multibulk length", err, errlen);

    if (rc != SP_PARSE_OK)
        return rc;
    if (v < -1 || v > RP_MAX_LENGTH)
        return fail(p, err, errlen, start, "invalid multibulk length");
    if (start == 0) {
        p->integer = v;
        p->nelems = v > 0 ? (size_t)v : 0;
    }
    p->pos = c->pos;
    return end_value(p, start, v > 0 ? (uint64_t)v : 0, err, errlen);
}

/* At the type byte of a value. */
static int parse_value(struct sp_resp_reply *p, struct sp_resp_cur *c, char *err, size_t errlen)
{
    unsigned char t;

    if (!sp_resp_cur_load(c))
        return SP_PARSE_AGAIN;
    t = c->w[0];
    if (p->pos == 0) {
        p->type = (enum sp_resp_type)t;
        p->is_error = t == '-';
    } else if (p->inner_left == 0) {
        /* the first byte of a top-level element */
        p->top_left--;
        p->inner_left = 1;
        p->elem_start = p->pos;
    }
    switch (t) {
    case '+':
    case '-':
        p->scan = p->pos + 1;
        p->state = RP_LINE;
        return SP_PARSE_OK;
    case ':':
        return parse_integer(p, c, err, errlen);
    case '$':
        return parse_bulk(p, c, err, errlen);
    case '*':
        return parse_array(p, c, err, errlen);
    default:
        p->state = RP_FAILED;
        if (t >= 0x20 && t < 0x7f)
            return sp_resp_fail(err, errlen, p->stream_off + p->pos,
                                "unexpected reply type '%c'", (char)t);
        return sp_resp_fail(err, errlen, p->stream_off + p->pos,
                            "unexpected reply type byte 0x%02x", (unsigned)t);
    }
}

/* In a status or error line: find its CR, which must be followed by LF. */
static int parse_line(struct sp_resp_reply *p, struct sp_resp_cur *c, char *err, size_t errlen)
{
    size_t used = p->scan - p->pos - 1;     /* line bytes already scanned */
    unsigned char lf;

    c->pos = p->scan;
    c->wlen = 0;
    if (used > p->max_line)
        return fail(p, err, errlen, p->pos, "too long status line");
    if (!sp_resp_cur_find(c, '\r', p->max_line + 1 - used)) {
        p->scan = c->pos;
        if (c->pos - p->pos - 1 > p->max_line)
            return fail(p, err, errlen, p->pos, "too long status line");
        return SP_PARSE_AGAIN;
    }
    p->scan = c->pos;                       /* resume at the CR if its LF is not here yet */
    if (c->pos + 1 >= c->total)
        return SP_PARSE_AGAIN;
    sp_resp_cur_skip(c, 1);
    if (sp_resp_cur_peek(c, &lf, 1) != 1 || lf != '\n')
        return fail(p, err, errlen, c->pos, "expected LF after CR");
    *c->examined += 1;
    sp_resp_cur_skip(c, 1);
    {
        size_t start = p->pos;

        p->pos = c->pos;
        return end_value(p, start, 0, err, errlen);
    }
}

static int parse_bulk_data(struct sp_resp_reply *p, struct sp_resp_cur *c,
                           char *err, size_t errlen)
{
    size_t start = p->pos;
    unsigned char crlf[2];

    if (c->total < p->scan)
        return SP_PARSE_AGAIN;
    if (c->pos < p->scan - 2)
        sp_resp_cur_skip(c, p->scan - 2 - c->pos);
    *c->examined += 2;
    if (sp_resp_cur_peek(c, crlf, 2) != 2 || crlf[0] != '\r' || crlf[1] != '\n')
        return fail(p, err, errlen, p->scan - 2, "expected CRLF after bulk");
    sp_resp_cur_skip(c, 2);
    p->pos = c->pos;
    return end_value(p, start, 0, err, errlen);
}

static int step(struct sp_resp_reply *p, struct sp_resp_cur *c, char *err, size_t errlen)
{
    switch (p->state) {
    case RP_VALUE:
        if (c->pos != p->pos) {
            c->pos = p->pos;
            c->wlen = 0;
        }
        return parse_value(p, c, err, errlen);
    case RP_LINE:
        return parse_line(p, c, err, errlen);
    case RP_BULK_DATA:
        return parse_bulk_data(p, c, err, errlen);
    default:
        return fail(p, err, errlen, p->pos, "reply parser in a bad state");
    }
}

/* Frames the `n` bytes of a whole header line "<type><number>\r\n" at s; 0 if it is not one. */
static size_t simple_header(const unsigned char *s, size_t n, long long *v)
{
    size_t lim = n < SP_RESP_SHORT_LINE ? n : SP_RESP_SHORT_LINE;
    const unsigned char *cr = memchr(s, '\r', lim);
    size_t hdr;

    if (cr == NULL || (size_t)(cr - s) + 1 >= lim || cr[1] != '\n')
        return 0;
    hdr = (size_t)(cr - s) + 2;
    return sp_resp_strict_ll(s + 1, hdr - 3, v) == 0 ? hdr : 0;
}

/*
 * The common case in one go, without a cursor: a whole status, error, integer or bulk reply in
 * the first chain of `in` (a pipelined GET's reply, say).  Returns 1 when it framed the reply
 * exactly as the general path would (same results, same `examined`), else 0: arrays, replies
 * cut across chains or reads, and anything malformed (the general path names the problem).
 */
static int frame_simple(struct sp_resp_reply *p, struct evbuffer *in)
{
    struct evbuffer_iovec v;
    const unsigned char *s, *cr;
    size_t n, len;
    long long num = 0;

    /* len 1: just the first chain, whole (as sp_resp_cur_load). */
    if (evbuffer_peek(in, 1, NULL, &v, 1) < 1 || v.iov_len < 4)
        return 0;
    s = v.iov_base;
    n = v.iov_len;
    switch (s[0]) {
    case '+':
    case '-':
        cr = memchr(s + 1, '\r', n - 1 < p->max_line + 1 ? n - 1 : p->max_line + 1);
        if (cr == NULL || (size_t)(cr - s) + 1 >= n || cr[1] != '\n')
            return 0;
        len = (size_t)(cr - s) + 2;
        p->examined += len - 1; /* the general path does not count the type byte here */
        break;
    case ':':
        len = simple_header(s, n, &num);
        if (len == 0)
            return 0;
        p->examined += len;
        break;
    case '$':
        len = simple_header(s, n, &num);
        if (len == 0 || num < -1 || num > RP_MAX_LENGTH)
            return 0;
        if (num >= 0) {
            size_t end = len + (size_t)num;

            if (end + 2 > n || s[end] != '\r' || s[end + 1] != '\n')
                return 0;
            p->examined += len + 2;
            len = end + 2;
        } else {
            p->examined += len;
        }
        break;
    default:
        return 0;
    }
    p->type = (enum sp_resp_type)s[0];
    p->is_error = s[0] == '-';
    p->integer = num;
    p->pos = len;
    p->len = len;
    p->state = RP_DONE;
    return 1;
}

int sp_resp_reply_parse(struct sp_resp_reply *p, struct evbuffer *in, char *err, size_t errlen)
{
    struct sp_resp_cur c;
    int rc;

    if (p->state == RP_FAILED)
        return sp_resp_fail(err, errlen, p->stream_off + p->pos, "stream already failed");
    if (p->state == RP_DONE) {
        p->stream_off += p->len;
        start_reply(p);
        /* Element bounds kept for a huge array are not kept for the next, small reply. */
        if (p->elems_cap > SP_RESP_KEEP_ELEMS)
            sp_resp_reply_free(p);
    }
    if (p->state == RP_VALUE && p->pos == 0 && frame_simple(p, in))
        return SP_PARSE_OK;
    if (p->state == RP_BULK_DATA && evbuffer_get_length(in) < p->scan)
        return SP_PARSE_AGAIN;
    sp_resp_cur_init(&c, in, p->pos, &p->examined);
    do {
        rc = step(p, &c, err, errlen);
    } while (rc == SP_PARSE_OK && p->state != RP_DONE);
    if (rc == SP_PARSE_OK)
        p->len = p->pos;
    return rc;
}
