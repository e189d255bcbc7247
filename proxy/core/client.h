/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A client (struct sp_client) and the state it has only while it has work (struct
 * sp_client_busy): accepting, retiring and closing it (client.c); the proxy's cache of work
 * states and parser blocks (client_cache.c).
 */
#ifndef SP_CLIENT_H
#define SP_CLIENT_H

#include <sys/socket.h>

#include <event2/listener.h>

#include "conn.h"
#include "core.h"

/*
 * What a client needs only while it has work: requests in flight, input or output, a partial
 * request, back-pressure links.  An idle client has none (memory per idle connection is what
 * limits how many a proxy holds), so this is taken from a per-proxy cache when work arrives and
 * given back when the client is idle again (client.c).
 */
struct sp_client_busy {
    struct sp_client *client;
    struct sp_req_q reqs;         /* in arrival order; replies leave from the head */
    void *parser;                 /* the protocol's parser block: lent while parsing, kept while
                                     a request is partial */
    struct sp_sconn *blocked_on;  /* paused by that connection's back-pressure */
    TAILQ_ENTRY(sp_client_busy) wlink; /* blocked_on->waiters, or the proxy's cache */
    struct sp_sconn_q stalled;    /* server connections waiting for this output to drain */
    size_t inflight;              /* requests forwarded and not yet answered: their bytes plus
                                     SP_REQ_COST each */
    size_t nparked;               /* requests parked while their keys move (migrate.c) */
    size_t held;                  /* replies complete but queued behind an unanswered request:
                                     their bytes plus SP_HELD_REPLY_COST each (they count as
                                     output for back-pressure) */
};

struct sp_client {
    struct sp_conn conn;          /* its buffers exist whenever `busy` does */
    TAILQ_ENTRY(sp_client) link;  /* pool->clients */
    struct sp_pool *pool;
    struct sp_client_busy *busy;  /* NULL while idle */
    /* One 64-bit word for the counter and the flags: 200 bytes in all, a 208-byte malloc chunk
       (every idle client costs this; 2^59 bytes is more than any connection will carry). */
    uint64_t consumed : 58;       /* request bytes taken from the stream (error offsets) */
    uint64_t mig_paused : 1;      /* not read while its pool's migration says wait (survey.c) */
    uint64_t paused : 1;          /* reading disabled for back-pressure */
    uint64_t closing : 1;         /* close once the output drained (QUIT, protocol error) */
    uint64_t lingering : 1;       /* all replies out, write side shut: discard input until EOF */
    uint64_t in_process : 1;      /* inside client_process: no recursion */
    uint64_t authenticated : 1;   /* the protocol's AUTH state (proto.h) */
};

/*
 * The server connection slot (of server_connections) a client's requests use, so they reach the
 * server in the order it sent them: its socket, which is stable while it is connected and
 * spreads consecutive clients over the slots.
 */
static inline unsigned sp_client_affinity(const struct sp_client *cl)
{
    return (unsigned)cl->conn.fd;
}

/* ---- client.c ---- */

/* Accept callback for a pool's listener. */
void sp_client_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg);

/*
 * Its pool is going (a reload removed it): the client is read no more, gets the replies to what
 * it sent, then is closed: at once when it is idle, once its last reply is written otherwise,
 * without waiting for the peer to write or close.  Replies not yet acknowledged by the peer are
 * not put at risk: until they are, the connection is only shut for writing (as after QUIT) and
 * the retire timer calls again (may free `cl`).
 */
void sp_client_retire(struct sp_client *cl);

/* Closes a client (pool shutdown): in-flight requests are swallowed. */
void sp_client_close(struct sp_client *cl);

/* ---- client_cache.c ---- */

/* A clean work state (client unset), from the proxy's cache when possible; NULL: no memory. */
struct sp_client_busy *sp_busy_get(struct sp_proxy *proxy);

/* Gives a work state back to the cache (or frees it beyond the cache's bound). */
void sp_busy_put(struct sp_proxy *proxy, struct sp_client_busy *b);

/* Lends a parser block of `proto` (cached or new); returns its state, or NULL: no memory. */
void *sp_parser_lend(struct sp_proxy *proxy, const struct sp_proto *proto);

/* Takes a lent block back; one holding part of a request (its client gone) is freed. */
void sp_parser_return(struct sp_proxy *proxy, void *state);

/* Frees the cached client work states and parser blocks (proxy teardown, after every client). */
void sp_client_cache_free(struct sp_proxy *proxy);

#endif /* SP_CLIENT_H */
