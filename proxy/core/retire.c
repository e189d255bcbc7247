/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a reload drops finishes its work before it goes.
 *
 * A retired server takes no new request (placement no longer names it) but its connections
 * still deliver the replies to what was sent; each is closed once idle, and the server freed when
 * none is left.  A retired pool listens no more; its clients get the replies to what they sent
 * and are then closed (their side shut, as after QUIT), its servers are retired; it is freed once
 * it has no client and no server left.  A timer looks twice a second: it closes the retired
 * pools' clients whose last replies have reached their peers, and a retired server that still
 * has requests in flight after its pool's timeout (10 s without one) has them failed.
 *
 * Retired objects keep their own copy of what they read from the config and their own counters,
 * so the config and stats they were made with can be freed at once after a reload.
 */
#include "config.h"

#include <stdlib.h>

#include "client.h"
#include "conf.h"
#include "core.h"
#include "failover.h"
#include "hold.h"
#include "pool.h"
#include "proxy.h"
#include "replica.h"
#include "report/log.h"
#include "report/stats.h"
#include "retire.h"
#include "sconn.h"
#include "server.h"

#define SP_RETIRE_TICK_MS 500
#define SP_RETIRE_MAX_MS 10000

/* How long a retired server may keep requests in flight, in usec. */
static uint64_t retire_limit(const struct sp_server *s)
{
    int timeout = s->pool->conf->timeout;

    return (uint64_t)(timeout > 0 && timeout < SP_RETIRE_MAX_MS ? timeout : SP_RETIRE_MAX_MS) *
           1000;
}

/* Counted servers of `pool` that are retired and not yet freed. */
static size_t pool_retired_servers(const struct sp_proxy *proxy, const struct sp_pool *pool)
{
    const struct sp_server *s;
    size_t n = 0;

    TAILQ_FOREACH(s, &proxy->retired_servers, rlink)
        n += s->pool == pool;
    return n;
}

/* Closes the clients of a retired pool that are done (sp_client_retire may free them). */
static void retire_clients(struct sp_pool *pool)
{
    struct sp_client *cl, *next;

    for (cl = TAILQ_FIRST(&pool->clients); cl != NULL; cl = next) {
        next = TAILQ_NEXT(cl, link);
        sp_client_retire(cl);
    }
}

/* Frees what is done: idle retired servers, closed clients, then empty retired pools. */
static void retire_reap(struct sp_proxy *proxy)
{
    uint64_t now = sp_loop_usec(proxy->base);
    struct sp_server *s, *snext;
    struct sp_pool *p, *pnext;
    char label[32];

    for (s = TAILQ_FIRST(&proxy->retired_servers); s != NULL; s = snext) {
        snext = TAILQ_NEXT(s, rlink);
        if (sp_server_close_idle(s) > 0) {
            if (now - s->retired_at < retire_limit(s))
                continue;
            sp_log_warn("pool '%s': server '%s' was removed by a reload %llu ms ago and still "
                        "has requests in flight: failing them%s", s->pool->conf->name, s->name,
                        (unsigned long long)((now - s->retired_at) / 1000),
                        sp_proxy_worker_label(proxy, label, sizeof(label)));
        }
        TAILQ_REMOVE(&proxy->retired_servers, s, rlink);
        sp_server_free(s); /* fails what is left, if anything */
    }
    for (p = TAILQ_FIRST(&proxy->retired_pools); p != NULL; p = pnext) {
        pnext = TAILQ_NEXT(p, rlink);
        retire_clients(p);
        if (p->nclients > 0 || pool_retired_servers(proxy, p) > 0)
            continue;
        TAILQ_REMOVE(&proxy->retired_pools, p, rlink);
        /* Each worker says it of its own clients. */
        sp_log_notice("pool '%s': every client of the removed pool is gone%s", p->conf->name,
                      sp_proxy_worker_label(proxy, label, sizeof(label)));
        sp_pool_free(p);
    }
}

static void retire_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    retire_reap(arg);
}

int sp_retire_start(struct sp_proxy *proxy)
{
    struct timeval tv = { 0, SP_RETIRE_TICK_MS * 1000 };

    proxy->retire_timer = event_new(proxy->base, -1, EV_PERSIST, retire_tick, proxy);
    if (proxy->retire_timer == NULL || event_add(proxy->retire_timer, &tv) < 0)
        return -1;
    return 0;
}

void sp_retire_stop(struct sp_proxy *proxy)
{
    struct sp_server *s;
    struct sp_pool *p;

    if (proxy->retire_timer != NULL)
        event_free(proxy->retire_timer);
    proxy->retire_timer = NULL;
    while ((s = TAILQ_FIRST(&proxy->retired_servers)) != NULL) {
        TAILQ_REMOVE(&proxy->retired_servers, s, rlink);
        sp_server_free(s);
    }
    while ((p = TAILQ_FIRST(&proxy->retired_pools)) != NULL) {
        TAILQ_REMOVE(&proxy->retired_pools, p, rlink);
        sp_pool_free(p);
    }
}

void sp_retire_server(struct sp_server *s)
{
    struct sp_proxy *proxy = s->pool->proxy;

    s->retired = true;
    s->retired_at = sp_loop_usec(proxy->base);
    s->conf = NULL;
    if (s->st != &s->own_st) {
        s->own_st = *s->st; /* the shared counters go with the config */
        s->st = &s->own_st;
    }
    TAILQ_INSERT_TAIL(&proxy->retired_servers, s, rlink);
    sp_hold_fail_all(s, "server removed by a reload");
    sp_replica_free(s);
    (void)sp_server_close_idle(s);
}

void sp_retire_pool(struct sp_pool *pool, struct sp_conf_pool *own)
{
    struct sp_proxy *proxy = pool->proxy;

    pool->retired = true;
    pool->own_conf = own;
    pool->conf = own;
    if (pool->st != &pool->own_st) {
        pool->own_st = *pool->st;
        pool->st = &pool->own_st;
    }
    sp_failover_stop(pool);
    sp_placement_free(&pool->place);
    for (size_t i = 0; i < pool->nservers; i++)
        sp_retire_server(pool->servers[i]);
    free(pool->servers);
    pool->servers = NULL;
    pool->nservers = 0;
    retire_clients(pool);
    TAILQ_INSERT_TAIL(&proxy->retired_pools, pool, rlink);
}
