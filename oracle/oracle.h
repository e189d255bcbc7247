/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle: shared pieces of the subcommands. */
#ifndef SP_ORACLE_H
#define SP_ORACLE_H

#include <stdio.h>

#include "conf.h"
#include "keys.h"
#include "registry.h"

/* Exit codes: the contract scripts rely on. */
enum {
    SP_EXIT_OK = 0,
    SP_EXIT_THRESHOLD = 1, /* a --max-* threshold was exceeded */
    SP_EXIT_BAD_INPUT = 2, /* bad usage, config, key file or plugin: one line on stderr */
    SP_EXIT_NOT_YET = 3,   /* migrate: not every proxy is armed yet; try again later */
};

/* Prints "shardoracle: MESSAGE" on stderr and returns SP_EXIT_BAD_INPUT. */
int sp_oracle_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads the plugins (--plugin-dir, $SHARDPROXY_PLUGIN_PATH, installed); NULL after reporting. */
struct sp_registry *sp_oracle_registry(const char *plugin_dir);

/* Loads a config, checking hash and distribution names against `reg`; NULL after reporting. */
struct sp_conf *sp_oracle_conf(const struct sp_registry *reg, const char *path);

/* The pool called `name`, or the only pool when name is NULL; NULL after reporting. */
const struct sp_conf_pool *sp_oracle_pool(const struct sp_conf *conf, const char *name);

/* Writes an unsigned decimal to `out` (faster than printf on hot output loops). */
void sp_oracle_put_u64(FILE *out, unsigned long long v);

/* Subcommands: argc/argv start at the subcommand name. */
int sp_oracle_cmd_hash(int argc, char **argv);
int sp_oracle_cmd_place(int argc, char **argv);
int sp_oracle_cmd_plugins(int argc, char **argv);
int sp_oracle_cmd_balance(int argc, char **argv);
int sp_oracle_cmd_diff(int argc, char **argv);
int sp_oracle_cmd_whatif(int argc, char **argv);
int sp_oracle_cmd_compare(int argc, char **argv);
int sp_oracle_cmd_audit(int argc, char **argv);
int sp_oracle_cmd_migrate(int argc, char **argv);

#endif
