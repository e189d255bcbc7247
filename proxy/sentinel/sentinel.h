/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Sentinel client: where the masters of one Sentinel pool are, and when that changes.
 *
 * One client per pool with a `sentinels:` list (docs/configuration.md).  It runs on the caller's
 * event base and never blocks (but for resolving the Sentinels' names once, in sp_sentinel_new):
 * it keeps two connections to every Sentinel of the pool, one for commands and one subscribed to
 * +switch-master, +sdown/-sdown and +odown/-odown, and
 *   - asks each Sentinel for the address (SENTINEL get-master-addr-by-name) and the config epoch
 *     (SENTINEL MASTER) of every master at start, after every reconnect, every `interval_ms`, and
 *     at once when an event does not fit what it knows;
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

/* Names of the enums, for logs: "first", "+switch-master", "newer epoch"; "up", ... */
const char *sp_sentinel_why_name(enum sp_sentinel_why why);
const char *sp_sentinel_state_name(enum sp_sentinel_state state);

#endif /* SP_SENTINEL_H */
