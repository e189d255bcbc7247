/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scalar values: one YAML scalar -> one typed pool field, with nutcracker 0.5.0's rules made
 * strict.  nutcracker parses numbers with a digits-only atoi that silently wraps (weight
 * 4294967297 becomes 1) and permissions with strtol that silently stops ("0999" becomes 0); here
 * the same accepted spellings are kept and everything else is an error saying why.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf_int.h"

#define CF_INT_MAX ((long)INT_MAX)

/*
 * Parses s[0..n) as decimal digits only (leading zeros allowed, as nutcracker) into *out.
 * Returns 0, -1 when empty or not all digits, -2 when above max (*out unchanged on failure).
 */
static int parse_digits(const char *s, size_t n, long max, long *out)
{
    long v = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        long d = s[i] - '0';
        if (v > (max - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* An integer key within [min, INT_MAX]. */
static int value_int(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                     const struct cf_scalar *v, long min, int *out)
{
    struct cf_show s;
    long n = 0;
    int rc = parse_digits(v->s, v->len, CF_INT_MAX, &n);

    if (rc == -2)
        return cf_error(cx, v->mark, pool->name, cf_key_name(key), "%s is too large (expected %s)",
                        cf_show(&s, v->s, v->len), cf_key_expect(key));
    if (rc != 0)
        return cf_error(cx, v->mark, pool->name, cf_key_name(key),
                        "%s is not a %s (expected %s)", cf_show(&s, v->s, v->len),
                        v->s[0] == '-' ? "non-negative integer" : "plain decimal integer",
                        cf_key_expect(key));
    if (n < min)
        return cf_error(cx, v->mark, pool->name, cf_key_name(key), "%s is too small (expected %s)",
                        cf_show(&s, v->s, v->len), cf_key_expect(key));
    *out = (int)n;
    return 0;
}

/* nutcracker compares with "true" and "false" exactly: no yes/no/on/off, no capitals. */
static int value_bool(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                      const struct cf_scalar *v, bool *out)
{
    struct cf_show s;

    if (strcmp(v->s, "true") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(v->s, "false") == 0) {
        *out = false;
        return 0;
    }
    return cf_error(cx, v->mark, pool->name, cf_key_name(key),
                    "%s is not a boolean (expected true or false, in lowercase, as nutcracker)",
                    cf_show(&s, v->s, v->len));
}

int cf_check_known(struct cf_ctx *cx, const struct sp_conf_pool *pool, enum cf_key key,
                   const char *name, struct sp_conf_mark at, const char *const *known,
                   const char *what)
{
    char list[1024];
    size_t o = 0;
    struct cf_show s;

    if (!known)
        return 0;
    for (const char *const *k = known; *k; k++) {
        if (strcmp(*k, name) == 0)
            return 0;
    }
    list[0] = '\0';
    for (const char *const *k = known; *k && o < sizeof(list); k++) {
        int n = snprintf(list + o, sizeof(list) - o, "%s%s", k == known ? "" : ", ", *k);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    return cf_error(cx, at, pool->name, cf_key_name(key), "unknown %s %s (expected one of: %s)",
                    what, cf_show(&s, name, strlen(name)), known[0] ? list : "none loaded");
}

static int value_name(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                      const struct cf_scalar *v, char **out)
{
    bool hash = key == CF_KEY_HASH;

    if (cf_check_known(cx, pool, key, v->s, v->mark, hash ? cx->known_hashes : cx->known_dists,
                       hash ? "hash" : "distribution") != 0)
        return -1;
    *out = strdup(v->s);
    return *out ? 0 : cf_error(cx, v->mark, pool->name, cf_key_name(key), "out of memory");
}

/* nutcracker counts bytes, so a two-byte UTF-8 character passes too; so does "{{". */
static int value_hash_tag(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_scalar *v)
{
    struct cf_show s;

    if (v->len != 2)
        return cf_error(cx, v->mark, pool->name, cf_key_name(CF_KEY_HASH_TAG),
                        "%s is %zu byte(s) long (expected %s)", cf_show(&s, v->s, v->len), v->len,
                        cf_key_expect(CF_KEY_HASH_TAG));
    memcpy(pool->hash_tag, v->s, 2);
    pool->hash_tag[2] = '\0';
    return 0;
}

const char *cf_last_of(const char *s, size_t n, char c)
{
    while (n > 0) {
        if (s[--n] == c)
            return s + n;
    }
    return NULL;
}

char *cf_dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void *cf_push(void *items, size_t *count, size_t size)
{
    char **arr = items;

    /* The capacity is 8, 16, 32...: full exactly when the count is 0 or a power of two >= 8. */
    size_t n = *count;
    if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
        char *grown = realloc(*arr, (n ? n * 2 : 8) * size);
        if (!grown)
            return NULL;
        *arr = grown;
    }
    (*count)++;
    return memset(*arr + n * size, 0, size);
}

/*
 * nutcracker splits at the last ':' so IPv6 is written without brackets ("::1:6379"); it cannot
 * resolve "[::1]", so brackets are refused here rather than at connect time.
 */
int cf_tcp_addr(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key, const char *expect,
                const struct cf_scalar *v, size_t hostlen, const char *port, size_t portlen,
                struct sp_conf_addr *addr)
{
    struct cf_show s;
    long n = 0;

    if (hostlen == 0)
        return cf_error(cx, v->mark, pool->name, cf_key_name(key),
                        "%s has an empty host (expected %s)", cf_show(&s, v->s, v->len), expect);
    if (v->s[0] == '[')
        return cf_error(cx, v->mark, pool->name, cf_key_name(key),
                        "%s: brackets around an IPv6 address are not supported (nutcracker "
                        "splits at the last ':'; write e.g. ::1:6379 without brackets)",
                        cf_show(&s, v->s, v->len));
    if (parse_digits(port, portlen, 65535, &n) != 0 || n == 0)
        return cf_error(cx, cf_mark_at(v, (size_t)(port - v->s)), pool->name, cf_key_name(key),
                        "invalid port %s (expected an integer 1..65535)",
                        cf_show(&s, port, portlen));
    addr->port = (int)n;
    addr->host = cf_dup_n(v->s, hostlen);
    addr->text = cf_dup_n(v->s, (size_t)(port - v->s) + portlen);
    if (!addr->host || !addr->text)
        return cf_error(cx, v->mark, pool->name, cf_key_name(key), "out of memory");
    return 0;
}

/* listen: "host:port" or "/path [octal-perm]". */
/*
 * A unix socket path must fit a sockaddr_un (107 bytes and the NUL on Linux): longer ones load
 * in nutcracker and then fail at bind or connect; here -t says so.  0, or -1 with the error set.
 */
static int check_unix_path(struct cf_ctx *cx, struct sp_conf_pool *pool, const char *key,
                           const struct cf_scalar *v, size_t pathlen)
{
    struct sockaddr_un un;
    struct cf_show s;

    if (pathlen < sizeof(un.sun_path))
        return 0;
    return cf_error(cx, v->mark, pool->name, key,
                    "unix socket path %s is %zu bytes long; the system allows at most %zu",
                    cf_show(&s, v->s, pathlen), pathlen, sizeof(un.sun_path) - 1);
}

static int value_listen(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_scalar *v)
{
    const enum cf_key key = CF_KEY_LISTEN;
    struct sp_conf_addr *addr = &pool->listen;
    struct cf_show s;

    if (v->s[0] == '/') {
        const char *sp = cf_last_of(v->s, v->len, ' ');
        size_t pathlen = sp ? (size_t)(sp - v->s) : v->len;
        if (sp) {
            const char *perm = sp + 1;
            size_t permlen = v->len - pathlen - 1;
            long p = 0;
            for (size_t i = 0; i < permlen; i++) {
                if (perm[i] < '0' || perm[i] > '7')
                    permlen = 0;  /* not octal: reported below */
            }
            for (size_t i = 0; i < permlen; i++) {
                p = p * 8 + (perm[i] - '0');
                if (p > 0777)
                    break;
            }
            if (permlen == 0 || p > 0777)
                return cf_error(cx, cf_mark_at(v, pathlen + 1), pool->name, cf_key_name(key),
                                "invalid socket permissions %s (expected octal 0..0777 such as "
                                "0666 after the path; socket paths cannot contain spaces)",
                                cf_show(&s, perm, v->len - pathlen - 1));
            addr->perm = (unsigned)p;
        }
        if (check_unix_path(cx, pool, cf_key_name(key), v, pathlen) != 0)
            return -1;
        addr->is_unix = true;
        addr->host = cf_dup_n(v->s, pathlen);
        addr->text = cf_dup_n(v->s, pathlen);
        if (!addr->host || !addr->text)
            return cf_error(cx, v->mark, pool->name, cf_key_name(key), "out of memory");
        return 0;
    }
    const char *colon = cf_last_of(v->s, v->len, ':');
    if (!colon)
        return cf_error(cx, v->mark, pool->name, cf_key_name(key), "%s has no port (expected %s)",
                        cf_show(&s, v->s, v->len), cf_key_expect(key));
    return cf_tcp_addr(cx, pool, key, cf_key_expect(key), v, (size_t)(colon - v->s), colon + 1,
                    v->len - (size_t)(colon - v->s) - 1, addr);
}

/* A text key (a password, a user name): any non-empty text, kept as written. */
static int value_text(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                      const struct cf_scalar *v, char **out)
{
    *out = strdup(v->s);
    return *out ? 0 : cf_error(cx, v->mark, pool->name, cf_key_name(key), "out of memory");
}

int cf_value_scalar(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                    const struct cf_scalar *v)
{
    switch (key) {
    case CF_KEY_LISTEN:
        return value_listen(cx, pool, v);
    case CF_KEY_HASH:
        return value_name(cx, pool, key, v, &pool->hash);
    case CF_KEY_DISTRIBUTION:
        return value_name(cx, pool, key, v, &pool->distribution);
    case CF_KEY_HASH_TAG:
        return value_hash_tag(cx, pool, v);
    case CF_KEY_TIMEOUT:
        return value_int(cx, pool, key, v, 0, &pool->timeout);
    case CF_KEY_BACKLOG:
        return value_int(cx, pool, key, v, 0, &pool->backlog);
    case CF_KEY_CLIENT_CONNECTIONS:
        return value_int(cx, pool, key, v, 0, &pool->client_connections);
    case CF_KEY_REDIS_DB:
        return value_int(cx, pool, key, v, 0, &pool->redis_db);
    case CF_KEY_SERVER_CONNECTIONS:
        return value_int(cx, pool, key, v, 1, &pool->server_connections);
    case CF_KEY_SERVER_RETRY_TIMEOUT:
        return value_int(cx, pool, key, v, 0, &pool->server_retry_timeout);
    case CF_KEY_SERVER_FAILURE_LIMIT:
        return value_int(cx, pool, key, v, 0, &pool->server_failure_limit);
    case CF_KEY_REDIS:
        return value_bool(cx, pool, key, v, &pool->redis);
    case CF_KEY_PRECONNECT:
        return value_bool(cx, pool, key, v, &pool->preconnect);
    case CF_KEY_AUTO_EJECT_HOSTS:
        return value_bool(cx, pool, key, v, &pool->auto_eject_hosts);
    case CF_KEY_TCPKEEPALIVE:
        return value_bool(cx, pool, key, v, &pool->tcpkeepalive);
    case CF_KEY_REDIS_AUTH:
        return value_text(cx, pool, key, v, &pool->redis_auth);
    case CF_KEY_SENTINEL_AUTH:
        return value_text(cx, pool, key, v, &pool->sentinel_auth);
    case CF_KEY_SENTINEL_USER:
        return value_text(cx, pool, key, v, &pool->sentinel_user);
    case CF_KEY_FAILOVER_HOLD:
        return value_int(cx, pool, key, v, 0, &pool->failover_hold);
    case CF_KEY_FAILOVER_REPLICA_READS:
        return value_bool(cx, pool, key, v, &pool->failover_replica_reads);
    case CF_KEY_SERVERS:
    case CF_KEY_SENTINELS:
    case CF_KEY_SENTINEL_MASTERS:
    case CF_KEY_MIGRATE_FROM:
    case CF_KEY_COUNT:
        break;
    }
    return cf_error(cx, v->mark, pool->name, cf_key_name(key), "internal error: not a scalar key");
}

/* The server's name: explicit, else nutcracker's derived one (see sp_conf_server.name). */
static char *server_name(const struct sp_conf_server *srv, const char *name, size_t namelen)
{
    if (name)
        return cf_dup_n(name, namelen);
    if (srv->addr.is_unix) {
        /* nutcracker appends ':' and an empty port: an unnamed socket is named "/path:" */
        size_t n = strlen(srv->addr.host);
        char *d = malloc(n + 2);
        if (d) {
            memcpy(d, srv->addr.host, n);
            memcpy(d + n, ":", 2);
        }
        return d;
    }
    if (srv->addr.port == SP_CONF_KETAMA_PORT)
        return strdup(srv->addr.host);
    return strdup(srv->addr.text);  /* "host:port" as written, leading zeros and all */
}

int cf_value_server(struct cf_ctx *cx, struct sp_conf_pool *pool, const struct cf_scalar *v,
                    struct sp_conf_server *out)
{
    const char *key = cf_key_name(CF_KEY_SERVERS);
    const char *form = CF_SERVER_FORM;
    struct cf_show s, whole;
    const char *name = NULL;
    size_t namelen = 0, restlen = v->len;
    long weight = 0;

    out->mark = v->mark;
    if (v->len == 0)
        return cf_error(cx, v->mark, pool->name, key, "empty server entry (expected %s)", form);
    /* nutcracker splits from the end: " name", then ":weight", then ":port" */
    const char *sp = cf_last_of(v->s, v->len, ' ');
    if (sp) {
        name = sp + 1;
        namelen = v->len - (size_t)(name - v->s);
        restlen = (size_t)(sp - v->s);
        const char *sp2 = cf_last_of(v->s, restlen, ' ');
        if (sp2)
            return cf_error(cx, cf_mark_at(v, (size_t)(sp2 - v->s)), pool->name, key,
                            "%s has more than one space: neither the address nor the server "
                            "name may contain spaces (expected %s)",
                            cf_show(&s, v->s, v->len), form);
        if (namelen == 0)
            return cf_error(cx, cf_mark_at(v, v->len), pool->name, key,
                            "%s has an empty server name after the space (expected %s)",
                            cf_show(&s, v->s, v->len), form);
    }
    const char *wcolon = cf_last_of(v->s, restlen, ':');
    if (!wcolon)
        return cf_error(cx, v->mark, pool->name, key, "%s has no weight (expected %s)",
                        cf_show(&s, v->s, v->len), form);
    const char *wtext = wcolon + 1;
    size_t wlen = restlen - (size_t)(wtext - v->s);
    int rc = parse_digits(wtext, wlen, CF_INT_MAX, &weight);
    if (rc != 0 || weight == 0)
        return cf_error(cx, cf_mark_at(v, (size_t)(wtext - v->s)), pool->name, key,
                        "invalid weight %s in %s (expected an integer 1..2147483647)",
                        cf_show(&s, wtext, wlen), cf_show(&whole, v->s, v->len));
    out->weight = (uint32_t)weight;
    restlen = (size_t)(wcolon - v->s);

    if (v->s[0] == '/') {
        if (memchr(v->s, ':', restlen))
            return cf_error(cx, v->mark, pool->name, key,
                            "%s: a socket path cannot contain ':', nutcracker refuses it "
                            "(expected %s)",
                            cf_show(&s, v->s, v->len), form);
        if (check_unix_path(cx, pool, key, v, restlen) != 0)
            return -1;
        out->addr.is_unix = true;
        out->addr.host = cf_dup_n(v->s, restlen);
        out->addr.text = cf_dup_n(v->s, restlen);
        if (!out->addr.host || !out->addr.text)
            return cf_error(cx, v->mark, pool->name, key, "out of memory");
    } else {
        const char *pcolon = cf_last_of(v->s, restlen, ':');
        if (!pcolon)
            return cf_error(cx, v->mark, pool->name, key,
                            "%s has no port or no weight (expected %s)",
                            cf_show(&s, v->s, v->len), form);
        if (cf_tcp_addr(cx, pool, CF_KEY_SERVERS, form, v, (size_t)(pcolon - v->s), pcolon + 1,
                     restlen - (size_t)(pcolon - v->s) - 1, &out->addr) != 0)
            return -1;
    }
    out->named = name != NULL;
    out->name = server_name(out, name, namelen);
    if (!out->name)
        return cf_error(cx, v->mark, pool->name, key, "out of memory");
    return 0;
}

int cf_value_item(struct cf_ctx *cx, struct sp_conf_pool *pool, enum cf_key key,
                  const struct cf_scalar *v)
{
    /* Counted before parsing, so a failure still frees what the item's parser filled. */
    if (key == CF_KEY_SERVERS) {
        struct sp_conf_server *srv = cf_push(&pool->servers, &pool->nservers, sizeof(*srv));
        return srv ? cf_value_server(cx, pool, v, srv)
                   : cf_error(cx, v->mark, pool->name, cf_key_name(key), "out of memory");
    }
    if (key == CF_KEY_SENTINELS) {
        struct sp_conf_sentinel *s = cf_push(&pool->sentinels, &pool->nsentinels, sizeof(*s));
        return s ? cf_value_sentinel(cx, pool, v, s)
                 : cf_error(cx, v->mark, pool->name, cf_key_name(key), "out of memory");
    }
    return cf_error(cx, v->mark, pool->name, cf_key_name(key), "internal error: not a list key");
}
