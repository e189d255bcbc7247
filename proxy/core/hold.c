/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests that wait out a failover instead of failing (Sentinel pools, `failover_hold`).
 *
 * When a server of a Sentinel pool cannot be reached (connect refused, connection lost), a
 * request that never left the proxy has certainly not run anywhere, so it may safely be sent
 * later.  It waits on its server's hold queue, with its own bytes, until
 *   - Sentinel moves the server to a new master (server.c, sp_server_move), or
 *   - a probe connection to the old address succeeds (the master came back, or was restarted),
 * and is then sent in the order it was held; or until it has waited `failover_hold` ms, when it
 * gets the error it would have got at once (its reason, and how long it waited).
 *
 * A request that was written to the old master is never held: it may have run, so it gets
 * today's error (sconn.c).  While a server has held requests, new requests for it join the
 * queue behind them rather than racing ahead on a new connection, so each client's requests
 * reach the server in the order it sent them.  Requests for other servers are not held up; only
 * their replies wait, as they always do, for the replies to earlier requests of the same client.
 *
 * A held request stays in flight for back-pressure (client.c counted it when it was forwarded),
 * so a client that keeps sending to a down shard is paused at its usual limit.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "deliver.h"
#include "hold.h"
#include "pool.h"
#include "replica.h"
#include "report/log.h"
#include "report/stats.h"
#include "req.h"
#include "sconn.h"
#include "server.h"

/* How often expiries run while a server holds, and every how many ticks it is probed (a
   connect to its current address: a master restarted in place comes back without a switch). */
#define SP_HOLD_TICK_MS 100
#define SP_HOLD_PROBE_TICKS 5

static void hold_tick(evutil_socket_t fd, short what, void *arg);

bool sp_hold_enabled(const struct sp_server *s)
{
    const struct sp_pool *pool = s->pool;

    return !s->retired && !s->is_replica && !pool->retired && !pool->proxy->stopping &&
           s->conf != NULL &&
           pool->conf->failover_hold > 0 && sp_conf_pool_is_sentinel(pool->conf);
}

/* The client whose request (or fragment of whose request) `req` is; NULL when gone. */
static struct sp_client *req_owner(const struct sp_req *req)
{
    return req->parent != NULL ? req->parent->client : req->client;
}

static void hold_arm(struct sp_server *s)
{
    struct timeval tv = { 0, SP_HOLD_TICK_MS * 1000 };

    if (s->hold_timer == NULL) {
        s->hold_timer = evtimer_new(s->pool->proxy->base, hold_tick, s);
        if (s->hold_timer == NULL)
            return; /* expiry then waits for the next hold or release: logged by nobody */
    }
    if (!evtimer_pending(s->hold_timer, NULL))
        evtimer_add(s->hold_timer, &tv);
}

/* Starts the server's hold (first request): remembers why, for the log and for expiries. */
static void hold_begin(struct sp_server *s, const char *reason)
{
    if (!TAILQ_EMPTY(&s->held))
        return;
    snprintf(s->hold_reason, sizeof(s->hold_reason), "%s", reason ? reason : "unreachable");
    s->hold_since = sp_loop_usec(s->pool->proxy->base);
    sp_log_notice("pool '%s': server '%s' at %s is unreachable (%s): holding requests that were "
                  "not sent for up to %d ms, waiting for a failover", s->pool->conf->name,
                  s->name, s->addr_text, s->hold_reason, s->pool->conf->failover_hold);
}

/* Marks `req` held from now (once: a request re-held keeps its first deadline). */
static void hold_stamp(struct sp_server *s, struct sp_req *req)
{
    if (req->hold_until == 0)
        req->hold_until = sp_loop_usec(s->pool->proxy->base) +
                          (uint64_t)s->pool->conf->failover_hold * 1000;
    req->held_on = s;
    SP_STAT_ADD(s->st->held, 1);
}

int sp_hold_prepare(struct sp_req *req)
{
    if (req->resend == NULL && (req->resend = evbuffer_new()) == NULL)
        return -1;
    return 0;
}

/* A read a replica may answer goes there instead of waiting (replica.c).  True when sent. */
static bool hold_divert(struct sp_server *s, struct sp_req *req)
{
    struct sp_sconn *sc = sp_replica_conn(s, req);

    if (sc == NULL)
        return false;
    evbuffer_add_buffer(sp_sconn_out(sc), req->resend);
    sp_conn_flush_later(&sc->conn);
    sp_sconn_enqueue(sc, req);
    return true;
}

void sp_hold_push(struct sp_server *s, struct sp_req *req, const char *reason)
{
    SP_ASSERT(req->resend != NULL && req->sconn == NULL && !req->noreply);
    if (hold_divert(s, req))
        return;
    hold_begin(s, reason);
    hold_stamp(s, req);
    TAILQ_INSERT_TAIL(&s->held, req, sq);
    s->nheld++;
    hold_arm(s);
}

void sp_hold_requeue(struct sp_server *s, struct sp_req_q *reqs, const char *reason)
{
    struct sp_req_q keep;
    struct sp_req *req;

    TAILQ_INIT(&keep);
    while ((req = TAILQ_FIRST(reqs)) != NULL) {
        TAILQ_REMOVE(reqs, req, sq);
        if (!hold_divert(s, req))
            TAILQ_INSERT_TAIL(&keep, req, sq);
    }
    if (TAILQ_EMPTY(&keep))
        return;
    hold_begin(s, reason);
    TAILQ_FOREACH(req, &keep, sq) {
        hold_stamp(s, req);
        s->nheld++;
    }
    /* Older than anything already held for the same client: they go first. */
    TAILQ_CONCAT(&keep, &s->held, sq);
    TAILQ_CONCAT(&s->held, &keep, sq);
    hold_arm(s);
}

/* Takes `req` off the hold queue. */
static void hold_remove(struct sp_server *s, struct sp_req *req)
{
    TAILQ_REMOVE(&s->held, req, sq);
    s->nheld--;
    req->held_on = NULL;
}

/* Fails `req` (off the queue): its bytes are dropped, its reply is `reason`. */
static void hold_fail(struct sp_server *s, struct sp_req *req, const char *reason)
{
    hold_remove(s, req);
    evbuffer_drain(req->resend, evbuffer_get_length(req->resend));
    sp_req_fail(s->pool, req, reason);
}

/* The hold ended (queue empty): stops the timer and says how it went. */
static void hold_end(struct sp_server *s, const char *how)
{
    uint64_t now = sp_loop_usec(s->pool->proxy->base);

    if (s->hold_timer != NULL)
        evtimer_del(s->hold_timer);
    sp_log_notice("pool '%s': server '%s': hold over after %llu ms: %s", s->pool->conf->name,
                  s->name, (unsigned long long)((now - s->hold_since) / 1000), how);
}

size_t sp_hold_release(struct sp_server *s)
{
    struct sp_req *req;
    size_t sent = 0;

    while ((req = TAILQ_FIRST(&s->held)) != NULL) {
        struct sp_client *cl = req_owner(req);
        const char *reason = NULL;
        struct sp_sconn *sc = sp_server_conn(s, cl != NULL ? sp_client_affinity(cl) : 0, &reason);

        if (sc == NULL)
            return sent; /* still unreachable: the rest keep waiting, in order */
        hold_remove(s, req);
        evbuffer_add_buffer(sp_sconn_out(sc), req->resend);
        sp_conn_flush_later(&sc->conn);
        sp_sconn_enqueue(sc, req);
        sent++;
    }
    if (sent > 0) {
        char how[SP_ADDR_TEXT_MAX + 48];

        snprintf(how, sizeof(how), "%zu requests sent to %s", sent, s->addr_text);
        hold_end(s, how);
    }
    return sent;
}

void sp_hold_fail_all(struct sp_server *s, const char *reason)
{
    struct sp_req *req;

    while ((req = TAILQ_FIRST(&s->held)) != NULL)
        hold_fail(s, req, reason);
    if (s->hold_timer != NULL) {
        event_free(s->hold_timer);
        s->hold_timer = NULL;
    }
}

/* Fails the held requests whose time is up, with the reason they were held for. */
static void hold_expire(struct sp_server *s, uint64_t now)
{
    struct sp_req *req, *next;
    char why[SP_REASON_MAX + 64];
    size_t n = 0;

    snprintf(why, sizeof(why), "%s (no failover within failover_hold, %d ms)", s->hold_reason,
             s->pool->conf->failover_hold);
    for (req = TAILQ_FIRST(&s->held); req != NULL; req = next) {
        next = TAILQ_NEXT(req, sq);
        if (req->hold_until > now)
            continue;
        hold_fail(s, req, why);
        SP_STAT_ADD(s->st->hold_expired, 1);
        n++;
    }
    if (n > 0 && TAILQ_EMPTY(&s->held)) {
        snprintf(why, sizeof(why), "%zu requests failed after %d ms", n,
                 s->pool->conf->failover_hold);
        hold_end(s, why);
    }
}

static void hold_tick(evutil_socket_t fd, short what, void *arg)
{
    struct sp_server *s = arg;
    const char *reason = NULL;

    (void)fd;
    (void)what;
    if (TAILQ_EMPTY(&s->held))
        return;
    hold_expire(s, sp_loop_usec(s->pool->proxy->base));
    if (TAILQ_EMPTY(&s->held))
        return;
    /* A probe: a connection that comes up releases the queue (sp_hold_on_connected). */
    if (++s->hold_ticks % SP_HOLD_PROBE_TICKS == 0)
        (void)sp_server_conn(s, 0, &reason);
    if (!TAILQ_EMPTY(&s->held))
        hold_arm(s);
}

void sp_hold_on_connected(struct sp_server *s)
{
    if (!TAILQ_EMPTY(&s->held))
        (void)sp_hold_release(s);
}
