/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Distribution plugin "jump": jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory,
 * Consistent Hash Algorithm", 2014), written against the public plugin ABI only.
 *
 * The algorithm follows one key through a chain of "jumps": starting in bucket 0, a linear
 * congruential generator seeded with the key draws the next bucket the key would move to as the
 * bucket count grows; the chain is followed while it stays below n, and the last bucket reached
 * is the answer.  Because each growth step from m to m+1 buckets moves a key with probability
 * exactly 1/(m+1), and only into the new bucket m, jump gives near-perfect balance and minimal
 * movement for APPEND-LAST / REMOVE-LAST changes, with no memory and O(log n) expected steps.
 *
 * Consequences an operator must know (docs/distributions.md):
 *   - Names are ignored: the bucket IS the position in the host's server list.  For
 *     nutcracker-compatible configs that list is sorted by name (length, then bytes), so adding a
 *     server whose name sorts before others renumbers them and moves many keys (inserting at
 *     position p of n moves about (n-p)/(n+1) of them).  Only a server sorting last, or removing
 *     the last one, is a minimal change.  Ejecting a middle server is likewise a large change.
 *   - Weights cannot be honoured (a weight is not a position), so build() refuses unequal weights
 *     rather than silently ignoring them.  Equal weights (all 1, or all 5) mean equal shares and
 *     are accepted.
 *   - The hash is first spread with fmix64 so that jump's input is uniform over 64 bits whatever
 *     the hash's width or structure (nutcracker's hashes have 32 bits, crc16/crc32 even fewer
 *     useful ones), while the LCG alone is a weak mixer: hashes differing in low bits start on
 *     states a constant apart.  fmix64(0) == 0, so hash 0 always lands in bucket 0.
 *   - The paper computes the next bucket in double precision; here it is the exact integer
 *     floor((b+1) * 2^31 / ((state >> 33) + 1)), which is the same quantity without rounding, so
 *     placement is identical on every CPU and compiler.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include <shardproxy/plugin.h>

#include "outside_util.h"

/* (b+1) * 2^31 must fit in 64 bits with b < n: n <= 2^31 keeps it below 2^62. */
#define JUMP_MAX_SERVERS ((size_t)1 << 31)

/* The paper's 64-bit LCG: state = state * JUMP_LCG_MUL + 1 (mod 2^64). */
#define JUMP_LCG_MUL 2862933555777941757ULL

struct jump {
    uint32_t n;
};

/*
 * The jump function on an already mixed 64-bit key: returns a bucket in [0, n), n >= 1.
 * Pure; the expected number of loop iterations is ln(n) + 1.
 */
static uint32_t jump_bucket(uint64_t key, uint32_t n)
{
    uint64_t b = 0;
    uint64_t next = 0;
    while (next < n) {
        b = next;
        key = key * JUMP_LCG_MUL + 1;
        next = ((b + 1) << 31) / ((key >> 33) + 1);
    }
    return (uint32_t)b;
}

/*
 * Refuses what jump cannot place: no servers, more than JUMP_MAX_SERVERS, a weight of 0, or
 * weights that differ (each bucket gets an equal share).  Returns 0, or -1 with err written.
 */
static int jump_check(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    char a[80], b[80];
    if (servers == NULL || n == 0) {
        od_error(err, errlen, "jump", "no servers (a distribution needs at least one)");
        return -1;
    }
    if (n > JUMP_MAX_SERVERS) {
        od_error(err, errlen, "jump", "%zu servers is more than the %zu jump can address", n,
                 JUMP_MAX_SERVERS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (servers[i].weight == 0) {
            od_error(err, errlen, "jump", "server %s has weight 0 (must be >= 1)",
                     od_server_label(servers, i, a, sizeof a));
            return -1;
        }
        if (servers[i].weight != servers[0].weight) {
            od_error(err, errlen, "jump",
                     "server %s has weight %lu but server %s has weight %lu: jump gives every "
                     "server an equal share and cannot honour unequal weights (use rendezvous)",
                     od_server_label(servers, i, a, sizeof a), (unsigned long)servers[i].weight,
                     od_server_label(servers, 0, b, sizeof b), (unsigned long)servers[0].weight);
            return -1;
        }
    }
    return 0;
}

static void *jump_build(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    if (jump_check(servers, n, err, errlen) < 0)
        return NULL;
    struct jump *j = malloc(sizeof *j);
    if (j == NULL) {
        od_error(err, errlen, "jump", "out of memory");
        return NULL;
    }
    j->n = (uint32_t)n;
    return j;
}

static uint32_t jump_select(void *selector, uint64_t hash)
{
    const struct jump *j = selector;
    return jump_bucket(od_mix64(hash), j->n);
}

static void jump_destroy(void *selector)
{
    free(selector);
}

SP_DIST_PLUGIN("jump", "jump consistent hash (Lamping-Veach): servers by position, equal weights",
               jump_build, jump_select, jump_destroy);
