/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules of a memcached command line, as memcached 1.6 applies them: which lines it refuses
 * and with which words, which refusals `noreply` silences, and whether the data block after a
 * refused line is swallowed or read as the next command.  Framing depends on this: the proxy
 * forwards only lines memcached accepts (numbers are checked a little more strictly, never less),
 * so a data block always reaches the server behind the line that announces it.
 *
 * On top of memcached's rules the proxy refuses what it cannot route safely: keys with control
 * bytes (the protocol forbids them; memcached takes them) and the meta flag b (base64 keys: the
 * proxy would hash the encoded form, not the key).  Those refusals swallow the data block, as
 * memcached does for refusals after it has read the length.  The meta flag q (quiet: a reply
 * may or may not come) is noted for the adapter, which makes the reply's end certain.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mc.h"

#define BAD_FORMAT "CLIENT_ERROR bad command line format"

int sp_mc_parse_u64(const unsigned char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)s[i] - '0';

        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* An exptime: optional '-', digits, within 32 bits (memcached takes a long; all versions this). */
static int exptime_ok(const unsigned char *s, size_t n)
{
    uint64_t v;

    if (n > 0 && s[0] == '-')
        return sp_mc_parse_u64(s + 1, n - 1, (uint64_t)INT32_MAX + 1, &v) == 0;
    return sp_mc_parse_u64(s, n, INT32_MAX, &v) == 0;
}

static int tok_is(const struct sp_mc_request *r, const unsigned char *line, size_t i,
                  const char *word)
{
    size_t n = strlen(word);

    return i < r->ntok && r->tok[i].len == n && memcmp(line + r->tok[i].off, word, n) == 0;
}

static const unsigned char *tok_at(const struct sp_mc_request *r, const unsigned char *line,
                                   size_t i)
{
    return line + r->tok[i].off;
}

/* memcached's set_noreply_maybe: the last token is "noreply". */
static int last_is_noreply(const struct sp_mc_request *r, const unsigned char *line)
{
    return r->ntok > 1 && tok_is(r, line, r->ntok - 1, "noreply");
}

/* Key tok[first .. first+n): memcached's length rule, then the proxy's control-byte rule.
   Returns NULL or the error line. */
static const char *check_keys(struct sp_mc_request *r, const unsigned char *line, size_t first,
                              size_t n)
{
    for (size_t i = first; i < first + n; i++) {
        if (r->tok[i].len > SP_MC_KEY_MAX)
            return BAD_FORMAT;
    }
    for (size_t i = first; i < first + n; i++) {
        const unsigned char *k = tok_at(r, line, i);

        for (size_t j = 0; j < r->tok[i].len; j++) {
            if (k[j] < 0x20 || k[j] == 0x7f) {
                snprintf(r->errbuf, sizeof(r->errbuf),
                         "CLIENT_ERROR bad key: control byte 0x%02x at byte %llu", k[j],
                         (unsigned long long)(r->stream_off + r->tok[i].off + j));
                return r->errbuf;
            }
        }
    }
    return NULL;
}

/* The data block of `bytes` announced: 0 and has_data, or -1 when no server could store it. */
static int data_block(struct sp_mc_request *r, uint64_t bytes)
{
    if (bytes > r->max_value) {
        snprintf(r->errbuf, sizeof(r->errbuf),
                 "SERVER_ERROR object too large for cache (%llu bytes, limit %zu) at byte %llu",
                 (unsigned long long)bytes, r->max_value, (unsigned long long)r->stream_off);
        r->err = r->errbuf;
        return -1;
    }
    r->has_data = 1;
    r->data_len = (size_t)bytes;
    return 0;
}

/* set add replace append prepend cas: <key> <flags> <exptime> <bytes> [<cas>] [noreply]. */
static int check_store(struct sp_mc_request *r, const unsigned char *line, int cas)
{
    uint64_t flags, bytes, unique;

    r->noreply = last_is_noreply(r, line);
    if (r->tok[1].len > SP_MC_KEY_MAX ||
        sp_mc_parse_u64(tok_at(r, line, 2), r->tok[2].len, UINT32_MAX, &flags) < 0 ||
        !exptime_ok(tok_at(r, line, 3), r->tok[3].len) ||
        sp_mc_parse_u64(tok_at(r, line, 4), r->tok[4].len, INT32_MAX - 2, &bytes) < 0 ||
        (cas && sp_mc_parse_u64(tok_at(r, line, 5), r->tok[5].len, UINT64_MAX, &unique) < 0)) {
        r->err = BAD_FORMAT; /* the data block is not swallowed: memcached reads it as a line */
        return 0;
    }
    if (data_block(r, bytes) < 0)
        return -1;
    r->err = check_keys(r, line, 1, 1);
    return 0;
}

/* ms <key> <datalen> <flags>*: the data block is swallowed once the length is read. */
static int check_meta_set(struct sp_mc_request *r, const unsigned char *line)
{
    uint64_t bytes;

    if (r->ntok < 3 || r->tok[1].len > SP_MC_KEY_MAX ||
        sp_mc_parse_u64(tok_at(r, line, 2), r->tok[2].len, INT32_MAX - 2, &bytes) < 0) {
        r->err = BAD_FORMAT;
        return 0;
    }
    return data_block(r, bytes) < 0 ? -1 : 1;
}

/* Reads the meta flags from tok[first]: notes q; refuses b, which the proxy cannot carry. */
static const char *check_meta_flags(struct sp_mc_request *r, const unsigned char *line,
                                    size_t first)
{
    for (size_t i = first; i < r->ntok; i++) {
        unsigned char f = tok_at(r, line, i)[0];

        if (f == 'b')
            return "CLIENT_ERROR base64 keys (meta flag b) are not supported by the proxy";
        if (f == 'q')
            r->quiet = 1;
    }
    return NULL;
}

/* mg md ma me <key> <flags>*; ms after its length. */
static int check_meta(struct sp_mc_request *r, const unsigned char *line)
{
    size_t flags_from = 2;

    if (r->cmd->kind == SP_MC_META_SET) {
        int rc = check_meta_set(r, line);

        if (rc <= 0)
            return rc;
        flags_from = 3;
    } else if (r->ntok < 2 || r->tok[1].len > SP_MC_KEY_MAX) {
        r->err = BAD_FORMAT; /* "me" without a key; the others are caught by the arity */
        return 0;
    }
    r->first_key = 1;
    r->nkeys = 1;
    r->err = check_keys(r, line, 1, 1);
    if (r->err == NULL)
        r->err = check_meta_flags(r, line, flags_from);
    return 0;
}

/* delete <key> [0] [noreply] (the 0 is a relic memcached still accepts). */
static void check_delete(struct sp_mc_request *r, const unsigned char *line)
{

    if (r->ntok > 2) {
        int zero = tok_is(r, line, 2, "0");

        r->noreply = last_is_noreply(r, line);
        if (!((r->ntok == 3 && (zero || r->noreply)) ||
              (r->ntok == 4 && zero && r->noreply))) {
            r->err = BAD_FORMAT ".  Usage: delete <key> [noreply]";
            return;
        }
    }
    r->err = check_keys(r, line, 1, 1);
}

/* incr decr <key> <delta>; touch <key> <exptime>; [noreply]. */
static void check_key_number(struct sp_mc_request *r, const unsigned char *line)
{
    uint64_t delta;

    r->noreply = last_is_noreply(r, line);
    if (r->tok[1].len > SP_MC_KEY_MAX) {
        r->err = BAD_FORMAT;
        return;
    }
    if (r->cmd->kind == SP_MC_ARITH &&
        sp_mc_parse_u64(tok_at(r, line, 2), r->tok[2].len, UINT64_MAX, &delta) < 0) {
        r->err = "CLIENT_ERROR invalid numeric delta argument";
        return;
    }
    if (r->cmd->kind == SP_MC_TOUCH && !exptime_ok(tok_at(r, line, 2), r->tok[2].len)) {
        r->err = "CLIENT_ERROR invalid exptime argument";
        return;
    }
    r->err = check_keys(r, line, 1, 1);
}

/*
 * flush_all [<delay>] [noreply]; verbosity <level> [noreply].  As memcached: the number is the
 * first argument unless that is the final noreply (a third token is ignored); verbosity's number
 * is unsigned, flush_all's an exptime (the proxy keeps it to 32 bits, as elsewhere).
 */
static void check_all(struct sp_mc_request *r, const unsigned char *line)
{
    uint64_t level;

    r->noreply = last_is_noreply(r, line);
    if (r->cmd->id == SP_MC_CMD_flush_all) {
        if (r->ntok - 1 > (size_t)r->noreply && !exptime_ok(tok_at(r, line, 1), r->tok[1].len))
            r->err = "CLIENT_ERROR invalid exptime argument";
    } else if (sp_mc_parse_u64(tok_at(r, line, 1), r->tok[1].len, UINT64_MAX, &level) < 0) {
        r->err = BAD_FORMAT;
    }
}

/* Whether args (tokens after the name) fit the table's arity. */
static int arity_ok(const struct sp_mc_command *c, size_t args)
{
    return args >= (size_t)c->min_args && (c->max_args < 0 || args <= (size_t)c->max_args);
}

int sp_mc_request_check(struct sp_mc_request *r, const unsigned char *line)
{
    const struct sp_mc_command *c = r->cmd;

    r->first_key = 1;
    r->nkeys = 1;
    if (c == NULL || !arity_ok(c, r->ntok - 1)) {
        r->err = "ERROR"; /* unknown command, empty line, wrong number of tokens */
        r->nkeys = 0;
        return 0;
    }
    switch (c->kind) {
    case SP_MC_STORE:
    case SP_MC_CAS:
        return check_store(r, line, c->kind == SP_MC_CAS);
    case SP_MC_GET:
        r->nkeys = r->ntok - 1;
        r->err = check_keys(r, line, 1, r->nkeys);
        return 0;
    case SP_MC_GAT:
        r->first_key = 2;
        r->nkeys = r->ntok - 2;
        if (!exptime_ok(tok_at(r, line, 1), r->tok[1].len))
            r->err = "CLIENT_ERROR invalid exptime argument";
        else
            r->err = check_keys(r, line, 2, r->nkeys);
        return 0;
    case SP_MC_DELETE:
        check_delete(r, line);
        return 0;
    case SP_MC_ARITH:
    case SP_MC_TOUCH:
        check_key_number(r, line);
        return 0;
    case SP_MC_META:
    case SP_MC_META_SET:
        return check_meta(r, line);
    case SP_MC_ALL:
        check_all(r, line);
        r->nkeys = 0;
        return 0;
    case SP_MC_REFUSE:
        r->noreply = last_is_noreply(r, line);
        /* fall through */
    default:
        r->nkeys = 0;
        return 0;
    }
}
