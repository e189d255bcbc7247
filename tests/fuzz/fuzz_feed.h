/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the protocol fuzz targets share (fuzz_feed.c): an input is fed to a parser whole, in
 * pseudo-random pieces and byte by byte, and every way must come out the same.
 */
#ifndef SP_FUZZ_FEED_H
#define SP_FUZZ_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

struct evbuffer;

/* What one feed framed: a hash of every result in order, how many messages, how it ended. */
struct fuzz_outcome {
    uint64_t hash;
    size_t messages;
    int failed;
};

/* A fresh outcome. */
void fuzz_outcome_init(struct fuzz_outcome *o);

/* Mixes n bytes into the outcome's hash. */
void fuzz_mix(struct fuzz_outcome *o, const void *p, size_t n);

/* Appends d[0, n) to b: as one more chain of its own when `separate`. */
void fuzz_add_piece(struct evbuffer *b, const uint8_t *d, size_t n, int separate);

/* Sizes of the pieces fed: step(offset fed so far, seed). */
typedef size_t (*fuzz_step_fn)(size_t from, unsigned seed);

/* A target's feed: parses d[0, n) in pieces of step(...) bytes in `mode`, into *o. */
typedef void (*fuzz_feed_fn)(int mode, const uint8_t *d, size_t n, fuzz_step_fn step,
                             unsigned seed, int separate, struct fuzz_outcome *o);

/*
 * Feeds d[0, n) whole, in pseudo-random pieces (seeded by `seed`, chains separate or not) and,
 * up to 512 bytes, one byte at a time; aborts unless every way gives the same outcome.
 */
void fuzz_compare_feeds(fuzz_feed_fn feed, int mode, int separate, unsigned seed,
                        const uint8_t *d, size_t n);

#endif /* SP_FUZZ_FEED_H */
