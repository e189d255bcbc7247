/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the inline command splitter (proxy/redis/resp_inline.c).  The input is one
 * line (cut at its first LF, as a line is).  Three properties, any failure aborts:
 *
 *   1. The splitter agrees with a reference written here the way Redis' own reader is written
 *      (one pass over a NUL-terminated string with look-ahead through the terminator): the same
 *      verdict (arguments, unbalanced quotes, NUL byte) and the same arguments.
 *   2. Arguments written back as "\xHH..." strings split into the same arguments (round trip).
 *   3. Every argument lies inside the line, in order, and nothing is read past it (ASan).
 *
 * The differential test against a real redis-server is tests/abuse/test_inline.py.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "redis/resp_inline.h"

#define CHECK(cond) SP_FUZZ_CHECK("fuzz_inline", cond)
#define MAX_ARGS 4096

const char *const sp_fuzz_seeds[] = {
    "SET \"\\x76\\x31\" x", "GET 'it\\'s'", "GET \"a\\\"b\"", "GET \"\\n\\r\\t\\b\\a\\z\"",
    "GET a\"b c\"", "GET ''", "PING\vx", "\v\f GET\tk  \r", "GET \"a b\"\"", "GET 'a''b'",
    "GET \"\\x4\"", "MSET a 1 'b c' \"d\\xff\"",
};
const size_t sp_fuzz_nseeds = sizeof(sp_fuzz_seeds) / sizeof(sp_fuzz_seeds[0]);
const char sp_fuzz_alphabet[] = " \t\r\v\f\"'\\xa0fFgZ";
const size_t sp_fuzz_prefix = 0;

struct args {
    size_t n;
    size_t off[MAX_ARGS];
    size_t len[MAX_ARGS];
    const unsigned char *base;
};

static int collect(void *ctx, size_t off, size_t len)
{
    struct args *a = ctx;

    if (a->n == MAX_ARGS)
        return 9;
    a->off[a->n] = off;
    a->len[a->n] = len;
    a->n++;
    return SP_INLINE_OK;
}

/* ---- the reference: Redis' reading, on a NUL-terminated copy ---- */

static int ref_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int ref_blank(int c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

/* Splits the C string `s`; arguments go to out (bytes) and *lens.  Returns SP_INLINE_*. */
static int ref_split(const char *s, unsigned char *out, size_t *lens, size_t *nargs)
{
    const char *p = s;
    size_t o = 0;

    *nargs = 0;
    for (;;) {
        while (*p && ref_blank((unsigned char)*p))
            p++;
        if (!*p)
            return SP_INLINE_OK;
        int inq = 0, insq = 0, done = 0;
        size_t start = o;

        while (!done) {
            if (inq) {
                if (p[0] == '\\' && p[1] == 'x' && ref_hex((unsigned char)p[2]) >= 0 &&
                    ref_hex((unsigned char)p[3]) >= 0) {
                    out[o++] = (unsigned char)(ref_hex((unsigned char)p[2]) * 16 +
                                               ref_hex((unsigned char)p[3]));
                    p += 3;
                } else if (p[0] == '\\' && p[1]) {
                    char c;

                    p++;
                    c = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p == 'b' ? '\b'
                        : *p == 'a' ? '\a' : *p;
                    out[o++] = (unsigned char)c;
                } else if (*p == '"') {
                    if (p[1] && !ref_blank((unsigned char)p[1]))
                        return SP_INLINE_QUOTES;
                    done = 1;
                } else if (!*p) {
                    return SP_INLINE_QUOTES;
                } else {
                    out[o++] = (unsigned char)*p;
                }
            } else if (insq) {
                if (p[0] == '\\' && p[1] == '\'') {
                    p++;
                    out[o++] = '\'';
                } else if (*p == '\'') {
                    if (p[1] && !ref_blank((unsigned char)p[1]))
                        return SP_INLINE_QUOTES;
                    done = 1;
                } else if (!*p) {
                    return SP_INLINE_QUOTES;
                } else {
                    out[o++] = (unsigned char)*p;
                }
            } else {
                switch (*p) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0':
                    done = 1;
                    break;
                case '"':
                    inq = 1;
                    break;
                case '\'':
                    insq = 1;
                    break;
                default:
                    out[o++] = (unsigned char)*p;
                    break;
                }
            }
            if (*p)
                p++;
        }
        if (*nargs == MAX_ARGS)
            return 9;
        lens[(*nargs)++] = o - start;
    }
}

/* ---- the properties ---- */

/* Writes the arguments as a line of "\xHH..." strings; returns its length. */
static size_t encode(const struct args *a, unsigned char *dst)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < a->n; i++) {
        dst[o++] = '"';
        for (size_t k = 0; k < a->len[i]; k++) {
            unsigned char c = a->base[a->off[i] + k];

            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = (unsigned char)hex[c >> 4];
            dst[o++] = (unsigned char)hex[c & 15];
        }
        dst[o++] = '"';
        dst[o++] = ' ';
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *lf = memchr(data, '\n', size);
    size_t n = lf != NULL ? (size_t)(lf - data) : size;
    unsigned char *line = malloc(n + 1), *cstr = malloc(n + 1), *ref = malloc(n + 1);
    size_t *reflen = malloc((MAX_ARGS + 1) * sizeof(*reflen));
    static struct args a, b;
    size_t bad = 0, nref = 0, off = 0;
    int rc, rrc;

    CHECK(line != NULL && cstr != NULL && ref != NULL && reflen != NULL);
    memcpy(line, data, n);
    memcpy(cstr, data, n);
    cstr[n] = '\0';
    a.n = 0;
    a.base = line;
    rc = sp_resp_inline_split(line, n, collect, &a, &bad);
    if (memchr(data, '\0', n) != NULL) {
        CHECK(rc == SP_INLINE_NUL && data[bad] == '\0' && memchr(data, '\0', bad) == NULL);
        goto out;
    }
    rrc = ref_split((const char *)cstr, ref, reflen, &nref);
    CHECK(rc == rrc);
    if (rc != SP_INLINE_OK) {
        CHECK(bad <= n);
        goto out;
    }
    CHECK(a.n == nref);
    for (size_t i = 0; i < a.n; i++) {
        CHECK(a.len[i] == reflen[i] && a.off[i] == off);
        CHECK(memcmp(line + a.off[i], ref + off, a.len[i]) == 0);
        off += a.len[i];
    }
    CHECK(off <= n);
    if (a.n > 0) {
        unsigned char *enc = malloc(off * 4 + a.n * 3 + 1);
        size_t elen;

        CHECK(enc != NULL);
        elen = encode(&a, enc);
        b.n = 0;
        b.base = enc;
        CHECK(sp_resp_inline_split(enc, elen, collect, &b, &bad) == SP_INLINE_OK);
        CHECK(b.n == a.n);
        for (size_t i = 0; i < a.n; i++)
            CHECK(b.len[i] == a.len[i] &&
                  memcmp(enc + b.off[i], line + a.off[i], a.len[i]) == 0);
        free(enc);
    }
out:
    free(line);
    free(cstr);
    free(ref);
    free(reflen);
    return 0;
}
