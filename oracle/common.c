/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

int sp_oracle_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("shardoracle: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return SP_EXIT_BAD_INPUT;
}

struct sp_registry *sp_oracle_registry(const char *plugin_dir)
{
    char err[1024];
    struct sp_registry *reg = sp_registry_new();
    if (!reg) {
        sp_oracle_fail("out of memory");
        return NULL;
    }
    if (sp_registry_load_default(reg, plugin_dir, err, sizeof err) < 0) {
        sp_oracle_fail("%s", err);
        sp_registry_free(reg);
        return NULL;
    }
    for (size_t i = 0; i < sp_registry_skipped_count(reg); i++)
        fprintf(stderr, "shardoracle: warning: %s\n", sp_registry_skipped(reg, i));
    return reg;
}

struct sp_conf *sp_oracle_conf(const struct sp_registry *reg, const char *path)
{
    const char *hashes[128], *dists[128];
    char err[1024];
    sp_registry_names(reg, SP_PLUGIN_HASH, hashes, 128);
    sp_registry_names(reg, SP_PLUGIN_DIST, dists, 128);
    struct sp_conf *conf = NULL;
    if (sp_conf_load(path, hashes, dists, &conf, err, sizeof err) < 0) {
        sp_oracle_fail("%s", err);
        return NULL;
    }
    return conf;
}

const struct sp_conf_pool *sp_oracle_pool(const struct sp_conf *conf, const char *name)
{
    if (name) {
        const struct sp_conf_pool *pool = sp_conf_find_pool(conf, name);
        if (!pool)
            sp_oracle_fail("%s: no pool '%s'", conf->path, name);
        return pool;
    }
    if (conf->npools == 1)
        return &conf->pools[0];
    char names[512] = "";
    for (size_t i = 0; i < conf->npools; i++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", conf->pools[i].name);
    }
    sp_oracle_fail("%s has %zu pools (%s): choose one with --pool", conf->path, conf->npools,
                   names);
    return NULL;
}

void sp_oracle_put_u64(FILE *out, unsigned long long v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_unlocked(digits[--n], out);
}
