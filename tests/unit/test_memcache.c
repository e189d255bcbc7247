/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memcached framers (proxy/memcache/mc.h) and command table, without sockets: request
 * framing and memcached's line rules, reply framing with item bounds, limits, and every stream
 * fed whole, split at every byte, and one byte at a time must frame the same messages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "memcache/mc.h"

/* ---- command table ---- */

START_TEST(table_sorted_and_found)
{
    for (size_t i = 0; i < sp_mc_command_count(); i++) {
        const struct sp_mc_command *c = sp_mc_command_get((unsigned)i);

        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(c->id, i);
        ck_assert_uint_le(c->name_len, SP_MC_NAME_MAX);
        ck_assert_uint_eq(strlen(c->name), c->name_len);
        if (i > 0)
            ck_assert_int_lt(strcmp(sp_mc_command_get((unsigned)i - 1)->name, c->name), 0);
        ck_assert_ptr_eq(sp_mc_command_lookup(c->name, c->name_len), c);
        ck_assert_int_eq(c->kind == SP_MC_REFUSE, c->reason != NULL);
        ck_assert_str_ne(sp_mc_kind_name(c->kind), "?");
    }
    ck_assert_ptr_null(sp_mc_command_get((unsigned)sp_mc_command_count()));
    ck_assert_ptr_null(sp_mc_command_lookup("GET", 3)); /* case-sensitive, as memcached */
    ck_assert_ptr_null(sp_mc_command_lookup("ge", 2));
    ck_assert_ptr_null(sp_mc_command_lookup("", 0));
    ck_assert_ptr_null(sp_mc_command_lookup("cache_memlimitx", 15));
    ck_assert_int_eq(sp_mc_kind_has_data(SP_MC_STORE), 1);
    ck_assert_int_eq(sp_mc_kind_has_data(SP_MC_META_SET), 1);
    ck_assert_int_eq(sp_mc_kind_has_data(SP_MC_GET), 0);
}
END_TEST

/* docs/commands-memcached.md names every command with its kind: "| `name` | kind |". */
START_TEST(table_documented)
{
    const char *src = getenv("SP_SRCDIR");
    char path[4096], *doc;
    FILE *f;
    long n;

    ck_assert_msg(src != NULL, "SP_SRCDIR is not set (make check sets it)");
    snprintf(path, sizeof(path), "%s/docs/commands-memcached.md", src);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    doc = calloc(1, (size_t)n + 1);
    ck_assert_uint_eq(fread(doc, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    for (size_t i = 0; i < sp_mc_command_count(); i++) {
        const struct sp_mc_command *c = sp_mc_command_get((unsigned)i);
        char row[64];

        snprintf(row, sizeof(row), "| `%s` | %s |", c->name, sp_mc_kind_name(c->kind));
        ck_assert_msg(strstr(doc, row) != NULL, "%s does not list %s", path, row);
    }
    free(doc);
}
END_TEST

START_TEST(numbers_strict)
{
    uint64_t v;

    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"0", 1, 10, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"18446744073709551615", 20,
                                     UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"18446744073709551616", 20,
                                     UINT64_MAX, &v), -1);
    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"11", 2, 10, &v), -1);
    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"+1", 2, 10, &v), -1);
    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"-1", 2, 10, &v), -1);
    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"", 0, 10, &v), -1);
    ck_assert_int_eq(sp_mc_parse_u64((const unsigned char *)"1x", 2, 10, &v), -1);
}
END_TEST

/* ---- requests ---- */

/* What one request framed, as text: "len err|- nkeys noreply data" and the keys. */
static void describe_request(const struct sp_mc_request *r, struct evbuffer *b, char *out,
                             size_t cap)
{
    const unsigned char *p = evbuffer_pullup(b, (ev_ssize_t)r->line_len);
    int n = snprintf(out, cap, "%zu %s %zu %d %d", r->len, r->err ? r->err : "-", r->nkeys,
                     r->noreply, r->has_data ? (int)r->data_len : -1);

    for (size_t i = 0; i < r->nkeys && r->err == NULL && (size_t)n < cap; i++) {
        const struct sp_key_span *k = &r->tok[r->first_key + i];

        n += snprintf(out + n, cap - (size_t)n, " %.*s", (int)k->len, (const char *)p + k->off);
    }
}

/*
 * Frames `stream` (n bytes) fed in pieces of `step` bytes (0: whole); appends one line per
 * message to `log` (and the error when the framing is lost).
 */
static void frame_requests(const char *stream, size_t n, size_t step, char *log, size_t cap)
{
    struct evbuffer *b = evbuffer_new();
    struct sp_mc_request r;
    char err[SP_MC_ERRLEN], line[1024];
    size_t fed = 0, used = 0;
    int rc = SP_PARSE_AGAIN;

    sp_mc_request_init(&r);
    log[0] = '\0';
    while (fed < n && rc != SP_PARSE_ERROR) {
        size_t k = step == 0 || step > n - fed ? n - fed : step;

        evbuffer_add(b, stream + fed, k);
        fed += k;
        while ((rc = sp_mc_request_parse(&r, b, err, sizeof(err))) == SP_PARSE_OK) {
            describe_request(&r, b, line, sizeof(line));
            used += (size_t)snprintf(log + used, cap - used, "%s\n", line);
            evbuffer_drain(b, r.len);
        }
        if (rc == SP_PARSE_ERROR)
            used += (size_t)snprintf(log + used, cap - used, "ERROR %s\n", err);
    }
    sp_mc_request_free(&r);
    evbuffer_free(b);
}

/* Frames `stream` whole, split at every byte, and byte by byte: all must give `want`. */
static void check_requests(const char *stream, size_t n, const char *want)
{
    static char whole[8192], split[8192];

    frame_requests(stream, n, 0, whole, sizeof(whole));
    ck_assert_msg(strcmp(whole, want) == 0, "stream %.60s:\n got:\n%s want:\n%s", stream, whole,
                  want);
    for (size_t step = 1; step <= n && step < 64; step++) {
        frame_requests(stream, n, step, split, sizeof(split));
        ck_assert_msg(strcmp(split, whole) == 0, "step %zu:\n%s vs whole:\n%s", step, split,
                      whole);
    }
}

#define CHECK_REQ(s, want) check_requests((s), sizeof(s) - 1, (want))

START_TEST(request_storage)
{
    CHECK_REQ("set k 0 0 5\r\nhello\r\n", "20 - 1 0 5 k\n");
    CHECK_REQ("add k 1 2 0 noreply\r\n\r\n", "23 - 1 1 0 k\n");
    CHECK_REQ("cas k 0 0 1 99\r\nx\r\n", "19 - 1 0 1 k\n");
    CHECK_REQ("ms k 2 T0 F5\r\nhi\r\n", "18 - 1 0 2 k\n");
    CHECK_REQ("ms k 2 q\r\nhi\r\n", "14 - 1 0 2 k\n");
    /* binary data, CRLF inside the block: skipped by its length */
    CHECK_REQ("set k 0 0 4\r\n\r\n\0\n\r\n", "19 - 1 0 4 k\n");
    /* LF-only line, as memcached accepts; the block still needs its CRLF */
    CHECK_REQ("set k 0 0 1\nx\r\n", "15 - 1 0 1 k\n");
    /* block longer than declared: memcached takes the length, then reads on */
    CHECK_REQ("set k 0 0 1\r\nxyz\r\n",
              "16 CLIENT_ERROR bad data chunk 1 0 1\n2 ERROR 0 0 -1\n");
    CHECK_REQ("set k 0 0 1 noreply\r\nxyz\r\n",
              "24 CLIENT_ERROR bad data chunk 1 1 1\n2 ERROR 0 0 -1\n");
}
END_TEST

START_TEST(request_storage_refused)
{
    /* memcached refuses the line and reads the block as the next command */
    CHECK_REQ("set k -1 0 1\r\nx\r\n",
              "14 CLIENT_ERROR bad command line format 1 0 -1\n3 ERROR 0 0 -1\n");
    CHECK_REQ("set k 0 0 -1\r\nx\r\n",
              "14 CLIENT_ERROR bad command line format 1 0 -1\n3 ERROR 0 0 -1\n");
    CHECK_REQ("set k 0 x 1 noreply\r\n",
              "21 CLIENT_ERROR bad command line format 1 1 -1\n");
    CHECK_REQ("set k 4294967296 0 1\r\n", "22 CLIENT_ERROR bad command line format 1 0 -1\n");
    CHECK_REQ("cas k 0 0 1\r\n", "13 ERROR 0 0 -1\n");
    CHECK_REQ("cas k 0 0 1 x\r\n", "15 CLIENT_ERROR bad command line format 1 0 -1\n");
    CHECK_REQ("set k 0 0\r\n", "11 ERROR 0 0 -1\n");
    CHECK_REQ("set k 0 0 1 2 3\r\n", "17 ERROR 0 0 -1\n");
    CHECK_REQ("ms k\r\n", "6 CLIENT_ERROR bad command line format 1 0 -1\n");
    CHECK_REQ("ms k S2\r\n", "9 CLIENT_ERROR bad command line format 1 0 -1\n");
    /* the proxy's own refusals of a well-formed line swallow the block */
    CHECK_REQ("set a\001 0 0 1\r\nx\r\n",
              "17 CLIENT_ERROR bad key: control byte 0x01 at byte 5 1 0 1\n");
    CHECK_REQ("ms k 2 b\r\nhi\r\n",
              "14 CLIENT_ERROR base64 keys (meta flag b) are not supported by the proxy 1 0 2\n");
}
END_TEST

START_TEST(request_keys)
{
    char longkey[400], want[600];

    CHECK_REQ("get a bb ccc\r\n", "14 - 3 0 -1 a bb ccc\n");
    CHECK_REQ("  gets  a   b  \r\n", "17 - 2 0 -1 a b\n");
    CHECK_REQ("gat 10 a b\r\n", "12 - 2 0 -1 a b\n");
    CHECK_REQ("gats -1\r\n", "9 - 0 0 -1\n");
    CHECK_REQ("gat x a\r\n", "9 CLIENT_ERROR invalid exptime argument 1 0 -1\n");
    CHECK_REQ("get\r\n", "5 ERROR 0 0 -1\n");
    CHECK_REQ("GET a\r\n", "7 ERROR 0 0 -1\n");
    CHECK_REQ("\r\n\n", "2 ERROR 0 0 -1\n1 ERROR 0 0 -1\n");
    CHECK_REQ("get a\rb\r\n",
              "9 CLIENT_ERROR bad key: control byte 0x0d at byte 5 1 0 -1\n");
    CHECK_REQ("delete k\r\ndelete k 0\r\ndelete k noreply\r\ndelete k 0 noreply\r\n",
              "10 - 1 0 -1 k\n12 - 1 0 -1 k\n18 - 1 1 -1 k\n20 - 1 1 -1 k\n");
    CHECK_REQ("delete k 1\r\n",
              "12 CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply] 1 0 -1\n");
    CHECK_REQ("incr k 5\r\ndecr k 18446744073709551615 noreply\r\n",
              "10 - 1 0 -1 k\n37 - 1 1 -1 k\n");
    CHECK_REQ("incr k -1\r\n", "11 CLIENT_ERROR invalid numeric delta argument 1 0 -1\n");
    CHECK_REQ("touch k x\r\n", "11 CLIENT_ERROR invalid exptime argument 1 0 -1\n");
    CHECK_REQ("mg k v f t\r\nmd k\r\nma k D5\r\nme k\r\n",
              "12 - 1 0 -1 k\n6 - 1 0 -1 k\n9 - 1 0 -1 k\n6 - 1 0 -1 k\n");
    CHECK_REQ("mg\r\nme\r\n", "4 ERROR 0 0 -1\n4 CLIENT_ERROR bad command line format 1 0 -1\n");
    CHECK_REQ("version\r\nquit\r\nmn\r\nstats\r\nflush_all noreply\r\n",
              "9 - 0 0 -1\n6 - 0 0 -1\n4 - 0 0 -1\n7 - 0 0 -1\n19 - 0 1 -1\n");
    /* 250 bytes is the longest key */
    memset(longkey, 'k', 251);
    longkey[250] = '\0';
    snprintf(want, sizeof(want), "%d - 1 0 -1 %s\n", 4 + 250 + 2, longkey);
    {
        char req[300];
        int n = snprintf(req, sizeof(req), "get %s\r\n", longkey);

        check_requests(req, (size_t)n, want);
        longkey[250] = 'k';
        longkey[251] = '\0';
        n = snprintf(req, sizeof(req), "get %s\r\n", longkey);
        check_requests(req, (size_t)n, "257 CLIENT_ERROR bad command line format 1 0 -1\n");
    }
}
END_TEST

START_TEST(request_limits)
{
    static char big[SP_MC_MAX_RETRIEVAL_LINE + 16];
    char log[512];

    /* a non-retrieval line with no LF within 2048 bytes: the framing is lost */
    memset(big, 'x', 3000);
    memcpy(big, "bogus ", 6);
    frame_requests(big, 3000, 0, log, sizeof(log));
    ck_assert_str_eq(log, "ERROR CLIENT_ERROR line too long (over 2048 bytes) at byte 0\n");
    /* a get line may be longer, up to max_retrieval_line */
    memcpy(big, "get ", 4);
    memcpy(big + 2998, "\r\n", 2);
    frame_requests(big, 3000, 0, log, sizeof(log));
    ck_assert_str_eq(log, "3000 CLIENT_ERROR bad command line format 2 0 -1\n");
    memset(big, 'k', sizeof(big));
    memcpy(big, "get ", 4);
    frame_requests(big, sizeof(big), 1000, log, sizeof(log));
    ck_assert_str_eq(log, "ERROR CLIENT_ERROR line too long (over 262144 bytes) at byte 0\n");
    /* a value no memcached can store */
    frame_requests("set k 0 0 1073741825\r\n", 22, 0, log, sizeof(log));
    ck_assert_str_eq(log, "ERROR SERVER_ERROR object too large for cache (1073741825 bytes, "
                          "limit 1073741824) at byte 0\n");
    /* offsets count from the stream's start */
    frame_requests("get a\r\nset k 0 0 1073741825\r\n", 29, 3, log, sizeof(log));
    ck_assert_str_eq(log, "7 - 1 0 -1 a\nERROR SERVER_ERROR object too large for cache "
                          "(1073741825 bytes, limit 1073741824) at byte 7\n");
}
END_TEST

START_TEST(request_big_value_not_rescanned)
{
    size_t vlen = 4u << 20;
    struct evbuffer *b = evbuffer_new();
    struct sp_mc_request r;
    char err[SP_MC_ERRLEN], *chunk = calloc(1, 4096);
    size_t sent = 0;
    int rc = SP_PARSE_AGAIN;

    ck_assert_ptr_nonnull(chunk);
    sp_mc_request_init(&r);
    evbuffer_add_printf(b, "set big 0 0 %zu\r\n", vlen);
    while (sent < vlen) {
        evbuffer_add(b, chunk, 4096);
        sent += 4096;
        rc = sp_mc_request_parse(&r, b, err, sizeof(err));
        ck_assert_int_eq(rc, SP_PARSE_AGAIN);
    }
    evbuffer_add(b, "\r\n", 2);
    ck_assert_int_eq(sp_mc_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
    ck_assert_uint_eq(r.len, evbuffer_get_length(b));
    ck_assert_ptr_null(r.err);
    ck_assert_uint_lt(r.examined, 64); /* the line only: the value was never looked at */
    sp_mc_request_free(&r);
    evbuffer_free(b);
    free(chunk);
}
END_TEST

START_TEST(request_pending_restart)
{
    struct evbuffer *b = evbuffer_new();
    struct sp_mc_request r;
    char err[SP_MC_ERRLEN];

    sp_mc_request_init(&r);
    ck_assert_int_eq(sp_mc_request_pending(&r), 0);
    evbuffer_add(b, "get a", 5);
    ck_assert_int_eq(sp_mc_request_parse(&r, b, err, sizeof(err)), SP_PARSE_AGAIN);
    ck_assert_int_eq(sp_mc_request_pending(&r), 1);
    evbuffer_add(b, "\r\nset k 0 0 2\r\nh", 16);
    ck_assert_int_eq(sp_mc_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
    ck_assert_int_eq(sp_mc_request_pending(&r), 0);
    evbuffer_drain(b, r.len);
    ck_assert_int_eq(sp_mc_request_parse(&r, b, err, sizeof(err)), SP_PARSE_AGAIN);
    ck_assert_int_eq(sp_mc_request_pending(&r), 1);
    evbuffer_add(b, "i\r\n", 3);
    ck_assert_int_eq(sp_mc_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
    evbuffer_drain(b, r.len);
    /* another stream, at offset 1000: errors name its offsets */
    sp_mc_request_restart(&r, 1000);
    evbuffer_add(b, "get \001\r\n", 7);
    ck_assert_int_eq(sp_mc_request_parse(&r, b, err, sizeof(err)), SP_PARSE_OK);
    ck_assert_str_eq(r.err, "CLIENT_ERROR bad key: control byte 0x01 at byte 1004");
    sp_mc_request_free(&r);
    evbuffer_free(b);
}
END_TEST

/* ---- replies ---- */

static void frame_replies(const char *stream, size_t n, size_t step, char *log, size_t cap)
{
    struct evbuffer *b = evbuffer_new();
    struct sp_mc_reply p;
    char err[SP_MC_ERRLEN];
    size_t fed = 0, used = 0;
    int rc = SP_PARSE_AGAIN;

    sp_mc_reply_init(&p);
    p.want_elems = 1;
    log[0] = '\0';
    while (fed < n && rc != SP_PARSE_ERROR) {
        size_t k = step == 0 || step > n - fed ? n - fed : step;

        evbuffer_add(b, stream + fed, k);
        fed += k;
        while ((rc = sp_mc_reply_parse(&p, b, err, sizeof(err))) == SP_PARSE_OK) {
            used += (size_t)snprintf(log + used, cap - used, "%zu k%d e%d", p.len, (int)p.kind,
                                     p.is_error);
            for (size_t i = 0; i < p.nelems; i++)
                used += (size_t)snprintf(log + used, cap - used, " [%zu,%zu]", p.elems[i].off,
                                         p.elems[i].len);
            used += (size_t)snprintf(log + used, cap - used, "\n");
            evbuffer_drain(b, p.len);
        }
        if (rc == SP_PARSE_ERROR)
            used += (size_t)snprintf(log + used, cap - used, "ERROR %s\n", err);
    }
    sp_mc_reply_free(&p);
    evbuffer_free(b);
}

static void check_replies(const char *stream, size_t n, const char *want)
{
    static char whole[4096], split[4096];

    frame_replies(stream, n, 0, whole, sizeof(whole));
    ck_assert_msg(strcmp(whole, want) == 0, "replies %.60s:\n got:\n%s want:\n%s", stream, whole,
                  want);
    for (size_t step = 1; step <= n && step < 64; step++) {
        frame_replies(stream, n, step, split, sizeof(split));
        ck_assert_msg(strcmp(split, whole) == 0, "step %zu:\n%s vs whole:\n%s", step, split,
                      whole);
    }
}

#define CHECK_REP(s, want) check_replies((s), sizeof(s) - 1, (want))

START_TEST(reply_lines)
{
    CHECK_REP("STORED\r\nNOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\nDELETED\r\nTOUCHED\r\nOK\r\n",
              "8 k0 e0\n12 k0 e0\n8 k0 e0\n11 k0 e0\n9 k0 e0\n9 k0 e0\n4 k0 e0\n");
    CHECK_REP("42\r\n0  \r\nVERSION 1.6.18\r\n", "4 k0 e0\n5 k0 e0\n16 k0 e0\n");
    CHECK_REP("ERROR\r\nCLIENT_ERROR bad\r\nSERVER_ERROR out of memory\r\n",
              "7 k0 e1\n18 k0 e1\n28 k0 e1\n");
    CHECK_REP("HD c5 kfoo\r\nEN\r\nNF\r\nNS\r\nEX\r\nMN\r\nME k exp=-1 la=3\r\n",
              "12 k0 e0\n4 k0 e0\n4 k0 e0\n4 k0 e0\n4 k0 e0\n4 k0 e0\n18 k0 e0\n");
}
END_TEST

START_TEST(reply_items)
{
    CHECK_REP("END\r\n", "5 k1 e0\n");
    CHECK_REP("VALUE a 0 1\r\nx\r\nVALUE bb 5 3 99\r\n\r\n\n\r\nEND\r\n",
              "43 k1 e0 [0,16] [16,22]\n");
    CHECK_REP("VA 2 f5\r\nhi\r\nVA 0\r\n\r\n", "13 k2 e0\n8 k2 e0\n");
    /* an error ends a run of items */
    CHECK_REP("VALUE a 0 1\r\nx\r\nSERVER_ERROR out of memory\r\n", "44 k1 e1 [0,16]\n");
    CHECK_REP("BOGUS\r\n", "ERROR Protocol error: unexpected reply line at byte 0\n");
    CHECK_REP("VALUE a 0 1\r\nxy\r\n",
              "ERROR Protocol error: data block not followed by CRLF at byte 14\n");
    CHECK_REP("VALUE a 0 1\r\nx\r\nSTORED\r\n",
              "ERROR Protocol error: unexpected reply line at byte 16\n");
    CHECK_REP("STORED\r\nVALUE a 0 x\r\n",
              "8 k0 e0\nERROR Protocol error: unexpected reply line at byte 8\n");
}
END_TEST

START_TEST(reply_value_line)
{
    struct sp_mc_value v;

    ck_assert_int_eq(sp_mc_value_line((const unsigned char *)"VALUE key 1 23 4", 16, 100, &v), 0);
    ck_assert_uint_eq(v.key_off, 6);
    ck_assert_uint_eq(v.key_len, 3);
    ck_assert_uint_eq(v.bytes, 23);
    ck_assert_int_eq(sp_mc_value_line((const unsigned char *)"VALUE key 1 23", 14, 22, &v), -1);
    ck_assert_int_eq(sp_mc_value_line((const unsigned char *)"VALUE key 1", 11, 100, &v), -1);
    ck_assert_int_eq(sp_mc_value_line((const unsigned char *)"VALUE  1 2", 10, 100, &v), -1);
    ck_assert_int_eq(sp_mc_value_line((const unsigned char *)"VA 1", 4, 100, &v), -1);
}
END_TEST

START_TEST(reply_limits)
{
    static char line[SP_MC_MAX_REPLY_LINE + 10];
    char log[256];

    memset(line, 'x', sizeof(line));
    memcpy(line, "SERVER_ERROR ", 13);
    frame_replies(line, sizeof(line), 0, log, sizeof(log));
    ck_assert_str_eq(log, "ERROR Protocol error: reply line too long at byte 0\n");
    frame_replies("VALUE a 0 1073741825\r\n", 22, 0, log, sizeof(log));
    ck_assert_str_eq(log, "ERROR Protocol error: unexpected reply line at byte 0\n");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("memcache");
    TCase *t = tcase_create("core");

    tcase_set_timeout(t, 120);
    tcase_add_test(t, table_sorted_and_found);
    tcase_add_test(t, table_documented);
    tcase_add_test(t, numbers_strict);
    tcase_add_test(t, request_storage);
    tcase_add_test(t, request_storage_refused);
    tcase_add_test(t, request_keys);
    tcase_add_test(t, request_limits);
    tcase_add_test(t, request_big_value_not_rescanned);
    tcase_add_test(t, request_pending_restart);
    tcase_add_test(t, reply_lines);
    tcase_add_test(t, reply_items);
    tcase_add_test(t, reply_value_line);
    tcase_add_test(t, reply_limits);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
