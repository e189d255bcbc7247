/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition of the statistics.  One family per stats field, named by its
 * `metric` column; samples of a family are written together (the format requires it), so the
 * loops run field by field over every pool and server rather than object by object.
 */
#include "config.h"

#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "conf.h"
#include "stats.h"

#define PREFIX "shardproxy_"

/* An output that remembers the first failure, so the renderers need not check every write. */
struct out {
    struct evbuffer *buf;
    int failed;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (evbuffer_add_vprintf(o->buf, fmt, ap) < 0)
        o->failed = 1;
    va_end(ap);
}

/* A label value: backslash, double quote and newline escaped, as the format requires. */
static void emit_label_value(struct out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            emit(o, "\\%c", *s);
        else if (*s == '\n')
            emit(o, "\\n");
        else
            emit(o, "%c", *s);
    }
}

/* `{pool="p"`, `,server="s"` when there is one, then `extra` (e.g. `,le="0.1"`) and `}`. */
static void emit_labels(struct out *o, const char *pool, const char *server, const char *extra)
{
    emit(o, "{pool=\"");
    emit_label_value(o, pool);
    if (server) {
        emit(o, "\",server=\"");
        emit_label_value(o, server);
    }
    emit(o, "\"%s}", extra);
}

static const char *type_name(enum sp_stats_type type)
{
    return type == SP_STATS_COUNTER ? "counter" : "gauge";
}

/* "# HELP" and "# TYPE" of a family.  HELP text needs only backslash and newline escaped, and
 * the descriptions have neither; nutcracker's "# requests" reads "number of requests". */
static void emit_family(struct out *o, const char *name, const char *type, const char *help)
{
    bool count = strncmp(help, "# ", 2) == 0;

    emit(o, "# HELP " PREFIX "%s %s%s\n# TYPE " PREFIX "%s %s\n", name, count ? "number of " : "",
         count ? help + 2 : help, name, type);
}

/* A field's value as exposed: timestamps (usec since the epoch) in seconds. */
static void emit_value(struct out *o, const struct sp_stats_field *f, const void *values)
{
    int64_t v;

    memcpy(&v, (const char *)values + f->offset, sizeof v);
    if (f->type == SP_STATS_TIMESTAMP)
        emit(o, " %" PRId64 ".%06" PRId64 "\n", v / 1000000, v % 1000000);
    else
        emit(o, " %" PRId64 "\n", v);
}

static void emit_process(struct out *o, struct sp_stats *stats, time_t now)
{
    struct sp_stats_identity id = sp_stats_identity(stats);
    size_t n;
    const struct sp_stats_field *f = sp_stats_global_fields(&n);

    emit_family(o, "info", "gauge", "shardproxy build and identity (always 1)");
    emit(o, PREFIX "info{version=\"");
    emit_label_value(o, id.version);
    emit(o, "\",service=\"");
    emit_label_value(o, id.service);
    emit(o, "\",source=\"");
    emit_label_value(o, id.source);
    emit(o, "\"} 1\n");
    emit_family(o, "start_time_seconds", "gauge", "start time in seconds since the epoch");
    emit(o, PREFIX "start_time_seconds %lld\n", (long long)sp_stats_start(stats));
    emit_family(o, "uptime_seconds", "gauge", "seconds since start");
    emit(o, PREFIX "uptime_seconds %lld\n", (long long)(now - sp_stats_start(stats)));
    for (size_t i = 0; i < n; i++) {
        emit_family(o, f[i].metric, type_name(f[i].type), f[i].description);
        emit(o, PREFIX "%s", f[i].metric);
        emit_value(o, &f[i], sp_stats_global(stats));
    }
}

static void emit_pools(struct out *o, struct sp_stats *stats)
{
    const struct sp_conf *conf = sp_stats_conf(stats);
    size_t n;
    const struct sp_stats_field *f = sp_stats_pool_fields(&n);

    for (size_t i = 0; i < n; i++) {
        emit_family(o, f[i].metric, type_name(f[i].type), f[i].description);
        for (size_t p = 0; p < conf->npools; p++) {
            emit(o, PREFIX "%s", f[i].metric);
            emit_labels(o, conf->pools[p].name, NULL, "");
            emit_value(o, &f[i], sp_stats_pool(stats, p));
        }
    }
}

static void emit_servers(struct out *o, struct sp_stats *stats)
{
    const struct sp_conf *conf = sp_stats_conf(stats);
    size_t n;
    const struct sp_stats_field *f = sp_stats_server_fields(&n);

    for (size_t i = 0; i < n; i++) {
        emit_family(o, f[i].metric, type_name(f[i].type), f[i].description);
        for (size_t p = 0; p < conf->npools; p++)
            for (size_t s = 0; s < conf->pools[p].nservers; s++) {
                emit(o, PREFIX "%s", f[i].metric);
                emit_labels(o, conf->pools[p].name, conf->pools[p].servers[s].name, "");
                emit_value(o, &f[i], sp_stats_server(stats, p, s));
            }
    }
}

/* The counters only Sentinel pools' servers have (stats.h). */
static const struct {
    const char *family;
    size_t offset;
    const char *help;
} sentinel_counters[] = {
    { "server_failovers_total", offsetof(struct sp_server_stats, failovers),
      "times Sentinel moved a Sentinel pool's server to a new master" },
    { "server_held_requests_total", offsetof(struct sp_server_stats, held),
      "requests never sent that waited for a failover (failover_hold)" },
    { "server_hold_expired_total", offsetof(struct sp_server_stats, hold_expired),
      "held requests that failed when failover_hold ran out" },
    { "server_replica_reads_total", offsetof(struct sp_server_stats, replica_reads),
      "reads a replica answered while the master was down" },
};

/* One counter of the Sentinel pools' servers: the int64_t at `offset` of their stats. */
static void emit_sentinel_counter(struct out *o, struct sp_stats *stats, const char *family,
                                  size_t offset, const char *help)
{
    const struct sp_conf *conf = sp_stats_conf(stats);

    emit_family(o, family, "counter", help);
    for (size_t p = 0; p < conf->npools; p++)
        for (size_t s = 0; sp_conf_pool_is_sentinel(&conf->pools[p]) &&
                           s < conf->pools[p].nservers; s++) {
            const char *st = (const char *)sp_stats_server(stats, p, s);
            int64_t v;

            memcpy(&v, st + offset, sizeof(v));
            emit(o, PREFIX "%s", family);
            emit_labels(o, conf->pools[p].name, conf->pools[p].servers[s].name, "");
            emit(o, " %" PRId64 "\n", v);
        }
}

/*
 * Sentinel pools: where each server is now (an info-style gauge, the address as a label) and
 * how many times Sentinel moved it.  Written only when some pool follows Sentinel.
 */
static void emit_sentinel(struct out *o, struct sp_stats *stats)
{
    const struct sp_conf *conf = sp_stats_conf(stats);
    bool any = false;

    for (size_t p = 0; p < conf->npools; p++)
        any = any || sp_conf_pool_is_sentinel(&conf->pools[p]);
    if (!any)
        return;
    emit_family(o, "server_address_info", "gauge",
                "1, with the address a Sentinel pool's server is at now as a label");
    for (size_t p = 0; p < conf->npools; p++)
        for (size_t s = 0; sp_conf_pool_is_sentinel(&conf->pools[p]) &&
                           s < conf->pools[p].nservers; s++) {
            emit(o, PREFIX "server_address_info");
            emit(o, "{pool=\"");
            emit_label_value(o, conf->pools[p].name);
            emit(o, "\",server=\"");
            emit_label_value(o, conf->pools[p].servers[s].name);
            emit(o, "\",address=\"");
            emit_label_value(o, sp_stats_server(stats, p, s)->address);
            emit(o, "\"} 1\n");
        }
    for (size_t i = 0; i < sizeof(sentinel_counters) / sizeof(sentinel_counters[0]); i++)
        emit_sentinel_counter(o, stats, sentinel_counters[i].family, sentinel_counters[i].offset,
                              sentinel_counters[i].help);
}

/* One server's histogram: cumulative buckets, +Inf, sum (seconds) and count. */
static void emit_latency(struct out *o, const char *pool, const char *server,
                         const struct sp_latency *l)
{
    static const uint32_t bound[SP_LATENCY_NBOUNDS] = SP_LATENCY_BOUNDS_USEC;
    uint64_t total = 0;
    char le[48];

    for (size_t b = 0; b <= SP_LATENCY_NBOUNDS; b++) {
        total += l->bucket[b];
        if (b < SP_LATENCY_NBOUNDS)
            snprintf(le, sizeof le, ",le=\"%g\"", bound[b] / 1e6);
        else
            snprintf(le, sizeof le, ",le=\"+Inf\"");
        emit(o, PREFIX "server_request_duration_seconds_bucket");
        emit_labels(o, pool, server, le);
        emit(o, " %" PRIu64 "\n", total);
    }
    emit(o, PREFIX "server_request_duration_seconds_sum");
    emit_labels(o, pool, server, "");
    emit(o, " %" PRIu64 ".%06" PRIu64 "\n", l->sum_usec / 1000000, l->sum_usec % 1000000);
    emit(o, PREFIX "server_request_duration_seconds_count");
    emit_labels(o, pool, server, "");
    emit(o, " %" PRIu64 "\n", total);
}

int sp_metrics_render(struct sp_stats *stats, time_t now, struct evbuffer *out)
{
    struct out o = {out, 0};
    const struct sp_conf *conf = sp_stats_conf(stats);

    emit_process(&o, stats, now);
    emit_pools(&o, stats);
    emit_servers(&o, stats);
    emit_sentinel(&o, stats);
    emit_family(&o, "server_request_duration_seconds", "histogram",
                "time from queueing a request on a server connection to its reply");
    for (size_t p = 0; p < conf->npools; p++)
        for (size_t s = 0; s < conf->pools[p].nservers; s++)
            emit_latency(&o, conf->pools[p].name, conf->pools[p].servers[s].name,
                         &sp_stats_server(stats, p, s)->latency);
    return o.failed ? -1 : 0;
}
