/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle audit: misplaced keys on live Redis servers, and --fix to move them home. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "opts.h"
#include "oracle.h"

#define USAGE                                                                                    \
    "shardoracle audit -c CONF [--pool P] [--list[=FILE]] [--hex] [--fix] [--rate KEYS_PER_S] " \
    "[--batch N] [--count N] [--timeout MS] [--json|--csv]"

#define ABOUT                                                                                    \
    "SCANs every server of each Redis pool of CONF (or of P; in a Sentinel pool, the masters\n" \
    "Sentinel names now) and places every key as the proxy does: a key on another server than\n" \
    "its owner is misplaced.\n\n"                                                                \
    "  --list         print only the misplaced keys: key<TAB>on host:port<TAB>owner host:port\n" \
    "                 (keys escaped: \\\\ \\t \\n \\r \\xHH; --hex: hex-encoded)\n"             \
    "  --list=FILE    write them to FILE, the report to stdout\n"                               \
    "  --fix          move each misplaced key to its owner with the non-blocking move protocol\n" \
    "                 (TAKE, RESTORE without REPLACE, FINISH: docs/oracle.md); a key the owner\n" \
    "                 has too is a conflict: the owner's copy stands, the other is set aside\n"  \
    "  --rate N       move at most N keys a second (default: no limit)\n"                       \
    "  --batch N      keys per batch (default 100)\n"                                           \
    "  --count N      SCAN's COUNT (default 1000)\n"                                             \
    "  --timeout MS   connect and reply timeout (default 5000)\n"                               \
    "  --json, --csv  machine-readable report\n"                                                 \
    "  --plugin-dir DIR   look for plugins in DIR first\n\n"                                     \
    "Set-aside copies (__shardproxy:aside:KEY, left by conflicts) are counted and listed, not\n" \
    "placed: an operator must look at them.\n\n"                                                \
    "Exit status: 0 no misplaced key (left), 1 misplaced keys (or conflicts, failures) left, or\n" \
    "set-aside copies found, 2 bad input or a server that cannot be reached."

enum { OPT_LIST = SP_AUDIT_OPT_NEXT };

struct audit_args {
    const char *conf, *pool, *plugin_dir, *list;
};

/* Returns 0, 1 after the help, or exit code 2 after reporting. */
static int parse(int argc, char **argv, struct audit_args *args, struct sp_audit_opts *o)
{
    static const struct option options[] = {
        {"conf", required_argument, NULL, 'c'},
        {"conf-file", required_argument, NULL, 'c'},
        {"pool", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {"plugin-dir", required_argument, NULL, SP_OPT_PLUGIN_DIR},
        {"hex", no_argument, NULL, SP_OPT_HEX},
        {"json", no_argument, NULL, SP_OPT_JSON},
        {"csv", no_argument, NULL, SP_OPT_CSV},
        {"list", optional_argument, NULL, OPT_LIST},
        {"fix", no_argument, NULL, SP_AUDIT_OPT_FIX},
        SP_AUDIT_MOVER_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int opt, rc;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:p:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': args->conf = optarg; break;
        case 'p': args->pool = optarg; break;
        case 'h': printf("Usage: %s\n\n%s\n", USAGE, ABOUT); return 1;
        case SP_OPT_PLUGIN_DIR: args->plugin_dir = optarg; break;
        case SP_OPT_HEX: o->hex = true; break;
        case SP_OPT_JSON: o->format = SP_FORMAT_JSON; break;
        case SP_OPT_CSV: o->format = SP_FORMAT_CSV; break;
        case OPT_LIST: args->list = optarg ? optarg : "-"; break;
        default:
            rc = sp_audit_parse_option("audit", opt, optarg, o);
            if (rc < 0)
                return sp_oracle_bad_option("audit", opt, argc, argv, USAGE);
            if (rc > 0)
                return rc;
        }
    }
    if (!args->conf)
        return sp_oracle_fail("audit: -c CONF is required");
    if (optind < argc)
        return sp_oracle_fail("audit: unexpected operand '%s' (the keys come from the servers)",
                              argv[optind]);
    return 0;
}

/* The pools to audit: --pool (a Redis one), else every Redis pool.  0, or exit code 2. */
static int choose_pools(const struct sp_conf *conf, const char *name,
                        const struct sp_conf_pool **chosen, size_t *n)
{
    *n = 0;
    if (name) {
        const struct sp_conf_pool *pool = sp_oracle_pool(conf, name);
        if (!pool)
            return SP_EXIT_BAD_INPUT;
        if (!pool->redis)
            return sp_oracle_fail("audit: %s: pool '%s' is a memcached pool: the audit needs "
                                  "Redis (SCAN, EVAL, RESTORE)", conf->path, name);
        chosen[(*n)++] = pool;
        return 0;
    }
    for (size_t i = 0; i < conf->npools; i++)
        if (conf->pools[i].redis)
            chosen[(*n)++] = &conf->pools[i];
    if (*n == 0)
        return sp_oracle_fail("audit: %s has no Redis pool (redis: true): nothing to audit",
                              conf->path);
    return 0;
}

/* Connects every pool, then scans (and fixes) them.  An exit code. */
static int run(struct sp_audit *a, const struct sp_registry *reg,
               const struct sp_conf_pool *const *pools)
{
    char err[4096];
    /* Every server is reached before anything is read or moved. */
    for (size_t i = 0; i < a->npools; i++)
        if (sp_audit_pool_open(&a->pools[i], reg, pools[i], a->opt.timeout_ms, err,
                               sizeof err) < 0)
            return sp_oracle_fail("audit: %s", err);
    double start = sp_oracle_now();
    sp_oracle_progress_start(&a->progress);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->npools; i++)
        rc = sp_audit_scan(a, &a->pools[i], err, sizeof err);
    sp_oracle_progress_end(&a->progress, a->scanned);
    a->seconds = sp_oracle_now() - start;
    if (a->opt.list && fflush(a->opt.list) != 0)
        return sp_oracle_fail("audit: cannot write the list of misplaced keys");
    return rc < 0 ? sp_oracle_fail("audit: %s", err) : SP_EXIT_OK;
}

static int report(const struct sp_audit *a)
{
    uint64_t left = 0;
    for (size_t i = 0; i < a->npools; i++)
        left += a->pools[i].misplaced - a->pools[i].moved + a->pools[i].aside;
    if (a->opt.list == stdout)
        ; /* the list is the output */
    else if (a->opt.format == SP_FORMAT_JSON)
        sp_oracle_json_audit(stdout, a);
    else if (a->opt.format == SP_FORMAT_CSV)
        sp_oracle_csv_audit(stdout, a);
    else
        sp_oracle_text_audit(stdout, a);
    if (fflush(stdout) != 0)
        return sp_oracle_fail("cannot write output");
    return left ? SP_EXIT_THRESHOLD : SP_EXIT_OK;
}

int sp_oracle_cmd_audit(int argc, char **argv)
{
    struct audit_args args = {0};
    struct sp_audit a = {0};
    a.opt.count = SP_AUDIT_DEFAULT_COUNT;
    a.opt.batch = SP_AUDIT_DEFAULT_BATCH;
    a.opt.timeout_ms = SP_AUDIT_DEFAULT_TIMEOUT;
    a.opt.format = SP_FORMAT_TEXT;
    int rc = parse(argc, argv, &args, &a.opt);
    if (rc)
        return rc == 1 ? SP_EXIT_OK : rc;
    struct sp_registry *reg = sp_oracle_registry(args.plugin_dir);
    struct sp_conf *conf = reg ? sp_oracle_conf(reg, args.conf) : NULL;
    const struct sp_conf_pool **pools = conf ? calloc(conf->npools, sizeof *pools) : NULL;
    rc = SP_EXIT_BAD_INPUT;
    if (conf && !pools)
        sp_oracle_fail("out of memory");
    if (!pools || choose_pools(conf, args.pool, pools, &a.npools) != 0)
        goto out;
    a.conf_path = conf->path;
    if (!(a.pools = calloc(a.npools, sizeof *a.pools))) {
        sp_oracle_fail("out of memory");
        goto out;
    }
    if (args.list && strcmp(args.list, "-") == 0)
        a.opt.list = stdout;
    else if (args.list && !(a.opt.list = fopen(args.list, "w"))) {
        sp_oracle_fail("audit: --list=%s: cannot write: %s", args.list, strerror(errno));
        goto out;
    }
    rc = run(&a, reg, pools);
    if (rc == SP_EXIT_OK)
        rc = report(&a);
out:
    if (a.opt.list && a.opt.list != stdout && fclose(a.opt.list) != 0 && rc != SP_EXIT_BAD_INPUT)
        rc = sp_oracle_fail("audit: --list=%s: cannot write: %s", args.list, strerror(errno));
    for (size_t i = 0; a.pools && i < a.npools; i++)
        sp_audit_pool_close(&a.pools[i]);
    free(a.pools);
    free(pools);
    sp_conf_free(conf);
    sp_registry_free(reg);
    return rc;
}
