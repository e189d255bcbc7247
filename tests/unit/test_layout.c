/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layout ids, plan ids, connection names and the migration note (lib/layout.c, layout_note.c):
 * the ids against FNV-1a computed here over the documented bytes and against pinned values (the
 * proxies and the migrator of different builds must agree), parse(name(x)) == x, sanitising,
 * lengths, and every way a name can fail to be ours.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "layout.h"
#include "testutil.h"

static struct sp_conf *load(const char *rel)
{
    char *path = tu_data_path(rel);
    struct sp_conf *c = NULL;
    char err[1024];
    ck_assert_msg(sp_conf_load(path, NULL, NULL, &c, err, sizeof err) == 0, "%s", err);
    free(path);
    return c;
}

static struct sp_conf *load_text(const char *text)
{
    struct sp_conf *c = NULL;
    char err[1024];
    ck_assert_msg(sp_conf_load_string(text, strlen(text), "t.yml", NULL, NULL, &c, err,
                                      sizeof err) == 0, "%s", err);
    return c;
}

/* FNV-1a 64 of b[0..n), written out independently of lib/layout.c. */
static uint64_t fnv(const char *b, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)b[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* The documented bytes of good_migrate.yml's pool alpha, both layouts, give its ids. */
START_TEST(layout_id_is_fnv_of_the_layout)
{
    struct sp_conf *c = load("conf/good_migrate.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    static const char to[] = "alpha\0fnv1a_64\0ketama\0{}\0"
                             "a\0" "127.0.0.1:6379\0" "1\0\x1e"
                             "b\0" "127.0.0.1:6380\0" "1\0\x1e"
                             "c\0" "127.0.0.1:6381\0" "1\0\x1e";
    static const char from[] = "alpha\0fnv1a_64\0modula\0{}\0"
                               "a\0" "127.0.0.1:6379\0" "1\0\x1e"
                               "b\0" "127.0.0.1:6380\0" "1\0\x1e";
    ck_assert_uint_eq(sp_conf_layout_id(p), fnv(to, sizeof(to) - 1));
    ck_assert_uint_eq(sp_conf_layout_id(p->migrate_from), fnv(from, sizeof(from) - 1));
    /* pinned: a change here breaks mixed-version fleets (lib/layout.c) */
    ck_assert_uint_eq(sp_conf_layout_id(p), UINT64_C(7922526920784940043));
    ck_assert_uint_eq(sp_conf_plan_id(p), UINT64_C(17338605345551387098));
    sp_conf_free(c);
}
END_TEST

/* Server order in the file does not matter (nutcracker sorts); every placement input does. */
START_TEST(layout_id_follows_placement_inputs)
{
    static const char *const variants[] = {
        "p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1 a\n"
        "   - 127.0.0.1:3:1 b\n",
        "p:\n  listen: 127.0.0.1:1\n  redis: true\n  hash: md5\n  servers:\n"
        "   - 127.0.0.1:2:1 a\n   - 127.0.0.1:3:1 b\n",
        "p:\n  listen: 127.0.0.1:1\n  redis: true\n  distribution: modula\n  servers:\n"
        "   - 127.0.0.1:2:1 a\n   - 127.0.0.1:3:1 b\n",
        "p:\n  listen: 127.0.0.1:1\n  redis: true\n  hash_tag: \"{}\"\n  servers:\n"
        "   - 127.0.0.1:2:1 a\n   - 127.0.0.1:3:1 b\n",
        "p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:2 a\n"
        "   - 127.0.0.1:3:1 b\n",
        "p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:4:1 a\n"
        "   - 127.0.0.1:3:1 b\n",
        "p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1 ab\n"
        "   - 127.0.0.1:3:1 b\n",
        "q:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1 a\n"
        "   - 127.0.0.1:3:1 b\n",
    };
    uint64_t ids[8];
    for (size_t i = 0; i < 8; i++) {
        struct sp_conf *c = load_text(variants[i]);
        ids[i] = sp_conf_layout_id(&c->pools[0]);
        ck_assert_uint_eq(sp_conf_plan_id(&c->pools[0]), ids[i]);   /* not migrating */
        sp_conf_free(c);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(ids[i] != ids[j], "variants %zu and %zu share an id", i, j);
    }
    struct sp_conf *c = load_text("p:\n  listen: 127.0.0.1:9\n  redis: true\n  timeout: 5\n"
                                  "  servers:\n   - 127.0.0.1:3:1 b\n   - 127.0.0.1:2:1 a\n");
    ck_assert_uint_eq(sp_conf_layout_id(&c->pools[0]), ids[0]);   /* not placement inputs */
    sp_conf_free(c);
}
END_TEST

/* A plan names the direction: A -> B differs from B -> A and from both layouts. */
START_TEST(plan_id_has_a_direction)
{
    struct sp_conf *ab = load_text("p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n"
                                   "   - 127.0.0.1:2:1 a\n  migrate_from:\n"
                                   "   - 127.0.0.1:3:1 b\n");
    struct sp_conf *ba = load_text("p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n"
                                   "   - 127.0.0.1:3:1 b\n  migrate_from:\n"
                                   "   - 127.0.0.1:2:1 a\n");
    const struct sp_conf_pool *p = &ab->pools[0], *q = &ba->pools[0];
    ck_assert_uint_eq(sp_conf_layout_id(p), sp_conf_layout_id(q->migrate_from));
    ck_assert_uint_eq(sp_conf_layout_id(q), sp_conf_layout_id(p->migrate_from));
    ck_assert_uint_ne(sp_conf_plan_id(p), sp_conf_plan_id(q));
    ck_assert_uint_ne(sp_conf_plan_id(p), sp_conf_layout_id(p));
    ck_assert_uint_ne(sp_conf_plan_id(p), sp_conf_layout_id(p->migrate_from));
    sp_conf_free(ab);
    sp_conf_free(ba);
}
END_TEST

START_TEST(conn_name_round_trip)
{
    struct sp_conf *c = load("conf/good_migrate.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    char name[SP_CONN_NAME_MAX], want[128];
    struct sp_conn_name cn;
    static const char *const states[] = { SP_CONN_STEADY, SP_CONN_WAIT, SP_CONN_READY,
                                          SP_CONN_ARMED };

    snprintf(want, sizeof want, "shardproxy:alpha:%016" PRIx64 ":armed", sp_conf_plan_id(p));
    ck_assert_int_eq(sp_conf_conn_name(p, SP_CONN_ARMED, name, sizeof name), 0);
    ck_assert_str_eq(name, want);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(sp_conf_conn_name(p, states[i], name, sizeof name), 0);
        memset(&cn, 0xa5, sizeof cn);
        ck_assert_int_eq(sp_conf_conn_name_parse(name, strlen(name), &cn), 0);
        ck_assert_str_eq(cn.pool, "alpha");
        ck_assert_uint_eq(cn.plan_id, sp_conf_plan_id(p));
        ck_assert_str_eq(cn.state, states[i]);
        ck_assert(sp_conf_conn_name_is_pool(&cn, p));
        ck_assert(!sp_conf_conn_name_is_pool(&cn, &c->pools[1]));
    }
    /* exactly the room it needs, and one byte less */
    ck_assert_int_eq(sp_conf_conn_name(p, "ready", name, strlen(want)), -1);
    ck_assert_int_eq(sp_conf_conn_name(p, "armed", name, strlen(want) + 1), 0);
    sp_conf_free(c);
}
END_TEST

/* Pool names are sanitised and cut; the longest name fits SP_CONN_NAME_MAX. */
START_TEST(conn_name_sanitised_and_cut)
{
    char text[512], long_name[101], name[SP_CONN_NAME_MAX];
    struct sp_conn_name cn;

    struct sp_conf *c = load_text("\"a b:c/\\xe9{x}.y-z_0\":\n  listen: 127.0.0.1:1\n"
                                  "  redis: true\n  servers:\n   - 127.0.0.1:2:1\n");
    ck_assert_int_eq(sp_conf_conn_name(&c->pools[0], "wait", name, sizeof name), 0);
    ck_assert_int_eq(sp_conf_conn_name_parse(name, strlen(name), &cn), 0);
    /* \xe9 is two UTF-8 bytes: two '_' */
    ck_assert_str_eq(cn.pool, "a_b_c____x_.y-z_0");
    ck_assert(sp_conf_conn_name_is_pool(&cn, &c->pools[0]));
    sp_conf_free(c);

    memset(long_name, 'p', 100);
    long_name[100] = '\0';
    snprintf(text, sizeof text, "%s:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n"
             "   - 127.0.0.1:2:1\n", long_name);
    c = load_text(text);
    char state[SP_CONN_NAME_STATE_MAX + 2];
    memset(state, 's', SP_CONN_NAME_STATE_MAX);
    state[SP_CONN_NAME_STATE_MAX] = '\0';
    ck_assert_int_eq(sp_conf_conn_name(&c->pools[0], state, name, sizeof name), 0);
    ck_assert_uint_eq(strlen(name), SP_CONN_NAME_MAX - 1);
    ck_assert_int_eq(sp_conf_conn_name_parse(name, strlen(name), &cn), 0);
    ck_assert_uint_eq(strlen(cn.pool), SP_CONN_NAME_POOL_MAX);
    ck_assert_str_eq(cn.state, state);
    ck_assert(sp_conf_conn_name_is_pool(&cn, &c->pools[0]));
    /* states: 1..32 bytes of [a-z0-9_-] */
    state[SP_CONN_NAME_STATE_MAX] = 's';
    state[SP_CONN_NAME_STATE_MAX + 1] = '\0';
    ck_assert_int_eq(sp_conf_conn_name(&c->pools[0], state, name, sizeof name), -1);
    ck_assert_int_eq(sp_conf_conn_name(&c->pools[0], "", name, sizeof name), -1);
    ck_assert_int_eq(sp_conf_conn_name(&c->pools[0], "Armed", name, sizeof name), -1);
    ck_assert_int_eq(sp_conf_conn_name(&c->pools[0], "a:b", name, sizeof name), -1);
    ck_assert_int_eq(sp_conf_conn_name(&c->pools[0], "a b", name, sizeof name), -1);
    sp_conf_free(c);
}
END_TEST

/* Names that are not ours, or not quite: refused, whatever follows or precedes. */
START_TEST(conn_name_parse_refuses)
{
    static const char *const bad[] = {
        "",
        "shardproxy",
        "shardproxy:",
        "Shardproxy:p:0123456789abcdef:armed",
        "xshardproxy:p:0123456789abcdef:armed",
        "shardproxy::0123456789abcdef:armed",
        "shardproxy:p:0123456789abcdef:",
        "shardproxy:p:0123456789abcdef",
        "shardproxy:p:0123456789ABCDEF:armed",
        "shardproxy:p:0123456789abcde:armed",
        "shardproxy:p:0123456789abcdef0:armed",
        "shardproxy:p:0123456789abcdeg:armed",
        "shardproxy:p q:0123456789abcdef:armed",
        "shardproxy:p:0123456789abcdef:arm ed",
        "shardproxy:p:0123456789abcdef:armed:x",
        "shardproxy:p:x:0123456789abcdef:armed",
        "shardproxy:pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
        "p:0123456789abcdef:armed",
        "shardproxy:p:0123456789abcdef:sssssssssssssssssssssssssssssssss",
    };
    struct sp_conn_name cn;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sp_conf_conn_name_parse(bad[i], strlen(bad[i]), &cn) == -1, "accepted %s",
                      bad[i]);
    /* the length is what counts, not a NUL: a prefix of a good name is not a name */
    static const char good[] = "shardproxy:p:0123456789abcdef:armed";
    ck_assert_int_eq(sp_conf_conn_name_parse(good, sizeof good - 1, &cn), 0);
    ck_assert_uint_eq(cn.plan_id, UINT64_C(0x0123456789abcdef));
    ck_assert_int_eq(sp_conf_conn_name_parse(good, sizeof good - 4, &cn), 0);
    ck_assert_str_eq(cn.state, "ar");
    ck_assert_int_eq(sp_conf_conn_name_parse(good, 29, &cn), -1);
}
END_TEST

START_TEST(migration_note)
{
    struct sp_registry *reg = tu_registry();
    struct sp_conf *c = load("conf/good_migrate.yml");
    char note[512], want[512];

    ck_assert_int_eq(sp_conf_migration_note(&c->pools[0], reg, note, sizeof note), 0);
    /* modula over {a, b} -> ketama over {a, b, c}: measured in test_shares; here the format */
    snprintf(want, sizeof want, "pool 'alpha': migrating from 2 servers (fnv1a_64/modula) to 3 "
             "servers (fnv1a_64/ketama), plan %016" PRIx64 ": ", sp_conf_plan_id(&c->pools[0]));
    ck_assert_msg(strncmp(note, want, strlen(want)) == 0, "%s", note);
    ck_assert_msg(strstr(note, "% of the hash space moves (exact)") != NULL, "%s", note);
    ck_assert_int_eq(sp_conf_migration_note(&c->pools[1], reg, note, sizeof note), 0);
    ck_assert_msg(strstr(note, "from 2 servers (fnv1a_64/ketama) to 1 servers") != NULL, "%s",
                  note);
    /* md5 -> fnv1a_64: estimated */
    ck_assert_int_eq(sp_conf_migration_note(&c->pools[2], reg, note, sizeof note), 0);
    ck_assert_msg(strstr(note, "(estimated: the hash or hash_tag changes)") != NULL, "%s", note);
    sp_conf_free(c);

    c = load_text("p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\n");
    ck_assert_int_eq(sp_conf_migration_note(&c->pools[0], reg, note, sizeof note), 1);
    ck_assert_str_eq(note, "");
    sp_conf_free(c);
    c = load_text("p:\n  listen: 127.0.0.1:1\n  redis: true\n  servers:\n   - 127.0.0.1:2:1\n"
                  "  migrate_from:\n    distribution: nosuch\n    servers:\n"
                  "     - 127.0.0.1:3:1\n");
    ck_assert_int_eq(sp_conf_migration_note(&c->pools[0], reg, note, sizeof note), -1);
    ck_assert_msg(strstr(note, "pool 'p': migrate_from: ") == note && strstr(note, "nosuch"),
                  "%s", note);
    sp_conf_free(c);
    sp_registry_free(reg);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("ids");
    tcase_add_test(tc, layout_id_is_fnv_of_the_layout);
    tcase_add_test(tc, layout_id_follows_placement_inputs);
    tcase_add_test(tc, plan_id_has_a_direction);
    tcase_add_test(tc, conn_name_round_trip);
    tcase_add_test(tc, conn_name_sanitised_and_cut);
    tcase_add_test(tc, conn_name_parse_refuses);
    tcase_add_test(tc, migration_note);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(layout_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
