/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Distribution plugin "ketama": nutcracker 0.5.0's consistent hashing (the default distribution).
 * The continuum itself lives in ketama_ring.c; this file only adapts it to the plugin ABI.
 */
#include "config.h"

#include <shardproxy/plugin.h>

#include "ketama_ring.h"

static void *ketama_build(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    return sp_ketama_ring_new(servers, n, err, errlen);
}

static uint32_t ketama_select(void *selector, uint64_t hash)
{
    return sp_ketama_ring_select(selector, hash);
}

static void ketama_destroy(void *selector)
{
    sp_ketama_ring_free(selector);
}

/* The ring's distinct point values are its cuts: a key goes to the first point >= its hash. */
static size_t ketama_shape(const void *selector, uint64_t *cuts, size_t cap, uint64_t *period)
{
    *period = (uint64_t)1 << 32; /* the low 32 bits of the hash decide (ketama_ring.h) */
    return sp_ketama_ring_cuts(selector, cuts, cap);
}

SP_DIST_PLUGIN_SHAPED("ketama",
                      "nutcracker ketama: MD5 continuum, 160 points per server scaled by weight",
                      ketama_build, ketama_select, ketama_destroy, ketama_shape);
