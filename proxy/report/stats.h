/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Statistics, compatible with nutcracker 0.5.0's stats JSON and -D description.
 *
 * Every field is defined once, in the lists below (name, type, description); the structs, the
 * JSON and the -D text are generated from them.  The data path owns no locks and calls no
 * function per event: it gets a pointer to a pool's or server's struct once and changes the
 * fields with SP_STAT_ADD / SP_STAT_SET (one thread writes them: with --workers N each worker has
 * its own copy, summed for the stats server by sp_stats_sum), e.g.
 *
 *     struct sp_server_stats *ss = sp_stats_server(stats, pool_index, server_index);
 *     SP_STAT_ADD(ss->requests, 1);
 *     SP_STAT_ADD(ss->request_bytes, len);
 *
 * COUNTER fields only grow, GAUGE fields go up and down (the data path decrements them),
 * TIMESTAMP fields hold microseconds since the epoch (0: never).
 */
#ifndef SP_STATS_H
#define SP_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct sp_conf;

/*
 * How a field changes: its one writer (a worker) stores the new value with a relaxed atomic
 * store, which pairs with the relaxed atomic load of the thread that sums the workers' counters
 * (sp_stats_sum): no torn value and no data race, at the cost of a plain load, add and store on
 * x86_64 and aarch64 (no lock prefix, no barrier: it is not an atomic increment, and needs none
 * with one writer).
 */
#define SP_STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define SP_STAT_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

/* X(name, type, metric, description): in nutcracker's order, with its descriptions.  `metric` is
 * the Prometheus name after "shardproxy_" (/metrics): counters end in _total, units spelt out. */
#define SP_STATS_POOL_FIELDS(X) \
    X(client_eof,          COUNTER,   pool_client_eof_total,          "# eof on client connections") \
    X(client_err,          COUNTER,   pool_client_errors_total,       "# errors on client connections") \
    X(client_connections,  GAUGE,     pool_client_connections,        "# active client connections") \
    X(server_ejects,       COUNTER,   pool_server_ejects_total,       "# times backend server was ejected") \
    X(forward_error,       COUNTER,   pool_forward_errors_total,      "# times we encountered a forwarding error") \
    X(fragments,           COUNTER,   pool_fragments_total,           "# fragments created from a multi-vector request")

#define SP_STATS_SERVER_FIELDS(X) \
    X(server_eof,          COUNTER,   server_eof_total,               "# eof on server connections") \
    X(server_err,          COUNTER,   server_errors_total,            "# errors on server connections") \
    X(server_timedout,     COUNTER,   server_timeouts_total,          "# timeouts on server connections") \
    X(server_connections,  GAUGE,     server_connections,             "# active server connections") \
    X(server_ejected_at,   TIMESTAMP, server_ejected_timestamp_seconds, "timestamp when server was ejected in usec since epoch") \
    X(requests,            COUNTER,   server_requests_total,          "# requests") \
    X(request_bytes,       COUNTER,   server_request_bytes_total,     "total request bytes") \
    X(responses,           COUNTER,   server_responses_total,         "# responses") \
    X(response_bytes,      COUNTER,   server_response_bytes_total,    "total response bytes") \
    X(in_queue,            GAUGE,     server_in_queue_requests,       "# requests in incoming queue") \
    X(in_queue_bytes,      GAUGE,     server_in_queue_bytes,          "current request bytes in incoming queue") \
    X(out_queue,           GAUGE,     server_out_queue_requests,      "# requests in outgoing queue") \
    X(out_queue_bytes,     GAUGE,     server_out_queue_bytes,         "current request bytes in outgoing queue")

/* Process-wide fields (after service, source, version, uptime and timestamp in the JSON). */
#define SP_STATS_GLOBAL_FIELDS(X) \
    X(total_connections,   COUNTER,   connections_total,              "# connections made (listeners, clients, servers)") \
    X(curr_connections,    GAUGE,     open_connections,               "# connections open (listeners, clients, servers)")

/*
 * Request latency per server (/metrics only: nutcracker's JSON has no such field): the time from
 * queueing a request on a server connection to matching its reply, on the event loop's clock.
 * Upper bounds of the histogram's buckets in usec, from 100 us to 5 s; one more bucket, +Inf,
 * holds the rest.  Counts are per bucket (not cumulative): the exposition adds them up.
 */
#define SP_LATENCY_BOUNDS_USEC \
    { 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, \
      2500000, 5000000 }
#define SP_LATENCY_NBOUNDS 15

struct sp_latency {
    uint64_t bucket[SP_LATENCY_NBOUNDS + 1];
    uint64_t sum_usec;
};

/* Counts one request sent at `sent` and answered at `now` (usec; a clock that stepped back
 * counts 0).  In the data path: a few compares, no call. */
static inline void sp_latency_observe(struct sp_latency *l, uint64_t sent, uint64_t now)
{
    static const uint32_t bound[SP_LATENCY_NBOUNDS] = SP_LATENCY_BOUNDS_USEC;
    uint64_t usec = now > sent ? now - sent : 0;
    size_t i = 0;

    while (i < SP_LATENCY_NBOUNDS && usec > bound[i])
        i++;
    SP_STAT_ADD(l->bucket[i], 1);
    SP_STAT_ADD(l->sum_usec, usec);
}

enum sp_stats_type {
    SP_STATS_COUNTER,
    SP_STATS_GAUGE,
    SP_STATS_TIMESTAMP,
};

/* Room for a server's address in the stats ("host:port", IPv6 in brackets). */
#define SP_STATS_ADDRESS_MAX 128

#define SP_STATS_MEMBER_(name, type, metric, desc) int64_t name;
struct sp_global_stats { SP_STATS_GLOBAL_FIELDS(SP_STATS_MEMBER_) };
struct sp_pool_stats { SP_STATS_POOL_FIELDS(SP_STATS_MEMBER_) };
struct sp_server_stats {
    SP_STATS_SERVER_FIELDS(SP_STATS_MEMBER_)
    struct sp_latency latency;
    /* Sentinel pools only (not nutcracker's fields: rendered for those pools alone): where the
       server is now, how many times Sentinel moved it since the proxy started, how many
       requests waited out a failover (held), how many of those waited in vain (hold_expired),
       and how many reads a replica answered while the master was down (replica_reads). */
    int64_t failovers;
    int64_t held;
    int64_t hold_expired;
    int64_t replica_reads;
    char address[SP_STATS_ADDRESS_MAX];
};
#undef SP_STATS_MEMBER_

/* One field of a list, for code that walks them (tests, docs). */
struct sp_stats_field {
    const char *name;
    enum sp_stats_type type;
    const char *metric;      /* Prometheus name after "shardproxy_" */
    const char *description;
    size_t offset; /* of the int64_t in its struct */
};

/* The three lists as arrays; *n receives the length. */
const struct sp_stats_field *sp_stats_global_fields(size_t *n);
const struct sp_stats_field *sp_stats_pool_fields(size_t *n);
const struct sp_stats_field *sp_stats_server_fields(size_t *n);

/* "counter", "gauge", "timestamp". */
const char *sp_stats_type_name(enum sp_stats_type type);

struct sp_stats;

/*
 * The identity the JSON reports: "service", "source" (host name), "version".  The strings are
 * copied.
 */
struct sp_stats_identity {
    const char *service;
    const char *source;
    const char *version;
};

/*
 * Allocates zeroed counters for every pool of `conf` and every server of each pool (in the
 * config's order), started at `start` (for "uptime").  `conf` is referenced, not copied: it
 * must outlive the stats.  Returns NULL with err set when out of memory.
 */
struct sp_stats *sp_stats_new(const struct sp_conf *conf, const struct sp_stats_identity *id,
                              time_t start, char *err, size_t errlen);

/* Frees the stats; NULL is a no-op. */
void sp_stats_free(struct sp_stats *stats);

/*
 * The counters of the process, of pool `pool` (its index in conf->pools) and of server `server`
 * of that pool (its index in pool->servers).  Indexes out of range are a programming error:
 * they abort with a message rather than corrupt memory.  The pointers stay valid for the life
 * of `stats`.
 */
struct sp_global_stats *sp_stats_global(struct sp_stats *stats);
struct sp_pool_stats *sp_stats_pool(struct sp_stats *stats, size_t pool);
struct sp_server_stats *sp_stats_server(struct sp_stats *stats, size_t pool, size_t server);

/*
 * Renders the current values as nutcracker's JSON document (one line ending in "\n"), with
 * "timestamp" = now and "uptime" = now - start.  Pools appear in nutcracker's order (sorted by
 * name: shorter first, then bytewise), servers in the config's order.  Names are escaped for
 * JSON.  Returns a malloc'd NUL-terminated string (length in *len), or NULL when out of memory.
 */
char *sp_stats_render(const struct sp_stats *stats, time_t now, size_t *len);

/* Records the server's current address (shown for Sentinel pools). */
void sp_stats_server_address(struct sp_server_stats *st, const char *address);

/* Copies the process-wide counters (a reload's new stats go on from the old ones). */
void sp_stats_global_copy(struct sp_stats *to, const struct sp_stats *from);

/*
 * Several workers (each with its own stats for the same config, written by its own thread):
 * sets `into` (made for that config too) to the sum of `parts[0..n-1]`, read with relaxed
 * atomic loads while the workers run.  Counters and gauges add up; a timestamp is the latest;
 * a server's address is the first part's.  Returns -1 (nothing changed) when a part was made
 * for another config.
 */
int sp_stats_sum(struct sp_stats *into, struct sp_stats *const *parts, size_t n);

/* What the stats were made with: the config, the identity strings and the start time (the
 * metrics exposition reports them too). */
const struct sp_conf *sp_stats_conf(const struct sp_stats *stats);
struct sp_stats_identity sp_stats_identity(const struct sp_stats *stats);
time_t sp_stats_start(const struct sp_stats *stats);

/* Writes the -D description ("pool stats:" ... "server stats:" ...) to `out`. */
void sp_stats_describe(FILE *out);

#endif /* SP_STATS_H */
