/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle diff: what moves between two configs of a pool (e.g. before and after a reload), and
 * the driver that whatif shares: count, report, apply --max-moved.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "oracle.h"
#include "opts.h"

#define DIFF_USAGE                                                                               \
    "shardoracle diff -c OLD --to NEW [--pool P] [--to-pool P] [--list[=FILE]] "                 \
    "[--max-moved PCT] [FILE]\n       shardoracle diff -c CONF --pool P --migration [--list[=FILE]] " \
    "[--max-moved PCT] [FILE]"

enum { OPT_TO = SP_OPT_FIRST_OWN, OPT_TO_POOL, OPT_LIST, OPT_MAX_MOVED, OPT_MIGRATION };

int sp_oracle_diff_count(struct sp_oracle_diff *d, const struct sp_registry *reg,
                         const struct sp_oracle_opts *o, const char *list_path)
{
    char err[1024];
    if (sp_oracle_diff_prepare(d, reg, o, err, sizeof err) != 0)
        return sp_oracle_fail("%s: %s", d->new.conf_path, err);
    FILE *list = NULL;
    if (list_path && strcmp(list_path, "-") == 0) {
        list = stdout;
    } else if (list_path) {
        list = fopen(list_path, "w");
        if (!list)
            return sp_oracle_fail("--list=%s: cannot write: %s", list_path, strerror(errno));
    }
    d->list = list;
    int rc = sp_oracle_run_diff(d, o);
    if (list && list != stdout && fclose(list) != 0 && rc == SP_EXIT_OK)
        rc = sp_oracle_fail("--list=%s: cannot write: %s", list_path, strerror(errno));
    if (list != stdout)
        d->list = NULL;
    if (rc == SP_EXIT_OK)
        sp_oracle_diff_finish(d);
    return rc;
}

int sp_oracle_diff_report(const struct sp_oracle_diff *d, const struct sp_oracle_opts *o,
                          bool has_max, double max_moved)
{
    int rc = sp_oracle_emit_diff(o, d);
    if (rc != SP_EXIT_OK)
        return rc;
    double pct = d->keys ? 100.0 * (double)d->moved / (double)d->keys : 0;
    if (has_max && pct > max_moved) {
        fprintf(stderr, "shardoracle: %s: %.2f%% of the keys move, more than --max-moved %g%%\n",
                d->what, pct, max_moved);
        return SP_EXIT_THRESHOLD;
    }
    return SP_EXIT_OK;
}

/* The pool of NEW to compare with OLD's pool: --to-pool, else the one with the same name. */
static const struct sp_conf_pool *to_pool(const struct sp_conf *conf, const char *name,
                                          const struct sp_conf_pool *old)
{
    if (name)
        return sp_oracle_pool(conf, name);
    const struct sp_conf_pool *p = sp_conf_find_pool(conf, old->name);
    if (!p)
        sp_oracle_fail("diff: %s has no pool '%s' (as in the old config): choose one with "
                       "--to-pool", conf->path, old->name);
    return p;
}

/* --migration: the layout pool's keys move from.  NULL after reporting. */
static const struct sp_conf_pool *migration_source(const struct sp_conf *conf,
                                                   const struct sp_conf_pool *pool)
{
    if (!pool->migrate_from)
        sp_oracle_fail("diff: %s: pool '%s' has no migrate_from: --migration has nothing to "
                       "compare", conf->path, pool->name);
    return pool->migrate_from;
}

int sp_oracle_cmd_diff(int argc, char **argv)
{
    static const struct option options[] = {
        {"conf", required_argument, NULL, 'c'},
        {"conf-file", required_argument, NULL, 'c'},
        {"pool", required_argument, NULL, 'p'},
        {"to", required_argument, NULL, OPT_TO},
        {"to-pool", required_argument, NULL, OPT_TO_POOL},
        {"list", optional_argument, NULL, OPT_LIST},
        {"max-moved", required_argument, NULL, OPT_MAX_MOVED},
        {"migration", no_argument, NULL, OPT_MIGRATION},
        {"help", no_argument, NULL, 'h'},
        SP_ORACLE_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct sp_oracle_opts o;
    const char *old_path = NULL, *new_path = NULL, *pool_name = NULL, *new_pool_name = NULL;
    const char *list_path = NULL;
    double max_moved = 0;
    bool has_max = false, migration = false;
    int opt;
    sp_oracle_opts_init(&o);
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:p:h", options, NULL)) != -1) {
        int c = sp_oracle_common_option(&o, "diff", opt, optarg);
        if (c < 0)
            return SP_EXIT_BAD_INPUT;
        if (c > 0)
            continue;
        switch (opt) {
        case 'c': old_path = optarg; break;
        case 'p': pool_name = optarg; break;
        case OPT_TO: new_path = optarg; break;
        case OPT_TO_POOL: new_pool_name = optarg; break;
        case OPT_LIST: list_path = optarg ? optarg : "-"; break;
        case OPT_MIGRATION: migration = true; break;
        case OPT_MAX_MOVED:
            if (sp_oracle_parse_percent("diff", "--max-moved", optarg, &max_moved) != 0)
                return SP_EXIT_BAD_INPUT;
            has_max = true;
            break;
        case 'h':
            printf("Usage: " DIFF_USAGE "\n\nWhich keys move from OLD to NEW (servers matched by "
                   "address), against the least\nmovement the weight change needs.\n"
                   "  --list         print only the moved keys: key<TAB>old host:port<TAB>new "
                   "host:port\n  --list=FILE    write them to FILE, the report to stdout\n"
                   "  --max-moved P  exit 1 when more than P percent of the keys move\n"
                   "  --migration    compare pool P's migrate_from layout with its servers: what "
                   "`shardoracle\n                 migrate` moves (docs/resharding.md)\n\n"
                   SP_ORACLE_COMMON_HELP);
            return SP_EXIT_OK;
        default:
            return sp_oracle_bad_option("diff", opt, argc, argv, DIFF_USAGE);
        }
    }
    if (migration && (new_path || new_pool_name))
        return sp_oracle_fail("diff: --migration compares two layouts of one pool: no --to or "
                              "--to-pool");
    if (migration && (!old_path || !pool_name))
        return sp_oracle_fail("diff: --migration needs -c CONF and --pool P");
    if (!old_path || (!new_path && !migration))
        return sp_oracle_fail("diff: -c OLD and --to NEW are required");
    if (sp_oracle_keys_operand(&o, "diff", argc, argv) != 0)
        return SP_EXIT_BAD_INPUT;
    struct sp_registry *reg = sp_oracle_registry(o.plugin_dir);
    if (!reg)
        return SP_EXIT_BAD_INPUT;
    struct sp_conf *a = sp_oracle_conf(reg, old_path);
    struct sp_conf *b = a && !migration ? sp_oracle_conf(reg, new_path) : NULL;
    const struct sp_conf_pool *pa = b || (a && migration) ? sp_oracle_pool(a, pool_name) : NULL;
    const struct sp_conf_pool *pb = NULL;
    if (migration) {
        pb = pa;
        pa = pa ? migration_source(a, pa) : NULL;
        new_path = old_path;
    } else if (pa) {
        pb = to_pool(b, new_pool_name ? new_pool_name : pool_name, pa);
    }
    struct sp_oracle_diff d;
    char err[1024];
    int rc = SP_EXIT_BAD_INPUT;
    memset(&d, 0, sizeof d);
    d.what = "diff";
    if (!pa || !pb)
        goto out;
    if (sp_oracle_side_init(&d.old, reg, old_path, pa, NULL, err, sizeof err) != 0) {
        sp_oracle_fail("%s: %s", old_path, err);
        goto out;
    }
    if (sp_oracle_side_init(&d.new, reg, new_path, pb, NULL, err, sizeof err) != 0) {
        sp_oracle_fail("%s: %s", new_path, err);
        goto out;
    }
    rc = sp_oracle_diff_count(&d, reg, &o, list_path);
    if (rc == SP_EXIT_OK)
        rc = sp_oracle_diff_report(&d, &o, has_max, max_moved);
out:
    sp_oracle_diff_release(&d);
    sp_conf_free(a);
    sp_conf_free(b);
    sp_registry_free(reg);
    return rc;
}
