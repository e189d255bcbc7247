/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `migrate_from:` (online resharding, docs/resharding.md): the layout a pool's keys live in now.
 *
 *   migrate_from:            <- a mapping of layout keys: servers (required), hash,
 *     servers:                  distribution, hash_tag ...
 *      - 127.0.0.1:6379:1 a
 *     distribution: modula
 *   migrate_from:            <- ... or, short, directly a servers list
 *    - 127.0.0.1:6379:1 a
 *
 * The walker parses those keys into a pool of their own with the pool keys' own parsers; here
 * that pool is completed into the whole source layout - a copy of the pool with the layout keys
 * replaced - and checked by the loader's pool checks (sorting, duplicate names, Sentinel rules),
 * so the source layout is exactly what a pool with those servers would be.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* Moves the layout keys `part` was given into `src` (a copy of the pool). */
static void take_layout(struct sp_conf_pool *src, struct sp_conf_pool *part,
                        const struct cf_pool_marks *m)
{
    for (size_t i = 0; i < src->nservers; i++)
        cf_server_release(&src->servers[i]);
    free(src->servers);
    src->servers = part->servers;
    src->nservers = part->nservers;
    part->servers = NULL;
    part->nservers = 0;
    if (part->hash) {
        free(src->hash);
        src->hash = part->hash;
        part->hash = NULL;
    }
    if (part->distribution) {
        free(src->distribution);
        src->distribution = part->distribution;
        part->distribution = NULL;
    }
    if (m->from[CF_KEY_HASH_TAG].line)
        memcpy(src->hash_tag, part->hash_tag, sizeof(src->hash_tag));
    src->mark = part->mark;
}

/* Drops the sentinel_masters entries that name none of `src`'s servers (the pool checks them). */
static void keep_own_aliases(struct sp_conf_pool *src)
{
    size_t kept = 0;

    for (size_t i = 0; i < src->nsentinel_masters; i++) {
        struct sp_conf_master_alias *a = &src->sentinel_masters[i];
        if (sp_conf_find_server(src, a->server) >= 0) {
            src->sentinel_masters[kept++] = *a;
            continue;
        }
        free(a->server);
        free(a->master);
    }
    src->nsentinel_masters = kept;
}

/* Replaces pool->migrate_from (its own keys only) by the complete source layout.  0 or -1. */
static int complete(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_pool_marks *m)
{
    struct sp_conf_pool *part = pool->migrate_from;
    struct cf_pool_marks sm;

    if (!m->from[CF_KEY_SERVERS].line)
        return cf_error(cx, m->key[CF_KEY_MIGRATE_FROM], pool->name,
                        cf_key_name(CF_KEY_MIGRATE_FROM),
                        "missing key 'servers' (expected %s)", cf_key_expect(CF_KEY_MIGRATE_FROM));
    pool->migrate_from = NULL;   /* the copy must not take the part along */
    struct sp_conf_pool *src = sp_conf_pool_dup(pool);
    pool->migrate_from = part;
    if (!src)
        return cf_error(cx, part->mark, pool->name, cf_key_name(CF_KEY_MIGRATE_FROM),
                        "out of memory");
    take_layout(src, part, m);
    keep_own_aliases(src);
    sp_conf_pool_free(part);
    pool->migrate_from = src;
    /* the source's listen and servers were given; its messages name 'migrate_from.KEY' */
    memset(&sm, 0, sizeof(sm));
    sm.key[CF_KEY_LISTEN] = sm.key[CF_KEY_SERVERS] = src->mark;
    cx->key_prefix = cf_key_name(CF_KEY_MIGRATE_FROM);
    int rc = cf_pool_finish(cx, src, &sm);
    cx->key_prefix = NULL;
    return rc;
}

/* A server name in both lists is one server: the same address in both. */
static int check_shared_names(struct cf_ctx *cx, const struct sp_conf_pool *pool)
{
    const struct sp_conf_pool *src = pool->migrate_from;
    struct cf_show s, a, b;

    for (size_t i = 0; i < src->nservers; i++) {
        const struct sp_conf_server *from = &src->servers[i];
        int j = sp_conf_find_server(pool, from->name);
        if (j < 0 || strcmp(pool->servers[j].addr.text, from->addr.text) == 0)
            continue;
        const struct sp_conf_server *to = &pool->servers[j];
        return cf_error(cx, from->mark, pool->name, cf_key_name(CF_KEY_MIGRATE_FROM),
                        "server %s is at %s here but at %s in 'servers' (line %u): a name is "
                        "one server (expected the same address in both lists, or another name)",
                        cf_show(&s, from->name, strlen(from->name)),
                        cf_show(&a, from->addr.text, strlen(from->addr.text)),
                        cf_show(&b, to->addr.text, strlen(to->addr.text)), to->mark.line);
    }
    return 0;
}

int cf_migrate_finish(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_pool_marks *m)
{
    const char *key = cf_key_name(CF_KEY_MIGRATE_FROM);

    if (!pool->migrate_from)
        return 0;
    struct sp_conf_mark at = pool->migrate_from->mark;
    if (!pool->redis)
        return cf_error(cx, at, pool->name, key,
                        "only valid for a redis pool (expected 'redis: true' in this pool: keys "
                        "are moved with Redis' MIGRATE)");
    if (pool->auto_eject_hosts)
        return cf_error(cx, at, pool->name, key,
                        "cannot be used with 'auto_eject_hosts: true' (ejecting a server would "
                        "re-place keys in the middle of a move; expected auto_eject_hosts: false "
                        "while migrating)");
    if (m->key[CF_KEY_MIGRATE_FROM].line && complete(cx, pool, m) != 0)
        return -1;
    return check_shared_names(cx, pool);
}
