/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The workers (--workers N): N complete data paths serving the same pools, each a struct
 * sp_proxy on its own event loop with its own server connections and its own counters.  Worker
 * 0, the leader, runs on the caller's event base (the main thread: signals, stats server,
 * reloads); workers 1..N-1, the followers, each run a thread.  TCP pools listen in one
 * SO_REUSEPORT group per address (the kernel spreads the clients); a pool on a unix socket is
 * the leader's alone.  The request path has no lock: a follower hears from the leader only
 * through its inbox (a queue and a pipe that wakes its loop), between events.
 *
 * With one worker nothing here starts a thread: it is the single-loop daemon exactly.
 * docs/design/workers.md has the plan this follows; core/world.h, how the workers share one
 * placement decision.
 */
#ifndef SP_WORKERS_H
#define SP_WORKERS_H

#include <stddef.h>
#include <time.h>

struct event_base;
struct sp_conf;
struct sp_proxy;
struct sp_proxy_options;
struct sp_registry;
struct sp_stats;
struct sp_stats_identity;
struct sp_workers;

/*
 * Makes `n` (>= 1) workers for `conf`: the leader's proxy on `base`, the followers' on bases of
 * their own, every listener open; no thread runs yet (sp_workers_start).  `opts` are the data
 * path's options (shared_port and follower are set here); the counters are made with `id` and
 * `started`.  `conf` and `reg` must outlive the workers (or be replaced by a reload).  Returns
 * NULL with err set.
 */
struct sp_workers *sp_workers_new(struct event_base *base, unsigned n, const struct sp_conf *conf,
                                  const struct sp_registry *reg,
                                  const struct sp_proxy_options *opts,
                                  const struct sp_stats_identity *id, time_t started, char *err,
                                  size_t errlen);

/* After fork() (-d): the followers' event bases are re-initialised.  Returns 0 or -1 with err. */
int sp_workers_after_fork(struct sp_workers *ws, char *err, size_t errlen);

/* Starts the followers' threads (signals blocked in them).  Returns 0 or -1 with err. */
int sp_workers_start(struct sp_workers *ws, char *err, size_t errlen);

/* Stops the followers, joins them, frees every worker's proxy and counters.  NULL: no-op. */
void sp_workers_free(struct sp_workers *ws);

unsigned sp_workers_count(const struct sp_workers *ws);

/* The leader's proxy. */
struct sp_proxy *sp_workers_leader(struct sp_workers *ws);

/*
 * The counters the stats server shows: the leader's own with one worker, else a sum (kept up
 * to date by sp_workers_sum_stats).  Changes at a reload.
 */
struct sp_stats *sp_workers_stats(struct sp_workers *ws);

/* Recomputes the sum of the workers' counters (a before-render hook for the stats server). */
void sp_workers_sum_stats(void *ws);

/*
 * Puts `conf` in service in every worker, all or none: each worker prepares (the leader first,
 * then the followers, each in its own thread); if every one succeeded each switches, else every
 * one undoes its preparation and the running config stays.  While the followers switch they
 * block (milliseconds).  Returns 0, or -1 with err set.  On success sp_workers_stats() names new
 * counters (the old ones are freed): hand them to the stats server before the loop runs again.
 */
int sp_workers_reload(struct sp_workers *ws, const struct sp_conf *conf,
                      const struct sp_registry *reg, char *err, size_t errlen);

#endif /* SP_WORKERS_H */
