/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle plugins: what the search path provides, and from which file. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "oracle.h"

int sp_oracle_cmd_plugins(int argc, char **argv)
{
    static const struct option options[] = {
        {"plugin-dir", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    const char *plugin_dir = NULL;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt != 'P')
            return sp_oracle_fail("plugins: bad option '%s'", argv[optind - 1]);
        plugin_dir = optarg;
    }
    struct sp_registry *reg = sp_oracle_registry(plugin_dir);
    if (!reg)
        return SP_EXIT_BAD_INPUT;
    for (size_t i = 0; i < sp_registry_count(reg); i++) {
        const struct sp_plugin *p = sp_registry_get(reg, i);
        printf("%-12s %-14s %-2s %s\t%s\n", p->kind == SP_PLUGIN_HASH ? "hash" : "distribution",
               p->name, p->kind == SP_PLUGIN_HASH ? (p->hash_bits == 64 ? "64" : "32") : "-",
               p->summary, sp_registry_path(reg, i));
    }
    sp_registry_free(reg);
    return SP_EXIT_OK;
}
