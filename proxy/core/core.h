/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the files of proxy/core share: the queue types, the invariant checks, the data path's
 * limits, and the proxy object itself (struct sp_proxy) with its proxy-wide pieces (proxy.c,
 * reload_log.c, trim.c, clock.c).
 *
 * Layering (as nutcracker): proxy -> pool -> server -> server connection -> request.  A client
 * belongs to a pool.  Every request a client sends gets an sp_req, queued on the client in
 * arrival order; replies are written only from the head of that queue, so they stay in request
 * order whatever order the servers answer in.  A request forwarded to a server is also queued on
 * the server connection, in send order, which is the order the server replies in.  A multi-key
 * request spanning servers is a parent (on the client queue) with one fragment per server (on the
 * server queues).
 *
 * Each object has a header of its own, with the functions of its files: a pool and its placement
 * in pool.h (pool.c, eject.c), a server in server.h, a server connection in sconn.h, a request
 * in req.h (request.c), a client in client.h (client.c, client_cache.c), a migration in
 * migration.h (migrate.c, survey.c).  What the data path does with them: forward.h (a request
 * to its servers), deliver.h (a reply to its request), flow.h (back-pressure), hold.h (waiting
 * out a failover), replica.h (replica reads), failover.h (Sentinel pools), keybytes.h (a
 * request's keys), listener.h (a pool's listening socket), retire.h (what a reload dropped).
 *
 * Nothing here knows a wire protocol: that is behind pool->proto (proto.h).
 */
#ifndef SP_CORE_H
#define SP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "conn.h"
#include "report/stats.h"

struct sp_client;
struct sp_client_busy;
struct sp_conf;
struct sp_conf_pool;
struct sp_conf_server;
struct sp_listener;
struct sp_migration;
struct sp_msg;
struct sp_parser_block;
struct sp_part;
struct sp_placer;
struct sp_pool;
struct sp_proto;
struct sp_registry;
struct sp_reply;
struct sp_req;
struct sp_sconn;
struct sp_sentinel;
struct sp_server;
struct sp_stats;
struct sp_world;

TAILQ_HEAD(sp_req_q, sp_req);
TAILQ_HEAD(sp_client_q, sp_client);
TAILQ_HEAD(sp_sconn_q, sp_sconn);
TAILQ_HEAD(sp_busy_q, sp_client_busy);
TAILQ_HEAD(sp_server_q, sp_server);
TAILQ_HEAD(sp_pool_q, sp_pool);

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
    bool shared_port;             /* sp_proxy_options: listeners in an SO_REUSEPORT group */
    bool follower;                /* ... and this is not the first worker */
    struct sp_world *world;       /* several workers: the others (world.h); NULL: alone */
    unsigned generation;          /* reloads put in service (every worker counts the same) */
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
    char move_id[48];             /* this worker of this process in the lock tokens of key
                                     moves (migrate.c) */
    uint64_t moves;               /* key moves started: the rest of a token */
    uint64_t activity;            /* requests parsed so far (trim.c looks for quiet spells) */
    uint64_t trim_seen;           /* `activity` at the trim timer's last look */
    bool trimmed;                 /* memory was given back since the last activity */
    struct event *trim_timer;
};

/* ---- proxy.c: the proxy's life cycle ---- */

/* The most servers any pool of `conf` has. */
size_t sp_conf_max_servers(const struct sp_conf *conf);

/* Grows the multi-key scratch arrays to `maxservers` entries.  Returns 0 or -1 (OOM). */
int sp_proxy_reserve(struct sp_proxy *proxy, size_t maxservers);

/* ---- reload_log.c ---- */

/* Logs, per pool, what changed from config `a` to `b` and the share of keys that move. */
void sp_reload_log(const struct sp_conf *a, const struct sp_registry *areg,
                   const struct sp_conf *b, const struct sp_registry *breg);

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

#endif /* SP_CORE_H */
