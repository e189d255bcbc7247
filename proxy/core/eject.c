/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool's placement and ejection state: which server owns a key right now.
 *
 * Ejection follows nutcracker 0.5.0 (nc_server.c server_failure / server_pool_update): every
 * closed or failed server connection counts one failure; at server_failure_limit the server is
 * out for server_retry_timeout ms and the placer is rebuilt from the live servers only, exactly
 * as if the config lacked that server (placement.h).  Any reply resets the count.  The first
 * request after the earliest retry time rebuilds the placer with the server back in.
 *
 * A Sentinel pool never ejects, whatever auto_eject_hosts says: where its servers are is
 * Sentinel's business, and re-routing a failed master's keys to another shard would answer
 * reads with another shard's (missing) data and store writes where they will not be found.
 *
 * With several workers (world.h) the counts and the decisions are the leader's, for the whole
 * process: a follower reports its connections' failures (and the first answer after one), and
 * ejects nothing itself; the leader ejects with the followers parked, and they take the leader's
 * placement before they route again.  A retry time is the same in every worker, so each takes
 * the server back by itself at its first request after it (and an answer does not cut an
 * ejection short: the times must stay equal).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "core.h"
#include "placement.h"
#include "pool.h"
#include "report/log.h"
#include "report/stats.h"
#include "server.h"
#include "world.h"

/* Does this pool eject failing servers? */
static bool pool_ejects(const struct sp_conf_pool *cp)
{
    return cp->auto_eject_hosts && !sp_conf_pool_is_sentinel(cp);
}

/* The placer over the servers `out->live` names (set, with nlive, by the caller). */
static int build_placer(const struct sp_registry *reg, const struct sp_conf_pool *cp,
                        struct sp_placement *out, char *err, size_t errlen)
{
    if (out->nlive == 0)
        return 0; /* every server ejected: nothing to place on until one is back */
    out->placer = sp_placer_new(reg, cp, out->live, err, errlen);
    if (out->placer == NULL) {
        sp_placement_free(out);
        return -1;
    }
    return 0;
}

static int alloc_live(const struct sp_conf_pool *cp, struct sp_placement *out, char *err,
                      size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->live = calloc(cp->nservers ? cp->nservers : 1, sizeof(*out->live));
    if (out->live == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int sp_placement_build(const struct sp_registry *reg, const struct sp_conf_pool *cp,
                       struct sp_server *const *servers, struct sp_placement *out, char *err,
                       size_t errlen)
{
    int64_t now = sp_usec_now();

    if (alloc_live(cp, out, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < cp->nservers; i++) {
        const struct sp_server *s = servers[i];
        bool live = true;

        if (pool_ejects(cp) && s->next_retry > now) {
            live = false;
            if (out->next_rebuild == 0 || s->next_retry < out->next_rebuild)
                out->next_rebuild = s->next_retry;
        }
        out->live[i] = live;
        out->nlive += live;
    }
    return build_placer(reg, cp, out, err, errlen);
}

void sp_placement_free(struct sp_placement *p)
{
    sp_placer_free(p->placer);
    free(p->live);
    memset(p, 0, sizeof(*p));
}

/* Builds the placement again when ejections changed who is live (retry times passed, say). */
static void pool_rebuild(struct sp_pool *pool)
{
    struct sp_placement next;
    char err[256];
    bool same;

    for (size_t i = 0; i < pool->nservers; i++) {
        if (pool->servers[i]->next_retry <= sp_usec_now())
            pool->servers[i]->next_retry = 0;
    }
    if (sp_placement_build(pool->proxy->reg, pool->conf, pool->servers, &next, err,
                           sizeof(err)) < 0) {
        sp_log_error("pool '%s': rebuilding placement failed: %s", pool->conf->name, err);
        pool->place.next_rebuild = 0;
        return;
    }
    same = next.nlive == pool->place.nlive &&
           memcmp(next.live, pool->place.live, pool->nservers * sizeof(*next.live)) == 0;
    sp_placement_free(&pool->place);
    pool->place = next;
    if (!same && !pool->proxy->follower) /* the leader says it for every worker */
        sp_log_notice("pool '%s': %zu of %zu servers live", pool->conf->name, next.nlive,
                      pool->nservers);
}

/*
 * A follower's pool takes the leader's placement and ejection times (the follower is parked:
 * see world.h).  Built from the leader's live set, not from the clock: the two must be equal.
 */
static void adopt(struct sp_pool *pool, const struct sp_pool *from)
{
    struct sp_placement next;
    char err[256];

    for (size_t i = 0; i < pool->nservers && i < from->nservers; i++) {
        pool->servers[i]->next_retry = from->servers[i]->next_retry;
        pool->servers[i]->failure_count = 0;
    }
    if (alloc_live(pool->conf, &next, err, sizeof(err)) == 0) {
        memcpy(next.live, from->place.live, pool->nservers * sizeof(*next.live));
        next.nlive = from->place.nlive;
        next.next_rebuild = from->place.next_rebuild;
    }
    if (next.live == NULL || build_placer(pool->proxy->reg, pool->conf, &next, err,
                                          sizeof(err)) < 0) {
        /* Out of memory: no placement is better than another worker's. */
        sp_log_error("pool '%s': taking the leader's placement failed: %s; no server is live "
                     "here until the next change", pool->conf->name, err);
        sp_placement_free(&pool->place);
        return;
    }
    sp_placement_free(&pool->place);
    pool->place = next;
}

/* A change of a pool's placement: apply(pool, server) makes it (server: the one it is about). */
struct change {
    struct sp_pool *pool;
    struct sp_server *server;
    void (*apply)(struct sp_pool *pool, struct sp_server *server);
};

/* Leader, followers parked: the change is made here; the followers take the result. */
static void change_everywhere(struct sp_proxy *const *followers, size_t n, void *arg)
{
    struct change *c = arg;

    c->apply(c->pool, c->server);
    for (size_t i = 0; i < n; i++)
        if (c->pool->idx < followers[i]->npools)
            adopt(followers[i]->pools[c->pool->idx], c->pool);
}

/* Makes a change to a running pool's placement: at once when alone; with several workers, in
   the leader, every follower parked meanwhile and taking the result. */
static void change_placement(struct change c)
{
    struct sp_world *w = c.pool->proxy->world;

    if (w == NULL || c.pool->retired)
        c.apply(c.pool, c.server);
    else
        w->stop(w, change_everywhere, &c);
}

/* An ejected server's retry time has passed: the placement is built again. */
static bool rebuild_due(const struct sp_pool *pool)
{
    return pool->place.next_rebuild != 0 && sp_usec_now() > pool->place.next_rebuild;
}

static void rebuild(struct sp_pool *pool, struct sp_server *unused)
{
    (void)unused;
    pool_rebuild(pool);
}

void sp_world_adopt_all(struct sp_proxy *leader, struct sp_proxy *follower)
{
    for (size_t i = 0; i < leader->npools && i < follower->npools; i++)
        adopt(follower->pools[i], leader->pools[i]);
}

/*
 * A follower's pool whose retry time has come: it takes the server back at once, as the leader
 * does at its own first request after that time.  The retry times are the leader's (adopted,
 * and never reset by an answer while several workers run), so at any moment every worker that
 * routes finds the same servers live.  The leader is told, to rebuild (and say so) too.
 */
static void follower_rebuild(struct sp_pool *pool)
{
    struct sp_world *w = pool->proxy->world;

    pool_rebuild(pool);
    if (!pool->retired)
        w->report(w, pool->proxy->generation, pool->idx, 0, SP_WORLD_REBUILD_DUE);
}

struct sp_server *sp_pool_locate(struct sp_pool *pool, const void *key, size_t len,
                                 const char **reason)
{
    int idx;

    if (rebuild_due(pool)) {
        if (pool->proxy->follower)
            follower_rebuild(pool);
        else
            change_placement((struct change){ pool, NULL, rebuild });
    }
    if (pool->place.nlive == 0) {
        *reason = strerror(ECONNREFUSED);
        return NULL;
    }
    idx = sp_placer_locate(pool->place.placer, key, len);
    if (idx < 0) {
        *reason = strerror(ECONNREFUSED);
        return NULL;
    }
    return pool->servers[idx];
}

/* The limit is reached: the server is out until its retry time. */
static void eject(struct sp_pool *pool, struct sp_server *server)
{
    int64_t now = sp_usec_now();

    server->failure_count = 0;
    server->next_retry = now + (int64_t)pool->conf->server_retry_timeout * 1000;
    SP_STAT_SET(server->st->server_ejected_at, now);
    SP_STAT_ADD(pool->st->server_ejects, 1);
    sp_log_notice("pool '%s': ejecting server '%s' for %d ms", pool->conf->name,
                  server->name, pool->conf->server_retry_timeout);
    pool_rebuild(pool);
}

void sp_pool_server_failure(struct sp_server *server)
{
    struct sp_pool *pool = server->pool;
    struct sp_world *w = pool->proxy->world;

    if (server->retired || !pool_ejects(pool->conf) || pool->proxy->stopping)
        return;
    if (pool->proxy->follower) {
        server->failure_reported = true;
        w->report(w, pool->proxy->generation, pool->idx, server->idx, SP_WORLD_FAILURE);
        return;
    }
    server->failure_count++;
    if (server->failure_count < (uint32_t)pool->conf->server_failure_limit)
        return;
    change_placement((struct change){ pool, server, eject });
}

void sp_pool_server_ok(struct sp_server *server)
{
    struct sp_pool *pool = server->pool;

    if (pool->proxy->follower) {
        if (server->failure_reported && !server->retired) {
            struct sp_world *w = pool->proxy->world;

            server->failure_reported = false;
            w->report(w, pool->proxy->generation, pool->idx, server->idx, SP_WORLD_ANSWERED);
        }
        return;
    }
    server->failure_count = 0;
    if (pool->proxy->world == NULL) /* several workers: retry times stay the same everywhere */
        server->next_retry = 0;
}

void sp_world_news(struct sp_proxy *leader, unsigned generation, unsigned pool, unsigned server,
                   enum sp_world_news news)
{
    struct sp_pool *p;

    if (generation != leader->generation || pool >= leader->npools)
        return; /* about a config that is gone */
    p = leader->pools[pool];
    if (news == SP_WORLD_REBUILD_DUE) {
        if (rebuild_due(p))
            change_placement((struct change){ p, NULL, rebuild });
        return;
    }
    if (server >= p->nservers)
        return;
    if (news == SP_WORLD_FAILURE)
        sp_pool_server_failure(p->servers[server]);
    else
        sp_pool_server_ok(p->servers[server]);
}
