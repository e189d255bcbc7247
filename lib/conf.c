/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loader: the public entry points and file reading.
 *
 * The work itself happens in conf_parse.c (YAML structure), conf_value.c (scalars) and
 * conf_pool.c (per-pool checks); they report through conf_msg.c and know the keys from
 * conf_keys.c, never through this file.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

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

bool sp_conf_pool_is_sentinel(const struct sp_conf_pool *pool)
{
    return pool && pool->nsentinels > 0;
}
