/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A server connection (struct sp_sconn): one connection to a server, requests from many clients
 * pipelined on it, and what is done on it: getting one, sending, closing (sconn.c).
 */
#ifndef SP_SCONN_H
#define SP_SCONN_H

#include "conn.h"
#include "core.h"

/* One connection to a server; requests from many clients are pipelined on it. */
struct sp_sconn {
    struct sp_server *server;
    unsigned slot;                /* index in server->conns */
    struct sp_conn conn;
    struct event *timer;          /* the one timeout timer: deadline of the oldest request */
    struct sp_req_q sent;         /* awaiting a reply, in send order */
    size_t nsent;
    unsigned nswallow;            /* hello replies (AUTH, SELECT) still to discard */
    struct evbuffer *held_out;    /* requests queued while the hello is unanswered: nothing is
                                     sent before the server accepted AUTH and SELECT (NULL when
                                     there is no hello, or once it was accepted) */
    size_t unsent_count;          /* requests appended since the output last drained */
    size_t unsent_bytes;
    bool connected;
    struct sp_busy_q waiters;     /* clients paused because this connection's output is full */
    struct sp_client *stalled_by; /* not reading: that client's output is over the limit */
    uint64_t stalled_at;          /* usec (event_base clock) when that stall began */
    uint64_t stalled_total;       /* usec this connection spent stalled, stalls that ended */
    TAILQ_ENTRY(sp_sconn) slink;  /* stalled_by->stalled */
    void *pstate;                 /* protocol reply parser state */
};

/*
 * Returns a connection to `server` to send a request on, connecting when the chosen slot has
 * none.  With several server_connections, `affinity` (a client's id) picks the slot, so one
 * client's requests reach the server in the order it sent them.  Returns NULL when a connection
 * cannot even be started, with *reason set (strerror); the failure counted towards ejection.
 */
struct sp_sconn *sp_server_conn(struct sp_server *server, unsigned affinity,
                                const char **reason);

/*
 * Where requests for `sc` are appended: its output, or, until the server accepted the
 * connection's AUTH / SELECT, a buffer that holds them back.
 */
struct evbuffer *sp_sconn_out(struct sp_sconn *sc);

/*
 * Records that `req` (its `len` bytes already appended to sp_sconn_out) waits for a reply on
 * `sc`: queues it, updates stats and arms the timeout.
 */
void sp_sconn_enqueue(struct sp_sconn *sc, struct sp_req *req);

/* (Re-)arms the connection's one timer `usec` from now (a deadline, or a stall: flow.c). */
void sp_sconn_timer_in(struct sp_sconn *sc, uint64_t usec);

/*
 * Closes every connection of `server` (teardown, a failover, a reload), failing the requests on
 * them with `reason`; not counted as the server's failure.  New requests open new connections.
 * With `hold`, requests that never left are held (hold.c) instead, when the pool holds.
 */
void sp_server_close_all(struct sp_server *server, const char *reason, bool hold);

/*
 * Closes the connections of `server` that have nothing in flight; returns how many are still
 * busy (a retired server is freed once none is).
 */
size_t sp_server_close_idle(struct sp_server *server);

/* Names connection `sc` `name` (a request of the proxy's own, answer ignored). */
void sp_sconn_name(struct sp_proxy *proxy, struct sp_sconn *sc, const char *name);

#endif /* SP_SCONN_H */
