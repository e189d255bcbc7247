/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A request's key bytes, contiguous whether or not the buffer holds them so: one key at a time, or
 * a walk over a request's keys (struct sp_key_walk; keybytes.c).
 */
#ifndef SP_KEYBYTES_H
#define SP_KEYBYTES_H

#include <event2/buffer.h>

#include "core.h"

/*
 * Returns a pointer to key bytes [off, off+len) of `buf`: into the buffer when contiguous, else a
 * copy in proxy->keybuf.  Returns NULL when out of memory.
 */
const void *sp_key_bytes(struct sp_proxy *proxy, struct evbuffer *buf, size_t off, size_t len);

/* A walk over the keys of one request, in increasing offset order (the buffer unchanged). */
struct sp_key_walk {
    struct evbuffer *buf;
    struct evbuffer_ptr ptr;      /* at offset `at` */
    size_t at;
    bool valid;
};

void sp_key_walk_init(struct sp_key_walk *w, struct evbuffer *buf);

/*
 * As sp_key_bytes, moving forward from the previous key: a request's keys cost one pass over
 * its chains, not one per key.  An offset below the previous one starts over from the head.
 */
const void *sp_key_walk_bytes(struct sp_proxy *proxy, struct sp_key_walk *w, size_t off,
                              size_t len);

#endif /* SP_KEYBYTES_H */
