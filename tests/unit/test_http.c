/* SPDX-License-Identifier: Apache-2.0 */
/* The stats port's HTTP framing (proxy/report/http.c): requests split at every byte, plain
 * readers told apart at their first impossible byte, limits. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "report/http.h"

/* Feeds text[0..n) for every n: AGAIN before the end, `final` at the end. */
static void feed_every_prefix(const char *text, enum sp_parse final)
{
    size_t len = strlen(text);
    struct sp_http_request req;

    for (size_t n = 0; n < len; n++)
        ck_assert_msg(sp_http_parse(text, n, &req) == SP_PARSE_AGAIN, "prefix %zu of '%s'", n,
                      text);
    ck_assert_int_eq(sp_http_parse(text, len, &req), final);
}

START_TEST(frames_a_request_at_every_split)
{
    const char *text = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
    struct sp_http_request req;

    feed_every_prefix(text, SP_PARSE_OK);
    ck_assert_int_eq(sp_http_parse(text, strlen(text), &req), SP_PARSE_OK);
    ck_assert_str_eq(req.method, "GET");
    ck_assert_str_eq(req.path, "/metrics");
    ck_assert_uint_eq(req.head_len, strlen(text));
    feed_every_prefix("HEAD / HTTP/1.0\n\n", SP_PARSE_OK);
}
END_TEST

START_TEST(plain_bytes_are_not_http)
{
    static const char *const plain[] = {"\n", "stats\n", "get /metrics HTTP/1.1\r\n", "GET\r\n",
                                        "GET metrics HTTP/1.1\r\n", "GET / HTTP/1.1 x\r\n",
                                        "GET / HTTX/1.1\r\n", "GET  / HTTP/1.1\r\n"};
    struct sp_http_request req;

    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        ck_assert_msg(sp_http_parse(plain[i], strlen(plain[i]), &req) == SP_PARSE_ERROR, "%s",
                      plain[i]);
        ck_assert_msg(!req.is_http, "%s", plain[i]);
    }
}
END_TEST

START_TEST(oversized_heads_are_refused)
{
    char big[SP_HTTP_HEAD_MAX + 64];
    struct sp_http_request req;

    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    ck_assert_int_eq(sp_http_parse(big, sizeof big, &req), SP_PARSE_ERROR);
    ck_assert(req.is_http);
    ck_assert_str_eq(req.problem, "request head too large");
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    ck_assert_int_eq(sp_http_parse(big, sizeof big, &req), SP_PARSE_ERROR);
    ck_assert_str_eq(req.problem, "request line too long");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("framing");
    tcase_add_test(tc, frames_a_request_at_every_split);
    tcase_add_test(tc, plain_bytes_are_not_http);
    tcase_add_test(tc, oversized_heads_are_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
