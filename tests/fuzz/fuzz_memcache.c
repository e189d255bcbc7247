/* SPDX-License-Identifier: Apache-2.0 */
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
#include "fuzz.h"
#include "fuzz_feed.h"

const char *const sp_fuzz_seeds[] = {
    "get a b c\r\n", "gets a\r\n", "gat 10 a b\n", "set k 0 0 5\r\nhello\r\n",
    "cas k 1 2 3 4 noreply\r\nabc\r\n", "delete k 0 noreply\r\n", "incr k 5\r\n", "touch k 1\r\n",
    "mg k v f t\r\n", "ms k 2 T0\r\nhi\r\n", "md k q\r\n", "mn\r\nversion\r\nquit\r\n",
    "set k 0 0 1\r\nxyz\r\n", "stats\r\nflush_all noreply\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n",
    "STORED\r\nNOT_FOUND\r\n42\r\n", "VA 2 f1\r\nhi\r\nEN\r\nHD\r\n", "SERVER_ERROR oom\r\n",
    "VALUE k 5 3 77\r\n\r\n\n\r\nEND\r\nERROR\r\n", "MN\r\nVA 1\r\nx\r\nMN\r\nNF\r\nMN\r\n",
};
const size_t sp_fuzz_nseeds = sizeof(sp_fuzz_seeds) / sizeof(sp_fuzz_seeds[0]);
const char sp_fuzz_alphabet[] = " \r\n0123456789-getsVALUEND\001";
const size_t sp_fuzz_prefix = 2;

#define CHECK(cond) SP_FUZZ_CHECK("fuzz_memcache", cond)

static const struct sp_proto *P = &sp_proto_memcache;

static void request_done(const struct sp_msg *m, struct evbuffer *b, struct evbuffer *local,
                         struct fuzz_outcome *o)
{
    const struct sp_mc_request *r = m->priv;

    CHECK(m->len > 0 && m->len <= evbuffer_get_length(b));
    CHECK(r->line_len > 0 && r->line_len <= m->len);
    CHECK(!r->has_data || m->len == r->line_len + r->data_len + 2);
    CHECK((m->kind == SP_MSG_LOCAL || m->kind == SP_MSG_ALL) == (m->nkeys == 0));
    for (size_t i = 0; i < m->nkeys; i++) {
        CHECK(m->keys[i].len > 0 && m->keys[i].len <= SP_MC_KEY_MAX);
        CHECK(m->keys[i].off + m->keys[i].len < r->line_len);
        CHECK(i == 0 || m->keys[i].off > m->keys[i - 1].off + m->keys[i - 1].len);
        fuzz_mix(o, &m->keys[i], sizeof(m->keys[i]));
    }
    if (m->kind != SP_MSG_LOCAL)
        CHECK(evbuffer_get_length(local) == 0);
    fuzz_mix(o, &m->len, sizeof(m->len));
    fuzz_mix(o, &m->kind, sizeof(m->kind));
    fuzz_mix(o, &m->flags, sizeof(m->flags));
    fuzz_mix(o, evbuffer_pullup(local, -1), evbuffer_get_length(local));
}

static void reply_done(const struct sp_mc_reply *p, struct evbuffer *b, struct fuzz_outcome *o)
{
    size_t at = 0;

    CHECK(p->len > 0 && p->len <= evbuffer_get_length(b));
    for (size_t i = 0; i < p->nelems; i++) {
        CHECK(p->elems[i].off == at && p->elems[i].len > 0); /* items tile the reply's start */
        at += p->elems[i].len;
    }
    CHECK(at <= p->len);
    CHECK(p->nelems == 0 || p->kind == SP_MC_REPLY_VALUES);
    fuzz_mix(o, p->elems, p->nelems * sizeof(p->elems[0]));
    fuzz_mix(o, &p->len, sizeof(p->len));
    fuzz_mix(o, &p->kind, sizeof(p->kind));
    fuzz_mix(o, &p->is_error, sizeof(p->is_error));
}

/* Answers to quiet requests, through the adapter (reply data carries the command id). */
static int quiet_step(void *srv, uint32_t cmd, struct evbuffer *b, struct fuzz_outcome *o)
{
    struct sp_reply rep;
    int rc = P->parse_reply(srv, b, cmd, false, &rep);

    if (rc == SP_PARSE_OK) {
        CHECK(rep.extra == 4 && rep.len + rep.extra <= evbuffer_get_length(b));
        fuzz_mix(o, &rep.len, sizeof(rep.len));
        fuzz_mix(o, &rep.is_error, sizeof(rep.is_error));
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
                     struct evbuffer *b, struct evbuffer *local, struct fuzz_outcome *o)
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
            fuzz_mix(o, err, strlen(err));
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
        fuzz_mix(o, evbuffer_pullup(local, -1), evbuffer_get_length(local));
    }
    return rc;
}

/* mode 0: requests, 1: replies, 2: answers to quiet requests. */
static void feed(int mode, const uint8_t *d, size_t n, fuzz_step_fn step,
                 unsigned seed, int separate, struct fuzz_outcome *o)
{
    struct evbuffer *b = evbuffer_new(), *local = evbuffer_new();
    struct sp_conf_pool pool;
    struct sp_proto_client cl;
    struct sp_mc_reply p;
    void *srv = calloc(1, P->server_state_size);
    uint32_t qcmd;
    size_t from = 0;

    fuzz_outcome_init(o);
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
        fuzz_add_piece(b, d + from, k, separate);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int mode;

    if (size < 2)
        return 0;
    mode = (data[0] & 1) ? ((data[0] & 4) ? 2 : 1) : 0;
    fuzz_compare_feeds(feed, mode, (data[0] >> 1) & 1, data[1], data + 2, size - 2);
    return 0;
}
