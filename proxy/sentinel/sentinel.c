/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Sentinel client's life cycle: its masters and links set up from the pool config, the
 * periodic re-ask, the teardown.  What it believes is in sentinel_view.c, how it talks to each
 * Sentinel in sentinel_link.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentinel/sentinel_int.h"

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_sentinel *sn = arg;

    (void)fd;
    (void)what;
    sn_view_requery(sn);
}

/* Options with the defaults filled in, and kept sane (max >= min). */
static struct sp_sentinel_options options(const struct sp_sentinel_options *opt)
{
    struct sp_sentinel_options o = { 0 };

    if (opt)
        o = *opt;
    if (o.timeout_ms <= 0)
        o.timeout_ms = SP_SENTINEL_DEFAULT_TIMEOUT;
    if (o.interval_ms <= 0)
        o.interval_ms = SP_SENTINEL_DEFAULT_INTERVAL;
    if (o.backoff_min_ms <= 0)
        o.backoff_min_ms = SP_SENTINEL_DEFAULT_BACKOFF_MIN;
    if (o.backoff_max_ms <= 0)
        o.backoff_max_ms = SP_SENTINEL_DEFAULT_BACKOFF_MAX;
    if (o.backoff_max_ms < o.backoff_min_ms)
        o.backoff_max_ms = o.backoff_min_ms;
    return o;
}

struct sp_sentinel *sp_sentinel_new(struct event_base *base, const struct sp_conf_pool *pool,
                                    const struct sp_sentinel_callbacks *cb,
                                    const struct sp_sentinel_options *opt, char *err,
                                    size_t errlen)
{
    struct sp_sentinel *sn = calloc(1, sizeof(*sn));

    if (!sn)
        goto oom;
    if (!sp_conf_pool_is_sentinel(pool)) {
        snprintf(err, errlen, "pool '%s' has no 'sentinels:' list", pool->name);
        free(sn);
        return NULL;
    }
    sn->base = base;
    sn->pool = pool;
    if (cb)
        sn->cb = *cb;
    sn->opt = options(opt);
    sn->nmasters = pool->nservers;
    sn->masters = calloc(pool->nservers ? pool->nservers : 1, sizeof(*sn->masters));
    sn->links = calloc(pool->nsentinels, sizeof(*sn->links));
    sn->tick = event_new(base, -1, EV_PERSIST, tick_cb, sn);
    if (!sn->masters || !sn->links || !sn->tick)
        goto oom;
    if (sn_view_init(sn) != 0) {
        snprintf(err, errlen, "pool '%s': a server's host name is too long", pool->name);
        goto fail;
    }
    for (size_t i = 0; i < pool->nsentinels; i++) {
        sn->nlinks = i + 1;
        if (sn_link_init(sn, i, err, errlen) != 0)
            goto fail;
    }
    struct timeval tv = { sn->opt.interval_ms / 1000, (sn->opt.interval_ms % 1000) * 1000 };
    evtimer_add(sn->tick, &tv);
    for (size_t i = 0; i < sn->nlinks; i++)
        sn_link_connect(&sn->links[i]);
    return sn;
oom:
    snprintf(err, errlen, "pool '%s': out of memory", pool->name);
fail:
    sp_sentinel_free(sn);
    return NULL;
}

void sp_sentinel_free(struct sp_sentinel *sn)
{
    if (!sn)
        return;
    for (size_t i = 0; i < sn->nlinks; i++)
        sn_link_fini(&sn->links[i]);
    if (sn->tick)
        event_free(sn->tick);
    free(sn->links);
    free(sn->masters);
    free(sn);
}

int sp_sentinel_current(const struct sp_sentinel *sn, size_t server, const char **host,
                        int *port, long long *epoch)
{
    if (server >= sn->nmasters)
        return -1;
    *host = sn->masters[server].addr.host;
    *port = sn->masters[server].addr.port;
    *epoch = sn->masters[server].epoch;
    return 0;
}

int sp_sentinel_replica(const struct sp_sentinel *sn, size_t server, const char **host,
                        int *port)
{
    if (server >= sn->nmasters || sn->masters[server].replica.port == 0)
        return -1;
    *host = sn->masters[server].replica.host;
    *port = sn->masters[server].replica.port;
    return 0;
}

void sp_sentinel_on_replicas(struct sp_sentinel *sn, void (*on_replicas)(void *ctx, size_t server))
{
    sn->on_replicas = on_replicas;
}

const char *sp_sentinel_why_name(enum sp_sentinel_why why)
{
    switch (why) {
    case SP_SENTINEL_FIRST:
        return "first answer";
    case SP_SENTINEL_SWITCH:
        return "+switch-master";
    case SP_SENTINEL_NEWER:
        return "newer config epoch";
    }
    return "?";
}

const char *sp_sentinel_state_name(enum sp_sentinel_state state)
{
    switch (state) {
    case SP_SENTINEL_UP:
        return "up";
    case SP_SENTINEL_SDOWN:
        return "sdown";
    case SP_SENTINEL_ODOWN:
        return "odown";
    }
    return "?";
}
