/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The statistics as Prometheus metrics (text exposition format 0.0.4), for `GET /metrics` on the
 * stats port: every field of the nutcracker JSON under a Prometheus name (stats.h's lists), with
 * `pool` and `server` labels, plus per-server request latency histograms.
 */
#ifndef SP_METRICS_H
#define SP_METRICS_H

#include <time.h>

struct evbuffer;
struct sp_stats;

/* The Content-Type of the exposition. */
#define SP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Appends the current values (live, not the JSON's snapshot) to `out`.  `now` is the time the
 * uptime is measured to.  Returns 0, or -1 when out of memory (`out` then holds part of it).
 */
int sp_metrics_render(struct sp_stats *stats, time_t now, struct evbuffer *out);

#endif /* SP_METRICS_H */
