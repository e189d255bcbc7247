/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command table: well-formed (sorted, unique, consistent), case-insensitive lookup, arity and
 * key positions per family, routing of the split and local commands, refusals with reasons, and
 * parity with the commands nutcracker 0.5.0 forwards.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "redis/commands.h"

/*
 * Observed on /usr/sbin/nutcracker 0.5.0 (Debian 0.5.0+dfsg-2) in front of redis-server 7.0:
 * every Redis 7 command sent with 0..6 arguments; these got a reply instead of a closed
 * connection (PING and AUTH are answered by nutcracker itself; QUIT closes the connection
 * without a reply, so it does not appear).
 */
static const char *const nutcracker_forwards[] = {
    "APPEND", "AUTH", "BITCOUNT", "BITFIELD", "BITPOS", "COMMAND", "COPY", "DECR", "DECRBY",
    "DEL", "DUMP", "EVAL", "EVALSHA", "EXISTS", "EXPIRE", "EXPIREAT", "GEOADD", "GEODIST",
    "GEOHASH", "GEOPOS", "GEORADIUS", "GEORADIUSBYMEMBER", "GEOSEARCH", "GEOSEARCHSTORE", "GET",
    "GETBIT", "GETDEL", "GETEX", "GETRANGE", "GETSET", "HDEL", "HEXISTS", "HGET", "HGETALL",
    "HINCRBY", "HINCRBYFLOAT", "HKEYS", "HLEN", "HMGET", "HMSET", "HRANDFIELD", "HSCAN", "HSET",
    "HSETNX", "HSTRLEN", "HVALS", "INCR", "INCRBY", "INCRBYFLOAT", "LINDEX", "LINSERT", "LLEN",
    "LMOVE", "LOLWUT", "LPOP", "LPOS", "LPUSH", "LPUSHX", "LRANGE", "LREM", "LSET", "LTRIM",
    "MGET", "MSET", "PERSIST", "PEXPIRE", "PEXPIREAT", "PFADD", "PFCOUNT", "PFMERGE", "PING",
    "PSETEX", "PTTL", "RESTORE", "RPOP", "RPOPLPUSH", "RPUSH", "RPUSHX", "SADD", "SCARD", "SDIFF",
    "SDIFFSTORE", "SET", "SETBIT", "SETEX", "SETNX", "SETRANGE", "SINTER", "SINTERSTORE",
    "SISMEMBER", "SMEMBERS", "SMISMEMBER", "SMOVE", "SORT", "SPOP", "SRANDMEMBER", "SREM",
    "SSCAN", "STRLEN", "SUNION", "SUNIONSTORE", "TOUCH", "TTL", "TYPE", "UNLINK", "ZADD", "ZCARD",
    "ZCOUNT", "ZDIFF", "ZDIFFSTORE", "ZINCRBY", "ZINTER", "ZINTERSTORE", "ZLEXCOUNT", "ZMSCORE",
    "ZPOPMAX", "ZPOPMIN", "ZRANDMEMBER", "ZRANGE", "ZRANGEBYLEX", "ZRANGEBYSCORE", "ZRANGESTORE",
    "ZRANK", "ZREM", "ZREMRANGEBYLEX", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREVRANGE",
    "ZREVRANGEBYLEX", "ZREVRANGEBYSCORE", "ZREVRANK", "ZSCAN", "ZSCORE", "ZUNION", "ZUNIONSTORE",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_table_well_formed)
{
    size_t n = sp_command_count();

    ck_assert_uint_eq(n, SP_CMD_COUNT_);
    ck_assert_uint_gt(n, 200);
    for (size_t i = 0; i < n; i++) {
        const struct sp_command *c = sp_command_get((enum sp_cmd_id)i);

        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(c->id, i);
        ck_assert_uint_eq(c->name_len, strlen(c->name));
        ck_assert_uint_le(c->name_len, SP_COMMAND_NAME_MAX);
        for (const char *p = c->name; *p; p++)
            ck_assert_msg((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_',
                          "%s: not an upper-case name", c->name);
        if (i > 0)
            ck_assert_msg(strcmp(sp_command_get((enum sp_cmd_id)(i - 1))->name, c->name) < 0,
                          "%s is out of order (the lookup is a binary search)", c->name);
        ck_assert_msg((c->route == SP_ROUTE_REJECT) == (c->reason != NULL),
                      "%s: a reason iff refused", c->name);
        ck_assert_msg(c->arity != 0, "%s: arity 0", c->name);
        if (c->route == SP_ROUTE_KEY || c->route == SP_ROUTE_MGET || c->route == SP_ROUTE_SUM ||
            c->route == SP_ROUTE_MSET)
            ck_assert_msg(c->first_key >= 1 && c->key_step >= 1, "%s: routed by a key it lacks",
                          c->name);
        if (c->route == SP_ROUTE_LOCAL || c->route == SP_ROUTE_KEYLESS)
            ck_assert_msg(c->first_key == 0, "%s: keyless with a key", c->name);
    }
    ck_assert_ptr_null(sp_command_get(SP_CMD_COUNT_));
}
END_TEST

START_TEST(test_lookup_case_insensitive)
{
    char lower[SP_COMMAND_NAME_MAX + 1], mixed[SP_COMMAND_NAME_MAX + 1];

    for (size_t i = 0; i < sp_command_count(); i++) {
        const struct sp_command *c = sp_command_get((enum sp_cmd_id)i);

        for (size_t k = 0; k <= c->name_len; k++) {
            char ch = c->name[k];

            lower[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            mixed[k] = (k % 2) ? lower[k] : ch;
        }
        ck_assert_ptr_eq(sp_command_lookup(c->name, c->name_len), c);
        ck_assert_ptr_eq(sp_command_lookup(lower, c->name_len), c);
        ck_assert_ptr_eq(sp_command_lookup(mixed, c->name_len), c);
        /* prefixes and extensions are other (usually unknown) names, never this entry */
        ck_assert_ptr_ne(sp_command_lookup(c->name, c->name_len - 1), c);
    }
}
END_TEST

START_TEST(test_lookup_unknown)
{
    static const char *const unknown[] = { "GETX", "GE", "G", "XGET", "HELLOWORLD", "ZZZZ",
                                           "AAAA", "GET ", " GET", "get\r\n", "MGET_" };
    char longname[200];

    for (size_t i = 0; i < N_ELEMS(unknown); i++)
        ck_assert_msg(sp_command_lookup(unknown[i], strlen(unknown[i])) == NULL, "%s", unknown[i]);
    ck_assert_ptr_null(sp_command_lookup("", 0));
    ck_assert_ptr_null(sp_command_lookup("GET\0", 4));          /* NUL is a byte like any */
    ck_assert_ptr_null(sp_command_lookup("G\0T", 3));
    ck_assert_ptr_null(sp_command_lookup("\xc7\x45T", 3));      /* high bytes are not letters */
    ck_assert_ptr_null(sp_command_lookup("g\xc5t", 3));
    memset(longname, 'A', sizeof(longname));
    ck_assert_ptr_null(sp_command_lookup(longname, sizeof(longname)));
    ck_assert_ptr_null(sp_command_lookup("GEORADIUSBYMEMBER_RO_X", 22));
    ck_assert_ptr_nonnull(sp_command_lookup("GeoRadiusByMember_RO", 20));
}
END_TEST

/* name, arity, first, last, step, route: a sample per family (values from Redis 7 COMMAND). */
static const struct {
    const char *name;
    int arity, first, last, step;
    enum sp_cmd_route route;
} samples[] = {
    { "get", 2, 1, 1, 1, SP_ROUTE_KEY },         { "SET", -3, 1, 1, 1, SP_ROUTE_KEY },
    { "incrbyfloat", 3, 1, 1, 1, SP_ROUTE_KEY }, { "GETRANGE", 4, 1, 1, 1, SP_ROUTE_KEY },
    { "bitcount", -2, 1, 1, 1, SP_ROUTE_KEY },   { "expire", -3, 1, 1, 1, SP_ROUTE_KEY },
    { "TTL", 2, 1, 1, 1, SP_ROUTE_KEY },         { "sort", -2, 1, 1, 1, SP_ROUTE_KEY },
    { "copy", -3, 1, 2, 1, SP_ROUTE_KEY },       { "DUMP", 2, 1, 1, 1, SP_ROUTE_KEY },
    { "RESTORE", -4, 1, 1, 1, SP_ROUTE_KEY },    { "hset", -4, 1, 1, 1, SP_ROUTE_KEY },
    { "HGETALL", 2, 1, 1, 1, SP_ROUTE_KEY },     { "hscan", -3, 1, 1, 1, SP_ROUTE_KEY },
    { "lpush", -3, 1, 1, 1, SP_ROUTE_KEY },      { "LINSERT", 5, 1, 1, 1, SP_ROUTE_KEY },
    { "rpoplpush", 3, 1, 2, 1, SP_ROUTE_KEY },   { "lmove", 5, 1, 2, 1, SP_ROUTE_KEY },
    { "sadd", -3, 1, 1, 1, SP_ROUTE_KEY },       { "SINTERSTORE", -3, 1, -1, 1, SP_ROUTE_KEY },
    { "smove", 4, 1, 2, 1, SP_ROUTE_KEY },       { "SUNION", -2, 1, -1, 1, SP_ROUTE_KEY },
    { "zadd", -4, 1, 1, 1, SP_ROUTE_KEY },       { "ZRANGEBYSCORE", -4, 1, 1, 1, SP_ROUTE_KEY },
    { "zunionstore", -4, 1, 1, 1, SP_ROUTE_KEY },{ "ZINTER", -3, 1, 1, 1, SP_ROUTE_KEY },
    { "zscan", -3, 1, 1, 1, SP_ROUTE_KEY },      { "ZPOPMIN", -2, 1, 1, 1, SP_ROUTE_KEY },
    { "pfadd", -2, 1, 1, 1, SP_ROUTE_KEY },      { "PFCOUNT", -2, 1, -1, 1, SP_ROUTE_KEY },
    { "pfmerge", -2, 1, -1, 1, SP_ROUTE_KEY },   { "geoadd", -5, 1, 1, 1, SP_ROUTE_KEY },
    { "GEORADIUS", -6, 1, 1, 1, SP_ROUTE_KEY },  { "geosearchstore", -8, 1, 2, 1, SP_ROUTE_KEY },
    { "GEOPOS", -2, 1, 1, 1, SP_ROUTE_KEY },     { "mget", -2, 1, -1, 1, SP_ROUTE_MGET },
    { "DEL", -2, 1, -1, 1, SP_ROUTE_SUM },       { "unlink", -2, 1, -1, 1, SP_ROUTE_SUM },
    { "EXISTS", -2, 1, -1, 1, SP_ROUTE_SUM },    { "touch", -2, 1, -1, 1, SP_ROUTE_SUM },
    { "MSET", -3, 1, -1, 2, SP_ROUTE_MSET },     { "eval", -3, 3, 3, 1, SP_ROUTE_EVAL },
    { "EVALSHA", -3, 3, 3, 1, SP_ROUTE_EVAL },   { "ping", -1, 0, 0, 0, SP_ROUTE_LOCAL },
    { "QUIT", -1, 0, 0, 0, SP_ROUTE_LOCAL },     { "auth", -2, 0, 0, 0, SP_ROUTE_LOCAL },
    { "select", 2, 0, 0, 0, SP_ROUTE_LOCAL },    { "ECHO", 2, 0, 0, 0, SP_ROUTE_LOCAL },
    { "command", -1, 0, 0, 0, SP_ROUTE_KEYLESS },{ "LOLWUT", -1, 0, 0, 0, SP_ROUTE_KEYLESS },
    { "multi", 1, 0, 0, 0, SP_ROUTE_REJECT },    { "WATCH", -2, 1, -1, 1, SP_ROUTE_REJECT },
    { "subscribe", -2, 0, 0, 0, SP_ROUTE_REJECT },{ "BLPOP", -3, 1, -2, 1, SP_ROUTE_REJECT },
    { "keys", 2, 0, 0, 0, SP_ROUTE_REJECT },     { "SCAN", -2, 0, 0, 0, SP_ROUTE_REJECT },
    { "flushall", -1, 0, 0, 0, SP_ROUTE_REJECT },{ "CONFIG", -2, 0, 0, 0, SP_ROUTE_REJECT },
    { "rename", 3, 1, 2, 1, SP_ROUTE_REJECT },   { "MSETNX", -3, 1, -1, 2, SP_ROUTE_REJECT },
    { "xadd", -5, 1, 1, 1, SP_ROUTE_REJECT },    { "SCRIPT", -2, 0, 0, 0, SP_ROUTE_REJECT },
};

START_TEST(test_samples)
{
    const struct sp_command *c = sp_command_lookup(samples[_i].name, strlen(samples[_i].name));

    ck_assert_msg(c != NULL, "%s missing", samples[_i].name);
    ck_assert_msg(c->arity == samples[_i].arity && c->first_key == samples[_i].first &&
                  c->last_key == samples[_i].last && c->key_step == samples[_i].step &&
                  c->route == samples[_i].route,
                  "%s: arity %d keys %d/%d/%d route %s", c->name, c->arity, c->first_key,
                  c->last_key, c->key_step, sp_command_route_name(c->route));
}
END_TEST

START_TEST(test_reasons)
{
    ck_assert_str_eq(sp_command_get(SP_CMD_MULTI)->reason, SP_WHY_TX);
    ck_assert_str_eq(sp_command_get(SP_CMD_EXEC)->reason, SP_WHY_TX);
    ck_assert_str_eq(sp_command_get(SP_CMD_PSUBSCRIBE)->reason, SP_WHY_PUBSUB);
    ck_assert_str_eq(sp_command_get(SP_CMD_BRPOPLPUSH)->reason, SP_WHY_BLOCKING);
    ck_assert_str_eq(sp_command_get(SP_CMD_KEYS)->reason, SP_WHY_KEYSPACE);
    ck_assert_str_eq(sp_command_get(SP_CMD_INFO)->reason, SP_WHY_ADMIN);
    ck_assert_str_eq(sp_command_get(SP_CMD_HELLO)->reason, SP_WHY_CONN);
    ck_assert_str_eq(sp_command_get(SP_CMD_BITOP)->reason, SP_WHY_CROSSKEY);
    ck_assert_str_eq(sp_command_get(SP_CMD_FCALL)->reason, SP_WHY_SCRIPT);
    ck_assert_str_eq(sp_command_get(SP_CMD_XREAD)->reason, SP_WHY_STREAM);
    ck_assert_ptr_null(sp_command_get(SP_CMD_GET)->reason);
}
END_TEST

START_TEST(test_arity)
{
    const struct sp_command *get = sp_command_get(SP_CMD_GET), *set = sp_command_get(SP_CMD_SET);
    const struct sp_command *ping = sp_command_get(SP_CMD_PING);

    ck_assert_int_eq(sp_command_arity_ok(get, 2), 1);
    ck_assert_int_eq(sp_command_arity_ok(get, 1), 0);
    ck_assert_int_eq(sp_command_arity_ok(get, 3), 0);
    ck_assert_int_eq(sp_command_arity_ok(set, 2), 0);
    ck_assert_int_eq(sp_command_arity_ok(set, 3), 1);
    ck_assert_int_eq(sp_command_arity_ok(set, 9), 1);
    ck_assert_int_eq(sp_command_arity_ok(ping, 1), 1);
    ck_assert_int_eq(sp_command_arity_ok(ping, 2), 1);
    ck_assert_int_eq(sp_command_arity_ok(ping, 0), 0);
}
END_TEST

/* expected: nkeys (-1 = refused), first, last, step */
static const struct {
    enum sp_cmd_id id;
    size_t argc;
    long long numkeys;
    long nkeys;
    size_t first, last, step;
} key_cases[] = {
    { SP_CMD_GET, 2, 0, 1, 1, 1, 1 },         { SP_CMD_GET, 3, 0, -1, 0, 0, 0 },
    { SP_CMD_GET, 1, 0, -1, 0, 0, 0 },        { SP_CMD_SET, 5, 0, 1, 1, 1, 1 },
    { SP_CMD_MGET, 2, 0, 1, 1, 1, 1 },        { SP_CMD_MGET, 4, 0, 3, 1, 3, 1 },
    { SP_CMD_MGET, 1, 0, -1, 0, 0, 0 },       { SP_CMD_DEL, 6, 0, 5, 1, 5, 1 },
    { SP_CMD_MSET, 3, 0, 1, 1, 1, 2 },        { SP_CMD_MSET, 5, 0, 2, 1, 3, 2 },
    { SP_CMD_MSET, 4, 0, -1, 0, 0, 0 },       { SP_CMD_MSET, 2, 0, -1, 0, 0, 0 },
    { SP_CMD_RPOPLPUSH, 3, 0, 2, 1, 2, 1 },   { SP_CMD_SDIFF, 4, 0, 3, 1, 3, 1 },
    { SP_CMD_EVAL, 5, 2, 2, 3, 4, 1 },        { SP_CMD_EVAL, 4, 1, 1, 3, 3, 1 },
    { SP_CMD_EVAL, 5, 3, -1, 0, 0, 0 },       { SP_CMD_EVAL, 3, 0, 0, 0, 0, 0 },
    { SP_CMD_EVAL, 5, -1, -1, 0, 0, 0 },      { SP_CMD_EVALSHA, 2, 0, -1, 0, 0, 0 },
    { SP_CMD_PING, 1, 0, 0, 0, 0, 0 },        { SP_CMD_COMMAND, 3, 0, 0, 0, 0, 0 },
};

START_TEST(test_keys)
{
    size_t first = 99, last = 99, step = 99;
    long n = sp_command_keys(sp_command_get(key_cases[_i].id), key_cases[_i].argc,
                             key_cases[_i].numkeys, &first, &last, &step);

    ck_assert_msg(n == key_cases[_i].nkeys, "case %d: %ld keys", _i, n);
    if (n < 0) {
        ck_assert_uint_eq(first, 99);   /* outputs untouched on refusal */
        ck_assert_uint_eq(last, 99);
        ck_assert_uint_eq(step, 99);
    } else {
        ck_assert_msg(first == key_cases[_i].first && last == key_cases[_i].last &&
                      step == key_cases[_i].step, "case %d: %zu..%zu/%zu", _i, first, last, step);
    }
}
END_TEST

/*
 * Everything nutcracker forwards is forwarded (never refused, never flagged as our extension),
 * and everything we accept without the SP_CMD_EXT flag is something nutcracker accepts.
 */
START_TEST(test_nutcracker_parity)
{
    char seen[SP_CMD_COUNT_];

    memset(seen, 0, sizeof(seen));
    for (size_t i = 0; i < N_ELEMS(nutcracker_forwards); i++) {
        const char *name = nutcracker_forwards[i];
        const struct sp_command *c = sp_command_lookup(name, strlen(name));

        ck_assert_msg(c != NULL, "%s: forwarded by nutcracker, unknown here", name);
        ck_assert_msg(c->route != SP_ROUTE_REJECT, "%s: forwarded by nutcracker, refused here",
                      name);
        ck_assert_msg(!(c->flags & SP_CMD_EXT), "%s: nutcracker has it, not an extension", name);
        seen[c->id] = 1;
    }
    seen[SP_CMD_QUIT] = 1;
    for (size_t i = 0; i < sp_command_count(); i++) {
        const struct sp_command *c = sp_command_get((enum sp_cmd_id)i);

        if (c->route == SP_ROUTE_REJECT || (c->flags & SP_CMD_EXT))
            continue;
        ck_assert_msg(seen[i], "%s: accepted as nutcracker-compatible, nutcracker refuses it",
                      c->name);
    }
}
END_TEST

START_TEST(test_command_is)
{
    const struct sp_command *get = sp_command_get(SP_CMD_GET);

    ck_assert_int_eq(sp_command_is(get, "GET", 3), 1);
    ck_assert_int_eq(sp_command_is(get, "gEt", 3), 1);
    ck_assert_int_eq(sp_command_is(get, "GETX", 4), 0);
    ck_assert_int_eq(sp_command_is(get, "GE", 2), 0);
    ck_assert_int_eq(sp_command_is(get, "SET", 3), 0);
    ck_assert_int_eq(sp_command_is(get, "G\xc5T", 3), 0);
}
END_TEST

START_TEST(test_route_names)
{
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_KEY), "key");
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_MGET), "mget");
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_SUM), "sum");
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_MSET), "mset");
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_EVAL), "eval");
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_KEYLESS), "keyless");
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_LOCAL), "local");
    ck_assert_str_eq(sp_command_route_name(SP_ROUTE_REJECT), "reject");
}
END_TEST

/*
 * docs/commands.md lists every command with its route ("| `NAME` | route |"), so the prose
 * cannot drift from the table.
 */
START_TEST(test_docs_match_table)
{
    const char *src = getenv("SP_SRCDIR");
    char path[4096], *doc;
    FILE *f;
    long n;

    ck_assert_msg(src != NULL, "SP_SRCDIR not set (run through make check)");
    snprintf(path, sizeof(path), "%s/docs/commands.md", src);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    doc = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(doc, 1, (size_t)n, f), (size_t)n);
    doc[n] = '\0';
    fclose(f);
    for (size_t i = 0; i < sp_command_count(); i++) {
        const struct sp_command *c = sp_command_get((enum sp_cmd_id)i);
        char row[96];

        snprintf(row, sizeof(row), "| `%s` | %s |", c->name, sp_command_route_name(c->route));
        ck_assert_msg(strstr(doc, row) != NULL, "%s: no row \"%s\"", path, row);
    }
    free(doc);
}
END_TEST

static Suite *commands_suite(void)
{
    Suite *s = suite_create("commands");
    TCase *tc = tcase_create("table");

    tcase_add_test(tc, test_table_well_formed);
    tcase_add_test(tc, test_lookup_case_insensitive);
    tcase_add_test(tc, test_lookup_unknown);
    tcase_add_loop_test(tc, test_samples, 0, (int)N_ELEMS(samples));
    tcase_add_test(tc, test_reasons);
    tcase_add_test(tc, test_arity);
    tcase_add_loop_test(tc, test_keys, 0, (int)N_ELEMS(key_cases));
    tcase_add_test(tc, test_nutcracker_parity);
    tcase_add_test(tc, test_command_is);
    tcase_add_test(tc, test_route_names);
    tcase_add_test(tc, test_docs_match_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(commands_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
