/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the configuration loader, shared by lib/conf*.c only.
 *
 * The loader is split by concern: conf.c (public API, file reading), conf_parse.c (the YAML
 * event walk: structure and per-key dispatch), conf_value.c (one scalar -> one typed value),
 * conf_pool.c (per-pool checks once a pool is complete: defaults, required keys, server order),
 * conf_sentinel.c (the Sentinel keys: their entries and their pool checks), conf_msg.c (the
 * message format), conf_keys.c (the list of keys) and conf_migrate.c (`migrate_from`: the source
 * layout completed from the pool, and its rules).
 */
#ifndef SP_CONF_INT_H
#define SP_CONF_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/* Longest file we read; a nutcracker config is a few kB, this only stops runaway input. */
#define CF_MAX_FILE_SIZE (64u * 1024 * 1024)

/* How a server entry is written, for messages. */
#define CF_SERVER_FORM "'host:port:weight [name]' or '/path/to/socket:weight [name]'"

/* How a Sentinel entry is written, for messages. */
#define CF_SENTINEL_FORM "'host:port' (no weight, no name)"

/* Widest quoted user string in a message; longer ones are cut with "...". */
#define CF_SHOW_MAX 64

/* The pool keys: nutcracker 0.5.0's, in the order of its own table, then shardproxy's own. */
enum cf_key {
    CF_KEY_LISTEN,
    CF_KEY_HASH,
    CF_KEY_HASH_TAG,
    CF_KEY_DISTRIBUTION,
    CF_KEY_TIMEOUT,
    CF_KEY_BACKLOG,
    CF_KEY_CLIENT_CONNECTIONS,
    CF_KEY_REDIS,
    CF_KEY_REDIS_AUTH,
    CF_KEY_REDIS_DB,
    CF_KEY_PRECONNECT,
    CF_KEY_AUTO_EJECT_HOSTS,
    CF_KEY_SERVER_CONNECTIONS,
    CF_KEY_SERVER_RETRY_TIMEOUT,
    CF_KEY_SERVER_FAILURE_LIMIT,
    CF_KEY_SERVERS,
    CF_KEY_TCPKEEPALIVE,
    CF_KEY_SENTINELS,
    CF_KEY_SENTINEL_AUTH,
    CF_KEY_SENTINEL_USER,
    CF_KEY_SENTINEL_MASTERS,
    CF_KEY_FAILOVER_HOLD,
    CF_KEY_FAILOVER_REPLICA_READS,
    CF_KEY_MIGRATE_FROM,
    CF_KEY_COUNT
};

/*
 * What a key's value is in YAML: most are scalars; two take a list, one a mapping; a layout
 * (migrate_from) is a mapping of layout keys or, short, a list of servers.
 */
enum cf_shape {
    CF_SHAPE_SCALAR,
    CF_SHAPE_LIST,
    CF_SHAPE_MAP,
    CF_SHAPE_LAYOUT,
};

/* Where each key of the pool being parsed was written (line 0: not given). */
struct cf_pool_marks {
    struct sp_conf_mark key[CF_KEY_COUNT];
    struct sp_conf_mark value[CF_KEY_COUNT];
    struct sp_conf_mark from[CF_KEY_COUNT];   /* the keys written inside migrate_from */
};

/* One load: inputs, the config being built, and the first error. */
struct cf_ctx {
    const char *name;                  /* file name or display name, for messages */
    const char *text;                  /* the whole input (for locating tabs in syntax errors) */
    size_t len;
    const char *const *known_hashes;   /* NULL: not checked */
    const char *const *known_dists;
    struct sp_conf *conf;
    char *err;
    size_t errlen;
    bool failed;                       /* an error has been written; later ones are dropped */
    const char *key_prefix;            /* non-NULL: messages name key 'PREFIX.KEY' (migrate_from) */
};

/* A scalar as the walker hands it to value parsers: text plus where it was written. */
struct cf_scalar {
    const char *s;                     /* NUL-terminated; never contains a NUL itself */
    size_t len;
    struct sp_conf_mark mark;
    bool exact;                        /* the text maps 1:1 onto source columns (offsets usable) */
    bool quoted;                       /* mark is the opening quote: content starts one later */
};

/* Buffer for one user string shown in a message (escaped, capped). */
struct cf_show {
    char buf[CF_SHOW_MAX * 4 + 8];
};

/*
 * Writes "NAME:LINE:COL: pool 'P': key 'K': <fmt>" into the context's buffer (pool/key parts are
 * left out when NULL) and returns -1.  Only the first error of a load is kept.
 */
int cf_error(struct cf_ctx *cx, struct sp_conf_mark at, const char *pool, const char *key,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Returns `s[0..n)` single-quoted for a message: non-printable bytes as \xNN, long text cut. */
const char *cf_show(struct cf_show *b, const char *s, size_t n);

/* Name of key `k` as written in the YAML file. */
const char *cf_key_name(enum cf_key k);

/* What key `k` takes, for "(expected ...)" in messages. */
const char *cf_key_expect(enum cf_key k);

/* Writes the known keys, comma-separated, into buf[size] (for "unknown key" messages). */
void cf_key_list(char *buf, size_t size);

/* The key called s[0..n), or CF_KEY_COUNT when there is none. */
enum cf_key cf_key_lookup(const char *s, size_t n);

/* The YAML shape of key `k`'s value. */
enum cf_shape cf_key_shape(enum cf_key k);

/* What one item of list key `k` is called in messages: "server entry", "Sentinel entry". */
const char *cf_key_item(enum cf_key k);

/* How one item of list key `k` is written, for "(expected ...)": CF_SERVER_FORM, ... */
const char *cf_key_form(enum cf_key k);

/* Returns a mark `offset` bytes into scalar `v` when its columns are exact, else v's own mark. */
struct sp_conf_mark cf_mark_at(const struct cf_scalar *v, size_t offset);

/* conf_parse.c: walks the YAML events of text[0..len) and fills cx->conf.  0 or -1 (error set). */
int cf_parse(struct cf_ctx *cx);

/*
 * conf_value.c: each parses one scalar for `pool` into its destination, returning 0, or -1 with
 * the error set and the destination possibly partly filled (the caller frees the whole pool).
 */
int cf_value_scalar(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                    const struct cf_scalar *v);
int cf_value_server(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_scalar *v,
                    struct sp_conf_server *out);

/*
 * conf_value.c: one item of list key `key`, appended to its list in `pool` (servers, sentinels).
 * 0, or -1 with the error set (a half-filled item is kept in the list, so the pool frees it).
 */
int cf_value_item(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                  const struct cf_scalar *v);

/*
 * conf_value.c: a TCP address "host:port", host being v's first hostlen bytes and the port
 * port[0..portlen); fills addr (host and text copied).  `expect` completes messages.  0 or -1.
 */
int cf_tcp_addr(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key, const char *expect,
                const struct cf_scalar *v, size_t hostlen, const char *port, size_t portlen,
                struct sp_conf_addr *addr);

/* conf_value.c: the last occurrence of c in s[0..n), or NULL. */
const char *cf_last_of(const char *s, size_t n, char c);

/* conf_value.c: a NUL-terminated copy of s[0..n), or NULL when out of memory. */
char *cf_dup_n(const char *s, size_t n);

/*
 * conf_value.c: appends a zeroed item of `size` bytes to *items, an array of *count items grown
 * by doubling from empty (its capacity follows from the count), and counts it.  Returns the new
 * item, or NULL when out of memory (*items and *count unchanged).
 */
void *cf_push(void *items, size_t *count, size_t size);

/* conf_sentinel.c: one `sentinels:` entry, "host:port", into *out.  0 or -1. */
int cf_value_sentinel(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_scalar *v,
                      struct sp_conf_sentinel *out);

/* conf_sentinel.c: one `sentinel_masters:` line, "server: master", appended to the pool.  0/-1. */
int cf_value_master_alias(struct cf_ctx *cx, struct sp_conf_pool *pool,
                          const struct cf_scalar *server, const struct cf_scalar *master);

/*
 * conf_sentinel.c: the Sentinel checks of a complete pool (keys that need `sentinels:`, named
 * TCP servers, map entries naming servers, one server per master) and each server's `master`
 * (re)computed; no-op for a pool without Sentinel keys.  Runs after the servers are sorted.
 * 0 or -1.
 */
int cf_sentinel_finish(struct cf_ctx *cx, struct sp_conf_pool *pool,
                       const struct cf_pool_marks *m);

/* conf_sentinel.c: the index of server `server`'s sentinel_masters entry, or -1. */
int cf_alias_index(const struct sp_conf_pool *pool, const char *server);

/* conf_sentinel.c: frees what a pool's Sentinel keys own (and zeroes them). */
void cf_sentinel_release(struct sp_conf_pool *pool);

/*
 * conf_value.c: checks that `name` (for `key`, a `what` such as "hash") is in the NULL-terminated
 * list `known` (NULL: anything goes).  0, or -1 with an error at `at` listing the known names.
 */
int cf_check_known(struct cf_ctx *cx, const struct sp_conf_pool *pool, enum cf_key key,
                   const char *name, struct sp_conf_mark at, const char *const *known,
                   const char *what);

/* conf_keys.c: true when key `k` may be written inside a layout (migrate_from). */
bool cf_key_in_layout(enum cf_key k);

/* conf_keys.c: the keys a layout takes, comma-separated, for messages. */
#define CF_LAYOUT_KEYS "servers, hash, distribution, hash_tag"

/*
 * conf_migrate.c: for a pool with migrate_from.  When `m` says migrate_from was written in this
 * load, completes pool->migrate_from (parsed with only its own keys) into the source layout
 * (sp_conf_pool.migrate_from) and checks it as a pool; then, always, the migration rules (redis,
 * no auto_eject_hosts, a name shared by both lists has one address).  Runs after the pool's
 * servers are sorted, before its Sentinel checks.  0 or -1; a no-op without migrate_from.
 */
int cf_migrate_finish(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_pool_marks *m);

/* conf_pool.c: a fresh pool with nutcracker's defaults and the name copied; -1 when OOM. */
int cf_pool_init(struct sp_conf_pool *pool, const char *name, struct sp_conf_mark mark);

/* conf_pool.c: checks a completely parsed pool, fills defaults, sorts servers.  0 or -1. */
int cf_pool_finish(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_pool_marks *m);

/* conf_pool.c: checks that pool `i` does not repeat an earlier pool's listen address.  0 or -1. */
int cf_pool_check_listen(struct cf_ctx *cx, size_t i, const struct sp_conf_mark *listen_marks);

/* conf_pool.c: frees what a pool owns (not the pool struct itself). */
void cf_pool_release(struct sp_conf_pool *pool);

/* conf_pool.c: frees what a server entry owns. */
void cf_server_release(struct sp_conf_server *srv);

#endif /* SP_CONF_INT_H */
