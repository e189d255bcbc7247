/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle audit: the keys that live servers hold against the configured placement.  Every
 * server of a Redis pool is SCANned, every key placed with the pool's own hash, hash_tag and
 * distribution (no ejection: the audit is against the configuration), and a key found on another
 * server than its owner is "misplaced".  With --fix each misplaced key is moved to its owner with
 * the non-blocking move protocol of lib/move.h (TAKE, RESTORE without REPLACE, FINISH), so a key
 * that its owner holds too is a conflict: the owner's copy stands, the other is set aside.
 * The protocol's own keys are not placed: locks are skipped, set-aside copies counted and listed.
 *
 * The pieces: audit_servers.c finds and connects the servers (configured, or the masters Sentinel
 * names now), audit_scan.c scans and tallies, audit_fix.c batches, audit_move.c moves,
 * text/json/csv.c report.
 */
#ifndef SP_ORACLE_AUDIT_H
#define SP_ORACLE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "conf.h"
#include "opts.h"
#include "placement.h"
#include "registry.h"
#include "resp_client.h"

#define SP_AUDIT_DEFAULT_COUNT 1000     /* SCAN ... COUNT */
#define SP_AUDIT_DEFAULT_BATCH 100      /* keys per batch (one pipeline of each step) */
#define SP_AUDIT_DEFAULT_TIMEOUT 5000   /* ms: connect, each wait for a reply */

struct sp_audit_fixer;

/* One server of a pool as the audit reaches it. */
struct sp_audit_server {
    const struct sp_conf_server *conf;
    char host[256];              /* the host, or the unix socket path */
    int port;                    /* 0: unix socket */
    char addr[272];              /* "host:port" or the path: where it was scanned */
    struct sp_rc *conn;
    uint64_t keys;               /* keys scanned (not the move protocol's own) */
    uint64_t misplaced;          /* of which placement gives to another server */
    uint64_t aside;              /* set-aside copies found (SP_MOVE_ASIDE_PREFIX) */
};

/*
 * Keys found on server `from` that belong to server `to`, and what --fix did with them.  In a
 * migration: the keys whose owner changes from `from` (source layout) to `to` (target layout).
 */
struct sp_audit_flow {
    uint64_t misplaced;
    uint64_t moved;
    uint64_t nokey;              /* gone from the source when moved (a proxy moved it first) */
    uint64_t conflicts;          /* the owner holds the key too: the source's copy set aside */
    uint64_t failed;             /* not moved (RESTORE refused it, locked elsewhere, ...) */
};

enum sp_audit_issue_kind {
    SP_AUDIT_CONFLICT,           /* this run set the source copy aside: the owner's stands */
    SP_AUDIT_FAILED,             /* not moved: why */
    SP_AUDIT_ASIDE,              /* a set-aside copy found by the scan (to == from) */
};

/* A key --fix could not move, or a set-aside copy found.  key is the key itself (its set-aside
 * copy is SP_MOVE_ASIDE_PREFIX + key). */
struct sp_audit_issue {
    enum sp_audit_issue_kind kind;
    size_t from, to;
    unsigned char *key;
    size_t len;
    char *why;                   /* SP_AUDIT_FAILED: the server's words; else NULL */
};

/* The move protocol's state of one run (audit_move.c): the tokens its locks hold. */
struct sp_audit_mover {
    char run[24];                /* random per run, hex */
    uint64_t next;               /* tokens are run:next */
};

struct sp_audit_pool {
    const struct sp_conf_pool *pool;
    struct sp_placer *placer;
    size_t n;                    /* pool->nservers (a migration: both layouts' servers) */
    struct sp_audit_server *servers;
    struct sp_audit_flow *flows; /* n x n, [from * n + to]; the diagonal stays 0 */
    uint64_t keys, misplaced, moved, conflicts, failed, nokey, aside;
    struct sp_audit_issue *issues;
    size_t nissues, issues_cap;
};

struct sp_audit_opts {
    uint64_t count;              /* SCAN COUNT */
    uint64_t batch;              /* keys per batch */
    uint64_t rate;               /* keys moved per second, 0: unlimited */
    int timeout_ms;
    bool fix;
    bool hex;                    /* keys in --list and issues as hex */
    FILE *list;                  /* misplaced keys go here (--list), or NULL */
    enum sp_oracle_format format;
};

struct sp_audit {
    const char *conf_path;
    struct sp_audit_opts opt;
    struct sp_audit_pool *pools;
    size_t npools;
    struct sp_oracle_progress progress;
    uint64_t scanned;            /* keys scanned so far, all pools (for the progress line) */
    double seconds;              /* wall time of the scans (and fixes) */
};

/* ---- audit_opts.c: the mover's options, shared by audit and migrate ---- */

/* getopt codes of the mover's options (after opts.h's shared ones). */
enum {
    SP_AUDIT_OPT_FIX = SP_OPT_FIRST_OWN,
    SP_AUDIT_OPT_RATE,
    SP_AUDIT_OPT_BATCH,
    SP_AUDIT_OPT_COUNT,
    SP_AUDIT_OPT_TIMEOUT,
    SP_AUDIT_OPT_NEXT,           /* a command's own options start here */
};

/* The struct option entries of --rate, --batch, --count and --timeout. */
#define SP_AUDIT_MOVER_OPTIONS                                                                 \
    {"rate", required_argument, NULL, SP_AUDIT_OPT_RATE},                                      \
    {"batch", required_argument, NULL, SP_AUDIT_OPT_BATCH},                                    \
    {"count", required_argument, NULL, SP_AUDIT_OPT_COUNT},                                    \
    {"timeout", required_argument, NULL, SP_AUDIT_OPT_TIMEOUT}

/*
 * Parses mover option `opt` (an SP_AUDIT_OPT_* code) of command `cmd` into *o.  Returns 0, -1
 * when `opt` is not one of them, or exit code 2 after reporting a bad value.
 */
int sp_audit_parse_option(const char *cmd, int opt, const char *arg, struct sp_audit_opts *o);

/* ---- audit_servers.c ---- */

/*
 * Prepares `ap` for the servers `servers[0..n)` of `pool` (pool->servers, or a migration's
 * servers of both layouts), without a placer: the address of each (a Sentinel pool: the master
 * address the first answering Sentinel gives), a connection to each (AUTH redis_auth, SELECT
 * redis_db).  0, or -1 with err set as below; what was opened is left for sp_audit_pool_close.
 */
int sp_audit_pool_open_servers(struct sp_audit_pool *ap, const struct sp_conf_pool *pool,
                               const struct sp_conf_server *const *servers, size_t n,
                               int timeout_ms, char *err, size_t errlen);

/*
 * Prepares `ap` for `pool`: its placer, the address of every server (a Sentinel pool: the master
 * address the first answering Sentinel gives), a connection to each (AUTH redis_auth, SELECT
 * redis_db).  Returns 0, or -1 with err set to "pool 'P': server 'S': reason"; what was opened
 * is left in ap for sp_audit_pool_close.
 */
int sp_audit_pool_open(struct sp_audit_pool *ap, const struct sp_registry *reg,
                       const struct sp_conf_pool *pool, int timeout_ms, char *err, size_t errlen);

/* Closes the connections and frees what the pool owns; a zeroed pool is fine. */
void sp_audit_pool_close(struct sp_audit_pool *ap);

/* "'name' (host:port)", or "'host:port'" when the server is named after where it is. */
const char *sp_audit_server_label(const struct sp_audit_server *s, char *buf, size_t len);

/* ---- audit_scan.c ---- */

/*
 * Places one SCAN page `keys` found on server `from` (tallies, --list, hands keys to move to
 * `fixer` when not NULL): the audit's rule or a migration's.  0, or -1 with why set.
 */
typedef int (*sp_audit_place_fn)(struct sp_audit *a, struct sp_audit_pool *ap, size_t from,
                                 const struct sp_rc_reply *keys, struct sp_audit_fixer *fixer,
                                 char *why, size_t len);

/*
 * SCANs server `i` of `ap` to the end, each page placed by `place`, progress ticked, then moves
 * what the fixer still holds.  0, or -1 with why set (without the server's name).
 */
int sp_audit_scan_server(struct sp_audit *a, struct sp_audit_pool *ap, size_t i,
                         sp_audit_place_fn place, struct sp_audit_fixer *fixer, char *why,
                         size_t len);

/* Sums the servers' and flows' counts into the pool's. */
void sp_audit_totals(struct sp_audit_pool *ap);

/*
 * Scans every server of `ap`, tallying keys and misplaced keys, listing misplaced keys to
 * a->opt.list and, with --fix, moving them as they are found.  Returns 0, or -1 with err set
 * ("pool 'P': server 'S': SCAN: reason") when a server fails.
 */
int sp_audit_scan(struct sp_audit *a, struct sp_audit_pool *ap, char *err, size_t errlen);

/* `key` as text for a report line, hex or escaped (sp_keys_escape); to free.  NULL: no memory. */
char *sp_audit_key_text(const unsigned char *key, size_t len, bool hex);

/* The name of key's set-aside copy (SP_MOVE_ASIDE_PREFIX + key) as sp_audit_key_text writes it. */
char *sp_audit_aside_text(const unsigned char *key, size_t len, bool hex);

/*
 * Is `key`, found on server `on`, one of the move protocol's own (lib/move.h)?  A lock: true
 * (skipped).  A set-aside copy: true, counted and recorded (SP_AUDIT_ASIDE) unless this run set
 * it aside (already a conflict).  Any other key: false, to be placed.
 */
bool sp_audit_protocol_key(struct sp_audit_pool *ap, size_t on, const char *key, size_t len);

/* ---- audit_move.c: the move protocol (lib/move.h) ---- */

/* A mover whose tokens are unique to this run (/dev/urandom, else the clock and the pid). */
void sp_audit_mover_init(struct sp_audit_mover *mv);

/*
 * Moves keys[0..n) from server `from` of `ap` to `to` with TAKE, RESTORE, then FINISH (moved),
 * SET ASIDE (BUSYKEY: a conflict) or RELEASE (any other RESTORE error: failed), pipelined on each
 * server; a key locked by another mover is retried after 1, 2, 4 ... 512 ms, then failed ("in
 * flight elsewhere").  Fates go to ap's flows and issues.  Returns 0, or -1 with why set when
 * the source failed (its locks expire on their own) or the target cannot be reached (the locks
 * this batch holds are released first): the run must stop.  Nothing is lost either way.
 */
int sp_audit_move(struct sp_audit_mover *mv, struct sp_audit_pool *ap, size_t from, size_t to,
                  unsigned char *const *keys, const size_t *lens, size_t n, char *why,
                  size_t len);

/* Records an issue (key copied).  Out of memory loses the record, not the count. */
void sp_audit_add_issue(struct sp_audit_pool *ap, enum sp_audit_issue_kind kind, size_t from,
                        size_t to, const unsigned char *key, size_t len, const char *why);

/* ---- audit_fix.c ---- */

/* A fixer for `a`; NULL when out of memory. */
struct sp_audit_fixer *sp_audit_fixer_new(const struct sp_audit *a);
void sp_audit_fixer_free(struct sp_audit_fixer *f);

/*
 * Queues misplaced key `key` found on server `from` of `ap` for its owner `to`, moving a batch
 * when it is full.  Returns 0, or -1 with err set when the source server failed (the connection
 * is lost: the audit cannot go on).
 */
int sp_audit_fix_key(struct sp_audit_fixer *f, struct sp_audit_pool *ap, size_t from, size_t to,
                     const void *key, size_t len, char *err, size_t errlen);

/* Moves every queued key of `ap`.  0, or -1 with err set as above. */
int sp_audit_fix_flush(struct sp_audit_fixer *f, struct sp_audit_pool *ap, char *err,
                       size_t errlen);

/* ---- reports: text.c, json.c, csv.c ---- */

void sp_oracle_text_audit(FILE *out, const struct sp_audit *a);
void sp_oracle_json_audit(FILE *out, const struct sp_audit *a);
void sp_oracle_csv_audit(FILE *out, const struct sp_audit *a);

#endif
