/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Distribution plugin "modula": nutcracker 0.5.0's modulo placement.
 *
 * nutcracker lists each server `weight` times in host order and sends a key to
 * list[hash % total_weight].  Here the list is kept as cumulative weights and the slot is found by
 * binary search: the same answer, without a slot per unit of weight (weights may be large).
 *
 * 64-bit hashes: the full value is reduced modulo the total weight.  For nutcracker's 32-bit hashes
 * that is exactly nutcracker's uint32 `hash % total`; for a 64-bit hash it uses every bit.
 */
#include "config.h"

#include <stdlib.h>

#include <shardproxy/plugin.h>

#include "dist_check.h"

struct modula {
    uint32_t n;
    uint32_t total;   /* sum of the weights, >= 1 */
    uint32_t *upto;   /* weight[0] + ... + weight[i]: server i owns slots [upto[i-1], upto[i]) */
};

static void modula_destroy(void *selector)
{
    struct modula *m = selector;
    if (!m)
        return;
    free(m->upto);
    free(m);
}

static void *modula_build(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    uint32_t total;
    if (sp_dist_check_servers("modula", servers, n, &total, err, errlen) < 0)
        return NULL;
    /* The weights sum to <= UINT32_MAX and each is >= 1, so n fits in 32 bits too. */
    struct modula *m = calloc(1, sizeof *m);
    if (m)
        m->upto = malloc(n * sizeof *m->upto);
    if (!m || !m->upto) {
        modula_destroy(m);
        sp_dist_error(err, errlen, "modula", "out of memory for %zu servers", n);
        return NULL;
    }
    m->n = (uint32_t)n;
    m->total = total;
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += servers[i].weight;
        m->upto[i] = sum;
    }
    return m;
}

static uint32_t modula_select(void *selector, uint64_t hash)
{
    const struct modula *m = selector;
    uint32_t slot = (uint32_t)(hash % m->total);
    /* First server whose cumulative weight exceeds the slot. */
    uint32_t lo = 0, hi = m->n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->upto[mid] > slot)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Period: the total weight; server i owns slots [upto[i-1], upto[i]), so its cut is upto[i]-1. */
static size_t modula_shape(const void *selector, uint64_t *cuts, size_t cap, uint64_t *period)
{
    const struct modula *m = selector;

    *period = m->total;
    for (uint32_t i = 0; i < m->n && i < cap; i++)
        cuts[i] = m->upto[i] - 1;
    return m->n;
}

SP_DIST_PLUGIN_SHAPED("modula", "nutcracker modula: hash modulo the total weight, servers in order",
                      modula_build, modula_select, modula_destroy, modula_shape);
