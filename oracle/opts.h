/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle: command-line options shared by balance, diff, whatif and compare. */
#ifndef SP_ORACLE_OPTS_H
#define SP_ORACLE_OPTS_H

#include <getopt.h>
#include <stdint.h>

#include "analysis.h"

/* Long-option codes outside the range of characters. */
enum {
    SP_OPT_PLUGIN_DIR = 0x100,
    SP_OPT_HEX,
    SP_OPT_SIZES,
    SP_OPT_SYNTHETIC,
    SP_OPT_PATTERN,
    SP_OPT_JSON,
    SP_OPT_CSV,
    SP_OPT_HTML,
    SP_OPT_SAMPLES,
    SP_OPT_FIRST_OWN = 0x140, /* subcommands number their own options from here */
};

/* Splice into a subcommand's struct option table. */
#define SP_ORACLE_COMMON_OPTIONS                                                                 \
    {"plugin-dir", required_argument, NULL, SP_OPT_PLUGIN_DIR},                                  \
    {"hex", no_argument, NULL, SP_OPT_HEX},                                                      \
    {"sizes", no_argument, NULL, SP_OPT_SIZES},                                                  \
    {"synthetic", required_argument, NULL, SP_OPT_SYNTHETIC},                                    \
    {"pattern", required_argument, NULL, SP_OPT_PATTERN},                                        \
    {"json", no_argument, NULL, SP_OPT_JSON},                                                    \
    {"csv", no_argument, NULL, SP_OPT_CSV},                                                      \
    {"html", required_argument, NULL, SP_OPT_HTML},                                              \
    {"samples", required_argument, NULL, SP_OPT_SAMPLES}

/* Help text for the shared options. */
#define SP_ORACLE_COMMON_HELP                                                                    \
    "Keys: FILE or stdin, one per line (e.g. `redis-cli --scan` output), or --synthetic N\n"     \
    "  --hex              keys are hex-encoded bytes (an empty line is the empty key)\n"         \
    "  --sizes            each line is KEY<TAB>SIZE (bytes); reports bytes per server too\n"     \
    "  --synthetic N      N keys made from --pattern (default 'key:%%d'), e.g. 'user:%%d'\n"       \
    "Output:\n"                                                                                  \
    "  --json | --csv     instead of the aligned table\n"                                        \
    "  --html FILE        also write a self-contained HTML report with charts\n"                 \
    "  --samples N        hash values sampled for the expected shares (default 1048576)\n"       \
    "  --plugin-dir DIR   look for plugins in DIR first\n"

void sp_oracle_opts_init(struct sp_oracle_opts *o);

/* Handles a shared option: 1 handled, 0 not a shared option, -1 bad value (reported). */
int sp_oracle_common_option(struct sp_oracle_opts *o, const char *cmd, int opt, const char *arg);

/* Reports an unknown option or a missing value (getopt gave '?' or ':'); returns exit code 2. */
int sp_oracle_bad_option(const char *cmd, int opt, int argc, char **argv, const char *usage);

/* Takes the optional key file operand after the options.  0, or exit code 2 after reporting. */
int sp_oracle_keys_operand(struct sp_oracle_opts *o, const char *cmd, int argc, char **argv);

/*
 * Parses a one-config command line: -c CONF [--pool P], the shared options and an optional key
 * file.  Returns 0, 1 after printing the help (usage, then `about`), or exit code 2 after
 * reporting.
 */
int sp_oracle_parse_conf_command(int argc, char **argv, const char *cmd, const char *usage,
                                 const char *about, struct sp_oracle_opts *o, const char **conf,
                                 const char **pool);

/*
 * Loads the plugins, the config and its pool (`pool_name`, or the only one).  Returns 0, or exit
 * code 2 after reporting; whatever was loaded is in *reg / *conf for the caller to free.
 */
int sp_oracle_load(const struct sp_oracle_opts *o, const char *conf_path, const char *pool_name,
                   struct sp_registry **reg, struct sp_conf **conf,
                   const struct sp_conf_pool **pool);

/* Number parsers for option values; 0, or exit code 2 after reporting "CMD: OPT 'S' ...". */
int sp_oracle_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
int sp_oracle_parse_percent(const char *cmd, const char *opt, const char *s, double *out);

/*
 * The diff driver shared by diff and whatif.  sp_oracle_diff_count prepares d (sides already
 * initialised), streams the keys (moved keys to `list_path`: "-" stdout, else a file, NULL none)
 * and finishes the figures; sp_oracle_diff_report writes the report and applies --max-moved.  Both
 * return an exit code.
 */
int sp_oracle_diff_count(struct sp_oracle_diff *d, const struct sp_registry *reg,
                         const struct sp_oracle_opts *o, const char *list_path);
int sp_oracle_diff_report(const struct sp_oracle_diff *d, const struct sp_oracle_opts *o,
                          bool has_max, double max_moved);

#endif
