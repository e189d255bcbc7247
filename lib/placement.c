/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement: key -> server index of a pool, as nutcracker 0.5.0 (see placement.h).
 *
 * Everything that can be decided once is decided in sp_placer_new (plugins looked up, selector
 * built from the live servers, live-index -> pool-index map), so sp_placer_locate is a hash_tag
 * scan, one hash call and one select call: no allocation, no lookup by name.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "placement_int.h"


/* Writes "pool 'NAME': <message>" into err[errlen]. */
static void placer_error(char *err, size_t errlen, const struct sp_conf_pool *pool,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void placer_error(char *err, size_t errlen, const struct sp_conf_pool *pool,
                         const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    int used = snprintf(err, errlen, "pool '%s': ", pool->name ? pool->name : "?");
    if (used < 0 || (size_t)used >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, errlen - (size_t)used, fmt, ap);
    va_end(ap);
}

void sp_hash_tag_span(const char *tag, const void *key, size_t len, size_t *off, size_t *n)
{
    *off = 0;
    *n = len;
    if (tag == NULL || tag[0] == '\0' || tag[1] == '\0' || len == 0)
        return;
    const unsigned char *k = key;
    const unsigned char *open = memchr(k, (unsigned char)tag[0], len);
    if (!open)
        return;
    size_t after = (size_t)(open - k) + 1;
    const unsigned char *close = memchr(open + 1, (unsigned char)tag[1], len - after);
    /* An empty tag ("{}") falls back to the whole key; nutcracker does not look further. */
    if (!close || close == open + 1)
        return;
    *off = after;
    *n = (size_t)(close - open) - 1;
}

/* Looks up both plugins of `pool`; 0, or -1 with err set. */
static int find_plugins(struct sp_placer *p, const struct sp_registry *reg, char *err,
                        size_t errlen)
{
    const struct sp_conf_pool *pool = p->pool;
    const char *hname = pool->hash ? pool->hash : SP_CONF_DEFAULT_HASH;
    const char *dname = pool->distribution ? pool->distribution : SP_CONF_DEFAULT_DIST;
    const struct sp_plugin *h = sp_registry_find(reg, SP_PLUGIN_HASH, hname);
    if (!h || !h->hash) {
        placer_error(err, errlen, pool, "hash '%s': no such hash plugin is loaded", hname);
        return -1;
    }
    const struct sp_plugin *d = sp_registry_find(reg, SP_PLUGIN_DIST, dname);
    if (!d || !d->build || !d->select || !d->destroy) {
        placer_error(err, errlen, pool, "distribution '%s': no such distribution plugin is loaded",
                     dname);
        return -1;
    }
    p->hash = h->hash;
    p->hash_bits = h->hash_bits;
    p->dist = d;
    return 0;
}

/* Records the hash_tag; a tag must be "" or exactly two characters.  0, or -1 with err set. */
static int set_tag(struct sp_placer *p, char *err, size_t errlen)
{
    const char *tag = p->pool->hash_tag;
    size_t n = strnlen(tag, sizeof p->pool->hash_tag);
    if (n == 0)
        return 0;
    if (n != 2) {
        placer_error(err, errlen, p->pool, "hash_tag '%.*s' must be exactly two characters",
                     (int)n, tag);
        return -1;
    }
    p->tagged = true;
    memcpy(p->tag, tag, 2);
    return 0;
}

/* Builds the selector over the live servers, in pool order.  0, or -1 with err set. */
static int build_selector(struct sp_placer *p, const bool *live, char *err, size_t errlen)
{
    const struct sp_conf_pool *pool = p->pool;
    struct sp_server_spec *specs = calloc(pool->nservers ? pool->nservers : 1, sizeof *specs);
    p->to_pool = calloc(pool->nservers ? pool->nservers : 1, sizeof *p->to_pool);
    if (!specs || !p->to_pool) {
        free(specs);
        placer_error(err, errlen, pool, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < pool->nservers; i++) {
        if (live && !live[i])
            continue;
        const struct sp_conf_server *s = &pool->servers[i];
        if (!s->name) {
            free(specs);
            placer_error(err, errlen, pool, "server %zu has no name", i);
            return -1;
        }
        specs[p->nlive] = (struct sp_server_spec){
            .name = s->name, .name_len = strlen(s->name), .weight = s->weight};
        p->to_pool[p->nlive++] = (uint32_t)i;
    }
    int rc = 0;
    if (p->nlive > 0) {
        char why[256] = "";
        p->selector = p->dist->build(specs, p->nlive, why, sizeof why);
        if (!p->selector) {
            placer_error(err, errlen, pool, "distribution '%s' rejected the servers: %s",
                         p->dist->name, why[0] ? why : "(no reason given)");
            rc = -1;
        }
    }
    free(specs);
    return rc;
}

struct sp_placer *sp_placer_new(const struct sp_registry *reg, const struct sp_conf_pool *pool,
                                const bool *live, char *err, size_t errlen)
{
    struct sp_placer *p = calloc(1, sizeof *p);
    if (!p) {
        placer_error(err, errlen, pool, "out of memory");
        return NULL;
    }
    p->pool = pool;
    p->single = pool->nservers == 1;
    if (pool->nservers > INT_MAX) { /* locate answers an int */
        placer_error(err, errlen, pool, "%zu servers is too many", pool->nservers);
        goto fail;
    }
    if (find_plugins(p, reg, err, errlen) < 0 || set_tag(p, err, errlen) < 0 ||
        build_selector(p, live, err, errlen) < 0)
        goto fail;
    return p;
fail:
    sp_placer_free(p);
    return NULL;
}

void sp_placer_free(struct sp_placer *placer)
{
    if (!placer)
        return;
    if (placer->selector)
        placer->dist->destroy(placer->selector);
    free(placer->to_pool);
    free(placer);
}

uint64_t sp_placer_hash(const struct sp_placer *placer, const void *key, size_t len)
{
    if (placer->single)
        return 0;
    size_t off = 0, n = len;
    if (placer->tagged)
        sp_hash_tag_span(placer->tag, key, len, &off, &n);
    if (n == 0)
        return 0;
    return placer->hash((const unsigned char *)key + off, n);
}

int sp_placer_locate_hash(struct sp_placer *placer, uint64_t hash)
{
    if (placer->nlive == 0)
        return -1;
    if (placer->single)
        return (int)placer->to_pool[0];
    uint32_t i = placer->dist->select(placer->selector, hash);
    /* A plugin answering out of range is a bug there; refuse to index with it. */
    if (i >= placer->nlive)
        return -1;
    return (int)placer->to_pool[i];
}

int sp_placer_locate(struct sp_placer *placer, const void *key, size_t len)
{
    if (placer->nlive == 0)
        return -1;
    if (placer->single)
        return (int)placer->to_pool[0];
    return sp_placer_locate_hash(placer, sp_placer_hash(placer, key, len));
}

size_t sp_placer_live_count(const struct sp_placer *placer)
{
    return placer->nlive;
}
