/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RESP request parser: every request form, pipelines split at every byte, binary arguments,
 * big bulks arriving in chunks (not rescanned), every framing error with its message and byte
 * offset, limits; and the argument read/write helpers.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "redis/commands.h"
#include "redis/resp.h"
#include "resp_feed.h"
#include "testutil.h"

/* Limits for a parser under test; zero fields keep the defaults. */
struct req_limits {
    size_t max_args, max_bulk, max_inline;
};

static void *req_create(void *arg)
{
    const struct req_limits *l = arg;
    struct sp_resp_request *r = malloc(sizeof(*r));

    ck_assert_ptr_nonnull(r);
    sp_resp_request_init(r);
    if (l != NULL) {
        if (l->max_args)
            r->max_args = l->max_args;
        if (l->max_bulk)
            r->max_bulk = l->max_bulk;
        if (l->max_inline)
            r->max_inline = l->max_inline;
    }
    return r;
}

static void req_destroy(void *p)
{
    sp_resp_request_free(p);
    free(p);
}

/* An inline request's rewrite is one multibulk holding exactly its arguments. */
static void check_rewrite(const struct sp_resp_request *r, struct evbuffer *body)
{
    struct sp_resp_request again;
    char err[SP_RESP_ERRLEN];

    sp_resp_request_init(&again);
    ck_assert_int_eq(sp_resp_request_parse(&again, body, err, sizeof(err)), SP_PARSE_OK);
    ck_assert_uint_eq(again.len, evbuffer_get_length(body));
    ck_assert_int_eq(again.is_inline, 0);
    ck_assert_uint_eq(again.argc, r->argc);
    for (size_t i = 0; i < r->argc; i++) {
        ck_assert_uint_eq(again.argv[i].off, r->argv[i].off);
        ck_assert_uint_eq(again.argv[i].len, r->argv[i].len);
    }
    sp_resp_request_free(&again);
}

/*
 * "REQ len=.. argc=.. inline=.. cmd=.. [arg]..." read back through sp_resp_arg_copy from where
 * the arguments are (the input, or an inline request's RESP rewrite, which must frame as the
 * same arguments).
 */
static void describe_request(const struct sp_resp_request *r, struct evbuffer *buf, struct tx *t)
{
    struct evbuffer *args = sp_resp_request_args(r, buf);
    size_t bound = r->is_inline ? evbuffer_get_length(args) : r->len;

    tx_printf(t, "REQ len=%zu argc=%zu inline=%d cmd=%s", r->len, r->argc, r->is_inline,
              r->cmd ? r->cmd->name : "-");
    for (size_t i = 0; i < r->argc; i++) {
        char *a = malloc(r->argv[i].len + 1);

        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(sp_resp_arg_copy(args, 0, &r->argv[i], a, r->argv[i].len),
                         (long)r->argv[i].len);
        ck_assert_uint_le(r->argv[i].off + r->argv[i].len, bound);
        tx_printf(t, " [");
        tx_escape(t, a, r->argv[i].len);
        tx_printf(t, "]");
        free(a);
    }
    if (r->is_inline)
        check_rewrite(r, args);
    tx_printf(t, "\n");
}

static int req_step(void *p, struct evbuffer *buf, struct tx *t)
{
    struct sp_resp_request *r = p;
    char err[SP_RESP_ERRLEN];
    int rc = sp_resp_request_parse(r, buf, err, sizeof(err));

    if (rc == SP_PARSE_OK) {
        describe_request(r, buf, t);
        ck_assert_int_eq(evbuffer_drain(buf, r->len), 0);
    } else if (rc == SP_PARSE_ERROR) {
        tx_printf(t, "ERR %s\n", err);
    }
    return rc;
}

static const struct feeder req_feeder = { req_create, req_destroy, req_step, NULL };

#define S(lit) lit, sizeof(lit) - 1

static const char pipeline[] =
    "*1\r\n$4\r\nPING\r\n"
    "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"
    "*3\r\n$3\r\nset\r\n$5\r\nk\r\n\0x\r\n$4\r\n\r\n\r\n\r\n"
    "GET bar\r\n"
    "  mget   a b\tc  \r\n"
    "\r\n"
    "*0\r\n"
    "PING\n"
    "*-1\r\n"
    "*1\r\n$7\r\nUNKNOWN\r\n"
    "*2\r\n$4\r\nEcHo\r\n$0\r\n\r\n"
    "*2\r\n$3\r\nDEL\r\n$4\r\nk\0\0k\r\n"
    "*3\r\n$4\r\nMGET\r\n$40\r\n0123456789012345678901234567890123456789\r\n$1\r\nz\r\n"
    "*2\r\n$3\r\nGET\r\n$11\r\n$3\r\nGET\r\n\r\n\r\n";

static const char pipeline_expected[] =
    "REQ len=14 argc=1 inline=0 cmd=PING [PING]\n"
    "REQ len=22 argc=2 inline=0 cmd=GET [GET] [foo]\n"
    "REQ len=34 argc=3 inline=0 cmd=SET [set] [k\\x0d\\x0a\\x00x] [\\x0d\\x0a\\x0d\\x0a]\n"
    "REQ len=9 argc=2 inline=1 cmd=GET [GET] [bar]\n"
    "REQ len=18 argc=4 inline=1 cmd=MGET [mget] [a] [b] [c]\n"
    "REQ len=2 argc=0 inline=1 cmd=-\n"
    "REQ len=4 argc=0 inline=0 cmd=-\n"
    "REQ len=5 argc=1 inline=1 cmd=PING [PING]\n"
    "REQ len=5 argc=0 inline=0 cmd=-\n"
    "REQ len=17 argc=1 inline=0 cmd=- [UNKNOWN]\n"
    "REQ len=20 argc=2 inline=0 cmd=ECHO [EcHo] []\n"
    "REQ len=23 argc=2 inline=0 cmd=DEL [DEL] [k\\x00\\x00k]\n"
    "REQ len=68 argc=3 inline=0 cmd=MGET [MGET] [0123456789012345678901234567890123456789] [z]\n"
    "REQ len=31 argc=2 inline=0 cmd=GET [GET] [$3\\x0d\\x0aGET\\x0d\\x0a\\x0d\\x0a]\n"
    "END left=0\n";

START_TEST(test_pipeline_every_split)
{
    size_t feeds = check_all_splits(&req_feeder, S(pipeline), pipeline_expected, 200,
                                    "request pipeline");

    ck_assert_uint_gt(feeds, 2 * sizeof(pipeline));
}
END_TEST

/* One request form per case, each also fed at every split point. */
static const struct {
    const char *in;
    size_t len;
    const char *want;
} forms[] = {
    { S("*1\r\n$4\r\nping\r\n"), "REQ len=14 argc=1 inline=0 cmd=PING [ping]\nEND left=0\n" },
    { S("PING\r\n"), "REQ len=6 argc=1 inline=1 cmd=PING [PING]\nEND left=0\n" },
    { S("GET foo\n"), "REQ len=8 argc=2 inline=1 cmd=GET [GET] [foo]\nEND left=0\n" },
    { S("\n"), "REQ len=1 argc=0 inline=1 cmd=-\nEND left=0\n" },
    { S("  \t \r\n"), "REQ len=6 argc=0 inline=1 cmd=-\nEND left=0\n" },
    { S("set \"a b\" c\r\n"), "REQ len=13 argc=3 inline=1 cmd=SET [set] [a b] [c]\nEND left=0\n" },
    { S("*1\r\n$0\r\n\r\n"), "REQ len=10 argc=1 inline=0 cmd=- []\nEND left=0\n" },
    { S("*2\r\n$3\r\nGET\r\n"), "END left=13\n" },
    { S("*2\r\n$3\r\nGET\r\n$3\r\nfo"), "END left=19\n" },
    { S("GET foo"), "END left=7\n" },
    { S("*1\r\n$25\r\nGEORADIUSBYMEMBER_RO_XXXX\r\n"),
      "REQ len=36 argc=1 inline=0 cmd=- [GEORADIUSBYMEMBER_RO_XXXX]\nEND left=0\n" },
    /* the repeated-command shortcut must not confuse neighbours of the previous name */
    { S("GET a\r\nGETX a\r\nget a\r\nGE a\r\n"),
      "REQ len=7 argc=2 inline=1 cmd=GET [GET] [a]\nREQ len=8 argc=2 inline=1 cmd=- [GETX] [a]\n"
      "REQ len=7 argc=2 inline=1 cmd=GET [get] [a]\nREQ len=6 argc=2 inline=1 cmd=- [GE] [a]\n"
      "END left=0\n" },
    { S("*1\r\n$20\r\ngeoradiusbymember_ro\r\n"),
      "REQ len=31 argc=1 inline=0 cmd=GEORADIUSBYMEMBER_RO [georadiusbymember_ro]\nEND left=0\n" },
};

START_TEST(test_forms)
{
    check_all_splits(&req_feeder, forms[_i].in, forms[_i].len, forms[_i].want, 20,
                     "request form");
}
END_TEST

/*
 * Inline lines read as Redis 7 reads them (sdssplitargs): quotes, escapes, blanks; each case
 * was also sent to a real redis-server (tests/integration/test_abuse.py compares the two).
 */
static const struct {
    const char *in;
    size_t len;
    const char *want;
} inline_forms[] = {
    { S("SET \"\\x76\\x31\" x\r\n"), "REQ len=18 argc=3 inline=1 cmd=SET [SET] [v1] [x]\n" },
    { S("GET 'it\\'s'\r\n"), "REQ len=13 argc=2 inline=1 cmd=GET [GET] [it's]\n" },
    { S("GET \"a\\\"b\"\r\n"), "REQ len=12 argc=2 inline=1 cmd=GET [GET] [a\"b]\n" },
    { S("GET \"\\n\\r\\t\\b\\a\\z\"\r\n"),
      "REQ len=20 argc=2 inline=1 cmd=GET [GET] [\\x0a\\x0d\\x09\\x08\\x07z]\n" },
    { S("GET \"\\x4\"\r\n"), "REQ len=11 argc=2 inline=1 cmd=GET [GET] [x4]\n" },
    { S("GET \"\\xZZ\"\r\n"), "REQ len=12 argc=2 inline=1 cmd=GET [GET] [xZZ]\n" },
    { S("GET a\"b c\"\r\n"), "REQ len=12 argc=2 inline=1 cmd=GET [GET] [ab c]\n" },
    { S("GET ''\r\n"), "REQ len=8 argc=2 inline=1 cmd=GET [GET] []\n" },
    { S("GET '\\x41'\r\n"), "REQ len=12 argc=2 inline=1 cmd=GET [GET] [\\x5cx41]\n" },
    { S("GET \"\\\\\"\r\n"), "REQ len=10 argc=2 inline=1 cmd=GET [GET] [\\x5c]\n" },
    { S("PING\vx\r\n"), "REQ len=8 argc=1 inline=1 cmd=- [PING\\x0bx]\n" },
    { S("\v\f GET\tk  \r\n"), "REQ len=12 argc=2 inline=1 cmd=GET [GET] [k]\n" },
    { S("GET k \r\r\n"), "REQ len=9 argc=2 inline=1 cmd=GET [GET] [k]\n" },
    { S("GET a\rb\r\n"), "REQ len=9 argc=3 inline=1 cmd=GET [GET] [a] [b]\n" },
    { S("GET \"a b\"\"\r\n"), "ERR Protocol error: unbalanced quotes in request at byte 9\n" },
    { S("GET a\"b c\"d\r\n"), "ERR Protocol error: unbalanced quotes in request at byte 10\n" },
    { S("GET \"foo\r\n"), "ERR Protocol error: unbalanced quotes in request at byte 8\n" },
    { S("GET \"ab\\\"\r\n"), "ERR Protocol error: unbalanced quotes in request at byte 9\n" },
    { S("GET 'a''b'\r\n"), "ERR Protocol error: unbalanced quotes in request at byte 7\n" },
    { S("GET fo\0o\r\n"), "ERR Protocol error: NUL byte in an inline request at byte 6\n" },
    { S("\0GET k\r\n"), "ERR Protocol error: NUL byte in an inline request at byte 0\n" },
};

START_TEST(test_inline_as_redis)
{
    char want[256];

    /* A framed line is followed by END left=0; an error leaves the line unconsumed. */
    if (strncmp(inline_forms[_i].want, "ERR", 3) == 0)
        snprintf(want, sizeof(want), "%sEND left=%zu\n", inline_forms[_i].want,
                 inline_forms[_i].len);
    else
        snprintf(want, sizeof(want), "%sEND left=0\n", inline_forms[_i].want);
    check_all_splits(&req_feeder, inline_forms[_i].in, inline_forms[_i].len, want, 20,
                     "inline form");
}
END_TEST

/* Framing errors: the message, with its byte offset, is the same at every split point. */
static const struct {
    const char *in;
    size_t len;
    const char *want;
} errors[] = {
    { S("*abc\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*01\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*-0\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*+1\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("* 1\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*1\rX"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*1\n$3\r\n"), "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*123456789012345678901\r\n"),
      "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*99999999999999999999\r\n"),
      "ERR Protocol error: invalid multibulk length at byte 0\n" },
    { S("*1\r\n$x\r\n"), "ERR Protocol error: invalid bulk length at byte 4\n" },
    { S("*1\r\n$-1\r\n"), "ERR Protocol error: invalid bulk length at byte 4\n" },
    { S("*1\r\n$012\r\n"), "ERR Protocol error: invalid bulk length at byte 4\n" },
    { S("*1\r\n$3\rX"), "ERR Protocol error: invalid bulk length at byte 4\n" },
    { S("*1\r\n$\r\n"), "ERR Protocol error: invalid bulk length at byte 4\n" },
    { S("*1\r\n$-9223372036854775808\r\n"), "ERR Protocol error: invalid bulk length at byte 4\n" },
    { S("*1\r\n$1000000000000000000000000000000000000\r\n"),
      "ERR Protocol error: invalid bulk length at byte 4\n" },
    { S("*1\r\nGET\r\n"), "ERR Protocol error: expected '$', got 'G' at byte 4\n" },
    { S("*2\r\n$3\r\nGET\r\n:1\r\n"), "ERR Protocol error: expected '$', got ':' at byte 13\n" },
    { S("*1\r\n\x01"), "ERR Protocol error: expected '$', got byte 0x01 at byte 4\n" },
    { S("*1\r\n$3\r\nGETX\r\n"), "ERR Protocol error: expected CRLF after bulk at byte 11\n" },
    { S("*1\r\n$3\r\nGET\n\n"), "ERR Protocol error: expected CRLF after bulk at byte 11\n" },
    { S("*1\r\n$3\r\nGET\r\r"), "ERR Protocol error: expected CRLF after bulk at byte 11\n" },
    { S("*2000000\r\n"),
      "ERR Protocol error: invalid multibulk length (2000000 arguments, limit 1048576) at byte 0\n" },
    { S("*1\r\n$536870913\r\n"),
      "ERR Protocol error: invalid bulk length (536870913 bytes, limit 536870912) at byte 4\n" },
    /* offsets count from the start of the stream, across requests */
    { S("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n"),
      "REQ len=6 argc=1 inline=1 cmd=PING [PING]\n"
      "REQ len=14 argc=1 inline=0 cmd=PING [PING]\n"
      "ERR Protocol error: invalid bulk length at byte 24\n" },
};

START_TEST(test_errors)
{
    check_error_splits(&req_feeder, errors[_i].in, errors[_i].len, errors[_i].want);
}
END_TEST

START_TEST(test_error_is_sticky)
{
    struct sp_resp_request r;
    struct evbuffer *b = evbuffer_new();
    char err[SP_RESP_ERRLEN];

    sp_resp_request_init(&r);
    evbuffer_add(b, S("*1\r\n$x\r\n"));
    ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_ERROR);
    evbuffer_drain(b, evbuffer_get_length(b));
    evbuffer_add(b, S("PING\r\n"));
    ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_ERROR);
    ck_assert_str_eq(err, "Protocol error: stream already failed at byte 4");
    /* errlen 0 and short buffers are honoured */
    ck_assert_int_eq(sp_resp_request_parse(&r, b, NULL, 0), SP_PARSE_ERROR);
    ck_assert_int_eq(sp_resp_request_parse(&r, b, err, 10), SP_PARSE_ERROR);
    ck_assert_str_eq(err, "Protocol ");
    sp_resp_request_reset(&r);
    ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
    ck_assert_ptr_eq(r.cmd, sp_command_get(SP_CMD_PING));
    sp_resp_request_free(&r);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_limits)
{
    struct req_limits small = { 3, 10, 16 };
    struct feeder f = req_feeder;
    char *got;

    f.arg = &small;
    got = feed_stream(&f, S("*3\r\n$1\r\na\r\n$1\r\nb\r\n$10\r\n0123456789\r\n"), NULL, 0, 1);
    ck_assert_str_eq(got, "REQ len=35 argc=3 inline=0 cmd=- [a] [b] [0123456789]\nEND left=0\n");
    free(got);
    got = feed_stream(&f, S("*4\r\n"), NULL, 0, 1);
    ck_assert_str_eq(got, "ERR Protocol error: invalid multibulk length (4 arguments, limit 3) "
                     "at byte 0\nEND left=4\n");
    free(got);
    got = feed_stream(&f, S("*1\r\n$11\r\n"), NULL, 0, 1);
    ck_assert_str_eq(got, "ERR Protocol error: invalid bulk length (11 bytes, limit 10) "
                     "at byte 4\nEND left=9\n");
    free(got);
    /* the argument limit holds for inline lines too (the 4th argument starts at byte 14) */
    got = feed_stream(&f, S("a b c\nGET a b c\n"), NULL, 0, 1);
    ck_assert_str_eq(got, "REQ len=6 argc=3 inline=1 cmd=- [a] [b] [c]\n"
                     "ERR Protocol error: too many inline arguments (limit 3) at byte 14\n"
                     "END left=10\n");
    free(got);
    /* inline: 16 bytes before the LF are fine, 17 are not, whether or not the LF has come */
    got = feed_stream(&f, S("GET 456789abcdef\nGET 456789abcdefg\n"), NULL, 0, 1);
    ck_assert_str_eq(got, "REQ len=17 argc=2 inline=1 cmd=GET [GET] [456789abcdef]\n"
                     "ERR Protocol error: too big inline request at byte 17\nEND left=18\n");
    free(got);
    got = feed_stream(&f, S("GET 456789abcdefg"), NULL, 0, 1);
    ck_assert_str_eq(got, "ERR Protocol error: too big inline request at byte 0\nEND left=17\n");
    free(got);
    got = feed_stream(&f, S("GET 456789abcdef"), NULL, 0, 1);
    ck_assert_str_eq(got, "END left=16\n");
    free(got);
}
END_TEST

START_TEST(test_default_inline_limit)
{
    size_t n = SP_RESP_MAX_INLINE + 1;
    char *line = malloc(n + 1);
    char *got;

    ck_assert_ptr_nonnull(line);
    memset(line, 'a', n);
    line[n - 1] = '\n';         /* 65536 bytes then LF: the longest line allowed */
    got = feed_stream(&req_feeder, line, n, NULL, 0, 0);
    ck_assert_msg(strncmp(got, "REQ len=65537 argc=1 inline=1 cmd=- [aaaa",
                          strlen("REQ len=65537 argc=1 inline=1 cmd=- [aaaa")) == 0, "%.60s", got);
    free(got);
    line[n - 1] = 'a';
    line[n] = '\n';
    got = feed_stream(&req_feeder, line, n + 1, NULL, 0, 0);
    ck_assert_str_eq(got, "ERR Protocol error: too big inline request at byte 0\nEND left=65538\n");
    free(got);
    free(line);
}
END_TEST

/* A huge announced count allocates nothing until arguments actually arrive. */
START_TEST(test_limits_before_allocation)
{
    struct sp_resp_request r;
    struct evbuffer *b = evbuffer_new();
    char err[SP_RESP_ERRLEN];

    sp_resp_request_init(&r);
    evbuffer_add(b, S("*1048576\r\n"));
    ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_AGAIN);
    ck_assert_uint_eq(r.argv_cap, 0);
    evbuffer_add(b, S("$536870912\r\n"));      /* the largest bulk allowed: waits for it */
    ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_AGAIN);
    ck_assert_uint_le(r.argv_cap, 8);
    sp_resp_request_free(&r);
    evbuffer_free(b);
}
END_TEST

/* Steady state: the argument array is reused, not reallocated, request after request. */
START_TEST(test_no_steady_state_allocation)
{
    struct sp_resp_request r;
    struct evbuffer *b = evbuffer_new();
    char err[SP_RESP_ERRLEN];
    struct sp_resp_arg *argv;
    size_t cap;

    sp_resp_request_init(&r);
    evbuffer_add(b, S("*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"));
    ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
    evbuffer_drain(b, r.len);
    argv = r.argv;
    cap = r.argv_cap;
    for (int i = 0; i < 1000; i++) {
        evbuffer_add(b, S("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\nGET a b\r\n"));
        ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
        evbuffer_drain(b, r.len);
        ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
        ck_assert_uint_eq(r.argc, 3);
        evbuffer_drain(b, r.len);
    }
    ck_assert_ptr_eq(r.argv, argv);
    ck_assert_uint_eq(r.argv_cap, cap);
    sp_resp_request_free(&r);
    evbuffer_free(b);
}
END_TEST

/*
 * 16 MiB value in 4 KiB reads, each its own chain: AGAIN until the last read, and the parser
 * examines only headers and CRLFs (a byte count independent of the value's size).
 */
START_TEST(test_big_bulk_not_rescanned)
{
    const size_t big = 16u << 20, chunk = 4096;
    static const char head[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16777216\r\n";
    unsigned char *data = malloc(big + 2);
    struct sp_resp_request r;
    struct evbuffer *b = evbuffer_new();
    char err[SP_RESP_ERRLEN];
    unsigned char tail[16];
    size_t calls = 0;
    int rc = SP_PARSE_AGAIN;

    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < big; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 13));
    memcpy(data + big, "\r\n", 2);
    sp_resp_request_init(&r);
    evbuffer_add(b, head, sizeof(head) - 1);
    for (size_t off = 0; off < big + 2; off += chunk) {
        struct evbuffer *piece = evbuffer_new();
        size_t n = big + 2 - off < chunk ? big + 2 - off : chunk;

        ck_assert_int_eq(rc, SP_PARSE_AGAIN);
        evbuffer_add(piece, data + off, n);
        evbuffer_add_buffer(b, piece);
        evbuffer_free(piece);
        rc = sp_resp_request_parse(&r, b, err, sizeof(err));
        calls++;
    }
    ck_assert_int_eq(rc, SP_PARSE_OK);
    ck_assert_uint_eq(calls, (big + 2 + chunk - 1) / chunk);
    ck_assert_uint_eq(r.len, sizeof(head) - 1 + big + 2);
    ck_assert_uint_eq(r.argc, 3);
    ck_assert_uint_eq(r.argv[2].off, sizeof(head) - 1);
    ck_assert_uint_eq(r.argv[2].len, big);
    ck_assert_msg(r.examined < 100, "examined %llu bytes for a 16 MiB value",
                  (unsigned long long)r.examined);
    {
        struct sp_resp_arg last = { r.argv[2].off + big - sizeof(tail), sizeof(tail) };

        ck_assert_int_eq(sp_resp_arg_copy(b, 0, &last, tail, sizeof(tail)), (long)sizeof(tail));
        ck_assert_int_eq(memcmp(tail, data + big - sizeof(tail), sizeof(tail)), 0);
    }
    sp_resp_request_free(&r);
    evbuffer_free(b);
    free(data);
}
END_TEST

/* An inline line fed a byte at a time is scanned once: examined stays linear. */
START_TEST(test_inline_scan_resumes)
{
    struct sp_resp_request r;
    struct evbuffer *b = evbuffer_new();
    char err[SP_RESP_ERRLEN];
    char line[4001];

    memset(line, 'x', sizeof(line));
    memcpy(line, "GET ", 4);
    line[sizeof(line) - 1] = '\n';
    sp_resp_request_init(&r);
    for (size_t i = 0; i < sizeof(line); i++) {
        evbuffer_add(b, line + i, 1);
        ck_assert_int_eq(sp_resp_request_parse(&r, b, err, sizeof(err)),
                         i + 1 < sizeof(line) ? SP_PARSE_AGAIN : SP_PARSE_OK);
    }
    ck_assert_uint_eq(r.argc, 2);
    /* one scan for the LF plus one pass to split: 2 * 4001, far below 4001^2 / 2 */
    ck_assert_uint_le(r.examined, 2 * sizeof(line) + 8);
    sp_resp_request_free(&r);
    evbuffer_free(b);
}
END_TEST

/* ---- argument helpers ---- */

/* A buffer holding `s` split into one chain per `piece` bytes. */
static struct evbuffer *chained(const char *s, size_t n, size_t piece)
{
    struct evbuffer *b = evbuffer_new();

    for (size_t off = 0; off < n; off += piece) {
        struct evbuffer *p = evbuffer_new();

        evbuffer_add(p, s + off, n - off < piece ? n - off : piece);
        evbuffer_add_buffer(b, p);
        evbuffer_free(p);
    }
    return b;
}

START_TEST(test_arg_copy_and_view)
{
    struct evbuffer *b = chained(S("xx0123456789abcdef"), 4);
    struct sp_resp_arg a = { 2, 10 }, inchain = { 4, 2 }, past = { 10, 9 };
    char out[16], scratch[16];
    const char *v;

    memset(out, 0, sizeof(out));
    ck_assert_int_eq(sp_resp_arg_copy(b, 0, &a, out, sizeof(out)), 10);
    ck_assert_str_eq(out, "0123456789");
    ck_assert_int_eq(sp_resp_arg_copy(b, 0, &a, out, 3), 3);       /* truncated copy */
    ck_assert_int_eq(memcmp(out, "012", 3), 0);
    ck_assert_int_eq(sp_resp_arg_copy(b, 1, &a, out, sizeof(out)), 10);  /* base offset */
    ck_assert_int_eq(memcmp(out, "123456789a", 10), 0);
    ck_assert_int_eq(sp_resp_arg_copy(b, 0, &past, out, sizeof(out)), -1);
    v = sp_resp_arg_view(b, 0, &inchain, scratch, sizeof(scratch));  /* contiguous: in place */
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_ne(v, scratch);
    ck_assert_int_eq(memcmp(v, "23", 2), 0);
    v = sp_resp_arg_view(b, 0, &a, scratch, sizeof(scratch));        /* straddles: copied */
    ck_assert_ptr_eq(v, scratch);
    ck_assert_int_eq(memcmp(v, "0123456789", 10), 0);
    ck_assert_ptr_null(sp_resp_arg_view(b, 0, &a, scratch, 4));      /* too long for scratch */
    ck_assert_ptr_null(sp_resp_arg_view(b, 0, &past, scratch, sizeof(scratch)));
    evbuffer_free(b);
}
END_TEST

START_TEST(test_arg_ll)
{
    static const struct {
        const char *s;
        int ok;
        long long v;
    } cases[] = {
        { "0", 0, 0 }, { "7", 0, 7 }, { "-5", 0, -5 }, { "123456", 0, 123456 },
        { "9223372036854775807", 0, 9223372036854775807LL },
        { "-9223372036854775808", 0, -9223372036854775807LL - 1 },
        { "9223372036854775808", -1, 0 }, { "-9223372036854775809", -1, 0 },
        { "18446744073709551616", -1, 0 }, { "007", -1, 0 }, { "-0", -1, 0 }, { "+1", -1, 0 },
        { " 1", -1, 0 }, { "1 ", -1, 0 }, { "", -1, 0 }, { "-", -1, 0 }, { "1x", -1, 0 },
        { "123456789012345678901", -1, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].s);
        struct evbuffer *b = chained(cases[i].s, n, 2);
        struct sp_resp_arg a = { 0, n };
        long long v = 42;

        ck_assert_msg(sp_resp_arg_ll(b, 0, &a, &v) == cases[i].ok, "\"%s\"", cases[i].s);
        if (cases[i].ok == 0)
            ck_assert_msg(v == cases[i].v, "\"%s\" gave %lld", cases[i].s, v);
        evbuffer_free(b);
    }
}
END_TEST

static char *drain_string(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    struct tx t = { NULL, 0, 0 };
    char *s = malloc(n + 1);

    ck_assert_ptr_nonnull(s);
    evbuffer_remove(b, s, n);
    tx_printf(&t, "%s", "");
    tx_escape(&t, s, n);
    free(s);
    return t.s;
}

START_TEST(test_writers)
{
    struct evbuffer *out = evbuffer_new();
    struct evbuffer *src = chained(S("..key\r\n\0with-binary.."), 3);
    struct sp_resp_arg a = { 2, 17 };
    char *s;

    ck_assert_int_eq(sp_resp_write_array(out, 3), 0);
    ck_assert_int_eq(sp_resp_write_bulk(out, "GET", 3), 0);
    ck_assert_int_eq(sp_resp_write_bulk(out, "", 0), 0);
    ck_assert_int_eq(sp_resp_write_arg(out, src, 0, &a), 0);
    ck_assert_int_eq(sp_resp_write_integer(out, -12), 0);
    ck_assert_int_eq(sp_resp_write_status(out, "OK"), 0);
    ck_assert_int_eq(sp_resp_write_error(out, "ERR bad\r\nthing\n"), 0);
    s = drain_string(out);
    ck_assert_str_eq(s, "*3\\x0d\\x0a$3\\x0d\\x0aGET\\x0d\\x0a$0\\x0d\\x0a\\x0d\\x0a"
                        "$17\\x0d\\x0akey\\x0d\\x0a\\x00with-binary\\x0d\\x0a"
                        ":-12\\x0d\\x0a+OK\\x0d\\x0a-ERR bad  thing \\x0d\\x0a");
    free(s);
    ck_assert_int_eq(sp_resp_write_arg(out, src, 10, &a), -1);      /* past the end */
    evbuffer_free(src);
    evbuffer_free(out);
}
END_TEST

/* Integer headers written by hand agree with printf at the edges of every width. */
START_TEST(test_write_integer_edges)
{
    const long long v[] = { 0, 1, -1, 9, 10, -10, 99, 100, 12345, -12345, 999999999,
                            1000000000, 4294967295LL, 4294967296LL, LLONG_MAX, LLONG_MIN,
                            LLONG_MIN + 1, -9223372036854775807LL };
    struct evbuffer *out = evbuffer_new();

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char want[48], got[48];
        long long count = v[i] < 0 ? 0 : v[i]; /* array lengths are never negative */
        int n = snprintf(want, sizeof(want), ":%lld\r\n*%lld\r\n", v[i], count);
        size_t len;

        ck_assert_int_eq(sp_resp_write_integer(out, v[i]), 0);
        ck_assert_int_eq(sp_resp_write_array(out, (size_t)count), 0);
        len = evbuffer_get_length(out);
        ck_assert_uint_lt(len, sizeof(got));
        evbuffer_remove(out, got, len);
        got[len] = '\0';
        ck_assert_msg(len == (size_t)n && memcmp(got, want, len) == 0, "%lld: got '%s'", v[i],
                      got);
    }
    evbuffer_free(out);
}
END_TEST

/* A 1 MiB argument spread over many chains is written whole and byte-exact. */
START_TEST(test_write_big_arg)
{
    const size_t n = 1u << 20;
    char *data = malloc(n);
    struct evbuffer *src, *out = evbuffer_new();
    struct sp_resp_arg a = { 0, n };
    char hdr[16];
    char *back = malloc(n);

    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i % 251);
    src = chained(data, n, 1000);
    ck_assert_int_eq(sp_resp_write_arg(out, src, 0, &a), 0);
    ck_assert_uint_eq(evbuffer_get_length(out), n + 10 + 2);
    evbuffer_remove(out, hdr, 10);
    ck_assert_int_eq(memcmp(hdr, "$1048576\r\n", 10), 0);
    evbuffer_remove(out, back, n);
    ck_assert_int_eq(memcmp(back, data, n), 0);
    ck_assert_uint_eq(evbuffer_get_length(src), n);                 /* source untouched */
    evbuffer_free(src);
    evbuffer_free(out);
    free(data);
    free(back);
}
END_TEST

static Suite *resp_suite(void)
{
    Suite *s = suite_create("resp_request");
    TCase *tc = tcase_create("request");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pipeline_every_split);
    tcase_add_loop_test(tc, test_forms, 0, (int)(sizeof(forms) / sizeof(forms[0])));
    tcase_add_loop_test(tc, test_inline_as_redis, 0,
                        (int)(sizeof(inline_forms) / sizeof(inline_forms[0])));
    tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof(errors) / sizeof(errors[0])));
    tcase_add_test(tc, test_error_is_sticky);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_default_inline_limit);
    tcase_add_test(tc, test_limits_before_allocation);
    tcase_add_test(tc, test_no_steady_state_allocation);
    tcase_add_test(tc, test_big_bulk_not_rescanned);
    tcase_add_test(tc, test_inline_scan_resumes);
    suite_add_tcase(s, tc);
    tc = tcase_create("args");
    tcase_add_test(tc, test_arg_copy_and_view);
    tcase_add_test(tc, test_arg_ll);
    tcase_add_test(tc, test_writers);
    tcase_add_test(tc, test_write_big_arg);
    tcase_add_test(tc, test_write_integer_edges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resp_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
