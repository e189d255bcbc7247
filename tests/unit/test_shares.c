/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shares of the hash space (lib/shares.c): exact answers against closed forms and against a
 * brute-force count over evenly spread hash values computed here, for ketama, modula, the switch
 * between them, one-server pools, a distribution without a shape (jump) and a hash change.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "placement.h"
#include "testutil.h"

static struct sp_registry *reg;

/* One pool from YAML lines (servers "host:port:weight [name]"). */
static struct sp_conf *load(const char *hash, const char *dist, const char *servers)
{
    char yaml[4096];
    struct sp_conf *conf = NULL;
    char err[512];

    snprintf(yaml, sizeof(yaml), "p:\n  listen: 127.0.0.1:1\n  redis: true\n  hash: %s\n"
             "  distribution: %s\n  servers:\n%s", hash, dist, servers);
    ck_assert_msg(sp_conf_load_string(yaml, strlen(yaml), "test.yml", NULL, NULL, &conf, err,
                                      sizeof(err)) == 0, "%s", err);
    return conf;
}

static struct sp_placer *placer(const struct sp_conf *conf)
{
    char err[256];
    struct sp_placer *p = sp_placer_new(reg, &conf->pools[0], NULL, err, sizeof(err));

    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

/* Servers matched by name, as the reload matches them. */
static void match(const struct sp_conf *a, const struct sp_conf *b, int *b_to_a)
{
    for (size_t j = 0; j < b->pools[0].nservers; j++)
        b_to_a[j] = sp_conf_find_server(&a->pools[0], b->pools[0].servers[j].name);
}

/* Brute force: the moved share over 2^24 evenly spread 32-bit hash values. */
static double brute_moved(struct sp_placer *a, struct sp_placer *b, const int *b_to_a)
{
    uint64_t n = (uint64_t)1 << 24, moved = 0;

    for (uint64_t k = 0; k < n; k++) {
        uint32_t h = (uint32_t)(k * 257 + 13); /* odd stride: no period lines up */
        int oa = sp_placer_locate_hash(a, h), ob = sp_placer_locate_hash(b, h);

        moved += ob < 0 || b_to_a[ob] != oa;
    }
    return (double)moved / (double)n;
}

struct pair {
    struct sp_conf *a, *b;
    struct sp_placer *pa, *pb;
    int b_to_a[16];
};

static void pair_make(struct pair *p, const char *ha, const char *da, const char *sa,
                      const char *hb, const char *db, const char *sb)
{
    p->a = load(ha, da, sa);
    p->b = load(hb, db, sb);
    p->pa = placer(p->a);
    p->pb = placer(p->b);
    match(p->a, p->b, p->b_to_a);
}

static void pair_free(struct pair *p)
{
    sp_placer_free(p->pa);
    sp_placer_free(p->pb);
    sp_conf_free(p->a);
    sp_conf_free(p->b);
}

#define THREE "   - 127.0.0.1:1:1\n   - 127.0.0.1:2:1\n   - 127.0.0.1:3:1\n"
#define FOUR THREE "   - 127.0.0.1:4:1\n"
#define WEIGHTED "   - 127.0.0.1:1:1\n   - 127.0.0.1:2:3\n   - 127.0.0.1:3:2\n"

START_TEST(modula_closed_form)
{
    struct pair p;
    enum sp_share_how how;
    /* h stays where h % 3 == h % 4, i.e. h % 12 in {0, 1, 2}: 2^32 = 12q + 4, so each of those
       residues has q + 1 values. */
    double q = (double)(((uint64_t)1 << 32) / 12);
    double want = 1 - 3 * (q + 1) / 4294967296.0;

    pair_make(&p, "fnv1a_64", "modula", THREE, "fnv1a_64", "modula", FOUR);
    ck_assert_msg(fabs(sp_placer_moved_share(p.pa, p.pb, p.b_to_a, &how) - want) < 1e-12,
                  "want %.12f", want);
    ck_assert_int_eq(how, SP_SHARE_EXACT);
    pair_free(&p);
}
END_TEST

/* Exact answers agree with the brute-force count (to its sampling precision). */
static void check_exact(const char *ha, const char *da, const char *sa, const char *hb,
                        const char *db, const char *sb, enum sp_share_how want_how)
{
    struct pair p;
    enum sp_share_how how;
    double got, brute;

    pair_make(&p, ha, da, sa, hb, db, sb);
    got = sp_placer_moved_share(p.pa, p.pb, p.b_to_a, &how);
    brute = brute_moved(p.pa, p.pb, p.b_to_a);
    ck_assert_int_eq(how, want_how);
    ck_assert_msg(fabs(got - brute) < 0.002, "%s/%s -> %s/%s: %f, brute force %f", ha, da, hb, db,
                  got, brute);
    pair_free(&p);
}

START_TEST(ketama_add_server)
{
    check_exact("fnv1a_64", "ketama", THREE, "fnv1a_64", "ketama", FOUR, SP_SHARE_EXACT);
}
END_TEST

START_TEST(ketama_reweight)
{
    check_exact("md5", "ketama", THREE, "md5", "ketama", WEIGHTED, SP_SHARE_EXACT);
}
END_TEST

START_TEST(ketama_to_modula)
{
    check_exact("murmur", "ketama", THREE, "murmur", "modula", WEIGHTED, SP_SHARE_EXACT);
    check_exact("murmur", "modula", FOUR, "murmur", "ketama", THREE, SP_SHARE_EXACT);
}
END_TEST

START_TEST(modula_reweight)
{
    check_exact("crc32a", "modula", WEIGHTED, "crc32a", "modula", FOUR, SP_SHARE_EXACT);
}
END_TEST

START_TEST(no_shape_is_sampled)
{
    check_exact("fnv1a_64", "jump", THREE, "fnv1a_64", "jump", FOUR, SP_SHARE_SAMPLED);
}
END_TEST

START_TEST(nothing_changes)
{
    struct pair p;
    enum sp_share_how how;

    pair_make(&p, "fnv1a_64", "ketama", WEIGHTED, "fnv1a_64", "ketama", WEIGHTED);
    ck_assert_double_eq(sp_placer_moved_share(p.pa, p.pb, p.b_to_a, &how), 0);
    ck_assert_int_eq(how, SP_SHARE_EXACT);
    pair_free(&p);
}
END_TEST

START_TEST(hash_change_is_estimated)
{
    struct pair p;
    enum sp_share_how how;
    double got;

    pair_make(&p, "fnv1a_64", "ketama", THREE, "md5", "ketama", THREE);
    got = sp_placer_moved_share(p.pa, p.pb, p.b_to_a, &how);
    ck_assert_int_eq(how, SP_SHARE_ESTIMATED);
    /* Independent placements of 3 servers with ~1/3 each: about 2/3 of the keys move. */
    ck_assert_msg(fabs(got - 2.0 / 3) < 0.05, "%f", got);
    pair_free(&p);
}
END_TEST

START_TEST(space_shares_sum_to_one)
{
    const char *dists[] = { "ketama", "modula", "jump" };

    for (size_t d = 0; d < 3; d++) {
        /* jump gives equal shares only */
        struct sp_conf *c = load("fnv1a_64", dists[d], d == 2 ? THREE : WEIGHTED);
        struct sp_placer *p = placer(c);
        double shares[3], sum = 0;
        enum sp_share_how how;

        ck_assert_int_eq(sp_placer_space_shares(p, shares, &how), 0);
        for (int i = 0; i < 3; i++)
            sum += shares[i];
        ck_assert_msg(fabs(sum - 1) < 1e-9, "%s: %f", dists[d], sum);
        if (strcmp(dists[d], "modula") == 0) /* weights 1,3,2 of 6 */
            ck_assert_double_eq_tol(shares[1], 3.0 / 6, 1e-9);
        sp_placer_free(p);
        sp_conf_free(c);
    }
}
END_TEST

START_TEST(one_server)
{
    struct pair p;
    enum sp_share_how how;

    pair_make(&p, "fnv1a_64", "ketama", "   - 127.0.0.1:1:1\n", "fnv1a_64", "ketama", THREE);
    /* one server's keys spread over three, of which it is one */
    check_exact("fnv1a_64", "ketama", "   - 127.0.0.1:1:1\n", "fnv1a_64", "ketama", THREE,
                SP_SHARE_EXACT);
    ck_assert(sp_placer_moved_share(p.pa, p.pb, p.b_to_a, &how) > 0.5);
    pair_free(&p);
}
END_TEST

static void setup(void)
{
    reg = tu_registry();
}

static void teardown(void)
{
    sp_registry_free(reg);
}

int main(void)
{
    Suite *s = suite_create("shares");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, modula_closed_form);
    tcase_add_test(tc, ketama_add_server);
    tcase_add_test(tc, ketama_reweight);
    tcase_add_test(tc, ketama_to_modula);
    tcase_add_test(tc, modula_reweight);
    tcase_add_test(tc, no_shape_is_sampled);
    tcase_add_test(tc, nothing_changes);
    tcase_add_test(tc, hash_change_is_estimated);
    tcase_add_test(tc, space_shares_sum_to_one);
    tcase_add_test(tc, one_server);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
