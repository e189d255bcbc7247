/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers for the RESP parsers: feed a byte stream into an evbuffer in pieces (split at
 * given points, optionally one chain per piece), run a parser after every piece and record a
 * textual transcript of what it framed, so any two ways of splitting can be compared.
 */
#ifndef SP_RESP_FEED_H
#define SP_RESP_FEED_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* A growing NUL-terminated string. */
struct tx {
    char *s;
    size_t len;
    size_t cap;
};

void tx_printf(struct tx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends bytes with everything but printable ASCII (and '\\') written as \xHH. */
void tx_escape(struct tx *t, const void *bytes, size_t n);

/* How to run one parser. */
struct feeder {
    void *(*create)(void *arg);     /* a fresh parser */
    void (*destroy)(void *parser);
    /* Parses once; on OK appends a line describing the message and drains it; on ERROR appends
       "ERR <message>\n".  Returns the parser's status. */
    int (*step)(void *parser, struct evbuffer *buf, struct tx *t);
    void *arg;                      /* passed to create (e.g. limits) */
};

/*
 * Feeds stream[0..len) in pieces ending at cuts[0..ncuts) (ascending, each < len), then the rest.
 * separate_chains: 1 moves each piece in as its own evbuffer chain (evbuffer_add_buffer), 0
 * appends with evbuffer_add (pieces coalesce).  After each piece the parser runs until AGAIN or
 * ERROR; an ERROR ends the feed.  The transcript ends with "END left=<bytes still buffered>".
 * Returns the transcript (caller frees).
 */
char *feed_stream(const struct feeder *f, const void *stream, size_t len, const size_t *cuts,
                  size_t ncuts, int separate_chains);

/*
 * Checks that every way of splitting the stream gives the transcript of feeding it whole, and
 * that this is `expected` (when not NULL): one byte per piece, every 2-piece split, `nrandom`
 * random splits (seeded, printed); each in both chain modes.  Fails the test naming the cuts.
 * Returns how many feeds were compared.
 */
size_t check_all_splits(const struct feeder *f, const void *stream, size_t len,
                        const char *expected, size_t nrandom, const char *name);

/*
 * For streams that end in a framing error: fed whole, and split once at every point (both chain
 * modes), the transcript must start with `want` (the messages before the error and its "ERR"
 * line; the END line may differ, as less may have been buffered when the error came).
 */
void check_error_splits(const struct feeder *f, const void *stream, size_t len, const char *want);

#endif /* SP_RESP_FEED_H */
