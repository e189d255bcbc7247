/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's life cycle: every pool of a config put into service (servers resolved, placement
 * built, listener open, Sentinel followed) and torn down again.  A running proxy changes config
 * in reload.c; what a reload drops finishes its work in retire.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "report/log.h"

/* sp_proxy_check for one pool; err without the file name. */
static int pool_check(const struct sp_conf_pool *cp, const struct sp_registry *reg, char *err,
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

int sp_proxy_check(const struct sp_conf *conf, const struct sp_registry *reg, char *err,
                   size_t errlen)
{
    char why[512];

    for (size_t i = 0; i < conf->npools; i++) {
        if (pool_check(&conf->pools[i], reg, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: %s", conf->path, why);
            return -1;
        }
    }
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
    if (pool_check(cp, reg, err, errlen) < 0)
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
       restarts: the pid and the clock. */
    snprintf(proxy->move_id, sizeof(proxy->move_id), "sp%x.%llx", (unsigned)getpid(),
             (unsigned long long)sp_usec_now());
    proxy->conf = conf;
    proxy->reg = reg;
    proxy->stats = stats;
    proxy->gst = stats != NULL ? sp_stats_global(stats) : &proxy->own_gst;
    /* -m sizes each read, as nutcracker's mbuf does (its smallest, 512, is allowed here too). */
    proxy->read_size = opt != NULL && opt->mbuf_size > 0 ? opt->mbuf_size
                                                         : SP_PROXY_DEFAULT_MBUF_SIZE;
    proxy->hwm = opt != NULL && opt->high_watermark > 0 ? opt->high_watermark
                                                        : SP_PROXY_DEFAULT_HIGH_WATERMARK;
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
