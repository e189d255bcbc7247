/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: nutcracker 0.5.0's YAML, loaded unchanged.
 *
 * A file holds one or more pools.  Each pool has the keys nutcracker accepts, with its defaults and
 * its validation.  Servers are kept in nutcracker's order: sorted by name (shorter names first, then
 * bytewise), because server indexes - and so modula placement - follow that order.
 *
 * Beyond nutcracker, a pool may follow Redis Sentinel (`sentinels:`, docs/configuration.md): its
 * servers' addresses are then only a start, each server follows one Sentinel master, and
 * placement still depends on the server names alone.  A Redis pool may also be resharded online
 * (`migrate_from:`, docs/resharding.md): it then names the layout its keys live in now.
 */
#ifndef SP_CONF_H
#define SP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults, as nutcracker 0.5.0 (nc_conf.h). */
#define SP_CONF_DEFAULT_HASH "fnv1a_64"
#define SP_CONF_DEFAULT_DIST "ketama"
#define SP_CONF_DEFAULT_TIMEOUT (-1)             /* ms; -1: wait forever */
#define SP_CONF_DEFAULT_BACKLOG 512
#define SP_CONF_DEFAULT_CLIENT_CONNECTIONS 0     /* 0: no limit */
#define SP_CONF_DEFAULT_SERVER_CONNECTIONS 1
#define SP_CONF_DEFAULT_SERVER_RETRY_TIMEOUT 30000 /* ms */
#define SP_CONF_DEFAULT_SERVER_FAILURE_LIMIT 2
#define SP_CONF_DEFAULT_REDIS_DB 0
#define SP_CONF_DEFAULT_FAILOVER_HOLD 5000   /* ms a never-sent request waits for a failover */
#define SP_CONF_KETAMA_PORT 11211                /* unnamed servers on this port are named "host" */

/* Where something was written in the YAML file (1-based; 0 when unknown). */
struct sp_conf_mark {
    unsigned line;
    unsigned column;
};

/* A listen or server address: TCP host:port, or a unix socket path (port 0). */
struct sp_conf_addr {
    char *text;        /* as written: "127.0.0.1:22121" or "/tmp/sock" (without weight, perm) */
    char *host;        /* host part, or the socket path */
    int port;          /* 0 for unix sockets */
    bool is_unix;
    unsigned perm;     /* unix listen sockets: "path 0666" permissions, 0 if not given */
};

struct sp_conf_server {
    struct sp_conf_addr addr;
    uint32_t weight;
    /* Explicit name, else "host:port" as written, else "host" for port 11211; an unnamed unix
     * socket is named "/path:" (trailing colon), as nutcracker 0.5.0 names it - this matters
     * for ketama, whose points are derived from the name. */
    char *name;
    bool named;        /* an explicit name was given */
    /* Sentinel pools only (else NULL): the Sentinel master this server follows - its entry in
     * sentinel_masters, else its own name. */
    char *master;
    struct sp_conf_mark mark;
};

/* One Sentinel of a pool: "host:port" as written. */
struct sp_conf_sentinel {
    struct sp_conf_addr addr;
    struct sp_conf_mark mark;
};

/*
 * One "server-name: master-name" line of sentinel_masters: a server whose ring name (what
 * placement hashes) differs from its Sentinel master name, e.g. a server converted from an
 * unnamed nutcracker entry keeps "10.0.0.5:4500" as its name.
 */
struct sp_conf_master_alias {
    char *server;
    char *master;
    struct sp_conf_mark mark;
};

struct sp_conf_pool {
    char *name;
    struct sp_conf_mark mark;
    struct sp_conf_addr listen;
    char *hash;                /* plugin name, e.g. "fnv1a_64" */
    char hash_tag[3];          /* "" or two characters, e.g. "{}" */
    char *distribution;        /* plugin name, e.g. "ketama" */
    int timeout;               /* ms, -1 = none */
    int backlog;
    bool preconnect;
    bool redis;                /* false: memcached protocol */
    char *redis_auth;          /* NULL when not set */
    int redis_db;
    int server_connections;
    bool auto_eject_hosts;
    int server_retry_timeout;  /* ms */
    int server_failure_limit;
    int client_connections;    /* 0 = unlimited */
    bool tcpkeepalive;
    struct sp_conf_server *servers; /* sorted as nutcracker sorts them (see above) */
    size_t nservers;
    /* Sentinel (none of it in nutcracker): nsentinels > 0 makes this a Sentinel pool. */
    struct sp_conf_sentinel *sentinels;    /* in file order */
    size_t nsentinels;
    char *sentinel_auth;                   /* AUTH password for the Sentinels, NULL: none */
    char *sentinel_user;                   /* ACL user sent with it, NULL: none */
    struct sp_conf_master_alias *sentinel_masters;  /* in file order */
    size_t nsentinel_masters;
    /* While a master is down and not yet replaced: how long a request never sent to it waits
       for the switch (ms, 0: fails at once), and whether read-only commands go to a replica. */
    int failover_hold;
    bool failover_replica_reads;
    /*
     * Online resharding (`migrate_from:`, docs/resharding.md): NULL unless the pool is migrating.
     * The layout its keys live in now, as a pool of its own: every field copied from this pool,
     * servers/hash/distribution/hash_tag from migrate_from (the pool's own where migrate_from does
     * not give them), servers sorted and named as in `servers`, sentinel_masters only the entries
     * naming its servers, its `mark` where `migrate_from` was written, its own migrate_from NULL.
     */
    struct sp_conf_pool *migrate_from;
};

struct sp_conf {
    char *path;
    struct sp_conf_pool *pools;     /* in file order */
    size_t npools;
};

/*
 * Loads and validates the YAML file at `path`.  On success stores a new config in *out and
 * returns 0.  On failure returns -1, leaves *out NULL and writes one line into err[errlen] naming
 * the file, line and column, the pool and key, and what was expected, e.g.
 *   "conf/x.yml:7:11: pool 'alpha': key 'hash': unknown hash 'fnv2' (expected one of ...)".
 * Hash and distribution names are checked against `known_hashes` / `known_dists` (NULL-terminated
 * lists, e.g. the loaded plugins); pass NULL to skip that check.
 */
int sp_conf_load(const char *path, const char *const *known_hashes, const char *const *known_dists,
                 struct sp_conf **out, char *err, size_t errlen);

/* Same, from a buffer; `display_name` is used in messages in place of a path. */
int sp_conf_load_string(const char *text, size_t len, const char *display_name,
                        const char *const *known_hashes, const char *const *known_dists,
                        struct sp_conf **out, char *err, size_t errlen);

/* Frees a config from sp_conf_load; NULL is a no-op. */
void sp_conf_free(struct sp_conf *conf);

/* Returns the pool called `name`, or NULL. */
const struct sp_conf_pool *sp_conf_find_pool(const struct sp_conf *conf, const char *name);

/* Returns the server whose name is `name` in `pool`, or -1. */
int sp_conf_find_server(const struct sp_conf_pool *pool, const char *name);

/* True when `pool` follows Redis Sentinel (has a `sentinels:` list). */
bool sp_conf_pool_is_sentinel(const struct sp_conf_pool *pool);

/*
 * Editing a pool (lib/conf_edit.c), for "what if" questions.  Each edit is checked by the loader's
 * own rules and leaves the pool exactly as loading the edited YAML would (names derived and servers
 * sorted the same way).  On failure an edit returns -1, writes one line into err[errlen] whose
 * "WHAT: pool 'P': key 'K': ..." names the edit (`what`, e.g. "--add") and the problem, and leaves
 * the pool unchanged.  Server indexes refer to pool->servers and change after an edit (re-sort):
 * look servers up again with sp_conf_find_server.
 */

/*
 * A deep copy of `pool` (standalone, not part of any sp_conf; migrate_from copied too), or NULL
 * when out of memory.
 */
struct sp_conf_pool *sp_conf_pool_dup(const struct sp_conf_pool *pool);

/* Frees a pool from sp_conf_pool_dup (and its migrate_from); NULL is a no-op. */
void sp_conf_pool_free(struct sp_conf_pool *pool);

/* Adds a server written as a servers-list entry: "host:port:weight [name]" or "/path:weight". */
int sp_conf_pool_add_server(struct sp_conf_pool *pool, const char *entry, const char *what,
                            char *err, size_t errlen);

/*
 * Removes server `index` (and its sentinel_masters entry); -1 (pool unchanged) when there is no
 * such server.  Never fails else.
 */
int sp_conf_pool_remove_server(struct sp_conf_pool *pool, size_t index);

/*
 * Changes server `index`: its address ("host:port" or "/path"), its weight (decimal text) and/or
 * its name; NULL keeps that part.  An unnamed server stays unnamed unless `name` is given, so a new
 * address gives it a new derived name, as nutcracker would.  A renamed server keeps its
 * sentinel_masters entry (the entry is renamed with it).
 */
int sp_conf_pool_edit_server(struct sp_conf_pool *pool, size_t index, const char *address,
                             const char *weight, const char *name, const char *what, char *err,
                             size_t errlen);

/*
 * Sets a placement key ("hash", "hash_tag" or "distribution") to `value`, checking plugin names
 * against the NULL-terminated lists (NULL: not checked), as sp_conf_load does.
 */
int sp_conf_pool_set_key(struct sp_conf_pool *pool, const char *key, const char *value,
                         const char *const *known_hashes, const char *const *known_dists,
                         const char *what, char *err, size_t errlen);

#endif /* SP_CONF_H */
