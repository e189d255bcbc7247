/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading an evbuffer at an offset without pulling it up, for the memcached framers.  Requests
 * and replies are mostly short and at the head of the buffer's first chain, so both helpers look
 * there first, in place; only a message that spans chains pays for evbuffer_ptr_set, which walks
 * the chains from the start.
 */
#include "config.h"

#include <string.h>

#include <event2/buffer.h>

#include "mc.h"

/* The buffer's first chain. */
static size_t first_chain(struct evbuffer *in, const unsigned char **p)
{
    struct evbuffer_iovec v;

    if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) {
        *p = NULL;
        return 0;
    }
    *p = v.iov_base;
    return v.iov_len;
}

long sp_mc_find_lf(struct evbuffer *in, size_t from, size_t to)
{
    struct evbuffer_ptr start, end, hit;
    const unsigned char *p;
    size_t n = first_chain(in, &p);

    if (from >= to)
        return -1;
    if (from < n) {
        size_t stop = n < to ? n : to;
        const unsigned char *lf = memchr(p + from, '\n', stop - from);

        if (lf != NULL)
            return (long)(lf - p);
        if (stop == to)
            return -1;
        from = stop;
    }
    if (evbuffer_ptr_set(in, &start, from, EVBUFFER_PTR_SET) < 0 ||
        evbuffer_ptr_set(in, &end, to, EVBUFFER_PTR_SET) < 0)
        return -1;
    hit = evbuffer_search_range(in, "\n", 1, &start, &end);
    return hit.pos < 0 ? -1 : (long)hit.pos;
}

int sp_mc_copy_at(struct evbuffer *in, size_t off, void *dst, size_t n)
{
    struct evbuffer_ptr at;
    const unsigned char *p;
    size_t have = first_chain(in, &p);

    if (off + n <= have) {
        memcpy(dst, p + off, n);
        return 0;
    }
    if (evbuffer_ptr_set(in, &at, off, EVBUFFER_PTR_SET) < 0 ||
        evbuffer_copyout_from(in, &at, dst, n) != (ev_ssize_t)n)
        return -1;
    return 0;
}
