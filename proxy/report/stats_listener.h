/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stats server: a TCP listener (-a:-s) that answers a plain connection with the latest stats
 * snapshot (one JSON document) and closes it, as nutcracker does.  The snapshot is rendered at
 * start and then every -i msec, so readers see values at most one interval old and every
 * reader within an interval sees the same document.  An HTTP request for /metrics gets an HTTP
 * answer instead, the live values as Prometheus metrics; every other request gets the JSON, as
 * from nutcracker.  A client that sends nothing gets the JSON once SP_STATS_REQUEST_WAIT_MSEC
 * have passed.
 */
#ifndef SP_STATS_LISTENER_H
#define SP_STATS_LISTENER_H

#include <stddef.h>

struct event_base;
struct sp_stats;
struct sp_stats_listener;

/*
 * Binds addr:port (addr is a numeric address or a host name; port 1..65535), renders a first
 * snapshot and schedules the refresh every `interval_ms`.  `stats` must outlive the server.
 * Returns NULL with err set naming the address ("stats server: bind 0.0.0.0:22222 failed:
 * Address already in use").
 */
struct sp_stats_listener *sp_stats_listener_new(struct event_base *base, struct sp_stats *stats,
                                            const char *addr, int port, int interval_ms,
                                            char *err, size_t errlen);

/* Closes the listener and any connection still being answered; NULL is a no-op. */
void sp_stats_listener_free(struct sp_stats_listener *srv);

/* Renders a new snapshot now (also done by the timer).  Returns 0, or -1 when out of memory
 * (the previous snapshot is kept). */
int sp_stats_listener_refresh(struct sp_stats_listener *srv);

/* Serves `stats` from now on (a reload made new ones; the old may be freed after this). */
void sp_stats_listener_set_stats(struct sp_stats_listener *srv, struct sp_stats *stats);

/*
 * Calls fn(ctx) before each rendering (the JSON snapshot, a /metrics answer) so that the owner
 * can bring the stats up to date first: with several workers they are the sum of the workers'
 * own (sp_stats_sum).  NULL: no call (the default).
 */
void sp_stats_listener_before_render(struct sp_stats_listener *srv, void (*fn)(void *ctx),
                                     void *ctx);

#endif /* SP_STATS_LISTENER_H */
