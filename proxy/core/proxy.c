/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's life cycle: every pool of a config put into service (pool.c) with its listener
 * open, and torn down again.  A running proxy changes config in reload.c; what a reload drops
 * finishes its work in retire.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "listener.h"
#include "pool.h"
#include "proxy.h"
#include "report/log.h"
#include "report/stats.h"
#include "req.h"
#include "retire.h"
#include "world.h"

int sp_proxy_check(const struct sp_conf *conf, const struct sp_registry *reg, char *err,
                   size_t errlen)
{
    char why[512];

    for (size_t i = 0; i < conf->npools; i++) {
        if (sp_pool_check(&conf->pools[i], reg, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: %s", conf->path, why);
            return -1;
        }
    }
    return 0;
}

int sp_proxy_reserve(struct sp_proxy *proxy, size_t maxservers)
{
    uint32_t *sf;
    struct evbuffer **fo, **fr;

    if (maxservers <= proxy->maxservers)
        return 0;
    sf = realloc(proxy->srv_frag, maxservers * sizeof(*sf));
    if (sf == NULL)
        return -1;
    proxy->srv_frag = sf;
    fo = realloc(proxy->frag_out, maxservers * sizeof(*fo));
    if (fo == NULL)
        return -1;
    proxy->frag_out = fo;
    fr = realloc(proxy->frag_rep, maxservers * sizeof(*fr));
    if (fr == NULL)
        return -1;
    proxy->frag_rep = fr;
    /* no fragment yet for any server */
    memset(sf + proxy->maxservers, 0xff, (maxservers - proxy->maxservers) * sizeof(*sf));
    proxy->maxservers = maxservers;
    return 0;
}

size_t sp_conf_max_servers(const struct sp_conf *conf)
{
    size_t n = 1;

    for (size_t p = 0; p < conf->npools; p++) {
        const struct sp_conf_pool *src = conf->pools[p].migrate_from;

        if (conf->pools[p].nservers > n)
            n = conf->pools[p].nservers;
        if (src != NULL && src->nservers > n)
            n = src->nservers; /* a waiting proxy splits by the source layout (migrate.c) */
    }
    return n;
}

struct sp_proxy *sp_proxy_new(struct event_base *base, const struct sp_conf *conf,
                              const struct sp_registry *reg, struct sp_stats *stats,
                              const struct sp_proxy_options *opt, char *err, size_t errlen)
{
    struct sp_proxy *proxy = calloc(1, sizeof(*proxy));

    if (proxy == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    proxy->base = base;
    /* Lock tokens of key moves (migrate.c) must differ between processes, also across
       restarts, and between the workers of one: the pid, the clock and the worker. */
    snprintf(proxy->move_id, sizeof(proxy->move_id), "sp%x.%llx.%u", (unsigned)getpid(),
             (unsigned long long)sp_usec_now(),
             opt != NULL && opt->world != NULL ? opt->world->index : 0u);
    proxy->conf = conf;
    proxy->reg = reg;
    proxy->stats = stats;
    proxy->gst = stats != NULL ? sp_stats_global(stats) : &proxy->own_gst;
    /* -m sizes each read, as nutcracker's mbuf does (its smallest, 512, is allowed here too). */
    proxy->read_size = opt != NULL && opt->mbuf_size > 0 ? opt->mbuf_size
                                                         : SP_PROXY_DEFAULT_MBUF_SIZE;
    proxy->hwm = opt != NULL && opt->high_watermark > 0 ? opt->high_watermark
                                                        : SP_PROXY_DEFAULT_HIGH_WATERMARK;
    proxy->shared_port = opt != NULL && opt->shared_port;
    proxy->follower = opt != NULL && opt->follower;
    proxy->world = opt != NULL ? opt->world : NULL;
    TAILQ_INIT(&proxy->free_reqs);
    TAILQ_INIT(&proxy->free_busy);
    TAILQ_INIT(&proxy->retired_pools);
    TAILQ_INIT(&proxy->retired_servers);
    if (sp_flusher_init(&proxy->flusher, base) < 0)
        goto oom;
    proxy->scratch = evbuffer_new();
    proxy->discard = evbuffer_new();
    proxy->pools = calloc(conf->npools ? conf->npools : 1, sizeof(*proxy->pools));
    if (proxy->scratch == NULL || proxy->discard == NULL || proxy->pools == NULL ||
        sp_proxy_reserve(proxy, sp_conf_max_servers(conf)) < 0)
        goto oom;
    for (size_t p = 0; p < conf->npools; p++) {
        struct sp_pool *pool = sp_pool_new(proxy, reg, &conf->pools[p], (unsigned)p, err, errlen);

        if (pool == NULL)
            goto fail;
        proxy->pools[p] = pool;
        proxy->npools = p + 1;
        sp_pool_attach_stats(pool, stats, p);
        if (sp_listener_open(pool, err, errlen) < 0)
            goto fail;
    }
    if (sp_trim_start(proxy) < 0 || sp_retire_start(proxy) < 0)
        goto oom;
    for (size_t p = 0; p < proxy->npools; p++)
        sp_pool_preconnect(proxy->pools[p]);
    return proxy;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    sp_proxy_free(proxy);
    return NULL;
}

void sp_proxy_free(struct sp_proxy *proxy)
{
    if (proxy == NULL)
        return;
    proxy->stopping = true;
    sp_trim_stop(proxy);
    sp_retire_stop(proxy); /* frees what is still retired */
    for (size_t p = 0; p < proxy->npools; p++)
        sp_pool_free(proxy->pools[p]);
    free(proxy->pools);
    sp_flusher_fini(&proxy->flusher);
    sp_req_free_all(proxy);
    sp_client_cache_free(proxy);
    if (proxy->scratch != NULL)
        evbuffer_free(proxy->scratch);
    if (proxy->discard != NULL)
        evbuffer_free(proxy->discard);
    free(proxy->keybuf);
    free(proxy->srv_frag);
    free(proxy->frag_out);
    free(proxy->frag_rep);
    free(proxy->key_srv);
    free(proxy->key_from);
    free(proxy);
}

void sp_proxy_count_clients(struct sp_proxy *proxy, long *counters)
{
    struct sp_pool *pool;

    for (size_t i = 0; i < proxy->npools; i++) {
        proxy->pools[i]->all_clients = &counters[i];
        counters[i] += (long)proxy->pools[i]->nclients;
    }
    TAILQ_FOREACH(pool, &proxy->retired_pools, rlink)
        pool->all_clients = NULL; /* its clients no longer count: the new pool's do */
}

const char *sp_proxy_worker_label(const struct sp_proxy *proxy, char *buf, size_t len)
{
    if (proxy->world == NULL || len == 0)
        return "";
    snprintf(buf, len, " (worker %u)", proxy->world->index);
    return buf;
}
