/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memcached adapter behind proto.h, without sockets: what it answers itself (memcached's
 * words), how it routes, the bytes of split fragments and merged multi-get replies, and the
 * requests for every server (version, flush_all, verbosity) and their merged answers.
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
#include "memcache/mc_fanout.h"

static const struct sp_proto *P = &sp_proto_memcache;

struct fixture {
    struct sp_conf_pool pool;
    struct sp_proto_client cl;
    struct evbuffer *in, *local;
    struct sp_msg msg;
};

static void fx_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->pool.name = (char *)"alpha";
    f->cl.pool = &f->pool;
    f->cl.state = calloc(1, P->client_state_size);
    ck_assert_ptr_nonnull(f->cl.state);
    P->parser_init(f->cl.state);
    P->client_init(&f->cl);
    ck_assert(f->cl.authenticated);
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

/* Parses `req` (complete, n bytes); returns the local reply (static buffer). */
static const char *fx_parse_n(struct fixture *f, const char *req, size_t n, enum sp_parse want)
{
    static char out[512];
    size_t len;

    evbuffer_drain(f->in, evbuffer_get_length(f->in));
    evbuffer_drain(f->local, evbuffer_get_length(f->local));
    evbuffer_add(f->in, req, n);
    ck_assert_int_eq(P->parse_request(&f->cl, f->in, &f->msg, f->local), want);
    if (want == SP_PARSE_OK)
        ck_assert_uint_eq(f->msg.len, n);
    len = evbuffer_get_length(f->local);
    ck_assert_uint_lt(len, sizeof(out));
    evbuffer_copyout(f->local, out, len);
    out[len] = '\0';
    return out;
}

static const char *fx_parse(struct fixture *f, const char *req, enum sp_parse want)
{
    return fx_parse_n(f, req, strlen(req), want);
}

/* A local reply: kind LOCAL, the given bytes. */
static void check_local(const char *req, const char *want, unsigned flags)
{
    struct fixture f;
    const char *got;

    fx_init(&f);
    got = fx_parse(&f, req, SP_PARSE_OK);
    ck_assert_int_eq(f.msg.kind, SP_MSG_LOCAL);
    ck_assert_msg(strcmp(got, want) == 0, "%s: got %s", req, got);
    ck_assert_uint_eq(f.msg.flags, flags);
    fx_fini(&f);
}

START_TEST(local_replies)
{
    check_local("mn\r\n", "MN\r\n", 0);
    check_local("quit\r\n", "", SP_MSG_CLOSE);
    check_local("gat 10\r\n", "END\r\n", 0);
    check_local("stats items\r\n", "SERVER_ERROR stats is not supported by the proxy: "
                                   "statistics are per server; ask each server, or the "
                                   "proxy's stats port\r\n", 0);
    check_local("lru_crawler noreply\r\n", "", 0);
    check_local("bogus\r\n", "ERROR\r\n", 0);
    check_local("get\r\n", "ERROR\r\n", 0);
    check_local("incr k x\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n", 0);
    check_local("incr k x noreply\r\n", "", 0);
    check_local("mg k v b\r\n",
                "CLIENT_ERROR base64 keys (meta flag b) are not supported by the proxy\r\n", 0);
}
END_TEST

/* flush_all and verbosity with bad arguments: memcached 1.6's answers, never forwarded. */
START_TEST(fanout_bad_arguments)
{
    check_local("flush_all abc\r\n", "CLIENT_ERROR invalid exptime argument\r\n", 0);
    check_local("flush_all 5x\r\n", "CLIENT_ERROR invalid exptime argument\r\n", 0);
    check_local("flush_all noreply abc\r\n", "CLIENT_ERROR invalid exptime argument\r\n", 0);
    check_local("flush_all abc noreply\r\n", "", 0);
    check_local("flush_all 1 2 3\r\n", "ERROR\r\n", 0);
    check_local("verbosity\r\n", "ERROR\r\n", 0);
    check_local("verbosity 1 2 3\r\n", "ERROR\r\n", 0);
    check_local("verbosity abc\r\n", "CLIENT_ERROR bad command line format\r\n", 0);
    check_local("verbosity -1\r\n", "CLIENT_ERROR bad command line format\r\n", 0);
    check_local("verbosity noreply\r\n", "", 0);
}
END_TEST

/*
 * A request for every server, split to two and merged from r0 and r1: each server's line must
 * be `line`, the client's answer `want`.
 */
static void check_fanout(const char *req, const char *line, const char *r0, const char *r1,
                         const char *want)
{
    static const uint32_t fok[] = { 0, 1 };
    struct fixture f;
    struct evbuffer *out[2] = { evbuffer_new(), evbuffer_new() };
    struct evbuffer *rep[2] = { evbuffer_new(), evbuffer_new() };
    struct evbuffer *res = evbuffer_new();

    fx_init(&f);
    ck_assert_str_eq(fx_parse(&f, req, SP_PARSE_OK), "");
    ck_assert_int_eq(f.msg.kind, SP_MSG_ALL);
    ck_assert_uint_eq(f.msg.nkeys, 0);
    ck_assert_uint_eq(f.msg.flags, 0); /* servers answer even a noreply request */
    ck_assert_int_eq(P->split(&f.msg, f.in, NULL, fok, 2, out, NULL), 0);
    for (int i = 0; i < 2; i++) {
        evbuffer_add(out[i], "", 1);
        ck_assert_msg(strcmp((const char *)evbuffer_pullup(out[i], -1), line) == 0,
                      "%s: server %d got %s", req, i, (const char *)evbuffer_pullup(out[i], -1));
    }
    evbuffer_add(rep[0], r0, strlen(r0));
    evbuffer_add(rep[1], r1, strlen(r1));
    P->merge(f.msg.cmd, fok, 2, NULL, rep, 2, NULL, res);
    evbuffer_add(res, "", 1);
    ck_assert_msg(strcmp((const char *)evbuffer_pullup(res, -1), want) == 0, "%s: got %s", req,
                  (const char *)evbuffer_pullup(res, -1));
    for (int i = 0; i < 2; i++) {
        evbuffer_free(out[i]);
        evbuffer_free(rep[i]);
    }
    evbuffer_free(res);
    fx_fini(&f);
}

#define REFUSED "SERVER_ERROR Connection refused\r\n"

START_TEST(fanout_version)
{
    check_fanout("version\r\n", "version\r\n", "VERSION 1.6.10\r\n", "VERSION 1.6.9\r\n",
                 "VERSION 1.6.9\r\n");
    check_fanout("version x y\n", "version\r\n", "VERSION 1.4.5\r\n", "VERSION 1.6.18\r\n",
                 "VERSION 1.4.5\r\n");
    /* servers that fail are left out; none left: the first one's failure */
    check_fanout("version\r\n", "version\r\n", REFUSED, "VERSION 1.6.18\r\n",
                 "VERSION 1.6.18\r\n");
    check_fanout("version\r\n", "version\r\n", "VERSION 1.6.18\r\n", "ERROR\r\n",
                 "VERSION 1.6.18\r\n");
    check_fanout("version\r\n", "version\r\n", REFUSED, "SERVER_ERROR Connection timed out\r\n",
                 REFUSED);
    check_fanout("version\r\n", "version\r\n", "STORED\r\n", REFUSED,
                 "SERVER_ERROR unexpected reply from server to version\r\n");
    check_fanout("version\r\n", "version\r\n", "", "",
                 "SERVER_ERROR no reply from server\r\n");
}
END_TEST

START_TEST(fanout_flush_all_and_verbosity)
{
    check_fanout("flush_all\r\n", "flush_all\r\n", "OK\r\n", "OK\r\n", "OK\r\n");
    check_fanout("flush_all 10\n", "flush_all 10\r\n", "OK\r\n", "OK\r\n", "OK\r\n");
    check_fanout("flush_all -1 7\r\n", "flush_all -1\r\n", "OK\r\n", "OK\r\n", "OK\r\n");
    check_fanout("flush_all 0 noreply\r\n", "flush_all 0\r\n", "OK\r\n", "OK\r\n", "");
    check_fanout("flush_all noreply\r\n", "flush_all\r\n", "OK\r\n", REFUSED, "");
    check_fanout("verbosity 1\r\n", "verbosity 1\r\n", "OK\r\n", "OK\r\n", "OK\r\n");
    check_fanout("verbosity 1 noreply\r\n", "verbosity 1\r\n", "OK\r\n", "OK\r\n", "");
    /* the first failure in the pool's order */
    check_fanout("flush_all\r\n", "flush_all\r\n", "OK\r\n", REFUSED, REFUSED);
    check_fanout("flush_all\r\n", "flush_all\r\n", "CLIENT_ERROR flush_all not allowed\r\n",
                 REFUSED, "CLIENT_ERROR flush_all not allowed\r\n");
    check_fanout("verbosity 2\r\n", "verbosity 2\r\n", "OK\r\n", "VERSION 1\r\n",
                 "SERVER_ERROR unexpected reply from server to verbosity\r\n");
}
END_TEST

static int version_cmp(const char *a, const char *b)
{
    int c = sp_mc_version_cmp(a, strlen(a), b, strlen(b));

    return (c > 0) - (c < 0);
}

START_TEST(version_order)
{
    static const struct { const char *a, *b; int want; } cases[] = {
        { "1.6.9", "1.6.10", -1 },          /* numbers, not bytes */
        { "1.6.18", "1.6.18", 0 },
        { "1.4.5", "1.6.0", -1 },
        { "2.0.0", "1.99.99", 1 },
        { "1.6", "1.6.0", -1 },             /* a prefix is lower */
        { "1.6.010", "1.6.9", 1 },          /* leading zeros do not count */
        { "1.6.9", "1.6.9-rc1", -1 },       /* a suffix compares after the numbers */
        { "1.6.9-rc1", "1.6.10", -1 },
        { "1.6.9-a", "1.6.9-b", -1 },
        { "1.6.9.", "1.6.9", 1 },
        { "unknown", "0.1", -1 },           /* no number at all: lowest */
        { "99999999999999999999999.1", "99999999999999999999998.2", 1 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(version_cmp(cases[i].a, cases[i].b) == cases[i].want, "%s vs %s",
                      cases[i].a, cases[i].b);
        ck_assert_msg(version_cmp(cases[i].b, cases[i].a) == -cases[i].want, "%s vs %s",
                      cases[i].b, cases[i].a);
    }
}
END_TEST

START_TEST(framing_lost)
{
    struct fixture f;
    char line[3000];

    fx_init(&f);
    memset(line, 'x', sizeof(line));
    ck_assert_str_eq(fx_parse_n(&f, line, sizeof(line), SP_PARSE_ERROR),
                     "CLIENT_ERROR line too long (over 2048 bytes) at byte 0\r\n");
    fx_fini(&f);
}
END_TEST

/* Routing of a forwarded request: kind, flags, and its keys as "k1 k2 ...". */
static void check_route(const char *req, enum sp_msg_kind kind, unsigned flags, const char *keys)
{
    struct fixture f;
    char got[512];
    size_t n = 0;
    const unsigned char *p;

    fx_init(&f);
    ck_assert_str_eq(fx_parse(&f, req, SP_PARSE_OK), "");
    ck_assert_int_eq(f.msg.kind, kind);
    ck_assert_uint_eq(f.msg.flags, flags);
    p = evbuffer_pullup(f.in, -1);
    got[0] = '\0';
    for (size_t i = 0; i < f.msg.nkeys; i++)
        n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%.*s", i ? " " : "",
                              (int)f.msg.keys[i].len, (const char *)p + f.msg.keys[i].off);
    ck_assert_msg(strcmp(got, keys) == 0, "%s: keys %s", req, got);
    fx_fini(&f);
}

START_TEST(routing)
{
    check_route("get a\r\n", SP_MSG_MULTI, 0, "a");
    check_route("gets a bb a\r\n", SP_MSG_MULTI, 0, "a bb a");
    check_route("gats 100 x y\r\n", SP_MSG_MULTI, 0, "x y");
    check_route("set k 1 2 3\r\nabc\r\n", SP_MSG_FORWARD, 0, "k");
    check_route("set k 1 2 3 noreply\r\nabc\r\n", SP_MSG_FORWARD, SP_MSG_NOREPLY, "k");
    check_route("cas k 1 2 3 4 noreply\r\nabc\r\n", SP_MSG_FORWARD, SP_MSG_NOREPLY, "k");
    check_route("delete k noreply\r\n", SP_MSG_FORWARD, SP_MSG_NOREPLY, "k");
    check_route("incr k 1\r\n", SP_MSG_FORWARD, 0, "k");
    check_route("touch k 10 noreply\r\n", SP_MSG_FORWARD, SP_MSG_NOREPLY, "k");
    check_route("mg k v k O1\r\n", SP_MSG_FORWARD, 0, "k");
    check_route("ms k 2 T10\r\nhi\r\n", SP_MSG_FORWARD, 0, "k");
    check_route("md k I\r\n", SP_MSG_FORWARD, 0, "k");
    check_route("ma k MD\r\n", SP_MSG_FORWARD, 0, "k");
    check_route("me k\r\n", SP_MSG_FORWARD, 0, "k");
}
END_TEST

/* Splits `req` with fragments of keys as `fok` into two outputs; returns them and the memo. */
static void split(const char *req, const uint32_t *fok, bool flat, char out_text[2][256],
                  struct evbuffer *memo)
{
    struct fixture f;
    struct evbuffer *out[2] = { evbuffer_new(), evbuffer_new() };

    fx_init(&f);
    ck_assert_str_eq(fx_parse(&f, req, SP_PARSE_OK), "");
    ck_assert_int_eq(f.msg.kind, SP_MSG_MULTI);
    ck_assert_int_eq(P->split(&f.msg, f.in, flat ? evbuffer_pullup(f.in, -1) : NULL, fok, 2, out,
                              memo), 0);
    for (int i = 0; i < 2; i++) {
        size_t n = evbuffer_get_length(out[i]);

        ck_assert_uint_lt(n, 256);
        evbuffer_remove(out[i], out_text[i], n);
        out_text[i][n] = '\0';
        evbuffer_free(out[i]);
    }
    fx_fini(&f);
}

/* A quiet request goes out with "mn" behind it, and its cmd says so. */
START_TEST(quiet_requests_forwarded_with_mn)
{
    static const char *const reqs[] = { "mg k v q\r\n", "ms k 2 q T0\r\nhi\r\n", "md k q\n" };

    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct fixture f;
        char body[64];
        size_t n;

        fx_init(&f);
        ck_assert_str_eq(fx_parse(&f, reqs[i], SP_PARSE_OK), "");
        ck_assert_int_eq(f.msg.kind, SP_MSG_FORWARD);
        ck_assert_ptr_nonnull(f.msg.body);
        ck_assert_uint_ne(f.msg.cmd, SP_CMD_NONE);
        n = evbuffer_get_length(f.msg.body);
        ck_assert_uint_lt(n, sizeof(body));
        evbuffer_copyout(f.msg.body, body, n);
        body[n] = '\0';
        ck_assert_uint_eq(n, strlen(reqs[i]) + 4);
        ck_assert_int_eq(memcmp(body, reqs[i], strlen(reqs[i])), 0);
        ck_assert_str_eq(body + strlen(reqs[i]), "mn\r\n");
        ck_assert_uint_eq(f.msg.keys[0].off, 3);
        fx_fini(&f);
    }
}
END_TEST

/*
 * Frames `stream` as replies to quiet requests (cmd of `req`), fed one byte at a time; returns
 * "len+extra" per reply.
 */
static void quiet_replies(const char *req, const char *stream, const char *want)
{
    struct fixture f;
    void *st = calloc(1, P->server_state_size);
    struct evbuffer *b = evbuffer_new();
    char got[256] = "";
    size_t used = 0, n = strlen(stream);

    fx_init(&f);
    ck_assert_str_eq(fx_parse(&f, req, SP_PARSE_OK), "");
    P->server_init(st);
    for (size_t i = 0; i < n; i++) {
        struct sp_reply r;
        enum sp_parse rc;

        evbuffer_add(b, stream + i, 1);
        while ((rc = P->parse_reply(st, b, f.msg.cmd, false, &r)) == SP_PARSE_OK) {
            used += (size_t)snprintf(got + used, sizeof(got) - used, "%zu+%zu%s ", r.len,
                                     r.extra, r.is_error ? "e" : "");
            evbuffer_drain(b, r.len + r.extra);
        }
        if (rc == SP_PARSE_ERROR) {
            used += (size_t)snprintf(got + used, sizeof(got) - used, "ERROR");
            break;
        }
    }
    ck_assert_msg(strcmp(got, want) == 0, "%s: got %s", stream, got);
    P->server_fini(st);
    free(st);
    evbuffer_free(b);
    fx_fini(&f);
}

START_TEST(quiet_replies_end_at_mn)
{
    quiet_replies("mg k v q\r\n", "MN\r\nVA 2 f1\r\nhi\r\nMN\r\nMN\r\n", "0+4 13+4 0+4 ");
    quiet_replies("md k q\r\n", "NF\r\nMN\r\nCLIENT_ERROR bad\r\nMN\r\n", "4+4 18+4e ");
    quiet_replies("mg k v q\r\n", "EN\r\nHD\r\n", "ERROR");
}
END_TEST

START_TEST(split_fragments)
{
    static const uint32_t fok[] = { 0, 1, 0, 1 };
    char out[2][256];
    struct evbuffer *memo = evbuffer_new();

    for (int flat = 0; flat < 2; flat++) {
        split("get a bb ccc d\r\n", fok, flat, out, memo);
        ck_assert_str_eq(out[0], "get a ccc\r\n");
        ck_assert_str_eq(out[1], "get bb d\r\n");
        ck_assert_uint_eq(evbuffer_get_length(memo), 4 + 1 + 2 + 3 + 1);
        ck_assert_int_eq(memcmp(evbuffer_pullup(memo, -1), "\001a\002bb\003ccc\001d", 11), 0);
        evbuffer_drain(memo, evbuffer_get_length(memo));
        split("  gat  -1  a bb ccc d\n", fok, flat, out, memo);
        ck_assert_str_eq(out[0], "  gat  -1 a ccc\r\n");
        ck_assert_str_eq(out[1], "  gat  -1 bb d\r\n");
        evbuffer_drain(memo, evbuffer_get_length(memo));
    }
    evbuffer_free(memo);
}
END_TEST

/* Merges r0 and r1 for `req` split as fok (with parse_reply's parts when use_parts). */
static char *merge(const char *req, const uint32_t *fok, const char *r0, const char *r1,
                   bool use_parts)
{
    struct fixture f;
    struct evbuffer *out[2] = { evbuffer_new(), evbuffer_new() };
    struct evbuffer *rep[2] = { evbuffer_new(), evbuffer_new() };
    struct evbuffer *memo = evbuffer_new(), *res = evbuffer_new();
    const char *text[2] = { r0, r1 };
    struct sp_part parts[16];
    size_t k[2] = { 0, 0 }, nkeys;
    bool all = use_parts;
    char *s;

    fx_init(&f);
    ck_assert_str_eq(fx_parse(&f, req, SP_PARSE_OK), "");
    nkeys = f.msg.nkeys;
    ck_assert_int_eq(P->split(&f.msg, f.in, NULL, fok, 2, out, memo), 0);
    for (int i = 0; i < 2; i++) {
        void *st = calloc(1, P->server_state_size);
        struct sp_reply r;

        P->server_init(st);
        evbuffer_add(rep[i], text[i], strlen(text[i]));
        ck_assert_int_eq(P->parse_reply(st, rep[i], SP_CMD_NONE, true, &r), SP_PARSE_OK);
        ck_assert_uint_eq(r.len, strlen(text[i]));
        /* as the core's record_parts: element k of fragment i is its k-th key's */
        for (size_t j = 0; j < nkeys && all; j++) {
            if (fok[j] != (uint32_t)i)
                continue;
            if (k[i] == r.nparts)
                all = false;
            else
                parts[j] = r.parts[k[i]++];
        }
        if (k[i] != r.nparts)
            all = false;
        P->server_fini(st);
        free(st);
    }
    P->merge(f.msg.cmd, fok, nkeys, all ? parts : NULL, rep, 2, memo, res);
    evbuffer_add(res, "", 1);
    s = strdup((const char *)evbuffer_pullup(res, -1));
    for (int i = 0; i < 2; i++) {
        evbuffer_free(out[i]);
        evbuffer_free(rep[i]);
    }
    evbuffer_free(memo);
    evbuffer_free(res);
    fx_fini(&f);
    return s;
}

static void check_merge(const char *req, const uint32_t *fok, const char *r0, const char *r1,
                        const char *want)
{
    for (int use_parts = 0; use_parts < 2; use_parts++) {
        char *got = merge(req, fok, r0, r1, use_parts);

        ck_assert_msg(strcmp(got, want) == 0, "%s (parts %d): got %s", req, use_parts, got);
        free(got);
    }
}

#define VA "VALUE a 0 1\r\nA\r\n"
#define VB "VALUE b 1 2 7\r\nBB\r\n"
#define VC "VALUE c 0 3\r\n\r\nC\r\n"

START_TEST(merge_in_key_order)
{
    static const uint32_t abc[] = { 0, 1, 0 };     /* a, c on fragment 0; b on 1 */
    static const uint32_t abca[] = { 0, 1, 0, 0 }; /* get a b c a */

    check_merge("get a b c\r\n", abc, VA VC "END\r\n", VB "END\r\n", VA VB VC "END\r\n");
    check_merge("get a b c\r\n", abc, VC "END\r\n", VB "END\r\n", VB VC "END\r\n");
    check_merge("get a b c\r\n", abc, VA "END\r\n", "END\r\n", VA "END\r\n");
    check_merge("get a b c\r\n", abc, "END\r\n", "END\r\n", "END\r\n");
    check_merge("get a b c a\r\n", abca, VA VC VA "END\r\n", VB "END\r\n",
                VA VB VC VA "END\r\n");
    check_merge("get a b c a\r\n", abca, VC "END\r\n", VB "END\r\n", VB VC "END\r\n");
}
END_TEST

START_TEST(merge_errors)
{
    static const uint32_t abc[] = { 0, 1, 0 };

    /* a failed fragment's error is the answer: the first in key order */
    check_merge("get a b c\r\n", abc, VA "END\r\n", "SERVER_ERROR Connection refused\r\n",
                "SERVER_ERROR Connection refused\r\n");
    check_merge("get a b c\r\n", abc, "SERVER_ERROR x\r\n", "SERVER_ERROR y\r\n",
                "SERVER_ERROR x\r\n");
    /* an item for a key not asked, or out of order: not an answer to this request */
    check_merge("get a b c\r\n", abc, "VALUE z 0 1\r\nZ\r\nEND\r\n", "END\r\n",
                "SERVER_ERROR unexpected reply from server to a split get\r\n");
    check_merge("get a b c\r\n", abc, VC VA "END\r\n", VB "END\r\n",
                "SERVER_ERROR unexpected reply from server to a split get\r\n");
}
END_TEST

START_TEST(reply_parts_and_errors)
{
    void *st = calloc(1, P->server_state_size);
    struct evbuffer *b = evbuffer_new(), *out = evbuffer_new();
    struct sp_reply r;
    char text[128];
    size_t n;

    P->server_init(st);
    evbuffer_add_printf(b, VA VB "END\r\nSERVER_ERROR busy\r\n");
    ck_assert_int_eq(P->parse_reply(st, b, SP_CMD_NONE, true, &r), SP_PARSE_OK);
    ck_assert_uint_eq(r.nparts, 2);
    ck_assert_uint_eq(r.parts[1].off, strlen(VA));
    ck_assert_uint_eq(r.parts[1].len, strlen(VB));
    ck_assert(!r.is_error);
    evbuffer_drain(b, r.len);
    ck_assert_int_eq(P->parse_reply(st, b, SP_CMD_NONE, false, &r), SP_PARSE_OK);
    ck_assert(r.is_error);
    ck_assert_uint_eq(r.nparts, 0);
    P->server_fini(st);
    free(st);
    ck_assert_uint_eq(P->server_hello(NULL, out), 0);
    P->error_reply(out, "Connection\r\nrefused");
    n = evbuffer_remove(out, text, sizeof(text) - 1);
    text[n] = '\0';
    ck_assert_str_eq(text, "SERVER_ERROR Connection  refused\r\n");
    sp_reason_coded(text, sizeof(text), "NOAUTH", "who?");
    P->error_reply(out, text);
    n = evbuffer_remove(out, text, sizeof(text) - 1);
    text[n] = '\0';
    ck_assert_str_eq(text, "SERVER_ERROR NOAUTH who?\r\n");
    evbuffer_free(b);
    evbuffer_free(out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proto_memcache");
    TCase *t = tcase_create("core");

    tcase_add_test(t, local_replies);
    tcase_add_test(t, framing_lost);
    tcase_add_test(t, fanout_bad_arguments);
    tcase_add_test(t, fanout_version);
    tcase_add_test(t, fanout_flush_all_and_verbosity);
    tcase_add_test(t, version_order);
    tcase_add_test(t, routing);
    tcase_add_test(t, quiet_requests_forwarded_with_mn);
    tcase_add_test(t, quiet_replies_end_at_mn);
    tcase_add_test(t, split_fragments);
    tcase_add_test(t, merge_in_key_order);
    tcase_add_test(t, merge_errors);
    tcase_add_test(t, reply_parts_and_errors);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
