/*
 * A non-blocking socket with an input and an output evbuffer: the one piece of I/O under both
 * client and server connections (and any protocol).
 *
 * Writes are batched per loop iteration: code that appends to `out` calls sp_conn_flush_later,
 * which puts the connection on the proxy's flush list; one event, activated once per iteration,
 * runs after every I/O callback of the iteration and writes each listed connection directly.  So
 * everything queued for a server in one iteration leaves in one write, a write needs no poll
 * round-trip, and the write event is only registered while a socket is full (no epoll_ctl per
 * request).  The read event stays registered except while reading is paused (back-pressure).
 */
#ifndef SP_CONN_H
#define SP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>

/* Smallest read: a typical request or reply fits, without a big buffer per connection. */
#define SP_CONN_MIN_READ 4096

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
};

/* The per-proxy write batch. */
struct sp_flusher {
    struct event *ev;                   /* activated when the list becomes non-empty */
    TAILQ_HEAD(, sp_conn) list;
};

struct sp_conn {
    evutil_socket_t fd;
    struct evbuffer *in;
    struct evbuffer *out;
    struct event *rev;                  /* persistent EV_READ */
    struct event *wev;                  /* persistent EV_WRITE, added only while blocked */
    struct sp_flusher *flusher;
    TAILQ_ENTRY(sp_conn) flink;
    const struct sp_conn_ops *ops;
    void *owner;
    size_t read_size;                   /* most bytes per read */
    size_t read_want;                   /* bytes the next read asks for (adapts) */
    bool reading;                       /* rev is added */
    bool writing;                       /* wev is added */
    bool queued;                        /* on the flush list */
    bool connecting;
};

/* Creates the flusher's event on `base`.  Returns 0 or -1 (out of memory). */
int sp_flusher_init(struct sp_flusher *fl, struct event_base *base);

/* Frees the event; the list must be empty (every conn finalised). */
void sp_flusher_fini(struct sp_flusher *fl);

/*
 * Sets up `c` around a connected non-blocking socket `fd` (may be -1 before sp_conn_connect) and
 * starts reading.  Returns 0, or -1 when out of memory (c is then finalised, fd not closed).
 */
int sp_conn_init(struct sp_conn *c, struct event_base *base, struct sp_flusher *fl,
                 evutil_socket_t fd, size_t read_size, const struct sp_conn_ops *ops,
                 void *owner);

/*
 * Starts a non-blocking connect to `sa` on a new socket; bytes already in `out` are sent once it
 * completes.  Returns 0 (connected or in progress: on_connected / on_end follow), or -1 with
 * errno set when it failed at once (nothing is called back).
 */
int sp_conn_connect(struct sp_conn *c, struct event_base *base, const struct sockaddr *sa,
                    socklen_t len);

/* Schedules a write of `out` at the end of this loop iteration. */
void sp_conn_flush_later(struct sp_conn *c);

/* Pauses or resumes reading (back-pressure).  Bytes already in `in` stay there. */
void sp_conn_set_reading(struct sp_conn *c, bool on);

/* Closes the socket and frees the buffers and events; safe on a partly set up conn. */
void sp_conn_fini(struct sp_conn *c);

#endif /* SP_CONN_H */
