/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Distribution plugin "random": nutcracker 0.5.0's random placement.
 *
 * nutcracker ignores both the hash and the weights: every live server is one slot and each request
 * picks random() % nlive, seeded from the clock.  Placement is therefore not reproducible there,
 * and no golden vector exists.  Here the choice is equally uniform over the servers (weights
 * ignored, as nutcracker), but the generator state lives inside the selector and is seeded from the
 * server list (names and weights), never from the clock: a fresh selector for the same list gives
 * the same sequence, which keeps tests and the oracle repeatable.  Each selector call advances the
 * state, so one selector must not be shared by two threads (see plugin.h).
 */
#include "config.h"

#include <stdlib.h>

#include <shardproxy/plugin.h>

#include "dist_check.h"

struct random_sel {
    uint32_t n;
    uint64_t state; /* splitmix64 counter */
};

/* splitmix64: full period over 2^64, good statistical quality, no zero-state problem. */
static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* FNV-1a over every name and weight: any change of the list changes the seed. */
static uint64_t seed_from_servers(const struct sp_server_spec *servers, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)servers[i].name;
        for (size_t k = 0; k < servers[i].name_len; k++)
            h = (h ^ p[k]) * 0x100000001b3ULL;
        for (int b = 0; b < 4; b++)
            h = (h ^ ((servers[i].weight >> (8 * b)) & 0xffu)) * 0x100000001b3ULL;
        h = (h ^ 0xffu) * 0x100000001b3ULL; /* separator: "ab","c" differs from "a","bc" */
    }
    return h;
}

static void *random_build(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    uint32_t total;
    if (sp_dist_check_servers("random", servers, n, &total, err, errlen) < 0)
        return NULL;
    struct random_sel *r = malloc(sizeof *r);
    if (!r) {
        sp_dist_error(err, errlen, "random", "out of memory");
        return NULL;
    }
    r->n = (uint32_t)n;
    r->state = seed_from_servers(servers, n);
    return r;
}

static uint32_t random_select(void *selector, uint64_t hash)
{
    struct random_sel *r = selector;
    (void)hash; /* nutcracker's random ignores the key */
    /* Multiply-shift maps 32 random bits onto [0, n) with bias below n / 2^32. */
    uint64_t bits = splitmix64_next(&r->state) >> 32;
    return (uint32_t)((bits * r->n) >> 32);
}

static void random_destroy(void *selector)
{
    free(selector);
}

SP_DIST_PLUGIN("random", "nutcracker random: a uniformly random server per request (seeded from "
               "the server list), ignores hash and weight",
               random_build, random_select, random_destroy);
