/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Sentinel pool follows its masters: the pool's Sentinel client (proxy/sentinel) says where
 * each server's master is, and when that changes the server moves there.
 *
 * A move closes the server's connections: requests already sent to the old master get an error
 * (a write may or may not have happened there; it is never retried silently), the next ones
 * connect to the new master at once.  Client connections stay, placement does not change (it
 * depends on server names only), and a Sentinel pool never ejects (eject.c): while a master is down
 * and not yet replaced its requests get errors, never another shard's answer.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "core.h"
#include "failover.h"
#include "pool.h"
#include "replica.h"
#include "report/log.h"
#include "report/stats.h"
#include "sentinel/sentinel.h"
#include "server.h"
#include "world.h"

/* Several workers: the followers put their own server object where the leader put its own. */
static void tell_followers(struct sp_pool *pool, size_t server, bool replica, const char *host,
                           int port, const char *reason)
{
    struct sp_world *w = pool->proxy->world;
    struct sp_world_move m = { pool->proxy->generation, pool->idx, (unsigned)server, replica,
                               "", port, "" };

    if (w == NULL || pool->retired)
        return;
    snprintf(m.host, sizeof(m.host), "%s", host);
    snprintf(m.reason, sizeof(m.reason), "%s", reason);
    w->tell(w, &m);
}

static void on_master(void *ctx, const struct sp_sentinel_master *m)
{
    struct sp_pool *pool = ctx;
    struct sp_server *s;
    char reason[SP_REASON_MAX], was[SP_ADDR_TEXT_MAX];

    if (m->server >= pool->nservers)
        return;
    s = pool->servers[m->server];
    snprintf(was, sizeof(was), "%s", s->addr_text);
    snprintf(reason, sizeof(reason), "master '%s' failed over to %s:%d; the request may or may "
             "not have been executed", m->master, m->host, m->port);
    /* Every answer, moved or not: a follower's pool made by a reload is at its file address. */
    tell_followers(pool, m->server, false, m->host, m->port, reason);
    if (sp_server_move(s, m->host, m->port, reason) < 0)
        return;
    if (strcmp(was, s->addr_text) == 0)
        return;
    if (m->why != SP_SENTINEL_FIRST)
        SP_STAT_ADD(s->st->failovers, 1);
    sp_stats_server_address(s->st, s->addr_text);
    sp_log_notice("pool '%s': server '%s' (master '%s') is at %s now, was %s (%s from Sentinel "
                  "%s, config epoch %lld)", pool->conf->name, s->name, m->master, s->addr_text,
                  was, sp_sentinel_why_name(m->why), m->sentinel, m->epoch);
}

/* Sentinel chose another replica for a server: its reads (failover_replica_reads) follow. */
static void on_replicas(void *ctx, size_t server)
{
    struct sp_pool *pool = ctx;
    const char *host = "";
    int port = 0;

    if (pool->sentinel != NULL && sp_sentinel_replica(pool->sentinel, server, &host, &port) < 0)
        host = "";
    tell_followers(pool, server, true, host, port, "");
    sp_replica_changed(pool, server);
}

void sp_world_move(struct sp_proxy *follower, const struct sp_world_move *m)
{
    struct sp_server *s;

    if (m->generation != follower->generation || m->pool >= follower->npools ||
        m->server >= follower->pools[m->pool]->nservers)
        return; /* about a config that is gone: the new one's Sentinel client tells again */
    s = follower->pools[m->pool]->servers[m->server];
    if (m->replica) {
        snprintf(s->told_replica_host, sizeof(s->told_replica_host), "%s", m->host);
        s->told_replica_port = m->host[0] != '\0' ? m->port : 0;
        sp_replica_changed(s->pool, m->server);
        return;
    }
    if (sp_server_move(s, m->host, m->port, m->reason) == 0)
        sp_stats_server_address(s->st, s->addr_text);
}

struct sp_sentinel *sp_failover_client(struct sp_pool *pool, const struct sp_conf_pool *cp,
                                       char *err, size_t errlen)
{
    /* Down / up states are logged by the client itself; a move is what the pool acts on. */
    struct sp_sentinel_callbacks cb = { on_master, NULL, pool };
    struct sp_sentinel *sn = sp_sentinel_new(pool->proxy->base, cp, &cb, NULL, err, errlen);

    if (sn != NULL)
        sp_sentinel_on_replicas(sn, on_replicas);
    return sn;
}

int sp_failover_start(struct sp_pool *pool, char *err, size_t errlen)
{
    /* A follower follows the leader's client (world.h), not Sentinel itself. */
    if (!sp_conf_pool_is_sentinel(pool->conf) || pool->proxy->follower)
        return 0;
    pool->sentinel = sp_failover_client(pool, pool->conf, err, errlen);
    return pool->sentinel != NULL ? 0 : -1;
}

void sp_failover_stop(struct sp_pool *pool)
{
    sp_sentinel_free(pool->sentinel);
    pool->sentinel = NULL;
}
