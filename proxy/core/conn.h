/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A non-blocking socket with an input and an output evbuffer: the one piece of I/O under both
 * client and server connections (and any protocol).
 *
 * Writes are batched per loop iteration: code that appends to `out` calls sp_conn_flush_later,
 * which puts the connection on the proxy's flush list; one event, activated once per iteration,
 * runs after every I/O callback of the iteration and writes each listed connection directly.  So
 * everything queued for a server in one iteration leaves in one write, a write needs no poll
 * round-trip, and write interest is only registered while a socket is full (no epoll_ctl per
 * request).  Read interest stays registered except while reading is paused (back-pressure).
 * The same batch carries resumptions (sp_conn_resume_later): each runs before the writes of the
 * connections listed after it, so what it forwards leaves in the same iteration.
 *
 * Memory: a proxy may hold tens of thousands of idle clients, so a connection is small.  One
 * struct event, embedded, carries both read and write interest (re-assigned when the interest
 * changes, which happens only on back-pressure and full sockets); what all connections of one
 * kind share (callbacks, flusher, read size) lives in a class kept by the flusher.  An accepted
 * connection has no buffers while it has nothing to hold: `in` and `out` are NULL until first
 * needed (sp_conn_in / sp_conn_out, or a read), and sp_conn_shed gives empty ones back to a small
 * per-proxy cache.  A connection made with sp_conn_connect keeps its buffers for its lifetime.
 */
#ifndef SP_CONN_H
#define SP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

/* Smallest read: a typical request or reply fits, without a big buffer per connection. */
#define SP_CONN_MIN_READ 4096

/* Empty evbuffers kept per proxy for connections that need one again (beyond: freed). */
#define SP_CONN_SPARE_BUFS 256

/* Connection kinds per proxy (client and server use one each). */
#define SP_CONN_MAX_CLASSES 4

/* Why a connection ended. */
enum sp_conn_end {
    SP_CONN_EOF,      /* the peer closed its side */
    SP_CONN_ERROR,    /* a socket error (errno in `err`), e.g. ECONNREFUSED, ECONNRESET */
};

struct sp_conn_ops {
    void (*on_read)(void *owner);       /* bytes were appended to `in` */
    void (*on_drained)(void *owner);    /* `out` was written out completely */
    void (*on_connected)(void *owner);  /* an outgoing connect completed (may be NULL) */
    void (*on_end)(void *owner, enum sp_conn_end how, int err); /* owner must sp_conn_fini */
    void (*on_resume)(void *owner);     /* sp_conn_resume_later came due (may be NULL) */
};

struct sp_conn;
struct sp_flusher;

/* What the connections of one kind share (set up by sp_conn_init). */
struct sp_conn_class {
    const struct sp_conn_ops *ops;
    struct sp_flusher *flusher;
    size_t owner_off;                   /* the owner is at (char *)conn - owner_off */
    unsigned max_shift;                 /* reads grow to SP_CONN_MIN_READ << max_shift */
};

/* The per-proxy write batch, and what its connections share. */
struct sp_flusher {
    struct event *ev;                   /* activated when the batch becomes non-empty */
    struct sp_conn **batch;             /* connections to write; NULL: finalised meanwhile */
    size_t nbatch, batch_cap;
    struct sp_conn *current;            /* the connection whose event callback runs */
    bool current_gone;                  /* ... and it was finalised by that callback */
    struct sp_conn_class classes[SP_CONN_MAX_CLASSES];
    unsigned nclasses;
    struct evbuffer *spare[SP_CONN_SPARE_BUFS]; /* empty buffers for lazy connections */
    unsigned nspare;
};

struct sp_conn {
    struct event ev;                    /* read and / or write interest (`armed`) */
    struct evbuffer *in;                /* NULL while an accepted connection holds nothing */
    struct evbuffer *out;               /* ditto */
    const struct sp_conn_class *cls;
    evutil_socket_t fd;
    uint8_t read_shift;                 /* the next read asks SP_CONN_MIN_READ << read_shift */
    bool reading : 1;                   /* read interest wanted */
    bool writing : 1;                   /* write interest wanted (socket full, or connecting) */
    bool armed_read : 1;                /* what `ev` is registered for */
    bool armed_write : 1;
    bool queued : 1;                    /* in the flusher's batch */
    bool write_due : 1;                 /* ... to be written */
    bool resume_due : 1;                /* ... to be resumed (on_resume), before the write */
    bool connecting : 1;
    bool lazy : 1;                      /* accepted: buffers on demand */
};

/* Creates the flusher's event on `base`.  Returns 0 or -1 (out of memory). */
int sp_flusher_init(struct sp_flusher *fl, struct event_base *base);

/* Frees the event, the batch and the spare buffers; every conn must be finalised. */
void sp_flusher_fini(struct sp_flusher *fl);

/* Frees the spare buffers and an empty batch array (memory kept from a burst). */
void sp_flusher_trim(struct sp_flusher *fl);

/*
 * Sets up `c`, embedded in `owner`, around a connected non-blocking socket `fd` (accepted: no
 * buffers yet) and starts reading; or, with fd -1, prepares it for sp_conn_connect (buffers
 * created now).  Returns 0, or -1 when out of memory (c is then finalised, fd not closed).
 */
int sp_conn_init(struct sp_conn *c, struct event_base *base, struct sp_flusher *fl,
                 evutil_socket_t fd, size_t read_size, const struct sp_conn_ops *ops,
                 void *owner);

/*
 * Starts a non-blocking connect to `sa` on a new socket; bytes already in `out` are sent once it
 * completes.  Returns 0 (connected or in progress: on_connected / on_end follow), or -1 with
 * errno set when it failed at once (nothing is called back).
 */
int sp_conn_connect(struct sp_conn *c, const struct sockaddr *sa, socklen_t len);

/* Returns `in` / `out`, creating it when the connection has none; NULL when out of memory. */
struct evbuffer *sp_conn_in(struct sp_conn *c);
struct evbuffer *sp_conn_out(struct sp_conn *c);

/* Bytes in `in` / `out` (0 when there is no buffer). */
size_t sp_conn_in_len(const struct sp_conn *c);
size_t sp_conn_out_len(const struct sp_conn *c);

/*
 * An accepted connection that is idle gives its empty buffers back (a non-empty one, or an output
 * still due to be written, is kept).  No-op for connections made by sp_conn_connect.
 */
void sp_conn_shed(struct sp_conn *c);

/*
 * Moves all of `src` to the end of `dst`.  A few bytes are copied into dst's last chain instead
 * of moving src's chain along: every chain costs at least libevent's minimum chain size, so a
 * buffer made of one chain per tiny reply would cost ~1 KiB per "+PONG".  Returns 0 or -1 (out
 * of memory; src is then left as it was).
 */
int sp_buf_move(struct evbuffer *dst, struct evbuffer *src);

/* Schedules a write of `out` at the end of this loop iteration. */
void sp_conn_flush_later(struct sp_conn *c);

/*
 * Schedules the owner's on_resume at the end of this loop iteration, before the writes: work that
 * a callback made possible (a client that may read again, a connection no longer stalled) runs
 * from the flusher, on a stack of its own, not inside the callback that made it possible.
 */
void sp_conn_resume_later(struct sp_conn *c);

/* Pauses or resumes reading (back-pressure).  Bytes already in `in` stay there. */
void sp_conn_set_reading(struct sp_conn *c, bool on);

/* Closes the socket and releases the buffers and the event; safe on a partly set up conn. */
void sp_conn_fini(struct sp_conn *c);

#endif /* SP_CONN_H */
