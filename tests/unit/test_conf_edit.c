/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pool edits (lib/conf_edit.c): an edited pool must equal the pool the loader makes from the
 * edited YAML (same names, same server order, same weights), and a refused edit must leave the
 * pool exactly as it was.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "testutil.h"

static const char *const BASE =
    "alpha:\n  listen: 127.0.0.1:22121\n  hash: fnv1a_64\n  distribution: modula\n"
    "  servers:\n";

/* Loads BASE followed by `servers` (lines "   - ...\n"); fails the test if it does not load. */
static struct sp_conf *load(const char *servers)
{
    char text[2048];
    char err[1024] = "";
    struct sp_conf *c = NULL;
    snprintf(text, sizeof text, "%s%s", BASE, servers);
    ck_assert_msg(sp_conf_load_string(text, strlen(text), "t.yml", NULL, NULL, &c, err,
                                      sizeof err) == 0, "%s", err);
    return c;
}

/* Same servers in the same order: names, addresses, weights and named flags. */
static void assert_same_servers(const struct sp_conf_pool *a, const struct sp_conf_pool *b)
{
    ck_assert_uint_eq(a->nservers, b->nservers);
    for (size_t i = 0; i < a->nservers; i++) {
        ck_assert_str_eq(a->servers[i].name, b->servers[i].name);
        ck_assert_str_eq(a->servers[i].addr.text, b->servers[i].addr.text);
        ck_assert_uint_eq(a->servers[i].weight, b->servers[i].weight);
        ck_assert_int_eq(a->servers[i].named, b->servers[i].named);
    }
    ck_assert_str_eq(a->hash, b->hash);
    ck_assert_str_eq(a->distribution, b->distribution);
    ck_assert_str_eq(a->hash_tag, b->hash_tag);
}

static const char *const THREE = "   - 127.0.0.1:27002:1\n   - 127.0.0.1:7003:2\n"
                                 "   - 127.0.0.1:27001:1\n";

START_TEST(add_sorts_like_the_loader)
{
    struct sp_conf *c = load(THREE);
    struct sp_conf_pool *p = sp_conf_pool_dup(&c->pools[0]);
    char err[512];
    /* port 11211: named "host", the shortest name, so it sorts first */
    ck_assert_int_eq(sp_conf_pool_add_server(p, "127.0.0.1:11211:3", "--add", err, sizeof err), 0);
    ck_assert_int_eq(sp_conf_pool_add_server(p, "10.0.0.1:1:1 zz", "--add", err, sizeof err), 0);
    struct sp_conf *want = load("   - 127.0.0.1:27002:1\n   - 127.0.0.1:7003:2\n"
                                "   - 127.0.0.1:27001:1\n   - 127.0.0.1:11211:3\n"
                                "   - 10.0.0.1:1:1 zz\n");
    assert_same_servers(p, &want->pools[0]);
    ck_assert_str_eq(p->servers[0].name, "zz");
    ck_assert_str_eq(p->servers[1].name, "127.0.0.1");
    sp_conf_pool_free(p);
    sp_conf_free(want);
    sp_conf_free(c);
}
END_TEST

START_TEST(edit_weight_name_address)
{
    struct sp_conf *c = load(THREE);
    struct sp_conf_pool *p = sp_conf_pool_dup(&c->pools[0]);
    char err[512];
    int i = sp_conf_find_server(p, "127.0.0.1:27001");
    ck_assert_int_ge(i, 0);
    ck_assert_int_eq(sp_conf_pool_edit_server(p, (size_t)i, NULL, "5", NULL, "--weight", err,
                                              sizeof err), 0);
    i = sp_conf_find_server(p, "127.0.0.1:7003");
    ck_assert_int_eq(sp_conf_pool_edit_server(p, (size_t)i, NULL, NULL, "a", "--rename", err,
                                              sizeof err), 0);
    /* An unnamed server moved to a new address gets the new derived name. */
    i = sp_conf_find_server(p, "127.0.0.1:27002");
    ck_assert_int_eq(sp_conf_pool_edit_server(p, (size_t)i, "127.0.0.1:1", NULL, NULL,
                                              "--failover", err, sizeof err), 0);
    ck_assert_int_eq(sp_conf_pool_set_key(p, "hash", "md5", NULL, NULL, "--hash", err,
                                          sizeof err), 0);
    struct sp_conf *want = load("   - 127.0.0.1:1:1\n   - 127.0.0.1:7003:2 a\n"
                                "   - 127.0.0.1:27001:5\n");
    free(want->pools[0].hash);
    want->pools[0].hash = strdup("md5");
    assert_same_servers(p, &want->pools[0]);
    /* The named server keeps its name when it moves. */
    i = sp_conf_find_server(p, "a");
    ck_assert_int_eq(sp_conf_pool_edit_server(p, (size_t)i, "10.1.1.1:9", NULL, NULL,
                                              "--failover", err, sizeof err), 0);
    ck_assert_int_ge(sp_conf_find_server(p, "a"), 0);
    sp_conf_pool_remove_server(p, (size_t)sp_conf_find_server(p, "a"));
    ck_assert_uint_eq(p->nservers, 2);
    ck_assert_int_lt(sp_conf_pool_remove_server(p, 7), 0);
    sp_conf_pool_free(p);
    sp_conf_free(want);
    sp_conf_free(c);
}
END_TEST

/* Each refused edit: -1, a message naming the edit and the problem, the pool unchanged. */
START_TEST(refused_edits_change_nothing)
{
    static const char *const known_hashes[] = { "md5", "fnv1a_64", NULL };
    struct sp_conf *c = load(THREE);
    struct sp_conf_pool *p = sp_conf_pool_dup(&c->pools[0]);
    char err[512];
    ck_assert_int_lt(sp_conf_pool_add_server(p, "127.0.0.1:9:x", "--add", err, sizeof err), 0);
    ck_assert_msg(strstr(err, "--add:1:13: pool 'alpha': key 'servers': invalid weight 'x'"), "%s",
                  err);
    ck_assert_int_lt(sp_conf_pool_add_server(p, "127.0.0.1:27001:4", "--add", err, sizeof err),
                     0);
    ck_assert_msg(strstr(err, "--add: pool 'alpha': key 'servers': duplicate server name "
                              "'127.0.0.1:27001'"), "%s", err);
    int i = sp_conf_find_server(p, "127.0.0.1:7003");
    ck_assert_int_lt(sp_conf_pool_edit_server(p, (size_t)i, NULL, NULL, "127.0.0.1:27001",
                                              "--rename", err, sizeof err), 0);
    ck_assert_msg(strstr(err, "--rename: pool 'alpha'"), "%s", err);
    ck_assert_int_lt(sp_conf_pool_edit_server(p, (size_t)i, NULL, "0", NULL, "--weight", err,
                                              sizeof err), 0);
    ck_assert_msg(strstr(err, "--weight: pool 'alpha': key 'servers': invalid weight '0'"), "%s",
                  err);
    ck_assert_int_lt(sp_conf_pool_set_key(p, "hash", "nope", known_hashes, NULL, "--hash", err,
                                          sizeof err), 0);
    ck_assert_msg(strstr(err, "--hash: pool 'alpha': key 'hash': unknown hash 'nope' (expected "
                              "one of: md5, fnv1a_64)"), "%s", err);
    ck_assert_int_lt(sp_conf_pool_set_key(p, "timeout", "5", NULL, NULL, "--set", err,
                                          sizeof err), 0);
    assert_same_servers(p, &c->pools[0]);
    sp_conf_pool_free(p);
    sp_conf_free(c);
}
END_TEST

static const char *const SENTINEL_POOL =
    "s:\n  listen: 127.0.0.1:22121\n  redis: true\n  sentinels:\n   - 127.0.0.1:26379\n"
    "   - 127.0.0.1:26380\n  sentinel_auth: pw\n  sentinel_user: u\n  sentinel_masters:\n"
    "    127.0.0.1:4500: g1\n  servers:\n   - 127.0.0.1:4500:1 127.0.0.1:4500\n"
    "   - 127.0.0.1:4501:1 g2\n";

static const char *master_of(const struct sp_conf_pool *p, const char *server)
{
    int i = sp_conf_find_server(p, server);
    ck_assert_msg(i >= 0, "no server %s", server);
    return p->servers[i].master;
}

/* Edits of a Sentinel pool keep every server on its master and the pool's Sentinel rules. */
START_TEST(sentinel_pool_edits)
{
    char err[512] = "";
    struct sp_conf *c = NULL;
    ck_assert_msg(sp_conf_load_string(SENTINEL_POOL, strlen(SENTINEL_POOL), "t.yml", NULL, NULL,
                                      &c, err, sizeof err) == 0, "%s", err);
    struct sp_conf_pool *p = sp_conf_pool_dup(&c->pools[0]);
    sp_conf_free(c);  /* the copy owns everything (ASan: no use after free below) */
    ck_assert_uint_eq(p->nsentinels, 2);
    ck_assert_str_eq(p->sentinels[1].addr.text, "127.0.0.1:26380");
    ck_assert_str_eq(p->sentinel_auth, "pw");
    ck_assert_str_eq(p->sentinel_user, "u");
    ck_assert_str_eq(master_of(p, "127.0.0.1:4500"), "g1");
    ck_assert_str_eq(master_of(p, "g2"), "g2");

    /* a failover moves the address: same name, same master */
    int i = sp_conf_find_server(p, "127.0.0.1:4500");
    ck_assert_int_eq(sp_conf_pool_edit_server(p, (size_t)i, "10.0.0.9:4600", NULL, NULL,
                                              "--failover", err, sizeof err), 0);
    i = sp_conf_find_server(p, "127.0.0.1:4500");
    ck_assert_str_eq(p->servers[i].addr.text, "10.0.0.9:4600");
    ck_assert_str_eq(p->servers[i].master, "g1");
    /* a rename takes the sentinel_masters entry along */
    ck_assert_int_eq(sp_conf_pool_edit_server(p, (size_t)i, NULL, NULL, "x", "--rename", err,
                                              sizeof err), 0);
    ck_assert_str_eq(master_of(p, "x"), "g1");
    ck_assert_str_eq(p->sentinel_masters[0].server, "x");
    /* an unnamed server, or a second server on one master, is refused as the loader does */
    ck_assert_int_lt(sp_conf_pool_add_server(p, "127.0.0.1:4502:1", "--add", err, sizeof err), 0);
    ck_assert_msg(strstr(err, "--add: pool 's': key 'servers': server '127.0.0.1:4502' has no "
                              "name"), "%s", err);
    ck_assert_int_lt(sp_conf_pool_add_server(p, "127.0.0.1:4502:1 g1", "--add", err, sizeof err),
                     0);
    ck_assert_msg(strstr(err, "Sentinel master 'g1' is already followed by server 'x'"), "%s",
                  err);
    ck_assert_uint_eq(p->nservers, 2);
    ck_assert_int_eq(sp_conf_pool_add_server(p, "127.0.0.1:4502:1 g3", "--add", err, sizeof err),
                     0);
    ck_assert_str_eq(master_of(p, "g3"), "g3");
    /* removing a mapped server drops its entry: later edits still pass the loader's checks */
    ck_assert_int_eq(sp_conf_pool_remove_server(p, (size_t)sp_conf_find_server(p, "x")), 0);
    ck_assert_uint_eq(p->nsentinel_masters, 0);
    ck_assert_int_eq(sp_conf_pool_add_server(p, "127.0.0.1:4500:1 g1", "--add", err, sizeof err),
                     0);
    ck_assert_str_eq(master_of(p, "g1"), "g1");
    sp_conf_pool_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_edit");
    TCase *tc = tcase_create("edit");
    tcase_add_test(tc, add_sorts_like_the_loader);
    tcase_add_test(tc, edit_weight_name_address);
    tcase_add_test(tc, refused_edits_change_nothing);
    tcase_add_test(tc, sentinel_pool_edits);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
