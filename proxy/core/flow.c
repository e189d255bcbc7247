/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow control: who may read, and when they may again.  Three mechanisms, one home:
 *
 *   backlog  A client stops being read while its requests in flight or its unwritten replies
 *            exceed the high watermark, and is read again below half of it (hysteresis).
 *   block    A client that filled a server connection's output past the watermark stops being
 *            read until that output drained (the client waits on the connection's list).
 *   stall    A server connection stops reading while a client it answers has more than
 *            SP_STALL_FACTOR watermarks of replies unread: replies to requests already sent
 *            cannot be refused, so that bounds a slow reader's memory.  The time stalled does not
 *            count against the waiting requests' timeouts; a reader that stalls a connection for
 *            the whole stall limit is closed, so the other clients' replies flow again.
 *
 * Everything that lets a connection go again resumes it from the flusher (sp_conn_resume_later:
 * the client's on_resume reads and forwards, the server connection's frames replies), never on
 * the stack of the callback that freed it: a reply callback does not parse requests, a client's
 * drained output does not frame replies.
 */
#include "config.h"

#include "client.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "flow.h"
#include "pool.h"
#include "report/log.h"
#include "report/stats.h"
#include "req.h"
#include "sconn.h"
#include "server.h"

/* ---- backlog ---- */

size_t sp_client_backlog(const struct sp_client *cl)
{
    return sp_conn_out_len(&cl->conn) + (cl->busy != NULL ? cl->busy->held : 0);
}

/*
 * Replies the proxy makes itself count like any other: a client that pipelines PINGs and never
 * reads stops being read at the watermark, as one that sends GETs does.
 */
void sp_flow_check_backlog(struct sp_client *cl)
{
    size_t hwm = cl->pool->proxy->hwm;
    size_t out = sp_client_backlog(cl);
    size_t inflight = cl->busy != NULL ? cl->busy->inflight : 0;

    if (!cl->paused && (inflight > hwm || out > hwm)) {
        cl->paused = true;
        sp_conn_set_reading(&cl->conn, false);
    } else if (cl->paused && inflight <= hwm / 2 && out <= hwm / 2) {
        cl->paused = false;
        sp_conn_resume_later(&cl->conn);
    }
}

void sp_client_resume_paused(struct sp_pool *pool)
{
    struct sp_client *cl;

    TAILQ_FOREACH(cl, &pool->clients, link) {
        if (!cl->mig_paused)
            continue;
        cl->mig_paused = false;
        sp_conn_resume_later(&cl->conn);
    }
}

/* ---- block: a client waits for a server connection's output to drain ---- */

void sp_flow_block(struct sp_sconn *sc, struct sp_client *cl)
{
    struct sp_client_busy *b = cl->busy; /* it just sent a request */

    if (b->blocked_on != NULL)
        return;
    b->blocked_on = sc;
    TAILQ_INSERT_TAIL(&sc->waiters, b, wlink);
    sp_conn_set_reading(&cl->conn, false);
}

void sp_flow_unblock(struct sp_client *cl)
{
    struct sp_client_busy *b = cl->busy;

    if (b == NULL || b->blocked_on == NULL)
        return;
    TAILQ_REMOVE(&b->blocked_on->waiters, b, wlink);
    b->blocked_on = NULL;
}

void sp_flow_release_waiters(struct sp_sconn *sc)
{
    struct sp_client_busy *b;

    while ((b = TAILQ_FIRST(&sc->waiters)) != NULL) {
        TAILQ_REMOVE(&sc->waiters, b, wlink);
        b->blocked_on = NULL;
        sp_conn_resume_later(&b->client->conn);
    }
}

/* ---- stall: a server connection waits for a slow reader ---- */

uint64_t sp_flow_stall_clock(const struct sp_sconn *sc, uint64_t now)
{
    return sc->stalled_total + (sc->stalled_by != NULL ? now - sc->stalled_at : 0);
}

/* How long slow readers may hold up a request on this connection, in all, in usec. */
static uint64_t stall_limit(const struct sp_sconn *sc)
{
    int timeout = sc->server->pool->conf->timeout;

    return (uint64_t)(timeout > 0 ? timeout : SP_STALL_LIMIT_MS) * 1000;
}

/*
 * Usec until the oldest waiting request has been held up by stalls for the whole limit (0: it
 * has); the whole limit when no request waits.
 */
static uint64_t stall_left(const struct sp_sconn *sc, uint64_t now)
{
    const struct sp_req *oldest = TAILQ_FIRST(&sc->sent);
    uint64_t limit = stall_limit(sc);
    uint64_t held;

    if (oldest == NULL)
        return limit;
    held = sp_flow_stall_clock(sc, now) - oldest->stall_base;
    return held < limit ? limit - held : 0;
}

/*
 * Stops reading for slow reader `cl`.  The timer then tracks how long the oldest waiting request
 * may still be held up: what earlier stalls took from it is not given back, so N slow readers in
 * turn hold a request up for the limit in all, not N times it.
 */
static void stall(struct sp_sconn *sc, struct sp_client *cl)
{
    uint64_t now = sp_loop_usec(sc->server->pool->proxy->base);

    sc->stalled_by = cl;
    sc->stalled_at = now;
    TAILQ_INSERT_TAIL(&cl->busy->stalled, sc, slink);
    sp_conn_set_reading(&sc->conn, false);
    sp_sconn_timer_in(sc, stall_left(sc, now)); /* request deadlines wait meanwhile */
}

/*
 * The stall is over.  Its length was the client's doing, not the server's (replies may have been
 * waiting unread all along), so the waiting requests' deadlines move by it.
 */
static void unstall(struct sp_sconn *sc)
{
    uint64_t now = sp_loop_usec(sc->server->pool->proxy->base);
    struct sp_req *req;

    sc->stalled_total += now - sc->stalled_at;
    sc->stalled_by = NULL;
    if (sc->server->pool->conf->timeout > 0 && !TAILQ_EMPTY(&sc->sent)) {
        TAILQ_FOREACH(req, &sc->sent, sq)
            req->deadline += now - sc->stalled_at;
        req = TAILQ_FIRST(&sc->sent);
        sp_sconn_timer_in(sc, req->deadline > now ? req->deadline - now : 0);
    } else {
        evtimer_del(sc->timer);
    }
    sp_conn_set_reading(&sc->conn, true);
}

void sp_flow_after_reply(struct sp_sconn *sc, struct sp_client *cl)
{
    if (cl != NULL && sc->stalled_by == NULL &&
        sp_client_backlog(cl) > SP_STALL_FACTOR * sc->server->pool->proxy->hwm)
        stall(sc, cl);
}

void sp_flow_resume_stalled(struct sp_client *cl)
{
    struct sp_sconn *sc;

    while (cl->busy != NULL && (sc = TAILQ_FIRST(&cl->busy->stalled)) != NULL) {
        TAILQ_REMOVE(&cl->busy->stalled, sc, slink);
        unstall(sc);
        sp_conn_resume_later(&sc->conn); /* frames what waited: may stall again, or close */
    }
}

void sp_flow_sconn_gone(struct sp_sconn *sc)
{
    if (sc->stalled_by != NULL)
        TAILQ_REMOVE(&sc->stalled_by->busy->stalled, sc, slink);
    sc->stalled_by = NULL;
}

/*
 * Slow readers have kept this connection from reading for the whole stall limit: the one doing
 * it now is closed, so the other clients' replies flow again (they would otherwise wait for it,
 * or time out).
 */
static void drop_staller(struct sp_sconn *sc, uint64_t now)
{
    struct sp_client *cl = sc->stalled_by;

    sp_log_warn("pool '%s': closing a client that left %zu reply bytes unread for %llu ms, "
                "holding up server '%s' (slow readers held its oldest request up %llu ms in all)",
                cl->pool->conf->name, sp_client_backlog(cl),
                (unsigned long long)((now - sc->stalled_at) / 1000), sc->server->name,
                (unsigned long long)(stall_limit(sc) / 1000));
    SP_STAT_ADD(cl->pool->st->client_err, 1);
    sp_client_close(cl); /* unstalls this connection (sp_flow_resume_stalled) */
}

void sp_flow_stall_timer(struct sp_sconn *sc, uint64_t now)
{
    uint64_t left = stall_left(sc, now);

    /* 1 ms slack: the timer and the cached clock round differently. */
    if (left <= 1000)
        drop_staller(sc, now);
    else
        sp_sconn_timer_in(sc, left);
}
