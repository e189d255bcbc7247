/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multi-key requests (MGET, DEL, MSET, ...): split per server, merge in key order.  A request
 * for every server (memcached's version, flush_all) is the same thing with one "key" per server.
 *
 * Keys are located first.  When they all live on one server the request goes out unchanged, so a
 * one-server multi-key command costs what a single-key one does.  Otherwise the request becomes a
 * parent on the client's queue with one fragment per server; the protocol writes each fragment
 * straight into its server connection's output (moving values, not copying them), and merges the
 * fragments' replies once the last one is in (deliver.c).  Fragment numbers follow the first
 * appearance of a server in the key list, and every array here is reused across requests.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "deliver.h"
#include "flow.h"
#include "forward.h"
#include "hold.h"
#include "keybytes.h"
#include "migration.h"
#include "pool.h"
#include "proto.h"
#include "report/log.h"
#include "report/stats.h"
#include "req.h"
#include "sconn.h"
#include "server.h"

#define NO_FRAG UINT32_MAX

/* A request up to this size is pulled up into one piece: its keys are hashed in place and each
   fragment is copied out of it at once (per-key evbuffer calls cost more than the copy). */
#define SP_MULTIKEY_FLAT_MAX 8192

/* Makes proxy->key_srv hold n entries.  Returns 0, or -1 with *reason. */
static int reserve_key_srv(struct sp_proxy *proxy, size_t n, const char **reason)
{
    int *k, *f;

    if (n <= proxy->key_srv_cap)
        return 0;
    k = realloc(proxy->key_srv, n * sizeof(*k));
    if (k != NULL)
        proxy->key_srv = k;
    f = k != NULL ? realloc(proxy->key_from, n * sizeof(*f)) : NULL;
    if (f == NULL) {
        *reason = strerror(ENOMEM);
        return -1;
    }
    proxy->key_from = f;
    proxy->key_srv_cap = n;
    return 0;
}

/*
 * Where a key goes: the index of its server in the pool (the target layout), or, while a
 * migration waits, in the source layout (route_table's array); -1 with *reason when none.  An
 * armed migration also records in proxy->key_from the source index of a key that moves (-1: it
 * stays).
 */
static int key_route(struct sp_pool *pool, size_t i, const void *key, size_t len,
                     const char **reason)
{
    struct sp_migration *m = pool->mig;
    struct sp_server *s;
    int from;

    if (m != NULL && m->state != SP_MIG_ARMED) {
        from = sp_mig_source_index(m, key, len);
        if (from < 0)
            *reason = strerror(ECONNREFUSED);
        return from;
    }
    s = sp_mig_owners(m, key, len, &from);
    if (s == NULL) {
        *reason = strerror(ECONNREFUSED);
        return -1;
    }
    pool->proxy->key_from[i] = from >= 0 && m->src[from] != s ? from : -1;
    return (int)s->idx;
}

/* The servers key_srv indexes: the source layout's while a migration waits, else the pool's. */
static struct sp_server *const *route_table(const struct sp_pool *pool)
{
    return pool->mig != NULL && pool->mig->state != SP_MIG_ARMED ? pool->mig->src
                                                                 : pool->servers;
}

/* How many servers route_table has. */
static size_t route_count(const struct sp_pool *pool)
{
    return pool->mig != NULL && pool->mig->state != SP_MIG_ARMED ? pool->mig->nsrc
                                                                 : pool->nservers;
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
        if (pool->mig != NULL) {
            proxy->key_srv[i] = key_route(pool, i, key, msg->keys[i].len, reason);
            if (proxy->key_srv[i] < 0)
                return -1;
        } else {
            s = sp_pool_locate(pool, key, msg->keys[i].len, reason);
            if (s == NULL)
                return -1;
            proxy->key_srv[i] = (int)s->idx;
        }
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

/* Creates the fragments and picks a connection for each; a fragment without one records why.
   With `park` they get no connection: each is sent from its own bytes later (migrate.c). */
static int make_frags(struct sp_client *cl, struct sp_req *req, size_t nkeys, bool park)
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
        struct sp_server *server = route_table(pool)[proxy->key_srv[i]];

        if (frag->sconn != NULL || frag->err != NULL || frag->held_on != NULL ||
            frag->park_to != NULL)
            continue; /* this fragment's server is settled */
        if (park) {
            /* Its bytes wait with it until the parent's keys have moved (migrate.c). */
            if (sp_hold_prepare(frag) < 0)
                return -1;
            frag->park_to = server;
            continue;
        }
        /* Behind requests already waiting for this server's master (hold.c), never ahead. */
        if (server->nheld == 0 || !sp_hold_enabled(server))
            frag->sconn = sp_server_conn(server, sp_client_affinity(cl), &frag->err);
        if (frag->sconn == NULL && sp_hold_enabled(server) && sp_hold_prepare(frag) == 0) {
            frag->held_on = server; /* held once its bytes are split off */
            continue;
        }
        if (frag->sconn == NULL) {
            SP_STAT_ADD(pool->st->forward_error, 1);
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

/*
 * An armed migration: moves every key of the request whose owner changes (proxy->key_from) to
 * its new server (sp_mig_move counts them on req).  Returns how many moves were started.
 */
static size_t start_moves(struct sp_client *cl, struct sp_req *req, const struct sp_msg *msg,
                          struct evbuffer *in, const unsigned char *flat, size_t nkeys)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;
    struct sp_migration *m = pool->mig;
    struct sp_key_walk walk;
    size_t n = 0;

    if (msg->kind == SP_MSG_ALL)
        return 0;
    sp_key_walk_init(&walk, in);
    for (size_t i = 0; i < nkeys; i++) {
        const void *key;

        if (proxy->key_from[i] < 0)
            continue;
        key = flat != NULL ? flat + msg->keys[i].off
                           : sp_key_walk_bytes(proxy, &walk, msg->keys[i].off, msg->keys[i].len);
        if (key == NULL || sp_mig_move(m, req, m->src[proxy->key_from[i]],
                                       pool->servers[proxy->key_srv[i]], key,
                                       msg->keys[i].len) < 0) {
            if (!req->move_failed)
                evbuffer_add_printf(req->reply, "a key could not be moved to its new server");
            req->move_failed = true;
        }
        n++;
    }
    return n;
}

/* Parks a request whose keys all go to `to` (its `len` bytes at the head of `in`). */
static void park_whole(struct sp_client *cl, struct sp_req *req, struct sp_server *to,
                       struct evbuffer *in, size_t len)
{
    struct sp_migration *m = cl->pool->mig;

    if (sp_hold_prepare(req) < 0) {
        evbuffer_drain(in, len);
        req->move_failed = true; /* moves may be out: it must wait for them all the same */
        evbuffer_drain(req->reply, evbuffer_get_length(req->reply));
        evbuffer_add_printf(req->reply, "%s", strerror(ENOMEM));
    } else {
        evbuffer_remove_buffer(in, req->resend, len);
    }
    req->len = len;
    cl->busy->inflight += len + SP_REQ_COST;
    req->park_to = to;
    sp_mig_park(m, req);
    sp_mig_release(m);
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
    bool park;

    if (same == 0 && req->memo == NULL)
        req->memo = evbuffer_new(); /* kept with the request object from now on */
    if (same < 0 || (same == 0 && (req->memo == NULL ||
                                   sp_req_reserve(req, (uint32_t)route_count(pool), nkeys) < 0))) {
        evbuffer_drain(in, msg->len);
        SP_STAT_ADD(pool->st->forward_error, 1);
        sp_req_fail(pool, req, reason != NULL ? reason : strerror(ENOMEM));
        return;
    }
    park = pool->mig != NULL && pool->mig->state == SP_MIG_ARMED &&
           (cl->busy->nparked > 0 || start_moves(cl, req, msg, in, flat, nkeys) > 0);
    if (same) {
        if (park)
            park_whole(cl, req, route_table(pool)[proxy->key_srv[0]], in, msg->len);
        else
            sp_forward_to(cl, req, route_table(pool)[proxy->key_srv[0]], in, msg->len);
        return;
    }
    req->nkeys = nkeys;
    req->nfrags = number_frags(proxy, req, nkeys);
    req->npending = req->nfrags;
    if (make_frags(cl, req, nkeys, park) < 0) {
        req->nfrags = 0;
        if (park) { /* moves may be out: the request waits for them, then fails */
            req->move_failed = true;
            evbuffer_drain(req->reply, evbuffer_get_length(req->reply));
            evbuffer_add_printf(req->reply, "%s", strerror(ENOMEM));
            park_whole(cl, req, route_table(pool)[proxy->key_srv[0]], in, msg->len);
            return;
        }
        evbuffer_drain(in, msg->len);
        sp_req_fail(pool, req, strerror(ENOMEM));
        return;
    }
    req->len = msg->len;
    cl->busy->inflight += msg->len + SP_REQ_COST;
    SP_STAT_ADD(pool->st->fragments, req->nfrags);

    /* Connections are settled: now move the bytes.  Nothing below runs another callback. */
    for (uint32_t f = 0; f < req->nfrags; f++) {
        struct sp_req *frag = req->frags[f];

        out[f] = frag->sconn != NULL                             ? sp_sconn_out(frag->sconn)
                 : frag->held_on != NULL || frag->park_to != NULL ? frag->resend
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

        if (park) {
            frag->len = evbuffer_get_length(out[f]);
            continue;
        }
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
            sp_flow_block(frag->sconn, cl);
    }
    if (park) {
        sp_mig_park(pool->mig, req);
        sp_mig_release(pool->mig);
        return;
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
