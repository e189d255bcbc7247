/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pool-level checks, once every key of a pool has been read: required keys, defaults for the
 * rest, cross-key rules, and nutcracker's server order (then the migrate_from rules,
 * conf_migrate.c, and the Sentinel rules, conf_sentinel.c).
 *
 * The order matters for placement, not just for looks: nutcracker sorts the servers by name
 * (shorter first, then bytewise) while loading, and server indexes - hence modula slots - follow
 * that order.  Duplicate names are found on the sorted list, as nutcracker does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

int cf_pool_init(struct sp_conf_pool *pool, const char *name, struct sp_conf_mark mark)
{
    memset(pool, 0, sizeof(*pool));
    pool->mark = mark;
    pool->timeout = SP_CONF_DEFAULT_TIMEOUT;
    pool->backlog = SP_CONF_DEFAULT_BACKLOG;
    pool->client_connections = SP_CONF_DEFAULT_CLIENT_CONNECTIONS;
    pool->redis_db = SP_CONF_DEFAULT_REDIS_DB;
    pool->server_connections = SP_CONF_DEFAULT_SERVER_CONNECTIONS;
    pool->server_retry_timeout = SP_CONF_DEFAULT_SERVER_RETRY_TIMEOUT;
    pool->server_failure_limit = SP_CONF_DEFAULT_SERVER_FAILURE_LIMIT;
    pool->failover_hold = SP_CONF_DEFAULT_FAILOVER_HOLD;
    /* redis, preconnect, auto_eject_hosts, tcpkeepalive: false, as memset left them */
    pool->name = strdup(name);
    return pool->name ? 0 : -1;
}

static void addr_release(struct sp_conf_addr *addr)
{
    free(addr->text);
    free(addr->host);
    addr->text = addr->host = NULL;
}

void cf_server_release(struct sp_conf_server *srv)
{
    addr_release(&srv->addr);
    free(srv->name);
    free(srv->master);
    srv->name = srv->master = NULL;
}

void cf_pool_release(struct sp_conf_pool *pool)
{
    free(pool->name);
    addr_release(&pool->listen);
    free(pool->hash);
    free(pool->distribution);
    free(pool->redis_auth);
    for (size_t i = 0; i < pool->nservers; i++)
        cf_server_release(&pool->servers[i]);
    free(pool->servers);
    cf_sentinel_release(pool);
    sp_conf_pool_free(pool->migrate_from);
    memset(pool, 0, sizeof(*pool));
}

/* nutcracker's string_compare: length first, then bytes. */
static int name_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la != lb)
        return la < lb ? -1 : 1;
    return memcmp(a, b, la);
}

static int server_cmp(const void *x, const void *y)
{
    const struct sp_conf_server *a = x, *b = y;
    int c = name_cmp(a->name, b->name);

    if (c)
        return c;
    /* equal names are an error anyway; order them by position so the report is stable */
    if (a->mark.line != b->mark.line)
        return a->mark.line < b->mark.line ? -1 : 1;
    return a->mark.column < b->mark.column ? -1 : (a->mark.column > b->mark.column);
}

/* Sorts the servers and rejects duplicate names, reporting the later of the two entries. */
static int sort_servers(struct cf_ctx *cx, struct sp_conf_pool *pool)
{
    struct cf_show s;

    qsort(pool->servers, pool->nservers, sizeof(pool->servers[0]), server_cmp);
    for (size_t i = 1; i < pool->nservers; i++) {
        const struct sp_conf_server *a = &pool->servers[i - 1], *b = &pool->servers[i];
        if (strcmp(a->name, b->name) != 0)
            continue;
        return cf_error(cx, b->mark, pool->name, cf_key_name(CF_KEY_SERVERS),
                        "duplicate server name %s (same as the server at line %u; expected "
                        "unique names: an unnamed server is named 'host:port', or 'host' for "
                        "port %d, and a socket '/path:')",
                        cf_show(&s, b->name, strlen(b->name)), a->mark.line, SP_CONF_KETAMA_PORT);
    }
    return 0;
}

/* Fills a default plugin name and checks it exists, reporting at the pool when it does not. */
static int default_name(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                        char **field, const char *def)
{
    bool hash = key == CF_KEY_HASH;

    if (*field)
        return 0;
    if (cf_check_known(cx, pool, key, def, pool->mark, hash ? cx->known_hashes : cx->known_dists,
                       hash ? "hash (the default)" : "distribution (the default)") != 0)
        return -1;
    *field = strdup(def);
    return *field ? 0 : cf_error(cx, pool->mark, pool->name, NULL, "out of memory");
}

int cf_pool_finish(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_pool_marks *m)
{
    if (!m->key[CF_KEY_LISTEN].line)
        return cf_error(cx, pool->mark, pool->name, NULL, "missing key 'listen' (expected %s)",
                        cf_key_expect(CF_KEY_LISTEN));
    if (!m->key[CF_KEY_SERVERS].line)
        return cf_error(cx, pool->mark, pool->name, NULL, "missing key 'servers' (expected %s)",
                        cf_key_expect(CF_KEY_SERVERS));
    if (m->key[CF_KEY_REDIS_AUTH].line && !pool->redis)
        return cf_error(cx, m->key[CF_KEY_REDIS_AUTH], pool->name,
                        cf_key_name(CF_KEY_REDIS_AUTH),
                        "only valid for a redis pool (expected 'redis: true' in this pool, as "
                        "nutcracker requires)");
    if (default_name(cx, pool, CF_KEY_HASH, &pool->hash, SP_CONF_DEFAULT_HASH) != 0 ||
        default_name(cx, pool, CF_KEY_DISTRIBUTION, &pool->distribution,
                     SP_CONF_DEFAULT_DIST) != 0)
        return -1;
    if (sort_servers(cx, pool) != 0)
        return -1;
    if (cf_migrate_finish(cx, pool, m) != 0)
        return -1;
    return cf_sentinel_finish(cx, pool, m);
}

int cf_pool_check_listen(struct cf_ctx *cx, size_t i, const struct sp_conf_mark *listen_marks)
{
    const struct sp_conf_pool *pools = cx->conf->pools, *p = &pools[i];
    struct cf_show s, o;

    for (size_t j = 0; j < i; j++) {
        if (strcmp(pools[j].listen.text, p->listen.text) != 0)
            continue;
        return cf_error(cx, listen_marks[i], p->name, cf_key_name(CF_KEY_LISTEN),
                        "address %s is already used by pool %s at line %u (expected a distinct "
                        "listen address per pool)",
                        cf_show(&s, p->listen.text, strlen(p->listen.text)),
                        cf_show(&o, pools[j].name, strlen(pools[j].name)), listen_marks[j].line);
    }
    return 0;
}
