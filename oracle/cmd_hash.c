/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle hash: the raw hash value of each key (no hash_tag, no placement). */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

static int hash_keys(const struct sp_plugin *hash, const char *path, int flags)
{
    char err[1024];
    struct sp_keys *keys = sp_keys_open(path, flags, err, sizeof err);
    if (!keys)
        return sp_oracle_fail("%s", err);
    struct sp_key key;
    int rc;
    while ((rc = sp_keys_next(keys, &key, err, sizeof err)) > 0) {
        sp_oracle_put_u64(stdout, hash->hash(key.bytes, key.len));
        putc_unlocked('\n', stdout);
    }
    sp_keys_close(keys);
    if (rc < 0)
        return sp_oracle_fail("%s", err);
    if (fflush(stdout) != 0)
        return sp_oracle_fail("cannot write output");
    return SP_EXIT_OK;
}

int sp_oracle_cmd_hash(int argc, char **argv)
{
    static const struct option options[] = {
        {"hash", required_argument, NULL, 'H'},
        {"hex", no_argument, NULL, 'x'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *hash_name = NULL, *plugin_dir = NULL;
    int flags = 0, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "H:xh", options, NULL)) != -1) {
        switch (opt) {
        case 'H': hash_name = optarg; break;
        case 'x': flags |= SP_KEYS_HEX; break;
        case 'P': plugin_dir = optarg; break;
        case 'h':
            printf("Usage: shardoracle hash --hash NAME [--hex] [--plugin-dir DIR] [FILE]\n");
            return SP_EXIT_OK;
        default:
            return sp_oracle_fail("hash: bad option '%s' (usage: shardoracle hash --hash NAME "
                                  "[--hex] [FILE])", argv[optind - 1]);
        }
    }
    if (!hash_name)
        return sp_oracle_fail("hash: --hash NAME is required");
    if (argc - optind > 1)
        return sp_oracle_fail("hash: one key file at most (got %d)", argc - optind);
    struct sp_registry *reg = sp_oracle_registry(plugin_dir);
    if (!reg)
        return SP_EXIT_BAD_INPUT;
    int rc;
    const struct sp_plugin *hash = sp_registry_find(reg, SP_PLUGIN_HASH, hash_name);
    if (!hash) {
        char list[1024];
        sp_registry_join_names(reg, SP_PLUGIN_HASH, list, sizeof list);
        rc = sp_oracle_fail("hash: unknown hash '%s' (known: %s)", hash_name, list);
    } else {
        rc = hash_keys(hash, optind < argc ? argv[optind] : NULL, flags);
    }
    sp_registry_free(reg);
    return rc;
}
