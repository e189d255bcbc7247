/* SPDX-License-Identifier: Apache-2.0 */
/* The evbuffer read cursor, strict number syntax and error formatting shared by both parsers. */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "resp.h"
#include "resp_scan.h"

void sp_resp_cur_init(struct sp_resp_cur *c, struct evbuffer *buf, size_t pos, uint64_t *examined)
{
    c->buf = buf;
    c->total = evbuffer_get_length(buf);
    c->pos = pos;
    c->ptr_pos = 0;
    c->ptr_valid = 0;
    c->w = NULL;
    c->wlen = 0;
    c->examined = examined;
}

/*
 * evbuffer_ptr_set walks chains from the start (SET) or from the pointer (ADD), so the pointer
 * is only ever moved forward from where it was; a fresh cursor pays one walk to its start.
 */
int sp_resp_cur_load(struct sp_resp_cur *c)
{
    struct evbuffer_iovec v;

    if (c->wlen > 0)
        return 1;
    if (c->pos >= c->total)
        return 0;
    if (!c->ptr_valid || c->pos < c->ptr_pos) {
        if (evbuffer_ptr_set(c->buf, &c->ptr, c->pos, EVBUFFER_PTR_SET) < 0)
            return 0;
    } else if (c->pos != c->ptr_pos) {
        if (evbuffer_ptr_set(c->buf, &c->ptr, c->pos - c->ptr_pos, EVBUFFER_PTR_ADD) < 0)
            return 0;
    }
    c->ptr_valid = 1;
    c->ptr_pos = c->pos;
    /* len 1, not -1: with -1 evbuffer_peek walks every remaining chain just to count them. */
    if (evbuffer_peek(c->buf, 1, &c->ptr, &v, 1) < 1 || v.iov_len == 0)
        return 0;
    c->w = v.iov_base;
    c->wlen = v.iov_len;
    if (c->wlen > c->total - c->pos)
        c->wlen = c->total - c->pos;
    return 1;
}

void sp_resp_cur_skip(struct sp_resp_cur *c, size_t n)
{
    c->pos += n;
    if (n < c->wlen) {
        c->w += n;
        c->wlen -= n;
    } else {
        c->wlen = 0;
    }
}

size_t sp_resp_cur_peek(struct sp_resp_cur *c, void *dst, size_t n)
{
    ev_ssize_t got;

    if (n == 0 || !sp_resp_cur_load(c))
        return 0;
    if (c->wlen >= n) {
        memcpy(dst, c->w, n);
        return n;
    }
    /* The window may have been entered before pos: copy from a pointer at pos, across chains,
       without moving the cursor's own pointer. */
    {
        struct evbuffer_ptr at = c->ptr;

        if (c->pos != c->ptr_pos &&
            evbuffer_ptr_set(c->buf, &at, c->pos - c->ptr_pos, EVBUFFER_PTR_ADD) < 0)
            return 0;
        got = evbuffer_copyout_from(c->buf, &at, dst, n);
    }
    return got > 0 ? (size_t)got : 0;
}

/*
 * Points *line at up to SP_RESP_SHORT_LINE bytes at pos (in the buffer when contiguous, else
 * copied into tmp), *avail = how many.  Returns the line length including CRLF when a CRLF is
 * among them, else 0.  Does not move pos.
 */
static size_t short_line(struct sp_resp_cur *c, unsigned char tmp[SP_RESP_SHORT_LINE],
                         const unsigned char **line, size_t *avail)
{
    const unsigned char *l, *cr;
    size_t n;

    *line = tmp;
    *avail = 0;
    if (!sp_resp_cur_load(c))
        return 0;
    if (c->wlen >= SP_RESP_SHORT_LINE || c->wlen == c->total - c->pos) {
        l = c->w;
        n = c->wlen < SP_RESP_SHORT_LINE ? c->wlen : SP_RESP_SHORT_LINE;
    } else {
        l = tmp;
        n = sp_resp_cur_peek(c, tmp, SP_RESP_SHORT_LINE);
    }
    *line = l;
    *avail = n;
    cr = memchr(l, '\r', n);
    if (cr != NULL && (size_t)(cr - l) + 1 < n && cr[1] == '\n') {
        *c->examined += (size_t)(cr - l) + 2;
        return (size_t)(cr - l) + 2;
    }
    *c->examined += n;
    return 0;
}

int sp_resp_cur_find(struct sp_resp_cur *c, unsigned char byte, size_t limit)
{
    size_t scanned = 0;

    while (scanned < limit && sp_resp_cur_load(c)) {
        size_t n = c->wlen < limit - scanned ? c->wlen : limit - scanned;
        const unsigned char *hit = memchr(c->w, byte, n);

        if (hit != NULL) {
            size_t k = (size_t)(hit - c->w);

            *c->examined += k + 1;
            sp_resp_cur_skip(c, k);
            return 1;
        }
        *c->examined += n;
        scanned += n;
        sp_resp_cur_skip(c, n);
    }
    return 0;
}

static int is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

int sp_resp_strict_ll(const unsigned char *s, size_t n, long long *out)
{
    unsigned long long v = 0;
    size_t i = 0;
    int neg;

    if (n == 0 || n > 20)
        return -1;
    neg = s[0] == '-';
    i = (size_t)neg;
    if (i == n)
        return -1;
    if (s[i] == '0') {
        if (n != 1)
            return -1;          /* leading zero, or "-0" */
        *out = 0;
        return 0;
    }
    for (; i < n; i++) {
        unsigned d;

        if (!is_digit(s[i]))
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return -1;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return -1;
        *out = (long long)v;
    }
    return 0;
}

/*
 * Whether a partial header (the bytes after the type byte, no CR yet) can still become a valid
 * number, so garbage fails at once instead of after SP_RESP_SHORT_LINE bytes.
 */
static int number_prefix_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    if (n > 20)
        return 0;
    if (n > 0 && s[0] == '-')
        i = 1;
    if (i < n && s[i] == '0' && (i == 1 || n > i + 1))
        return 0;
    for (; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

int sp_resp_cur_number(struct sp_resp_cur *c, long long *value)
{
    unsigned char tmp[SP_RESP_SHORT_LINE];
    const unsigned char *line;
    size_t avail, k;
    size_t n = short_line(c, tmp, &line, &avail);

    if (n == 0) {
        k = avail;
        if (k > 0 && line[k - 1] == '\r')
            k--;                            /* its LF may be in the next read */
        if (k > 0 && !number_prefix_ok(line + 1, k - 1))
            return SP_PARSE_ERROR;
        return avail >= SP_RESP_SHORT_LINE ? SP_PARSE_ERROR : SP_PARSE_AGAIN;
    }
    if (sp_resp_strict_ll(line + 1, n - 3, value) < 0)
        return SP_PARSE_ERROR;
    sp_resp_cur_skip(c, n);
    return SP_PARSE_OK;
}

int sp_resp_fail(char *err, size_t errlen, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (errlen == 0)
        return SP_PARSE_ERROR;
    n = snprintf(err, errlen, "Protocol error: ");
    if (n < 0 || (size_t)n >= errlen)
        return SP_PARSE_ERROR;
    va_start(ap, fmt);
    n += vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= errlen)
        return SP_PARSE_ERROR;
    snprintf(err + n, errlen - (size_t)n, " at byte %llu", (unsigned long long)offset);
    return SP_PARSE_ERROR;
}
