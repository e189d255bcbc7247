/*
 * Non-blocking socket I/O with per-iteration write batching (see conn.h).
 *
 * libevent runs events activated during an iteration after those already active, so the flush
 * event, activated by the first connection that has something to write, runs once every read
 * callback of the iteration has queued its bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"

static void conn_write(struct sp_conn *c);

static void flusher_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_flusher *fl = arg;
    struct sp_conn *c;

    (void)fd;
    (void)what;
    /* Callbacks may queue more connections (or free some): always take the head. */
    while ((c = TAILQ_FIRST(&fl->list)) != NULL) {
        TAILQ_REMOVE(&fl->list, c, flink);
        c->queued = false;
        conn_write(c);
    }
}

int sp_flusher_init(struct sp_flusher *fl, struct event_base *base)
{
    TAILQ_INIT(&fl->list);
    fl->ev = event_new(base, -1, 0, flusher_cb, fl);
    return fl->ev != NULL ? 0 : -1;
}

void sp_flusher_fini(struct sp_flusher *fl)
{
    if (fl->ev != NULL)
        event_free(fl->ev);
    fl->ev = NULL;
}

void sp_conn_flush_later(struct sp_conn *c)
{
    struct sp_flusher *fl = c->flusher;

    if (c->queued || c->writing || c->connecting)
        return; /* already due, or the write event will do it */
    if (TAILQ_EMPTY(&fl->list))
        event_active(fl->ev, EV_WRITE, 0);
    TAILQ_INSERT_TAIL(&fl->list, c, flink);
    c->queued = true;
}

/* Writes what the socket takes; arms the write event for the rest. */
static void conn_write(struct sp_conn *c)
{
    if (evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write(c->out, c->fd);

        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            int err = errno;

            if (c->writing) {
                event_del(c->wev);
                c->writing = false;
            }
            c->ops->on_end(c->owner, SP_CONN_ERROR, err);
            return;
        }
    }
    if (evbuffer_get_length(c->out) > 0) {
        if (!c->writing) {
            event_add(c->wev, NULL);
            c->writing = true;
        }
        return;
    }
    if (c->writing) {
        event_del(c->wev);
        c->writing = false;
    }
    c->ops->on_drained(c->owner);
}

/*
 * Reads straight into space reserved at the end of `in` (evbuffer_read would first ask the
 * kernel how much is pending: one more system call per read).
 */
static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_conn *c = arg;
    struct evbuffer_iovec v[2];
    int nv = evbuffer_reserve_space(c->in, (ev_ssize_t)c->read_want, v, 2);
    ssize_t n;

    (void)what;
    if (nv < 0) {
        c->ops->on_end(c->owner, SP_CONN_ERROR, ENOMEM);
        return;
    }
    n = readv(fd, (struct iovec *)v, nv);
    if (n > 0) {
        if ((size_t)n <= v[0].iov_len) {
            v[0].iov_len = (size_t)n;
            nv = 1;
        } else {
            v[1].iov_len = (size_t)n - v[0].iov_len;
        }
        evbuffer_commit_space(c->in, v, nv);
        /* Small reads keep small chains (less memory churn per request), bursts grow them. */
        if ((size_t)n >= c->read_want && c->read_want < c->read_size)
            c->read_want *= 2;
        else if ((size_t)n < c->read_want / 4 && c->read_want > SP_CONN_MIN_READ)
            c->read_want /= 2;
        c->ops->on_read(c->owner);
        return;
    }
    if (n == 0) {
        c->ops->on_end(c->owner, SP_CONN_EOF, 0);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
    c->ops->on_end(c->owner, SP_CONN_ERROR, errno);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_conn *c = arg;

    (void)what;
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err == EINPROGRESS)
            return;
        c->connecting = false;
        if (err != 0) {
            event_del(c->wev);
            c->writing = false;
            c->ops->on_end(c->owner, SP_CONN_ERROR, err);
            return;
        }
        if (c->ops->on_connected != NULL)
            c->ops->on_connected(c->owner);
    }
    conn_write(c);
}

static int conn_events(struct sp_conn *c, struct event_base *base)
{
    c->rev = event_new(base, c->fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->wev = event_new(base, c->fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    return c->rev != NULL && c->wev != NULL ? 0 : -1;
}

int sp_conn_init(struct sp_conn *c, struct event_base *base, struct sp_flusher *fl,
                 evutil_socket_t fd, size_t read_size, const struct sp_conn_ops *ops,
                 void *owner)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->flusher = fl;
    c->ops = ops;
    c->owner = owner;
    c->read_size = read_size > SP_CONN_MIN_READ ? read_size : SP_CONN_MIN_READ;
    c->read_want = SP_CONN_MIN_READ;
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    if (c->in == NULL || c->out == NULL)
        goto fail;
    if (fd >= 0) {
        c->fd = fd;
        if (conn_events(c, base) < 0)
            goto fail;
        sp_conn_set_reading(c, true);
    }
    return 0;
fail:
    c->fd = -1; /* the caller still owns fd */
    sp_conn_fini(c);
    return -1;
}

int sp_conn_connect(struct sp_conn *c, struct event_base *base, const struct sockaddr *sa,
                    socklen_t len)
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
    if (conn_events(c, base) < 0) {
        err = ENOMEM;
        sp_conn_fini(c);
        errno = err;
        return -1;
    }
    /* Completion (or refusal) shows as writability; reading starts right away. */
    c->connecting = true;
    event_add(c->wev, NULL);
    c->writing = true;
    sp_conn_set_reading(c, true);
    return 0;
}

void sp_conn_set_reading(struct sp_conn *c, bool on)
{
    if (c->rev == NULL || c->reading == on)
        return;
    if (on)
        event_add(c->rev, NULL);
    else
        event_del(c->rev);
    c->reading = on;
}

void sp_conn_fini(struct sp_conn *c)
{
    if (c->queued) {
        TAILQ_REMOVE(&c->flusher->list, c, flink);
        c->queued = false;
    }
    if (c->rev != NULL)
        event_free(c->rev);
    if (c->wev != NULL)
        event_free(c->wev);
    c->rev = c->wev = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->in != NULL)
        evbuffer_free(c->in);
    if (c->out != NULL)
        evbuffer_free(c->out);
    c->in = c->out = NULL;
}
