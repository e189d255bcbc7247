/* SPDX-License-Identifier: Apache-2.0 */
/* nutcracker 0.5.0's ketama continuum as a pure function of {name, weight} (see ketama_ring.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_check.h"
#include "ketama_ring.h"
#include "md5.h"

struct sp_ketama_ring {
    uint32_t npoints;
    uint32_t nservers;
    uint32_t *values;        /* sorted point values: the binary search touches only this array */
    uint32_t *owners;        /* owners[i] owns values[i] */
    uint32_t *server_points; /* per server, for inspection */
};

/* A point while the ring is sorted. */
struct ketama_point {
    uint32_t value;
    uint32_t owner;
};

uint32_t sp_ketama_points(uint32_t weight, uint32_t total_weight, uint32_t nservers)
{
    /*
     * One rounding per statement, in the order nutcracker's expression rounds:
     * pct = (float)w / (float)total; pct * 160 / 4 * (float)n in float; + 1e-10 in double, back to
     * float; floorf; * 4.  Separate assignments stop the compiler from fusing or widening steps, so
     * the result is the same on every C11 target (float is IEEE single on all of them).
     */
    float pct = (float)weight / (float)total_weight;
    float scaled = pct * (float)SP_KETAMA_POINTS_PER_SERVER;
    scaled = scaled / (float)SP_KETAMA_POINTS_PER_HASH;
    scaled = scaled * (float)nservers;
    float nudged = (float)((double)scaled + 0.0000000001);
    float groups = floorf(nudged);
    return (uint32_t)groups * SP_KETAMA_POINTS_PER_HASH;
}

/* nutcracker prints the name with "%.*s", which stops at a NUL byte. */
static size_t printed_name_len(const struct sp_server_spec *s)
{
    const char *nul = s->name_len ? memchr(s->name, '\0', s->name_len) : NULL;
    return nul ? (size_t)(nul - s->name) : s->name_len;
}

/* Appends the four points of "NAME-group" (cut to SP_KETAMA_HOST_MAX bytes) to pts. */
static void add_point_group(const struct sp_server_spec *s, uint32_t owner, uint32_t group,
                            struct ketama_point *pts)
{
    char host[SP_KETAMA_HOST_MAX + 16];
    size_t name_len = printed_name_len(s);
    if (name_len > SP_KETAMA_HOST_MAX)
        name_len = SP_KETAMA_HOST_MAX;
    memcpy(host, s->name, name_len);
    int tail = snprintf(host + name_len, sizeof host - name_len, "-%lu", (unsigned long)group);
    size_t len = name_len + (size_t)tail;
    if (len > SP_KETAMA_HOST_MAX)
        len = SP_KETAMA_HOST_MAX;
    unsigned char digest[16];
    sp_md5(host, len, digest);
    for (int k = 0; k < SP_KETAMA_POINTS_PER_HASH; k++) {
        const unsigned char *b = digest + 4 * k;
        pts[k].value = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                       (uint32_t)b[3] << 24;
        pts[k].owner = owner;
    }
}

static int point_cmp(const void *a, const void *b)
{
    const struct ketama_point *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    /* Deterministic tie-break (nutcracker's qsort order is unspecified): lower index first. */
    return (x->owner > y->owner) - (x->owner < y->owner);
}

void sp_ketama_ring_free(struct sp_ketama_ring *ring)
{
    if (!ring)
        return;
    free(ring->values);
    free(ring->owners);
    free(ring->server_points);
    free(ring);
}

/* Fills ring->server_points and ring->npoints. */
static void count_points(struct sp_ketama_ring *ring, const struct sp_server_spec *servers,
                         uint32_t total_weight)
{
    uint64_t npoints = 0;
    for (uint32_t i = 0; i < ring->nservers; i++) {
        uint32_t p = sp_ketama_points(servers[i].weight, total_weight, ring->nservers);
        ring->server_points[i] = p;
        npoints += p;
    }
    /* The shares sum to 1, so the largest server gets >= 156 points: the ring is never empty. */
    ring->npoints = (uint32_t)npoints;
}

/* Hashes every server's points, sorts them and splits them into values/owners. */
static int fill_ring(struct sp_ketama_ring *ring, const struct sp_server_spec *servers)
{
    struct ketama_point *pts = malloc((size_t)ring->npoints * sizeof *pts);
    ring->values = malloc((size_t)ring->npoints * sizeof *ring->values);
    ring->owners = malloc((size_t)ring->npoints * sizeof *ring->owners);
    if (!pts || !ring->values || !ring->owners) {
        free(pts);
        return -1;
    }
    size_t at = 0;
    for (uint32_t i = 0; i < ring->nservers; i++)
        for (uint32_t g = 0; g < ring->server_points[i] / SP_KETAMA_POINTS_PER_HASH; g++) {
            add_point_group(&servers[i], i, g, pts + at);
            at += SP_KETAMA_POINTS_PER_HASH;
        }
    qsort(pts, ring->npoints, sizeof *pts, point_cmp);
    for (uint32_t k = 0; k < ring->npoints; k++) {
        ring->values[k] = pts[k].value;
        ring->owners[k] = pts[k].owner;
    }
    free(pts);
    return 0;
}

struct sp_ketama_ring *sp_ketama_ring_new(const struct sp_server_spec *servers, size_t n,
                                          char *err, size_t errlen)
{
    uint32_t total_weight;
    if (sp_dist_check_servers("ketama", servers, n, &total_weight, err, errlen) < 0)
        return NULL;
    if (n > SP_KETAMA_MAX_SERVERS) {
        sp_dist_error(err, errlen, "ketama", "%zu servers, at most %u are supported", n,
                      SP_KETAMA_MAX_SERVERS);
        return NULL;
    }
    struct sp_ketama_ring *ring = calloc(1, sizeof *ring);
    if (!ring)
        goto nomem;
    ring->nservers = (uint32_t)n;
    ring->server_points = calloc(n, sizeof *ring->server_points);
    if (!ring->server_points)
        goto nomem;
    count_points(ring, servers, total_weight);
    if (fill_ring(ring, servers) < 0)
        goto nomem;
    return ring;
nomem:
    sp_ketama_ring_free(ring);
    sp_dist_error(err, errlen, "ketama", "out of memory building the continuum of %zu servers", n);
    return NULL;
}

uint32_t sp_ketama_ring_select(const struct sp_ketama_ring *ring, uint64_t hash)
{
    uint32_t h = (uint32_t)hash; /* low half, see ketama_ring.h */
    const uint32_t *v = ring->values;
    /* Lower bound: first point >= h, by halving a [base, base + len) window without branches. */
    size_t base = 0, len = ring->npoints;
    while (len > 1) {
        size_t half = len / 2;
        base = v[base + half] < h ? base + half : base;
        len -= half;
    }
    size_t at = base + (v[base] < h);
    return ring->owners[at == ring->npoints ? 0 : at];
}

uint32_t sp_ketama_ring_server_points(const struct sp_ketama_ring *ring, size_t server)
{
    return server < ring->nservers ? ring->server_points[server] : 0;
}

uint32_t sp_ketama_ring_size(const struct sp_ketama_ring *ring)
{
    return ring->npoints;
}

size_t sp_ketama_ring_cuts(const struct sp_ketama_ring *ring, uint64_t *cuts, size_t cap)
{
    size_t n = 0;

    for (uint32_t k = 0; k < ring->npoints; k++) {
        if (k > 0 && ring->values[k] == ring->values[k - 1])
            continue;
        if (n < cap)
            cuts[n] = ring->values[k];
        n++;
    }
    return n;
}
