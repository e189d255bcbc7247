/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle compare: every installed hash x distribution on the same servers and keys - balance,
 * and movement when one server of average weight is added - in one pass over the keys (stdin cannot
 * be read twice).  Each key is hashed once per hash function, then placed by every distribution.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "oracle.h"
#include "opts.h"

#define COMPARE_USAGE "shardoracle compare -c CONF [--pool P] [--hex] [FILE]"

/* The added server: a documentation address (RFC 5737), named when the pool's servers are. */
static int plus_entry(const struct sp_conf_pool *pool, char *buf, size_t len)
{
    uint64_t total = 0;
    bool named = pool->nservers > 0;
    for (size_t i = 0; i < pool->nservers; i++) {
        total += pool->servers[i].weight;
        named = named && pool->servers[i].named;
    }
    uint64_t avg = pool->nservers ? (total + pool->nservers / 2) / pool->nservers : 1;
    unsigned long long w = avg ? (unsigned long long)avg : 1;
    for (unsigned host = 1; host < 255; host++) {
        char name[64];
        if (named) {
            snprintf(name, sizeof name, "oracle-new-%u", host);
            snprintf(buf, len, "203.0.113.%u:6379:%llu %s", host, w, name);
        } else {
            snprintf(name, sizeof name, "203.0.113.%u:6379", host);
            snprintf(buf, len, "%s:%llu", name, w);
        }
        if (sp_conf_find_server(pool, name) < 0)
            return 0;
    }
    return -1;
}

/* Builds row `r` for hash h x distribution d.  A refusal by the plugin is kept in r->error. */
static int build_row(struct sp_oracle_combo *r, const struct sp_registry *reg,
                     const struct sp_conf_pool *pool, const char *conf_path, const char *entry,
                     const char *h, const char *d)
{
    char err[1024];
    memset(r, 0, sizeof(*r));
    r->hash = h;
    r->dist = d;
    r->current = strcmp(h, pool->hash) == 0 && strcmp(d, pool->distribution) == 0;
    r->unstable = strcmp(d, "random") == 0;
    r->base_pool = sp_conf_pool_dup(pool);
    if (!r->base_pool || sp_conf_pool_set_key(r->base_pool, "hash", h, NULL, NULL, "compare",
                                              err, sizeof err) != 0 ||
        sp_conf_pool_set_key(r->base_pool, "distribution", d, NULL, NULL, "compare", err,
                             sizeof err) != 0 ||
        !(r->plus_pool = sp_conf_pool_dup(r->base_pool)) ||
        sp_conf_pool_add_server(r->plus_pool, entry, "compare", err, sizeof err) != 0)
        return sp_oracle_fail("compare: %s", r->base_pool ? err : "out of memory");
    if (sp_oracle_side_init(&r->base, reg, conf_path, r->base_pool, NULL, err, sizeof err) != 0 ||
        sp_oracle_side_init(&r->plus, reg, conf_path, r->plus_pool, NULL, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err);
        sp_oracle_side_release(&r->base);
        sp_oracle_side_release(&r->plus);
    }
    r->bits = r->base.hash_bits ? r->base.hash_bits : 32;
    return 0;
}

/* Hash-space figures: they depend on the distribution and the hash width only, so measure each
 * (distribution, width) once and copy. */
static int sample_rows(struct sp_oracle_compare *c, const struct sp_registry *reg,
                       const int *to_plus, uint64_t samples)
{
    char err[1024];
    for (size_t k = 0; k < c->nrows; k++) {
        struct sp_oracle_combo *r = &c->rows[k], *same = NULL;
        if (r->error[0])
            continue;
        for (size_t m = 0; m < k && !same; m++)
            if (!c->rows[m].error[0] && c->rows[m].bits == r->bits &&
                strcmp(c->rows[m].dist, r->dist) == 0)
                same = &c->rows[m];
        if (same) {
            memcpy(r->base.space_share, same->base.space_share,
                   (r->base.n + 1) * sizeof(double));
            memcpy(r->plus.space_share, same->plus.space_share,
                   (r->plus.n + 1) * sizeof(double));
            r->space_moved = same->space_moved;
        } else if (sp_oracle_sample(reg, &r->base, &r->plus, to_plus, samples, &r->space_moved,
                                    err, sizeof err) != 0) {
            return sp_oracle_fail("compare: %s", err);
        }
    }
    return 0;
}

struct compare_pass {
    struct sp_oracle_compare *c;
    const int *to_plus;
};

/* One key: hashed once per hash function, then placed by every distribution, with and without
 * the added server. */
static void compare_key(void *ctx, const struct sp_key *key)
{
    struct compare_pass *p = ctx;
    uint64_t h = 0;
    const char *hashed = NULL;
    for (size_t k = 0; k < p->c->nrows; k++) {
        struct sp_oracle_combo *r = &p->c->rows[k];
        if (r->error[0])
            continue;
        /* Rows are grouped by hash; the plus pool has >= 2 servers, so it always hashes. */
        if (r->hash != hashed) {
            h = sp_placer_hash(r->plus.placer, key->bytes, key->len);
            hashed = r->hash;
        }
        int i = sp_placer_locate_hash(r->base.placer, h);
        int j = sp_placer_locate_hash(r->plus.placer, h);
        r->base.keys[i < 0 ? r->base.n : (size_t)i]++;
        r->plus.keys[j < 0 ? r->plus.n : (size_t)j]++;
        if ((i < 0 ? -1 : p->to_plus[i]) != j)
            r->moved++;
    }
}

/* base index -> plus index of the same server (all servers are kept; the new one is extra). */
static int *match_plus(const struct sp_conf_pool *base, const struct sp_conf_pool *plus)
{
    int *m = malloc((base->nservers + 1) * sizeof(*m));
    for (size_t i = 0; m && i < base->nservers; i++)
        m[i] = sp_conf_find_server(plus, base->servers[i].name);
    return m;
}

static int analyse(struct sp_oracle_compare *c, const struct sp_registry *reg,
                   const struct sp_oracle_opts *o)
{
    const char *hashes[128], *dists[128];
    size_t nh = sp_registry_names(reg, SP_PLUGIN_HASH, hashes, 128);
    size_t nd = sp_registry_names(reg, SP_PLUGIN_DIST, dists, 128);
    if (plus_entry(c->pool, c->added, sizeof c->added) != 0)
        return sp_oracle_fail("compare: cannot find a free name for the added server");
    if (!(c->rows = calloc(nh * nd + 1, sizeof(*c->rows))))
        return sp_oracle_fail("out of memory");
    for (size_t a = 0; a < nh; a++)
        for (size_t b = 0; b < nd; b++)
            if (build_row(&c->rows[c->nrows++], reg, c->pool, c->conf_path, c->added, hashes[a],
                          dists[b]) != 0)
                return SP_EXIT_BAD_INPUT;
    int *to_plus = match_plus(c->rows[0].base_pool, c->rows[0].plus_pool);
    if (!to_plus)
        return sp_oracle_fail("out of memory");
    struct compare_pass pass = { c, to_plus };
    int rc = sample_rows(c, reg, to_plus, o->samples) != 0
                 ? SP_EXIT_BAD_INPUT
                 : sp_oracle_each_key(o, compare_key, &pass, &c->keys);
    for (size_t k = 0; rc == SP_EXIT_OK && k < c->nrows; k++) {
        struct sp_oracle_combo *r = &c->rows[k];
        if (r->error[0])
            continue;
        sp_oracle_balance_of(&r->base, &r->balance);
        c->min_fraction = sp_oracle_min_movement(&r->base, &r->plus, to_plus);
    }
    free(to_plus);
    return rc;
}

bool sp_oracle_moves_too_much(const struct sp_oracle_compare *c, const struct sp_oracle_combo *r)
{
    return c->keys && (double)r->moved / (double)c->keys > c->min_fraction * 1.25 + 0.02;
}

int sp_oracle_cmd_compare(int argc, char **argv)
{
    struct sp_oracle_opts o;
    const char *conf_path = NULL, *pool_name = NULL;
    sp_oracle_opts_init(&o);
    o.samples = 1u << 18;   /* rows x samples placements: keep the fixed cost small */
    int rc = sp_oracle_parse_conf_command(argc, argv, "compare", COMPARE_USAGE,
                                          "Every installed hash x distribution on these keys and "
                                          "servers: balance, and the\nkeys that move when one "
                                          "server of average weight is added.",
                                          &o, &conf_path, &pool_name);
    if (rc != 0)
        return rc == 1 ? SP_EXIT_OK : rc;
    struct sp_registry *reg = NULL;
    struct sp_conf *conf = NULL;
    struct sp_oracle_compare c;
    memset(&c, 0, sizeof c);
    c.conf_path = conf_path;
    rc = sp_oracle_load(&o, conf_path, pool_name, &reg, &conf, &c.pool);
    if (rc == SP_EXIT_OK)
        rc = analyse(&c, reg, &o);
    if (rc == SP_EXIT_OK)
        rc = sp_oracle_emit_compare(&o, &c);
    for (size_t k = 0; k < c.nrows; k++) {
        sp_oracle_side_release(&c.rows[k].base);
        sp_oracle_side_release(&c.rows[k].plus);
        sp_conf_pool_free(c.rows[k].base_pool);
        sp_conf_pool_free(c.rows[k].plus_pool);
    }
    free(c.rows);
    sp_conf_free(conf);
    sp_registry_free(reg);
    return rc;
}
