/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The loader's one message format: "FILE:LINE:COL: pool 'P': key 'K': problem (expected ...)",
 * so an operator can jump straight to the spot; user text in messages is quoted, escaped and cut.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

const char *cf_show(struct cf_show *b, const char *s, size_t n)
{
    static const char hexdig[] = "0123456789abcdef";
    size_t o = 0;

    b->buf[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (i == CF_SHOW_MAX) {
            memcpy(b->buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            b->buf[o++] = (char)c;
        } else {
            b->buf[o++] = '\\';
            b->buf[o++] = 'x';
            b->buf[o++] = hexdig[c >> 4];
            b->buf[o++] = hexdig[c & 15];
        }
    }
    b->buf[o++] = '\'';
    b->buf[o] = '\0';
    return b->buf;
}

/* Appends to the error buffer at offset *o; a message that does not fit is cut, still ended. */
static void err_vappend(struct cf_ctx *cx, size_t *o, const char *fmt, va_list ap)
{
    if (*o + 1 >= cx->errlen)
        return;
    int n = vsnprintf(cx->err + *o, cx->errlen - *o, fmt, ap);
    if (n > 0)
        *o += (size_t)n < cx->errlen - *o ? (size_t)n : cx->errlen - *o - 1;
}

static void err_append(struct cf_ctx *cx, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err_append(struct cf_ctx *cx, size_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vappend(cx, o, fmt, ap);
    va_end(ap);
}

int cf_error(struct cf_ctx *cx, struct sp_conf_mark at, const char *pool, const char *key,
             const char *fmt, ...)
{
    struct cf_show sp, sk;
    size_t o = 0;
    va_list ap;

    if (cx->failed || !cx->err || cx->errlen == 0) {
        cx->failed = true;
        return -1;
    }
    cx->failed = true;
    cx->err[0] = '\0';
    err_append(cx, &o, "%s:%u:%u: ", cx->name, at.line, at.column);
    if (pool)
        err_append(cx, &o, "pool %s: ", cf_show(&sp, pool, strlen(pool)));
    if (key && cx->key_prefix) {
        char full[128];
        snprintf(full, sizeof(full), "%s.%s", cx->key_prefix, key);
        err_append(cx, &o, "key %s: ", cf_show(&sk, full, strlen(full)));
    } else if (key) {
        err_append(cx, &o, "key %s: ", cf_show(&sk, key, strlen(key)));
    }
    va_start(ap, fmt);
    err_vappend(cx, &o, fmt, ap);
    va_end(ap);
    return -1;
}

struct sp_conf_mark cf_mark_at(const struct cf_scalar *v, size_t offset)
{
    struct sp_conf_mark m = v->mark;

    if (!v->exact || offset > v->len)
        return m;
    if (v->quoted)
        m.column++;
    /* libyaml counts columns in characters: count UTF-8 lead bytes, not bytes. */
    for (size_t i = 0; i < offset; i++) {
        if (((unsigned char)v->s[i] & 0xc0) != 0x80)
            m.column++;
    }
    return m;
}
