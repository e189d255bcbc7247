/* SPDX-License-Identifier: Apache-2.0 */
/* The feeding and comparing the protocol fuzz targets share (fuzz_feed.h). */
#include "config.h"

#include <string.h>

#include <event2/buffer.h>

#include "fuzz_feed.h"

void fuzz_outcome_init(struct fuzz_outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->hash = 0xcbf29ce484222325ULL;
}

void fuzz_mix(struct fuzz_outcome *o, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        o->hash = (o->hash ^ b[i]) * 0x100000001b3ULL;
}

void fuzz_add_piece(struct evbuffer *b, const uint8_t *d, size_t n, int separate)
{
    if (n == 0)
        return;
    if (separate) {
        struct evbuffer *piece = evbuffer_new();

        evbuffer_add(piece, d, n);
        evbuffer_add_buffer(b, piece);
        evbuffer_free(piece);
    } else {
        evbuffer_add(b, d, n);
    }
}

static size_t whole(size_t from, unsigned seed)
{
    (void)from;
    (void)seed;
    return SIZE_MAX;
}

static size_t one_byte(size_t from, unsigned seed)
{
    (void)from;
    (void)seed;
    return 1;
}

static size_t pseudo(size_t from, unsigned seed)
{
    return 1 + ((from * 2654435761u) ^ seed) % 23;
}

static int same(const struct fuzz_outcome *a, const struct fuzz_outcome *b)
{
    return a->hash == b->hash && a->messages == b->messages && a->failed == b->failed;
}

void fuzz_compare_feeds(fuzz_feed_fn feed, int mode, int separate, unsigned seed,
                        const uint8_t *d, size_t n)
{
    struct fuzz_outcome a, b;

    feed(mode, d, n, whole, 0, 0, &a);
    feed(mode, d, n, pseudo, seed, separate, &b);
    SP_FUZZ_CHECK("fuzz_feed", same(&a, &b));
    if (n <= 512) {
        feed(mode, d, n, one_byte, 0, separate, &b);
        SP_FUZZ_CHECK("fuzz_feed", same(&a, &b));
    }
}
