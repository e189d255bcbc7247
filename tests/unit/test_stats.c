/* SPDX-License-Identifier: Apache-2.0 */
/* Stats: field lists, JSON layout and -D text exactly as nutcracker 0.5.0 writes them. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "report/stats.h"

/* Pools in file order alpha (5 chars), beta (4): nutcracker prints beta first. */
static const char two_pools[] =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  servers:\n"
    "   - 127.0.0.1:6379:1\n"
    "   - 127.0.0.1:6380:1 bob\n"
    "beta:\n"
    "  listen: 127.0.0.1:22122\n"
    "  servers:\n"
    "   - 127.0.0.1:6381:1\n";

static struct sp_conf *load(const char *text)
{
    struct sp_conf *conf = NULL;
    char err[512] = "";
    int rc = sp_conf_load_string(text, strlen(text), "test.yml", NULL, NULL, &conf, err,
                                 sizeof err);
    ck_assert_msg(rc == 0, "config did not load: %s", err);
    return conf;
}

static struct sp_stats *new_stats(const struct sp_conf *conf, const char *source)
{
    struct sp_stats_identity id = {"nutcracker", source, "0.1.0"};
    char err[256] = "";
    struct sp_stats *stats = sp_stats_new(conf, &id, 1000, err, sizeof err);
    ck_assert_msg(stats != NULL, "sp_stats_new: %s", err);
    return stats;
}

/* The zero-valued server object nutcracker writes. */
#define ZERO_SERVER \
    "{\"server_eof\":0, \"server_err\":0, \"server_timedout\":0, \"server_connections\":0, " \
    "\"server_ejected_at\":0, \"requests\":0, \"request_bytes\":0, \"responses\":0, " \
    "\"response_bytes\":0, \"in_queue\":0, \"in_queue_bytes\":0, \"out_queue\":0, " \
    "\"out_queue_bytes\":0}"
#define ZERO_POOL_FIELDS \
    "\"client_eof\":0, \"client_err\":0, \"client_connections\":0, \"server_ejects\":0, " \
    "\"forward_error\":0, \"fragments\":0, "

START_TEST(renders_nutcracker_layout)
{
    struct sp_conf *conf = load(two_pools);
    struct sp_stats *stats = new_stats(conf, "vm");
    size_t len = 0;
    char *json = sp_stats_render(stats, 1042, &len);
    /* Servers sorted by the config loader: "bob" (3 chars) before "127.0.0.1:6379". */
    const char *expected =
        "{\"service\":\"nutcracker\", \"source\":\"vm\", \"version\":\"0.1.0\", \"uptime\":42, "
        "\"timestamp\":1042, \"total_connections\":0, \"curr_connections\":0, "
        "\"beta\": {" ZERO_POOL_FIELDS "\"127.0.0.1:6381\": " ZERO_SERVER "},"
        "\"alpha\": {" ZERO_POOL_FIELDS "\"bob\": " ZERO_SERVER ",\"127.0.0.1:6379\": "
        ZERO_SERVER "}}\n";

    ck_assert_ptr_nonnull(json);
    ck_assert_str_eq(json, expected);
    ck_assert_uint_eq(len, strlen(expected));
    free(json);
    sp_stats_free(stats);
    sp_conf_free(conf);
}
END_TEST

START_TEST(renders_values_where_incremented)
{
    struct sp_conf *conf = load(two_pools);
    struct sp_stats *stats = new_stats(conf, "vm");
    int alpha = 0, beta = 1;
    int bob = sp_conf_find_server(&conf->pools[alpha], "bob");
    size_t len;

    ck_assert_int_ge(bob, 0);
    sp_stats_global(stats)->total_connections = 5;
    sp_stats_global(stats)->curr_connections = 3;
    sp_stats_pool(stats, (size_t)beta)->client_connections = 2;
    sp_stats_server(stats, (size_t)alpha, (size_t)bob)->requests = 7;
    sp_stats_server(stats, (size_t)alpha, (size_t)bob)->server_ejected_at = 1795637924123456;
    sp_stats_server(stats, (size_t)alpha, (size_t)bob)->out_queue_bytes = -1; /* a gauge */
    char *json = sp_stats_render(stats, 1000, &len);
    ck_assert_ptr_nonnull(json);
    ck_assert_ptr_nonnull(strstr(json, "\"uptime\":0, "));
    ck_assert_ptr_nonnull(strstr(json, "\"total_connections\":5, \"curr_connections\":3, "));
    ck_assert_ptr_nonnull(strstr(json, "\"beta\": {\"client_eof\":0, \"client_err\":0, "
                                       "\"client_connections\":2, "));
    ck_assert_ptr_nonnull(strstr(json, "\"bob\": {\"server_eof\":0, \"server_err\":0, "
                                       "\"server_timedout\":0, \"server_connections\":0, "
                                       "\"server_ejected_at\":1795637924123456, "
                                       "\"requests\":7, "));
    ck_assert_ptr_nonnull(strstr(json, "\"out_queue_bytes\":-1},\"127.0.0.1:6379\""));
    /* Nothing else moved: the other server of alpha is still all zeroes. */
    ck_assert_ptr_nonnull(strstr(json, "\"127.0.0.1:6379\": " ZERO_SERVER "}}\n"));
    free(json);
    sp_stats_free(stats);
    sp_conf_free(conf);
}
END_TEST

START_TEST(escapes_strings)
{
    struct sp_conf *conf = load(two_pools);
    struct sp_stats *stats = new_stats(conf, "we\"ird\\host\n");
    size_t len;
    char *json = sp_stats_render(stats, 1000, &len);

    ck_assert_ptr_nonnull(json);
    ck_assert_ptr_nonnull(strstr(json, "\"source\":\"we\\\"ird\\\\host\\u000a\", "));
    free(json);
    sp_stats_free(stats);
    sp_conf_free(conf);
}
END_TEST

/* nutcracker 0.5.0's fields, in its order, with its types (nc_stats.h). */
static const char *const pool_golden[][2] = {
    {"client_eof", "counter"},     {"client_err", "counter"},   {"client_connections", "gauge"},
    {"server_ejects", "counter"},  {"forward_error", "counter"}, {"fragments", "counter"},
};
static const char *const server_golden[][2] = {
    {"server_eof", "counter"},       {"server_err", "counter"},
    {"server_timedout", "counter"},  {"server_connections", "gauge"},
    {"server_ejected_at", "timestamp"}, {"requests", "counter"},
    {"request_bytes", "counter"},    {"responses", "counter"},
    {"response_bytes", "counter"},   {"in_queue", "gauge"},
    {"in_queue_bytes", "gauge"},     {"out_queue", "gauge"},
    {"out_queue_bytes", "gauge"},
};

static void check_fields(const struct sp_stats_field *f, size_t n, const char *const (*golden)[2],
                         size_t ngolden)
{
    ck_assert_uint_eq(n, ngolden);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(f[i].name, golden[i][0]);
        ck_assert_str_eq(sp_stats_type_name(f[i].type), golden[i][1]);
        ck_assert_msg(f[i].description[0] != '\0', "%s has no description", f[i].name);
    }
}

START_TEST(field_lists_match_nutcracker)
{
    size_t n;
    const struct sp_stats_field *f = sp_stats_pool_fields(&n);
    check_fields(f, n, pool_golden, sizeof(pool_golden) / sizeof(pool_golden[0]));
    f = sp_stats_server_fields(&n);
    check_fields(f, n, server_golden, sizeof(server_golden) / sizeof(server_golden[0]));
    f = sp_stats_global_fields(&n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(f[0].name, "total_connections");
    ck_assert_str_eq(f[1].name, "curr_connections");
}
END_TEST

START_TEST(describe_matches_nutcracker)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    ck_assert_ptr_nonnull(out);
    sp_stats_describe(out);
    fclose(out);
    /* Head and tail of `nutcracker -D` (0.5.0), byte for byte. */
    const char *head = "pool stats:\n"
                       "  client_eof          \"# eof on client connections\"\n"
                       "  client_err          \"# errors on client connections\"\n";
    ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "unexpected -D head:\n%s", text);
    ck_assert_ptr_nonnull(strstr(text,
        "  fragments           \"# fragments created from a multi-vector request\"\n"
        "\n"
        "server stats:\n"
        "  server_eof          \"# eof on server connections\"\n"));
    const char *tail = "  out_queue_bytes     \"current request bytes in outgoing queue\"\n";
    ck_assert_uint_ge(size, strlen(tail));
    ck_assert_str_eq(text + size - strlen(tail), tail);
    free(text);
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, renders_nutcracker_layout);
    tcase_add_test(tc, renders_values_where_incremented);
    tcase_add_test(tc, escapes_strings);
    tcase_add_test(tc, field_lists_match_nutcracker);
    tcase_add_test(tc, describe_matches_nutcracker);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stats_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
