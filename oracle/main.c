/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle: where every key lives for a config, computed offline with the proxy's plugins. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "oracle.h"

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
};

static const struct subcommand subcommands[] = {
    {"hash", sp_oracle_cmd_hash, "hash --hash NAME [--hex] [FILE]   one hash value per key"},
    {"place", sp_oracle_cmd_place,
     "place -c CONF [--pool NAME] [--hex] [FILE]   key<TAB>host:port[<TAB>name] per key"},
    {"plugins", sp_oracle_cmd_plugins, "plugins   list the hash and distribution plugins found"},
    {"balance", sp_oracle_cmd_balance,
     "balance -c CONF [--pool P] [KEYS]   keys per server against the weight shares"},
    {"diff", sp_oracle_cmd_diff,
     "diff -c OLD --to NEW [--list] [--max-moved PCT] [KEYS]   what moves between two configs"},
    {"whatif", sp_oracle_cmd_whatif,
     "whatif -c CONF --add|--remove|--weight|--rename|--failover|--eject|--hash|--distribution"
     "\n      ... [KEYS]   diff against CONF with these changes, without writing it"},
    {"compare", sp_oracle_cmd_compare,
     "compare -c CONF [KEYS]   every hash x distribution: balance and movement for +1 server"},
    {"audit", sp_oracle_cmd_audit,
     "audit -c CONF [--pool P] [--list] [--fix [--rate N] [--batch N]]   misplaced keys on the"
     "\n      live Redis servers (SCAN), moved to their owners with --fix"},
    {"migrate", sp_oracle_cmd_migrate,
     "migrate -c CONF --pool P [--rate N] [--batch N] [--dry-run]   online resharding: move"
     "\n      the keys whose owner changes from migrate_from to servers"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: shardoracle COMMAND [OPTIONS] [FILE]\n\n"
                 "Computes key placement offline, exactly as shardproxy (and nutcracker 0.5.0)\n"
                 "place keys.  Keys are read one per line from FILE or stdin (or --synthetic N\n"
                 "--pattern 'user:%%d').  `shardoracle COMMAND --help` describes each command.\n"
                 "\nCommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  shardoracle %s\n", subcommands[i].synopsis);
    fprintf(out, "\nCommon options:\n"
                 "  --plugin-dir DIR   look for plugins in DIR first (then\n"
                 "                     $SHARDPROXY_PLUGIN_PATH, then the installed plugin "
                 "directory)\n"
                 "  --hex              keys are hex-encoded bytes (an empty line is the empty "
                 "key)\n"
                 "  --json, --csv      machine-readable output (balance, diff, whatif, compare)\n"
                 "  --html FILE        also write a self-contained HTML report with charts\n"
                 "\nExit status: 0 ok, 1 a threshold was exceeded (audit: misplaced keys), 2 bad input\n"
                 "(audit: or a server that cannot be reached).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SP_EXIT_BAD_INPUT;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SP_EXIT_OK;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("shardoracle %s\n", PACKAGE_VERSION);
        return SP_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    return sp_oracle_fail("unknown command '%s' (try shardoracle --help)", argv[1]);
}
