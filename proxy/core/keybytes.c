/*
 * A key's bytes out of an evbuffer: in place when its chain holds them contiguously (the common
 * case), else copied once into a per-proxy buffer.  Hashing needs one piece; a pull-up of the
 * whole request would copy far more.
 */
#include "config.h"

#include <stdlib.h>

#include "core.h"

const void *sp_key_bytes(struct sp_proxy *proxy, struct evbuffer *buf, size_t off, size_t len)
{
    struct evbuffer_ptr pos;
    struct evbuffer_iovec vec;

    if (len == 0)
        return "";
    if (evbuffer_ptr_set(buf, &pos, off, EVBUFFER_PTR_SET) < 0)
        return NULL;
    if (evbuffer_peek(buf, (ev_ssize_t)len, &pos, &vec, 1) == 1 && vec.iov_len >= len)
        return vec.iov_base;
    if (len > proxy->keycap) {
        char *k = realloc(proxy->keybuf, len);

        if (k == NULL)
            return NULL;
        proxy->keybuf = k;
        proxy->keycap = len;
    }
    if (evbuffer_copyout_from(buf, &pos, proxy->keybuf, len) != (ev_ssize_t)len)
        return NULL;
    return proxy->keybuf;
}
