/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's life cycle: every pool of a config put into service (servers resolved, placer
 * built, listener open) and torn down again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int pool_init(struct sp_proxy *proxy, struct sp_pool *pool, unsigned idx, char *err,
                     size_t errlen)
{
    const struct sp_conf_pool *cp = &proxy->conf->pools[idx];
    char why[256];

    pool->proxy = proxy;
    pool->conf = cp;
    pool->idx = idx;
    /* The config's `redis:` flag picks the wire protocol (false, nutcracker's default: memcached). */
    pool->proto = cp->redis ? &sp_proto_redis : &sp_proto_memcache;
    TAILQ_INIT(&pool->clients);
    pool->st = proxy->stats != NULL ? sp_stats_pool(proxy->stats, idx) : &pool->own_st;
    if (pool_check(cp, proxy->reg, err, errlen) < 0)
        return -1;
    pool->nservers = cp->nservers;
    pool->servers = calloc(cp->nservers, sizeof(*pool->servers));
    pool->live = calloc(cp->nservers, sizeof(*pool->live));
    if (pool->servers == NULL || pool->live == NULL) {
        snprintf(err, errlen, "pool '%s': out of memory", cp->name);
        return -1;
    }
    for (size_t i = 0; i < cp->nservers; i++) {
        struct sp_server *s = &pool->servers[i];

        s->pool = pool;
        s->conf = &cp->servers[i];
        s->idx = (unsigned)i;
        s->st = proxy->stats != NULL ? sp_stats_server(proxy->stats, idx, i) : &s->own_st;
        if (sp_addr_resolve(&s->conf->addr, &s->addr, &s->addrlen, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "pool '%s': server '%s': %s", cp->name, s->conf->name, why);
            return -1;
        }
        pool->live[i] = true;
    }
    pool->nlive = cp->nservers;
    pool->placer = sp_placer_new(proxy->reg, cp, NULL, why, sizeof(why));
    if (pool->placer == NULL) {
        snprintf(err, errlen, "pool '%s': %s", cp->name, why);
        return -1;
    }
    if (sp_listener_open(pool, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "pool '%s': %s", cp->name, why);
        return -1;
    }
    return 0;
}

static void pool_fini(struct sp_pool *pool)
{
    struct sp_client *cl;

    sp_listener_close(pool);
    while ((cl = TAILQ_FIRST(&pool->clients)) != NULL)
        sp_client_close(cl);
    for (size_t i = 0; pool->servers != NULL && i < pool->nservers; i++)
        sp_server_close_all(&pool->servers[i]);
    for (size_t i = 0; pool->servers != NULL && i < pool->nservers; i++)
        free(pool->servers[i].conns);
    free(pool->servers);
    free(pool->live);
    sp_placer_free(pool->placer);
}

static void pool_preconnect(struct sp_pool *pool)
{
    const char *reason;

    if (!pool->conf->preconnect)
        return;
    for (size_t i = 0; i < pool->nservers; i++)
        (void)sp_server_conn(&pool->servers[i], 0, &reason); /* failures counted and logged */
}

struct sp_proxy *sp_proxy_new(struct event_base *base, const struct sp_conf *conf,
                              const struct sp_registry *reg, struct sp_stats *stats,
                              const struct sp_proxy_options *opt, char *err, size_t errlen)
{
    struct sp_proxy *proxy = calloc(1, sizeof(*proxy));
    size_t maxservers = 1;

    if (proxy == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    proxy->base = base;
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
    if (sp_flusher_init(&proxy->flusher, base) < 0) {
        snprintf(err, errlen, "out of memory");
        sp_proxy_free(proxy);
        return NULL;
    }
    proxy->scratch = evbuffer_new();
    proxy->discard = evbuffer_new();
    for (size_t p = 0; p < conf->npools; p++) {
        if (conf->pools[p].nservers > maxservers)
            maxservers = conf->pools[p].nservers;
    }
    proxy->srv_frag = calloc(maxservers, sizeof(*proxy->srv_frag));
    proxy->frag_out = calloc(maxservers, sizeof(*proxy->frag_out));
    proxy->frag_rep = calloc(maxservers, sizeof(*proxy->frag_rep));
    proxy->pools = calloc(conf->npools ? conf->npools : 1, sizeof(*proxy->pools));
    if (proxy->scratch == NULL || proxy->discard == NULL || proxy->srv_frag == NULL ||
        proxy->frag_out == NULL || proxy->frag_rep == NULL || proxy->pools == NULL) {
        snprintf(err, errlen, "out of memory");
        sp_proxy_free(proxy);
        return NULL;
    }
    memset(proxy->srv_frag, 0xff, maxservers * sizeof(*proxy->srv_frag)); /* no fragment */
    for (size_t p = 0; p < conf->npools; p++) {
        proxy->npools = p + 1;
        if (pool_init(proxy, &proxy->pools[p], (unsigned)p, err, errlen) < 0) {
            sp_proxy_free(proxy);
            return NULL;
        }
    }
    if (sp_trim_start(proxy) < 0) {
        snprintf(err, errlen, "out of memory");
        sp_proxy_free(proxy);
        return NULL;
    }
    for (size_t p = 0; p < proxy->npools; p++)
        pool_preconnect(&proxy->pools[p]);
    return proxy;
}

void sp_proxy_free(struct sp_proxy *proxy)
{
    if (proxy == NULL)
        return;
    proxy->stopping = true;
    sp_trim_stop(proxy);
    for (size_t p = 0; p < proxy->npools; p++)
        pool_fini(&proxy->pools[p]);
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
    free(proxy);
}
