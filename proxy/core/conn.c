/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Non-blocking socket I/O with per-iteration write batching and lazy buffers (see conn.h).
 *
 * libevent runs events activated during an iteration after those already active, so the flush
 * event, activated by the first connection that has something to write, runs once every read
 * callback of the iteration has queued its bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"

static void conn_write(struct sp_conn *c);
static void conn_cb(evutil_socket_t fd, short what, void *arg);

static void *conn_owner(const struct sp_conn *c)
{
    return (char *)c - c->cls->owner_off;
}

/* ---- spare buffers ---- */

static struct evbuffer *spare_get(struct sp_flusher *fl)
{
    return fl->nspare > 0 ? fl->spare[--fl->nspare] : evbuffer_new();
}

/* Keeps an empty buffer for the next connection that needs one (bounded), else frees it. */
static void spare_put(struct sp_flusher *fl, struct evbuffer *buf)
{
    if (fl->nspare < SP_CONN_SPARE_BUFS && evbuffer_get_length(buf) == 0)
        fl->spare[fl->nspare++] = buf;
    else
        evbuffer_free(buf);
}

struct evbuffer *sp_conn_in(struct sp_conn *c)
{
    if (c->in == NULL)
        c->in = spare_get(c->cls->flusher);
    return c->in;
}

struct evbuffer *sp_conn_out(struct sp_conn *c)
{
    if (c->out == NULL)
        c->out = spare_get(c->cls->flusher);
    return c->out;
}

size_t sp_conn_in_len(const struct sp_conn *c)
{
    return c->in != NULL ? evbuffer_get_length(c->in) : 0;
}

size_t sp_conn_out_len(const struct sp_conn *c)
{
    return c->out != NULL ? evbuffer_get_length(c->out) : 0;
}

void sp_conn_shed(struct sp_conn *c)
{
    if (!c->lazy)
        return;
    if (c->in != NULL && evbuffer_get_length(c->in) == 0) {
        spare_put(c->cls->flusher, c->in);
        c->in = NULL;
    }
    if (c->out != NULL && evbuffer_get_length(c->out) == 0 && !c->write_due && !c->writing) {
        spare_put(c->cls->flusher, c->out);
        c->out = NULL;
    }
}

/* Replies up to this size are copied, not moved, by sp_buf_move. */
#define SP_BUF_COPY_MAX 512

int sp_buf_move(struct evbuffer *dst, struct evbuffer *src)
{
    unsigned char tmp[SP_BUF_COPY_MAX];
    size_t n = evbuffer_get_length(src);

    if (n > sizeof(tmp))
        return evbuffer_add_buffer(dst, src);
    if (evbuffer_copyout(src, tmp, n) != (ev_ssize_t)n || evbuffer_add(dst, tmp, n) < 0)
        return -1;
    return evbuffer_drain(src, n);
}

/* ---- the flusher ---- */

static void flusher_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_flusher *fl = arg;

    (void)fd;
    (void)what;
    /* Callbacks may append connections (handled in this loop) or finalise some (NULLed). */
    for (size_t i = 0; i < fl->nbatch; i++) {
        struct sp_conn *c = fl->batch[i];

        if (c != NULL && c->resume_due) {
            c->resume_due = false;
            c->cls->ops->on_resume(conn_owner(c)); /* may finalise c, or ask for a write */
            c = fl->batch[i];
        }
        if (c == NULL)
            continue;
        c->queued = false;
        if (c->write_due) {
            c->write_due = false;
            conn_write(c);
        }
    }
    fl->nbatch = 0;
}

int sp_flusher_init(struct sp_flusher *fl, struct event_base *base)
{
    memset(fl, 0, sizeof(*fl));
    fl->ev = event_new(base, -1, 0, flusher_cb, fl);
    return fl->ev != NULL ? 0 : -1;
}

void sp_flusher_trim(struct sp_flusher *fl)
{
    while (fl->nspare > 0)
        evbuffer_free(fl->spare[--fl->nspare]);
    if (fl->nbatch == 0) {
        free(fl->batch);
        fl->batch = NULL;
        fl->batch_cap = 0;
    }
}

void sp_flusher_fini(struct sp_flusher *fl)
{
    if (fl->ev != NULL)
        event_free(fl->ev);
    fl->ev = NULL;
    free(fl->batch);
    fl->batch = NULL;
    fl->nbatch = fl->batch_cap = 0;
    while (fl->nspare > 0)
        evbuffer_free(fl->spare[--fl->nspare]);
}

/* The class of (ops, owner offset, read size) on `fl`, made on first use; NULL when full. */
static const struct sp_conn_class *class_get(struct sp_flusher *fl, const struct sp_conn_ops *ops,
                                             size_t owner_off, size_t read_size)
{
    unsigned shift = 0;
    struct sp_conn_class *k;

    while (((size_t)SP_CONN_MIN_READ << shift) < read_size)
        shift++;
    for (unsigned i = 0; i < fl->nclasses; i++) {
        k = &fl->classes[i];
        if (k->ops == ops && k->owner_off == owner_off && k->max_shift == shift)
            return k;
    }
    if (fl->nclasses == SP_CONN_MAX_CLASSES)
        return NULL;
    k = &fl->classes[fl->nclasses++];
    k->ops = ops;
    k->flusher = fl;
    k->owner_off = owner_off;
    k->max_shift = shift;
    return k;
}

/* ---- interest: one event for read and write ---- */

/*
 * Registers `ev` for what the connection wants now.  libevent has no "modify": a change is a
 * delete and an add, which only back-pressure and full sockets cause.
 */
static void conn_arm(struct sp_conn *c)
{
    bool r = c->reading, w = c->writing;
    short what = (short)((r ? EV_READ : 0) | (w ? EV_WRITE : 0) | EV_PERSIST);

    if (c->fd < 0 || (r == c->armed_read && w == c->armed_write))
        return;
    if (c->armed_read || c->armed_write)
        event_del(&c->ev);
    c->armed_read = r;
    c->armed_write = w;
    if (!r && !w)
        return;
    event_assign(&c->ev, event_get_base(&c->ev), c->fd, what, conn_cb, c);
    event_add(&c->ev, NULL);
}

/* Puts `c` on the flusher's batch.  Returns 0, or -1 when there is no room (out of memory). */
static int conn_enqueue(struct sp_conn *c)
{
    struct sp_flusher *fl = c->cls->flusher;

    if (c->queued)
        return 0;
    if (fl->nbatch == fl->batch_cap) {
        size_t cap = fl->batch_cap ? fl->batch_cap * 2 : 64;
        struct sp_conn **b = realloc(fl->batch, cap * sizeof(*b));

        if (b == NULL)
            return -1;
        fl->batch = b;
        fl->batch_cap = cap;
    }
    if (fl->nbatch == 0)
        event_active(fl->ev, EV_WRITE, 0);
    fl->batch[fl->nbatch++] = c;
    c->queued = true;
    return 0;
}

void sp_conn_flush_later(struct sp_conn *c)
{
    if (c->write_due || c->writing || c->connecting)
        return; /* already due, or the write event will do it */
    if (conn_enqueue(c) < 0) {
        /* No room in the batch: the write event does it, one poll round later. */
        c->writing = true;
        conn_arm(c);
        return;
    }
    c->write_due = true;
}

void sp_conn_resume_later(struct sp_conn *c)
{
    if (c->resume_due || c->fd < 0)
        return;
    if (conn_enqueue(c) < 0) {
        /* Out of memory for the batch: resume now rather than never. */
        c->cls->ops->on_resume(conn_owner(c));
        return;
    }
    c->resume_due = true;
}

/* Writes what the socket takes; arms write interest for the rest. */
static void conn_write(struct sp_conn *c)
{
    const struct sp_conn_ops *ops = c->cls->ops;

    if (sp_conn_out_len(c) > 0) {
        int n = evbuffer_write(c->out, c->fd);

        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            int err = errno;

            c->writing = false;
            conn_arm(c);
            ops->on_end(conn_owner(c), SP_CONN_ERROR, err);
            return;
        }
    }
    if (sp_conn_out_len(c) > 0) {
        if (!c->writing) {
            c->writing = true;
            conn_arm(c);
        }
        return;
    }
    if (c->writing) {
        c->writing = false;
        conn_arm(c);
    }
    ops->on_drained(conn_owner(c));
}

/* Gives back an accepted connection's empty input (and any chain a read reserved in it). */
static void conn_drop_empty_in(struct sp_conn *c)
{
    if (c->lazy && c->in != NULL && evbuffer_get_length(c->in) == 0) {
        evbuffer_free(c->in);
        c->in = NULL;
    }
}

/*
 * Reads straight into space reserved at the end of `in` (evbuffer_read would first ask the
 * kernel how much is pending: one more system call per read).
 */
static void conn_read(struct sp_conn *c)
{
    const struct sp_conn_ops *ops = c->cls->ops;
    struct evbuffer *in = sp_conn_in(c);
    size_t want = (size_t)SP_CONN_MIN_READ << c->read_shift;
    struct evbuffer_iovec v[2];
    int nv = in != NULL ? evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2) : -1;
    ssize_t n;

    if (nv < 0) {
        ops->on_end(conn_owner(c), SP_CONN_ERROR, ENOMEM);
        return;
    }
    n = readv(c->fd, (struct iovec *)v, nv);
    if (n > 0) {
        if ((size_t)n <= v[0].iov_len) {
            v[0].iov_len = (size_t)n;
            nv = 1;
        } else {
            v[1].iov_len = (size_t)n - v[0].iov_len;
        }
        evbuffer_commit_space(in, v, nv);
        /* Small reads keep small chains (less memory churn per request), bursts grow them. */
        if ((size_t)n >= want && c->read_shift < c->cls->max_shift)
            c->read_shift++;
        else if ((size_t)n < want / 4 && c->read_shift > 0)
            c->read_shift--;
        ops->on_read(conn_owner(c));
        return;
    }
    /* The reserved chain is freed with the buffer: an idle client keeps no 4 KiB behind. */
    conn_drop_empty_in(c);
    if (n == 0) {
        ops->on_end(conn_owner(c), SP_CONN_EOF, 0);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
    ops->on_end(conn_owner(c), SP_CONN_ERROR, errno);
}

/* The socket is writable: an outgoing connect completed, or a full socket took bytes again. */
static void conn_writable(struct sp_conn *c)
{
    const struct sp_conn_ops *ops = c->cls->ops;

    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err == EINPROGRESS)
            return;
        c->connecting = false;
        if (err != 0) {
            c->writing = false;
            conn_arm(c);
            ops->on_end(conn_owner(c), SP_CONN_ERROR, err);
            return;
        }
        if (ops->on_connected != NULL)
            ops->on_connected(conn_owner(c));
    }
    conn_write(c);
}

/*
 * Both directions in one callback: writing first (it may resume reading), then reading unless
 * the write side finalised the connection.
 */
static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_conn *c = arg;
    struct sp_flusher *fl = c->cls->flusher;

    (void)fd;
    if ((what & EV_WRITE) && c->writing) {
        bool gone;

        fl->current = c;
        fl->current_gone = false;
        conn_writable(c);
        gone = fl->current_gone;
        fl->current = NULL;
        if (gone)
            return;
    }
    if ((what & EV_READ) && c->reading)
        conn_read(c);
}

int sp_conn_init(struct sp_conn *c, struct event_base *base, struct sp_flusher *fl,
                 evutil_socket_t fd, size_t read_size, const struct sp_conn_ops *ops,
                 void *owner)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->cls = class_get(fl, ops, (size_t)((char *)c - (char *)owner), read_size);
    if (c->cls == NULL)
        return -1;
    /* Not added: this only records the base and the callback for conn_arm. */
    event_assign(&c->ev, base, -1, 0, conn_cb, c);
    if (fd >= 0) {
        c->fd = fd;
        c->lazy = true;
        sp_conn_set_reading(c, true);
        return 0;
    }
    c->in = spare_get(fl);
    c->out = spare_get(fl);
    if (c->in == NULL || c->out == NULL) {
        sp_conn_fini(c);
        return -1;
    }
    return 0;
}

int sp_conn_connect(struct sp_conn *c, const struct sockaddr *sa, socklen_t len)
{
    evutil_socket_t fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err;

    if (fd < 0)
        return -1;
    if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    c->fd = fd;
    /* Completion (or refusal) shows as writability; reading starts right away. */
    c->connecting = true;
    c->writing = true;
    c->reading = true;
    conn_arm(c);
    return 0;
}

void sp_conn_set_reading(struct sp_conn *c, bool on)
{
    if (c->reading == on)
        return;
    c->reading = on;
    conn_arm(c);
}

/* Takes `c` out of the flusher's batch (rare: a connection closed with a write pending). */
static void conn_unqueue(struct sp_conn *c, struct sp_flusher *fl)
{
    for (size_t i = 0; i < fl->nbatch; i++) {
        if (fl->batch[i] == c)
            fl->batch[i] = NULL;
    }
    c->queued = c->write_due = c->resume_due = false;
}

static void conn_release(struct sp_flusher *fl, struct evbuffer *buf, bool reusable)
{
    if (buf == NULL)
        return;
    if (reusable)
        spare_put(fl, buf);
    else
        evbuffer_free(buf);
}

void sp_conn_fini(struct sp_conn *c)
{
    struct sp_flusher *fl = c->cls != NULL ? c->cls->flusher : NULL;

    if (fl == NULL)
        return; /* sp_conn_init failed before anything was set up */
    if (c->queued)
        conn_unqueue(c, fl);
    if (fl->current == c)
        fl->current_gone = true;
    if (c->armed_read || c->armed_write)
        event_del(&c->ev);
    c->armed_read = c->armed_write = false;
    c->reading = c->writing = false;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    /* Only an accepted connection's buffers are known to hold no reserved chain. */
    conn_release(fl, c->in, c->lazy);
    conn_release(fl, c->out, c->lazy);
    c->in = c->out = NULL;
}
