/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A key's bytes out of an evbuffer: in place when its chain holds them contiguously (the common
 * case), else copied once into a per-proxy buffer.  Hashing needs one piece; a pull-up of the
 * whole request would copy far more.
 */
#include "config.h"

#include <stdlib.h>

#include "core.h"
#include "keybytes.h"

void sp_key_walk_init(struct sp_key_walk *w, struct evbuffer *buf)
{
    w->buf = buf;
    w->at = 0;
    w->valid = false;
}

const void *sp_key_walk_bytes(struct sp_proxy *proxy, struct sp_key_walk *w, size_t off,
                              size_t len)
{
    struct evbuffer_iovec vec;

    if (len == 0)
        return "";
    /* Forward from the last key: a key list is walked once, not once per key from the start
       (that made a 1M-key MGET quadratic in the buffer's chains). */
    if (w->valid && off >= w->at) {
        if (off > w->at && evbuffer_ptr_set(w->buf, &w->ptr, off - w->at, EVBUFFER_PTR_ADD) < 0)
            return NULL;
    } else if (evbuffer_ptr_set(w->buf, &w->ptr, off, EVBUFFER_PTR_SET) < 0) {
        return NULL;
    }
    w->at = off;
    w->valid = true;
    if (evbuffer_peek(w->buf, (ev_ssize_t)len, &w->ptr, &vec, 1) == 1 && vec.iov_len >= len)
        return vec.iov_base;
    if (len > proxy->keycap) {
        char *k = realloc(proxy->keybuf, len);

        if (k == NULL)
            return NULL;
        proxy->keybuf = k;
        proxy->keycap = len;
    }
    if (evbuffer_copyout_from(w->buf, &w->ptr, proxy->keybuf, len) != (ev_ssize_t)len)
        return NULL;
    return proxy->keybuf;
}

const void *sp_key_bytes(struct sp_proxy *proxy, struct evbuffer *buf, size_t off, size_t len)
{
    struct sp_key_walk w;

    sp_key_walk_init(&w, buf);
    return sp_key_walk_bytes(proxy, &w, off, len);
}
