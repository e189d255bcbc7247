/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one-line note `shardproxy -t` prints per migrating pool: both layouts and the share of the
 * hash space that changes owner between them (lib/shares.c: exact where the distributions have a
 * shape), so an operator sees the size of a move before starting it.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "layout.h"
#include "placement.h"

static const char *how_name(enum sp_share_how how)
{
    switch (how) {
    case SP_SHARE_EXACT:
        return "exact";
    case SP_SHARE_SAMPLED:
        return "sampled";
    case SP_SHARE_ESTIMATED:
        return "estimated: the hash or hash_tag changes";
    }
    return "?";
}

/* The moved share from `from` to `to`, servers matched by name.  -1 when out of memory. */
static double moved_share(const struct sp_placer *pa, const struct sp_placer *pb,
                          const struct sp_conf_pool *from, const struct sp_conf_pool *to,
                          enum sp_share_how *how)
{
    int *b_to_a = malloc((to->nservers + 1) * sizeof(*b_to_a));

    if (!b_to_a)
        return -1;
    for (size_t j = 0; j < to->nservers; j++)
        b_to_a[j] = sp_conf_find_server(from, to->servers[j].name);
    double m = sp_placer_moved_share(pa, pb, b_to_a, how);
    free(b_to_a);
    return m;
}

int sp_conf_migration_note(const struct sp_conf_pool *pool, const struct sp_registry *reg,
                           char *buf, size_t len)
{
    const struct sp_conf_pool *from = pool->migrate_from;
    enum sp_share_how how = SP_SHARE_EXACT;
    char err[256];
    int rc = -1;

    if (len)
        buf[0] = '\0';
    if (!from)
        return 1;
    struct sp_placer *pa = sp_placer_new(reg, from, NULL, err, sizeof(err));
    struct sp_placer *pb = pa ? sp_placer_new(reg, pool, NULL, err, sizeof(err)) : NULL;
    double m = pb ? moved_share(pa, pb, from, pool, &how) : -1;
    if (!pb) {
        snprintf(buf, len, "pool '%s': migrate_from: %s", pool->name, err);
    } else if (m < 0) {
        snprintf(buf, len, "pool '%s': out of memory", pool->name);
    } else {
        snprintf(buf, len,
                 "pool '%s': migrating from %zu servers (%s/%s) to %zu servers (%s/%s), plan "
                 "%016" PRIx64 ": %.2f%% of the hash space moves (%s)",
                 pool->name, from->nservers, from->hash, from->distribution, pool->nservers,
                 pool->hash, pool->distribution, sp_conf_plan_id(pool), m * 100, how_name(how));
        rc = 0;
    }
    sp_placer_free(pb);
    sp_placer_free(pa);
    return rc;
}
