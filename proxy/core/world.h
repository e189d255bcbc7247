/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One worker among several (--workers N; shell/workers.c provides this): how the data path
 * reaches the one placement decision of the process.  A pool that ejects failing servers must
 * route a key to the same server in every worker at every moment, so only the leader decides
 * (eject.c): followers report what their connections saw, and the leader changes a placement
 * with every follower parked at an event boundary, making theirs the same before they go on.
 * Taking a server back at its retry time needs no stop: the retry times are the leader's in
 * every worker, and each worker rebuilds before it routes anything after that time.  Nor does
 * a Sentinel move: a key keeps its server, only the server's address changes; the leader's
 * Sentinel client tells every follower, which moves its own server object (and releases the
 * requests it held) as the leader did.  A migrating pool's phase is the leader's survey's
 * (survey.c): each follower takes the phase it is told, and the leader arms (moves keys) only
 * once every follower has said it is ready with nothing sent before still in flight.
 * struct sp_proxy's `world` is NULL for the only worker: it decides alone, as it always did.
 */
#ifndef SP_WORLD_H
#define SP_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sp_proxy;

/* Where the leader's Sentinel client puts a server of a Sentinel pool (by index), for the
   followers, which follow no Sentinel themselves. */
struct sp_world_move {
    unsigned generation, pool, server;
    bool replica;              /* the replica to read from (host "" : none), else the master */
    char host[256];
    int port;
    char reason[256];          /* for the requests a master's move fails */
};

/* A migrating pool's phase (by index; `state` an enum sp_mig_state), in a plan (migration.h). */
struct sp_world_phase {
    unsigned generation, pool;
    uint64_t plan;
    int state;
};

/* What a follower tells the leader about a server of a running pool (by index). */
enum sp_world_news {
    SP_WORLD_FAILURE,      /* a connection to it failed or closed */
    SP_WORLD_ANSWERED,     /* it answered again after a failure was reported */
    SP_WORLD_REBUILD_DUE,  /* a retry time passed: the follower took the server(s) back, as
                              every worker does at that time (server index unused) */
};

struct sp_world {
    bool follower;
    unsigned index;            /* this worker's number (0: the leader) */
    unsigned nfollowers;
    /*
     * Followers: queues news for the leader (from the follower's own thread; never blocks on
     * the leader).  `generation` is the proxy's (sp_proxy.generation): news from before a
     * reload is dropped.
     */
    void (*report)(struct sp_world *w, unsigned generation, unsigned pool, unsigned server,
                   enum sp_world_news news);
    /*
     * Leader: parks every follower at an event boundary, calls fn(followers, n, arg) with
     * their proxies (the caller may change them: nobody else runs on them), then lets them go.
     */
    void (*stop)(struct sp_world *w,
                 void (*fn)(struct sp_proxy *const *followers, size_t n, void *arg), void *arg);
    /* Leader: tells every follower (queued; each applies it between two events). */
    void (*tell)(struct sp_world *w, const struct sp_world_move *m);
    void (*tell_phase)(struct sp_world *w, const struct sp_world_phase *p);
    /* Follower: its pool is in phase p (ready: what the leader waits for before it arms), and
       nothing it sent before p is still in flight. */
    void (*phase_reached)(struct sp_world *w, const struct sp_world_phase *p);
};

/* Follower: the leader's news of a Sentinel pool's server applied to its own (failover.c). */
void sp_world_move(struct sp_proxy *follower, const struct sp_world_move *m);

/* Follower: the leader's phase of a migrating pool taken (survey.c); in ready, phase_reached
   follows once nothing sent before it is in flight. */
void sp_world_phase(struct sp_proxy *follower, const struct sp_world_phase *p);

/* Leader: follower number `follower` reached phase p (survey.c). */
void sp_world_phase_reached(struct sp_proxy *leader, unsigned follower,
                            const struct sp_world_phase *p);

/* Leader: tells every follower the phase of each migrating pool (after a reload, where every
   worker made its migrations anew: each must say again that it reached its phase). */
void sp_world_tell_phases(struct sp_proxy *leader);

/* Leader: news from a follower, applied as if the leader's own connection had seen it. */
void sp_world_news(struct sp_proxy *leader, unsigned generation, unsigned pool, unsigned server,
                   enum sp_world_news news);

/* Leader, followers parked: every pool of `follower` takes the leader's placement (after a
   reload, where each worker built its own at its own moment). */
void sp_world_adopt_all(struct sp_proxy *leader, struct sp_proxy *follower);

#endif /* SP_WORLD_H */
