/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A server of a pool (struct sp_server) and its life: made from the config, freed, moved by a
 * Sentinel failover (server.c).  Its connections are in sconn.h.
 */
#ifndef SP_SERVER_H
#define SP_SERVER_H

#include <sys/socket.h>

#include "core.h"
#include "report/stats.h"

/*
 * A server of a pool.  Its address is where it is now: the config's, or, in a Sentinel pool,
 * where Sentinel says its master is.  Servers are allocated one by one and survive a reload that
 * keeps them (connections and all); one that a reload drops, or whose pool is gone, is retired:
 * it takes no new request, answers what is in flight and is freed once idle (retire.c).
 */
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
    bool failure_reported;        /* a follower told the leader of a failure (world.h) */
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
    char told_replica_host[256];  /* a follower: the leader's choice of replica (world.h) */
    int told_replica_port;        /* ... 0: none */
    bool is_replica;              /* this is such a replica: outside placement, never held */
};

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

#endif /* SP_SERVER_H */
