/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "stats.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define SP_STATS_FIELD_(st, name, type, metric, desc) \
    {#name, SP_STATS_##type, #metric, desc, offsetof(struct st, name)},
#define SP_GLOBAL_FIELD_(name, type, metric, desc) \
    SP_STATS_FIELD_(sp_global_stats, name, type, metric, desc)
#define SP_POOL_FIELD_(name, type, metric, desc) \
    SP_STATS_FIELD_(sp_pool_stats, name, type, metric, desc)
#define SP_SERVER_FIELD_(name, type, metric, desc) \
    SP_STATS_FIELD_(sp_server_stats, name, type, metric, desc)

static const struct sp_stats_field global_fields[] = {SP_STATS_GLOBAL_FIELDS(SP_GLOBAL_FIELD_)};
static const struct sp_stats_field pool_fields[] = {SP_STATS_POOL_FIELDS(SP_POOL_FIELD_)};
static const struct sp_stats_field server_fields[] = {SP_STATS_SERVER_FIELDS(SP_SERVER_FIELD_)};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct sp_stats {
    const struct sp_conf *conf;
    char *service;
    char *source;
    char *version;
    time_t start;
    struct sp_global_stats global;
    struct sp_pool_stats *pools;       /* [conf->npools] */
    struct sp_server_stats **servers;  /* [conf->npools][pool->nservers] */
    size_t *render_order;              /* pool indexes in nutcracker's output order */
};

const struct sp_stats_field *sp_stats_global_fields(size_t *n)
{
    *n = NELEMS(global_fields);
    return global_fields;
}

const struct sp_stats_field *sp_stats_pool_fields(size_t *n)
{
    *n = NELEMS(pool_fields);
    return pool_fields;
}

const struct sp_stats_field *sp_stats_server_fields(size_t *n)
{
    *n = NELEMS(server_fields);
    return server_fields;
}

const char *sp_stats_type_name(enum sp_stats_type type)
{
    switch (type) {
    case SP_STATS_COUNTER:
        return "counter";
    case SP_STATS_GAUGE:
        return "gauge";
    case SP_STATS_TIMESTAMP:
        return "timestamp";
    }
    return "?";
}

/* nutcracker orders pools (and servers) by name length, then bytes (its string_compare). */
static int name_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return memcmp(a, b, la);
}

/* Insertion sort of pool indexes: pools are few, and this keeps the comparison context-free. */
static void sort_pools(const struct sp_conf *conf, size_t *order)
{
    for (size_t i = 0; i < conf->npools; i++) {
        size_t v = order[i] = i, j = i;
        while (j > 0 && name_cmp(conf->pools[order[j - 1]].name, conf->pools[v].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

struct sp_stats *sp_stats_new(const struct sp_conf *conf, const struct sp_stats_identity *id,
                              time_t start, char *err, size_t errlen)
{
    struct sp_stats *stats = calloc(1, sizeof(*stats));
    size_t npools = conf->npools;

    if (stats == NULL)
        goto oom;
    stats->conf = conf;
    stats->start = start;
    stats->service = strdup(id->service);
    stats->source = strdup(id->source);
    stats->version = strdup(id->version);
    /* +1: calloc(0) may return NULL, which would read as out of memory. */
    stats->pools = calloc(npools + 1, sizeof(*stats->pools));
    stats->servers = calloc(npools + 1, sizeof(*stats->servers));
    stats->render_order = calloc(npools + 1, sizeof(*stats->render_order));
    if (stats->service == NULL || stats->source == NULL || stats->version == NULL ||
        stats->pools == NULL || stats->servers == NULL || stats->render_order == NULL)
        goto oom;
    for (size_t i = 0; i < npools; i++) {
        stats->servers[i] = calloc(conf->pools[i].nservers + 1, sizeof(**stats->servers));
        if (stats->servers[i] == NULL)
            goto oom;
    }
    sort_pools(conf, stats->render_order);
    return stats;
oom:
    snprintf(err, errlen, "out of memory allocating statistics");
    sp_stats_free(stats);
    return NULL;
}

void sp_stats_free(struct sp_stats *stats)
{
    if (stats == NULL)
        return;
    if (stats->servers != NULL)
        for (size_t i = 0; i < stats->conf->npools; i++)
            free(stats->servers[i]);
    free(stats->servers);
    free(stats->pools);
    free(stats->render_order);
    free(stats->service);
    free(stats->source);
    free(stats->version);
    free(stats);
}

struct sp_global_stats *sp_stats_global(struct sp_stats *stats)
{
    return &stats->global;
}

struct sp_pool_stats *sp_stats_pool(struct sp_stats *stats, size_t pool)
{
    if (pool >= stats->conf->npools) {
        fprintf(stderr, "sp_stats_pool: pool index %zu out of range (%zu pools)\n", pool,
                stats->conf->npools);
        abort();
    }
    return &stats->pools[pool];
}

struct sp_server_stats *sp_stats_server(struct sp_stats *stats, size_t pool, size_t server)
{
    if (pool >= stats->conf->npools || server >= stats->conf->pools[pool].nservers) {
        fprintf(stderr, "sp_stats_server: index %zu/%zu out of range\n", pool, server);
        abort();
    }
    return &stats->servers[pool][server];
}

const struct sp_conf *sp_stats_conf(const struct sp_stats *stats)
{
    return stats->conf;
}

struct sp_stats_identity sp_stats_identity(const struct sp_stats *stats)
{
    struct sp_stats_identity id = {stats->service, stats->source, stats->version};
    return id;
}

time_t sp_stats_start(const struct sp_stats *stats)
{
    return stats->start;
}

/* A growing output buffer; `failed` sticks after the first allocation failure. */
struct outbuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

static bool reserve(struct outbuf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

static void put(struct outbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(struct outbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(struct outbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct outbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string: quotes, and escapes for what JSON forbids raw (nutcracker does not escape, but
 * its names never need it; ours must stay parseable whatever the config says). */
static void put_string(struct outbuf *b, const char *s)
{
    put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            put(b, esc, 2);
        } else if (*p < 0x20) {
            putf(b, "\\u%04x", *p);
        } else {
            put(b, (const char *)p, 1);
        }
    }
    put(b, "\"", 1);
}

/* Fields of one struct as "name":value; each followed by `sep` except the last, which gets
 * `last_sep` (nutcracker ends pool fields with ", " and server fields with nothing). */
static void put_fields(struct outbuf *b, const struct sp_stats_field *fields, size_t n,
                       const void *values, const char *last_sep)
{
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        memcpy(&v, (const char *)values + fields[i].offset, sizeof(v));
        put_string(b, fields[i].name);
        putf(b, ":%" PRId64, v);
        puts_(b, i + 1 < n ? ", " : last_sep);
    }
}

static void put_pool(struct outbuf *b, const struct sp_stats *stats, size_t p)
{
    const struct sp_conf_pool *pool = &stats->conf->pools[p];

    put_string(b, pool->name);
    puts_(b, ": {");
    put_fields(b, pool_fields, NELEMS(pool_fields), &stats->pools[p], ", ");
    for (size_t s = 0; s < pool->nservers; s++) {
        if (s > 0)
            puts_(b, ",");
        const struct sp_server_stats *st = &stats->servers[p][s];

        put_string(b, pool->servers[s].name);
        puts_(b, ": {");
        put_fields(b, server_fields, NELEMS(server_fields), st, "");
        if (sp_conf_pool_is_sentinel(pool)) {
            /* Not in nutcracker's document: only Sentinel pools (which it cannot run) have them. */
            puts_(b, ", \"address\":");
            put_string(b, st->address);
            putf(b, ", \"failovers\":%" PRId64, st->failovers);
            putf(b, ", \"held\":%" PRId64 ", \"hold_expired\":%" PRId64
                    ", \"replica_reads\":%" PRId64, st->held, st->hold_expired,
                 st->replica_reads);
            putf(b, ", \"held\":%" PRId64 ", \"hold_expired\":%" PRId64
                    ", \"replica_reads\":%" PRId64, st->held, st->hold_expired,
                 st->replica_reads);
        }
        puts_(b, "}");
    }
    puts_(b, "}");
}

/*
 * Layout as nutcracker 0.5.0 writes it (monitoring scripts sometimes parse it with regexes):
 *   {"service":"nutcracker", "source":"host", ..., "curr_connections":2, "p": {"client_eof":0,
 *   ..., "fragments":0, "s1": {"server_eof":0, ..., "out_queue_bytes":0},"s2": {...}},"q": {...}}
 */
char *sp_stats_render(const struct sp_stats *stats, time_t now, size_t *len)
{
    struct outbuf b = {NULL, 0, 0, false};

    puts_(&b, "{\"service\":");
    put_string(&b, stats->service);
    puts_(&b, ", \"source\":");
    put_string(&b, stats->source);
    puts_(&b, ", \"version\":");
    put_string(&b, stats->version);
    putf(&b, ", \"uptime\":%lld", (long long)(now - stats->start));
    putf(&b, ", \"timestamp\":%lld, ", (long long)now);
    put_fields(&b, global_fields, NELEMS(global_fields), &stats->global,
               stats->conf->npools > 0 ? ", " : "");
    for (size_t i = 0; i < stats->conf->npools; i++) {
        if (i > 0)
            puts_(&b, ",");
        put_pool(&b, stats, stats->render_order[i]);
    }
    puts_(&b, "}\n");
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

static void describe_list(FILE *out, const char *title, const struct sp_stats_field *fields,
                          size_t n)
{
    fprintf(out, "%s:\n", title);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-20s\"%s\"\n", fields[i].name, fields[i].description);
}

void sp_stats_describe(FILE *out)
{
    describe_list(out, "pool stats", pool_fields, NELEMS(pool_fields));
    fputs("\n", out);
    describe_list(out, "server stats", server_fields, NELEMS(server_fields));
}

void sp_stats_server_address(struct sp_server_stats *st, const char *address)
{
    snprintf(st->address, sizeof(st->address), "%s", address);
}

void sp_stats_global_copy(struct sp_stats *to, const struct sp_stats *from)
{
    to->global = from->global;
}

/*
 * Another thread may be incrementing the field: a relaxed atomic load reads a whole value (64-bit
 * loads are single-copy atomic on the targets), never a torn one.
 */
static int64_t load64(const int64_t *field)
{
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

static uint64_t loadu64(const uint64_t *field)
{
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

/* Adds the listed fields of `from` to `into` (timestamps: the latest wins). */
static void add_fields(void *into, const void *from, const struct sp_stats_field *fields,
                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t *to = (int64_t *)((char *)into + fields[i].offset);
        int64_t v = load64((const int64_t *)((const char *)from + fields[i].offset));

        if (fields[i].type == SP_STATS_TIMESTAMP)
            *to = v > *to ? v : *to;
        else
            *to += v;
    }
}

static void add_server(struct sp_server_stats *into, const struct sp_server_stats *from)
{
    add_fields(into, from, server_fields, NELEMS(server_fields));
    for (size_t b = 0; b <= SP_LATENCY_NBOUNDS; b++)
        into->latency.bucket[b] += loadu64(&from->latency.bucket[b]);
    into->latency.sum_usec += loadu64(&from->latency.sum_usec);
    into->failovers += load64(&from->failovers);
    into->held += load64(&from->held);
    into->hold_expired += load64(&from->hold_expired);
    into->replica_reads += load64(&from->replica_reads);
}

int sp_stats_sum(struct sp_stats *into, struct sp_stats *const *parts, size_t n)
{
    const struct sp_conf *conf = into->conf;

    for (size_t w = 0; w < n; w++)
        if (parts[w]->conf != conf)
            return -1;
    memset(&into->global, 0, sizeof(into->global));
    for (size_t i = 0; i < conf->npools; i++) {
        memset(&into->pools[i], 0, sizeof(into->pools[i]));
        memset(into->servers[i], 0, conf->pools[i].nservers * sizeof(*into->servers[i]));
    }
    for (size_t w = 0; w < n; w++) {
        const struct sp_stats *part = parts[w];

        add_fields(&into->global, &part->global, global_fields, NELEMS(global_fields));
        for (size_t i = 0; i < conf->npools; i++) {
            add_fields(&into->pools[i], &part->pools[i], pool_fields, NELEMS(pool_fields));
            for (size_t j = 0; j < conf->pools[i].nservers; j++)
                add_server(&into->servers[i][j], &part->servers[i][j]);
        }
    }
    /* Addresses are the first part's: every worker moves its servers on the same decisions. */
    for (size_t i = 0; n > 0 && i < conf->npools; i++)
        for (size_t j = 0; j < conf->pools[i].nservers; j++)
            memcpy(into->servers[i][j].address, parts[0]->servers[i][j].address,
                   sizeof(into->servers[i][j].address));
    return 0;
}
