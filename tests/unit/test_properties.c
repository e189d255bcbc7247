/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded property tests of placement: determinism, minimal movement under ketama, shares that
 * follow weights, hash tags keeping keys together, and ejection equal to removal.
 *
 * Every test prints its seed (tu_seed) and every failure message starts with it; rerun with
 * SP_TEST_SEED=<seed> to reproduce.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ketama_ring.h"
#include "placement.h"
#include "registry.h"
#include "testutil.h"

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

#define SEEDED(seed, cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            seeded_fail((seed), __VA_ARGS__);                                                      \
    } while (0)

/* Everything a property needs: plugins, their names, the seed and the generator. */
struct prop {
    struct sp_registry *reg;
    const char *hashes[64];
    size_t nhashes;
    const char *dists[16];
    uint64_t seed;
    uint64_t rng;
};

static struct prop *prop_begin(const char *name)
{
    struct prop *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    p->reg = tu_registry();
    p->nhashes = sp_registry_names(p->reg, SP_PLUGIN_HASH, p->hashes, 64);
    sp_registry_names(p->reg, SP_PLUGIN_DIST, p->dists, 16);
    p->seed = tu_seed(name);
    p->rng = p->seed;
    return p;
}

static void prop_end(struct prop *p)
{
    sp_registry_free(p->reg);
    free(p);
}

/* Uniform in [lo, hi]. */
static uint32_t rand_in(struct prop *p, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(tu_rand(&p->rng) % ((uint64_t)hi - lo + 1));
}

/*
 * A random hash that spreads keys over the whole 32-bit range.  crc32 is excluded: nutcracker's
 * "crc32" keeps 15 bits only, so under ketama every key lands on one server (README).
 */
static const char *rand_spreading_hash(struct prop *p)
{
    for (;;) {
        const char *h = p->hashes[rand_in(p, 0, (uint32_t)p->nhashes - 1)];
        if (strcmp(h, "crc32") != 0)
            return h;
    }
}

/* A random key of minlen..maxlen arbitrary bytes into buf; returns its length. */
static size_t rand_key_between(struct prop *p, unsigned char *buf, size_t minlen, size_t maxlen)
{
    size_t len = rand_in(p, (uint32_t)minlen, (uint32_t)maxlen);
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)tu_rand(&p->rng);
    return len;
}

/*
 * The shortest key that counts towards a measured share.  Shorter keys take few distinct hash
 * values (the empty key hashes to 0; 256 one-byte keys are too few to be uniform modulo a small
 * total; crc16 keeps a 1-byte key below 2^16 and a 2-byte key below 2^24), so under ketama they
 * pile onto a few arcs and under modula onto a few slots: they say nothing about a share.
 */
#define SHARE_KEY_MIN 4

/* A random key of 0..maxlen bytes (the empty key included). */
static size_t rand_key(struct prop *p, unsigned char *buf, size_t maxlen)
{
    return rand_key_between(p, buf, 0, maxlen);
}

/* A synthetic pool description. */
struct pool_spec {
    const char *hash;
    const char *dist;
    const char *tag;       /* "" or two characters */
    size_t n;
    int ports[32];
    uint32_t weights[32];
};

/* n distinct random ports (names) and weights in [1, wmax]. */
static void rand_servers(struct prop *p, struct pool_spec *ps, size_t n, uint32_t wmax)
{
    ck_assert_uint_le(n, 32);
    ps->n = n;
    for (size_t i = 0; i < n; i++) {
        bool dup;
        do {
            ps->ports[i] = (int)rand_in(p, 1024, 65000);
            dup = ps->ports[i] == 11211;
            for (size_t j = 0; j < i; j++)
                dup = dup || ps->ports[j] == ps->ports[i];
        } while (dup);
        ps->weights[i] = rand_in(p, 1, wmax);
    }
}

/* Loads the YAML for `ps`, skipping server `skip` (or none when skip >= n). */
static struct sp_conf *load_spec(struct prop *p, const struct pool_spec *ps, size_t skip)
{
    char text[4096];
    int used = snprintf(text, sizeof text,
                        "alpha:\n  listen: 127.0.0.1:22121\n  hash: %s\n  distribution: %s\n"
                        "  redis: true\n%s%s%s  servers:\n",
                        ps->hash, ps->dist, ps->tag[0] ? "  hash_tag: \"" : "", ps->tag,
                        ps->tag[0] ? "\"\n" : "");
    for (size_t i = 0; i < ps->n; i++)
        if (i != skip)
            used += snprintf(text + used, sizeof text - (size_t)used, "   - 127.0.0.1:%d:%u\n",
                             ps->ports[i], ps->weights[i]);
    ck_assert((size_t)used < sizeof text);
    struct sp_conf *conf = NULL;
    char err[1024] = "";
    SEEDED(p->seed, sp_conf_load_string(text, (size_t)used, "synthetic", p->hashes, p->dists,
                                        &conf, err, sizeof err) == 0,
           "config rejected: %s\n%s", err, text);
    return conf;
}

static struct sp_placer *placer_for(struct prop *p, const struct sp_conf *conf, const bool *live)
{
    char err[1024] = "";
    struct sp_placer *pl = sp_placer_new(p->reg, &conf->pools[0], live, err, sizeof err);
    SEEDED(p->seed, pl != NULL, "placer: %s", err);
    return pl;
}

/* Name of the server that owns key[len]. */
static const char *owner(const struct sp_conf *conf, struct sp_placer *pl, const void *key,
                         size_t len)
{
    int i = sp_placer_locate(pl, key, len);
    ck_assert(i >= 0 && (size_t)i < conf->pools[0].nservers);
    return conf->pools[0].servers[i].name;
}

/* ---------------------------------------------------------------- determinism */

START_TEST(same_config_same_placement)
{
    struct prop *p = prop_begin("same_config_same_placement");
    const char *dists[] = {"ketama", "modula", "random"};
    for (int round = 0; round < 6; round++) {
        struct pool_spec ps = {.hash = rand_spreading_hash(p), .dist = dists[round % 3],
                               .tag = round % 2 ? "{}" : ""};
        rand_servers(p, &ps, rand_in(p, 1, 12), 5);
        struct sp_conf *c1 = load_spec(p, &ps, ps.n), *c2 = load_spec(p, &ps, ps.n);
        struct sp_placer *p1 = placer_for(p, c1, NULL), *p2 = placer_for(p, c2, NULL);
        unsigned char key[64];
        for (int k = 0; k < 5000; k++) {
            size_t len = rand_key(p, key, sizeof key);
            const char *a = owner(c1, p1, key, len), *b = owner(c2, p2, key, len);
            SEEDED(p->seed, strcmp(a, b) == 0, "%s/%s, %zu servers: key %d placed on %s then %s",
                   ps.hash, ps.dist, ps.n, k, a, b);
        }
        sp_placer_free(p1);
        sp_placer_free(p2);
        sp_conf_free(c1);
        sp_conf_free(c2);
    }
    prop_end(p);
}
END_TEST

/* ---------------------------------------------------------------- minimal movement */

START_TEST(ketama_add_moves_only_to_new_server)
{
    struct prop *p = prop_begin("ketama_add_moves_only_to_new_server");
    const int nkeys = 20000;
    for (int round = 0; round < 4; round++) {
        /*
         * Equal weights, 2..16 servers: then every server keeps exactly 160 points before and after
         * (checked below; not true for all n, e.g. 25 equal servers get 156 each in nutcracker's
         * float arithmetic, and unequal weights recompute every count), so the old servers' points
         * do not move and a key may only move to the new server.
         */
        struct pool_spec ps = {.hash = rand_spreading_hash(p), .dist = "ketama", .tag = ""};
        size_t n = rand_in(p, 2, 16);
        rand_servers(p, &ps, n + 1, 1);
        ck_assert_uint_eq(sp_ketama_points(1, (uint32_t)n, (uint32_t)n), 160);
        ck_assert_uint_eq(sp_ketama_points(1, (uint32_t)n + 1, (uint32_t)n + 1), 160);
        struct sp_conf *before = load_spec(p, &ps, n), *after = load_spec(p, &ps, ps.n);
        struct sp_placer *pb = placer_for(p, before, NULL), *pa = placer_for(p, after, NULL);
        char newname[32];
        snprintf(newname, sizeof newname, "127.0.0.1:%d", ps.ports[n]);
        unsigned char key[64];
        int moved = 0, counted = 0;
        for (int k = 0; k < nkeys; k++) {
            size_t len = rand_key(p, key, sizeof key);
            const char *a = owner(before, pb, key, len), *b = owner(after, pa, key, len);
            /* Every key is checked for where it moved; keys of SHARE_KEY_MIN bytes or more count. */
            counted += len >= SHARE_KEY_MIN;
            if (strcmp(a, b) == 0)
                continue;
            moved += len >= SHARE_KEY_MIN;
            SEEDED(p->seed, strcmp(b, newname) == 0,
                   "%s, %zu -> %zu servers: key %d moved from %s to %s, not to the new %s", ps.hash,
                   n, n + 1, k, a, b, newname);
        }
        /*
         * Expected share of the new server: 1/(n+1).  Its share of the ring is the sum of the arcs
         * in front of its 160 points; with independent point positions that sum has a relative
         * standard deviation of about 1/sqrt(160) = 7.9%, which dominates the sampling noise of
         * ~19000 keys (< 3% relative).  A +-40% relative band is 5 standard deviations; hash bias
         * on random keys of SHARE_KEY_MIN bytes or more is far smaller.
         */
        double expect = 1.0 / (double)(n + 1), got = (double)moved / counted;
        SEEDED(p->seed, fabs(got - expect) <= 0.4 * expect,
               "%s, %zu -> %zu servers: %.4f of keys moved, expected about %.4f", ps.hash, n,
               n + 1, got, expect);
        sp_placer_free(pb);
        sp_placer_free(pa);
        sp_conf_free(before);
        sp_conf_free(after);
    }
    prop_end(p);
}
END_TEST

/* ---------------------------------------------------------------- shares follow weights */

/* Counts, per server, how many of `nkeys` random keys it owns. */
static void count_shares(struct prop *p, struct sp_placer *pl, size_t n, int nkeys, int *counts)
{
    memset(counts, 0, n * sizeof *counts);
    unsigned char key[64];
    for (int k = 0; k < nkeys; k++) {
        size_t len = rand_key_between(p, key, SHARE_KEY_MIN, sizeof key);
        int i = sp_placer_locate(pl, key, len);
        ck_assert(i >= 0 && (size_t)i < n);
        counts[i]++;
    }
}

START_TEST(ketama_shares_follow_points)
{
    struct prop *p = prop_begin("ketama_shares_follow_points");
    const int nkeys = 40000;
    for (int round = 0; round < 4; round++) {
        struct pool_spec ps = {.hash = rand_spreading_hash(p), .dist = "ketama", .tag = ""};
        rand_servers(p, &ps, rand_in(p, 2, 8), 4);
        struct sp_conf *conf = load_spec(p, &ps, ps.n);
        const struct sp_conf_pool *pool = &conf->pools[0];
        struct sp_placer *pl = placer_for(p, conf, NULL);
        int counts[32];
        count_shares(p, pl, pool->nservers, nkeys, counts);
        uint32_t total_w = 0, pts[32], total_pts = 0;
        for (size_t i = 0; i < pool->nservers; i++)
            total_w += pool->servers[i].weight;
        for (size_t i = 0; i < pool->nservers; i++) {
            pts[i] = sp_ketama_points(pool->servers[i].weight, total_w, (uint32_t)pool->nservers);
            total_pts += pts[i];
        }
        for (size_t i = 0; i < pool->nservers; i++) {
            /*
             * A server with P of T points owns about P/T of the ring: the sum of P arcs of mean
             * 1/T, standard deviation about sqrt(P)/T.  Sampling 40000 keys adds
             * sqrt(s(1-s)/40000).  Allow 5 of each.  The point count itself follows the weight:
             * floor() loses less than 4 points per server, i.e. P/T is within 4/T of w/W plus the
             * other servers' losses, so checking against w/W with 4n/T slack as well.
             */
            double share = (double)counts[i] / nkeys;
            double by_points = (double)pts[i] / total_pts;
            double tol = 5.0 * sqrt((double)pts[i]) / total_pts +
                         5.0 * sqrt(by_points * (1 - by_points) / nkeys);
            SEEDED(p->seed, fabs(share - by_points) <= tol,
                   "%s, server %s (weight %u of %u, %u of %u points): share %.4f, expected %.4f "
                   "+- %.4f",
                   ps.hash, pool->servers[i].name, pool->servers[i].weight, total_w, pts[i],
                   total_pts, share, by_points, tol);
            double by_weight = (double)pool->servers[i].weight / total_w;
            double slack = 4.0 * (double)pool->nservers / total_pts;
            SEEDED(p->seed, fabs(by_points - by_weight) <= slack,
                   "server %s: %u of %u points is far from weight %u of %u",
                   pool->servers[i].name, pts[i], total_pts, pool->servers[i].weight, total_w);
        }
        sp_placer_free(pl);
        sp_conf_free(conf);
    }
    prop_end(p);
}
END_TEST

START_TEST(modula_shares_follow_weights)
{
    struct prop *p = prop_begin("modula_shares_follow_weights");
    const int nkeys = 40000;
    /* Hashes whose values are uniform modulo small numbers on random keys. */
    const char *hashes[] = {"fnv1a_64", "md5", "murmur", "crc32a", "jenkins"};
    for (int round = 0; round < 4; round++) {
        struct pool_spec ps = {.hash = hashes[rand_in(p, 0, 4)], .dist = "modula", .tag = ""};
        rand_servers(p, &ps, rand_in(p, 2, 8), 4);
        struct sp_conf *conf = load_spec(p, &ps, ps.n);
        const struct sp_conf_pool *pool = &conf->pools[0];
        struct sp_placer *pl = placer_for(p, conf, NULL);
        int counts[32];
        count_shares(p, pl, pool->nservers, nkeys, counts);
        uint32_t total_w = 0;
        for (size_t i = 0; i < pool->nservers; i++)
            total_w += pool->servers[i].weight;
        for (size_t i = 0; i < pool->nservers; i++) {
            /* Each key is a Bernoulli trial with p = w/W: allow 5 standard deviations. */
            double expect = (double)pool->servers[i].weight / total_w;
            double share = (double)counts[i] / nkeys;
            double tol = 5.0 * sqrt(expect * (1 - expect) / nkeys);
            SEEDED(p->seed, fabs(share - expect) <= tol,
                   "%s, server %s (weight %u of %u): share %.4f, expected %.4f +- %.4f", ps.hash,
                   pool->servers[i].name, pool->servers[i].weight, total_w, share, expect, tol);
        }
        sp_placer_free(pl);
        sp_conf_free(conf);
    }
    prop_end(p);
}
END_TEST

/* ---------------------------------------------------------------- hash tags */

START_TEST(same_tag_same_server)
{
    struct prop *p = prop_begin("same_tag_same_server");
    for (int round = 0; round < 4; round++) {
        struct pool_spec ps = {.hash = rand_spreading_hash(p),
                               .dist = round % 2 ? "modula" : "ketama", .tag = "{}"};
        rand_servers(p, &ps, rand_in(p, 2, 10), 3);
        struct sp_conf *conf = load_spec(p, &ps, ps.n);
        struct sp_placer *pl = placer_for(p, conf, NULL);
        for (int t = 0; t < 50; t++) {
            /* Tag: 1..12 bytes, any byte but '}' (a '{' inside is allowed: "{{x}" tags "{x"). */
            unsigned char tag[16];
            size_t tlen = rand_in(p, 1, 12);
            for (size_t i = 0; i < tlen; i++)
                do
                    tag[i] = (unsigned char)tu_rand(&p->rng);
                while (tag[i] == '}');
            uint64_t want_hash = 0;
            int want = -1;
            for (int k = 0; k < 40; k++) {
                /* prefix without '{', then {tag}, then anything. */
                unsigned char key[128];
                size_t len = rand_key(p, key, 20);
                for (size_t i = 0; i < len; i++)
                    if (key[i] == '{')
                        key[i] = 'x';
                key[len++] = '{';
                memcpy(key + len, tag, tlen);
                len += tlen;
                key[len++] = '}';
                len += rand_key(p, key + len, 40);
                uint64_t h = sp_placer_hash(pl, key, len);
                int got = sp_placer_locate(pl, key, len);
                if (k == 0) {
                    want_hash = h;
                    want = got;
                }
                SEEDED(p->seed, h == want_hash && got == want,
                       "%s/%s: tag %d, key %d: hash %llu server %d, first key of the tag: hash "
                       "%llu server %d",
                       ps.hash, ps.dist, t, k, (unsigned long long)h, got,
                       (unsigned long long)want_hash, want);
            }
        }
        sp_placer_free(pl);
        sp_conf_free(conf);
    }
    prop_end(p);
}
END_TEST

/* ---------------------------------------------------------------- ejection */

START_TEST(ejection_equals_removal)
{
    struct prop *p = prop_begin("ejection_equals_removal");
    for (int round = 0; round < 6; round++) {
        /* Weighted pools on purpose: ketama recomputes the survivors' point counts. */
        struct pool_spec ps = {.hash = rand_spreading_hash(p),
                               .dist = round % 2 ? "modula" : "ketama", .tag = ""};
        rand_servers(p, &ps, rand_in(p, 2, 10), 4);
        size_t down = rand_in(p, 0, (uint32_t)ps.n - 1);
        struct sp_conf *full = load_spec(p, &ps, ps.n), *rest = load_spec(p, &ps, down);
        char down_name[32];
        snprintf(down_name, sizeof down_name, "127.0.0.1:%d", ps.ports[down]);
        int idx = sp_conf_find_server(&full->pools[0], down_name);
        ck_assert_int_ge(idx, 0);
        bool live[32];
        for (size_t i = 0; i < ps.n; i++)
            live[i] = (int)i != idx;
        struct sp_placer *pe = placer_for(p, full, live), *pr = placer_for(p, rest, NULL);
        unsigned char key[64];
        for (int k = 0; k < 5000; k++) {
            size_t len = rand_key(p, key, sizeof key);
            const char *a = owner(full, pe, key, len), *b = owner(rest, pr, key, len);
            SEEDED(p->seed, strcmp(a, b) == 0,
                   "%s/%s, %zu servers, %s ejected: key %d on %s, without its line: %s", ps.hash,
                   ps.dist, ps.n, down_name, k, a, b);
        }
        sp_placer_free(pe);
        sp_placer_free(pr);
        sp_conf_free(full);
        sp_conf_free(rest);
    }
    prop_end(p);
}
END_TEST

/* ---------------------------------------------------------------- random */

START_TEST(random_is_seeded_and_uniform)
{
    struct prop *p = prop_begin("random_is_seeded_and_uniform");
    struct pool_spec ps = {.hash = "fnv1a_64", .dist = "random", .tag = ""};
    rand_servers(p, &ps, rand_in(p, 2, 8), 4);
    struct sp_conf *conf = load_spec(p, &ps, ps.n);
    struct sp_placer *a = placer_for(p, conf, NULL), *b = placer_for(p, conf, NULL);
    const int nkeys = 40000;
    int counts[32] = {0};
    for (int k = 0; k < nkeys; k++) {
        /* The same key every time: random ignores it, and two fresh selectors agree. */
        int x = sp_placer_locate(a, "k", 1), y = sp_placer_locate(b, "k", 1);
        SEEDED(p->seed, x == y && x >= 0 && (size_t)x < ps.n, "call %d: %d vs %d", k, x, y);
        counts[x]++;
    }
    for (size_t i = 0; i < ps.n; i++) {
        /* Weights are ignored (as nutcracker): 1/n each, 5 standard deviations. */
        double expect = 1.0 / (double)ps.n, share = (double)counts[i] / nkeys;
        double tol = 5.0 * sqrt(expect * (1 - expect) / nkeys);
        SEEDED(p->seed, fabs(share - expect) <= tol, "server %zu: share %.4f, expected %.4f", i,
               share, expect);
    }
    sp_placer_free(a);
    sp_placer_free(b);
    sp_conf_free(conf);
    prop_end(p);
}
END_TEST

static Suite *properties_suite(void)
{
    Suite *s = suite_create("placement properties");
    TCase *tc = tcase_create("properties");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, same_config_same_placement);
    tcase_add_test(tc, ketama_add_moves_only_to_new_server);
    tcase_add_test(tc, ketama_shares_follow_points);
    tcase_add_test(tc, modula_shares_follow_weights);
    tcase_add_test(tc, same_tag_same_server);
    tcase_add_test(tc, ejection_equals_removal);
    tcase_add_test(tc, random_is_seeded_and_uniform);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(properties_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
