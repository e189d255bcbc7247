/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multi-key requests (MGET, DEL, MSET, ...): split per server, merge in key order.  A request
 * for every server (memcached's version, flush_all) is the same thing with one "key" per server.
 *
 * Keys are located first.  When they all live on one server the request goes out unchanged, so a
 * one-server multi-key command costs what a single-key one does.  Otherwise the request becomes a
 * parent on the client's queue with one fragment per server; the protocol writes each fragment
 * straight into its server connection's output (moving values, not copying them), and merges the
 * fragments' replies once the last one is in.  Fragment numbers follow the first appearance of a
 * server in the key list, and every array here is reused across requests.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "report/log.h"

#define NO_FRAG UINT32_MAX

/* A request up to this size is pulled up into one piece: its keys are hashed in place and each
   fragment is copied out of it at once (per-key evbuffer calls cost more than the copy). */
#define SP_MULTIKEY_FLAT_MAX 8192

/* Makes proxy->key_srv hold n entries.  Returns 0, or -1 with *reason. */
static int reserve_key_srv(struct sp_proxy *proxy, size_t n, const char **reason)
{
    int *k;

    if (n <= proxy->key_srv_cap)
        return 0;
    k = realloc(proxy->key_srv, n * sizeof(*k));
    if (k == NULL) {
        *reason = strerror(ENOMEM);
        return -1;
    }
    proxy->key_srv = k;
    proxy->key_srv_cap = n;
    return 0;
}

/* Locates every key into proxy->key_srv; `flat` is NULL or the request's bytes in one piece.
   Returns 1 if all are on one server, 0 if not, -1 with *reason when a key cannot be placed. */
static int locate_keys(struct sp_pool *pool, const struct sp_msg *msg, struct evbuffer *in,
                       const unsigned char *flat, const char **reason)
{
    struct sp_proxy *proxy = pool->proxy;
    struct sp_key_walk walk;
    int same = 1;

    sp_key_walk_init(&walk, in);
    if (reserve_key_srv(proxy, msg->nkeys, reason) < 0)
        return -1;
    for (size_t i = 0; i < msg->nkeys; i++) {
        const void *key = flat != NULL ? flat + msg->keys[i].off
                                       : sp_key_walk_bytes(proxy, &walk, msg->keys[i].off,
                                                           msg->keys[i].len);
        struct sp_server *s;

        if (key == NULL) {
            *reason = strerror(ENOMEM);
            return -1;
        }
        s = sp_pool_locate(pool, key, msg->keys[i].len, reason);
        if (s == NULL)
            return -1;
        proxy->key_srv[i] = (int)s->idx;
        if (proxy->key_srv[i] != proxy->key_srv[0])
            same = 0;
    }
    return same;
}

/*
 * A request for every server: "key" i is server i, so fragment f is server f.  Returns 0 (never
 * "one server": the protocol rewrites such a request and builds its answer in the merge, even
 * from a single server), or -1 with *reason.
 */
static int place_all(struct sp_pool *pool, const char **reason)
{
    if (pool->nservers == 0) {
        *reason = "no server in the pool";
        return -1;
    }
    if (reserve_key_srv(pool->proxy, pool->nservers, reason) < 0)
        return -1;
    for (size_t i = 0; i < pool->nservers; i++)
        pool->proxy->key_srv[i] = (int)i;
    return 0;
}

/* Numbers the fragments (first appearance order) into req->frag_of_key; returns how many. */
static uint32_t number_frags(struct sp_proxy *proxy, struct sp_req *req, size_t nkeys)
{
    uint32_t nfrags = 0;

    for (size_t i = 0; i < nkeys; i++) {
        int s = proxy->key_srv[i];

        if (proxy->srv_frag[s] == NO_FRAG)
            proxy->srv_frag[s] = nfrags++;
        req->frag_of_key[i] = proxy->srv_frag[s];
    }
    for (size_t i = 0; i < nkeys; i++)
        proxy->srv_frag[proxy->key_srv[i]] = NO_FRAG;
    return nfrags;
}

/* Creates the fragments and picks a connection for each; a fragment without one records why. */
static int make_frags(struct sp_client *cl, struct sp_req *req, size_t nkeys)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;

    for (uint32_t f = 0; f < req->nfrags; f++) {
        struct sp_req *frag = sp_req_get(proxy);

        if (frag == NULL) {
            for (uint32_t g = 0; g < f; g++)
                sp_req_put(proxy, req->frags[g]);
            return -1;
        }
        frag->parent = req;
        frag->cmd = req->cmd;
        frag->readonly = req->readonly;
        req->frags[f] = frag;
    }
    for (size_t i = 0; i < nkeys; i++) {
        struct sp_req *frag = req->frags[req->frag_of_key[i]];
        struct sp_server *server = pool->servers[proxy->key_srv[i]];

        if (frag->sconn != NULL || frag->err != NULL || frag->held_on != NULL)
            continue; /* this fragment's server is settled */
        /* Behind requests already waiting for this server's master (hold.c), never ahead. */
        if (server->nheld == 0 || !sp_hold_enabled(server))
            frag->sconn = sp_server_conn(server, sp_client_affinity(cl), &frag->err);
        if (frag->sconn == NULL && sp_hold_enabled(server) && sp_hold_prepare(frag) == 0) {
            frag->held_on = server; /* held once its bytes are split off */
            continue;
        }
        if (frag->sconn == NULL) {
            pool->st->forward_error++;
            if (frag->err == NULL)
                frag->err = strerror(ECONNREFUSED);
        }
    }
    return 0;
}

/* Writes the fragments into out[] (and the merge's memo) and removes the request's msg->len
   bytes from `in`. */
static int split_bytes(struct sp_pool *pool, const struct sp_msg *msg, struct evbuffer *in,
                       const unsigned char *flat, struct sp_req *req, struct evbuffer *const *out)
{
    struct evbuffer *scratch = pool->proxy->scratch;
    const uint32_t *frag_of_key = req->frag_of_key;
    uint32_t nfrags = req->nfrags;
    int rc;

    if (flat != NULL) {
        rc = pool->proto->split(msg, in, flat, frag_of_key, nfrags, out, req->memo);
        evbuffer_drain(in, msg->len);
        return rc;
    }
    /* The protocol consumes what it moves: give it the request alone. */
    evbuffer_remove_buffer(in, scratch, msg->len);
    rc = pool->proto->split(msg, scratch, NULL, frag_of_key, nfrags, out, req->memo);
    evbuffer_drain(scratch, evbuffer_get_length(scratch));
    return rc;
}

void sp_multikey_forward(struct sp_client *cl, struct sp_req *req, const struct sp_msg *msg,
                         struct evbuffer *in)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;
    const char *reason = NULL;
    struct evbuffer **out = proxy->frag_out;
    size_t nfail = 0;
    const unsigned char *flat = msg->len <= SP_MULTIKEY_FLAT_MAX
                                    ? evbuffer_pullup(in, (ev_ssize_t)msg->len) : NULL;
    size_t nkeys = msg->kind == SP_MSG_ALL ? pool->nservers : msg->nkeys;
    int same = msg->kind == SP_MSG_ALL ? place_all(pool, &reason)
                                       : locate_keys(pool, msg, in, flat, &reason);

    if (same == 0 && req->memo == NULL)
        req->memo = evbuffer_new(); /* kept with the request object from now on */
    if (same < 0 || (same == 0 && (req->memo == NULL ||
                                   sp_req_reserve(req, (uint32_t)pool->nservers, nkeys) < 0))) {
        evbuffer_drain(in, msg->len);
        pool->st->forward_error++;
        sp_req_fail(pool, req, reason != NULL ? reason : strerror(ENOMEM));
        return;
    }
    if (same) {
        sp_forward_to(cl, req, pool->servers[proxy->key_srv[0]], in, msg->len);
        return;
    }
    req->nkeys = nkeys;
    req->nfrags = number_frags(proxy, req, nkeys);
    req->npending = req->nfrags;
    if (make_frags(cl, req, nkeys) < 0) {
        req->nfrags = 0;
        evbuffer_drain(in, msg->len);
        sp_req_fail(pool, req, strerror(ENOMEM));
        return;
    }
    req->len = msg->len;
    cl->busy->inflight += msg->len + SP_REQ_COST;
    pool->st->fragments += req->nfrags;

    /* Connections are settled: now move the bytes.  Nothing below runs another callback. */
    for (uint32_t f = 0; f < req->nfrags; f++) {
        struct sp_req *frag = req->frags[f];

        out[f] = frag->sconn != NULL     ? sp_sconn_out(frag->sconn)
                 : frag->held_on != NULL ? frag->resend
                                         : proxy->discard;
        frag->len = evbuffer_get_length(out[f]); /* before; made a length below */
    }
    if (split_bytes(pool, msg, in, flat, req, out) < 0) {
        /* Out of memory half way: the fragment streams may be cut, so they cannot be sent. */
        sp_log_error("pool '%s': splitting a request failed: out of memory", pool->conf->name);
    }
    evbuffer_drain(proxy->discard, evbuffer_get_length(proxy->discard));
    for (uint32_t f = 0; f < req->nfrags; f++) {
        struct sp_req *frag = req->frags[f];
        struct sp_server *held_on = frag->held_on;

        if (held_on != NULL) {
            frag->len = evbuffer_get_length(out[f]);
            frag->held_on = NULL; /* sp_hold_push sets it again */
            sp_hold_push(held_on, frag, frag->err);
            frag->err = NULL;
            continue;
        }
        if (frag->sconn == NULL) {
            nfail++;
            continue;
        }
        frag->len = evbuffer_get_length(out[f]) - frag->len;
        sp_conn_flush_later(&frag->sconn->conn);
        sp_sconn_enqueue(frag->sconn, frag);
        if (evbuffer_get_length(out[f]) > proxy->hwm)
            sp_sconn_block_client(frag->sconn, cl);
    }
    /* Failing the last pending fragment completes (and frees) the parent: stop right there. */
    for (uint32_t f = 0; nfail > 0; f++) {
        struct sp_req *frag = req->frags[f];

        if (frag->sconn == NULL && frag->held_on == NULL) {
            nfail--;
            sp_req_fail(pool, frag, frag->err);
        }
    }
}

/* Keeps the element bounds of fragment `frag`'s reply for its keys, when it has one per key. */
static void record_parts(struct sp_req *parent, const struct sp_req *frag,
                         const struct sp_reply *rep)
{
    uint32_t f = 0;
    size_t k = 0;

    while (f < parent->nfrags && parent->frags[f] != frag)
        f++;
    for (size_t i = 0; i < parent->nkeys; i++) {
        if (parent->frag_of_key[i] != f)
            continue;
        if (k == rep->nparts)
            return; /* fewer elements than keys: the merge sorts it out */
        parent->key_part[i] = rep->parts[k++];
    }
    if (k == rep->nparts)
        parent->nparted++;
}

void sp_multikey_frag_reply(struct sp_proxy *proxy, struct sp_req *frag, struct evbuffer *src,
                            const struct sp_reply *rep)
{
    struct sp_req *parent = frag->parent;

    if (parent->client != NULL && rep->nparts > 0)
        record_parts(parent, frag, rep);
    evbuffer_remove_buffer(src, frag->reply, rep->len);
    frag->done = true;
    sp_multikey_frag_done(proxy, frag);
}

void sp_multikey_frag_done(struct sp_proxy *proxy, struct sp_req *frag)
{
    struct sp_req *parent = frag->parent;
    struct sp_client *cl = parent->client;
    uint32_t nfrags = parent->nfrags;

    if (--parent->npending > 0)
        return;
    if (cl != NULL) {
        /* Element bounds only when every fragment's reply gave them. */
        const struct sp_part *parts = parent->nparted == nfrags ? parent->key_part : NULL;

        for (uint32_t f = 0; f < nfrags; f++)
            proxy->frag_rep[f] = parent->frags[f]->reply;
        evbuffer_drain(parent->reply, evbuffer_get_length(parent->reply));
        cl->pool->proto->merge(parent->cmd, parent->frag_of_key, parent->nkeys, parts,
                               proxy->frag_rep, nfrags, parent->memo, parent->reply);
    }
    for (uint32_t f = 0; f < nfrags; f++)
        sp_req_put(proxy, parent->frags[f]);
    parent->nfrags = 0;
    parent->done = true;
    sp_client_req_done(proxy, parent);
}
