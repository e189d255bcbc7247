/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool whose keys move (online resharding, `migrate_from:`, docs/resharding.md).
 *
 * The pool's placement (eject.c) is where keys go: the target layout.  The migration keeps the
 * source layout beside it - its servers (those named in both layouts are the pool's own objects)
 * and its placement - and, with the proxy's state (survey.c), decides for each request:
 *   unknown, ready  nothing is read from the pool's clients (client.c pauses them): until the
 *                   first survey, and while every proxy gets ready, no key that moves may be
 *                   touched by this proxy;
 *   wait            every key is served by its SOURCE owner (as the proxies on the old file do);
 *                   nothing moves;
 *   armed           every key is served by its TARGET owner; a key whose owner changes is first
 *                   moved there from its source owner (lib/move.h: taken out under a lock,
 *                   restored, deleted; never blocking a server as MIGRATE would), so the request
 *                   runs where the key is.  Keys that do not move take today's path.
 * A request that waits for a move is parked with its bytes (req->resend) and sent once its moves
 * are answered.  A client's requests are sent in the order it sent them: once one is parked, the
 * client's next ones are parked behind it (even those on keys that do not move), so no request
 * overtakes an earlier one of the same client.  A move that fails leaves the key where it was
 * (the source deletes it only once the target has it) and the request gets an error naming why;
 * a key already on the target (a conflict) is served from there: the target's copy stands, the
 * source's is set aside.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "deliver.h"
#include "hold.h"
#include "layout.h"
#include "migration.h"
#include "move.h"
#include "placement.h"
#include "pool.h"
#include "proto.h"
#include "report/log.h"
#include "req.h"
#include "retire.h"
#include "sconn.h"
#include "server.h"

/* ---- the source layout ---- */

/* The server called `name` among the target layout's, or NULL. */
static struct sp_server *target_server(struct sp_server *const *servers, size_t n,
                                       const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(servers[i]->name, name) == 0)
            return servers[i];
    }
    return NULL;
}

/* The source layout's servers: the target's where the names agree, else made here. */
static int mig_servers(struct sp_migration *m, const struct sp_conf_pool *src,
                       struct sp_server *const *servers, size_t nservers, char *err,
                       size_t errlen)
{
    m->src = calloc(src->nservers ? src->nservers : 1, sizeof(*m->src));
    m->src_own = calloc(src->nservers ? src->nservers : 1, sizeof(*m->src_own));
    if (m->src == NULL || m->src_own == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < src->nservers; i++) {
        struct sp_server *s = target_server(servers, nservers, src->servers[i].name);

        if (s == NULL) {
            s = sp_server_new(m->pool, &src->servers[i], (unsigned)i, err, errlen);
            if (s == NULL)
                return -1;
            s->source_only = true;
            m->src_own[i] = true;
        }
        m->src[i] = s;
        m->nsrc = i + 1;
    }
    return 0;
}

/* Do two layouts hash keys alike (the same hash function and hash tag)? */
static bool same_hash(const struct sp_conf_pool *a, const struct sp_conf_pool *b)
{
    const char *ha = a->hash != NULL ? a->hash : SP_CONF_DEFAULT_HASH;
    const char *hb = b->hash != NULL ? b->hash : SP_CONF_DEFAULT_HASH;

    return strcmp(ha, hb) == 0 && strcmp(a->hash_tag, b->hash_tag) == 0;
}

struct sp_migration *sp_mig_prepare(struct sp_pool *pool, const struct sp_registry *reg,
                                    const struct sp_conf_pool *cp,
                                    struct sp_server *const *servers, char *err, size_t errlen)
{
    const struct sp_conf_pool *src = cp->migrate_from;
    struct sp_migration *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->pool = pool;
    m->refs = 1; /* the pool's */
    m->plan = sp_conf_plan_id(cp);
    m->src_layout = sp_conf_layout_id(src);
    m->dst_layout = sp_conf_layout_id(cp);
    m->same_hash = same_hash(src, cp);
    TAILQ_INIT(&m->parked);
    if (mig_servers(m, src, servers, cp->nservers, err, errlen) < 0 ||
        sp_placement_build(reg, src, m->src, &m->place, err, errlen) < 0) {
        sp_mig_discard(m);
        return NULL;
    }
    return m;
}

void sp_mig_discard(struct sp_migration *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nsrc; i++) {
        if (m->src_own[i])
            sp_server_free(m->src[i]); /* never used: nothing in flight */
    }
    free(m->src);
    free(m->src_own);
    sp_placement_free(&m->place);
    free(m);
}

int sp_mig_attach(struct sp_migration *m, const struct sp_migration *was)
{
    /* The same migration again (a reload that changed something else): where it got stays. */
    m->state = was != NULL && was->plan == m->plan ? was->state : SP_MIG_UNKNOWN;
    return sp_survey_start(m);
}

/* Drops a reference; the last one frees the object (survey requests and parked requests
   in flight hold one each, so a migration a reload removed lives until they are answered). */
void sp_mig_unref(struct sp_migration *m)
{
    if (--m->refs > 0)
        return;
    free(m->blocked);
    free(m);
}

void sp_mig_free(struct sp_migration *m)
{
    if (m == NULL)
        return;
    sp_survey_stop(m);
    m->dead = true;
    for (size_t i = 0; i < m->nsrc; i++) {
        if (m->src_own[i])
            sp_retire_server(m->src[i]); /* answers what is in flight, then goes */
    }
    free(m->src);
    free(m->src_own);
    m->src = NULL;
    m->nsrc = 0;
    sp_placement_free(&m->place);
    sp_mig_unref(m);
}

/* ---- routing ---- */

int sp_mig_source_index(struct sp_migration *m, const void *key, size_t len)
{
    return m->place.placer != NULL ? sp_placer_locate(m->place.placer, key, len) : -1;
}

struct sp_server *sp_mig_owners(struct sp_migration *m, const void *key, size_t len,
                                int *source)
{
    struct sp_pool *pool = m->pool;
    struct sp_placer *target = pool->place.placer;
    int idx;

    if (target == NULL || m->place.placer == NULL) {
        *source = -1;
        return NULL;
    }
    if (m->same_hash) {
        /* Both layouts hash alike (servers added or removed): one hash places the key twice. */
        uint64_t h = sp_placer_hash(target, key, len);

        idx = sp_placer_locate_hash(target, h);
        *source = sp_placer_locate_hash(m->place.placer, h);
    } else {
        idx = sp_placer_locate(target, key, len);
        *source = sp_placer_locate(m->place.placer, key, len);
    }
    return idx >= 0 ? pool->servers[idx] : NULL;
}


struct sp_server *sp_mig_source(struct sp_migration *m, const void *key, size_t len)
{
    int idx = sp_mig_source_index(m, key, len);

    return idx >= 0 ? m->src[idx] : NULL;
}

/* ---- parked requests ---- */

/* The client a request (or the request a fragment is of) belongs to, NULL when gone. */
static struct sp_client *req_client(const struct sp_req *req)
{
    return req->parent != NULL ? req->parent->client : req->client;
}

void sp_mig_park(struct sp_migration *m, struct sp_req *req)
{
    struct sp_client *cl = req->client;

    req->park_owner = (uintptr_t)cl;
    req->park_mig = m;
    TAILQ_INSERT_TAIL(&m->parked, req, sq);
    m->nparked++;
    m->refs++;
    cl->busy->nparked++;
}

/*
 * One key on its way from its old server to its new one (lib/move.h): TAKE on the old one
 * (again, after a pause, while another mover has it in flight), RESTORE on the new one, then
 * settle on the old one.  The request waiting for it may go as soon as the key is known to be
 * on the new server (or nowhere): the settle follows on its own.
 */
struct sp_move {
    struct sp_migration *m;
    struct sp_req *req;           /* waiting for this move; NULL once told */
    struct sp_server *from, *to;
    unsigned affinity;
    struct evbuffer *key;
    struct evbuffer *dump;
    long long pttl;
    unsigned retries;
    char token[72];
};

/* Pauses before a locked key is asked for again: 1, 2, 4 ... ms, 64 at most, about 10 s in all
   (a lock outlives its dead mover by SP_MOVE_LOCK_MS). */
#define SP_MOVE_RETRY_MAX_MS 64
#define SP_MOVE_RETRIES 170

static void move_take(struct sp_move *mv);

/* The waiting request learns how its key fared (once); a failure fails it with `why`. */
static void move_tell(struct sp_move *mv, const char *why)
{
    struct sp_req *req = mv->req;

    if (req == NULL)
        return;
    mv->req = NULL;
    if (why != NULL && !req->move_failed) {
        req->move_failed = true;
        evbuffer_drain(req->reply, evbuffer_get_length(req->reply));
        evbuffer_add_printf(req->reply, "the key could not be moved to its new server: %s", why);
        mv->m->failures++;
    }
    SP_ASSERT(req->nmoves > 0);
    req->nmoves--;
    sp_mig_release(mv->m);
}

static void move_free(struct sp_move *mv)
{
    struct sp_migration *m = mv->m;

    evbuffer_free(mv->key);
    evbuffer_free(mv->dump);
    free(mv);
    sp_mig_unref(m);
}

/* Sends one step of `mv` to `s`: `build` appends it; its answer goes to on_reply. */
static int move_send(struct sp_move *mv, struct sp_server *s,
                     void (*on_reply)(struct sp_proxy *, struct sp_req *), int step)
{
    struct sp_pool *pool = mv->m->pool;
    const struct sp_proto *proto = pool->proto;
    const void *key = evbuffer_pullup(mv->key, -1);
    size_t klen = evbuffer_get_length(mv->key);
    const char *reason = NULL;
    struct sp_sconn *sc = sp_server_conn(s, mv->affinity, &reason);
    struct sp_req *r = sc != NULL ? sp_req_get(pool->proxy) : NULL;
    struct evbuffer *out;
    size_t before;

    if (r == NULL)
        return -1;
    r->on_reply = on_reply;
    r->owner = mv;
    r->cmd = SP_CMD_NONE;
    out = sp_sconn_out(sc);
    before = evbuffer_get_length(out);
    if (step == 0)
        proto->take_request(out, key, klen, mv->token, SP_MOVE_LOCK_MS);
    else if (step == 1)
        proto->restore_request(out, key, klen, mv->pttl, mv->dump);
    else
        proto->settle_request(out, key, klen, mv->token, (enum sp_settle)(step - 2));
    r->len = evbuffer_get_length(out) - before;
    sp_conn_flush_later(&sc->conn);
    sp_sconn_enqueue(sc, r);
    return 0;
}

/* The settle's answer: the move is over. */
static void settled(struct sp_proxy *proxy, struct sp_req *r)
{
    struct sp_move *mv = r->owner;

    sp_req_put(proxy, r);
    move_free(mv);
}

/* Ends the move on the old server as `how` says (fire and forget: the request went already). */
static void move_settle(struct sp_move *mv, enum sp_settle how)
{
    if (move_send(mv, mv->from, settled, 2 + (int)how) < 0)
        move_free(mv); /* the lock expires by itself */
}

static void restored(struct sp_proxy *proxy, struct sp_req *r)
{
    struct sp_move *mv = r->owner;
    struct sp_migration *m = mv->m;
    char why[SP_REASON_MAX];
    enum sp_move_result res = m->pool->proto->move_result(r->reply, why, sizeof(why));

    sp_req_put(proxy, r);
    if (res == SP_MOVE_DONE) {
        m->moved++;
        move_tell(mv, NULL);
        move_settle(mv, SP_SETTLE_DELETE);
    } else if (res == SP_MOVE_CONFLICT) {
        m->conflicts++;
        sp_log_warn("pool '%s': a key was on both its old and its new server: the new one's "
                    "copy stands, the old one is set aside (%s<key>)", m->pool->conf->name,
                    SP_MOVE_ASIDE_PREFIX);
        move_tell(mv, NULL);
        move_settle(mv, SP_SETTLE_ASIDE);
    } else {
        move_tell(mv, why);
        move_settle(mv, SP_SETTLE_RELEASE);
    }
}

static void retry_take(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    move_take(arg);
}

static void taken(struct sp_proxy *proxy, struct sp_req *r)
{
    struct sp_move *mv = r->owner;
    struct sp_migration *m = mv->m;
    enum sp_take_result res = r->on_reply != NULL && evbuffer_get_length(r->reply) > 0
                                  ? m->pool->proto->take_result(r->reply, mv->dump, &mv->pttl)
                                  : SP_TAKE_ERROR;

    sp_req_put(proxy, r);
    if (res == SP_TAKE_GONE) {
        move_tell(mv, NULL); /* not on the old server: the new one is where it lives */
        move_free(mv);
    } else if (res == SP_TAKE_LOCKED && mv->retries < SP_MOVE_RETRIES) {
        unsigned ms = mv->retries < 6 ? 1u << mv->retries : SP_MOVE_RETRY_MAX_MS;
        struct timeval tv = { 0, (suseconds_t)ms * 1000 };

        mv->retries++;
        if (event_base_once(m->pool->proxy->base, -1, EV_TIMEOUT, retry_take, mv, &tv) < 0) {
            move_tell(mv, "out of memory");
            move_free(mv);
        }
    } else if (res == SP_TAKE_TAKEN) {
        if (move_send(mv, mv->to, restored, 1) < 0) {
            move_tell(mv, "its new server cannot be reached");
            move_settle(mv, SP_SETTLE_RELEASE);
        }
    } else {
        move_tell(mv, res == SP_TAKE_LOCKED ? "another mover kept it in flight too long"
                                            : "its old server refused to hand it over");
        move_free(mv);
    }
}

static void move_take(struct sp_move *mv)
{
    if (move_send(mv, mv->from, taken, 0) < 0) {
        move_tell(mv, "its old server cannot be reached");
        move_free(mv);
    }
}

int sp_mig_move(struct sp_migration *m, struct sp_req *req, struct sp_server *from,
                struct sp_server *to, const void *key, size_t len)
{
    struct sp_client *cl = req_client(req);
    struct sp_move *mv = calloc(1, sizeof(*mv));

    if (mv == NULL || (mv->key = evbuffer_new()) == NULL || (mv->dump = evbuffer_new()) == NULL ||
        evbuffer_add(mv->key, key, len) < 0) {
        if (mv != NULL) {
            if (mv->key != NULL)
                evbuffer_free(mv->key);
            if (mv->dump != NULL)
                evbuffer_free(mv->dump);
        }
        free(mv);
        return -1;
    }
    mv->m = m;
    m->refs++;
    mv->req = req;
    mv->from = from;
    mv->to = to;
    mv->affinity = cl != NULL ? sp_client_affinity(cl) : 0;
    snprintf(mv->token, sizeof(mv->token), "%s-%llu", m->pool->proxy->move_id,
             (unsigned long long)++m->pool->proxy->moves);
    req->park_mig = m;
    req->nmoves++;
    move_take(mv);
    return 0;
}

/* Is `owner` among the first n entries of the blocked list? */
static bool owner_blocked(const struct sp_migration *m, uintptr_t owner)
{
    for (size_t i = 0; i < m->nblocked; i++) {
        if (m->blocked[i] == owner)
            return true;
    }
    return false;
}

static void owner_block(struct sp_migration *m, uintptr_t owner)
{
    if (owner_blocked(m, owner))
        return;
    if (m->nblocked == m->blocked_cap) {
        size_t cap = m->blocked_cap ? m->blocked_cap * 2 : 16;
        uintptr_t *b = realloc(m->blocked, cap * sizeof(*b));

        if (b == NULL)
            return; /* the scan then lets a later request of that owner go: never under OOM */
        m->blocked = b;
        m->blocked_cap = cap;
    }
    m->blocked[m->nblocked++] = owner;
}

/* Sends one parked request (or fragment) to where it goes, or fails it. */
static void park_send(struct sp_migration *m, struct sp_req *req)
{
    struct sp_client *cl = req_client(req);
    struct sp_server *to = req->park_to;
    const char *reason = NULL;
    struct sp_sconn *sc = NULL;

    req->park_to = NULL;
    if (to->nheld == 0 || !sp_hold_enabled(to))
        sc = sp_server_conn(to, cl != NULL ? sp_client_affinity(cl) : 0, &reason);
    if (sc == NULL && sp_hold_enabled(to)) {
        sp_hold_push(to, req, reason);
        return;
    }
    if (sc == NULL) {
        evbuffer_drain(req->resend, evbuffer_get_length(req->resend));
        sp_req_fail(m->pool, req, reason != NULL ? reason : strerror(ENOMEM));
        return;
    }
    evbuffer_add_buffer(sp_sconn_out(sc), req->resend);
    sp_conn_flush_later(&sc->conn);
    sp_sconn_enqueue(sc, req);
}

/* A parked request whose moves are answered: out it goes (each fragment of a split one). */
static void park_release(struct sp_migration *m, struct sp_req *req)
{
    char why[SP_REASON_MAX];

    if (req->move_failed) {
        int got = evbuffer_remove(req->reply, why, sizeof(why) - 1);

        why[got > 0 ? got : 0] = '\0';
        for (uint32_t f = 0; f < req->nfrags; f++)
            evbuffer_drain(req->frags[f]->resend, evbuffer_get_length(req->frags[f]->resend));
        if (req->nfrags == 0) {
            evbuffer_drain(req->resend, evbuffer_get_length(req->resend));
            sp_req_fail(m->pool, req, why);
            return;
        }
        for (uint32_t f = 0, n = req->nfrags; f < n; f++) /* the last one completes req */
            sp_req_fail(m->pool, req->frags[f], why);
        return;
    }
    if (req->nfrags == 0) {
        park_send(m, req);
        return;
    }
    for (uint32_t f = 0, n = req->nfrags; f < n; f++)
        park_send(m, req->frags[f]);
}

void sp_mig_release(struct sp_migration *m)
{
    struct sp_req *req, *next;
    size_t released = 0;

    m->nblocked = 0;
    m->refs++; /* sending may answer (and release) more: keep m until the scan is over */
    for (req = TAILQ_FIRST(&m->parked); req != NULL; req = next) {
        next = TAILQ_NEXT(req, sq);
        if (req->nmoves > 0 || owner_blocked(m, req->park_owner)) {
            owner_block(m, req->park_owner);
            continue;
        }
        TAILQ_REMOVE(&m->parked, req, sq);
        m->nparked--;
        if (req->client != NULL && req->client->busy != NULL) {
            SP_ASSERT(req->client->busy->nparked > 0);
            req->client->busy->nparked--;
        }
        park_release(m, req);
        released++;
    }
    m->refs -= released;
    sp_mig_unref(m);
}
