/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One config's side of an analysis: the placer, each server's weight share and hash-space share,
 * the key tallies, and the balance figures derived from them.
 *
 * The expected figures are measured, not derived from any one distribution's formula, so they hold
 * for every plugin: each server's share of the hash space is found by placing hash values spread
 * evenly over the hash's range.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

int sp_oracle_side_init(struct sp_oracle_side *s, const struct sp_registry *reg,
                        const char *conf_path, const struct sp_conf_pool *pool, const bool *live,
                        char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->conf_path = conf_path;
    s->pool = pool;
    s->n = pool->nservers;
    const struct sp_plugin *h = sp_registry_find(reg, SP_PLUGIN_HASH, pool->hash);
    s->hash_bits = h && h->hash_bits == 64 ? 64 : 32;
    size_t n1 = s->n + 1;
    s->live = calloc(n1, sizeof(*s->live));
    s->weight_share = calloc(n1, sizeof(*s->weight_share));
    s->space_share = calloc(n1, sizeof(*s->space_share));
    s->keys = calloc(n1, sizeof(*s->keys));
    s->bytes = calloc(n1, sizeof(*s->bytes));
    if (!s->live || !s->weight_share || !s->space_share || !s->keys || !s->bytes) {
        snprintf(err, errlen, "out of memory for %zu servers", s->n);
        return -1;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < s->n; i++) {
        s->live[i] = live ? live[i] : true;
        total += s->live[i] ? pool->servers[i].weight : 0;
    }
    for (size_t i = 0; i < s->n && total; i++)
        s->weight_share[i] = s->live[i] ? (double)pool->servers[i].weight / (double)total : 0;
    s->placer = sp_placer_new(reg, pool, s->live, err, errlen);
    return s->placer ? 0 : -1;
}

void sp_oracle_side_release(struct sp_oracle_side *s)
{
    sp_placer_free(s->placer);
    free(s->live);
    free(s->weight_share);
    free(s->space_share);
    free(s->keys);
    free(s->bytes);
    memset(s, 0, sizeof(*s));
}

/* splitmix64 finaliser: spreads the sample offsets inside their slices. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/*
 * The i-th sample of `samples` (a power of two) over 2^bits: slice i, at a pseudo-random offset.
 * Exactly even spacing would be wrong for two kinds of plugin: modula with a power-of-two total
 * (every sample in one slot) and a distribution reading only the low 32 bits of a 64-bit hash.
 */
static uint64_t sample_value(uint64_t i, unsigned log2n, unsigned bits)
{
    unsigned slice_bits = bits - log2n;
    uint64_t offset = slice_bits ? mix64(i) & ((UINT64_C(1) << slice_bits) - 1) : 0;
    return (i << slice_bits) | offset;
}

/* A fresh placer for sampling: `random` keeps state in its selector, keys must not see it. */
static struct sp_placer *sampler(const struct sp_registry *reg, const struct sp_oracle_side *s,
                                 char *err, size_t errlen)
{
    return sp_placer_new(reg, s->pool, s->live, err, errlen);
}

/* Replaces a side's sampled space shares with exact ones when the placement core has them. */
static int exact_shares(const struct sp_placer *p, struct sp_oracle_side *s)
{
    double *exact = calloc(s->n + 1, sizeof(*exact));
    enum sp_share_how how;

    if (exact == NULL || sp_placer_space_shares(p, exact, &how) < 0) {
        free(exact);
        return -1;
    }
    if (how == SP_SHARE_EXACT) {
        double placed = 0;

        for (size_t i = 0; i < s->n; i++) {
            s->space_share[i] = exact[i];
            placed += exact[i];
        }
        s->space_unplaced = s->space_share[s->n] = placed > 0 ? 0 : 1;
    }
    free(exact);
    return 0;
}

/* Replaces the sampled moved share with the exact one when the placement core has it. */
static int exact_moved(const struct sp_placer *pa, const struct sp_placer *pb, const int *a_to_b,
                       size_t na, size_t nb, double *moved)
{
    int *b_to_a = malloc((nb + 1) * sizeof(*b_to_a));
    enum sp_share_how how;
    double m;

    if (b_to_a == NULL)
        return -1;
    for (size_t j = 0; j < nb; j++)
        b_to_a[j] = -1;
    for (size_t i = 0; i < na; i++) {
        if (a_to_b[i] >= 0 && (size_t)a_to_b[i] < nb)
            b_to_a[a_to_b[i]] = (int)i;
    }
    m = sp_placer_moved_share(pa, pb, b_to_a, &how);
    free(b_to_a);
    if (m < 0)
        return -1;
    if (how == SP_SHARE_EXACT)
        *moved = m;
    return 0;
}

int sp_oracle_sample(const struct sp_registry *reg, struct sp_oracle_side *a,
                     struct sp_oracle_side *b, const int *a_to_b, uint64_t samples, double *moved,
                     char *err, size_t errlen)
{
    unsigned log2n = 0;   /* samples rounded up to a power of two, at most 2^32 */
    while ((UINT64_C(1) << log2n) < samples && log2n < 32)
        log2n++;
    uint64_t n = UINT64_C(1) << log2n;
    struct sp_placer *pa = sampler(reg, a, err, errlen);
    struct sp_placer *pb = pa && b ? sampler(reg, b, err, errlen) : NULL;
    uint64_t *ca = calloc(a->n + 1, sizeof(*ca));
    uint64_t *cb = b ? calloc(b->n + 1, sizeof(*cb)) : NULL;
    uint64_t changed = 0;
    int rc = -1;

    if (!pa || (b && !pb))
        goto out;
    if (!ca || (b && !cb)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        int x = sp_placer_locate_hash(pa, sample_value(i, log2n, a->hash_bits));
        size_t ix = x < 0 ? a->n : (size_t)x;
        ca[ix]++;
        if (!b)
            continue;
        /* Each side samples its own hash's range (they differ when the hash changes). */
        int y = sp_placer_locate_hash(pb, sample_value(i, log2n, b->hash_bits));
        size_t iy = y < 0 ? b->n : (size_t)y;
        cb[iy]++;
        int same = x < 0 ? -1 : a_to_b[x];
        if (same != y)
            changed++;
    }
    for (size_t i = 0; i <= a->n; i++)
        a->space_share[i] = (double)ca[i] / (double)n;
    a->space_unplaced = a->space_share[a->n];
    for (size_t i = 0; b && i <= b->n; i++)
        b->space_share[i] = (double)cb[i] / (double)n;
    if (b)
        b->space_unplaced = b->space_share[b->n];
    if (moved)
        *moved = (double)changed / (double)n;
    /* Where the distributions describe their shape (ketama, modula), the placement core gives
       exact figures, the same the proxy logs on a reload: they replace the samples. */
    if (exact_shares(pa, a) < 0 || (b && exact_shares(pb, b) < 0) ||
        (b && moved && exact_moved(pa, pb, a_to_b, a->n, b->n, moved) < 0)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    sp_placer_free(pa);
    sp_placer_free(pb);
    free(ca);
    free(cb);
    return rc;
}

void sp_oracle_balance_of(const struct sp_oracle_side *s, struct sp_oracle_balance *b)
{
    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < s->n; i++) {
        b->keys += s->keys[i];
        b->bytes += s->bytes[i];
        b->nlive += s->live[i];
    }
    if (b->nlive == 0)
        return;
    double n = (double)b->keys, sq = 0, exp_sq = 0, bin_sq = 0;
    b->peak_to_mean = b->exp_peak_to_mean = b->bytes_peak_to_mean = 0;
    for (size_t i = 0; i < s->n; i++) {
        double w = s->weight_share[i], h = s->space_share[i];
        if (!s->live[i] || w <= 0)
            continue;
        double k = (double)s->keys[i];
        if (b->keys && k / n / w > b->peak_to_mean) {
            b->peak_to_mean = k / n / w;
            b->peak = i;
        }
        if (b->bytes && (double)s->bytes[i] / (double)b->bytes / w > b->bytes_peak_to_mean)
            b->bytes_peak_to_mean = (double)s->bytes[i] / (double)b->bytes / w;
        if (h / w > b->exp_peak_to_mean)
            b->exp_peak_to_mean = h / w;
        sq += (k - n * w) * (k - n * w);
        exp_sq += (n * h - n * w) * (n * h - n * w) + n * h * (1 - h);
        bin_sq += n * w * (1 - w);
    }
    b->stddev = sqrt(sq / (double)b->nlive);
    b->exp_stddev = sqrt(exp_sq / (double)b->nlive);
    b->binomial_stddev = sqrt(bin_sq / (double)b->nlive);
}

const char *sp_oracle_label(const struct sp_conf_server *srv, char *buf, size_t len)
{
    if (srv->named)
        snprintf(buf, len, "%s (%s)", srv->name, srv->addr.text);
    else
        snprintf(buf, len, "%s", srv->addr.text);
    return buf;
}
