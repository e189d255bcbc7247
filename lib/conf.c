/*
 * Configuration loader: public entry points, file reading, and the one message format.
 *
 * Every failure becomes one line "FILE:LINE:COL: pool 'P': key 'K': problem (expected ...)", so an
 * operator can jump straight to the spot.  The work itself happens in conf_parse.c (YAML
 * structure), conf_value.c (scalars) and conf_pool.c (per-pool checks).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

/* Indexed by enum cf_key: the one list of keys, with what each takes (for messages). */
static const struct {
    const char *name;
    const char *expect;
} cf_keys[CF_KEY_COUNT] = {
    [CF_KEY_LISTEN] = { "listen", "'host:port', or '/path/to/socket' optionally followed by a "
                                  "space and octal permissions such as 0666" },
    [CF_KEY_HASH] = { "hash", "a hash function name, default " SP_CONF_DEFAULT_HASH },
    [CF_KEY_HASH_TAG] = { "hash_tag", "exactly two characters, e.g. \"{}\"" },
    [CF_KEY_DISTRIBUTION] = { "distribution",
                              "a distribution name, default " SP_CONF_DEFAULT_DIST },
    [CF_KEY_TIMEOUT] = { "timeout", "milliseconds, an integer 0..2147483647" },
    [CF_KEY_BACKLOG] = { "backlog", "an integer 0..2147483647" },
    [CF_KEY_CLIENT_CONNECTIONS] = { "client_connections",
                                    "an integer 0..2147483647 (0: no limit)" },
    [CF_KEY_REDIS] = { "redis", "true or false" },
    [CF_KEY_REDIS_AUTH] = { "redis_auth", "a non-empty password" },
    [CF_KEY_REDIS_DB] = { "redis_db", "an integer 0..2147483647" },
    [CF_KEY_PRECONNECT] = { "preconnect", "true or false" },
    [CF_KEY_AUTO_EJECT_HOSTS] = { "auto_eject_hosts", "true or false" },
    [CF_KEY_SERVER_CONNECTIONS] = { "server_connections", "an integer 1..2147483647" },
    [CF_KEY_SERVER_RETRY_TIMEOUT] = { "server_retry_timeout",
                                      "milliseconds, an integer 0..2147483647" },
    [CF_KEY_SERVER_FAILURE_LIMIT] = { "server_failure_limit", "an integer 0..2147483647" },
    [CF_KEY_SERVERS] = { "servers", "a list of " CF_SERVER_FORM " lines, each after '- '" },
    [CF_KEY_TCPKEEPALIVE] = { "tcpkeepalive", "true or false" },
};

const char *cf_key_name(enum cf_key k)
{
    return (unsigned)k < CF_KEY_COUNT ? cf_keys[k].name : "?";
}

const char *cf_key_expect(enum cf_key k)
{
    return (unsigned)k < CF_KEY_COUNT ? cf_keys[k].expect : "?";
}

void cf_key_list(char *buf, size_t size)
{
    size_t o = 0;

    buf[0] = '\0';
    for (unsigned k = 0; k < CF_KEY_COUNT && o < size; k++) {
        int n = snprintf(buf + o, size - o, "%s%s", k ? ", " : "", cf_keys[k].name);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

enum cf_key cf_key_lookup(const char *s, size_t n)
{
    for (unsigned k = 0; k < CF_KEY_COUNT; k++) {
        if (strlen(cf_keys[k].name) == n && memcmp(cf_keys[k].name, s, n) == 0)
            return (enum cf_key)k;
    }
    return CF_KEY_COUNT;
}

const char *cf_show(struct cf_show *b, const char *s, size_t n)
{
    static const char hexdig[] = "0123456789abcdef";
    size_t o = 0;

    b->buf[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (i == CF_SHOW_MAX) {
            memcpy(b->buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            b->buf[o++] = (char)c;
        } else {
            b->buf[o++] = '\\';
            b->buf[o++] = 'x';
            b->buf[o++] = hexdig[c >> 4];
            b->buf[o++] = hexdig[c & 15];
        }
    }
    b->buf[o++] = '\'';
    b->buf[o] = '\0';
    return b->buf;
}

/* Appends to the error buffer at offset *o; a message that does not fit is cut, still ended. */
static void err_vappend(struct cf_ctx *cx, size_t *o, const char *fmt, va_list ap)
{
    if (*o + 1 >= cx->errlen)
        return;
    int n = vsnprintf(cx->err + *o, cx->errlen - *o, fmt, ap);
    if (n > 0)
        *o += (size_t)n < cx->errlen - *o ? (size_t)n : cx->errlen - *o - 1;
}

static void err_append(struct cf_ctx *cx, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err_append(struct cf_ctx *cx, size_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vappend(cx, o, fmt, ap);
    va_end(ap);
}

int cf_error(struct cf_ctx *cx, struct sp_conf_mark at, const char *pool, const char *key,
             const char *fmt, ...)
{
    struct cf_show sp, sk;
    size_t o = 0;
    va_list ap;

    if (cx->failed || !cx->err || cx->errlen == 0) {
        cx->failed = true;
        return -1;
    }
    cx->failed = true;
    cx->err[0] = '\0';
    err_append(cx, &o, "%s:%u:%u: ", cx->name, at.line, at.column);
    if (pool)
        err_append(cx, &o, "pool %s: ", cf_show(&sp, pool, strlen(pool)));
    if (key)
        err_append(cx, &o, "key %s: ", cf_show(&sk, key, strlen(key)));
    va_start(ap, fmt);
    err_vappend(cx, &o, fmt, ap);
    va_end(ap);
    return -1;
}

struct sp_conf_mark cf_mark_at(const struct cf_scalar *v, size_t offset)
{
    struct sp_conf_mark m = v->mark;

    if (!v->exact || offset > v->len)
        return m;
    if (v->quoted)
        m.column++;
    /* libyaml counts columns in characters: count UTF-8 lead bytes, not bytes. */
    for (size_t i = 0; i < offset; i++) {
        if (((unsigned char)v->s[i] & 0xc0) != 0x80)
            m.column++;
    }
    return m;
}

/* Builds and validates a config from text[0..len); see sp_conf_load_string. */
static int cf_load_text(const char *text, size_t len, const char *name,
                        const char *const *known_hashes, const char *const *known_dists,
                        struct sp_conf **out, char *err, size_t errlen)
{
    struct cf_ctx cx = {
        .name = name,
        .text = text,
        .len = len,
        .known_hashes = known_hashes,
        .known_dists = known_dists,
        .err = err,
        .errlen = errlen,
    };
    struct sp_conf_mark top = { 1, 1 };

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    cx.conf = calloc(1, sizeof(*cx.conf));
    if (!cx.conf)
        return cf_error(&cx, top, NULL, NULL, "out of memory");
    cx.conf->path = strdup(name);
    if (!cx.conf->path) {
        sp_conf_free(cx.conf);
        return cf_error(&cx, top, NULL, NULL, "out of memory");
    }
    if (cf_parse(&cx) != 0) {
        sp_conf_free(cx.conf);
        return -1;
    }
    *out = cx.conf;
    return 0;
}

int sp_conf_load_string(const char *text, size_t len, const char *display_name,
                        const char *const *known_hashes, const char *const *known_dists,
                        struct sp_conf **out, char *err, size_t errlen)
{
    return cf_load_text(text, len, display_name ? display_name : "<string>", known_hashes,
                        known_dists, out, err, errlen);
}

/* Reads the whole file into a NUL-terminated buffer.  NULL with err set ("PATH: reason"). */
static char *cf_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f) {
        snprintf(err, errlen, "%s: cannot open configuration file: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - n < 4096 + 1) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > CF_MAX_FILE_SIZE + 8192)
                ncap = CF_MAX_FILE_SIZE + 8192;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory reading configuration file", path);
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > CF_MAX_FILE_SIZE) {
            snprintf(err, errlen, "%s: configuration file is larger than %u bytes", path,
                     (unsigned)CF_MAX_FILE_SIZE);
            goto fail;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot read configuration file: %s", path,
                 errno ? strerror(errno) : "read error");
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

int sp_conf_load(const char *path, const char *const *known_hashes, const char *const *known_dists,
                 struct sp_conf **out, char *err, size_t errlen)
{
    char dummy[1];
    size_t len = 0;
    char *text;
    int rc;

    *out = NULL;
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    text = cf_read_file(path, &len, err, errlen);
    if (!text)
        return -1;
    rc = cf_load_text(text, len, path, known_hashes, known_dists, out, err, errlen);
    free(text);
    return rc;
}

void sp_conf_free(struct sp_conf *conf)
{
    if (!conf)
        return;
    for (size_t i = 0; i < conf->npools; i++)
        cf_pool_release(&conf->pools[i]);
    free(conf->pools);
    free(conf->path);
    free(conf);
}

const struct sp_conf_pool *sp_conf_find_pool(const struct sp_conf *conf, const char *name)
{
    if (!conf || !name)
        return NULL;
    for (size_t i = 0; i < conf->npools; i++) {
        if (strcmp(conf->pools[i].name, name) == 0)
            return &conf->pools[i];
    }
    return NULL;
}

int sp_conf_find_server(const struct sp_conf_pool *pool, const char *name)
{
    if (!pool || !name)
        return -1;
    for (size_t i = 0; i < pool->nservers; i++) {
        if (strcmp(pool->servers[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}
