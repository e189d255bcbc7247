/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool (struct sp_pool): its servers, its placement (struct sp_placement), its clients; its
 * life cycle (pool.c), placement and ejection (eject.c).
 */
#ifndef SP_POOL_H
#define SP_POOL_H

#include "core.h"
#include "layout.h"
#include "report/log.h"
#include "report/stats.h"

/* A pool's placement as it stands: the placer built from the servers that are live now. */
struct sp_placement {
    struct sp_placer *placer;     /* NULL while no server is live */
    bool *live;                   /* per server (config order): taking part in placement */
    size_t nlive;
    int64_t next_rebuild;         /* usec (wall clock): earliest retry of an ejected server */
};

struct sp_pool {
    struct sp_proxy *proxy;
    const struct sp_conf_pool *conf; /* the running config's, or a retired pool's own copy */
    struct sp_conf_pool *own_conf;   /* retired: the copy above (freed with the pool) */
    unsigned idx;
    const struct sp_proto *proto;
    struct sp_listener *listener; /* NULL: not listening (yet, or any more) */
    struct sp_log_limit refuse_log; /* over client_connections: one log line a second */
    struct sp_server **servers;   /* in the config's order */
    size_t nservers;
    struct sp_placement place;    /* who owns a key now (eject.c) */
    struct sp_sentinel *sentinel; /* a Sentinel pool's client (failover.c), else NULL */
    struct sp_migration *mig;     /* its keys move (migrate.c), else NULL */
    char conn_name[SP_CONN_NAME_MAX]; /* what its server connections are called when steady */
    struct sp_client_q clients;
    size_t nclients;
    long *all_clients;            /* several workers: the pool's clients in all of them (one
                                     counter, atomic; client_connections is per process) */
    bool retired;                 /* gone from the config: replies in flight, then closed */
    TAILQ_ENTRY(sp_pool) rlink;   /* proxy->retired_pools */
    struct sp_pool_stats *st;     /* the shared stats, or own_st when there are none */
    struct sp_pool_stats own_st;
};

/* ---- pool.c: a pool's life cycle ---- */

/*
 * Can pool `cp` be put into service: its addresses resolve and its placement can be built with
 * the plugins of `reg`?  Returns 0, or -1 with err naming the pool (not the file).
 */
int sp_pool_check(const struct sp_conf_pool *cp, const struct sp_registry *reg, char *err,
                  size_t errlen);

/*
 * A pool for config `cp` (index `idx` in its config), placed with the plugins of `reg`: servers
 * resolved, placement built, a Sentinel pool's masters followed; not listening yet
 * (sp_listener_open), stats its own until sp_pool_attach_stats.  NULL with err naming the pool.
 */
struct sp_pool *sp_pool_new(struct sp_proxy *proxy, const struct sp_registry *reg,
                            const struct sp_conf_pool *cp, unsigned idx, char *err,
                            size_t errlen);

/* Closes the pool's listener, clients and server connections and frees it.  NULL: no-op. */
void sp_pool_free(struct sp_pool *pool);

/* Points the pool's and its servers' counters at pool `idx` of `stats` (NULL: their own). */
void sp_pool_attach_stats(struct sp_pool *pool, struct sp_stats *stats, size_t idx);

/* Connects to every server now when the pool has `preconnect`. */
void sp_pool_preconnect(struct sp_pool *pool);

/* ---- eject.c: placement and ejection ---- */

/*
 * Which server owns `key` right now: rebuilds the placer first when an ejected server's retry
 * time has come.  Returns the server, or NULL with *reason set when no server is live.
 */
struct sp_server *sp_pool_locate(struct sp_pool *pool, const void *key, size_t len,
                                 const char **reason);

/*
 * Builds the placement of pool config `cp` over `servers` (its servers, config order): servers
 * ejected now (their retry time not passed, in a pool that ejects) are left out.  Allocates; the
 * running pool is not touched (a reload builds the next placement before switching).  Returns 0
 * or -1 with err set.
 */
int sp_placement_build(const struct sp_registry *reg, const struct sp_conf_pool *cp,
                       struct sp_server *const *servers, struct sp_placement *out, char *err,
                       size_t errlen);

/* Frees a placement (safe on a zeroed one). */
void sp_placement_free(struct sp_placement *p);

/* A server connection failed or closed: counts it and ejects the server at the limit. */
void sp_pool_server_failure(struct sp_server *server);

/* A server answered: its consecutive failure count starts over. */
void sp_pool_server_ok(struct sp_server *server);

#endif /* SP_POOL_H */
