/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Sentinel client: where the masters of one Sentinel pool are, and when that changes.
 *
 * One client per pool with a `sentinels:` list (docs/configuration.md).  It runs on the caller's
 * event base and never blocks (but for resolving the Sentinels' names once, in sp_sentinel_new):
 * it keeps two connections to every Sentinel of the pool, one for commands and one subscribed to
 * +switch-master, +sdown/-sdown and +odown/-odown, and
 *   - asks each Sentinel for the address (SENTINEL get-master-addr-by-name), the config epoch
 *     (SENTINEL MASTER) and the replicas (SENTINEL REPLICAS; SENTINEL SLAVES, the older name, of
 *     a Sentinel that answers REPLICAS with an error) of every master at start, after every
 *     reconnect, every `interval_ms`, at once on a master's +sdown/+odown and +switch-master,
 *     and when an event does not fit what it knows;
 *   - reports a +switch-master as soon as it arrives;
 *   - keeps working when any Sentinel dies: the others carry on; a dead one is reconnected with
 *     exponential backoff; one that stops answering (SIGSTOP, a partition) is dropped after
 *     `timeout_ms` and reconnected the same way;
 *   - logs, but survives, a Sentinel that does not know a master.
 *
 * Which address wins when Sentinels disagree (a partitioned one keeps an old view) - so that a
 * stale answer never flips a master back:
 *   1. At start, a master's address is decided once a majority of the pool's Sentinels have
 *      answered for it (or every Sentinel has answered or failed): the answer with the highest
 *      config epoch wins (ties: the address most Sentinels gave).  Until then the YAML's address
 *      stands and nothing is reported.
 *   2. A +switch-master whose old address is the one we follow is applied at once; its config
 *      epoch is not in the event, so the client counts it as one above the epoch it knew and
 *      asks every Sentinel again to learn the real one.  A +switch-master from an address we do
 *      not follow (a late Sentinel replaying an older failover, or one we missed) changes
 *      nothing by itself: it triggers a query round.
 *   3. A query answer that differs from the address we follow is applied only when its config
 *      epoch is newer (greater) than the one we know; otherwise it is a stale view and logged.
 *      An answer that agrees raises the known epoch.
 * Config epochs only grow with each successful failover of a master, so a lagging Sentinel's
 * answer always carries an older one.
 *
 * Which replica to read from (sp_sentinel_replica), e.g. while a master is down and not yet
 * replaced:
 *   - the list that counts is the latest answer to SENTINEL REPLICAS from a Sentinel that, in the
 *     same round, put the master where the client follows it (one with an older view may list
 *     the new master, or miss a replica); of it the first 16 entries;
 *   - a replica flagged s_down, o_down or disconnected is unfit, and so is one whose
 *     role-reported is not "slave" (an old master back up, not yet turned into a replica: it may
 *     be empty); master-link-status is not looked at (it is "err" exactly while the master is
 *     down); the followed master's address never counts (after a failover Sentinel lists the
 *     old master as a replica: disconnected, then s_down, while it is away);
 *   - of the fit ones, the highest slave-repl-offset (the freshest data), ties to the lowest
 *     address (every proxy chooses the same); but while the master is up the chosen replica is
 *     kept while it is fit, as all of them trail the master by an amount that moves;
 *   - none until the master is decided, and none when no list counts (e.g. just after a switch,
 *     until a Sentinel answers for the new master).
 * A change of the choice is logged (info) and reported by on_replicas (sp_sentinel_on_replicas).
 */
#ifndef SP_SENTINEL_H
#define SP_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "conf.h"

/* Defaults of the options (milliseconds). */
#define SP_SENTINEL_DEFAULT_TIMEOUT 1000       /* an answer owed for longer drops the link */
#define SP_SENTINEL_DEFAULT_INTERVAL 1000      /* re-ask every master this often */
#define SP_SENTINEL_DEFAULT_BACKOFF_MIN 100    /* first reconnect delay, doubled per failure */
#define SP_SENTINEL_DEFAULT_BACKOFF_MAX 2000   /* ... up to this */

/* Tuning; a zero field takes its default. */
struct sp_sentinel_options {
    int timeout_ms;
    int interval_ms;
    int backoff_min_ms;
    int backoff_max_ms;
};

/* Why a master's address is reported. */
enum sp_sentinel_why {
    SP_SENTINEL_FIRST,   /* decided at start (may equal the YAML's address) */
    SP_SENTINEL_SWITCH,  /* a +switch-master event */
    SP_SENTINEL_NEWER,   /* a query answer with a newer config epoch (e.g. an event was lost) */
};

/* A master's state as the Sentinels report it. */
enum sp_sentinel_state {
    SP_SENTINEL_UP,      /* no Sentinel reports it down (again, after -sdown/-odown/a switch) */
    SP_SENTINEL_SDOWN,   /* at least one Sentinel sees it down (+sdown) */
    SP_SENTINEL_ODOWN,   /* the Sentinels agree it is down (+odown): a failover follows */
};

/* What on_master gets; the strings are valid during the call only. */
struct sp_sentinel_master {
    size_t server;              /* index in the pool's servers (config order) */
    const char *name;           /* the server's name */
    const char *master;         /* its Sentinel master name */
    const char *host;           /* where the master is now */
    int port;
    long long epoch;            /* its config epoch, -1 when not known (yet) */
    enum sp_sentinel_why why;
    const char *sentinel;       /* "host:port" of the Sentinel that told us */
};

struct sp_sentinel_callbacks {
    /* A master's address is decided or changed (never called twice with the same address). */
    void (*on_master)(void *ctx, const struct sp_sentinel_master *m);
    /* A master's state changed (may be NULL): the worst any connected Sentinel reports, from its
     * events, and after a (re)connect from the flags of its SENTINEL MASTER answer. */
    void (*on_state)(void *ctx, size_t server, const char *master, enum sp_sentinel_state state,
                     const char *sentinel);
    void *ctx;
};

struct sp_sentinel;

/*
 * Starts following the masters of `pool` (a Sentinel pool: sp_conf_pool_is_sentinel) on `base`:
 * resolves the Sentinels' addresses (blocking) and starts connecting.  `pool`, `base` and the
 * callbacks' context must outlive the client; callbacks run from `base`'s loop and must not free
 * the client.  `opt` may be NULL.  Returns the client, or NULL with err naming the problem, e.g.
 * "pool 'ha': Sentinel 'nohost:26379': cannot resolve 'nohost': ...".
 */
struct sp_sentinel *sp_sentinel_new(struct event_base *base, const struct sp_conf_pool *pool,
                                    const struct sp_sentinel_callbacks *cb,
                                    const struct sp_sentinel_options *opt, char *err,
                                    size_t errlen);

/* Closes every connection and frees the client; nothing is called back.  NULL is a no-op. */
void sp_sentinel_free(struct sp_sentinel *sn);

/*
 * The address the client follows for server `server` (the YAML's until decided): *host stays
 * valid until the client next runs.  Returns 0, or -1 for a server index out of range.
 */
int sp_sentinel_current(const struct sp_sentinel *sn, size_t server, const char **host,
                        int *port, long long *epoch);

/*
 * The replica to read from for server `server` now (the rule above): 0 with *host ("an IP", as
 * Sentinel reports it; valid until the client next runs) and *port, or -1 when there is none or
 * the index is out of range.  Never the address sp_sentinel_current gives.
 */
int sp_sentinel_replica(const struct sp_sentinel *sn, size_t server, const char **host,
                        int *port);

/*
 * Calls on_replicas(ctx, server) - ctx the callbacks' - from the loop whenever what
 * sp_sentinel_replica gives for a server changes (another replica, or none), so that the pool can
 * drop its connections to a replica no longer chosen; NULL stops it.  Set it before the loop runs
 * to miss no change.  (A setter, not a field of sp_sentinel_callbacks, so that the callers'
 * positional initializers of that struct stay complete.)
 */
void sp_sentinel_on_replicas(struct sp_sentinel *sn, void (*on_replicas)(void *ctx, size_t server));

/* Names of the enums, for logs: "first", "+switch-master", "newer epoch"; "up", ... */
const char *sp_sentinel_why_name(enum sp_sentinel_why why);
const char *sp_sentinel_state_name(enum sp_sentinel_state state);

#endif /* SP_SENTINEL_H */
