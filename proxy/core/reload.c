/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hot reload: a running proxy takes a new config without dropping anything it does not have to.
 *
 * A pool is the same pool across a reload when its name, listen address and protocol are
 * unchanged: its listener and clients stay, and so do its servers that remain (same name; same
 * address too, except in a Sentinel pool, where the address is Sentinel's) with their
 * connections, unless what a connection is set up with changed (redis_auth, redis_db,
 * server_connections, tcpkeepalive).  The new placement replaces the old at one instant between
 * two requests.  Other pools are new (listening on their address; on the address of a pool that
 * goes, the listening socket is handed over, never closed) or gone (retire.c).
 *
 * Two phases: everything that can fail (resolving, building placements, binding new listeners,
 * starting Sentinel clients, copying configs) is done first, with the running config untouched;
 * any failure undoes it and the proxy goes on as it was.  Then the switch, which cannot fail.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "core.h"
#include "failover.h"
#include "flow.h"
#include "layout.h"
#include "listener.h"
#include "migration.h"
#include "pool.h"
#include "proxy.h"
#include "report/log.h"
#include "report/stats.h"
#include "retire.h"
#include "sentinel/sentinel.h"
#include "server.h"

/* What becomes of one pool of the new config. */
struct plan {
    const struct sp_conf_pool *cp;
    struct sp_pool *kept;         /* the running pool it continues, or NULL */
    struct sp_pool *fresh;        /* else a new pool */
    struct sp_pool *takes_from;   /* fresh: the going pool whose listening socket it takes */
    struct sp_server **servers;   /* kept: its servers in the new order */
    bool *made;                   /* kept: servers[i] is new (not a running one) */
    struct sp_placement place;    /* kept: the new placement */
    struct sp_sentinel *sentinel; /* kept Sentinel pool: the client for the new config */
    struct sp_migration *mig;     /* kept migrating pool: its migration under the new config */
};

/* Everything a reload prepares, undone on failure. */
struct sp_reload {
    struct sp_proxy *proxy;
    const struct sp_conf *conf;
    const struct sp_registry *reg;
    struct plan *plans;           /* one per pool of the new config */
    struct sp_pool **pools;       /* the new proxy->pools */
    bool *kept_old;               /* per running pool: continued by some plan */
    struct sp_conf_pool **own;    /* per running pool that goes: its config's copy */
    char *err;
    size_t errlen;
    size_t nown;                  /* entries of own: the running pools before the switch */
};

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Do connections to the pool's servers have to be made again (what they are set up with)? */
static bool conns_change(const struct sp_conf_pool *a, const struct sp_conf_pool *b)
{
    return !str_eq(a->redis_auth, b->redis_auth) || a->redis_db != b->redis_db ||
           a->server_connections != b->server_connections || a->tcpkeepalive != b->tcpkeepalive;
}

static struct sp_pool *running_pool(const struct sp_proxy *proxy, const char *name, size_t *idx)
{
    for (size_t i = 0; i < proxy->npools; i++) {
        if (strcmp(proxy->pools[i]->conf->name, name) == 0) {
            *idx = i;
            return proxy->pools[i];
        }
    }
    return NULL;
}

/* The running server of `pool` that config entry `cs` continues, or NULL. */
static struct sp_server *running_server(const struct sp_pool *pool, const struct sp_conf_pool *cp,
                                        const struct sp_conf_server *cs)
{
    for (size_t i = 0; i < pool->nservers; i++) {
        struct sp_server *s = pool->servers[i];

        if (strcmp(s->name, cs->name) != 0)
            continue;
        /* Where it is now: in a Sentinel pool that is Sentinel's business, not the file's. */
        if (sp_conf_pool_is_sentinel(cp) || strcmp(s->addr_text, cs->addr.text) == 0)
            return s;
    }
    return NULL;
}

static int fail(struct sp_reload *r, const char *pool, const char *why)
{
    snprintf(r->err, r->errlen, "pool '%s': %s", pool, why);
    return -1;
}

/* Prepares a pool that continues: its servers in the new order, its next placement. */
static int prepare_kept(struct sp_reload *r, struct plan *pl)
{
    const struct sp_conf_pool *cp = pl->cp;
    struct sp_pool *pool = pl->kept;
    bool reset = conns_change(pool->conf, cp);
    char why[256];

    pl->servers = calloc(cp->nservers ? cp->nservers : 1, sizeof(*pl->servers));
    pl->made = calloc(cp->nservers ? cp->nservers : 1, sizeof(*pl->made));
    if (pl->servers == NULL || pl->made == NULL)
        return fail(r, cp->name, "out of memory");
    for (size_t i = 0; i < cp->nservers; i++) {
        struct sp_server *s = reset ? NULL : running_server(pool, cp, &cp->servers[i]);

        if (s == NULL) {
            s = sp_server_new(pool, &cp->servers[i], (unsigned)i, why, sizeof(why));
            if (s == NULL)
                return fail(r, cp->name, why);
            pl->made[i] = true;
        }
        pl->servers[i] = s;
    }
    if (sp_placement_build(r->reg, cp, pl->servers, &pl->place, why, sizeof(why)) < 0)
        return fail(r, cp->name, why);
    if (sp_conf_pool_is_sentinel(cp) && !r->proxy->follower &&
        (pl->sentinel = sp_failover_client(pool, cp, why, sizeof(why))) == NULL)
        return fail(r, cp->name, why);
    if (cp->migrate_from != NULL &&
        (pl->mig = sp_mig_prepare(pool, r->reg, cp, pl->servers, why, sizeof(why))) == NULL)
        return fail(r, cp->name, why);
    return 0;
}

/* Prepares a new pool, listening at once unless it takes a going pool's socket. */
static int prepare_fresh(struct sp_reload *r, struct plan *pl, size_t idx)
{
    struct sp_proxy *proxy = r->proxy;
    char why[512];

    for (size_t i = 0; i < proxy->npools; i++) {
        if (!r->kept_old[i] &&
            strcmp(proxy->pools[i]->conf->listen.text, pl->cp->listen.text) == 0)
            pl->takes_from = proxy->pools[i];
    }
    pl->fresh = sp_pool_new(proxy, r->reg, pl->cp, (unsigned)idx, why, sizeof(why));
    if (pl->fresh == NULL) {
        snprintf(r->err, r->errlen, "%s", why);
        return -1;
    }
    if (pl->takes_from == NULL && sp_listener_open(pl->fresh, why, sizeof(why)) < 0)
        return fail(r, pl->cp->name, why);
    return 0;
}

/* Undoes everything prepared (the running config was not touched). */
static void undo(struct sp_reload *r)
{
    for (size_t i = 0; r->plans != NULL && i < r->conf->npools; i++) {
        struct plan *pl = &r->plans[i];

        sp_pool_free(pl->fresh);
        for (size_t j = 0; pl->servers != NULL && j < pl->cp->nservers; j++) {
            if (pl->made[j])
                sp_server_free(pl->servers[j]);
        }
        free(pl->servers);
        free(pl->made);
        sp_placement_free(&pl->place);
        sp_sentinel_free(pl->sentinel);
        sp_mig_discard(pl->mig);
    }
    for (size_t i = 0; r->own != NULL && i < r->nown; i++)
        sp_conf_pool_free(r->own[i]);
}

static int prepare(struct sp_reload *r)
{
    struct sp_proxy *proxy = r->proxy;
    const struct sp_conf *conf = r->conf;
    size_t n = conf->npools ? conf->npools : 1, nold = proxy->npools ? proxy->npools : 1;

    r->plans = calloc(n, sizeof(*r->plans));
    r->pools = calloc(n, sizeof(*r->pools));
    r->kept_old = calloc(nold, sizeof(*r->kept_old));
    r->own = calloc(nold, sizeof(*r->own));
    r->nown = proxy->npools;
    if (r->plans == NULL || r->pools == NULL || r->kept_old == NULL || r->own == NULL ||
        sp_proxy_reserve(proxy, sp_conf_max_servers(conf)) < 0) {
        snprintf(r->err, r->errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < conf->npools; i++) {
        const struct sp_conf_pool *cp = &conf->pools[i];
        size_t at;
        struct sp_pool *old = running_pool(proxy, cp->name, &at);

        r->plans[i].cp = cp;
        if (old != NULL && strcmp(old->conf->listen.text, cp->listen.text) == 0 &&
            old->conf->redis == cp->redis) {
            r->plans[i].kept = old;
            r->kept_old[at] = true;
        }
    }
    for (size_t i = 0; i < proxy->npools; i++) {
        if (!r->kept_old[i] && (r->own[i] = sp_conf_pool_dup(proxy->pools[i]->conf)) == NULL) {
            snprintf(r->err, r->errlen, "out of memory");
            return -1;
        }
    }
    for (size_t i = 0; i < conf->npools; i++) {
        struct plan *pl = &r->plans[i];

        if ((pl->kept != NULL ? prepare_kept(r, pl) : prepare_fresh(r, pl, i)) < 0)
            return -1;
    }
    return 0;
}

/* ---- the switch ---- */

/*
 * A kept pool's migration follows its new config: made in prepare_kept (a migration that cannot
 * be made fails the reload: routing by the new layout without moving keys would lose them),
 * carried on (the same plan keeps its state: an armed proxy stays armed), replaced or ended
 * here.  The connections are named anew when their name changes.
 */
static void switch_migration(struct sp_pool *pool, struct sp_migration *next)
{
    struct sp_migration *was = pool->mig;
    char before[SP_CONN_NAME_MAX];

    snprintf(before, sizeof(before), "%s", sp_pool_conn_name(pool));
    (void)sp_conf_conn_name(pool->conf, SP_CONN_STEADY, pool->conn_name, sizeof(pool->conn_name));
    pool->mig = next;
    if (next != NULL)
        (void)sp_mig_attach(next, was);
    sp_mig_free(was);
    if (strcmp(before, sp_pool_conn_name(pool)) != 0)
        sp_pool_rename(pool);
    if (next == NULL || !sp_mig_pauses(next))
        sp_client_resume_paused(pool);
}

/* A kept pool takes its new config, servers and placement; the servers it drops retire. */
static void switch_kept(struct plan *pl, size_t idx)
{
    struct sp_pool *pool = pl->kept;

    for (size_t i = 0; i < pool->nservers; i++) {
        bool stays = false;

        for (size_t j = 0; j < pl->cp->nservers && !stays; j++)
            stays = pl->servers[j] == pool->servers[i];
        if (!stays)
            sp_retire_server(pool->servers[i]);
    }
    free(pool->servers);
    pool->servers = pl->servers;
    pool->nservers = pl->cp->nservers;
    pl->servers = NULL;
    for (size_t j = 0; j < pool->nservers; j++) {
        pool->servers[j]->conf = &pl->cp->servers[j];
        pool->servers[j]->idx = (unsigned)j;
    }
    pool->conf = pl->cp;
    pool->idx = (unsigned)idx;
    sp_placement_free(&pool->place);
    pool->place = pl->place;
    memset(&pl->place, 0, sizeof(pl->place));
    sp_failover_stop(pool);
    pool->sentinel = pl->sentinel;
    pl->sentinel = NULL;
    switch_migration(pool, pl->mig);
    pl->mig = NULL;
}

/*
 * Counters go on where objects go on: the new stats get the running pools' and servers' values
 * (retired ones keep their own copies), then everything points at the new stats.
 */
static void switch_stats(struct sp_reload *r, struct sp_stats *stats)
{
    struct sp_proxy *proxy = r->proxy;

    if (stats != NULL && proxy->stats != NULL)
        sp_stats_global_copy(stats, proxy->stats);
    for (size_t i = 0; i < r->conf->npools; i++) {
        struct sp_pool *pool = r->pools[i];

        if (stats != NULL && r->plans[i].kept != NULL) {
            *sp_stats_pool(stats, i) = *pool->st;
            for (size_t j = 0; j < pool->nservers; j++) {
                if (!r->plans[i].made[j])
                    *sp_stats_server(stats, i, j) = *pool->servers[j]->st;
            }
        }
        sp_pool_attach_stats(pool, stats, i);
    }
    proxy->stats = stats;
    proxy->gst = stats != NULL ? sp_stats_global(stats) : &proxy->own_gst;
}

static void commit(struct sp_reload *r, struct sp_stats *stats)
{
    struct sp_proxy *proxy = r->proxy;

    for (size_t i = 0; i < r->conf->npools; i++) {
        struct plan *pl = &r->plans[i];

        if (pl->fresh != NULL && pl->takes_from != NULL)
            sp_listener_move(pl->fresh, pl->takes_from);
        r->pools[i] = pl->kept != NULL ? pl->kept : pl->fresh;
    }
    for (size_t i = 0; i < proxy->npools; i++) {
        if (r->kept_old[i])
            continue;
        sp_listener_close(proxy->pools[i]);
        sp_retire_pool(proxy->pools[i], r->own[i]);
        r->own[i] = NULL;
    }
    for (size_t i = 0; i < r->conf->npools; i++) {
        if (r->plans[i].kept != NULL)
            switch_kept(&r->plans[i], i);
    }
    switch_stats(r, stats);
    free(proxy->pools);
    proxy->pools = r->pools;
    proxy->npools = r->conf->npools;
    r->pools = NULL;
    proxy->conf = r->conf;
    proxy->reg = r->reg;
    proxy->generation++;
    for (size_t i = 0; i < r->conf->npools; i++) {
        if (r->plans[i].fresh != NULL)
            r->plans[i].fresh = NULL; /* in service now: not undone */
        sp_pool_preconnect(proxy->pools[i]);
    }
}

static void reload_free(struct sp_reload *r)
{
    free(r->plans);
    free(r->pools);
    free(r->kept_old);
    free(r->own);
    free(r);
}

struct sp_reload *sp_proxy_reload_prepare(struct sp_proxy *proxy, const struct sp_conf *conf,
                                          const struct sp_registry *reg, char *err,
                                          size_t errlen)
{
    struct sp_reload *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->proxy = proxy;
    r->conf = conf;
    r->reg = reg;
    r->err = err;
    r->errlen = errlen;
    if (prepare(r) < 0) {
        undo(r);
        reload_free(r);
        return NULL;
    }
    return r;
}

void sp_proxy_reload_commit(struct sp_reload *r, struct sp_stats *stats)
{
    const struct sp_conf *was = r->proxy->conf;
    const struct sp_registry *was_reg = r->proxy->reg;

    commit(r, stats);
    undo(r); /* frees what the switch did not take over */
    if (!r->proxy->follower) /* one report for all the workers */
        sp_reload_log(was, was_reg, r->conf, r->reg);
    reload_free(r);
}

void sp_proxy_reload_abort(struct sp_reload *r)
{
    if (r == NULL)
        return;
    undo(r);
    reload_free(r);
}
