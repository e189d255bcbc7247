/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which phase of a migration this proxy may be in: it looks at every proxy's (docs/resharding.md).
 *
 * Every connection to a Redis pool's server carries a name (CLIENT SETNAME, layout.h):
 * "shardproxy:<pool>:<plan id>:<state>".  A migrating pool asks every server of both layouts
 * for its client list every SP_SURVEY_MS and reads the other proxies' names (its own
 * connections, known by their local addresses, do not count):
 *   unknown -> ready  when no proxy is seen on the source layout's file ("steady" with the
 *                     source layout's id) nor on another plan, or when some proxy is armed
 *                     already (it saw everyone ready: so must we be, at once);
 *   unknown -> wait   otherwise;
 *   wait    -> ready  once no proxy on the old file or on another plan is seen (other waiting
 *                     proxies do not hold this one back: they will see the same);
 *   ready   -> armed  once every other proxy seen is ready or armed for this plan (none waits);
 *   armed             for good (an old-file proxy seen then is logged: the operator's error).
 * A proxy names its connections anew on each change, on every open connection, after whatever
 * it sent on them before; so when another proxy sees it "ready" on a server, everything it sent
 * there while it waited has run.  A round that some servers do not answer within a second is
 * judged on the answers it got; one with none changes nothing (unknown becomes wait: nobody
 * can be moving keys on servers nobody can reach).
 *
 * With several workers (world.h) the leader alone surveys, and its followers' connections count
 * as other proxies' (they are named by their own state).  Each change is told to every follower,
 * which takes it and, in ready, says so once nothing it sent before is in flight; the leader
 * goes from ready to armed only when every follower has said it.  Names alone would not do: a
 * follower with no connection open is not seen, and it may still be waiting.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "conn.h"
#include "core.h"
#include "flow.h"
#include "layout.h"
#include "migration.h"
#include "pool.h"
#include "proto.h"
#include "report/log.h"
#include "req.h"
#include "sconn.h"
#include "server.h"
#include "world.h"

#define SP_SURVEY_MS 100
#define SP_SURVEY_ROUND_MAX_MS 1000
#define SP_DRAIN_POLL_MS 2 /* a follower waiting for its requests of the previous phase */

/* What a round saw of the other proxies (bits of sp_migration.seen). */
#define SEEN_OLD 0x1u    /* steady on the source layout: a proxy on the old file */
#define SEEN_WAIT 0x2u
#define SEEN_READY 0x4u
#define SEEN_ARMED 0x8u
#define SEEN_DONE 0x10u  /* steady on the target layout: a proxy on the final file already */
#define SEEN_OTHER 0x20u /* another plan, or a state we do not know */

static const char *const state_names[] = {
    [SP_MIG_UNKNOWN] = SP_CONN_WAIT, /* named "wait" until it knows: it touches nothing */
    [SP_MIG_WAIT] = SP_CONN_WAIT,
    [SP_MIG_READY] = SP_CONN_READY,
    [SP_MIG_ARMED] = SP_CONN_ARMED,
};

static const char *const state_words[] = {
    [SP_MIG_UNKNOWN] = "unknown",
    [SP_MIG_WAIT] = "wait",
    [SP_MIG_READY] = "ready",
    [SP_MIG_ARMED] = "armed",
};

const char *sp_pool_conn_name(const struct sp_pool *pool)
{
    return pool->mig != NULL ? pool->mig->name : pool->conn_name;
}

/* A survey request in flight: the round it belongs to, and the server asked. */
struct survey_ask {
    struct sp_migration *m;
    struct sp_server *server;
    unsigned round;
};

/* Calls fn for each distinct server of both layouts, until one returns true: returns whether
   one did. */
static bool each_server(struct sp_migration *m,
                        bool (*fn)(struct sp_migration *, struct sp_server *))
{
    struct sp_pool *pool = m->pool;

    for (size_t i = 0; i < pool->nservers; i++) {
        if (fn(m, pool->servers[i]))
            return true;
    }
    for (size_t i = 0; i < m->nsrc; i++) {
        if (m->src_own[i] && fn(m, m->src[i]))
            return true;
    }
    return false;
}

/* Sends a name request with the pool's connection name on every open connection of `s`. */
static void name_connections(struct sp_server *s)
{
    struct sp_pool *pool = s->pool;

    if (pool->proto->name_request == NULL)
        return;
    for (unsigned i = 0; i < s->nconns; i++) {
        if (s->conns[i] != NULL)
            sp_sconn_name(pool->proxy, s->conns[i], sp_pool_conn_name(pool));
    }
}

static bool name_server(struct sp_migration *m, struct sp_server *s)
{
    (void)m;
    name_connections(s);
    return false;
}

void sp_pool_rename(struct sp_pool *pool)
{
    if (pool->mig != NULL) {
        (void)each_server(pool->mig, name_server);
        return;
    }
    for (size_t i = 0; i < pool->nservers; i++)
        name_connections(pool->servers[i]);
}

/* The worker enters state `to`: new name everywhere, paused clients resume when it allows,
   parked requests go once armed. */
static void enter_state(struct sp_migration *m, enum sp_mig_state to)
{
    enum sp_mig_state from = m->state;

    m->state = to;
    (void)sp_conf_conn_name(m->pool->conf, state_names[to], m->name, sizeof(m->name));
    if (strcmp(state_names[from], state_names[to]) != 0)
        (void)each_server(m, name_server);
    if (!sp_mig_pauses(m))
        sp_client_resume_paused(m->pool);
    if (to == SP_MIG_ARMED)
        sp_mig_release(m);
}

static struct sp_world_phase phase_of(const struct sp_migration *m)
{
    return (struct sp_world_phase){ m->pool->proxy->generation, m->pool->idx, m->plan,
                                    (int)m->state };
}

/* The survey decided: the proxy's state changes, in every worker. */
static void set_state(struct sp_migration *m, enum sp_mig_state to, const char *why)
{
    struct sp_world *w = m->pool->proxy->world;
    enum sp_mig_state from = m->state;

    enter_state(m, to);
    m->reached = 0;
    sp_log_notice("pool '%s': migration %016llx: %s -> %s (%s)", m->pool->conf->name,
                  (unsigned long long)m->plan, state_words[from], state_words[to], why);
    if (w != NULL) {
        struct sp_world_phase p = phase_of(m);

        w->tell_phase(w, &p);
    }
}

/* Has every follower reached this state (nothing of an earlier one in flight)? */
static bool workers_reached(const struct sp_migration *m)
{
    const struct sp_world *w = m->pool->proxy->world;
    unsigned n = 0;

    if (w == NULL)
        return true;
    for (uint64_t r = m->reached; r != 0; r &= r - 1)
        n++;
    return n >= w->nfollowers;
}

/* Is "ip:port" the local address of one of our connections to `s`? */
static bool own_address(const struct sp_server *s, const char *addr, size_t alen)
{
    for (unsigned i = 0; i < s->nconns; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        char ip[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];
        const struct sp_sconn *sc = s->conns[i];
        int port;

        if (sc == NULL || sc->conn.fd < 0 ||
            getsockname(sc->conn.fd, (struct sockaddr *)&ss, &len) < 0)
            continue;
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

            inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
            port = ntohs(in->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

            inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
            port = ntohs(in6->sin6_port);
        } else {
            continue;
        }
        snprintf(text, sizeof(text), "%s:%d", ip, port);
        if (strlen(text) == alen && memcmp(text, addr, alen) == 0)
            return true;
    }
    return false;
}

struct seen_ctx {
    struct sp_migration *m;
    struct sp_server *server;
};

/* One client of a server's list: one of ours, another proxy's (which state), or not a proxy. */
static void seen_name(void *arg, const char *name, size_t nlen, const char *addr, size_t alen)
{
    struct seen_ctx *cx = arg;
    struct sp_migration *m = cx->m;
    struct sp_conn_name cn;

    if (sp_conf_conn_name_parse(name, nlen, &cn) < 0 ||
        !sp_conf_conn_name_is_pool(&cn, m->pool->conf) || own_address(cx->server, addr, alen))
        return;
    if (cn.plan_id == m->plan) {
        m->seen |= strcmp(cn.state, SP_CONN_WAIT) == 0    ? SEEN_WAIT
                   : strcmp(cn.state, SP_CONN_READY) == 0 ? SEEN_READY
                   : strcmp(cn.state, SP_CONN_ARMED) == 0 ? SEEN_ARMED
                                                          : SEEN_OTHER;
    } else if (cn.plan_id == m->src_layout && strcmp(cn.state, SP_CONN_STEADY) == 0) {
        m->seen |= SEEN_OLD;
    } else if (cn.plan_id == m->dst_layout && strcmp(cn.state, SP_CONN_STEADY) == 0) {
        m->seen |= SEEN_DONE;
    } else {
        m->seen |= SEEN_OTHER;
    }
}

/* A round is over: where may this proxy be now? */
static void judge(struct sp_migration *m)
{
    unsigned seen = m->seen;
    /* Proxies serving keys from their old servers with no intent to move: the old file's, or
       another plan's.  Waiting proxies of this plan do not stop readiness, only arming. */
    bool old = (seen & (SEEN_OLD | SEEN_OTHER)) != 0;

    if (m->answers == 0) {
        if (m->state == SP_MIG_UNKNOWN)
            set_state(m, SP_MIG_WAIT, "no server answered: nothing can be moving");
        return;
    }
    switch (m->state) {
    case SP_MIG_UNKNOWN:
        if (seen & SEEN_ARMED)
            set_state(m, SP_MIG_READY, "proxies armed already");
        else if (old)
            set_state(m, SP_MIG_WAIT, "proxies on the old file");
        else
            set_state(m, SP_MIG_READY, "no proxy on the old file");
        break;
    case SP_MIG_WAIT:
        if (!old)
            set_state(m, SP_MIG_READY, "no proxy on the old file left");
        break;
    case SP_MIG_READY:
        if (!old && !(seen & (SEEN_WAIT | SEEN_DONE)) && workers_reached(m))
            set_state(m, SP_MIG_ARMED, "every proxy ready");
        break;
    case SP_MIG_ARMED:
        if ((old || (seen & SEEN_WAIT)) && !m->warned) {
            sp_log_error("pool '%s': migration %016llx: a proxy on the old file (or waiting) is "
                         "connected while keys move: it may not find moved keys; reload it",
                         m->pool->conf->name, (unsigned long long)m->plan);
            m->warned = true;
        }
        break;
    }
}

static void ask_done(struct sp_proxy *proxy, struct sp_req *req)
{
    struct survey_ask *ask = req->owner;
    struct sp_migration *m = ask->m;

    if (ask->round == m->round && !m->dead) {
        struct seen_ctx cx = { m, ask->server };
        bool error = evbuffer_get_length(req->reply) == 0 ||
                     m->pool->proto->survey_names(req->reply, seen_name, &cx) < 0;

        if (!error)
            m->answers++;
        if (--m->pending == 0)
            judge(m);
    }
    free(ask);
    sp_req_put(proxy, req);
    sp_mig_unref(m);
}

/* Asks `s` for its client list (on its first connection, which the survey keeps open);
   each_server goes on (false). */
static bool ask_server(struct sp_migration *m, struct sp_server *s)
{
    struct sp_proxy *proxy = m->pool->proxy;
    struct survey_ask *ask = malloc(sizeof(*ask));
    struct sp_req *req = ask != NULL ? sp_req_get(proxy) : NULL;
    const char *reason = NULL;
    struct sp_sconn *sc;
    struct evbuffer *out;
    size_t before;

    if (req == NULL) {
        free(ask);
        return false;
    }
    if (s->nheld > 0 || (sc = sp_server_conn(s, 0, &reason)) == NULL) {
        sp_req_put(proxy, req); /* down: this round goes without it */
        free(ask);
        return false;
    }
    *ask = (struct survey_ask){ m, s, m->round };
    req->on_reply = ask_done;
    req->owner = ask;
    req->cmd = SP_CMD_NONE;
    out = sp_sconn_out(sc);
    before = evbuffer_get_length(out);
    m->pool->proto->survey_request(out);
    req->len = evbuffer_get_length(out) - before;
    m->pending++;
    m->refs++;
    sp_conn_flush_later(&sc->conn);
    sp_sconn_enqueue(sc, req);
    return false;
}

static void survey_tick(evutil_socket_t fd, short what, void *arg)
{
    struct sp_migration *m = arg;
    uint64_t now = sp_loop_usec(m->pool->proxy->base);
    struct timeval tv = { 0, SP_SURVEY_MS * 1000 };

    (void)fd;
    (void)what;
    if (m->pending > 0 && now - m->round_started < SP_SURVEY_ROUND_MAX_MS * 1000) {
        evtimer_add(m->timer, &tv); /* the round is still out */
        return;
    }
    if (m->pending > 0) {
        m->pending = 0;
        judge(m); /* late servers do not count */
    }
    m->round++;
    m->round_started = now;
    m->seen = 0;
    m->answers = 0;
    m->pending = 1; /* until every ask is out: a synchronous failure must not judge early */
    (void)each_server(m, ask_server);
    if (--m->pending == 0)
        judge(m);
    evtimer_add(m->timer, &tv);
}

/* ---- a follower: the leader's phases ---- */

/* Is a request this worker sent to `s` still unanswered (or held)? */
static bool server_busy(struct sp_migration *m, struct sp_server *s)
{
    (void)m;
    if (s->nheld > 0)
        return true;
    for (unsigned i = 0; i < s->nconns; i++) {
        if (s->conns[i] != NULL && s->conns[i]->nsent > 0)
            return true;
    }
    return false;
}

/* Tells the leader this worker is in its state once everything sent before is answered (its
   clients pause or follow the new state meanwhile: what is in flight is the older state's). */
static void follower_drain(evutil_socket_t fd, short what, void *arg)
{
    struct sp_migration *m = arg;
    struct sp_world *w = m->pool->proxy->world;
    struct timeval tv = { 0, SP_DRAIN_POLL_MS * 1000 };
    struct sp_world_phase p;

    (void)fd;
    (void)what;
    if (each_server(m, server_busy)) {
        evtimer_add(m->timer, &tv);
        return;
    }
    p = phase_of(m);
    w->phase_reached(w, &p);
}

void sp_world_phase(struct sp_proxy *follower, const struct sp_world_phase *p)
{
    struct sp_migration *m;

    if (p->generation != follower->generation || p->pool >= follower->npools)
        return; /* about a config that is gone: the leader tells again after a reload */
    m = follower->pools[p->pool]->mig;
    if (m == NULL || m->plan != p->plan || m->timer == NULL)
        return;
    evtimer_del(m->timer);
    if (m->state != (enum sp_mig_state)p->state)
        enter_state(m, (enum sp_mig_state)p->state);
    /* Ready is what the leader waits for (to arm); there the clients pause, so what is in
       flight drains at once.  In the other states nothing waits, and under load nothing
       would drain. */
    if (m->state == SP_MIG_READY)
        follower_drain(-1, 0, m);
}

void sp_world_phase_reached(struct sp_proxy *leader, unsigned follower,
                            const struct sp_world_phase *p)
{
    struct sp_migration *m;

    if (p->generation != leader->generation || p->pool >= leader->npools || follower == 0 ||
        follower > 64)
        return;
    m = leader->pools[p->pool]->mig;
    if (m != NULL && m->plan == p->plan && (int)m->state == p->state)
        m->reached |= UINT64_C(1) << (follower - 1);
}

void sp_world_tell_phases(struct sp_proxy *leader)
{
    struct sp_world *w = leader->world;

    for (size_t i = 0; w != NULL && i < leader->npools; i++) {
        const struct sp_migration *m = leader->pools[i]->mig;

        if (m != NULL) {
            struct sp_world_phase p = phase_of(m);

            w->tell_phase(w, &p);
        }
    }
}

/* ---- starting and stopping ---- */

int sp_survey_start(struct sp_migration *m)
{
    struct timeval now = { 0, 0 };
    struct sp_proxy *proxy = m->pool->proxy;

    (void)sp_conf_conn_name(m->pool->conf, state_names[m->state], m->name, sizeof(m->name));
    if (proxy->follower) {
        /* It surveys nothing: it waits for the leader's phases (unknown: its clients wait). */
        m->timer = evtimer_new(proxy->base, follower_drain, m);
        if (m->timer == NULL) {
            sp_log_error("pool '%s': migration %016llx: out of memory in a worker: no key "
                         "moves until a reload", m->pool->conf->name, (unsigned long long)m->plan);
            return -1;
        }
        return 0;
    }
    m->timer = evtimer_new(proxy->base, survey_tick, m);
    if (m->timer == NULL) {
        /* No survey: this proxy stays where it is (unknown: its clients wait), never moving a
           key it has not seen every proxy ready for. */
        sp_log_error("pool '%s': migration %016llx: out of memory for its survey",
                     m->pool->conf->name, (unsigned long long)m->plan);
        return -1;
    }
    evtimer_add(m->timer, &now);
    return 0;
}

void sp_survey_stop(struct sp_migration *m)
{
    if (m->timer != NULL)
        event_free(m->timer);
    m->timer = NULL;
}

bool sp_mig_pauses(const struct sp_migration *m)
{
    return m->state == SP_MIG_UNKNOWN || m->state == SP_MIG_READY;
}
