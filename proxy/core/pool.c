/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool's life cycle: made from its config entry (addresses resolved, servers made, placement
 * built, Sentinel followed, a migration prepared), given its counters, connected ahead when it
 * preconnects, and freed with its clients and servers.  The proxy (proxy.c) and a reload
 * (reload.c) make pools; a reload retires the ones it drops (retire.c), which frees them once
 * their work is done.  Where a key goes while the pool serves is eject.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "addr.h"
#include "client.h"
#include "conf.h"
#include "core.h"
#include "failover.h"
#include "layout.h"
#include "listener.h"
#include "migration.h"
#include "placement.h"
#include "pool.h"
#include "proto.h"
#include "report/stats.h"
#include "sconn.h"
#include "server.h"

int sp_pool_check(const struct sp_conf_pool *cp, const struct sp_registry *reg, char *err,
                  size_t errlen)
{
    struct sockaddr_storage ss;
    struct sp_placer *placer;
    socklen_t len;
    char why[256];

    if (sp_addr_resolve(&cp->listen, &ss, &len, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "pool '%s': listen: %s", cp->name, why);
        return -1;
    }
    for (size_t i = 0; i < cp->nservers; i++) {
        if (sp_addr_resolve(&cp->servers[i].addr, &ss, &len, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "pool '%s': server '%s': %s", cp->name, cp->servers[i].name,
                     why);
            return -1;
        }
    }
    for (size_t i = 0; i < cp->nsentinels; i++) {
        if (sp_addr_resolve(&cp->sentinels[i].addr, &ss, &len, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "pool '%s': Sentinel %s", cp->name, why);
            return -1;
        }
    }
    placer = sp_placer_new(reg, cp, NULL, why, sizeof(why));
    if (placer == NULL) {
        snprintf(err, errlen, "pool '%s': %s", cp->name, why);
        return -1;
    }
    sp_placer_free(placer);
    return 0;
}

void sp_pool_attach_stats(struct sp_pool *pool, struct sp_stats *stats, size_t idx)
{
    pool->st = stats != NULL ? sp_stats_pool(stats, idx) : &pool->own_st;
    for (size_t i = 0; i < pool->nservers; i++) {
        struct sp_server *s = pool->servers[i];

        s->st = stats != NULL ? sp_stats_server(stats, idx, i) : &s->own_st;
        sp_stats_server_address(s->st, s->addr_text);
    }
}

struct sp_pool *sp_pool_new(struct sp_proxy *proxy, const struct sp_registry *reg,
                            const struct sp_conf_pool *cp, unsigned idx, char *err, size_t errlen)
{
    struct sp_pool *pool = calloc(1, sizeof(*pool));
    char why[256];

    if (pool == NULL) {
        snprintf(err, errlen, "pool '%s': out of memory", cp->name);
        return NULL;
    }
    pool->proxy = proxy;
    pool->conf = cp;
    pool->idx = idx;
    /* The config's `redis:` flag picks the wire protocol (false, nutcracker's default: memcached). */
    pool->proto = cp->redis ? &sp_proto_redis : &sp_proto_memcache;
    pool->st = &pool->own_st;
    TAILQ_INIT(&pool->clients);
    if (sp_pool_check(cp, reg, err, errlen) < 0)
        goto fail;
    pool->servers = calloc(cp->nservers ? cp->nservers : 1, sizeof(*pool->servers));
    if (pool->servers == NULL) {
        snprintf(err, errlen, "pool '%s': out of memory", cp->name);
        goto fail;
    }
    for (size_t i = 0; i < cp->nservers; i++) {
        pool->servers[i] = sp_server_new(pool, &cp->servers[i], (unsigned)i, why, sizeof(why));
        if (pool->servers[i] == NULL) {
            snprintf(err, errlen, "pool '%s': %s", cp->name, why);
            goto fail;
        }
        pool->nservers = i + 1;
    }
    (void)sp_conf_conn_name(cp, SP_CONN_STEADY, pool->conn_name, sizeof(pool->conn_name));
    if (sp_placement_build(reg, cp, pool->servers, &pool->place, why, sizeof(why)) < 0 ||
        sp_failover_start(pool, why, sizeof(why)) < 0 ||
        (cp->migrate_from != NULL &&
         ((pool->mig = sp_mig_prepare(pool, reg, cp, pool->servers, why, sizeof(why))) == NULL ||
          sp_mig_attach(pool->mig, NULL) < 0))) {
        snprintf(err, errlen, "pool '%s': %s", cp->name, why);
        goto fail;
    }
    return pool;
fail:
    sp_pool_free(pool);
    return NULL;
}

void sp_pool_free(struct sp_pool *pool)
{
    struct sp_client *cl;

    if (pool == NULL)
        return;
    sp_failover_stop(pool);
    sp_listener_close(pool);
    while ((cl = TAILQ_FIRST(&pool->clients)) != NULL)
        sp_client_close(cl);
    sp_mig_free(pool->mig);
    pool->mig = NULL;
    for (size_t i = 0; i < pool->nservers; i++)
        sp_server_free(pool->servers[i]);
    free(pool->servers);
    sp_placement_free(&pool->place);
    sp_conf_pool_free(pool->own_conf);
    free(pool);
}

void sp_pool_preconnect(struct sp_pool *pool)
{
    const char *reason;

    if (!pool->conf->preconnect)
        return;
    for (size_t i = 0; i < pool->nservers; i++)
        (void)sp_server_conn(pool->servers[i], 0, &reason); /* failures counted and logged */
}
