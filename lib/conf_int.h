/*
 * Internals of the configuration loader, shared by lib/conf*.c only.
 *
 * The loader is split by concern: conf.c (public API, file reading), conf_parse.c (the YAML
 * event walk: structure and per-key dispatch), conf_value.c (one scalar -> one typed value),
 * conf_pool.c (per-pool checks once a pool is complete: defaults, required keys, server order),
 * conf_msg.c (the message format) and conf_keys.c (the list of keys).
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

/* Widest quoted user string in a message; longer ones are cut with "...". */
#define CF_SHOW_MAX 64

/* The pool keys nutcracker 0.5.0 accepts, in the order of its own table. */
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
    CF_KEY_COUNT
};

/* Where each key of the pool being parsed was written (line 0: not given). */
struct cf_pool_marks {
    struct sp_conf_mark key[CF_KEY_COUNT];
    struct sp_conf_mark value[CF_KEY_COUNT];
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
 * conf_value.c: checks that `name` (for `key`, a `what` such as "hash") is in the NULL-terminated
 * list `known` (NULL: anything goes).  0, or -1 with an error at `at` listing the known names.
 */
int cf_check_known(struct cf_ctx *cx, const struct sp_conf_pool *pool, enum cf_key key,
                   const char *name, struct sp_conf_mark at, const char *const *known,
                   const char *what);

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
