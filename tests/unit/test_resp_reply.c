/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RESP reply parser: every reply type, null and empty values, nested arrays (deep and at
 * every split point), top-level element boundaries, big bulks in chunks (not rescanned), and
 * every way a server's stream can be unparseable, with messages and byte offsets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "redis/resp.h"
#include "resp_feed.h"

/* Settings for a parser under test. */
struct rep_opts {
    int want_elems;
    size_t max_line;
};

static void *rep_create(void *arg)
{
    const struct rep_opts *o = arg;
    struct sp_resp_reply *p = malloc(sizeof(*p));

    ck_assert_ptr_nonnull(p);
    sp_resp_reply_init(p);
    if (o != NULL) {
        p->want_elems = o->want_elems;
        if (o->max_line)
            p->max_line = o->max_line;
    }
    return p;
}

static void rep_destroy(void *p)
{
    sp_resp_reply_free(p);
    free(p);
}

static int rep_step(void *pp, struct evbuffer *buf, struct tx *t)
{
    struct sp_resp_reply *p = pp;
    char err[SP_RESP_ERRLEN];
    int rc = sp_resp_reply_parse(p, buf, err, sizeof(err));

    if (rc == SP_PARSE_OK) {
        tx_printf(t, "REP len=%zu type=%c err=%d int=%lld n=%zu", p->len, (char)p->type,
                  p->is_error, p->integer, p->nelems);
        if (p->want_elems && p->type == SP_RESP_ARRAY) {
            tx_printf(t, " elems=");
            for (size_t i = 0; i < p->nelems; i++)
                tx_printf(t, "%s%zu:%zu", i ? "," : "", p->elems[i].off, p->elems[i].len);
        }
        tx_printf(t, "\n");
        ck_assert_int_eq(evbuffer_drain(buf, p->len), 0);
    } else if (rc == SP_PARSE_ERROR) {
        tx_printf(t, "ERR %s\n", err);
    }
    return rc;
}

static const struct rep_opts with_elems = { 1, 0 };
static const struct feeder rep_feeder = { rep_create, rep_destroy, rep_step, (void *)&with_elems };

#define S(lit) lit, sizeof(lit) - 1

static const char replies[] =
    "+OK\r\n"
    "-ERR unknown command 'x'\r\n"
    ":0\r\n"
    ":-42\r\n"
    ":9223372036854775807\r\n"
    "$3\r\nfoo\r\n"
    "$-1\r\n"
    "$0\r\n\r\n"
    "$6\r\na\r\n\0b\n\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*3\r\n$1\r\na\r\n$-1\r\n:7\r\n"
    "*2\r\n*2\r\n:1\r\n*1\r\n+x\r\n*0\r\n"
    "*1\r\n*1\r\n*1\r\n*1\r\n$2\r\nhi\r\n"
    "*2\r\n-ERR a\r\n*-1\r\n"
    "*2\r\n*2\r\n$4\r\nPalermo\r\n$9\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$8\r\n56.4413\r\n";

static const char replies_expected[] =
    "REP len=5 type=+ err=0 int=0 n=0\n"
    "REP len=26 type=- err=1 int=0 n=0\n"
    "REP len=4 type=: err=0 int=0 n=0\n"
    "REP len=6 type=: err=0 int=-42 n=0\n"
    "REP len=22 type=: err=0 int=9223372036854775807 n=0\n"
    "REP len=9 type=$ err=0 int=3 n=0\n"
    "REP len=5 type=$ err=0 int=-1 n=0\n"
    "REP len=6 type=$ err=0 int=0 n=0\n"
    "REP len=12 type=$ err=0 int=6 n=0\n"
    "REP len=5 type=* err=0 int=-1 n=0 elems=\n"
    "REP len=4 type=* err=0 int=0 n=0 elems=\n"
    "REP len=20 type=* err=0 int=3 n=3 elems=4:7,11:5,16:4\n"
    "REP len=24 type=* err=0 int=2 n=2 elems=4:16,20:4\n"
    "REP len=24 type=* err=0 int=1 n=1 elems=4:20\n"
    "REP len=17 type=* err=0 int=2 n=2 elems=4:8,12:5\n"
    "ERR Protocol error: expected CRLF after bulk at byte 205\n"
    "END left=";

START_TEST(test_reply_pipeline_every_split)
{
    /* the last reply is malformed ($4 "Palermo"): every split must stop at the same byte */
    char *whole = feed_stream(&rep_feeder, S(replies), NULL, 0, 0);

    ck_assert_msg(strncmp(whole, replies_expected, strlen(replies_expected)) == 0, "%s", whole);
    free(whole);
}
END_TEST

/* The same stream without its malformed tail: every split gives the whole-feed transcript. */
START_TEST(test_reply_splits)
{
    static const char tail[] = "*2\r\n*2\r\n$4\r\nPalermo";
    const char *end = memmem(replies, sizeof(replies) - 1, tail, sizeof(tail) - 1);
    size_t len;

    ck_assert_ptr_nonnull(end);
    len = (size_t)(end - replies);
    struct tx want = { NULL, 0, 0 };
    const char *cut = strstr(replies_expected, "ERR ");

    tx_printf(&want, "%.*s", (int)(cut - replies_expected), replies_expected);
    tx_printf(&want, "END left=0\n");
    check_all_splits(&rep_feeder, replies, len, want.s, 200, "reply pipeline");
    free(want.s);
}
END_TEST

/* A GEO-like reply (arrays of arrays of bulks) at every split point. */
START_TEST(test_nested_geo_splits)
{
    static const char geo[] =
        "*2\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";

    check_all_splits(&rep_feeder, S(geo),
                     "REP len=65 type=* err=0 int=2 n=2 elems=4:31,35:30\n"
                     "REP len=36 type=* err=0 int=2 n=2 elems=4:7,11:25\n"
                     "END left=0\n", 100, "geo reply");
}
END_TEST

static const struct {
    const char *in;
    size_t len;
    const char *want;
} rep_errors[] = {
    { S("?x\r\n"), "ERR Protocol error: unexpected reply type '?' at byte 0\n" },
    { S("\0"), "ERR Protocol error: unexpected reply type byte 0x00 at byte 0\n" },
    { S("$-2\r\n"), "ERR Protocol error: invalid bulk length at byte 0\n" },
    { S("$1x\r\n"), "ERR Protocol error: invalid bulk length at byte 0\n" },
    { S("$281474976710657\r\n"), "ERR Protocol error: invalid bulk length at byte 0\n" },
    { S("$3\r\nfooX\r\n"), "ERR Protocol error: expected CRLF after bulk at byte 7\n" },
    { S(":abc\r\n"), "ERR Protocol error: invalid integer reply at byte 0\n" },
    { S(":+1\r\n"), "ERR Protocol error: invalid integer reply at byte 0\n" },
    { S(":01\r\n"), "ERR Protocol error: invalid integer reply at byte 0\n" },
    { S(":-0\r\n"), "ERR Protocol error: invalid integer reply at byte 0\n" },
    { S("$01\r\nx\r\n"), "ERR Protocol error: invalid bulk length at byte 0\n" },
    { S(":\r\n"), "ERR Protocol error: invalid integer reply at byte 0\n" },
    { S(":99999999999999999999\r\n"), "ERR Protocol error: invalid integer reply at byte 0\n" },
    { S(":123456789012345678901234567890\r\n"),
      "ERR Protocol error: invalid integer reply at byte 0\n" },
    { S("*-2\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*1\n:1\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("+OK\rX"), "ERR Protocol error: expected LF after CR at byte 4\n" },
    { S("*2\r\n:1\r\n!x\r\n"), "ERR Protocol error: unexpected reply type '!' at byte 8\n" },
    { S("*1\r\n*1\r\n$2\r\nabc\r\n"), "ERR Protocol error: expected CRLF after bulk at byte 14\n" },
    { S("+OK\r\n:1\r\n$x\r\n"),
      "REP len=5 type=+ err=0 int=0 n=0\nREP len=4 type=: err=0 int=1 n=0\n"
      "ERR Protocol error: invalid bulk length at byte 9\n" },
};

START_TEST(test_reply_errors)
{
    check_error_splits(&rep_feeder, rep_errors[_i].in, rep_errors[_i].len, rep_errors[_i].want);
}
END_TEST

START_TEST(test_status_line_limit)
{
    struct rep_opts o = { 0, 8 };
    struct feeder f = rep_feeder;
    char *got;

    f.arg = &o;
    got = feed_stream(&f, S("+12345678\r\n-12345678\r\n+123456789\r\n"), NULL, 0, 1);
    ck_assert_str_eq(got, "REP len=11 type=+ err=0 int=0 n=0\nREP len=11 type=- err=1 int=0 n=0\n"
                          "ERR Protocol error: too long status line at byte 22\nEND left=12\n");
    free(got);
    /* without its CR yet: fails as soon as the limit is passed, at every split */
    for (size_t cut = 1; cut < 13; cut++) {
        char want[96];

        snprintf(want, sizeof(want), "ERR Protocol error: too long status line at byte 0\n"
                 "END left=%zu\n", cut < 10 ? 13 : cut);
        got = feed_stream(&f, S("+123456789abc"), &cut, 1, 1);
        ck_assert_str_eq(got, want);
        free(got);
    }
    got = feed_stream(&f, S("+12345678"), NULL, 0, 1);
    ck_assert_str_eq(got, "END left=9\n");
    free(got);
}
END_TEST

/* Appends `n` bytes to `buf`, one chain per byte (so no reply is whole in the first chain). */
static void add_bytewise(struct evbuffer *buf, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct evbuffer *one = evbuffer_new();

        evbuffer_add(one, s + i, 1);
        evbuffer_add_buffer(buf, one);
        evbuffer_free(one);
    }
}

/*
 * A simple reply whole in one chain is framed by a shortcut: it must give what the general
 * path gives for the same bytes spread over chains, down to the bytes examined.
 */
START_TEST(test_simple_reply_shortcut)
{
    static const char *const r[] = {
        "+OK\r\n", "-ERR x\r\n", ":0\r\n", ":-9223372036854775808\r\n", "$-1\r\n", "$0\r\n\r\n",
        "$5\r\na\r\nb\r\r\n", "+\r\n", "+a\nb\r\n", "$281474976710656\r\n",
    };

    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        struct sp_resp_reply whole, split;
        struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
        char err[SP_RESP_ERRLEN];
        size_t n = strlen(r[i]);
        int rca, rcb;

        sp_resp_reply_init(&whole);
        sp_resp_reply_init(&split);
        evbuffer_add(a, r[i], n);
        add_bytewise(b, r[i], n);
        rca = sp_resp_reply_parse(&whole, a, err, sizeof(err));
        rcb = sp_resp_reply_parse(&split, b, err, sizeof(err));
        ck_assert_msg(rca == rcb, "reply %zu: %d vs %d", i, rca, rcb);
        if (rca == SP_PARSE_OK) {
            ck_assert_uint_eq(whole.len, split.len);
            ck_assert_int_eq(whole.type, split.type);
            ck_assert_int_eq(whole.is_error, split.is_error);
            ck_assert_int_eq(whole.integer, split.integer);
            ck_assert_msg(whole.examined == split.examined, "reply %zu: examined %llu vs %llu",
                          i, (unsigned long long)whole.examined,
                          (unsigned long long)split.examined);
            /* and the next reply starts where it should */
            evbuffer_drain(a, whole.len);
            evbuffer_add(a, ":1\r\n", 4);
            ck_assert_int_eq(sp_resp_reply_parse(&whole, a, err, sizeof(err)), SP_PARSE_OK);
            ck_assert_int_eq(whole.integer, 1);
        }
        sp_resp_reply_free(&whole);
        sp_resp_reply_free(&split);
        evbuffer_free(a);
        evbuffer_free(b);
    }
}
END_TEST

/* Nesting costs no memory per level: 100000 levels frame like one. */
START_TEST(test_deep_nesting)
{
    const size_t depth = 100000;
    struct evbuffer *b = evbuffer_new();
    struct sp_resp_reply p;
    char err[SP_RESP_ERRLEN];

    for (size_t i = 0; i < depth; i++)
        evbuffer_add(b, "*1\r\n", 4);
    sp_resp_reply_init(&p);
    p.want_elems = 1;
    ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_AGAIN);
    evbuffer_add(b, ":1\r\n", 4);
    ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_OK);
    ck_assert_uint_eq(p.len, depth * 4 + 4);
    ck_assert_uint_eq(p.nelems, 1);
    ck_assert_uint_eq(p.elems[0].off, 4);
    ck_assert_uint_eq(p.elems[0].len, depth * 4);
    sp_resp_reply_free(&p);
    evbuffer_free(b);
}
END_TEST

/* An MGET-like reply of 1000 bulks: element boundaries exact, array reused by the next reply. */
START_TEST(test_many_elements)
{
    struct evbuffer *b = evbuffer_new();
    struct sp_resp_reply p;
    char err[SP_RESP_ERRLEN];
    struct sp_resp_elem *elems = NULL;
    char value[10];
    size_t off;

    memset(value, 'v', sizeof(value));

    sp_resp_reply_init(&p);
    p.want_elems = 1;
    for (int round = 0; round < 2; round++) {
        evbuffer_add_printf(b, "*1000\r\n");
        for (int i = 0; i < 1000; i++)
            if (i % 3)
                evbuffer_add_printf(b, "$%d\r\n%.*s\r\n", i % 10 + 1, i % 10 + 1, value);
            else
                evbuffer_add_printf(b, "$-1\r\n");
        ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_OK);
        ck_assert_uint_eq(p.nelems, 1000);
        if (round == 0)
            elems = p.elems;
        ck_assert_ptr_eq(p.elems, elems);
        off = 7;
        for (int i = 0; i < 1000; i++) {
            size_t want = i % 3 ? (size_t)(i % 10 + 1 >= 10 ? 5 : 4) + (size_t)(i % 10 + 1) + 2 : 5;

            ck_assert_msg(p.elems[i].off == off && p.elems[i].len == want,
                          "element %d: %zu:%zu, want %zu:%zu", i, p.elems[i].off,
                          p.elems[i].len, off, want);
            off += want;
        }
        ck_assert_uint_eq(p.len, off);
        evbuffer_drain(b, p.len);
    }
    sp_resp_reply_free(&p);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_big_reply_not_rescanned)
{
    const size_t big = 16u << 20, chunk = 4096;
    static const char head[] = "*2\r\n:5\r\n$16777216\r\n";
    char *zero = calloc(1, chunk);
    struct evbuffer *b = evbuffer_new();
    struct sp_resp_reply p;
    char err[SP_RESP_ERRLEN];
    int rc = SP_PARSE_AGAIN;

    sp_resp_reply_init(&p);
    p.want_elems = 1;
    evbuffer_add(b, head, sizeof(head) - 1);
    for (size_t off = 0; off < big; off += chunk) {
        struct evbuffer *piece = evbuffer_new();

        evbuffer_add(piece, zero, chunk);
        evbuffer_add_buffer(b, piece);
        evbuffer_free(piece);
        ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_AGAIN);
    }
    evbuffer_add(b, "\r\n", 2);
    rc = sp_resp_reply_parse(&p, b, err, sizeof(err));
    ck_assert_int_eq(rc, SP_PARSE_OK);
    ck_assert_uint_eq(p.len, sizeof(head) - 1 + big + 2);
    ck_assert_uint_eq(p.elems[1].off, 8);
    ck_assert_uint_eq(p.elems[1].len, 11 + big + 2);
    ck_assert_msg(p.examined < 100, "examined %llu bytes", (unsigned long long)p.examined);
    sp_resp_reply_free(&p);
    evbuffer_free(b);
    free(zero);
}
END_TEST

START_TEST(test_reply_sticky_and_reset)
{
    struct evbuffer *b = evbuffer_new();
    struct sp_resp_reply p;
    char err[SP_RESP_ERRLEN];

    sp_resp_reply_init(&p);
    evbuffer_add(b, S("+OK\r\n%x\r\n"));
    ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_OK);
    evbuffer_drain(b, p.len);
    ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_ERROR);
    ck_assert_str_eq(err, "Protocol error: unexpected reply type '%' at byte 5");
    ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_ERROR);
    ck_assert_str_eq(err, "Protocol error: stream already failed at byte 5");
    evbuffer_drain(b, evbuffer_get_length(b));
    sp_resp_reply_reset(&p);
    evbuffer_add(b, S(":3\r\n"));
    ck_assert_int_eq(sp_resp_reply_parse(&p, b, err, sizeof(err)), SP_PARSE_OK);
    ck_assert_int_eq(p.integer, 3);
    sp_resp_reply_free(&p);
    evbuffer_free(b);
}
END_TEST

static Suite *reply_suite(void)
{
    Suite *s = suite_create("resp_reply");
    TCase *tc = tcase_create("reply");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reply_pipeline_every_split);
    tcase_add_test(tc, test_reply_splits);
    tcase_add_test(tc, test_nested_geo_splits);
    tcase_add_loop_test(tc, test_reply_errors, 0,
                        (int)(sizeof(rep_errors) / sizeof(rep_errors[0])));
    tcase_add_test(tc, test_status_line_limit);
    tcase_add_test(tc, test_simple_reply_shortcut);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_many_elements);
    tcase_add_test(tc, test_big_reply_not_rescanned);
    tcase_add_test(tc, test_reply_sticky_and_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reply_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
