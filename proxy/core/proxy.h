/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's data path, as the process shell (main.c) sees it.
 *
 * One sp_proxy serves every pool of a loaded config on one libevent base: a listener per pool,
 * client connections, persistent server connections, placement and ejection.  It is single
 * threaded and never blocks; everything happens in callbacks of `base`.  main.c owns the base,
 * the config, the plugin registry and the stats, and keeps them alive until sp_proxy_free.
 * Connection and server events are logged through proxy/report/log.h.
 */
#ifndef SP_PROXY_H
#define SP_PROXY_H

#include <stddef.h>

#include <event2/event.h>

#include "conf.h"
#include "registry.h"

struct sp_stats;
struct sp_proxy;

/* Tuning from the command line; zero fields take the defaults below. */
struct sp_world;

struct sp_proxy_options {
    size_t mbuf_size;        /* -m: bytes read from a socket per read call (default 16384) */
    size_t high_watermark;   /* back-pressure: bytes pending per client / per server connection
                                before reads from the feeding clients pause (default 4 MiB) */
    /* Several workers (shell/workers.c) serve the same pools, each with its own sp_proxy: */
    bool shared_port;        /* TCP listeners join an SO_REUSEPORT group; the kernel spreads
                                new clients over the workers (the first worker's listener
                                checks beforehand that nobody else listens on the port) */
    bool follower;           /* not the first worker: pools listening on a unix socket are
                                served by the first worker only (no listener here) */
    struct sp_world *world;  /* several workers: how placement decisions are shared (world.h),
                                from the first connection on; NULL: the only worker */
};

#define SP_PROXY_DEFAULT_MBUF_SIZE 16384
#define SP_PROXY_DEFAULT_HIGH_WATERMARK (4u * 1024 * 1024)

/*
 * Starts serving every pool of `conf`: binds and listens on each pool's address (TCP host:port,
 * or a unix socket created with the pool's permissions), builds each pool's placer from `reg`,
 * and connects to the servers of pools with `preconnect`.  `stats` (may be NULL) receives the
 * counters; pool and server indexes are the config's.  conf, reg, stats and base must outlive the
 * proxy.  Returns the proxy, or NULL after closing everything it opened and writing the reason
 * into err[errlen], e.g. "pool 'alpha': listen 127.0.0.1:22121: Address already in use".
 */
struct sp_proxy *sp_proxy_new(struct event_base *base, const struct sp_conf *conf,
                              const struct sp_registry *reg, struct sp_stats *stats,
                              const struct sp_proxy_options *opt, char *err, size_t errlen);

/*
 * Checks what sp_proxy_new would find wrong in `conf` itself, without binding or connecting:
 * every address resolves (unix socket paths fit), every pool's placer builds, every protocol is
 * supported.  For -t and before a config is put in service.  Returns 0, or -1 with err naming
 * the file, the pool and the problem.
 */
int sp_proxy_check(const struct sp_conf *conf, const struct sp_registry *reg, char *err,
                   size_t errlen);

/*
 * Several workers: pool i of `proxy` counts its clients in counters[i] (atomic, shared by the
 * workers, for a client_connections of the process), adding those it has now.  Retired pools
 * stop counting.  Called with every worker parked (at start, after a reload).
 */
void sp_proxy_count_clients(struct sp_proxy *proxy, long *counters);

/* " (worker N)" for a log line about this worker's own objects when several run, else "". */
const char *sp_proxy_worker_label(const struct sp_proxy *proxy, char *buf, size_t len);

/*
 * Puts `conf` (with plugins from `reg`) in service in place of the running config, without
 * dropping what stays (core/reload.c): pools with the same name and listen address keep their
 * listener, clients and the connections of their remaining servers; the placement switches at
 * once; gone pools and servers finish their replies in flight first.  Logs what changed per pool
 * (the first worker only).  In two steps, so that several workers switch together:
 *   - the prepare does everything that can fail (a new address that does not resolve or bind,
 *     out of memory): NULL with err naming the pool and the problem, nothing changed;
 *   - the commit switches, counters in `stats` (may be NULL), and cannot fail; the running
 *     config, registry and stats are then no longer used and may be freed; the new ones must
 *     outlive the proxy (or the next reload);
 *   - the abort undoes the prepare.
 * Nothing else may run on the proxy between a prepare and its commit or abort.
 */
struct sp_reload;
struct sp_reload *sp_proxy_reload_prepare(struct sp_proxy *proxy, const struct sp_conf *conf,
                                          const struct sp_registry *reg, char *err,
                                          size_t errlen);
void sp_proxy_reload_commit(struct sp_reload *r, struct sp_stats *stats);
void sp_proxy_reload_abort(struct sp_reload *r);

/*
 * Closes every listener, client and server connection and frees the proxy; a unix listen socket
 * file is removed.  Pending replies are dropped.  NULL is a no-op.
 */
void sp_proxy_free(struct sp_proxy *proxy);

#endif /* SP_PROXY_H */
