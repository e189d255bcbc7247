/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the RESP parsers: a read cursor over an evbuffer that hands out contiguous
 * windows (one chain's bytes at a time, via evbuffer_peek), so headers are parsed in place and
 * bulk bodies are skipped without being touched.  Also the strict number parser and the error
 * formatter both parsers share.  Not part of the public API (resp.h).
 */
#ifndef SP_RESP_SCAN_H
#define SP_RESP_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

/* Longest `*N` / `$N` / `:N` header line we accept, CRLF included ("$" + 20 digits + CRLF fits). */
#define SP_RESP_SHORT_LINE 32

/* A cursor, valid for one parser call (evbuffer_ptr must not outlive buffer changes). */
struct sp_resp_cur {
    struct evbuffer *buf;
    size_t total;                   /* buffer length when the call started */
    size_t pos;                     /* offset in buf of the next byte */
    struct evbuffer_ptr ptr;        /* at ptr_pos; re-set lazily when pos moves on */
    size_t ptr_pos;
    int ptr_valid;
    const unsigned char *w;         /* contiguous bytes starting at pos */
    size_t wlen;
    uint64_t *examined;             /* the parser's statistic */
};

/* Starts a cursor at offset pos of buf.  Does not touch the buffer's chains yet. */
void sp_resp_cur_init(struct sp_resp_cur *c, struct evbuffer *buf, size_t pos, uint64_t *examined);

/*
 * Makes c->w/c->wlen a non-empty window at c->pos.  Returns 1, or 0 when pos is at the end of
 * the data.
 */
int sp_resp_cur_load(struct sp_resp_cur *c);

/* Moves pos forward n bytes (n may exceed the window and the data; nothing is read). */
void sp_resp_cur_skip(struct sp_resp_cur *c, size_t n);

/*
 * Reads an `*N`, `$N` or `:N` header at pos (the type byte is not checked: the caller has).
 * Returns SP_PARSE_OK with *value set and pos moved past its CRLF; SP_PARSE_AGAIN while the line is
 * incomplete but can still become a number; SP_PARSE_ERROR once it cannot (bad byte, leading
 * zero, over 20 digits, CR without LF, out of range).  Writes no message: the caller names the
 * problem.  pos moves only on OK.
 */
int sp_resp_cur_number(struct sp_resp_cur *c, long long *value);

/*
 * Searches `byte` from pos, moving pos forward, looking at no more than `limit` bytes.  Returns
 * 1 with pos at the byte, or 0 with pos at the end of the data or at the limit (whichever is
 * first).
 */
int sp_resp_cur_find(struct sp_resp_cur *c, unsigned char byte, size_t limit);

/* Copies up to n bytes at pos into dst without moving pos; returns the count copied. */
size_t sp_resp_cur_peek(struct sp_resp_cur *c, void *dst, size_t n);

/*
 * Redis' strict integer syntax (string2ll): optional '-', then "0" or a digit string without
 * leading zeros, no '+', no spaces, within long long.  Returns 0 and sets *out, else -1.
 */
int sp_resp_strict_ll(const unsigned char *s, size_t n, long long *out);

/*
 * Writes "Protocol error: <what> at byte <offset>" into err (NUL-terminated, truncated to
 * errlen; nothing when errlen is 0).  Returns SP_PARSE_ERROR for tail calls.
 */
int sp_resp_fail(char *err, size_t errlen, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* SP_RESP_SCAN_H */
