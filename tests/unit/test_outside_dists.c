/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The outside distributions, "jump" and "rendezvous", loaded through the registry exactly like a
 * third-party plugin: reference values, determinism, movement on membership and weight changes,
 * balance, weighted shares, and the messages of build() on bad input.
 *
 * Every property test prints its seed (tu_seed) and every failure message starts with it; rerun
 * with SP_TEST_SEED=<seed> to reproduce.
 *
 * Tolerances.  A count of N independent keys that each land somewhere with probability p is
 * Binomial(N, p), standard deviation sd = sqrt(N p (1 - p)).  Every statistical check allows
 * 6 sd: a correct plugin fails one check with probability about 2e-9, so even the few hundred
 * checks of a run with a fresh seed essentially never fail by chance, while a 1/(n+1) movement
 * off by a few percent of itself, or a server off its share by ~1%, is caught (N = 200000: for
 * p = 1/11, 6 sd = 772 keys = 0.39% of N = 4.2% of the expected movement).
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "testutil.h"

#define NKEYS 200000
#define MAXSERVERS 64
#define TOL_SD 6.0

/* Fails the test with "seed N: <message>". */
static void seeded_fail(uint64_t seed, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void seeded_fail(uint64_t seed, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ck_abort_msg("seed %llu: %s", (unsigned long long)seed, msg);
}

#define SEEDED(t, cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            seeded_fail((t)->seed, __VA_ARGS__);                                                   \
    } while (0)

/* ---------------------------------------------------------------- fixtures */

/* One test's context: the registry, the distribution under test, seed and generator, keys. */
struct ot {
    struct sp_registry *reg;
    const struct sp_plugin *dist;
    uint64_t seed;
    uint64_t rng;
    uint64_t *keys; /* NKEYS hash values */
};

/* A server list the test can edit; spec[i].name points into names[i]. */
struct pool {
    size_t n;
    char names[MAXSERVERS][40];
    struct sp_server_spec spec[MAXSERVERS];
};

static struct ot *ot_begin(const char *test, const char *dist)
{
    struct ot *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    t->reg = tu_registry();
    t->dist = sp_registry_find(t->reg, SP_PLUGIN_DIST, dist);
    ck_assert_msg(t->dist != NULL, "distribution plugin '%s' not found on $%s", dist,
                  SP_PLUGIN_PATH_ENV);
    t->seed = tu_seed(test);
    t->rng = t->seed;
    t->keys = malloc(NKEYS * sizeof *t->keys);
    ck_assert_ptr_nonnull(t->keys);
    return t;
}

static void ot_end(struct ot *t)
{
    free(t->keys);
    sp_registry_free(t->reg);
    free(t);
}

/* Uniform in [lo, hi]. */
static uint32_t rand_in(struct ot *t, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(tu_rand(&t->rng) % ((uint64_t)hi - lo + 1));
}

/* Fills t->keys with random hashes of `bits` bits (32: nutcracker's hashes; 64: e.g. xxhash). */
static void rand_keys(struct ot *t, int bits)
{
    for (size_t k = 0; k < NKEYS; k++) {
        uint64_t h = tu_rand(&t->rng);
        t->keys[k] = bits == 64 ? h : h >> 32;
    }
}

/* Re-points every spec at its name buffer (after names moved inside the arrays). */
static void pool_relink(struct pool *p)
{
    for (size_t i = 0; i < p->n; i++) {
        p->spec[i].name = p->names[i];
        p->spec[i].name_len = strlen(p->names[i]);
    }
}

/* Inserts a server at position `at` (0..n). */
static void pool_insert(struct pool *p, size_t at, const char *name, uint32_t weight)
{
    ck_assert_uint_lt(p->n, MAXSERVERS);
    memmove(&p->names[at + 1], &p->names[at], (p->n - at) * sizeof p->names[0]);
    memmove(&p->spec[at + 1], &p->spec[at], (p->n - at) * sizeof p->spec[0]);
    snprintf(p->names[at], sizeof p->names[at], "%s", name);
    p->spec[at].weight = weight;
    p->n++;
    pool_relink(p);
}

static void pool_remove(struct pool *p, size_t at)
{
    memmove(&p->names[at], &p->names[at + 1], (p->n - at - 1) * sizeof p->names[0]);
    memmove(&p->spec[at], &p->spec[at + 1], (p->n - at - 1) * sizeof p->spec[0]);
    p->n--;
    pool_relink(p);
}

/* A random "10.x.y.z:port" name not yet in the pool. */
static void rand_name(struct ot *t, const struct pool *p, char *buf, size_t len)
{
    for (;;) {
        snprintf(buf, len, "10.%u.%u.%u:%u", rand_in(t, 0, 255), rand_in(t, 0, 255),
                 rand_in(t, 1, 254), rand_in(t, 1024, 65000));
        size_t i = 0;
        while (i < p->n && strcmp(p->names[i], buf) != 0)
            i++;
        if (i == p->n)
            return;
    }
}

/* A pool of n servers with random names and weights in [1, wmax]. */
static void rand_pool(struct ot *t, struct pool *p, size_t n, uint32_t wmax)
{
    p->n = 0;
    for (size_t i = 0; i < n; i++) {
        char name[40];
        rand_name(t, p, name, sizeof name);
        pool_insert(p, p->n, name, rand_in(t, 1, wmax));
    }
}

static void *build_ok(struct ot *t, const struct pool *p)
{
    char err[256] = "";
    void *sel = t->dist->build(p->spec, p->n, err, sizeof err);
    SEEDED(t, sel != NULL, "%s: build of %zu servers failed: %s", t->dist->name, p->n, err);
    return sel;
}

/* Places every key: out[k] = server index. */
static void place_all(struct ot *t, void *sel, uint32_t n, uint32_t *out)
{
    for (size_t k = 0; k < NKEYS; k++) {
        out[k] = t->dist->select(sel, t->keys[k]);
        SEEDED(t, out[k] < n, "%s: key %zu (hash %llu) got index %u of %u servers", t->dist->name,
               k, (unsigned long long)t->keys[k], out[k], n);
    }
}

static uint32_t *place_pool(struct ot *t, const struct pool *p)
{
    uint32_t *out = malloc(NKEYS * sizeof *out);
    ck_assert_ptr_nonnull(out);
    void *sel = build_ok(t, p);
    place_all(t, sel, (uint32_t)p->n, out);
    t->dist->destroy(sel);
    return out;
}

/* Fails unless `count` of `total` is within TOL_SD binomial sd of total * p. */
static void check_binomial(struct ot *t, size_t count, size_t total, double p, const char *what)
{
    double expect = (double)total * p;
    double sd = sqrt((double)total * p * (1.0 - p));
    double dev = fabs((double)count - expect);
    SEEDED(t, dev <= TOL_SD * sd + 1e-9,
           "%s: %zu of %zu (%.4f%%), expected %.1f (%.4f%%) +- %.0f sd = %.1f", what, count,
           total, 100.0 * (double)count / (double)total, expect, 100.0 * p, TOL_SD,
           TOL_SD * sd);
}

/* Fails unless the share of every server i is within tolerance of weight_i / total weight. */
static void check_shares(struct ot *t, const struct pool *p, const uint32_t *owner,
                         const char *what)
{
    size_t counts[MAXSERVERS] = {0};
    double total_w = 0;
    for (size_t k = 0; k < NKEYS; k++)
        counts[owner[k]]++;
    for (size_t i = 0; i < p->n; i++)
        total_w += p->spec[i].weight;
    for (size_t i = 0; i < p->n; i++) {
        char label[160];
        snprintf(label, sizeof label, "%s, %zu servers: share of server %zu '%s' (weight %u)",
                 what, p->n, i, p->names[i], p->spec[i].weight);
        check_binomial(t, counts[i], NKEYS, p->spec[i].weight / total_w, label);
    }
}

/* A bad server list must be refused with a message containing `expect`. */
static void expect_build_error(const struct sp_plugin *d, const struct sp_server_spec *servers,
                               size_t n, const char *expect)
{
    char err[256] = "";
    void *sel = d->build(servers, n, err, sizeof err);
    ck_assert_msg(sel == NULL, "%s: build accepted bad input (expected '%s')", d->name, expect);
    ck_assert_msg(strstr(err, expect) != NULL, "%s: message '%s' lacks '%s'", d->name, err,
                  expect);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s: message is not one line: '%s'", d->name, err);
}

/* ---------------------------------------------------------------- jump: reference values */

/* Inverse of 64-bit multiplication by odd c (Newton: each step doubles the correct low bits). */
static uint64_t inverse_mod_2_64(uint64_t c)
{
    uint64_t x = c;
    for (int i = 0; i < 6; i++)
        x *= 2 - c * x;
    return x;
}

/*
 * Inverse of fmix64 (x ^= x >> 33; x *= C1; x ^= x >> 33; x *= C2; x ^= x >> 33), the mix the
 * plugin documents: x ^ (x >> 33) is its own inverse for 64-bit x, and the products are undone by
 * multiplying by the inverses.  Gives the hash whose mixed value is `mixed`.
 */
static uint64_t unmix64(uint64_t mixed)
{
    uint64_t x = mixed;
    x ^= x >> 33;
    x *= inverse_mod_2_64(0xc4ceb9fe1a85ec53ULL);
    x ^= x >> 33;
    x *= inverse_mod_2_64(0xff51afd7ed558ccdULL);
    x ^= x >> 33;
    return x;
}

/*
 * Hand-computed from the definition.  Jump follows: b = 0; loop { state = state * M + 1 (mod
 * 2^64), M = 2862933555777941757 = 0x27bb2ee687b0b0fd; next = floor((b + 1) * 2^31 /
 * ((state >> 33) + 1)); stop when next >= n; b = next }, the answer being b.
 *
 *  - mixed key K0 chosen so that the first state is 2^63 (K0 = (2^63 - 1) * M^-1):
 *      step 1: b = 0, state = 2^63, (state >> 33) + 1 = 2^30 + 1, next = 2^31 / (2^30 + 1) = 1
 *      step 2: b = 1, state = 2^63 * M + 1 = 2^63 + 1 (M is odd), next = 2^32 / (2^30 + 1) = 3
 *      step 3: b = 3, state = (2^63 + 1) * M + 1 = 2^63 + M + 1 = 0xa7bb2ee687b0b0fe,
 *              (state >> 33) + 1 = 0x53dd9774 = 1407031156, next = 2^33 / 1407031156 = 6
 *      so n = 1 -> 0; n = 2, 3 -> 1; n = 4, 5, 6 -> 3; n = 7 -> 6 (step 4 goes past 7).
 *  - mixed key K1 = -1 * M^-1: the first state is 0, next = 2^31 / 1 = 2^31: bucket 0 for every
 *    n the plugin accepts (n <= 2^31).
 *  - hash 0: fmix64(0) = 0, first state 1, (1 >> 33) + 1 = 1, next = 2^31: bucket 0.
 */
START_TEST(jump_reference_values)
{
    struct sp_registry *reg = tu_registry();
    const struct sp_plugin *d = sp_registry_find(reg, SP_PLUGIN_DIST, "jump");
    ck_assert_ptr_nonnull(d);
    const uint64_t m_inv = inverse_mod_2_64(2862933555777941757ULL);
    const uint64_t h0 = unmix64(((1ULL << 63) - 1) * m_inv);
    const uint64_t h1 = unmix64(UINT64_MAX * m_inv);
    static const uint32_t k0_bucket[8] = {0, 0, 1, 1, 3, 3, 3, 6}; /* by n; [0] unused */
    static const uint32_t sizes[] = {1, 2, 3, 7, 10, 1000, 65536};
    struct sp_server_spec one = {"s", 1, 1};
    char err[256];
    for (uint32_t n = 1; n <= 7; n++) {
        struct sp_server_spec specs[7];
        for (uint32_t i = 0; i < n; i++)
            specs[i] = one;
        void *sel = d->build(specs, n, err, sizeof err);
        ck_assert_msg(sel != NULL, "%s", err);
        ck_assert_msg(d->select(sel, h0) == k0_bucket[n], "n=%u: hash %llu -> %u, expected %u", n,
                      (unsigned long long)h0, d->select(sel, h0), k0_bucket[n]);
        d->destroy(sel);
    }
    struct sp_server_spec *many = malloc(65536 * sizeof *many);
    ck_assert_ptr_nonnull(many);
    for (size_t i = 0; i < 65536; i++)
        many[i] = one;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        void *sel = d->build(many, sizes[s], err, sizeof err);
        ck_assert_msg(sel != NULL, "%s", err);
        ck_assert_uint_eq(d->select(sel, 0), 0);
        ck_assert_uint_eq(d->select(sel, h1), 0);
        d->destroy(sel);
    }
    /* n = 1: every hash goes to server 0. */
    void *sel = d->build(&one, 1, err, sizeof err);
    ck_assert_ptr_nonnull(sel);
    uint64_t rng = 12345;
    for (int k = 0; k < 10000; k++)
        ck_assert_uint_eq(d->select(sel, tu_rand(&rng)), 0);
    d->destroy(sel);
    free(many);
    sp_registry_free(reg);
}
END_TEST

/* ---------------------------------------------------------------- jump: properties */

/* A pool of n servers of weight 1 (jump ignores names; random ones keep the fixture honest). */
static void equal_pool(struct ot *t, struct pool *p, size_t n)
{
    rand_pool(t, p, n, 1);
}

START_TEST(jump_is_deterministic)
{
    struct ot *t = ot_begin("jump_is_deterministic", "jump");
    for (int round = 0; round < 4; round++) {
        struct pool p;
        equal_pool(t, &p, rand_in(t, 1, MAXSERVERS));
        rand_keys(t, round % 2 ? 64 : 32);
        uint32_t *a = place_pool(t, &p), *b = place_pool(t, &p);
        void *sel = build_ok(t, &p);
        for (size_t k = 0; k < NKEYS; k++) {
            uint32_t again = t->dist->select(sel, t->keys[k]);
            SEEDED(t, a[k] == b[k] && a[k] == again,
                   "jump, %zu servers: hash %llu placed on %u, %u, then %u", p.n,
                   (unsigned long long)t->keys[k], a[k], b[k], again);
        }
        t->dist->destroy(sel);
        free(a);
        free(b);
    }
    ot_end(t);
}
END_TEST

/*
 * Appending a server moves about 1/(n+1) of the keys, all onto the new (last) server; read
 * backwards, removing the last server moves only its keys, spread evenly over the others.
 */
START_TEST(jump_append_moves_only_onto_new_server)
{
    struct ot *t = ot_begin("jump_append_moves_only_onto_new_server", "jump");
    size_t sizes[] = {1, 2, 3, 10, 31, 0};
    sizes[5] = rand_in(t, 4, MAXSERVERS - 1);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        struct pool p;
        equal_pool(t, &p, n);
        rand_keys(t, s % 2 ? 64 : 32);
        uint32_t *before = place_pool(t, &p);
        char name[40];
        rand_name(t, &p, name, sizeof name);
        pool_insert(&p, n, name, 1);
        uint32_t *after = place_pool(t, &p);
        size_t moved = 0, spread[MAXSERVERS] = {0};
        for (size_t k = 0; k < NKEYS; k++) {
            if (before[k] == after[k])
                continue;
            SEEDED(t, after[k] == n, "jump %zu -> %zu servers: hash %llu moved from %u to %u, "
                   "not to the new server %zu", n, n + 1, (unsigned long long)t->keys[k],
                   before[k], after[k], n);
            moved++;
            spread[before[k]]++;
        }
        char what[120];
        snprintf(what, sizeof what, "jump %zu -> %zu servers: keys moved", n, n + 1);
        check_binomial(t, moved, NKEYS, 1.0 / (double)(n + 1), what);
        for (size_t i = 0; i < n; i++) {
            snprintf(what, sizeof what, "jump %zu -> %zu servers, removing the last: its keys "
                     "going to server %zu", n + 1, n, i);
            check_binomial(t, spread[i], moved, 1.0 / (double)n, what);
        }
        free(before);
        free(after);
    }
    ot_end(t);
}
END_TEST

/* Every bucket gets 1/n of random 32-bit, random 64-bit and consecutive hashes. */
START_TEST(jump_is_balanced)
{
    struct ot *t = ot_begin("jump_is_balanced", "jump");
    for (int kind = 0; kind < 3; kind++) {
        struct pool p;
        equal_pool(t, &p, rand_in(t, 2, MAXSERVERS));
        if (kind == 2)
            for (size_t k = 0; k < NKEYS; k++)
                t->keys[k] = k; /* structured input: only the mix makes it look random */
        else
            rand_keys(t, kind == 0 ? 32 : 64);
        uint32_t *owner = place_pool(t, &p);
        check_shares(t, &p, owner, kind == 0 ? "jump, 32-bit hashes"
                                   : kind == 1 ? "jump, 64-bit hashes" : "jump, hashes 0..N-1");
        free(owner);
    }
    ot_end(t);
}
END_TEST

/*
 * The documented cost of ignoring names: inserting a server at position p < n of n (a name that
 * sorts in the middle) renumbers servers p.. and moves a key unless it stays in a bucket below
 * p, or jumps to the new last bucket from bucket n-1:
 *   P(moved) = n/(n+1) * (n-p)/n + 1/(n+1) * (n-1)/n = (n-p)/(n+1) + (n-1)/(n(n+1)).
 */
START_TEST(jump_middle_insert_moves_many)
{
    struct ot *t = ot_begin("jump_middle_insert_moves_many", "jump");
    for (int round = 0; round < 3; round++) {
        size_t n = rand_in(t, 4, MAXSERVERS - 1), at = rand_in(t, 0, (uint32_t)n - 1);
        struct pool p;
        equal_pool(t, &p, n);
        rand_keys(t, 32);
        uint32_t *before = place_pool(t, &p);
        char name[40];
        rand_name(t, &p, name, sizeof name);
        pool_insert(&p, at, name, 1);
        uint32_t *after = place_pool(t, &p);
        size_t moved = 0;
        for (size_t k = 0; k < NKEYS; k++) {
            /* compare server identities: old index i is new index i (i < at) or i + 1 */
            uint32_t old_as_new = before[k] < at ? before[k] : before[k] + 1;
            moved += old_as_new != after[k];
        }
        double nn = (double)n, expect = (nn - (double)at) / (nn + 1) + (nn - 1) / (nn * (nn + 1));
        char what[120];
        snprintf(what, sizeof what, "jump, insert at %zu of %zu: keys moved", at, n);
        check_binomial(t, moved, NKEYS, expect, what);
        free(before);
        free(after);
    }
    ot_end(t);
}
END_TEST

START_TEST(jump_build_errors)
{
    struct sp_registry *reg = tu_registry();
    const struct sp_plugin *d = sp_registry_find(reg, SP_PLUGIN_DIST, "jump");
    ck_assert_ptr_nonnull(d);
    struct sp_server_spec s[3] = {{"a:1", 3, 1}, {"b:1", 3, 1}, {"c:1", 3, 1}};
    expect_build_error(d, NULL, 0, "jump: no servers");
    expect_build_error(d, s, 0, "jump: no servers");
    s[1].weight = 0;
    expect_build_error(d, s, 3, "jump: server 1 'b:1' has weight 0 (must be >= 1)");
    s[1].weight = 1;
    s[2].weight = 2;
    expect_build_error(d, s, 3, "jump: server 2 'c:1' has weight 2 but server 0 'a:1' has weight "
                                "1: jump gives every server an equal share and cannot honour "
                                "unequal weights");
    /* The count is checked before any entry is read, so one entry stands for 2^31 + 1. */
    expect_build_error(d, s, ((size_t)1 << 31) + 1, "jump: 2147483649 servers is more than the "
                                                    "2147483648 jump can address");
    d->destroy(NULL);
    sp_registry_free(reg);
}
END_TEST

/* Equal weights other than 1 are accepted and mean exactly what weight 1 means. */
START_TEST(jump_equal_weights_accepted)
{
    struct ot *t = ot_begin("jump_equal_weights_accepted", "jump");
    struct pool p;
    equal_pool(t, &p, rand_in(t, 2, MAXSERVERS));
    rand_keys(t, 32);
    uint32_t *ones = place_pool(t, &p);
    uint32_t w = rand_in(t, 2, 1000);
    for (size_t i = 0; i < p.n; i++)
        p.spec[i].weight = w;
    uint32_t *heavy = place_pool(t, &p);
    SEEDED(t, memcmp(ones, heavy, NKEYS * sizeof *ones) == 0,
           "jump: all weights %u placed keys differently from all weights 1", w);
    free(ones);
    free(heavy);
    ot_end(t);
}
END_TEST

/* ---------------------------------------------------------------- rendezvous */

static double weight_sum(const struct pool *p)
{
    double w = 0;
    for (size_t i = 0; i < p->n; i++)
        w += p->spec[i].weight;
    return w;
}

/* Placement does not depend on the list order, and a rebuilt selector agrees. */
START_TEST(rendezvous_is_deterministic_and_order_free)
{
    struct ot *t = ot_begin("rendezvous_is_deterministic_and_order_free", "rendezvous");
    for (int round = 0; round < 4; round++) {
        struct pool p, q;
        rand_pool(t, &p, rand_in(t, 2, 40), round % 2 ? 5 : 1);
        q = p;
        for (size_t i = q.n - 1; i > 0; i--) { /* Fisher-Yates over names and weights */
            size_t j = rand_in(t, 0, (uint32_t)i);
            char tmp[40];
            uint32_t w = q.spec[i].weight;
            memcpy(tmp, q.names[i], sizeof tmp);
            memcpy(q.names[i], q.names[j], sizeof tmp);
            memcpy(q.names[j], tmp, sizeof tmp);
            q.spec[i].weight = q.spec[j].weight;
            q.spec[j].weight = w;
        }
        pool_relink(&p);
        pool_relink(&q);
        rand_keys(t, round < 2 ? 32 : 64);
        uint32_t *a = place_pool(t, &p), *b = place_pool(t, &q), *c = place_pool(t, &p);
        for (size_t k = 0; k < NKEYS; k++)
            SEEDED(t, a[k] == c[k] && strcmp(p.names[a[k]], q.names[b[k]]) == 0,
                   "rendezvous, %zu servers: hash %llu on '%s', after shuffling on '%s', "
                   "rebuilt on '%s'", p.n, (unsigned long long)t->keys[k], p.names[a[k]],
                   q.names[b[k]], p.names[c[k]]);
        free(a);
        free(b);
        free(c);
    }
    ot_end(t);
}
END_TEST

/* A server added anywhere in the list takes about w_new / W of the keys, all from others. */
START_TEST(rendezvous_add_moves_only_onto_new_server)
{
    struct ot *t = ot_begin("rendezvous_add_moves_only_onto_new_server", "rendezvous");
    for (int round = 0; round < 6; round++) {
        uint32_t wmax = round < 3 ? 1 : 5;
        struct pool p;
        rand_pool(t, &p, round == 0 ? 1 : rand_in(t, 2, 40), wmax);
        rand_keys(t, round % 2 ? 64 : 32);
        uint32_t *before = place_pool(t, &p);
        char name[40], old_names[MAXSERVERS][40];
        memcpy(old_names, p.names, sizeof old_names);
        rand_name(t, &p, name, sizeof name);
        size_t at = rand_in(t, 0, (uint32_t)p.n);
        pool_insert(&p, at, name, rand_in(t, 1, wmax));
        uint32_t *after = place_pool(t, &p);
        size_t moved = 0;
        for (size_t k = 0; k < NKEYS; k++) {
            if (strcmp(old_names[before[k]], p.names[after[k]]) == 0)
                continue;
            SEEDED(t, after[k] == at, "rendezvous, adding '%s' to %zu servers: hash %llu moved "
                   "from '%s' to '%s'", name, p.n - 1, (unsigned long long)t->keys[k],
                   old_names[before[k]], p.names[after[k]]);
            moved++;
        }
        char what[160];
        snprintf(what, sizeof what, "rendezvous, adding '%s' (weight %u) at %zu to %zu servers: "
                 "keys moved", name, p.spec[at].weight, at, p.n - 1);
        check_binomial(t, moved, NKEYS, p.spec[at].weight / weight_sum(&p), what);
        free(before);
        free(after);
    }
    ot_end(t);
}
END_TEST

/* Removing any server moves only its keys, and they spread over the others by weight. */
START_TEST(rendezvous_remove_moves_only_its_keys)
{
    struct ot *t = ot_begin("rendezvous_remove_moves_only_its_keys", "rendezvous");
    for (int round = 0; round < 4; round++) {
        struct pool p;
        rand_pool(t, &p, rand_in(t, 3, 40), round % 2 ? 5 : 1);
        rand_keys(t, 32);
        uint32_t *before = place_pool(t, &p);
        size_t gone = rand_in(t, 1, (uint32_t)p.n - 2); /* a middle one */
        char old_names[MAXSERVERS][40], gone_name[40];
        memcpy(old_names, p.names, sizeof old_names);
        memcpy(gone_name, p.names[gone], sizeof gone_name);
        pool_remove(&p, gone);
        uint32_t *after = place_pool(t, &p);
        size_t moved = 0, spread[MAXSERVERS] = {0};
        for (size_t k = 0; k < NKEYS; k++) {
            int same = strcmp(old_names[before[k]], p.names[after[k]]) == 0;
            SEEDED(t, same == (before[k] != gone), "rendezvous, removing '%s' of %zu: hash %llu "
                   "went from '%s' to '%s'", gone_name, p.n + 1, (unsigned long long)t->keys[k],
                   old_names[before[k]], p.names[after[k]]);
            if (!same) {
                moved++;
                spread[after[k]]++;
            }
        }
        double w = weight_sum(&p);
        for (size_t i = 0; i < p.n; i++) {
            char what[160];
            snprintf(what, sizeof what, "rendezvous, removing '%s': its keys going to '%s' "
                     "(weight %u)", gone_name, p.names[i], p.spec[i].weight);
            check_binomial(t, spread[i], moved, p.spec[i].weight / w, what);
        }
        free(before);
        free(after);
    }
    ot_end(t);
}
END_TEST

/* Renaming a server moves only keys that leave it or arrive on it. */
START_TEST(rendezvous_rename_moves_only_renamed_keys)
{
    struct ot *t = ot_begin("rendezvous_rename_moves_only_renamed_keys", "rendezvous");
    for (int round = 0; round < 2; round++) {
        struct pool p;
        rand_pool(t, &p, rand_in(t, 2, 40), round ? 5 : 1);
        rand_keys(t, 32);
        uint32_t *before = place_pool(t, &p);
        size_t r = rand_in(t, 0, (uint32_t)p.n - 1);
        char old_name[40], new_name[40];
        memcpy(old_name, p.names[r], sizeof old_name);
        rand_name(t, &p, new_name, sizeof new_name);
        memcpy(p.names[r], new_name, sizeof new_name);
        pool_relink(&p);
        uint32_t *after = place_pool(t, &p);
        size_t left = 0, arrived = 0;
        for (size_t k = 0; k < NKEYS; k++) {
            if (before[k] == after[k])
                continue; /* same index: same server, or r under its old and new name */
            SEEDED(t, before[k] == r || after[k] == r, "rendezvous, renaming '%s' to '%s': hash "
                   "%llu moved between two other servers (%u -> %u)", old_name, p.names[r],
                   (unsigned long long)t->keys[k], before[k], after[k]);
            left += before[k] == r;
            arrived += after[k] == r;
        }
        SEEDED(t, left > 0 && arrived > 0, "rendezvous, renaming '%s' to '%s' in %zu servers: "
               "%zu keys left and %zu arrived (a new identity must reshuffle its keys)",
               old_name, p.names[r], p.n, left, arrived);
        free(before);
        free(after);
    }
    ot_end(t);
}
END_TEST

/*
 * Raising one server's weight only pulls keys onto it, lowering it only pushes keys off it, and
 * the number moved is the change of its share.  Starting from equal weights also crosses from
 * the plugin's equal-weights fast path to its weighted path, which must agree.
 */
START_TEST(rendezvous_weight_change_moves_only_that_server)
{
    struct ot *t = ot_begin("rendezvous_weight_change_moves_only_that_server", "rendezvous");
    for (int round = 0; round < 4; round++) {
        struct pool p;
        rand_pool(t, &p, rand_in(t, 2, 40), round < 2 ? 1 : 6);
        rand_keys(t, 32);
        uint32_t *before = place_pool(t, &p);
        size_t r = rand_in(t, 0, (uint32_t)p.n - 1);
        uint32_t w_old = p.spec[r].weight;
        uint32_t w_new = round % 2 || w_old == 1 ? w_old + rand_in(t, 1, 5)
                                                  : rand_in(t, 1, w_old - 1);
        double share_old = w_old / weight_sum(&p);
        p.spec[r].weight = w_new;
        double share_new = w_new / weight_sum(&p);
        uint32_t *after = place_pool(t, &p);
        size_t moved = 0;
        for (size_t k = 0; k < NKEYS; k++) {
            if (before[k] == after[k])
                continue;
            int ok = w_new > w_old ? after[k] == r : before[k] == r;
            SEEDED(t, ok, "rendezvous, weight of server %zu of %zu %u -> %u: hash %llu moved "
                   "%u -> %u", r, p.n, w_old, w_new, (unsigned long long)t->keys[k], before[k],
                   after[k]);
            moved++;
        }
        char what[160];
        snprintf(what, sizeof what, "rendezvous, weight of server %zu of %zu %u -> %u: keys "
                 "moved", r, p.n, w_old, w_new);
        check_binomial(t, moved, NKEYS, fabs(share_new - share_old), what);
        free(before);
        free(after);
    }
    ot_end(t);
}
END_TEST

/* Each server's share is weight / total weight; equal weights give equal shares. */
START_TEST(rendezvous_shares_follow_weights)
{
    struct ot *t = ot_begin("rendezvous_shares_follow_weights", "rendezvous");
    for (int round = 0; round < 6; round++) {
        struct pool p;
        if (round == 5) { /* weights near 2^32: w * L needs all of the 128-bit comparison */
            rand_pool(t, &p, 3, 1);
            p.spec[0].weight = 1000000000u;
            p.spec[1].weight = 4000000000u;
            p.spec[2].weight = 250000000u;
        } else {
            rand_pool(t, &p, rand_in(t, 2, round < 2 ? MAXSERVERS : 20), round < 2 ? 1 : 10);
        }
        if (round == 1)
            for (size_t k = 0; k < NKEYS; k++)
                t->keys[k] = k;
        else
            rand_keys(t, round % 2 ? 64 : 32);
        uint32_t *owner = place_pool(t, &p);
        char what[80];
        snprintf(what, sizeof what, "rendezvous round %d%s", round,
                 round == 1 ? " (hashes 0..N-1)" : "");
        check_shares(t, &p, owner, what);
        free(owner);
    }
    ot_end(t);
}
END_TEST

/* fmix64 as the plugins document it (MurmurHash3's finalizer). */
static uint64_t fmix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/*
 * The documented placement, recomputed independently in long double: identity
 * id = fmix64(FNV-1a-64(name)), draw x = fmix64(fmix64(hash) ^ id), u = (x | 1) / 2^64, score
 * w / -ln(u), highest wins.  Keys whose two best scores are closer than 1e-9 relative are skipped
 * (the plugin's fixed-point log is exact to ~2^-56, long double to ~2^-63; a near tie could go
 * either way), which is a handful out of NKEYS at most.
 */
START_TEST(rendezvous_matches_its_definition)
{
    struct ot *t = ot_begin("rendezvous_matches_its_definition", "rendezvous");
    for (int round = 0; round < 2; round++) {
        struct pool p;
        rand_pool(t, &p, rand_in(t, 2, 30), round ? 7 : 1);
        uint64_t id[MAXSERVERS];
        for (size_t i = 0; i < p.n; i++) {
            uint64_t h = 0xcbf29ce484222325ULL;
            for (const unsigned char *c = (const unsigned char *)p.names[i]; *c; c++)
                h = (h ^ *c) * 0x100000001b3ULL;
            id[i] = fmix64(h);
        }
        rand_keys(t, round ? 32 : 64);
        uint32_t *owner = place_pool(t, &p);
        size_t skipped = 0;
        for (size_t k = 0; k < NKEYS; k++) {
            long double best = -1, second = -1;
            size_t win = 0;
            for (size_t i = 0; i < p.n; i++) {
                uint64_t x = fmix64(fmix64(t->keys[k]) ^ id[i]) | 1;
                long double score = p.spec[i].weight / -logl(ldexpl((long double)x, -64));
                if (score > best) {
                    second = best;
                    best = score;
                    win = i;
                } else if (score > second) {
                    second = score;
                }
            }
            if (best - second < best * 1e-9L) {
                skipped++;
                continue;
            }
            SEEDED(t, owner[k] == win, "rendezvous, %zu servers: hash %llu placed on %u '%s', "
                   "definition says %zu '%s'", p.n, (unsigned long long)t->keys[k], owner[k],
                   p.names[owner[k]], win, p.names[win]);
        }
        SEEDED(t, skipped < 10, "rendezvous: %zu near ties of %d keys", skipped, NKEYS);
        free(owner);
    }
    ot_end(t);
}
END_TEST

START_TEST(rendezvous_build_errors)
{
    struct sp_registry *reg = tu_registry();
    const struct sp_plugin *d = sp_registry_find(reg, SP_PLUGIN_DIST, "rendezvous");
    ck_assert_ptr_nonnull(d);
    struct sp_server_spec s[3] = {{"a:1", 3, 1}, {"b:1", 3, 2}, {"c:1", 3, 1}};
    expect_build_error(d, NULL, 0, "rendezvous: no servers");
    expect_build_error(d, s, 0, "rendezvous: no servers");
    s[2].weight = 0;
    expect_build_error(d, s, 3, "rendezvous: server 2 'c:1' has weight 0 (must be >= 1)");
    s[2].weight = 1;
    s[2].name = "a:1xyz"; /* the name is name_len bytes: "a:1xyz" is a distinct server... */
    s[2].name_len = 6;
    void *sel = d->build(s, 3, NULL, 0);
    ck_assert_ptr_nonnull(sel);
    d->destroy(sel);
    s[2].name_len = 3; /* ...but its first 3 bytes are the same name as server 0 */
    expect_build_error(d, s, 3, "rendezvous: servers 0 'a:1' and 2 'a:1' have the same name");
    s[2].name = NULL;
    expect_build_error(d, s, 3, "rendezvous: server 2 has a length but no name bytes");
    /* The count is checked before any entry is read. */
    expect_build_error(d, s, 4097, "rendezvous: 4097 servers is more than 4096");
    d->destroy(NULL);
    sp_registry_free(reg);
}
END_TEST

/* ---------------------------------------------------------------- runner */

static Suite *outside_suite(void)
{
    Suite *s = suite_create("outside_dists");
    TCase *jump = tcase_create("jump");
    tcase_set_timeout(jump, 120);
    tcase_add_test(jump, jump_reference_values);
    tcase_add_test(jump, jump_is_deterministic);
    tcase_add_test(jump, jump_append_moves_only_onto_new_server);
    tcase_add_test(jump, jump_is_balanced);
    tcase_add_test(jump, jump_middle_insert_moves_many);
    tcase_add_test(jump, jump_build_errors);
    tcase_add_test(jump, jump_equal_weights_accepted);
    suite_add_tcase(s, jump);
    TCase *rv = tcase_create("rendezvous");
    tcase_set_timeout(rv, 120);
    tcase_add_test(rv, rendezvous_is_deterministic_and_order_free);
    tcase_add_test(rv, rendezvous_add_moves_only_onto_new_server);
    tcase_add_test(rv, rendezvous_remove_moves_only_its_keys);
    tcase_add_test(rv, rendezvous_rename_moves_only_renamed_keys);
    tcase_add_test(rv, rendezvous_weight_change_moves_only_that_server);
    tcase_add_test(rv, rendezvous_shares_follow_weights);
    tcase_add_test(rv, rendezvous_matches_its_definition);
    tcase_add_test(rv, rendezvous_build_errors);
    suite_add_tcase(s, rv);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(outside_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
