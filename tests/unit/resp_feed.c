/* SPDX-License-Identifier: Apache-2.0 */
/* Split-feeding harness shared by the RESP parser tests (see resp_feed.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "redis/resp.h"
#include "resp_feed.h"
#include "testutil.h"

void tx_printf(struct tx *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void tx_escape(struct tx *t, const void *bytes, size_t n)
{
    const unsigned char *p = bytes;

    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            tx_printf(t, "%c", p[i]);
        else
            tx_printf(t, "\\x%02x", p[i]);
    }
}

static void add_piece(struct evbuffer *buf, const unsigned char *p, size_t n, int separate)
{
    if (n == 0)
        return;
    if (separate) {
        struct evbuffer *piece = evbuffer_new();

        ck_assert_ptr_nonnull(piece);
        ck_assert_int_eq(evbuffer_add(piece, p, n), 0);
        ck_assert_int_eq(evbuffer_add_buffer(buf, piece), 0);
        evbuffer_free(piece);
    } else {
        ck_assert_int_eq(evbuffer_add(buf, p, n), 0);
    }
}

char *feed_stream(const struct feeder *f, const void *stream, size_t len, const size_t *cuts,
                  size_t ncuts, int separate_chains)
{
    const unsigned char *s = stream;
    struct evbuffer *buf = evbuffer_new();
    void *parser = f->create(f->arg);
    struct tx t = { NULL, 0, 0 };
    size_t from = 0;
    int failed = 0;

    ck_assert_ptr_nonnull(buf);
    tx_printf(&t, "%s", "");
    for (size_t i = 0; i <= ncuts && !failed; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        int rc;

        add_piece(buf, s + from, to - from, separate_chains);
        from = to;
        while ((rc = f->step(parser, buf, &t)) == SP_PARSE_OK)
            ;
        failed = rc == SP_PARSE_ERROR;
    }
    tx_printf(&t, "END left=%zu\n", evbuffer_get_length(buf));
    f->destroy(parser);
    evbuffer_free(buf);
    return t.s;
}

static void describe_cuts(char *out, size_t cap, const size_t *cuts, size_t n, int sep)
{
    size_t used = (size_t)snprintf(out, cap, "chains=%s cuts=", sep ? "separate" : "merged");

    for (size_t i = 0; i < n && used + 12 < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%zu,", cuts[i]);
}

static void compare(const struct feeder *f, const void *stream, size_t len, const size_t *cuts,
                    size_t n, int sep, const char *want, const char *name)
{
    char how[256];
    char *got = feed_stream(f, stream, len, cuts, n, sep);

    describe_cuts(how, sizeof(how), cuts, n, sep);
    ck_assert_msg(strcmp(got, want) == 0, "%s: split feed differs (%s)\n--- whole:\n%s--- split:\n%s",
                  name, how, want, got);
    free(got);
}

size_t check_all_splits(const struct feeder *f, const void *stream, size_t len,
                        const char *expected, size_t nrandom, const char *name)
{
    char *whole = feed_stream(f, stream, len, NULL, 0, 0);
    size_t *cuts = calloc(len + 1, sizeof(*cuts));
    size_t feeds = 1;
    uint64_t rng = tu_seed(name);

    ck_assert_ptr_nonnull(cuts);
    if (expected != NULL)
        ck_assert_msg(strcmp(whole, expected) == 0, "%s: transcript\n%s--- expected:\n%s", name,
                      whole, expected);
    for (int sep = 0; sep <= 1; sep++) {
        for (size_t i = 1; i < len; i++)
            cuts[i - 1] = i;
        compare(f, stream, len, cuts, len ? len - 1 : 0, sep, whole, name);
        feeds++;
        for (size_t i = 1; i < len; i++) {
            compare(f, stream, len, &i, 1, sep, whole, name);
            feeds++;
        }
        for (size_t r = 0; r < nrandom && len > 1; r++) {
            size_t n = 0;

            for (size_t i = 1; i < len; i++)
                if (tu_rand(&rng) % 8 == 0)
                    cuts[n++] = i;
            compare(f, stream, len, cuts, n, sep, whole, name);
            feeds++;
        }
    }
    free(cuts);
    free(whole);
    return feeds;
}

void check_error_splits(const struct feeder *f, const void *stream, size_t len, const char *want)
{
    size_t n = strlen(want);
    char *got = feed_stream(f, stream, len, NULL, 0, 0);

    ck_assert_msg(strncmp(got, want, n) == 0 && strncmp(got + n, "END left=", 9) == 0,
                  "got\n%swant\n%s", got, want);
    free(got);
    for (size_t cut = 1; cut < len; cut++) {
        for (int sep = 0; sep <= 1; sep++) {
            got = feed_stream(f, stream, len, &cut, 1, sep);
            ck_assert_msg(strncmp(got, want, n) == 0 && strncmp(got + n, "END left=", 9) == 0,
                          "cut %zu (%s chains): got\n%swant\n%s", cut,
                          sep ? "separate" : "merged", got, want);
            free(got);
        }
    }
}
