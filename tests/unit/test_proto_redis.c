/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RESP protocol adapter behind proto.h, without sockets: what it answers itself, how it
 * routes, the bytes of split fragments and merged replies, and the server hello.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "conf.h"
#include "core/proto.h"

static const struct sp_proto *P = &sp_proto_redis;

/* A client state for `pool`, fed `req`. */
struct fixture {
    struct sp_conf_pool pool;
    struct sp_proto_client cl;
    struct evbuffer *in, *local;
    struct sp_msg msg;
};

static void fx_init(struct fixture *f, const char *auth, int db)
{
    memset(f, 0, sizeof(*f));
    f->pool.name = (char *)"alpha";
    f->pool.redis_auth = (char *)auth;
    f->pool.redis_db = db;
    f->cl.pool = &f->pool;
    f->cl.state = calloc(1, P->client_state_size);
    ck_assert_ptr_nonnull(f->cl.state);
    P->parser_init(f->cl.state);
    P->client_init(&f->cl);
    f->in = evbuffer_new();
    f->local = evbuffer_new();
}

static void fx_fini(struct fixture *f)
{
    P->parser_fini(f->cl.state);
    free(f->cl.state);
    evbuffer_free(f->in);
    evbuffer_free(f->local);
}

/* Parses `req` (must be complete); returns the local reply as a string (static buffer). */
static const char *fx_parse(struct fixture *f, const char *req, enum sp_parse want)
{
    static char out[512];
    size_t n;

    evbuffer_drain(f->in, evbuffer_get_length(f->in));
    evbuffer_drain(f->local, evbuffer_get_length(f->local));
    evbuffer_add(f->in, req, strlen(req));
    ck_assert_int_eq(P->parse_request(&f->cl, f->in, &f->msg, f->local), want);
    if (want == SP_PARSE_OK) {
        ck_assert_uint_eq(f->msg.len, strlen(req));
        f->cl.consumed += f->msg.len; /* as the core does when it removes the request */
        if (f->msg.body != NULL) {
            /* Rewritten (inline): the core forwards the body in place of the input bytes. */
            evbuffer_drain(f->in, f->msg.len);
            f->msg.len = evbuffer_get_length(f->msg.body);
            evbuffer_prepend_buffer(f->in, f->msg.body);
        }
    }
    n = evbuffer_copyout(f->local, out, sizeof(out) - 1);
    out[n] = '\0';
    return out;
}

static char *drain_str(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);

    ck_assert_ptr_nonnull(s);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

START_TEST(local_replies)
{
    struct fixture f;

    fx_init(&f, NULL, 0);
    ck_assert_str_eq(fx_parse(&f, "*1\r\n$4\r\nPING\r\n", SP_PARSE_OK), "+PONG\r\n");
    ck_assert_int_eq(f.msg.kind, SP_MSG_LOCAL);
    ck_assert_str_eq(fx_parse(&f, "PING hi\r\n", SP_PARSE_OK), "$2\r\nhi\r\n");
    ck_assert_str_eq(fx_parse(&f, "*2\r\n$3\r\nfoo\r\n$1\r\nx\r\n", SP_PARSE_OK),
                     "-ERR unknown command 'foo'\r\n");
    ck_assert_str_eq(fx_parse(&f, "GET\r\n", SP_PARSE_OK),
                     "-ERR wrong number of arguments for 'get' command\r\n");
    ck_assert_str_eq(fx_parse(&f, "AUTH x\r\n", SP_PARSE_OK),
                     "-ERR Client sent AUTH, but no password is set\r\n");
    ck_assert_str_eq(fx_parse(&f, "SELECT 0\r\n", SP_PARSE_OK), "+OK\r\n");
    ck_assert_str_eq(fx_parse(&f, "QUIT\r\n", SP_PARSE_OK), "+OK\r\n");
    ck_assert_uint_eq(f.msg.flags & SP_MSG_CLOSE, SP_MSG_CLOSE);
    /* Offsets count from the start of the connection's stream. */
    ck_assert_str_eq(fx_parse(&f, "*1\r\n$x\r\n", SP_PARSE_ERROR),
                     "-ERR Protocol error: invalid bulk length at byte 76\r\n");
    fx_fini(&f);
}
END_TEST

START_TEST(auth_gate)
{
    struct fixture f;

    fx_init(&f, "pw", 2);
    ck_assert(!f.cl.authenticated);
    ck_assert_str_eq(fx_parse(&f, "GET k\r\n", SP_PARSE_OK),
                     "-NOAUTH Authentication required\r\n");
    ck_assert_str_eq(fx_parse(&f, "AUTH nope\r\n", SP_PARSE_OK), "-ERR invalid password\r\n");
    ck_assert_str_eq(fx_parse(&f, "AUTH pw\r\n", SP_PARSE_OK), "+OK\r\n");
    ck_assert(f.cl.authenticated);
    ck_assert_str_eq(fx_parse(&f, "SELECT 2\r\n", SP_PARSE_OK), "+OK\r\n");
    ck_assert_str_eq(fx_parse(&f, "SELECT 1\r\n", SP_PARSE_OK),
                     "-ERR SELECT 1 is not supported by the proxy: pool 'alpha' serves db 2 "
                     "(redis_db)\r\n");
    ck_assert_str_eq(fx_parse(&f, "GET key\r\n", SP_PARSE_OK), "");
    ck_assert_int_eq(f.msg.kind, SP_MSG_FORWARD);
    fx_fini(&f);
}
END_TEST

START_TEST(routing_keys)
{
    struct fixture f;
    char *body;

    fx_init(&f, NULL, 0);
    fx_parse(&f, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$1\r\nv\r\n", SP_PARSE_OK);
    ck_assert_int_eq(f.msg.kind, SP_MSG_FORWARD);
    ck_assert_uint_eq(f.msg.nkeys, 1);
    ck_assert_uint_eq(f.msg.keys[0].off, 17);
    ck_assert_uint_eq(f.msg.keys[0].len, 3);
    /* Inline requests are rewritten as RESP: key offsets point into the rewrite. */
    fx_parse(&f, "EVAL s 2 k1 k2 a\r\n", SP_PARSE_OK);
    ck_assert_int_eq(f.msg.kind, SP_MSG_FORWARD);
    body = drain_str(f.in);
    ck_assert_str_eq(body, "*6\r\n$4\r\nEVAL\r\n$1\r\ns\r\n$1\r\n2\r\n$2\r\nk1\r\n"
                           "$2\r\nk2\r\n$1\r\na\r\n");
    free(body);
    ck_assert_uint_eq(f.msg.keys[0].off, 32);
    fx_parse(&f, "MSET a 1 \"b\\x62\" 2 c 3\r\n", SP_PARSE_OK);
    ck_assert_int_eq(f.msg.kind, SP_MSG_MULTI);
    ck_assert_uint_eq(f.msg.nkeys, 3);
    ck_assert_uint_eq(f.msg.keys[1].off, 32);
    ck_assert_uint_eq(f.msg.keys[1].len, 2);
    fx_fini(&f);
}
END_TEST

/*
 * Splits `req` with keys 0 and 2 on fragment 0, key 1 on fragment 1, both ways the core does:
 * moving bytes out of an evbuffer holding the request alone, and copying from the request
 * pulled up in one piece (the client's input must then be left as it was).
 */
static void check_split(const char *req, const char *want0, const char *want1)
{
    for (int flat = 0; flat <= 1; flat++) {
        struct fixture f;
        struct evbuffer *out[2] = { evbuffer_new(), evbuffer_new() };
        static const uint32_t fok[3] = { 0, 1, 0 };
        struct evbuffer *bytes = evbuffer_new();
        const void *p = NULL;
        char *s0, *s1;

        fx_init(&f, NULL, 0);
        fx_parse(&f, req, SP_PARSE_OK);
        ck_assert_int_eq(f.msg.kind, SP_MSG_MULTI);
        /* Something after the request, and old bytes in the outputs, must not matter. */
        evbuffer_add(f.in, "*1\r\n$4\r\nPING\r\n", 14);
        evbuffer_add(out[0], "old", 3);
        evbuffer_drain(out[0], 3);
        if (flat) {
            p = evbuffer_pullup(f.in, (ev_ssize_t)f.msg.len);
            ck_assert_int_eq(P->split(&f.msg, f.in, p, fok, 2, out, NULL), 0);
            ck_assert_uint_eq(evbuffer_get_length(f.in), f.msg.len + 14);
        } else {
            evbuffer_remove_buffer(f.in, bytes, f.msg.len);
            ck_assert_int_eq(P->split(&f.msg, bytes, NULL, fok, 2, out, NULL), 0);
        }
        s0 = drain_str(out[0]);
        s1 = drain_str(out[1]);
        ck_assert_msg(strcmp(s0, want0) == 0, "flat %d: fragment 0 '%s'", flat, s0);
        ck_assert_msg(strcmp(s1, want1) == 0, "flat %d: fragment 1 '%s'", flat, s1);
        free(s0);
        free(s1);
        evbuffer_free(out[0]);
        evbuffer_free(out[1]);
        evbuffer_free(bytes);
        fx_fini(&f);
    }
}

START_TEST(split_fragments)
{
    check_split("*7\r\n$4\r\nmset\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
                "*5\r\n$4\r\nmset\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n",
                "*3\r\n$4\r\nmset\r\n$1\r\nb\r\n$1\r\n2\r\n");
    check_split("MSET a 1 b 2 c 3\r\n",
                "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n",
                "*3\r\n$4\r\nMSET\r\n$1\r\nb\r\n$1\r\n2\r\n");
    check_split("*4\r\n$4\r\nMGET\r\n$2\r\nk0\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
                "*3\r\n$4\r\nMGET\r\n$2\r\nk0\r\n$2\r\nk2\r\n", "*2\r\n$4\r\nMGET\r\n$2\r\nk1\r\n");
    /* Empty and binary keys, a 12-argument count (two digits). */
    check_split("*4\r\n$3\r\nDEL\r\n$0\r\n\r\n$3\r\na\r\n\r\n$10\r\n0123456789\r\n",
                "*3\r\n$3\r\nDEL\r\n$0\r\n\r\n$10\r\n0123456789\r\n",
                "*2\r\n$3\r\nDEL\r\n$3\r\na\r\n\r\n");
    check_split("MGET k0 k1 k2\r\n", "*3\r\n$4\r\nMGET\r\n$2\r\nk0\r\n$2\r\nk2\r\n",
                "*2\r\n$4\r\nMGET\r\n$2\r\nk1\r\n");
}
END_TEST

/* A fragment-sized MSET with 11 keys: the array count needs two digits in the flat path too. */
START_TEST(split_many_keys)
{
    static const uint32_t fok[11] = { 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    struct fixture f;
    struct evbuffer *out[2] = { evbuffer_new(), evbuffer_new() };
    char *s0, *s1;

    fx_init(&f, NULL, 0);
    fx_parse(&f, "MSET a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9 j 10 k 11\r\n", SP_PARSE_OK);
    ck_assert_uint_eq(f.msg.nkeys, 11);
    ck_assert_int_eq(P->split(&f.msg, f.in, evbuffer_pullup(f.in, -1), fok, 2, out, NULL), 0);
    s0 = drain_str(out[0]);
    s1 = drain_str(out[1]);
    ck_assert_str_eq(s0, "*21\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n"
                         "$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n"
                         "$1\r\ng\r\n$1\r\n7\r\n$1\r\nh\r\n$1\r\n8\r\n$1\r\ni\r\n$1\r\n9\r\n"
                         "$1\r\nj\r\n$2\r\n10\r\n$1\r\nk\r\n$2\r\n11\r\n");
    ck_assert_str_eq(s1, "*3\r\n$4\r\nMSET\r\n$1\r\nb\r\n$1\r\n2\r\n");
    free(s0);
    free(s1);
    evbuffer_free(out[0]);
    evbuffer_free(out[1]);
    fx_fini(&f);
}
END_TEST

static char *merge_with(const char *req, const char *r0, const char *r1,
                        const struct sp_part *kp);

/*
 * Frames the fragment replies r[0], r[1] as the core does for a fragment (want_parts) and gives
 * key i its element, as multikey.c records them.  Returns false when a reply has fewer elements
 * than keys (the core then merges without parts).
 */
static bool key_parts(const char *const r[2], const uint32_t *fok, size_t nkeys,
                      struct sp_part *kp)
{
    void *st = calloc(1, P->server_state_size);
    struct evbuffer *b = evbuffer_new();
    bool ok = true;

    ck_assert_ptr_nonnull(st);
    P->server_init(st);
    for (uint32_t f = 0; f < 2; f++) {
        struct sp_reply rep;
        size_t k = 0;

        evbuffer_add(b, r[f], strlen(r[f]));
        ck_assert_int_eq(P->parse_reply(st, b, SP_CMD_NONE, true, &rep), SP_PARSE_OK);
        ck_assert_uint_eq(rep.len, strlen(r[f]));
        for (size_t i = 0; i < nkeys; i++) {
            if (fok[i] != f)
                continue;
            if (k == rep.nparts)
                ok = false;
            else
                kp[i] = rep.parts[k++];
        }
        evbuffer_drain(b, rep.len);
    }
    P->server_fini(st);
    free(st);
    evbuffer_free(b);
    return ok;
}

/*
 * Merges replies r0/r1 of `req`'s split (keys 0 and 2 on fragment 0, key 1 on fragment 1), with
 * element bounds from the reply parser when it has them and without; both must agree.
 */
static char *merge(const char *req, const char *r0, const char *r1)
{
    const char *const r[2] = { r0, r1 };
    static const uint32_t fok[3] = { 0, 1, 0 };
    struct sp_part kp[3];
    bool have_parts = key_parts(r, fok, 3, kp);
    char *s = NULL;

    for (int with = 0; with <= (int)have_parts; with++) {
        char *t = merge_with(req, r0, r1, with ? kp : NULL);

        if (s != NULL) {
            ck_assert_str_eq(t, s);
            free(t);
        } else {
            s = t;
        }
    }
    return s;
}

/* One merge of r0/r1, with key_part `kp` or none. */
static char *merge_with(const char *req, const char *r0, const char *r1, const struct sp_part *kp)
{
    struct fixture f;
    struct evbuffer *rep[2] = { evbuffer_new(), evbuffer_new() };
    struct evbuffer *out = evbuffer_new();
    static const uint32_t fok[3] = { 0, 1, 0 };
    char *s;

    fx_init(&f, NULL, 0);
    fx_parse(&f, req, SP_PARSE_OK);
    evbuffer_add(rep[0], r0, strlen(r0));
    evbuffer_add(rep[1], r1, strlen(r1));
    P->merge(f.msg.cmd, fok, 3, kp, rep, 2, NULL, out);
    s = drain_str(out);
    evbuffer_free(rep[0]);
    evbuffer_free(rep[1]);
    evbuffer_free(out);
    fx_fini(&f);
    return s;
}

/* merge() of r0/r1 must give `want`. */
static void check_merge(const char *req, const char *r0, const char *r1, const char *want)
{
    char *s = merge(req, r0, r1);

    ck_assert_str_eq(s, want);
    free(s);
}

START_TEST(merge_replies)
{
    check_merge("MGET a b c\r\n", "*2\r\n$1\r\nA\r\n$-1\r\n", "*1\r\n$2\r\nBB\r\n",
                "*3\r\n$1\r\nA\r\n$2\r\nBB\r\n$-1\r\n");
    check_merge("DEL a b c\r\n", ":2\r\n", ":1\r\n", ":3\r\n");
    check_merge("MSET a 1 b 2 c 3\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n");
    check_merge("MSET a 1 b 2 c 3\r\n", "+OK\r\n", "-ERR Connection refused\r\n",
                "-ERR Connection refused\r\n");
    check_merge("MGET a b c\r\n", "-ERR Connection timed out\r\n", "*1\r\n$1\r\nB\r\n",
                "-ERR Connection timed out\r\n");
    /* Both failed: the first key's part answers. */
    check_merge("DEL a b c\r\n", "-ERR first\r\n", "-ERR second\r\n", "-ERR first\r\n");
    check_merge("DEL a b c\r\n", ":1\r\n", "-ERR second\r\n", "-ERR second\r\n");
}
END_TEST

/* The element bounds path: values holding CRLF, empty and nil values, and its fallbacks. */
START_TEST(merge_from_parts)
{
    const struct sp_part bogus[3] = { { 4, 7 }, { 100, 5 }, { 11, 6 } };
    const size_t big = 70000;
    char *r0 = malloc(big + 64), *want = malloc(big + 64);
    char *s;
    int n;

    check_merge("MGET a b c\r\n", "*2\r\n$4\r\na\r\nb\r\n$0\r\n\r\n", "*1\r\n$-1\r\n",
                "*3\r\n$4\r\na\r\nb\r\n$-1\r\n$0\r\n\r\n");
    /* A part with fewer elements than keys: no parts, the short part becomes a nil. */
    check_merge("MGET a b c\r\n", "*1\r\n$1\r\nA\r\n", "*1\r\n$1\r\nB\r\n",
                "*3\r\n$1\r\nA\r\n$1\r\nB\r\n$-1\r\n");
    /* Bounds outside a reply are not trusted. */
    s = merge_with("MGET a b c\r\n", "*2\r\n$1\r\nA\r\n$2\r\nCC\r\n", "*1\r\n$1\r\nB\r\n",
                   bogus);
    ck_assert_str_eq(s, "*3\r\n$1\r\nA\r\n$1\r\nB\r\n$2\r\nCC\r\n");
    free(s);
    /* A value over the pull-up limit is merged chain by chain, to the same bytes. */
    ck_assert_ptr_nonnull(r0);
    ck_assert_ptr_nonnull(want);
    n = sprintf(r0, "*2\r\n$%zu\r\n", big);
    memset(r0 + n, 'v', big);
    strcpy(r0 + n + big, "\r\n$1\r\nC\r\n");
    n = sprintf(want, "*3\r\n$%zu\r\n", big);
    memset(want + n, 'v', big);
    strcpy(want + n + big, "\r\n$1\r\nB\r\n$1\r\nC\r\n");
    check_merge("MGET a b c\r\n", r0, "*1\r\n$1\r\nB\r\n", want);
    free(r0);
    free(want);
}
END_TEST

/* want_parts gives every top-level element, whatever the reply is cut into. */
START_TEST(reply_parts_resumable)
{
    static const char r[] = "*4\r\n$4\r\nf\r\no\r\n$-1\r\n*2\r\n:1\r\n*1\r\n+a\r\n-b\r\n";
    const struct sp_part want[4] = { { 4, 10 }, { 14, 5 }, { 19, 16 }, { 35, 4 } };
    size_t len = sizeof(r) - 1;

    for (size_t cut = 1; cut < len; cut++) {
        void *st = calloc(1, P->server_state_size);
        struct evbuffer *b = evbuffer_new();
        struct sp_reply rep;

        P->server_init(st);
        evbuffer_add(b, r, cut);
        ck_assert_int_eq(P->parse_reply(st, b, SP_CMD_NONE, true, &rep), SP_PARSE_AGAIN);
        evbuffer_add(b, r + cut, len - cut);
        ck_assert_int_eq(P->parse_reply(st, b, SP_CMD_NONE, true, &rep), SP_PARSE_OK);
        ck_assert_uint_eq(rep.len, len);
        ck_assert_uint_eq(rep.nparts, 4);
        for (size_t i = 0; i < 4; i++) {
            ck_assert_msg(rep.parts[i].off == want[i].off && rep.parts[i].len == want[i].len,
                          "cut %zu: element %zu at %zu+%zu", cut, i, rep.parts[i].off,
                          rep.parts[i].len);
        }
        /* Without want_parts the next reply has none. */
        evbuffer_drain(b, len);
        evbuffer_add(b, r, len);
        ck_assert_int_eq(P->parse_reply(st, b, SP_CMD_NONE, false, &rep), SP_PARSE_OK);
        ck_assert_uint_eq(rep.nparts, 0);
        P->server_fini(st);
        free(st);
        evbuffer_free(b);
    }
}
END_TEST

START_TEST(server_hello)
{
    struct sp_conf_pool pool;
    struct evbuffer *out = evbuffer_new();
    char *s;

    memset(&pool, 0, sizeof(pool));
    ck_assert_uint_eq(P->server_hello(&pool, out), 0);
    ck_assert_uint_eq(evbuffer_get_length(out), 0);
    pool.redis_auth = (char *)"pw";
    pool.redis_db = 5;
    ck_assert_uint_eq(P->server_hello(&pool, out), 2);
    s = drain_str(out);
    ck_assert_str_eq(s, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n");
    free(s);
    P->error_reply(out, "Connection refused");
    s = drain_str(out);
    ck_assert_str_eq(s, "-ERR Connection refused\r\n");
    free(s);
    evbuffer_free(out);
}
END_TEST

/* Reads the setup error `line` as the server's reply number `left` from the end. */
static void refusal(const struct sp_conf_pool *pool, unsigned left, const char *line,
                    struct sp_refusal *why)
{
    struct evbuffer *in = evbuffer_new();
    void *st = calloc(1, P->server_state_size);
    struct sp_reply rep;

    P->server_init(st);
    evbuffer_add(in, line, strlen(line));
    ck_assert_int_eq(P->parse_reply(st, in, SP_CMD_NONE, false, &rep), SP_PARSE_OK);
    ck_assert(rep.is_error);
    P->hello_refusal(pool, left, in, &rep, why);
    ck_assert_uint_eq(evbuffer_get_length(in), strlen(line)); /* not consumed */
    P->server_fini(st);
    free(st);
    evbuffer_free(in);
}

/* The server's code stays first in what the client reads; the step is named after it. */
START_TEST(setup_refused)
{
    struct sp_conf_pool pool;
    struct sp_refusal why;
    struct evbuffer *out = evbuffer_new();
    char reason[256];
    char *s;

    memset(&pool, 0, sizeof(pool));
    pool.redis_auth = (char *)"pw";
    pool.redis_db = 5;
    refusal(&pool, 2, "-WRONGPASS invalid username-password pair\r\n", &why);
    ck_assert_str_eq(why.step, "AUTH");
    ck_assert_str_eq(why.code, "WRONGPASS");
    ck_assert_str_eq(why.text, "invalid username-password pair");
    refusal(&pool, 1, "-ERR DB index is out of range\r\n", &why);
    ck_assert_str_eq(why.step, "SELECT");
    ck_assert_str_eq(why.code, "ERR");
    ck_assert_str_eq(why.text, "DB index is out of range");
    pool.redis_db = 0;
    refusal(&pool, 1, "-lower case \x01words\r\n", &why);
    ck_assert_str_eq(why.step, "AUTH");
    ck_assert_str_eq(why.code, "ERR");
    ck_assert_str_eq(why.text, "lower case ?words");

    sp_reason_coded(reason, sizeof(reason), "WRONGPASS", "bad (%s)", "note");
    P->error_reply(out, reason);
    s = drain_str(out);
    ck_assert_str_eq(s, "-WRONGPASS bad (note)\r\n");
    free(s);
    sp_reason_coded(reason, sizeof(reason), "not a code", "plain");
    P->error_reply(out, reason);
    s = drain_str(out);
    ck_assert_str_eq(s, "-ERR plain\r\n");
    free(s);
    evbuffer_free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto_redis");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, local_replies);
    tcase_add_test(tc, auth_gate);
    tcase_add_test(tc, routing_keys);
    tcase_add_test(tc, split_fragments);
    tcase_add_test(tc, split_many_keys);
    tcase_add_test(tc, merge_replies);
    tcase_add_test(tc, merge_from_parts);
    tcase_add_test(tc, reply_parts_resumable);
    tcase_add_test(tc, server_hello);
    tcase_add_test(tc, setup_refused);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
