/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Distribution plugin "rendezvous": weighted rendezvous (highest-random-weight) hashing, written
 * against the public plugin ABI only.
 *
 * Every server gets a pseudo-random draw per key, x = fmix64(fmix64(hash) ^ id), where id is the
 * server's identity (a hash of its name bytes).  With weights w the server's score is
 * w / -ln(u), u = (x | 1) / 2^64 in (0, 1) (the logarithmic method: -ln(u) is an Exp(1) variate, so
 * the server with the smallest -ln(u)/w wins with probability exactly w / sum(w)).  The key goes
 * to the highest score.  A server's score does not depend on the other servers, so:
 *   - adding a server moves only the keys it now wins (about w_new / sum of new weights);
 *   - removing a server moves only its own keys, spread over the others by weight;
 *   - renaming a server moves only keys that leave it or arrive on it;
 *   - raising a weight only pulls keys onto that server, lowering it only pushes keys off it;
 *   - placement does not depend on the order of the server list.
 * Cost: O(n) per lookup, no allocation; meant for pools up to a few hundred servers
 * (RV_MAX_SERVERS is a hard cap).
 *
 * Exactness across CPUs: no floating point.  -log2(u) is computed in fixed point (57 fraction
 * bits, error < 2^-56) from a leading-zero count, a 256-entry table built in build() by
 * integer arithmetic, and a 6-term series; scores are compared by cross-multiplying in 128 bits
 * (w_i * L_j against w_j * L_i).  So x86_64 and aarch64 fleets place every key identically.
 * When all weights are equal the score order is the order of x, so x is compared directly (exact,
 * no logarithm at all); weighted pools skip the logarithm for servers that cannot win (see
 * rv_select_weighted).  Exact score ties are broken by the larger x; x values of
 * distinct servers always differ for a given key because build() refuses two servers with the
 * same identity, so the winner never depends on list order.
 *
 * Identity: id = fmix64(FNV-1a-64(name bytes)) with FNV offset 0xcbf29ce484222325 and prime
 * 0x100000001b3, bytes taken unsigned.  This definition is part of the placement and must not
 * change.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <shardproxy/plugin.h>

#include "outside_util.h"

/* Each lookup scores every server; past a few thousand servers ketama or jump are the tools. */
#define RV_MAX_SERVERS 4096

/* -log2 table: 256 sub-intervals of the mantissa [1, 2). */
#define RV_TABLE_BITS 8
#define RV_TABLE_SIZE (1u << RV_TABLE_BITS)

/* round(2^63 / ln 2): converts a natural log in Q0.64 to log2 (Decimal, 60 digits). */
#define RV_INV_LN2_Q63 0xb8aa3b295c17f0bcULL

struct rv_server {
    uint64_t id;
    uint32_t weight;
};

struct rendezvous {
    uint32_t n;
    int weighted;                          /* weights differ: scores need -log2 */
    uint64_t log2c[RV_TABLE_SIZE];         /* log2(1 + j/256) in Q0.64 */
    uint64_t recip[RV_TABLE_SIZE];         /* floor((2^127 - 1) / c_j), c_j = (1 + j/256) * 2^63 */
    struct rv_server servers[];
};

/* ---------------------------------------------------------------- 128-bit helpers */

/* hi:lo = a * b, exactly. */
static void rv_mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *lo = (mid << 32) | (ll & 0xffffffffu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* (a * b) >> 64 */
static uint64_t rv_mulhi(uint64_t a, uint64_t b)
{
    uint64_t hi, lo;
    rv_mul128(a, b, &hi, &lo);
    return hi;
}

/* (a * b) >> 63; the caller guarantees the result fits in 64 bits. */
static uint64_t rv_mul_shr63(uint64_t a, uint64_t b)
{
    uint64_t hi, lo;
    rv_mul128(a, b, &hi, &lo);
    return (hi << 1) | (lo >> 63);
}

/* Number of leading zero bits of x != 0. */
static unsigned rv_clz64(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_clzll(x);
#else
    unsigned n = 0;
    while (!(x & (1ULL << 63))) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* ---------------------------------------------------------------- -log2 in fixed point */

/*
 * log2(y / 2^63) in Q0.64 for y in [2^63, 2^64), bit by bit: squaring the mantissa doubles its
 * logarithm, and the integer part of the doubled logarithm is the next bit.  Slow (64 squarings),
 * used only to fill the table in build().  Each truncation costs at most 2^-63 relative, and a
 * truncation at step k is scaled by 2^-k in the result, so the total error is a few 2^-64.
 */
static uint64_t rv_log2_mantissa_slow(uint64_t y)
{
    uint64_t r = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t hi, lo;
        rv_mul128(y, y, &hi, &lo); /* (y/2^63)^2 * 2^126 */
        if (hi >> 63) {            /* square >= 2: emit 1, halve */
            r |= 1ULL << bit;
            y = hi;
        } else {
            y = (hi << 1) | (lo >> 63);
        }
    }
    return r;
}

/* floor((2^127 - 1) / d) for d in [2^63, 2^64), by restoring division (build() only). */
static uint64_t rv_recip_slow(uint64_t d)
{
    uint64_t rem = (1ULL << 63) - 1, lo = UINT64_MAX, q = 0;
    for (int i = 0; i < 64; i++) {
        uint64_t carry = rem >> 63;
        rem = (rem << 1) | (lo >> 63);
        lo <<= 1;
        q <<= 1;
        if (carry || rem >= d) {
            rem -= d;
            q |= 1;
        }
    }
    return q;
}

static void rv_fill_table(struct rendezvous *r)
{
    for (uint32_t j = 0; j < RV_TABLE_SIZE; j++) {
        uint64_t c = (1ULL << 63) | ((uint64_t)j << (63 - RV_TABLE_BITS));
        r->log2c[j] = rv_log2_mantissa_slow(c);
        r->recip[j] = rv_recip_slow(c);
    }
}

/*
 * -log2(m / 2^64) in Q7.57 for m in [1, 2^64), never 0 (clamped to 1 ulp, which only draws within
 * 2^-57 of 1 reach).  With m = 2^e * f, f in [1, 2): -log2(u) = (64 - e) - log2(f); log2(f) is the
 * table value at the sub-interval start c_j plus log2(1 + z), z = (f - c_j) / c_j < 2^-8, from
 * ln(1 + z) = z - z^2/2 + ... - z^6/6 (the next term is below 2^-58).  Absolute error < 2^-56.
 */
static uint64_t rv_neg_log2(const struct rendezvous *r, uint64_t m)
{
    unsigned lz = rv_clz64(m);
    uint64_t f = m << lz;
    unsigned j = (unsigned)(f >> (63 - RV_TABLE_BITS)) & (RV_TABLE_SIZE - 1);
    uint64_t d = f & ((1ULL << (63 - RV_TABLE_BITS)) - 1);
    uint64_t z = rv_mul_shr63(d, r->recip[j]); /* Q0.64, < 2^56 */
    uint64_t z2 = rv_mulhi(z, z), z3 = rv_mulhi(z2, z), z4 = rv_mulhi(z3, z);
    uint64_t z5 = rv_mulhi(z4, z), z6 = rv_mulhi(z5, z);
    uint64_t ln1p = z - z2 / 2 + z3 / 3 - z4 / 4 + z5 / 5 - z6 / 6; /* each partial sum > 0 */
    uint64_t l2 = r->log2c[j] + rv_mul_shr63(ln1p, RV_INV_LN2_Q63);
    if (l2 < r->log2c[j]) /* rounding pushed log2(f) to 1: saturate */
        l2 = UINT64_MAX;
    uint64_t neg = ((uint64_t)(lz + 1) << 57) - (l2 >> 7);
    return neg ? neg : 1;
}

/* ---------------------------------------------------------------- build */

/* FNV-1a 64 over the name bytes (unsigned), then fmix64 for avalanche in every bit. */
static uint64_t rv_identity(const char *name, size_t len)
{
    const unsigned char *p = (const unsigned char *)name;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return od_mix64(h);
}

/* A server's identity and its list index, sorted by identity to find duplicates. */
struct rv_id_index {
    uint64_t id;
    uint32_t index;
};

static int rv_cmp_id_index(const void *a, const void *b)
{
    const struct rv_id_index *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Fails when two servers share an identity (same name, or a 64-bit hash collision): their draws
 * would be equal for every key and the tie could only be broken by list order.  Sorts a scratch
 * copy, O(n log n).  Returns 0, or -1 with err written naming both servers.
 */
static int rv_check_unique(const struct rendezvous *r, const struct sp_server_spec *servers,
                           char *err, size_t errlen)
{
    struct rv_id_index *ids = malloc(r->n * sizeof *ids);
    if (ids == NULL) {
        od_error(err, errlen, "rendezvous", "out of memory for %lu servers", (unsigned long)r->n);
        return -1;
    }
    for (uint32_t i = 0; i < r->n; i++) {
        ids[i].id = r->servers[i].id;
        ids[i].index = i;
    }
    qsort(ids, r->n, sizeof *ids, rv_cmp_id_index);
    int rc = 0;
    for (uint32_t i = 1; i < r->n && rc == 0; i++) {
        if (ids[i - 1].id != ids[i].id)
            continue;
        const struct sp_server_spec *a = &servers[ids[i - 1].index], *b = &servers[ids[i].index];
        int same = a->name_len == b->name_len &&
                   (a->name_len == 0 || memcmp(a->name, b->name, a->name_len) == 0);
        char la[80], lb[80];
        od_error(err, errlen, "rendezvous", "servers %s and %s %s",
                 od_server_label(servers, ids[i - 1].index, la, sizeof la),
                 od_server_label(servers, ids[i].index, lb, sizeof lb),
                 same ? "have the same name (server names must be unique)"
                      : "have the same 64-bit identity hash (rename one of them)");
        rc = -1;
    }
    free(ids);
    return rc;
}

/* Checks what can be checked before allocating.  Returns 0, or -1 with err written. */
static int rv_check_specs(const struct sp_server_spec *servers, size_t n, char *err,
                          size_t errlen)
{
    char label[80];
    if (servers == NULL || n == 0) {
        od_error(err, errlen, "rendezvous", "no servers (a distribution needs at least one)");
        return -1;
    }
    if (n > RV_MAX_SERVERS) {
        od_error(err, errlen, "rendezvous",
                 "%zu servers is more than %u (every lookup scores every server; use ketama or "
                 "jump for larger pools)", n, RV_MAX_SERVERS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (servers[i].name == NULL && servers[i].name_len > 0) {
            od_error(err, errlen, "rendezvous", "server %zu has a length but no name bytes", i);
            return -1;
        }
        if (servers[i].weight == 0) {
            od_error(err, errlen, "rendezvous", "server %s has weight 0 (must be >= 1)",
                     od_server_label(servers, i, label, sizeof label));
            return -1;
        }
    }
    return 0;
}

static void rv_destroy(void *selector)
{
    free(selector);
}

static void *rv_build(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    if (rv_check_specs(servers, n, err, errlen) < 0)
        return NULL;
    struct rendezvous *r = malloc(sizeof *r + n * sizeof r->servers[0]);
    if (r == NULL) {
        od_error(err, errlen, "rendezvous", "out of memory for %zu servers", n);
        return NULL;
    }
    r->n = (uint32_t)n;
    r->weighted = 0;
    for (size_t i = 0; i < n; i++) {
        r->servers[i].id = rv_identity(servers[i].name, servers[i].name_len);
        r->servers[i].weight = servers[i].weight;
        if (servers[i].weight != servers[0].weight)
            r->weighted = 1;
    }
    if (rv_check_unique(r, servers, err, errlen) < 0) {
        rv_destroy(r);
        return NULL;
    }
    if (r->weighted)
        rv_fill_table(r);
    return r;
}

/* ---------------------------------------------------------------- select */

/* Equal weights: the highest draw wins (draws of distinct servers never tie). */
static uint32_t rv_select_equal(const struct rendezvous *r, uint64_t key)
{
    uint32_t best = 0;
    uint64_t best_x = od_mix64(key ^ r->servers[0].id);
    for (uint32_t i = 1; i < r->n; i++) {
        uint64_t x = od_mix64(key ^ r->servers[i].id);
        if (x > best_x) {
            best = i;
            best_x = x;
        }
    }
    return best;
}

/* Sign of a_w * a_l - b_w * b_l, exactly (products up to 96 bits). */
static int rv_cmp_products(uint64_t a_w, uint64_t a_l, uint64_t b_w, uint64_t b_l)
{
    uint64_t ah, al, bh, bl;
    rv_mul128(a_w, a_l, &ah, &al);
    rv_mul128(b_w, b_l, &bh, &bl);
    if (ah != bh)
        return ah > bh ? 1 : -1;
    return al > bl ? 1 : al < bl ? -1 : 0;
}

/*
 * Weighted: highest w / L with L = -log2(u); i beats b iff w_i * L_b > w_b * L_i (exact), ties
 * to the larger draw.  Most servers are ruled out without a logarithm: -log2(u) >= -ln(u) >=
 * 1 - u, and the fixed-point L never falls below that bound's fixed-point value (the true L
 * exceeds it by 44% against an error under 1 ulp), so when w_b * (1 - u_i) > w_i * L_b server i
 * loses strictly and skipping it changes nothing.
 */
static uint32_t rv_select_weighted(const struct rendezvous *r, uint64_t key)
{
    uint32_t best = 0;
    uint64_t best_x = od_mix64(key ^ r->servers[0].id);
    uint64_t best_l = rv_neg_log2(r, best_x | 1);
    for (uint32_t i = 1; i < r->n; i++) {
        uint64_t x = od_mix64(key ^ r->servers[i].id);
        uint64_t w = r->servers[i].weight, best_w = r->servers[best].weight;
        uint64_t one_minus_u = (0 - (x | 1)) >> 7; /* Q7.57, as rv_neg_log2 */
        if (rv_cmp_products(best_w, one_minus_u, w, best_l) > 0)
            continue;
        uint64_t l = rv_neg_log2(r, x | 1);
        int c = rv_cmp_products(w, best_l, best_w, l);
        if (c > 0 || (c == 0 && x > best_x)) {
            best = i;
            best_x = x;
            best_l = l;
        }
    }
    return best;
}

static uint32_t rv_select(void *selector, uint64_t hash)
{
    const struct rendezvous *r = selector;
    uint64_t key = od_mix64(hash);
    return r->weighted ? rv_select_weighted(r, key) : rv_select_equal(r, key);
}

SP_DIST_PLUGIN("rendezvous",
               "weighted rendezvous (highest random weight): minimal movement on any change",
               rv_build, rv_select, rv_destroy);
