/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the whole request path of a Redis pool: client bytes in, what the proxy
 * would forward out.  The stream goes through the RESP adapter exactly as the core drives it
 * (proxy/core/client.c: parse, drop the request's input bytes, forward the rewrite when there is
 * one), fed whole and fed in pieces.  For every request the proxy forwards:
 *
 *   1. The forwarded bytes are one complete RESP multibulk as Redis reads it, read here by a
 *      reference written the way Redis' lax reader works (headers end at the first CR, the byte
 *      after it is skipped unchecked, a bulk is taken by its length and its CRLF is not looked
 *      at), consuming every forwarded byte and nothing more.
 *   2. Redis' arguments are byte for byte the arguments the proxy parsed.
 *   3. Every key the proxy routes by is exactly one of those arguments (same bytes, same place):
 *      what the proxy hashes is what the server stores.
 *
 * And both feeds forward the same bytes and answer the same local replies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "core/proto.h"
#include "fuzz.h"
#include "redis/resp.h"

#define CHECK(cond) SP_FUZZ_CHECK("fuzz_request", cond)

const char *const sp_fuzz_seeds[] = {
    "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", "GET foo\r\n", "SET \"\\x76\\x31\" x\r\n",
    "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n", "MSET a 1 'b c' 2\r\n", "PING\r\nECHO hi\r\n",
    "EVAL \"return 1\" 2 k1 k2 a\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\r\n\r\n",
    "DEL a b c\r\nQUIT\r\n", "*2\r\n$6\r\nEXISTS\r\n$0\r\n\r\n", "HSET h f v\r\n",
};
const size_t sp_fuzz_nseeds = sizeof(sp_fuzz_seeds) / sizeof(sp_fuzz_seeds[0]);
const char sp_fuzz_alphabet[] = "*$\r\n0123456789 -\"'\\xGETSMabk";
const size_t sp_fuzz_prefix = 1;

#define MAX_FWD_ARGS 4096

/* One forwarded request, as the reference reads it. */
struct redis_view {
    size_t argc;
    size_t off[MAX_FWD_ARGS];
    size_t len[MAX_FWD_ARGS];
};

/* Redis' string2ll: optional '-', no '+', no leading zeros, fits in long long. */
static int ref_ll(const unsigned char *s, size_t n, long long *v)
{
    unsigned long long x = 0;
    size_t i = 0;
    int neg = 0;

    if (n == 0)
        return 0;
    if (n == 1 && s[0] == '0') {
        *v = 0;
        return 1;
    }
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i >= n || s[i] < '1' || s[i] > '9')
        return 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || x > (~0ull - 9) / 10)
            return 0;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    if (neg ? x > (unsigned long long)1 << 63 : x > (~0ull >> 1))
        return 0;
    *v = neg ? (long long)(0 - x) : (long long)x;
    return 1;
}

/* Position of the first CR at or after pos, as strchr finds it (a NUL stops it); -1 if none. */
static long ref_cr(const unsigned char *b, size_t n, size_t pos)
{
    for (size_t i = pos; i < n; i++) {
        if (b[i] == '\r')
            return (long)i;
        if (b[i] == '\0')
            return -1;
    }
    return -1;
}

/*
 * Reads one request from b[0..n) as Redis' multibulk reader does.  Returns the bytes it
 * consumed, or 0 when Redis would not read a whole command from exactly these bytes.
 */
static size_t ref_read(const unsigned char *b, size_t n, struct redis_view *v)
{
    long long count, len;
    long cr;
    size_t pos;

    v->argc = 0;
    if (n == 0 || b[0] != '*')
        return 0;
    cr = ref_cr(b, n, 0);
    if (cr < 0 || (size_t)cr + 2 > n || !ref_ll(b + 1, (size_t)cr - 1, &count) ||
        count > 1024 * 1024)
        return 0;
    pos = (size_t)cr + 2;
    if (count <= 0 || count > MAX_FWD_ARGS)
        return 0;
    for (long long i = 0; i < count; i++) {
        if (pos >= n || b[pos] != '$')
            return 0;
        cr = ref_cr(b, n, pos);
        if (cr < 0 || (size_t)cr + 2 > n || !ref_ll(b + pos + 1, (size_t)cr - pos - 1, &len) ||
            len < 0 || len > 512LL * 1024 * 1024)
            return 0;
        pos = (size_t)cr + 2;
        if ((size_t)len + 2 > n - pos)
            return 0;
        v->off[v->argc] = pos;
        v->len[v->argc] = (size_t)len;
        v->argc++;
        pos += (size_t)len + 2;
    }
    return pos;
}

/* What a feed saw, to compare feeds. */
struct trace {
    uint64_t hash;
    size_t forwarded;
    size_t requests;
};

static void mix(struct trace *t, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        t->hash = (t->hash ^ b[i]) * 0x100000001b3ULL;
}

/* Checks one forwarded request (its bytes fwd[0..n)) against the proxy's own view. */
static void check_forwarded(const unsigned char *fwd, size_t n, const struct sp_msg *msg)
{
    const struct sp_resp_request *r = msg->priv;
    static struct redis_view v;
    size_t used = ref_read(fwd, n, &v);

    CHECK(used == n);
    CHECK(v.argc == r->argc);
    for (size_t i = 0; i < v.argc; i++) {
        CHECK(v.len[i] == r->argv[i].len && v.off[i] == r->argv[i].off);
    }
    for (size_t k = 0; k < msg->nkeys; k++) {
        const struct sp_key_span *key = &msg->keys[k];
        int found = 0;

        if (key->len == 0 && key->off == r->argv[0].off)
            continue; /* a keyless command routes as the empty key */
        for (size_t i = 0; i < v.argc && !found; i++)
            found = v.off[i] == key->off && v.len[i] == key->len;
        CHECK(found);
    }
}

static void feed(const uint8_t *d, size_t n, unsigned seed, int pieces, struct trace *t)
{
    struct sp_conf_pool pool;
    struct sp_proto_client cl;
    const struct sp_proto *P = &sp_proto_redis;
    struct evbuffer *in = evbuffer_new(), *local = evbuffer_new();
    unsigned char *fwd = NULL;
    size_t from = 0;
    int closed = 0;

    memset(t, 0, sizeof(*t));
    t->hash = 0xcbf29ce484222325ULL;
    memset(&pool, 0, sizeof(pool));
    pool.name = "alpha";
    pool.redis = true;
    memset(&cl, 0, sizeof(cl));
    cl.pool = &pool;
    cl.state = calloc(1, P->client_state_size);
    CHECK(in != NULL && local != NULL && cl.state != NULL);
    P->parser_init(cl.state);
    P->client_init(&cl);
    while (from < n && !closed) {
        size_t k = pieces ? 1 + ((from * 2654435761u) ^ seed) % 37 : n;

        if (k > n - from)
            k = n - from;
        evbuffer_add(in, d + from, k);
        from += k;
        for (;;) {
            struct sp_msg msg;
            enum sp_parse rc = P->parse_request(&cl, in, &msg, local);
            struct evbuffer *src = in;
            size_t len;

            if (rc == SP_PARSE_AGAIN)
                break;
            if (rc == SP_PARSE_ERROR) {
                closed = 1;
                break;
            }
            cl.consumed += msg.len;
            t->requests++;
            if (msg.kind == SP_MSG_LOCAL) {
                evbuffer_drain(in, msg.len);
                if (msg.flags & SP_MSG_CLOSE)
                    closed = 1;
                if (closed)
                    break;
                continue;
            }
            if (msg.body != NULL) { /* as client.c: forward the rewrite instead */
                evbuffer_drain(in, msg.len);
                src = msg.body;
            }
            len = msg.body != NULL ? evbuffer_get_length(src) : msg.len;
            fwd = realloc(fwd, len ? len : 1);
            CHECK(fwd != NULL);
            CHECK(evbuffer_copyout(src, fwd, len) == (ev_ssize_t)len);
            check_forwarded(fwd, len, &msg);
            mix(t, fwd, len);
            t->forwarded++;
            evbuffer_drain(src, len);
        }
    }
    {
        size_t nl = evbuffer_get_length(local);
        unsigned char *l = malloc(nl ? nl : 1);

        CHECK(l != NULL);
        evbuffer_copyout(local, l, nl);
        mix(t, l, nl);
        free(l);
    }
    free(fwd);
    P->parser_fini(cl.state);
    free(cl.state);
    evbuffer_free(in);
    evbuffer_free(local);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace whole, split;

    if (size < 1)
        return 0;
    feed(data + 1, size - 1, data[0], 0, &whole);
    feed(data + 1, size - 1, data[0], 1, &split);
    CHECK(whole.hash == split.hash && whole.forwarded == split.forwarded &&
          whole.requests == split.requests);
    return 0;
}
