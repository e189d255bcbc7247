/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for both RESP parsers.  Byte 0 picks the parser and the chain mode; the rest
 * is the stream.  The stream is parsed fed whole, and fed split at points derived from byte 1 (or
 * a byte at a time when short); every way must frame the same messages with the same results
 * and end with the same error, and every framed message must satisfy the parser's contract.
 * Any difference aborts.  Build it with clang and libFuzzer as tests/fuzz/README.md shows; and,
 * without libFuzzer, driven by tests/fuzz/replay.c under `make check`.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "redis/resp.h"
#include "fuzz.h"
#include "fuzz_feed.h"

#define CHECK(cond) SP_FUZZ_CHECK("fuzz_resp", cond)

const char *const sp_fuzz_seeds[] = {
    "*1\r\n$4\r\nPING\r\n", "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", "GET foo bar\r\n", "PING\n",
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\r\n\r\n", "*0\r\n*-1\r\n\r\n",
    "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n", "+OK\r\n", "-ERR x\r\n", ":-12\r\n",
    "$3\r\nfoo\r\n$-1\r\n$0\r\n\r\n", "*2\r\n*1\r\n:1\r\n*-1\r\n", "*0\r\n",
    "*3\r\n$1\r\na\r\n*2\r\n+x\r\n-y\r\n:5\r\n", "*1\r\n*1\r\n*1\r\n$2\r\nhi\r\n",
    "SET \"a b\" 'c\\'d' \"\\x41\"\r\n",
};
const size_t sp_fuzz_nseeds = sizeof(sp_fuzz_seeds) / sizeof(sp_fuzz_seeds[0]);
const char sp_fuzz_alphabet[] = "*$:+-\r\n0123456789 -1aZ\"'\\x";
const size_t sp_fuzz_prefix = 2;

static void request_done(struct sp_resp_request *r, struct evbuffer *b, struct fuzz_outcome *o)
{
    struct evbuffer *args = sp_resp_request_args(r, b);
    size_t bound = r->is_inline ? evbuffer_get_length(args) : r->len;

    CHECK(r->len > 0 && r->len <= evbuffer_get_length(b));
    CHECK(r->argc <= r->max_args);
    CHECK(r->argc == 0 || r->argv != NULL);
    for (size_t i = 0; i < r->argc; i++) {
        CHECK(r->argv[i].off + r->argv[i].len <= bound);
        CHECK(i == 0 || r->argv[i].off >= r->argv[i - 1].off + r->argv[i - 1].len);
        fuzz_mix(o, &r->argv[i], sizeof(r->argv[i]));
    }
    if (r->argc > 0 && r->cmd != NULL) {
        char name[SP_RESP_ERRLEN];
        long n = sp_resp_arg_copy(args, 0, &r->argv[0], name, sizeof(name));

        CHECK(n == (long)r->argv[0].len);
    }
    fuzz_mix(o, &r->len, sizeof(r->len));
    fuzz_mix(o, &r->is_inline, sizeof(r->is_inline));
    fuzz_mix(o, &r->cmd, sizeof(r->cmd));
}

static void reply_done(struct sp_resp_reply *p, struct evbuffer *b, struct fuzz_outcome *o)
{
    size_t at;

    CHECK(p->len > 0 && p->len <= evbuffer_get_length(b));
    CHECK(p->is_error == (p->type == SP_RESP_ERRORREPLY));
    if (p->type == SP_RESP_ARRAY && p->nelems > 0) {
        /* top-level elements tile the reply after its header */
        at = p->elems[0].off;
        for (size_t i = 0; i < p->nelems; i++) {
            CHECK(p->elems[i].off == at && p->elems[i].len > 0);
            at += p->elems[i].len;
        }
        CHECK(at == p->len);
        fuzz_mix(o, p->elems, p->nelems * sizeof(p->elems[0]));
    }
    fuzz_mix(o, &p->len, sizeof(p->len));
    fuzz_mix(o, &p->type, sizeof(p->type));
    fuzz_mix(o, &p->integer, sizeof(p->integer));
    fuzz_mix(o, &p->nelems, sizeof(p->nelems));
}

/* Feeds d[0..n) in pieces of the sizes step() gives; runs the parser after each piece. */
static void feed(int reply, const uint8_t *d, size_t n, fuzz_step_fn step,
                 unsigned seed, int separate, struct fuzz_outcome *o)
{
    struct evbuffer *b = evbuffer_new();
    struct sp_resp_request r;
    struct sp_resp_reply p;
    char err[SP_RESP_ERRLEN];
    size_t from = 0;

    fuzz_outcome_init(o);
    sp_resp_request_init(&r);
    r.max_args = 64;
    r.max_bulk = 1024;
    r.max_inline = 256;
    sp_resp_reply_init(&p);
    p.want_elems = 1;
    p.max_line = 256;
    while (from < n && !o->failed) {
        size_t k = step(from, seed);
        int rc;

        if (k > n - from)
            k = n - from;
        fuzz_add_piece(b, d + from, k, separate);
        from += k;
        for (;;) {
            rc = reply ? sp_resp_reply_parse(&p, b, err, sizeof(err))
                       : sp_resp_request_parse(&r, b, err, sizeof(err));
            if (rc != SP_PARSE_OK)
                break;
            o->messages++;
            if (reply)
                reply_done(&p, b, o);
            else
                request_done(&r, b, o);
            evbuffer_drain(b, reply ? p.len : r.len);
        }
        CHECK(rc == SP_PARSE_AGAIN || rc == SP_PARSE_ERROR);
        if (rc == SP_PARSE_ERROR) {
            CHECK(strncmp(err, "Protocol error: ", 16) == 0 &&
                  strstr(err, " at byte ") != NULL);
            fuzz_mix(o, err, strlen(err));
            o->failed = 1;
        }
    }
    sp_resp_request_free(&r);
    sp_resp_reply_free(&p);
    evbuffer_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_compare_feeds(feed, data[0] & 1, (data[0] >> 1) & 1, data[1], data + 2, size - 2);
    return 0;
}
