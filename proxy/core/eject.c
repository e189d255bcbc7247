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

/* Does this pool eject failing servers? */
static bool pool_ejects(const struct sp_conf_pool *cp)
{
    return cp->auto_eject_hosts && !sp_conf_pool_is_sentinel(cp);
}

int sp_placement_build(const struct sp_registry *reg, const struct sp_conf_pool *cp,
                       struct sp_server *const *servers, struct sp_placement *out, char *err,
                       size_t errlen)
{
    int64_t now = sp_usec_now();

    memset(out, 0, sizeof(*out));
    out->live = calloc(cp->nservers ? cp->nservers : 1, sizeof(*out->live));
    if (out->live == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
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
    if (out->nlive == 0)
        return 0; /* every server ejected: nothing to place on until one is back */
    out->placer = sp_placer_new(reg, cp, out->live, err, errlen);
    if (out->placer == NULL) {
        sp_placement_free(out);
        return -1;
    }
    return 0;
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
    if (!same)
        sp_log_notice("pool '%s': %zu of %zu servers live", pool->conf->name, next.nlive,
                      pool->nservers);
}

struct sp_server *sp_pool_locate(struct sp_pool *pool, const void *key, size_t len,
                                 const char **reason)
{
    int idx;

    if (pool->place.next_rebuild != 0 && sp_usec_now() > pool->place.next_rebuild)
        pool_rebuild(pool);
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

void sp_pool_server_failure(struct sp_server *server)
{
    struct sp_pool *pool = server->pool;
    int64_t now;

    if (server->retired || !pool_ejects(pool->conf) || pool->proxy->stopping)
        return;
    server->failure_count++;
    if (server->failure_count < (uint32_t)pool->conf->server_failure_limit)
        return;
    now = sp_usec_now();
    server->failure_count = 0;
    server->next_retry = now + (int64_t)pool->conf->server_retry_timeout * 1000;
    server->st->server_ejected_at = now;
    pool->st->server_ejects++;
    sp_log_notice("pool '%s': ejecting server '%s' for %d ms", pool->conf->name,
                  server->name, pool->conf->server_retry_timeout);
    pool_rebuild(pool);
}

void sp_pool_server_ok(struct sp_server *server)
{
    server->failure_count = 0;
    server->next_retry = 0;
}
