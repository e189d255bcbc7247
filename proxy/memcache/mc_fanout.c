/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Commands for every server of a pool (see mc_fanout.h).
 *
 * A client that sends version, flush_all or verbosity to the proxy means the cache behind it,
 * which is every server: clients read version to pick features (libmemcached's memcapable
 * tests for 1.6), so the answer must be what every server can do, the lowest version; and a
 * cache clear() must empty every server.  Each server gets the command, and its one-line answer
 * comes back as a fragment reply, in the pool's server order.
 */
#include "config.h"

#include <string.h>

#include "mc_fanout.h"

/* Longer "versions" are not memcached's: such a server is left out. */
#define VERSION_MAX 128

int sp_mc_fanout_lines(const struct sp_mc_request *r, const unsigned char *line, size_t nfrags,
                       struct evbuffer *const *out)
{
    const struct sp_key_span *name = &r->tok[0];
    size_t args = r->ntok - 1 - (size_t)(r->noreply != 0); /* those before a final noreply */
    const struct sp_key_span *num = r->cmd->kind == SP_MC_ALL && args > 0 ? &r->tok[1] : NULL;

    for (size_t f = 0; f < nfrags; f++) {
        if (evbuffer_add_printf(out[f], "%.*s%s%.*s\r\n", (int)name->len, line + name->off,
                                num != NULL ? " " : "", num != NULL ? (int)num->len : 0,
                                num != NULL ? (const char *)line + num->off : "") < 0)
            return -1;
    }
    return 0;
}

static int is_error_line(struct evbuffer *b)
{
    char head[12];
    ev_ssize_t n = evbuffer_copyout(b, head, sizeof(head));

    return (n >= 5 && memcmp(head, "ERROR", 5) == 0) ||
           (n == 12 && (memcmp(head, "SERVER_ERROR", 12) == 0 ||
                        memcmp(head, "CLIENT_ERROR", 12) == 0));
}

void sp_mc_answer_failure(struct evbuffer *rep, const char *name, struct evbuffer *out)
{
    if (rep == NULL || evbuffer_get_length(rep) == 0)
        evbuffer_add_printf(out, "SERVER_ERROR no reply from server\r\n");
    else if (is_error_line(rep))
        evbuffer_add_buffer(out, rep);
    else
        evbuffer_add_printf(out, "SERVER_ERROR unexpected reply from server to %s\r\n", name);
}

/* A walk over the leading numbers of a version string; `at` ends where the numbers do. */
struct ver_walk {
    const char *s;
    size_t n;
    size_t at;
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The next number (first, or after a '.'): 1 with its digits in [*d, *d + *dn), else 0. */
static int next_number(struct ver_walk *v, const char **d, size_t *dn)
{
    size_t i = v->at;

    if (i > 0) {
        if (i + 1 >= v->n || v->s[i] != '.' || !is_digit(v->s[i + 1]))
            return 0;
        i++;
    }
    if (i >= v->n || !is_digit(v->s[i]))
        return 0;
    *d = v->s + i;
    while (i < v->n && is_digit(v->s[i]))
        i++;
    *dn = (size_t)(v->s + i - *d);
    v->at = i;
    return 1;
}

/* Compares two runs of digits as numbers, whatever their length. */
static int cmp_digits(const char *a, size_t an, const char *b, size_t bn)
{
    while (an > 1 && *a == '0')
        a++, an--;
    while (bn > 1 && *b == '0')
        b++, bn--;
    if (an != bn)
        return an < bn ? -1 : 1;
    return memcmp(a, b, an);
}

/* Byte order; a prefix is lower (so no suffix is lower than any). */
static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    if (c != 0)
        return c;
    return (an > bn) - (an < bn);
}

int sp_mc_version_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    struct ver_walk va = { a, alen, 0 }, vb = { b, blen, 0 };

    for (;;) {
        const char *da = NULL, *db = NULL;
        size_t na = 0, nb = 0;
        int ha = next_number(&va, &da, &na), hb = next_number(&vb, &db, &nb);
        int c;

        if (!ha || !hb) {
            if (ha != hb)
                return ha - hb;
            break;
        }
        c = cmp_digits(da, na, db, nb);
        if (c != 0)
            return c;
    }
    return cmp_bytes(a + va.at, alen - va.at, b + vb.at, blen - vb.at);
}

/* The version in a reply "VERSION <v>\r\n" into v (VERSION_MAX bytes).  Returns its length,
   or 0 when the reply is not one. */
static size_t version_of(struct evbuffer *b, char *v)
{
    char line[8 + VERSION_MAX + 2];
    size_t n = evbuffer_get_length(b);

    if (n < 8 + 1 + 2 || n > sizeof(line) || evbuffer_copyout(b, line, n) != (ev_ssize_t)n ||
        memcmp(line, "VERSION ", 8) != 0 || memcmp(line + n - 2, "\r\n", 2) != 0)
        return 0;
    n -= 8 + 2;
    memcpy(v, line + 8, n);
    return n;
}

void sp_mc_merge_version(struct evbuffer *const *rep, size_t nfrags, struct evbuffer *out)
{
    char low[VERSION_MAX], v[VERSION_MAX];
    size_t low_len = 0;

    for (size_t f = 0; f < nfrags; f++) {
        size_t n = version_of(rep[f], v);

        if (n > 0 && (low_len == 0 || sp_mc_version_cmp(v, n, low, low_len) < 0)) {
            memcpy(low, v, n);
            low_len = n;
        }
    }
    if (low_len == 0) {
        sp_mc_answer_failure(nfrags > 0 ? rep[0] : NULL, "version", out);
        return;
    }
    evbuffer_add_printf(out, "VERSION %.*s\r\n", (int)low_len, low);
}

static int is_ok(struct evbuffer *b)
{
    char line[4];

    return evbuffer_get_length(b) == 4 && evbuffer_copyout(b, line, 4) == 4 &&
           memcmp(line, "OK\r\n", 4) == 0;
}

void sp_mc_merge_ok(const char *name, struct evbuffer *const *rep, size_t nfrags,
                    struct evbuffer *out)
{
    for (size_t f = 0; f < nfrags; f++) {
        if (!is_ok(rep[f])) {
            sp_mc_answer_failure(rep[f], name, out);
            return;
        }
    }
    evbuffer_add(out, "OK\r\n", 4);
}
