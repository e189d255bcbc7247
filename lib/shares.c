/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shares of the hash space: which part each server owns, and which part changes owner between
 * two placements (a reload, a "what if").  Keys hash evenly over [0, 2^hash_bits), so these are
 * also the expected shares of keys.
 *
 * Exact when the distributions describe their shape (sp_dist_shape_fn: the answer depends on
 * hash % period only and is constant between sorted cuts): ketama's ring (period 2^32, its
 * points) and modula (period the total weight, one cut per server).  The space is then a few
 * ranges, each owned by one server on each side, counted with integer arithmetic.  Two shapes
 * with the same period are merged; two with a small common multiple (modula reweighted) are
 * walked in runs over it; a 32-bit ring against another period (ketama -> modula) is counted
 * range by range.  Otherwise the answer is measured on 2^20 evenly spread hash values.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "placement_int.h"

#define SAMPLES ((uint64_t)1 << 20)
#define RING32 ((uint64_t)1 << 32)
/* Two periods whose common multiple is at most this are walked in runs (modula vs modula). */
#define COMMON_MAX ((uint64_t)1 << 26)

/* A placer's shape: the answer depends on hash % period, constant on (cuts[i-1], cuts[i]]. */
struct shape {
    uint64_t period;
    uint64_t *cuts;
    size_t n;           /* 0: no shape */
};

/* Fills *sh (n 0: no usable shape).  Returns 0, or -1 when out of memory. */
static int shape_of(const struct sp_placer *p, struct shape *sh)
{
    uint64_t period = 0;
    size_t n;

    memset(sh, 0, sizeof(*sh));
    if (p->nlive == 0)
        return 0;
    if (p->single || p->nlive == 1) {
        sh->cuts = malloc(sizeof(*sh->cuts));
        if (sh->cuts == NULL)
            return -1;
        sh->period = 1;
        sh->cuts[0] = 0;
        sh->n = 1;
        return 0;
    }
    if (p->dist->shape == NULL || (n = p->dist->shape(p->selector, NULL, 0, &period)) == 0)
        return 0;
    sh->cuts = malloc(n * sizeof(*sh->cuts));
    if (sh->cuts == NULL)
        return -1;
    if (p->dist->shape(p->selector, sh->cuts, n, &period) != n || period == 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        if (sh->cuts[i] >= period || (i > 0 && sh->cuts[i] <= sh->cuts[i - 1]))
            n = 0; /* not what the ABI promises: measure instead */
    }
    sh->period = period;
    sh->n = n;
    return 0;
}

/* Number of hash values h in [0, 2^bits) with h % period in [lo, hi] (lo <= hi < period). */
static long double hits(unsigned bits, uint64_t period, uint64_t lo, uint64_t hi)
{
    uint64_t q, rem, extra = 0;

    if (bits >= 64) {
        q = UINT64_MAX / period;
        rem = UINT64_MAX % period + 1;
        if (rem == period) {
            q++;
            rem = 0;
        }
    } else {
        q = ((uint64_t)1 << bits) / period;
        rem = ((uint64_t)1 << bits) % period;
    }
    if (rem > lo)
        extra = (hi < rem - 1 ? hi : rem - 1) - lo + 1;
    return (long double)(hi - lo + 1) * (long double)q + (long double)extra;
}

/* Number of h in [0, x] (x < 2^32) with h % w in [lo, hi]. */
static uint64_t count_upto(uint64_t x, uint64_t w, uint64_t lo, uint64_t hi)
{
    uint64_t n = x + 1, r = n % w, c = (n / w) * (hi - lo + 1);

    if (r > lo)
        c += (hi < r - 1 ? hi : r - 1) - lo + 1;
    return c;
}

/* The owner (index into the pool's servers) of hash value h, or -1. */
static int owner(const struct sp_placer *p, uint64_t h)
{
    return sp_placer_locate_hash((struct sp_placer *)p, h);
}

/* Range i of a shape: [*lo, *hi] and the wrap-around part for i 0 (*lo2..*hi2, *two set). */
static uint64_t range_of(const struct shape *sh, size_t i, uint64_t *lo, uint64_t *hi,
                         uint64_t *lo2, uint64_t *hi2, bool *two)
{
    *two = false;
    if (i > 0) {
        *lo = sh->cuts[i - 1] + 1;
        *hi = sh->cuts[i];
        return sh->cuts[i];
    }
    *lo = 0;
    *hi = sh->cuts[0];
    if (sh->cuts[sh->n - 1] < sh->period - 1) {
        *two = true;
        *lo2 = sh->cuts[sh->n - 1] + 1;
        *hi2 = sh->period - 1;
    }
    return sh->cuts[0];
}

/* Is the owner of representative `r` different on both sides (servers matched by b_to_a)? */
static bool moves(const struct sp_placer *a, const struct sp_placer *b, const int *b_to_a,
                  uint64_t ra, uint64_t rb)
{
    int oa = owner(a, ra), ob = owner(b, rb);

    return ob < 0 || oa < 0 || b_to_a[ob] != oa;
}

/* Same period: the merged cuts split [0, period) into ranges owned by one server each side. */
static int moved_same_period(const struct sp_placer *a, const struct sp_placer *b,
                             const int *b_to_a, const struct shape *sa, const struct shape *sb,
                             long double *moved)
{
    struct shape m = { sa->period, malloc((sa->n + sb->n) * sizeof(uint64_t)), 0 };
    size_t i = 0, j = 0;

    if (m.cuts == NULL)
        return -1;
    while (i < sa->n || j < sb->n) {
        uint64_t v = j >= sb->n || (i < sa->n && sa->cuts[i] <= sb->cuts[j]) ? sa->cuts[i]
                                                                             : sb->cuts[j];

        if (i < sa->n && sa->cuts[i] == v)
            i++;
        if (j < sb->n && sb->cuts[j] == v)
            j++;
        m.cuts[m.n++] = v;
    }
    *moved = 0;
    for (size_t k = 0; k < m.n; k++) {
        uint64_t lo, hi, lo2 = 0, hi2 = 0;
        bool two;
        uint64_t rep = range_of(&m, k, &lo, &hi, &lo2, &hi2, &two);

        if (!moves(a, b, b_to_a, rep, rep))
            continue;
        *moved += hits(a->hash_bits, m.period, lo, hi);
        if (two)
            *moved += hits(a->hash_bits, m.period, lo2, hi2);
    }
    free(m.cuts);
    return 0;
}

/* Index of the first cut >= x (n when none: x is in the wrap-around range). */
static size_t cut_at(const struct shape *sh, uint64_t x)
{
    size_t lo = 0, hi = sh->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sh->cuts[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Last residue of the range of `sh` that holds x. */
static uint64_t range_end(const struct shape *sh, uint64_t x)
{
    size_t i = cut_at(sh, x);

    return i < sh->n ? sh->cuts[i] : sh->period - 1;
}

/*
 * Different periods with a small common multiple L (modula against modula): walks [0, L) in
 * runs where both owners stay the same, each residue of L counted as often as it occurs in the
 * hash space.
 */
static long double moved_common_period(const struct sp_placer *a, const struct sp_placer *b,
                                       const int *b_to_a, const struct shape *sa,
                                       const struct shape *sb, uint64_t l)
{
    long double moved = 0;

    for (uint64_t r = 0; r < l;) {
        uint64_t ra = r % sa->period, rb = r % sb->period;
        uint64_t run = range_end(sa, ra) - ra + 1, runb = range_end(sb, rb) - rb + 1;

        if (runb < run)
            run = runb;
        if (run > l - r)
            run = l - r;
        if (moves(a, b, b_to_a, ra, rb))
            moved += hits(a->hash_bits, l, r, r + run - 1);
        r += run;
    }
    return moved;
}

static uint64_t gcd(uint64_t x, uint64_t y)
{
    while (y != 0) {
        uint64_t t = x % y;

        x = y;
        y = t;
    }
    return x;
}

/* A 32-bit ring (`ring`) against another period (`other`), range by range. */
static long double moved_ring_vs(const struct sp_placer *ring_p, const struct shape *ring,
                                 const struct sp_placer *other_p, const struct shape *other,
                                 const struct sp_placer *a, const struct sp_placer *b,
                                 const int *b_to_a)
{
    long double moved = 0;

    for (size_t i = 0; i < ring->n; i++) {
        uint64_t rl[2], rh[2], ol[2], oh[2];
        bool rtwo, otwo;
        uint64_t rrep = range_of(ring, i, &rl[0], &rh[0], &rl[1], &rh[1], &rtwo);

        for (size_t j = 0; j < other->n; j++) {
            uint64_t orep = range_of(other, j, &ol[0], &oh[0], &ol[1], &oh[1], &otwo);
            bool mv = ring_p == a ? moves(a, b, b_to_a, rrep, orep)
                                  : moves(a, b, b_to_a, orep, rrep);

            if (!mv)
                continue;
            for (int x = 0; x < (rtwo ? 2 : 1); x++) {
                for (int y = 0; y < (otwo ? 2 : 1); y++) {
                    moved += (long double)count_upto(rh[x], other->period, ol[y], oh[y]);
                    if (rl[x] > 0)
                        moved -= (long double)count_upto(rl[x] - 1, other->period, ol[y], oh[y]);
                }
            }
        }
    }
    (void)other_p;
    return moved;
}

/* Evenly spread hash values (an odd stride, so no period lines up with it). */
static uint64_t sample(unsigned bits, uint64_t k)
{
    uint64_t stride = (bits >= 64 ? (uint64_t)1 << 44 : ((uint64_t)1 << bits) / SAMPLES) | 1;
    uint64_t h = k * stride;

    return bits >= 64 ? h : h & (((uint64_t)1 << bits) - 1);
}

int sp_placer_space_shares(const struct sp_placer *p, double *shares, enum sp_share_how *how)
{
    struct shape sh;
    long double total;

    memset(shares, 0, p->pool->nservers * sizeof(*shares));
    if (shape_of(p, &sh) < 0)
        return -1;
    *how = sh.n > 0 || p->nlive == 0 ? SP_SHARE_EXACT : SP_SHARE_SAMPLED;
    if (p->nlive == 0) {
        free(sh.cuts);
        return 0;
    }
    if (sh.n == 0) {
        for (uint64_t k = 0; k < SAMPLES; k++) {
            int o = owner(p, sample(p->hash_bits, k));

            if (o >= 0)
                shares[o] += 1.0 / (double)SAMPLES;
        }
        return 0;
    }
    total = p->hash_bits >= 64 ? 18446744073709551616.0L : (long double)((uint64_t)1 << p->hash_bits);
    for (size_t i = 0; i < sh.n; i++) {
        uint64_t lo, hi, lo2 = 0, hi2 = 0;
        bool two;
        int o = owner(p, range_of(&sh, i, &lo, &hi, &lo2, &hi2, &two));
        long double h = hits(p->hash_bits, sh.period, lo, hi) +
                        (two ? hits(p->hash_bits, sh.period, lo2, hi2) : 0);

        if (o >= 0)
            shares[o] += (double)(h / total);
    }
    free(sh.cuts);
    return 0;
}

/* 1 - sum over servers of the product of their shares on both sides. */
static double estimate(const struct sp_placer *a, const struct sp_placer *b, const int *b_to_a)
{
    double *sa = calloc(a->pool->nservers + 1, sizeof(double));
    double *sb = calloc(b->pool->nservers + 1, sizeof(double));
    enum sp_share_how how;
    double stay = 0;

    if (sa == NULL || sb == NULL || sp_placer_space_shares(a, sa, &how) < 0 ||
        sp_placer_space_shares(b, sb, &how) < 0) {
        free(sa);
        free(sb);
        return -1;
    }
    for (size_t j = 0; j < b->pool->nservers; j++) {
        if (b_to_a[j] >= 0)
            stay += sb[j] * sa[b_to_a[j]];
    }
    free(sa);
    free(sb);
    return 1 - stay;
}

double sp_placer_moved_share(const struct sp_placer *a, const struct sp_placer *b,
                             const int *b_to_a, enum sp_share_how *how)
{
    struct shape sa, sb;
    long double moved = 0, total;
    bool exact = false;
    int rc = 0;

    if (a->nlive == 0 || b->nlive == 0) {
        *how = SP_SHARE_EXACT;
        return a->nlive == b->nlive ? 0 : 1;
    }
    if (a->hash != b->hash || a->hash_bits != b->hash_bits || a->tagged != b->tagged ||
        (a->tagged && memcmp(a->tag, b->tag, 2) != 0)) {
        *how = SP_SHARE_ESTIMATED;
        return estimate(a, b, b_to_a);
    }
    if (shape_of(a, &sa) < 0 || shape_of(b, &sb) < 0) {
        free(sa.cuts);
        return -1;
    }
    if (sa.n > 0 && sb.n > 0 && sa.period == sb.period) {
        rc = moved_same_period(a, b, b_to_a, &sa, &sb, &moved);
        exact = true;
    } else if (sa.n > 0 && sb.n > 0 && sa.period / gcd(sa.period, sb.period) <=
               COMMON_MAX / sb.period) {
        moved = moved_common_period(a, b, b_to_a, &sa, &sb,
                                    sa.period / gcd(sa.period, sb.period) * sb.period);
        exact = true;
    } else if (sa.n > 0 && sb.n > 0 && a->hash_bits == 32 &&
               (sa.period == RING32 || sb.period == RING32)) {
        moved = sa.period == RING32 ? moved_ring_vs(a, &sa, b, &sb, a, b, b_to_a)
                                    : moved_ring_vs(b, &sb, a, &sa, a, b, b_to_a);
        exact = true;
    }
    free(sa.cuts);
    free(sb.cuts);
    if (rc < 0)
        return -1;
    if (exact) {
        total = a->hash_bits >= 64 ? 18446744073709551616.0L
                                   : (long double)((uint64_t)1 << a->hash_bits);
        *how = SP_SHARE_EXACT;
        return (double)(moved / total);
    }
    *how = SP_SHARE_SAMPLED;
    for (uint64_t k = 0; k < SAMPLES; k++) {
        uint64_t h = sample(a->hash_bits, k);

        moved += moves(a, b, b_to_a, h, h);
    }
    return (double)(moved / (long double)SAMPLES);
}
