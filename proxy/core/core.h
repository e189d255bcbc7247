/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data path's internal objects, shared by the files of proxy/core.
 *
 * Layering (as nutcracker): proxy -> pool -> server -> server connection -> request.  A client
 * belongs to a pool.  Every request a client sends gets an sp_req, queued on the client in
 * arrival order; replies are written only from the head of that queue, so they stay in request
 * order whatever order the servers answer in.  A request forwarded to a server is also queued on
 * the server connection, in send order, which is the order the server replies in.  A multi-key
 * request spanning servers is a parent (on the client queue) with one fragment per server (on the
 * server queues).
 *
 * Nothing here knows a wire protocol: that is behind pool->proto (proto.h).
 */
#ifndef SP_CORE_H
#define SP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "accept.h"
#include "addr.h"
#include "conf.h"
#include "conn.h"
#include "layout.h"
#include "placement.h"
#include "proto.h"
#include "proxy.h"
#include "registry.h"
#include "report/stats.h"

struct sp_client;
struct sp_client_busy;
struct sp_listener;
struct sp_parser_block;
struct sp_pool;
struct sp_req;
struct sp_sconn;
struct sp_sentinel;
struct sp_server;

TAILQ_HEAD(sp_req_q, sp_req);
TAILQ_HEAD(sp_client_q, sp_client);
TAILQ_HEAD(sp_sconn_q, sp_sconn);
TAILQ_HEAD(sp_busy_q, sp_client_busy);

/*
 * Cheap checks of the data path's invariants, on in release builds too: a broken invariant
 * (a queue count gone negative, a request on the wrong queue) would otherwise corrupt memory or
 * hang clients far from its cause.  Logs the condition and where, then aborts.
 */
#define SP_ASSERT(cond) \
    do { \
        if (!(cond)) \
            sp_assert_fail(#cond, __FILE__, __LINE__); \
    } while (0)

void sp_assert_fail(const char *cond, const char *file, int line) __attribute__((noreturn));

/*
 * What a request costs beyond its bytes while in flight (its struct sp_req), and what a reply
 * held in its own buffer behind an unanswered request costs beyond its bytes (the buffer and a
 * chain of libevent's minimum size).  Back-pressure counts them, so a pipeline of tiny requests
 * or tiny replies is limited by the memory it takes, not only by its bytes.
 */
#define SP_REQ_COST 256
#define SP_HELD_REPLY_COST 1280

/* Room for a server's current address as text: "host:port" (IPv6 in brackets) or a path. */
#define SP_ADDR_TEXT_MAX 128

/* Room for an error reason the data path formats itself (a server name and a server's text). */
#define SP_REASON_MAX 512

/* Free requests kept for reuse per proxy; beyond this they are freed (bounded memory). */
#define SP_REQ_FREE_MAX 4096
/* ... and what is kept once no client is connected any more (release when idle). */
#define SP_REQ_FREE_IDLE 64
/* A server connection stops reading while a client's unwritten output exceeds this many high
   watermarks (replies to requests already sent can only be held back, not refused). */
#define SP_STALL_FACTOR 4
/* A request waiting on a shared server connection may be held up by slow readers (clients whose
   unread replies are over the limit, for whom the connection stops reading) for at most the
   pool's `timeout` (or this many msec when it has none) in all: when the oldest waiting request
   has been held up that long, over however many stalls by however many slow readers, the client
   stalling the connection then is closed, whoever it is. */
#define SP_STALL_LIMIT_MS 10000

struct sp_req {
    TAILQ_ENTRY(sp_req) cq;       /* client queue (top-level requests), or the free list */
    TAILQ_ENTRY(sp_req) sq;       /* server connection queue (sent, awaiting the reply) */
    struct sp_client *client;     /* NULL: the client is gone, the reply is swallowed */
    struct sp_req *parent;        /* fragment: the split request */
    struct sp_sconn *sconn;       /* connection it waits on, or NULL */
    struct evbuffer *reply;       /* reply bytes until written out; kept across reuse */
    uint64_t deadline;            /* usec (event_base clock) when the server must have replied */
    uint64_t stall_base;          /* its connection's stall clock when it was queued there */
    uint64_t sent_at;             /* usec (event_base clock) queued on sconn: latency histogram */
    size_t len;                   /* request bytes sent (stats, back-pressure) */
    uint32_t cmd;                 /* protocol command id (split / merge) */
    bool done;                    /* reply is complete */
    bool held;                    /* done behind an unanswered request: counted in busy->held */
    bool close_after;             /* close the client once this reply is written */
    bool noreply;                 /* the server will not answer */
    bool readonly;                /* reads only: a replica may answer (replica.c) */
    const char *err;              /* fragment: why it could not be sent (static string) */
    /* the proxy's own request (migrate.c, survey.c): no client; on_reply gets its reply (or
       the error it failed with) in `reply` and must release it; `owner` is its context */
    void (*on_reply)(struct sp_proxy *proxy, struct sp_req *req);
    void *owner;
    /* waiting out a failover (hold.c): on held_on->held through `sq`, its bytes in `resend` */
    struct sp_server *held_on;
    struct evbuffer *resend;
    uint64_t hold_until;          /* usec (event_base clock) when it stops waiting */
    /* parked while its keys move (migrate.c): on park_mig->parked through `sq` (a top-level
       request), to be sent to park_to (it, or each fragment) once nmoves moves are answered */
    struct sp_migration *park_mig;
    struct sp_server *park_to;
    uintptr_t park_owner;         /* the client it came from (compared, never followed) */
    uint32_t nmoves;
    bool move_failed;             /* a move failed: why is in `reply` until it is failed */
    /* split requests */
    uint32_t nfrags;
    uint32_t npending;            /* fragments still without a reply */
    struct sp_req **frags;        /* nfrags entries, capacity frags_cap (kept across reuse) */
    uint32_t frags_cap;
    uint32_t *frag_of_key;        /* nkeys entries, capacity keys_cap (kept across reuse) */
    struct sp_part *key_part;     /* key i's element in its fragment's reply (keys_cap) */
    struct evbuffer *memo;        /* what the protocol's split keeps for its merge (created on
                                     the first split, kept across reuse) */
    uint32_t nparted;             /* fragments whose replies filled key_part */
    size_t nkeys;
    size_t keys_cap;
};

/* What an unanswered request counts in its client's in-flight total (see SP_REQ_COST). */
static inline size_t sp_req_cost(const struct sp_req *req)
{
    return req->len > 0 ? req->len + SP_REQ_COST : 0;
}

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
 * A server of a pool.  Its address is where it is now: the config's, or, in a Sentinel pool,
 * where Sentinel says its master is.  Servers are allocated one by one and survive a reload that
 * keeps them (connections and all); one that a reload drops, or whose pool is gone, is retired:
 * it takes no new request, answers what is in flight and is freed once idle (retire.c).
 */
/* A pool's placement as it stands: the placer built from the servers that are live now. */
struct sp_placement {
    struct sp_placer *placer;     /* NULL while no server is live */
    bool *live;                   /* per server (config order): taking part in placement */
    size_t nlive;
    int64_t next_rebuild;         /* usec (wall clock): earliest retry of an ejected server */
};

struct sp_server {
    struct sp_pool *pool;
    const struct sp_conf_server *conf; /* the running config's entry; NULL once retired */
    char *name;                   /* its own copy: logs outlive a reload */
    unsigned idx;                 /* index in pool->servers (the config's order) */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char addr_text[SP_ADDR_TEXT_MAX]; /* "host:port" (or the socket path) it is at now */
    struct sp_sconn **conns;      /* slots in use so far (of server_connections, grown on
                                     demand: nothing per possible connection up front) */
    unsigned nconns;              /* slots in `conns`; NULL entries are closed */
    uint32_t failure_count;       /* consecutive failures (auto_eject_hosts) */
    int64_t next_retry;           /* usec (wall clock): ejected until then; 0 = not ejected */
    bool retired;                 /* dropped by a reload: finishing what is in flight */
    uint64_t retired_at;          /* usec (loop clock) */
    TAILQ_ENTRY(sp_server) rlink; /* proxy->retired_servers */
    struct sp_server_stats *st;   /* the shared stats, or own_st when there are none */
    struct sp_server_stats own_st;
    /* hold.c: requests never sent, waiting for the master to be back or replaced */
    struct sp_req_q held;
    size_t nheld;
    struct event *hold_timer;     /* probes and expiries while something is held */
    uint64_t hold_since;          /* usec (event_base clock) the current hold began */
    unsigned hold_ticks;
    char hold_reason[SP_REASON_MAX];
    bool source_only;             /* migrate.c: in a migration's source layout only */
    /* replica.c: where reads go while the master is down (failover_replica_reads) */
    struct sp_server *replica;    /* made on first use, NULL until then */
    bool is_replica;              /* this is such a replica: outside placement, never held */
};

TAILQ_HEAD(sp_server_q, sp_server);
TAILQ_HEAD(sp_pool_q, sp_pool);

struct sp_pool {
    struct sp_proxy *proxy;
    const struct sp_conf_pool *conf; /* the running config's, or a retired pool's own copy */
    struct sp_conf_pool *own_conf;   /* retired: the copy above (freed with the pool) */
    unsigned idx;
    const struct sp_proto *proto;
    struct sp_listener *listener; /* NULL: not listening (yet, or any more) */
    struct sp_log_limit refuse_log; /* over client_connections: one log line a second */
    struct sp_server **servers;   /* in the config's order */
    size_t nservers;
    struct sp_placement place;    /* who owns a key now (eject.c) */
    struct sp_sentinel *sentinel; /* a Sentinel pool's client (failover.c), else NULL */
    struct sp_migration *mig;     /* its keys move (migrate.c), else NULL */
    char conn_name[SP_CONN_NAME_MAX]; /* what its server connections are called when steady */
    struct sp_client_q clients;
    size_t nclients;
    bool retired;                 /* gone from the config: replies in flight, then closed */
    TAILQ_ENTRY(sp_pool) rlink;   /* proxy->retired_pools */
    struct sp_pool_stats *st;     /* the shared stats, or own_st when there are none */
    struct sp_pool_stats own_st;
};

/* Where a proxy is in a migration (survey.c, docs/resharding.md). */
enum sp_mig_state {
    SP_MIG_UNKNOWN,  /* until the first survey: the pool's clients wait */
    SP_MIG_WAIT,     /* proxies on the old file are about: keys are served from the source */
    SP_MIG_READY,    /* none left: the pool's clients wait until every proxy is ready */
    SP_MIG_ARMED,    /* keys are served from the target, moved there first when they move */
};

/* A pool whose keys move from its `migrate_from` layout to its own (migrate.c, survey.c). */
struct sp_migration {
    struct sp_pool *pool;
    uint64_t plan;                /* sp_conf_plan_id: what the connections' names carry */
    uint64_t src_layout, dst_layout;
    enum sp_mig_state state;
    char name[SP_CONN_NAME_MAX];  /* our connections' name in this state */
    struct sp_server **src;       /* the source layout's servers, in its config order */
    bool *src_own;                /* ... made for it (else the pool's server of that name) */
    size_t nsrc;
    struct sp_placement place;    /* the source layout's placement */
    bool same_hash;               /* both layouts hash keys alike: one hash places twice */
    struct sp_req_q parked;       /* requests waiting for their keys to move, arrival order */
    size_t nparked;
    uintptr_t *blocked;           /* sp_mig_release's scratch: clients with an earlier request
                                     still parked */
    size_t nblocked, blocked_cap;
    struct event *timer;          /* survey rounds */
    unsigned round, pending, answers, seen;
    uint64_t round_started;
    bool warned, dead;
    unsigned refs;                /* the pool's, survey requests', parked requests' */
    uint64_t moved, conflicts, failures;
};

struct sp_proxy {
    struct event_base *base;
    const struct sp_conf *conf;
    const struct sp_registry *reg;
    struct sp_stats *stats;
    struct sp_global_stats *gst;  /* the shared stats, or own_gst when there are none */
    struct sp_global_stats own_gst;
    struct sp_flusher flusher;    /* end-of-iteration write batch (conn.h) */
    size_t read_size;             /* max bytes per read call */
    size_t hwm;                   /* back-pressure high watermark, bytes */
    struct sp_pool **pools;       /* the running config's, in its order */
    size_t npools;
    struct sp_pool_q retired_pools;     /* gone by a reload, still delivering (retire.c) */
    struct sp_server_q retired_servers; /* ditto, servers of any pool */
    struct event *retire_timer;
    size_t maxservers;            /* size of the multikey arrays below */
    size_t nclients;              /* over all pools (free list release when idle) */
    bool stopping;                /* teardown: closed connections are no server's fault */
    struct sp_req_q free_reqs;
    size_t nfree;
    struct evbuffer *scratch;     /* a split request's bytes, a local reply under construction */
    struct evbuffer *discard;     /* fragment bytes for a server that cannot be reached */
    char *keybuf;                 /* a key that is not contiguous in its buffer */
    size_t keycap;
    uint32_t *srv_frag;           /* multikey: server index -> fragment, per pool max servers */
    struct evbuffer **frag_out;   /* multikey: where each fragment's bytes go (max servers) */
    struct evbuffer **frag_rep;   /* multikey: each fragment's reply, for merging */
    int *key_srv;                 /* multikey: key -> server, capacity key_srv_cap */
    int *key_from;                /* multikey, armed migration: key -> its source server (the
                                     migration's index) when it moves, else -1 (same capacity) */
    size_t key_srv_cap;
    struct sp_busy_q free_busy;   /* client work states for reuse (bounded) */
    size_t nfree_busy;
    struct sp_parser_block *free_parsers; /* protocol parser blocks for reuse (client.c) */
    size_t nfree_parsers;
    char move_id[24];             /* this process in the lock tokens of key moves (migrate.c) */
    uint64_t moves;               /* key moves started: the rest of a token */
    uint64_t activity;            /* requests parsed so far (trim.c looks for quiet spells) */
    uint64_t trim_seen;           /* `activity` at the trim timer's last look */
    bool trimmed;                 /* memory was given back since the last activity */
    struct event *trim_timer;
};

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

/* ---- listener.c ---- */

/* Opens the pool's listening socket, accepting into client.c.  Returns 0 or -1 with err set. */
int sp_listener_open(struct sp_pool *pool, char *err, size_t errlen);

/* Closes the pool's listener (a unix socket file is removed); safe when it has none. */
void sp_listener_close(struct sp_pool *pool);

/*
 * Hands `from`'s listener to `to` (a reload: a new pool on a removed pool's address), which gets
 * the connections accepted from now on.  Never fails; the socket is not closed in between.
 */
void sp_listener_move(struct sp_pool *to, struct sp_pool *from);

/* ---- pool.c: a pool's life cycle ---- */

/*
 * Can pool `cp` be put into service: its addresses resolve and its placement can be built with
 * the plugins of `reg`?  Returns 0, or -1 with err naming the pool (not the file).
 */
int sp_pool_check(const struct sp_conf_pool *cp, const struct sp_registry *reg, char *err,
                  size_t errlen);

/*
 * A pool for config `cp` (index `idx` in its config), placed with the plugins of `reg`: servers
 * resolved, placement built, a Sentinel pool's masters followed; not listening yet
 * (sp_listener_open), stats its own until sp_pool_attach_stats.  NULL with err naming the pool.
 */
struct sp_pool *sp_pool_new(struct sp_proxy *proxy, const struct sp_registry *reg,
                            const struct sp_conf_pool *cp, unsigned idx, char *err,
                            size_t errlen);

/* Closes the pool's listener, clients and server connections and frees it.  NULL: no-op. */
void sp_pool_free(struct sp_pool *pool);

/* Points the pool's and its servers' counters at pool `idx` of `stats` (NULL: their own). */
void sp_pool_attach_stats(struct sp_pool *pool, struct sp_stats *stats, size_t idx);

/* Connects to every server now when the pool has `preconnect`. */
void sp_pool_preconnect(struct sp_pool *pool);

/* ---- proxy.c: the proxy's life cycle ---- */

/* The most servers any pool of `conf` has. */
size_t sp_conf_max_servers(const struct sp_conf *conf);

/* Grows the multi-key scratch arrays to `maxservers` entries.  Returns 0 or -1 (OOM). */
int sp_proxy_reserve(struct sp_proxy *proxy, size_t maxservers);

/* ---- reload_log.c ---- */

/* Logs, per pool, what changed from config `a` to `b` and the share of keys that move. */
void sp_reload_log(const struct sp_conf *a, const struct sp_registry *areg,
                   const struct sp_conf *b, const struct sp_registry *breg);

/* ---- retire.c: what a reload dropped, finishing its work ---- */

/* Starts / stops the timer that frees retired servers and pools once idle (stop frees them). */
int sp_retire_start(struct sp_proxy *proxy);
void sp_retire_stop(struct sp_proxy *proxy);

/* `s` left its pool's config: it takes no new request, answers what is in flight, then goes. */
void sp_retire_server(struct sp_server *s);

/*
 * `pool` left the config (or changed its listen address): `own` (a copy of its config, taken
 * over) replaces the config it used; its listener must be gone already; its clients are closed
 * once their replies are out, its servers retired.
 */
void sp_retire_pool(struct sp_pool *pool, struct sp_conf_pool *own);

/* ---- trim.c ---- */

/* Starts the timer that gives memory back once the proxy is quiet.  Returns 0 or -1 (OOM). */
int sp_trim_start(struct sp_proxy *proxy);

/* Stops it (teardown). */
void sp_trim_stop(struct sp_proxy *proxy);

/* ---- clock.c (usec) ---- */

/* Wall clock in usec, as nutcracker's nc_usec_now (ejection is stamped with it). */
int64_t sp_usec_now(void);

/* The loop's cached monotonic-ish clock in usec (cheap; for request deadlines). */
uint64_t sp_loop_usec(struct event_base *base);

/* ---- request.c ---- */

/* Returns a clean request (from the free list when possible), or NULL when out of memory. */
struct sp_req *sp_req_get(struct sp_proxy *proxy);

/* Returns a request (and, for a split one, its fragments' arrays) to the free list. */
void sp_req_put(struct sp_proxy *proxy, struct sp_req *req);

/* Ensures req->frags / req->frag_of_key can hold nfrags / nkeys entries.  Returns 0 or -1. */
int sp_req_reserve(struct sp_req *req, uint32_t nfrags, size_t nkeys);

/* Frees requests beyond `keep` on the free list. */
void sp_req_trim(struct sp_proxy *proxy, size_t keep);

/* Frees every free request (at proxy teardown). */
void sp_req_free_all(struct sp_proxy *proxy);

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

/* ---- sconn.c: server connections ---- */

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

/* ---- hold.c: never-sent requests waiting out a failover ---- */

/* True when requests for `s` that never left may wait for its master (failover_hold). */
bool sp_hold_enabled(const struct sp_server *s);

/* Gives `req` its buffer for its own bytes (req->resend).  Returns 0 or -1 (out of memory). */
int sp_hold_prepare(struct sp_req *req);

/* Holds `req` (never sent; its req->len bytes in req->resend) behind those held already;
   `reason` says why it could not be sent (used when the hold starts). */
void sp_hold_push(struct sp_server *s, struct sp_req *req, const char *reason);

/* Holds the never-sent requests `reqs` (linked by `sq`, bytes in resend) ahead of those held
   already: they were taken off a closing connection, so they are older.  Empties `reqs`. */
void sp_hold_requeue(struct sp_server *s, struct sp_req_q *reqs, const char *reason);

/* Sends the held requests, in order, as far as connections can be had; returns how many. */
size_t sp_hold_release(struct sp_server *s);

/* A connection to `s` came up: held requests go out on it. */
void sp_hold_on_connected(struct sp_server *s);

/* Fails every held request with `reason` and stops the timer (server going away). */
void sp_hold_fail_all(struct sp_server *s, const char *reason);

/* ---- replica.c: reads from a replica while a master is down ---- */

/*
 * A connection to the replica Sentinel chooses for `s`'s master, for `req` (or the request whose
 * fragment it is) when it reads only and the pool has failover_replica_reads; counted as a
 * replica read.  NULL when it may not, or no replica can be had.
 */
struct sp_sconn *sp_replica_conn(struct sp_server *s, const struct sp_req *req);

/* Sentinel chose another replica (or none) for server index `server` of `pool`. */
void sp_replica_changed(struct sp_pool *pool, size_t server);

/* Frees the replica object of `s` (its server is going). */
void sp_replica_free(struct sp_server *s);

/* ---- migrate.c, survey.c: a pool whose keys move (online resharding) ---- */

/*
 * A migration for `pool` under config `cp` (which has migrate_from), whose target layout is
 * `servers` (cp's order; a reload's next servers): source servers and placement made, not
 * running yet.  NULL with err set.  sp_mig_discard frees one never attached.
 */
struct sp_migration *sp_mig_prepare(struct sp_pool *pool, const struct sp_registry *reg,
                                    const struct sp_conf_pool *cp,
                                    struct sp_server *const *servers, char *err, size_t errlen);
void sp_mig_discard(struct sp_migration *m);

/* Starts it (pool->mig is m, pool->conf is cp): `was`, the migration a reload replaces, gives
   its state when the plan is the same.  -1 (logged) when its survey cannot run. */
int sp_mig_attach(struct sp_migration *m, const struct sp_migration *was);

/* The pool lets go of it: stops surveying; parked requests still go out when answered. */
void sp_mig_free(struct sp_migration *m);
void sp_mig_unref(struct sp_migration *m);

/* The key's server in the source layout (NULL: none live), or its index in m->src (-1). */
struct sp_server *sp_mig_source(struct sp_migration *m, const void *key, size_t len);
int sp_mig_source_index(struct sp_migration *m, const void *key, size_t len);

/* Where a key is served in the target layout (NULL: no server), and in *source its source
   layout index (-1: none): hashed once when both layouts hash alike. */
struct sp_server *sp_mig_owners(struct sp_migration *m, const void *key, size_t len,
                                int *source);

/* Parks top-level request `req` of its client (its bytes in resend, park_to set on it or on
   each fragment): sent in order once its moves are answered (sp_mig_move). */
void sp_mig_park(struct sp_migration *m, struct sp_req *req);

/* Moves `key` from `from` onto `to` for parked (or about to be) `req`.  -1: it cannot be
   moved (a unix socket target, out of memory); nothing was sent. */
int sp_mig_move(struct sp_migration *m, struct sp_req *req, struct sp_server *from,
                struct sp_server *to, const void *key, size_t len);

/* Sends the parked requests whose moves are answered, each client's in order. */
void sp_mig_release(struct sp_migration *m);

/* Must the pool's clients wait (unknown, ready)? */
bool sp_mig_pauses(const struct sp_migration *m);

/* What the pool's server connections are called now; sp_pool_rename names them all so. */
const char *sp_pool_conn_name(const struct sp_pool *pool);
void sp_pool_rename(struct sp_pool *pool);

int sp_survey_start(struct sp_migration *m);
void sp_survey_stop(struct sp_migration *m);

/* Names connection `sc` `name` (a request of the proxy's own, answer ignored). */
void sp_sconn_name(struct sp_proxy *proxy, struct sp_sconn *sc, const char *name);

/* Resumes the pool's clients paused by its migration. */
void sp_client_resume_paused(struct sp_pool *pool);

/* ---- failover.c: Sentinel pools ---- */

/* Starts following a Sentinel pool's masters (no-op for other pools).  0 or -1 with err set. */
int sp_failover_start(struct sp_pool *pool, char *err, size_t errlen);

/* A Sentinel client for `pool` following config `cp` (a reload prepares the next one).  NULL
   with err set. */
struct sp_sentinel *sp_failover_client(struct sp_pool *pool, const struct sp_conf_pool *cp,
                                       char *err, size_t errlen);

/* Stops following (frees the client); safe when there is none. */
void sp_failover_stop(struct sp_pool *pool);

/* ---- server.c: the server object ---- */

/*
 * A new server for config entry `cs` (index `idx` in its pool's config order), its address
 * resolved, stats its own until the caller points `st` at the shared ones.  NULL with err set.
 */
struct sp_server *sp_server_new(struct sp_pool *pool, const struct sp_conf_server *cs,
                                unsigned idx, char *err, size_t errlen);

/* Closes the server's connections (failing their requests) and frees it.  NULL is a no-op. */
void sp_server_free(struct sp_server *s);

/*
 * Points `s` at host:port (a Sentinel failover): its connections are closed, failing the
 * requests on them with `reason`; placement is not touched.  Returns 0, or -1 (logged) when the
 * address cannot be resolved (the server stays where it was).
 */
int sp_server_move(struct sp_server *s, const char *host, int port, const char *reason);

/* ---- eject.c: placement and ejection ---- */

/*
 * Which server owns `key` right now: rebuilds the placer first when an ejected server's retry
 * time has come.  Returns the server, or NULL with *reason set when no server is live.
 */
struct sp_server *sp_pool_locate(struct sp_pool *pool, const void *key, size_t len,
                                 const char **reason);

/*
 * Builds the placement of pool config `cp` over `servers` (its servers, config order): servers
 * ejected now (their retry time not passed, in a pool that ejects) are left out.  Allocates; the
 * running pool is not touched (a reload builds the next placement before switching).  Returns 0
 * or -1 with err set.
 */
int sp_placement_build(const struct sp_registry *reg, const struct sp_conf_pool *cp,
                       struct sp_server *const *servers, struct sp_placement *out, char *err,
                       size_t errlen);

/* Frees a placement (safe on a zeroed one). */
void sp_placement_free(struct sp_placement *p);

/* A server connection failed or closed: counts it and ejects the server at the limit. */
void sp_pool_server_failure(struct sp_server *server);

/* A server answered: its consecutive failure count starts over. */
void sp_pool_server_ok(struct sp_server *server);

/* ---- keybytes.c ---- */

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

/* ---- deliver.c: a reply reaches its request ---- */

/*
 * The server's whole reply to `req` is the rep->len bytes at the head of `in`: removes them and
 * hands them to whoever waits (the proxy's own on_reply, the parent of a fragment, the client, or
 * nobody: swallowed).  A request at the head of its client's queue has its reply moved straight
 * into the client's output; any other keeps it in req->reply until the replies before it are
 * out.  req may be freed.
 */
void sp_deliver_reply(struct sp_proxy *proxy, struct sp_req *req, struct evbuffer *in,
                      const struct sp_reply *rep);

/*
 * A client's request got its whole reply (or error) in req->reply: writes every completed reply
 * at the head of the client's queue, in order.  A request with no client is freed instead.
 */
void sp_req_done(struct sp_proxy *proxy, struct sp_req *req);

/* A fragment of a split request got its reply in frag->reply: merges when it was the last. */
void sp_frag_done(struct sp_proxy *proxy, struct sp_req *frag);

/* Fails `req` with an error reply naming `reason` and completes it. */
void sp_req_fail(struct sp_pool *pool, struct sp_req *req, const char *reason);

/* ---- flow.c: back-pressure (backlog, block, stall); resumption from the flusher ---- */

/* Reply bytes the client has not taken yet: its output plus replies held in its queue. */
size_t sp_client_backlog(const struct sp_client *cl);

/* Pauses `cl` over the watermark, resumes it (from the flusher) below half of it. */
void sp_flow_check_backlog(struct sp_client *cl);

/* Makes `cl` wait for sc's output to drain before it reads again. */
void sp_flow_block(struct sp_sconn *sc, struct sp_client *cl);

/* Forgets `cl` as a waiter (client closing). */
void sp_flow_unblock(struct sp_client *cl);

/* sc's output drained (or sc closes): every client waiting on it resumes from the flusher. */
void sp_flow_release_waiters(struct sp_sconn *sc);

/* A reply for `cl` (NULL: none) was delivered on `sc`: stalls sc when cl reads too slowly. */
void sp_flow_after_reply(struct sp_sconn *sc, struct sp_client *cl);

/* The client's output drained, or it goes: connections it stalled read again (flusher). */
void sp_flow_resume_stalled(struct sp_client *cl);

/* Usec `sc` has spent stalled so far (the clock runs only while stalled). */
uint64_t sp_flow_stall_clock(const struct sp_sconn *sc, uint64_t now);

/* sc's timer fired while it is stalled: the stall limit, or the slow reader is closed. */
void sp_flow_stall_timer(struct sp_sconn *sc, uint64_t now);

/* sc is being freed: no client's stall list holds it any more. */
void sp_flow_sconn_gone(struct sp_sconn *sc);

/* ---- forwarding (client.c / multikey.c) ---- */

/*
 * Forwards the multi-key request framed in *msg at the head of `in` (msg->len bytes, removed):
 * as is when all keys live on one server, else split.  A SP_MSG_ALL request is always split,
 * one fragment per server of the pool.  `req` is already on the client queue.
 */
void sp_multikey_forward(struct sp_client *cl, struct sp_req *req, const struct sp_msg *msg,
                         struct evbuffer *in);

/*
 * Sends `len` request bytes from the head of `in` to `server` for `req`.  On failure the bytes
 * are dropped and req is failed.  Returns 0 or -1.
 */
int sp_forward_to(struct sp_client *cl, struct sp_req *req, struct sp_server *server,
                  struct evbuffer *in, size_t len);

#endif /* SP_CORE_H */
