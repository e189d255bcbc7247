/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement: which server of a pool owns a key, exactly as nutcracker 0.5.0 decides it.
 *
 *   1. hash_tag: if the pool has a tag "ab", the first 'a' in the key and the first 'b' after it
 *      delimit the bytes hashed, provided at least one byte lies between them; else the whole key.
 *   2. a pool with one configured server owns every key without hashing; the empty key hashes to 0.
 *   3. the hash plugin maps the bytes to a value; the distribution plugin's selector, built from
 *      the live servers {name, weight} in pool order, maps the value to a server.
 *
 * A placer is immutable after construction except for the selector's private state (random), so
 * the proxy builds a new placer when the set of live servers changes, as the oracle would.
 */
#ifndef SP_PLACEMENT_H
#define SP_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "registry.h"

struct sp_placer;

/*
 * Builds a placer for `pool` using plugins from `reg`.  `live` (may be NULL: all live) has one
 * flag per pool server; servers flagged false are left out of the distribution (ejected).
 * Returns NULL and writes a reason into err[errlen] when a plugin is missing or the distribution
 * rejects the servers.  The placer keeps pointers into `pool` and `reg`: they must outlive it.
 */
struct sp_placer *sp_placer_new(const struct sp_registry *reg, const struct sp_conf_pool *pool,
                                const bool *live, char *err, size_t errlen);

/* Frees a placer; NULL is a no-op. */
void sp_placer_free(struct sp_placer *placer);

/*
 * Returns the index into pool->servers of the server that owns `key`, or -1 when no server is
 * live.
 */
int sp_placer_locate(struct sp_placer *placer, const void *key, size_t len);

/*
 * Same as sp_placer_locate for a key whose placement hash (sp_placer_hash) is `hash`: lets a caller
 * that places one key under several distributions hash it once, and lets the oracle measure each
 * server's share of the hash space.  Returns an index into pool->servers, or -1 when no server is
 * live.
 */
int sp_placer_locate_hash(struct sp_placer *placer, uint64_t hash);

/* The hash value placement uses for `key` (after hash_tag; 0 for an empty key). */
uint64_t sp_placer_hash(const struct sp_placer *placer, const void *key, size_t len);

/* Number of servers taking part in the distribution (the live ones). */
size_t sp_placer_live_count(const struct sp_placer *placer);

/* How a share of the hash space was found. */
enum sp_share_how {
    SP_SHARE_EXACT,     /* from the distributions' shapes (sp_dist_shape_fn): exact */
    SP_SHARE_SAMPLED,   /* a distribution has no shape: 2^20 evenly spread hash values */
    SP_SHARE_ESTIMATED, /* the hash or hash_tag differs: keys move as if independently */
};

/*
 * The share of the keys whose server changes from placer `a` to placer `b` (e.g. the running
 * config and the next): key hashes spread evenly over the hash space, servers matched by
 * `b_to_a` (index into b's pool -> index into a's, -1 for a server a does not have).  With the
 * same hash and hash_tag on both sides, the share of the hash space whose owner changes; else an
 * estimate, 1 - sum of the products of each server's shares on both sides.  *how says which.
 * Returns a value in [0, 1]; -1 when out of memory.
 */
double sp_placer_moved_share(const struct sp_placer *a, const struct sp_placer *b,
                             const int *b_to_a, enum sp_share_how *how);

/*
 * Each server's share of the hash space under `placer`: shares[i] for pool server i (0 for one
 * that is not live).  Returns 0, or -1 when out of memory; *how as above (never ESTIMATED).
 */
int sp_placer_space_shares(const struct sp_placer *placer, double *shares, enum sp_share_how *how);

/*
 * The hash_tag rule on its own: stores in *off and *n the part of key[len] to hash for tag `tag`
 * ("" or two characters).
 */
void sp_hash_tag_span(const char *tag, const void *key, size_t len, size_t *off, size_t *n);

#endif /* SP_PLACEMENT_H */
