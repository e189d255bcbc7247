/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server reply framing for the memcached text and meta protocols, resumable across reads.
 *
 * A reply is one line, or VALUE items and END (get, gets, gat, gats), or a meta VA line and its
 * data block.  Which one is told by the first word of the first line, so the parser needs no
 * knowledge of the request.  Each line is searched for its LF once; only its first few hundred
 * bytes are copied out to be read (a VALUE line's key is at most 250 bytes); data blocks are
 * skipped by their length and only their CRLF is read.  An unknown first word loses the framing:
 * the server connection is closed rather than misreading the stream.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mc.h"

enum rp_state {
    RP_START,    /* nothing of the reply seen yet */
    RP_ITEMS,    /* inside VALUE items: the next line is VALUE, END or an error */
    RP_DATA,     /* waiting until the buffer holds `need` bytes (a data block and its CRLF) */
    RP_DONE,
    RP_FAILED,
};

/* Room for the words of a reply line the parser reads: a VALUE line with a 250-byte key. */
#define HEAD_MAX 320

void sp_mc_reply_init(struct sp_mc_reply *p)
{
    memset(p, 0, sizeof(*p));
    p->max_line = SP_MC_MAX_REPLY_LINE;
    p->max_value = SP_MC_MAX_VALUE;
    p->state = RP_START;
}

void sp_mc_reply_free(struct sp_mc_reply *p)
{
    free(p->elems);
    p->elems = NULL;
    p->elems_cap = 0;
    p->nelems = 0;
}

static void start_reply(struct sp_mc_reply *p)
{
    p->len = 0;
    p->kind = SP_MC_REPLY_LINE;
    p->is_error = 0;
    p->nelems = 0;
    p->state = RP_START;
    p->pos = 0;
    p->scan = 0;
    p->need = 0;
}

void sp_mc_reply_reset(struct sp_mc_reply *p)
{
    start_reply(p);
    p->stream_off = 0;
}

void sp_mc_reply_skip(struct sp_mc_reply *p, size_t n)
{
    p->stream_off += n;
}

static enum sp_parse fail(struct sp_mc_reply *p, char *err, size_t errlen, size_t at,
                          const char *what)
{
    p->state = RP_FAILED;
    if (errlen > 0)
        snprintf(err, errlen, "Protocol error: %s at byte %llu", what,
                 (unsigned long long)(p->stream_off + at));
    return SP_PARSE_ERROR;
}

static int word_is(const unsigned char *s, size_t n, const char *w)
{
    size_t k = strlen(w);

    return n >= k && memcmp(s, w, k) == 0 && (n == k || s[k] == ' ');
}

/* A one-line reply the parser knows: status words, numbers (incr/decr), meta codes. */
static int single_line(const unsigned char *s, size_t n)
{
    static const char *const words[] = {
        "STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED", "OK", "VERSION",
        "HD", "EN", "NF", "NS", "EX", "MN", "ME",
    };

    if (n > 0 && s[0] >= '0' && s[0] <= '9')
        return 1;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (word_is(s, n, words[i]))
            return 1;
    }
    return 0;
}

/* Bytes before the first space of s[0, n). */
static size_t word_len(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n && s[i] != ' ')
        i++;
    return i;
}

int sp_mc_value_line(const unsigned char *line, size_t n, size_t max_value,
                     struct sp_mc_value *v)
{
    size_t key, flags_at, bytes_at;
    uint64_t bytes;

    /* VALUE <key> <flags> <bytes>[ <cas>]: single spaces, as memcached writes them */
    if (n < 6 || memcmp(line, "VALUE ", 6) != 0)
        return -1;
    key = word_len(line + 6, n - 6);
    flags_at = 6 + key + 1;
    if (key == 0 || flags_at >= n)
        return -1;
    bytes_at = flags_at + word_len(line + flags_at, n - flags_at) + 1;
    if (bytes_at >= n ||
        sp_mc_parse_u64(line + bytes_at, word_len(line + bytes_at, n - bytes_at), max_value,
                        &bytes) < 0)
        return -1;
    v->key_off = 6;
    v->key_len = key;
    v->bytes = (size_t)bytes;
    return 0;
}

static int error_line(const unsigned char *s, size_t n)
{
    return word_is(s, n, "ERROR") || word_is(s, n, "CLIENT_ERROR") ||
           word_is(s, n, "SERVER_ERROR");
}

static int add_elem(struct sp_mc_reply *p, size_t off, size_t len)
{
    if (p->nelems == p->elems_cap) {
        size_t cap = p->elems_cap ? p->elems_cap * 2 : 8;
        struct sp_part *e = realloc(p->elems, cap * sizeof(*e));

        if (e == NULL)
            return -1;
        p->elems = e;
        p->elems_cap = cap;
    }
    p->elems[p->nelems].off = off;
    p->elems[p->nelems].len = len;
    p->nelems++;
    return 0;
}

/*
 * Finds the LF of the line at p->pos.  Returns OK with *eol (its offset) and the line's first
 * bytes in head, *hn of them (CR/LF excluded), AGAIN, or ERROR for a line over max_line.
 */
static enum sp_parse next_line(struct sp_mc_reply *p, struct evbuffer *in, size_t *eol,
                               unsigned char *head, size_t *hn, char *err, size_t errlen)
{
    size_t total = evbuffer_get_length(in);
    size_t to = total < p->pos + p->max_line ? total : p->pos + p->max_line;
    long lf;
    size_t n;

    if (p->scan < p->pos)
        p->scan = p->pos;
    lf = sp_mc_find_lf(in, p->scan, to);
    if (lf < 0) {
        p->examined += to > p->scan ? to - p->scan : 0;
        p->scan = to;
        if (to == p->pos + p->max_line)
            return fail(p, err, errlen, p->pos, "reply line too long");
        return SP_PARSE_AGAIN;
    }
    p->examined += (size_t)lf + 1 - p->scan;
    *eol = (size_t)lf;
    n = *eol - p->pos;
    if (n > HEAD_MAX)
        n = HEAD_MAX;
    if (sp_mc_copy_at(in, p->pos, head, n) < 0)
        return fail(p, err, errlen, p->pos, "short buffer");
    if (n > 0 && n == *eol - p->pos && head[n - 1] == '\r')
        n--;
    *hn = n;
    return SP_PARSE_OK;
}

/* Waits for the data block that ends at p->need and checks its CRLF. */
static enum sp_parse data_block(struct sp_mc_reply *p, struct evbuffer *in, char *err,
                                size_t errlen)
{
    char crlf[2];

    if (evbuffer_get_length(in) < p->need)
        return SP_PARSE_AGAIN;
    if (sp_mc_copy_at(in, p->need - 2, crlf, 2) < 0 || crlf[0] != '\r' || crlf[1] != '\n')
        return fail(p, err, errlen, p->need - 2, "data block not followed by CRLF");
    return SP_PARSE_OK;
}

/* One line at p->pos, in state RP_START or RP_ITEMS.  Returns OK when the reply is complete. */
static enum sp_parse one_line(struct sp_mc_reply *p, struct evbuffer *in, char *err,
                              size_t errlen)
{
    unsigned char head[HEAD_MAX];
    struct sp_mc_value v;
    size_t eol, n;
    uint64_t bytes;
    enum sp_parse rc = next_line(p, in, &eol, head, &n, err, errlen);

    if (rc != SP_PARSE_OK)
        return rc;
    if (sp_mc_value_line(head, n, p->max_value, &v) == 0) {
        if (p->want_elems && add_elem(p, p->pos, eol + 1 + v.bytes + 2 - p->pos) < 0)
            return fail(p, err, errlen, p->pos, "out of memory");
        p->kind = SP_MC_REPLY_VALUES;
        p->need = eol + 1 + v.bytes + 2;
        p->state = RP_DATA;
        return SP_PARSE_AGAIN; /* the caller goes on with the data block */
    }
    if (word_is(head, n, "END") || (p->state == RP_START && single_line(head, n)) ||
        error_line(head, n)) {
        p->is_error = error_line(head, n);
        if (word_is(head, n, "END"))
            p->kind = SP_MC_REPLY_VALUES;
        p->len = eol + 1;
        return SP_PARSE_OK;
    }
    if (p->state == RP_START && word_is(head, n, "VA") &&
        sp_mc_parse_u64(head + 3, word_len(head + 3, n > 3 ? n - 3 : 0), p->max_value,
                        &bytes) == 0) {
        p->kind = SP_MC_REPLY_VA;
        p->need = eol + 1 + (size_t)bytes + 2;
        p->state = RP_DATA;
        return SP_PARSE_AGAIN;
    }
    return fail(p, err, errlen, p->pos, "unexpected reply line");
}

enum sp_parse sp_mc_reply_parse(struct sp_mc_reply *p, struct evbuffer *in, char *err,
                                size_t errlen)
{
    if (p->state == RP_FAILED)
        return fail(p, err, errlen, 0, "framing lost earlier in the stream");
    if (p->state == RP_DONE) {
        p->stream_off += p->len;
        start_reply(p);
        if (p->elems_cap > SP_MC_KEEP_ELEMS)
            sp_mc_reply_free(p); /* the last reply's items, handed over already */
    }
    for (;;) {
        enum sp_parse rc;

        if (p->state == RP_DATA) {
            rc = data_block(p, in, err, errlen);
            if (rc != SP_PARSE_OK)
                return rc;
            if (p->kind == SP_MC_REPLY_VA) {
                p->len = p->need;
                p->state = RP_DONE;
                return SP_PARSE_OK;
            }
            p->pos = p->need;
            p->state = RP_ITEMS;
        }
        rc = one_line(p, in, err, errlen);
        if (rc == SP_PARSE_OK) {
            p->state = RP_DONE;
            return SP_PARSE_OK;
        }
        if (rc == SP_PARSE_ERROR || p->state != RP_DATA)
            return rc;
    }
}
