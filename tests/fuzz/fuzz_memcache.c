/*
 * libFuzzer target for the memcached parsers: client requests through the adapter
 * (proto_memcache.c, which runs the framer and memcached's line rules) and server replies
 * through the reply framer, or as answers to quiet meta requests through the adapter.  Byte 0
 * picks the direction (bit 0), the chain mode (bit 1) and quiet answers (bit 2); byte 1 seeds
 * the split points; the rest is the stream.  The stream is parsed fed whole, in pseudo-random pieces
 * and (up to 512 bytes) a byte at a time: every way must frame the same messages with the same
 * results and the same local replies, and every framed message must keep the contract (lengths
 * within the buffer, keys inside the request and in order, VALUE items tiling their reply).
 * Any difference aborts.  Built as tests/fuzz/README.md shows; without libFuzzer, driven by
 * tests/fuzz/replay.c under `make check`.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "conf.h"
#include "core/proto.h"
#include "memcache/mc.h"
#include "fuzz_target.h"

const char sp_fuzz_name[] = "memcache";
const char *const sp_fuzz_seeds[] = {
    "get a b c\r\n", "gets a\r\n", "gat 10 a b\n", "set k 0 0 5\r\nhello\r\n",
    "cas k 1 2 3 4 noreply\r\nabc\r\n", "delete k 0 noreply\r\n", "incr k 5\r\n", "touch k 1\r\n",
    "mg k v f t\r\n", "ms k 2 T0\r\nhi\r\n", "md k q\r\n", "mn\r\nversion\r\nquit\r\n",
    "set k 0 0 1\r\nxyz\r\n", "stats\r\nflush_all noreply\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n",
    "STORED\r\nNOT_FOUND\r\n42\r\n", "VA 2 f1\r\nhi\r\nEN\r\nHD\r\n", "SERVER_ERROR oom\r\n",
    "VALUE k 5 3 77\r\n\r\n\n\r\nEND\r\nERROR\r\n", "MN\r\nVA 1\r\nx\r\nMN\r\nNF\r\nMN\r\n",
};
const size_t sp_fuzz_nseeds = sizeof(sp_fuzz_seeds) / sizeof(sp_fuzz_seeds[0]);
const char sp_fuzz_alphabet[] = " \r\n0123456789-getsVALUEND\001\0";
const size_t sp_fuzz_alphabet_len = sizeof(sp_fuzz_alphabet) - 1;

struct outcome {
    uint64_t hash;
    size_t messages;
    int failed;
};

static void mix(struct outcome *o, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        o->hash = (o->hash ^ b[i]) * 0x100000001b3ULL;
}

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "fuzz_memcache: %s:%d: %s\n", \
                                                __FILE__, __LINE__, #cond); abort(); } } while (0)

static const struct sp_proto *P = &sp_proto_memcache;

static void request_done(const struct sp_msg *m, struct evbuffer *b, struct evbuffer *local,
                         struct outcome *o)
{
    const struct sp_mc_request *r = m->priv;

    CHECK(m->len > 0 && m->len <= evbuffer_get_length(b));
    CHECK(r->line_len > 0 && r->line_len <= m->len);
    CHECK(!r->has_data || m->len == r->line_len + r->data_len + 2);
    CHECK((m->kind == SP_MSG_LOCAL) == (m->nkeys == 0));
    for (size_t i = 0; i < m->nkeys; i++) {
        CHECK(m->keys[i].len > 0 && m->keys[i].len <= SP_MC_KEY_MAX);
        CHECK(m->keys[i].off + m->keys[i].len < r->line_len);
        CHECK(i == 0 || m->keys[i].off > m->keys[i - 1].off + m->keys[i - 1].len);
        mix(o, &m->keys[i], sizeof(m->keys[i]));
    }
    if (m->kind != SP_MSG_LOCAL)
        CHECK(evbuffer_get_length(local) == 0);
    mix(o, &m->len, sizeof(m->len));
    mix(o, &m->kind, sizeof(m->kind));
    mix(o, &m->flags, sizeof(m->flags));
    mix(o, evbuffer_pullup(local, -1), evbuffer_get_length(local));
}

static void reply_done(const struct sp_mc_reply *p, struct evbuffer *b, struct outcome *o)
{
    size_t at = 0;

    CHECK(p->len > 0 && p->len <= evbuffer_get_length(b));
    for (size_t i = 0; i < p->nelems; i++) {
        CHECK(p->elems[i].off == at && p->elems[i].len > 0); /* items tile the reply's start */
        at += p->elems[i].len;
    }
    CHECK(at <= p->len);
    CHECK(p->nelems == 0 || p->kind == SP_MC_REPLY_VALUES);
    mix(o, p->elems, p->nelems * sizeof(p->elems[0]));
    mix(o, &p->len, sizeof(p->len));
    mix(o, &p->kind, sizeof(p->kind));
    mix(o, &p->is_error, sizeof(p->is_error));
}

static void add_piece(struct evbuffer *b, const uint8_t *d, size_t n, int separate)
{
    if (n == 0)
        return;
    if (separate) {
        struct evbuffer *piece = evbuffer_new();

        evbuffer_add(piece, d, n);
        evbuffer_add_buffer(b, piece);
        evbuffer_free(piece);
    } else {
        evbuffer_add(b, d, n);
    }
}

/* Answers to quiet requests, through the adapter (reply data carries the command id). */
static int quiet_step(void *srv, uint32_t cmd, struct evbuffer *b, struct outcome *o)
{
    struct sp_reply rep;
    int rc = P->parse_reply(srv, b, cmd, false, &rep);

    if (rc == SP_PARSE_OK) {
        CHECK(rep.extra == 4 && rep.len + rep.extra <= evbuffer_get_length(b));
        mix(o, &rep.len, sizeof(rep.len));
        mix(o, &rep.is_error, sizeof(rep.is_error));
        evbuffer_drain(b, rep.len + rep.extra);
    }
    return rc;
}

/* The command id of a quiet mg, as the adapter gives it. */
static uint32_t quiet_cmd(struct sp_proto_client *cl)
{
    struct evbuffer *b = evbuffer_new(), *local = evbuffer_new();
    struct sp_msg m;
    uint32_t cmd;

    evbuffer_add(b, "mg k v q\r\n", 10);
    CHECK(P->parse_request(cl, b, &m, local) == SP_PARSE_OK && m.body != NULL);
    cmd = m.cmd;
    evbuffer_drain(m.body, evbuffer_get_length(m.body));
    evbuffer_free(b);
    evbuffer_free(local);
    return cmd;
}

/* One parse step; returns its result and accounts for a framed message. */
static int step_once(int reply, struct sp_proto_client *cl, struct sp_mc_reply *p,
                     struct evbuffer *b, struct evbuffer *local, struct outcome *o)
{
    struct sp_msg m;
    char err[SP_MC_ERRLEN];
    int rc;

    evbuffer_drain(local, evbuffer_get_length(local));
    if (reply) {
        rc = sp_mc_reply_parse(p, b, err, sizeof(err));
        if (rc == SP_PARSE_OK) {
            reply_done(p, b, o);
            evbuffer_drain(b, p->len);
        } else if (rc == SP_PARSE_ERROR) {
            CHECK(strncmp(err, "Protocol error: ", 16) == 0 && strstr(err, " at byte "));
            mix(o, err, strlen(err));
        }
        return rc;
    }
    rc = P->parse_request(cl, b, &m, local);
    if (rc == SP_PARSE_OK) {
        request_done(&m, b, local, o);
        cl->consumed += m.len;
        evbuffer_drain(b, m.len);
    } else if (rc == SP_PARSE_ERROR) {
        CHECK(evbuffer_get_length(local) > 2);
        mix(o, evbuffer_pullup(local, -1), evbuffer_get_length(local));
    }
    return rc;
}

/* mode 0: requests, 1: replies, 2: answers to quiet requests. */
static void feed(int mode, const uint8_t *d, size_t n, size_t (*step)(size_t, unsigned),
                 unsigned seed, int separate, struct outcome *o)
{
    struct evbuffer *b = evbuffer_new(), *local = evbuffer_new();
    struct sp_conf_pool pool;
    struct sp_proto_client cl;
    struct sp_mc_reply p;
    void *srv = calloc(1, P->server_state_size);
    uint32_t qcmd;
    size_t from = 0;

    memset(o, 0, sizeof(*o));
    o->hash = 0xcbf29ce484222325ULL;
    memset(&pool, 0, sizeof(pool));
    memset(&cl, 0, sizeof(cl));
    cl.pool = &pool;
    cl.state = calloc(1, P->client_state_size);
    CHECK(cl.state != NULL);
    P->parser_init(cl.state);
    ((struct sp_mc_request *)cl.state)->max_retrieval_line = 512;
    sp_mc_reply_init(&p);
    p.want_elems = 1;
    p.max_line = 256;
    p.max_value = 1024;
    CHECK(srv != NULL);
    P->server_init(srv);
    qcmd = quiet_cmd(&cl);
    while (from < n && !o->failed) {
        size_t k = step(from, seed);
        int rc;

        if (k > n - from)
            k = n - from;
        add_piece(b, d + from, k, separate);
        from += k;
        while ((rc = mode == 2 ? quiet_step(srv, qcmd, b, o)
                               : step_once(mode, &cl, &p, b, local, o)) == SP_PARSE_OK)
            o->messages++;
        o->failed = rc == SP_PARSE_ERROR;
    }
    P->parser_fini(cl.state);
    free(cl.state);
    P->server_fini(srv);
    free(srv);
    sp_mc_reply_free(&p);
    evbuffer_free(b);
    evbuffer_free(local);
}

static size_t whole(size_t from, unsigned seed)
{
    (void)from;
    (void)seed;
    return SIZE_MAX;
}

static size_t one_byte(size_t from, unsigned seed)
{
    (void)from;
    (void)seed;
    return 1;
}

static size_t pseudo(size_t from, unsigned seed)
{
    return 1 + ((from * 2654435761u) ^ seed) % 23;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome a, b;
    int reply, separate;
    unsigned seed;

    if (size < 2)
        return 0;
    reply = (data[0] & 1) ? ((data[0] & 4) ? 2 : 1) : 0;
    separate = (data[0] >> 1) & 1;
    seed = data[1];
    data += 2;
    size -= 2;
    feed(reply, data, size, whole, 0, 0, &a);
    feed(reply, data, size, pseudo, seed, separate, &b);
    CHECK(a.hash == b.hash && a.messages == b.messages && a.failed == b.failed);
    if (size <= 512) {
        feed(reply, data, size, one_byte, 0, separate, &b);
        CHECK(a.hash == b.hash && a.messages == b.messages && a.failed == b.failed);
    }
    return 0;
}
