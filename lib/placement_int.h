/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the placer, shared by lib/placement.c (placing keys) and lib/shares.c (measuring
 * the hash space) only.
 */
#ifndef SP_PLACEMENT_INT_H
#define SP_PLACEMENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <shardproxy/plugin.h>

#include "conf.h"

struct sp_placer {
    const struct sp_conf_pool *pool;
    sp_hash_fn *hash;
    uint32_t hash_bits;  /* 32 or 64: the hash space is [0, 2^hash_bits) */
    const struct sp_plugin *dist;
    void *selector;      /* NULL when no server is live */
    uint32_t *to_pool;   /* selector index -> index into pool->servers */
    size_t nlive;
    bool single;         /* one configured server: nutcracker never hashes */
    bool tagged;
    char tag[2];
};

#endif /* SP_PLACEMENT_INT_H */
