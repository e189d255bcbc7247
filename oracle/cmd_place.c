/* shardoracle place: the server that owns each key, as the proxy would route it. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "placement.h"

/* "\thost:port[\tname]\n" for each server, so the hot loop writes two spans per key. */
static char **server_suffixes(const struct sp_conf_pool *pool)
{
    char **s = calloc(pool->nservers, sizeof *s);
    for (size_t i = 0; s && i < pool->nservers; i++) {
        const struct sp_conf_server *srv = &pool->servers[i];
        size_t n = strlen(srv->addr.text) + strlen(srv->name) + 4;
        if (!(s[i] = malloc(n)))
            return s;
        if (srv->named)
            snprintf(s[i], n, "\t%s\t%s\n", srv->addr.text, srv->name);
        else
            snprintf(s[i], n, "\t%s\n", srv->addr.text);
    }
    return s;
}

static void free_suffixes(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static int place_keys(struct sp_placer *placer, const struct sp_conf_pool *pool, const char *path,
                      int flags)
{
    char err[1024];
    char **suffix = server_suffixes(pool);
    size_t *suffix_len = calloc(pool->nservers, sizeof *suffix_len);
    for (size_t i = 0; suffix && suffix_len && i < pool->nservers; i++)
        suffix_len[i] = suffix[i] ? strlen(suffix[i]) : 0;
    struct sp_keys *keys = sp_keys_open(path, flags, err, sizeof err);
    int rc = SP_EXIT_OK;
    if (!keys) {
        rc = sp_oracle_fail("%s", err);
        goto out;
    }
    struct sp_key key;
    int more;
    while ((more = sp_keys_next(keys, &key, err, sizeof err)) > 0) {
        int idx = sp_placer_locate(placer, key.bytes, key.len);
        fwrite_unlocked(key.text, 1, key.text_len, stdout);
        if (idx < 0)
            fputs_unlocked("\t-\n", stdout);
        else
            fwrite_unlocked(suffix[idx], 1, suffix_len[idx], stdout);
    }
    if (more < 0)
        rc = sp_oracle_fail("%s", err);
    else if (fflush(stdout) != 0)
        rc = sp_oracle_fail("cannot write output");
out:
    sp_keys_close(keys);
    free(suffix_len);
    free_suffixes(suffix, pool->nservers);
    return rc;
}

int sp_oracle_cmd_place(int argc, char **argv)
{
    static const struct option options[] = {
        {"conf", required_argument, NULL, 'c'},
        {"conf-file", required_argument, NULL, 'c'},
        {"pool", required_argument, NULL, 'p'},
        {"hex", no_argument, NULL, 'x'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *conf_path = NULL, *pool_name = NULL, *plugin_dir = NULL;
    int flags = 0, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:p:xh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 'p': pool_name = optarg; break;
        case 'x': flags |= SP_KEYS_HEX; break;
        case 'P': plugin_dir = optarg; break;
        case 'h':
            printf("Usage: shardoracle place -c CONF [--pool NAME] [--hex] [--plugin-dir DIR] "
                   "[FILE]\n");
            return SP_EXIT_OK;
        default:
            return sp_oracle_fail("place: bad option '%s' (usage: shardoracle place -c CONF "
                                  "[--pool NAME] [--hex] [FILE])", argv[optind - 1]);
        }
    }
    if (!conf_path)
        return sp_oracle_fail("place: -c CONF is required");
    if (argc - optind > 1)
        return sp_oracle_fail("place: one key file at most (got %d)", argc - optind);
    struct sp_registry *reg = sp_oracle_registry(plugin_dir);
    if (!reg)
        return SP_EXIT_BAD_INPUT;
    struct sp_conf *conf = sp_oracle_conf(reg, conf_path);
    const struct sp_conf_pool *pool = conf ? sp_oracle_pool(conf, pool_name) : NULL;
    int rc = SP_EXIT_BAD_INPUT;
    if (pool) {
        char err[1024];
        struct sp_placer *placer = sp_placer_new(reg, pool, NULL, err, sizeof err);
        if (!placer)
            rc = sp_oracle_fail("%s: pool '%s': %s", conf_path, pool->name, err);
        else
            rc = place_keys(placer, pool, optind < argc ? argv[optind] : NULL, flags);
        sp_placer_free(placer);
    }
    sp_conf_free(conf);
    sp_registry_free(reg);
    return rc;
}
