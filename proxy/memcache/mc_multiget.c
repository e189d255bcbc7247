/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split and merge of memcached retrieval commands (see mc_multiget.h).
 *
 * The fragments are short lines, copied (keys are at most 250 bytes).  Each server answers the
 * hits among its keys in the order asked, then END; the merge walks the client's keys once,
 * taking from each fragment's reply the next item when it is that key's, and moves the items
 * (data blocks included) chain by chain into the client's reply, never copying a value.
 */
#include "config.h"

#include <string.h>

#include "mc_fanout.h"
#include "mc_multiget.h"

#define END_LINE "END\r\n"

int sp_mc_split_lines(const struct sp_mc_request *r, const unsigned char *line,
                      const uint32_t *frag_of_key, size_t nfrags, struct evbuffer *const *out,
                      struct evbuffer *memo)
{
    const struct sp_key_span *last = &r->tok[r->first_key - 1];
    size_t prefix = last->off + last->len; /* "get", or "gat <exptime>", as the client wrote it */
    struct evbuffer_iovec v;
    unsigned char *p;

    for (uint32_t f = 0; f < nfrags; f++) {
        if (evbuffer_reserve_space(out[f], (ev_ssize_t)(r->line_len + 2), &v, 1) != 1)
            return -1;
        p = v.iov_base;
        memcpy(p, line, prefix);
        p += prefix;
        for (size_t i = 0; i < r->nkeys; i++) {
            const struct sp_key_span *k = &r->tok[r->first_key + i];

            if (frag_of_key[i] != f)
                continue;
            *p++ = ' ';
            memcpy(p, line + k->off, k->len);
            p += k->len;
        }
        memcpy(p, "\r\n", 2);
        v.iov_len = (size_t)(p + 2 - (unsigned char *)v.iov_base);
        if (evbuffer_commit_space(out[f], &v, 1) < 0)
            return -1;
    }
    if (evbuffer_reserve_space(memo, (ev_ssize_t)(r->line_len + r->nkeys), &v, 1) != 1)
        return -1;
    p = v.iov_base;
    for (size_t i = 0; i < r->nkeys; i++) {
        const struct sp_key_span *k = &r->tok[r->first_key + i];

        *p++ = (unsigned char)k->len; /* <= SP_MC_KEY_MAX */
        memcpy(p, line + k->off, k->len);
        p += k->len;
    }
    v.iov_len = (size_t)(p - (unsigned char *)v.iov_base);
    return evbuffer_commit_space(memo, &v, 1);
}

/* A fragment's reply is items and END (else it is an error, or missing). */
static int part_ok(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    struct evbuffer_ptr at;
    char tail[5], first = 0;

    if (n < 5 || evbuffer_ptr_set(b, &at, n - 5, EVBUFFER_PTR_SET) < 0 ||
        evbuffer_copyout_from(b, &at, tail, 5) != 5 || memcmp(tail, END_LINE, 5) != 0)
        return 0;
    return n == 5 || (evbuffer_copyout(b, &first, 1) == 1 && first == 'V');
}

/* The first failed fragment in key order, or -1. */
static long first_error(const uint32_t *frag_of_key, size_t nkeys, struct evbuffer *const *rep,
                        size_t nfrags)
{
    size_t nbad = 0;

    for (size_t f = 0; f < nfrags; f++)
        nbad += !part_ok(rep[f]);
    for (size_t i = 0; nbad > 0 && i < nkeys; i++) {
        if (!part_ok(rep[frag_of_key[i]]))
            return (long)frag_of_key[i];
    }
    return -1;
}

/*
 * If the item at the head of `b` is key[0, klen), returns its length (line, data, CRLF), else 0.
 */
static size_t head_item(struct evbuffer *b, const unsigned char *key, size_t klen)
{
    unsigned char line[6 + SP_MC_KEY_MAX + 64];
    ev_ssize_t n = evbuffer_copyout(b, line, sizeof(line));
    const unsigned char *lf = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
    struct sp_mc_value v;
    size_t len;

    if (lf == NULL)
        return 0;
    len = (size_t)(lf - line);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (sp_mc_value_line(line, len, SP_MC_MAX_VALUE, &v) < 0 || v.key_len != klen ||
        memcmp(line + v.key_off, key, klen) != 0)
        return 0;
    return (size_t)(lf - line) + 1 + v.bytes + 2;
}

/* Does the item at the head of `b` answer key[0, klen) (its VALUE line names it)? */
static int item_is(struct evbuffer *b, const unsigned char *key, size_t klen)
{
    unsigned char head[6 + SP_MC_KEY_MAX + 1];

    return evbuffer_copyout(b, head, 6 + klen + 1) == (ev_ssize_t)(6 + klen + 1) &&
           memcmp(head, "VALUE ", 6) == 0 && memcmp(head + 6, key, klen) == 0 &&
           head[6 + klen] == ' ';
}

/*
 * Moves the items answering the memo's keys, in key order.  With `parts` every key has its
 * item, of known length (only its key is checked); without, each fragment's next item is read
 * and taken when it is the key's.  Returns 0, or -1 when the memo or an item is not as asked.
 */
static int merge_by_keys(const uint32_t *frag_of_key, size_t nkeys, const struct sp_part *parts,
                         struct evbuffer *const *rep, struct evbuffer *memo,
                         struct evbuffer *out)
{
    size_t have = evbuffer_get_length(memo), at = 0;
    const unsigned char *keys = evbuffer_pullup(memo, -1);

    for (size_t i = 0; i < nkeys; i++) {
        struct evbuffer *b = rep[frag_of_key[i]];
        size_t klen, item;

        if (keys == NULL || at >= have || at + 1 + keys[at] > have)
            return -1;
        klen = keys[at];
        if (parts != NULL)
            item = item_is(b, keys + at + 1, klen) ? parts[i].len : 0;
        else
            item = head_item(b, keys + at + 1, klen);
        at += 1 + klen;
        if (parts != NULL && item == 0)
            return -1;
        if (item > 0 && evbuffer_remove_buffer(b, out, item) != (int)item)
            return -1;
    }
    return 0;
}

void sp_mc_merge_values(const uint32_t *frag_of_key, size_t nkeys, const struct sp_part *parts,
                        struct evbuffer *const *rep, size_t nfrags, struct evbuffer *memo,
                        struct evbuffer *out)
{
    long bad = first_error(frag_of_key, nkeys, rep, nfrags);
    int rc;

    if (bad >= 0) {
        sp_mc_answer_failure(rep[bad], "a split get", out);
        return;
    }
    rc = merge_by_keys(frag_of_key, nkeys, parts, rep, memo, out);
    for (size_t f = 0; f < nfrags && rc == 0; f++) {
        if (evbuffer_get_length(rep[f]) != 5)
            rc = -1; /* an item for no key, or out of order: the server did not answer this */
    }
    if (rc < 0) {
        evbuffer_drain(out, evbuffer_get_length(out));
        evbuffer_add_printf(out, "SERVER_ERROR unexpected reply from server to a split get\r\n");
        return;
    }
    evbuffer_add(out, END_LINE, 5);
}
