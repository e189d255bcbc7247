/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool's placement and ejection state: which server owns a key right now.
 *
 * Ejection follows nutcracker 0.5.0 (nc_server.c server_failure / server_pool_update): every
 * closed or failed server connection counts one failure; at server_failure_limit the server is
 * out for server_retry_timeout ms and the placer is rebuilt from the live servers only, exactly
 * as if the config lacked that server (placement.h).  Any reply resets the count.  The first
 * request after the earliest retry time rebuilds the placer with the server back in.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core.h"
#include "report/log.h"

/* Builds the placer from the servers whose retry time has passed. */
static void pool_rebuild(struct sp_pool *pool)
{
    int64_t now = sp_usec_now();
    struct sp_placer *placer;
    char err[256];
    size_t nlive = 0;
    bool changed = false;

    pool->next_rebuild = 0;
    for (size_t i = 0; i < pool->nservers; i++) {
        struct sp_server *s = &pool->servers[i];
        bool live = true;

        if (pool->conf->auto_eject_hosts) {
            if (s->next_retry <= now) {
                s->next_retry = 0;
            } else {
                live = false;
                if (pool->next_rebuild == 0 || s->next_retry < pool->next_rebuild)
                    pool->next_rebuild = s->next_retry;
            }
        }
        if (pool->live[i] != live)
            changed = true;
        pool->live[i] = live;
        nlive += live;
    }
    pool->nlive = nlive;
    if (!changed || nlive == 0)
        return;
    placer = sp_placer_new(pool->proxy->reg, pool->conf, pool->live, err, sizeof(err));
    if (placer == NULL) {
        sp_log_error("pool '%s': rebuilding placement failed: %s", pool->conf->name, err);
        return;
    }
    sp_placer_free(pool->placer);
    pool->placer = placer;
    sp_log_notice("pool '%s': %zu of %zu servers live", pool->conf->name, nlive,
                  pool->nservers);
}

struct sp_server *sp_pool_locate(struct sp_pool *pool, const void *key, size_t len,
                                 const char **reason)
{
    int idx;

    if (pool->next_rebuild != 0 && sp_usec_now() > pool->next_rebuild)
        pool_rebuild(pool);
    if (pool->nlive == 0) {
        *reason = strerror(ECONNREFUSED);
        return NULL;
    }
    idx = sp_placer_locate(pool->placer, key, len);
    if (idx < 0) {
        *reason = strerror(ECONNREFUSED);
        return NULL;
    }
    return &pool->servers[idx];
}

void sp_pool_server_failure(struct sp_server *server)
{
    struct sp_pool *pool = server->pool;
    int64_t now;

    if (!pool->conf->auto_eject_hosts || pool->proxy->stopping)
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
                  server->conf->name, pool->conf->server_retry_timeout);
    pool_rebuild(pool);
}

void sp_pool_server_ok(struct sp_server *server)
{
    server->failure_count = 0;
    server->next_retry = 0;
}
