/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An out-of-tree distribution plugin, as a plugin author writes one: "range" splits the 32-bit
 * hash space into one contiguous slice per server, each as wide as its weight's share.  Simple
 * and balanced, but not consistent: adding a server shifts every slice boundary, so most keys
 * move (use ketama, jump or rendezvous for real pools).  It shows the three functions and how a
 * build error reaches the user.
 *
 * Build (after `make install` of shardproxy), with the Makefile beside this file or by hand:
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags shardproxy) \
 *      -o dist_range.so dist_range.c
 * then write `distribution: range` in a pool.
 */
#include <stdio.h>
#include <stdlib.h>

#include <shardproxy/plugin.h>

struct range_selector {
    size_t n;
    uint64_t end[]; /* slice i holds hashes below end[i] (and at or above end[i - 1]) */
};

static void *range_build(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (servers[i].weight == 0) {
            snprintf(err, errlen, "range: server '%.*s' has weight 0", (int)servers[i].name_len,
                     servers[i].name);
            return NULL;
        }
        total += servers[i].weight;
    }
    struct range_selector *r = malloc(sizeof *r + n * sizeof r->end[0]);
    if (!r) {
        snprintf(err, errlen, "range: out of memory");
        return NULL;
    }
    r->n = n;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += servers[i].weight;
        r->end[i] = (sum << 32) / total; /* the last slice ends at 2^32 */
    }
    return r;
}

static uint32_t range_select(void *selector, uint64_t hash)
{
    const struct range_selector *r = selector;
    uint64_t h = hash & 0xffffffffu; /* 64-bit hashes: their low 32 bits */
    size_t i = 0;
    while (i + 1 < r->n && h >= r->end[i])
        i++;
    return (uint32_t)i;
}

static void range_destroy(void *selector)
{
    free(selector);
}

SP_DIST_PLUGIN("range", "contiguous hash-space slices by weight (example plugin)", range_build,
               range_select, range_destroy);
