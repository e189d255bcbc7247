/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Sentinel keys of a pool (none of them in nutcracker):
 *
 *   sentinels:                    <- turns Sentinel on: every server follows a Sentinel master
 *    - 10.0.0.1:26379
 *   sentinel_auth: s3cret         <- optional AUTH password (and sentinel_user, an ACL user)
 *   sentinel_masters:             <- optional: server name -> master name, where they differ
 *     10.0.0.5:4500: redis_g1
 *
 * The rules exist for placement: a server's name is what the ring hashes, so in a pool whose
 * addresses fail over every server needs an explicit name (an unnamed server's name is its
 * address, which would then change with every failover).  A pool converted from nutcracker keeps
 * its placement by naming each server after its address ("10.0.0.5:4500:1 10.0.0.5:4500") and
 * mapping that name to the Sentinel master name.  Each master is followed by one server: two
 * servers on one master would be one shard counted twice.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* Sentinel separates the fields of its events with spaces: a master name cannot hold one. */
static bool master_name_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == 0x7f)
            return false;
    }
    return true;
}

int cf_value_sentinel(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_scalar *v,
                      struct sp_conf_sentinel *out)
{
    const char *key = cf_key_name(CF_KEY_SENTINELS);
    struct cf_show s;
    struct in6_addr in6;

    out->mark = v->mark;
    if (v->len == 0)
        return cf_error(cx, v->mark, pool->name, key, "empty Sentinel entry (expected %s)",
                        CF_SENTINEL_FORM);
    const char *space = memchr(v->s, ' ', v->len);
    if (space)
        return cf_error(cx, cf_mark_at(v, (size_t)(space - v->s)), pool->name, key,
                        "%s has a space: a Sentinel has no weight and no name (expected %s)",
                        cf_show(&s, v->s, v->len), CF_SENTINEL_FORM);
    if (v->s[0] == '/')
        return cf_error(cx, v->mark, pool->name, key,
                        "%s: Sentinels are reached over TCP, not unix sockets (expected %s)",
                        cf_show(&s, v->s, v->len), CF_SENTINEL_FORM);
    const char *colon = cf_last_of(v->s, v->len, ':');
    if (!colon)
        return cf_error(cx, v->mark, pool->name, key, "%s has no port (expected %s)",
                        cf_show(&s, v->s, v->len), CF_SENTINEL_FORM);
    if (cf_tcp_addr(cx, pool, CF_KEY_SENTINELS, CF_SENTINEL_FORM, v, (size_t)(colon - v->s),
                    colon + 1, v->len - (size_t)(colon - v->s) - 1, &out->addr) != 0)
        return -1;
    /* "10.0.0.1:26379:1" (a server line pasted here) would read as host "10.0.0.1:26379": a host
     * with a ':' must be an IPv6 address. */
    if (strchr(out->addr.host, ':') && inet_pton(AF_INET6, out->addr.host, &in6) != 1)
        return cf_error(cx, v->mark, pool->name, key,
                        "%s is not 'host:port': a Sentinel has no weight (expected %s)",
                        cf_show(&s, v->s, v->len), CF_SENTINEL_FORM);
    for (const struct sp_conf_sentinel *o = pool->sentinels; o < out; o++) {
        if (strcmp(o->addr.text, out->addr.text) == 0)
            return cf_error(cx, v->mark, pool->name, key,
                            "duplicate Sentinel %s (already listed at line %u)",
                            cf_show(&s, v->s, v->len), o->mark.line);
    }
    return 0;
}

int cf_value_master_alias(struct cf_ctx *cx, struct sp_conf_pool *pool,
                          const struct cf_scalar *server, const struct cf_scalar *master)
{
    const char *key = cf_key_name(CF_KEY_SENTINEL_MASTERS);
    struct cf_show s, t;

    if (server->len == 0)
        return cf_error(cx, server->mark, pool->name, key, "empty server name (expected %s)",
                        cf_key_expect(CF_KEY_SENTINEL_MASTERS));
    if (master->len == 0)
        return cf_error(cx, master->mark, pool->name, key,
                        "missing Sentinel master name for server %s (expected %s)",
                        cf_show(&s, server->s, server->len),
                        cf_key_expect(CF_KEY_SENTINEL_MASTERS));
    if (!master_name_ok(master->s))
        return cf_error(cx, master->mark, pool->name, key,
                        "Sentinel master name %s of server %s has a space or a control character "
                        "(Sentinel's events separate their fields with spaces)",
                        cf_show(&s, master->s, master->len),
                        cf_show(&t, server->s, server->len));
    int dup = cf_alias_index(pool, server->s);
    if (dup >= 0)
        return cf_error(cx, server->mark, pool->name, key,
                        "server %s is mapped twice (first at line %u)",
                        cf_show(&s, server->s, server->len), pool->sentinel_masters[dup].mark.line);
    struct sp_conf_master_alias *a =
        cf_push(&pool->sentinel_masters, &pool->nsentinel_masters, sizeof(*a));
    if (!a)
        return cf_error(cx, server->mark, pool->name, key, "out of memory");
    a->mark = server->mark;
    a->server = strdup(server->s);
    a->master = strdup(master->s);
    if (!a->server || !a->master)
        return cf_error(cx, server->mark, pool->name, key, "out of memory");
    return 0;
}

/* The first Sentinel key given in a pool without `sentinels:`, or CF_KEY_COUNT. */
static enum cf_key orphan_key(const struct sp_conf_pool *pool, const struct cf_pool_marks *m)
{
    if (pool->nsentinels)
        return CF_KEY_COUNT;
    /* These have defaults: whether they were written is in the marks. */
    if (m->key[CF_KEY_FAILOVER_HOLD].line)
        return CF_KEY_FAILOVER_HOLD;
    if (m->key[CF_KEY_FAILOVER_REPLICA_READS].line)
        return CF_KEY_FAILOVER_REPLICA_READS;
    if (pool->sentinel_auth)
        return CF_KEY_SENTINEL_AUTH;
    if (pool->sentinel_user)
        return CF_KEY_SENTINEL_USER;
    if (pool->nsentinel_masters)
        return CF_KEY_SENTINEL_MASTERS;
    return CF_KEY_COUNT;
}

int cf_alias_index(const struct sp_conf_pool *pool, const char *server)
{
    for (size_t i = 0; i < pool->nsentinel_masters; i++) {
        if (strcmp(pool->sentinel_masters[i].server, server) == 0)
            return (int)i;
    }
    return -1;
}

/* The map entry for server `name`, or NULL. */
static const struct sp_conf_master_alias *alias_of(const struct sp_conf_pool *pool,
                                                   const char *name)
{
    int i = cf_alias_index(pool, name);
    return i >= 0 ? &pool->sentinel_masters[i] : NULL;
}

/* Where server i's master name was written: its map entry, else the server line. */
static struct sp_conf_mark master_mark(const struct sp_conf_pool *pool, size_t i)
{
    const struct sp_conf_master_alias *a = alias_of(pool, pool->servers[i].name);
    return a ? a->mark : pool->servers[i].mark;
}

/* Every server named, over TCP, with a valid master name of its own; masters (re)computed. */
static int check_servers(struct cf_ctx *cx, struct sp_conf_pool *pool)
{
    const char *key = cf_key_name(CF_KEY_SERVERS);
    struct cf_show s, t;

    for (size_t i = 0; i < pool->nservers; i++) {
        struct sp_conf_server *srv = &pool->servers[i];
        if (!srv->named)
            return cf_error(cx, srv->mark, pool->name, key,
                            "server %s has no name: in a Sentinel pool every server needs one, "
                            "so that placement does not change when its address fails over "
                            "(expected 'host:port:weight name', the name being its Sentinel "
                            "master name or mapped to it in 'sentinel_masters')",
                            cf_show(&s, srv->name, strlen(srv->name)));
        if (srv->addr.is_unix)
            return cf_error(cx, srv->mark, pool->name, key,
                            "server %s is a unix socket: Sentinel reports masters as host:port "
                            "(expected 'host:port:weight name')",
                            cf_show(&s, srv->name, strlen(srv->name)));
        const struct sp_conf_master_alias *a = alias_of(pool, srv->name);
        if (!a && !master_name_ok(srv->name))
            return cf_error(cx, srv->mark, pool->name, key,
                            "server name %s is not a valid Sentinel master name (it has a "
                            "control character): map it to one in 'sentinel_masters'",
                            cf_show(&t, srv->name, strlen(srv->name)));
        free(srv->master);
        srv->master = strdup(a ? a->master : srv->name);
        if (!srv->master)
            return cf_error(cx, srv->mark, pool->name, key, "out of memory");
    }
    return 0;
}

/* Each map entry names a server; each master is followed by one server only. */
static int check_masters(struct cf_ctx *cx, const struct sp_conf_pool *pool)
{
    const char *key = cf_key_name(CF_KEY_SENTINEL_MASTERS);
    struct cf_show s, t;

    for (size_t i = 0; i < pool->nsentinel_masters; i++) {
        const struct sp_conf_master_alias *a = &pool->sentinel_masters[i];
        /* a server only in migrate_from (one being removed) may be mapped too */
        if (sp_conf_find_server(pool, a->server) < 0 &&
            sp_conf_find_server(pool->migrate_from, a->server) < 0)
            return cf_error(cx, a->mark, pool->name, key,
                            "%s is not the name of a server of this pool (expected "
                            "'server-name: sentinel-master-name' for a server in 'servers'%s)",
                            cf_show(&s, a->server, strlen(a->server)),
                            pool->migrate_from ? " or 'migrate_from'" : "");
    }
    for (size_t j = 1; j < pool->nservers; j++) {
        for (size_t i = 0; i < j; i++) {
            const struct sp_conf_server *a = &pool->servers[i], *b = &pool->servers[j];
            if (strcmp(a->master, b->master) != 0)
                continue;
            /* blame whichever of the two was written later */
            struct sp_conf_mark ma = master_mark(pool, i), mb = master_mark(pool, j);
            bool b_later = mb.line > ma.line || (mb.line == ma.line && mb.column > ma.column);
            const struct sp_conf_server *first = b_later ? a : b, *later = b_later ? b : a;
            return cf_error(cx, b_later ? mb : ma, pool->name,
                            alias_of(pool, later->name) ? key : cf_key_name(CF_KEY_SERVERS),
                            "Sentinel master %s is already followed by server %s (line %u; "
                            "expected one server per master)",
                            cf_show(&s, later->master, strlen(later->master)),
                            cf_show(&t, first->name, strlen(first->name)),
                            (b_later ? ma : mb).line);
        }
    }
    return 0;
}

int cf_sentinel_finish(struct cf_ctx *cx, struct sp_conf_pool *pool,
                       const struct cf_pool_marks *m)
{
    enum cf_key orphan = orphan_key(pool, m);

    if (orphan != CF_KEY_COUNT)
        return cf_error(cx, m->key[orphan], pool->name, cf_key_name(orphan),
                        "only valid in a Sentinel pool (expected a 'sentinels:' list in this "
                        "pool too)");
    if (!pool->nsentinels)
        return 0;
    if (!pool->redis)
        return cf_error(cx, m->key[CF_KEY_SENTINELS], pool->name,
                        cf_key_name(CF_KEY_SENTINELS),
                        "only valid for a redis pool (expected 'redis: true' in this pool: "
                        "Sentinel watches Redis masters)");
    if (pool->sentinel_user && !pool->sentinel_auth)
        return cf_error(cx, m->key[CF_KEY_SENTINEL_USER], pool->name,
                        cf_key_name(CF_KEY_SENTINEL_USER),
                        "needs 'sentinel_auth' too (AUTH sends the user name with its password)");
    if (check_servers(cx, pool) != 0)
        return -1;
    return check_masters(cx, pool);
}

void cf_sentinel_release(struct sp_conf_pool *pool)
{
    for (size_t i = 0; i < pool->nsentinels; i++) {
        free(pool->sentinels[i].addr.text);
        free(pool->sentinels[i].addr.host);
    }
    free(pool->sentinels);
    for (size_t i = 0; i < pool->nsentinel_masters; i++) {
        free(pool->sentinel_masters[i].server);
        free(pool->sentinel_masters[i].master);
    }
    free(pool->sentinel_masters);
    free(pool->sentinel_auth);
    free(pool->sentinel_user);
    pool->sentinels = NULL;
    pool->sentinel_masters = NULL;
    pool->sentinel_auth = pool->sentinel_user = NULL;
    pool->nsentinels = pool->nsentinel_masters = 0;
}
