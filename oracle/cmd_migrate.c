/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle migrate: moves the keys of a resharded pool to their new owners (migrate.h). */
#include "config.h"

#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "migrate.h"
#include "opts.h"
#include "oracle.h"

#define USAGE                                                                                    \
    "shardoracle migrate -c CONF --pool P [--rate KEYS_PER_S] [--batch N] [--count N] "         \
    "[--timeout MS] [--dry-run] [--no-proxies] [--hex] [--json|--csv]"

#define ABOUT                                                                                    \
    "Moves every key of pool P whose owner changes between its migrate_from layout and its\n"   \
    "servers (docs/resharding.md): SCANs each server of the migrate_from layout and moves\n"   \
    "the keys it owns there and that another server owns in the new layout, with the proxy's\n" \
    "non-blocking move protocol (TAKE, RESTORE without REPLACE, FINISH; docs/oracle.md).\n"    \
    "Refuses to start unless every proxy connection of P on every server of both layouts is\n"  \
    "armed for this plan (each offender is named), and at least one is.\n\n"                    \
    "  --dry-run      move nothing: what would move on the live key set (no proxy check)\n"     \
    "  --no-proxies   no proxy serves P: start without an armed proxy (any proxy connection\n"  \
    "                 of P found must still be armed)\n"                                          \
    "  --rate N       move at most N keys a second (default 10000: clients come first)\n"                       \
    "  --batch N      keys per batch (default 100)\n"                                           \
    "  --count N      SCAN's COUNT (default 1000)\n"                                             \
    "  --timeout MS   connect and reply timeout (default 5000)\n"                               \
    "  --hex          keys in the report hex-encoded\n"                                          \
    "  --json, --csv  machine-readable report\n"                                                 \
    "  --plugin-dir DIR   look for plugins in DIR first\n\n"                                     \
    "Keys on a server that owns them in neither layout are counted as misplaced and left\n"  \
    "alone (audit --fix moves them).  A second run finds nothing left to move.\n\n"           \
    "Exit status: 0 every key moved, 1 conflicts, failed keys or set-aside copies (reported,\n" \
    "left in place), 2 bad input or a server that cannot be reached, 3 proxies not all armed."

enum { OPT_DRY_RUN = SP_AUDIT_OPT_NEXT, OPT_NO_PROXIES };

struct migrate_args {
    const char *conf, *pool, *plugin_dir;
};

/* Returns 0, 1 after the help, or exit code 2 after reporting. */
static int parse(int argc, char **argv, struct migrate_args *args, struct sp_migrate *m)
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
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"no-proxies", no_argument, NULL, OPT_NO_PROXIES},
        SP_AUDIT_MOVER_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct sp_audit_opts *o = &m->a.opt;
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
        case OPT_DRY_RUN: o->fix = false; break;
        case OPT_NO_PROXIES: m->no_proxies = true; break;
        default:
            rc = sp_audit_parse_option("migrate", opt, optarg, o);
            if (rc < 0)
                return sp_oracle_bad_option("migrate", opt, argc, argv, USAGE);
            if (rc > 0)
                return rc;
        }
    }
    if (!args->conf || !args->pool)
        return sp_oracle_fail("migrate: -c CONF and --pool P are required");
    if (optind < argc)
        return sp_oracle_fail("migrate: unexpected operand '%s' (the keys come from the servers)",
                              argv[optind]);
    return 0;
}

/* The pool to migrate: a Redis pool with migrate_from.  NULL after reporting. */
static const struct sp_conf_pool *choose_pool(const struct sp_conf *conf, const char *name)
{
    const struct sp_conf_pool *pool = sp_oracle_pool(conf, name);
    if (pool && !pool->migrate_from) {
        sp_oracle_fail("migrate: %s: pool '%s' has no migrate_from: nothing to migrate "
                       "(docs/resharding.md)", conf->path, name);
        return NULL;
    }
    return pool;
}

/* The migration's rule for one SCAN page of server `from` (sp_audit_place_fn). */
static int place_keys(struct sp_audit *a, struct sp_audit_pool *ap, size_t from,
                      const struct sp_rc_reply *keys, struct sp_audit_fixer *fixer, char *why,
                      size_t len)
{
    struct sp_migrate *m = (struct sp_migrate *)((char *)a - offsetof(struct sp_migrate, a));
    struct sp_audit_server *s = &ap->servers[from];
    for (size_t k = 0; k < keys->nelem; k++) {
        const struct sp_rc_reply *key = &keys->elem[k];
        if (sp_audit_protocol_key(ap, from, key->str, key->len))
            continue;
        int old = sp_placer_locate(m->from_placer, key->str, key->len);
        int to = sp_placer_locate(m->to_placer, key->str, key->len);
        s->keys++;
        if (to >= 0 && (size_t)to == from)
            continue;   /* home in the new layout: it stays, or it was moved here already */
        if (old < 0 || m->from_server[old] != from) {
            s->misplaced++;   /* where neither layout puts it: audit's business */
            continue;
        }
        if (to < 0)
            continue;
        ap->flows[from * ap->n + (size_t)to].misplaced++;
        if (fixer && sp_audit_fix_key(fixer, ap, from, (size_t)to, key->str, key->len, why,
                                      len) < 0)
            return -1;
    }
    return 0;
}

/*
 * Both layouts' servers, the target's first, into servers[] (room for both lists), and each
 * source server's index among them into m->from_server.  Returns how many.
 */
static size_t both_layouts(struct sp_migrate *m, const struct sp_conf_server **servers)
{
    const struct sp_conf_pool *to = m->pool, *from = to->migrate_from;
    size_t n = 0;
    for (size_t i = 0; i < to->nservers; i++)
        servers[n++] = &to->servers[i];
    for (size_t k = 0; k < from->nservers; k++) {
        int same = sp_conf_find_server(to, from->servers[k].name);
        if (same < 0)
            servers[n] = &from->servers[k];
        m->from_server[k] = same >= 0 ? (size_t)same : n++;
    }
    return n;
}

/* Placers and connections to every server of both layouts.  0, or -1 with err set. */
static int open_migration(struct sp_migrate *m, const struct sp_registry *reg, char *err,
                          size_t errlen)
{
    const struct sp_conf_pool *from = m->pool->migrate_from;
    const struct sp_conf_server **servers =
        calloc(m->pool->nservers + from->nservers, sizeof *servers);
    char why[1024];
    int rc = -1;

    m->nfrom = from->nservers;
    m->from_server = calloc(from->nservers, sizeof *m->from_server);
    if (!servers || !m->from_server) {
        snprintf(err, errlen, "out of memory");
    } else if (!(m->from_placer = sp_placer_new(reg, from, NULL, why, sizeof why)) ||
               !(m->to_placer = sp_placer_new(reg, m->pool, NULL, why, sizeof why))) {
        snprintf(err, errlen, "pool '%s': %s", m->pool->name, why);
    } else {
        size_t n = both_layouts(m, servers);
        rc = sp_audit_pool_open_servers(SP_MIGRATE_POOL(m), m->pool, servers, n,
                                        m->a.opt.timeout_ms, err, errlen);
    }
    free(servers);
    return rc;
}

/* Scans (and moves from) every server of the source layout.  0, or -1 with err set. */
static int run(struct sp_migrate *m, char *err, size_t errlen)
{
    struct sp_audit_pool *ap = SP_MIGRATE_POOL(m);
    struct sp_audit_fixer *fixer = NULL;
    char why[1024], label[600];
    int rc = 0;

    if (m->a.opt.fix && !(fixer = sp_audit_fixer_new(&m->a))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    double start = sp_oracle_now();
    sp_oracle_progress_start(&m->a.progress);
    for (size_t k = 0; rc == 0 && k < m->nfrom; k++) {
        size_t i = m->from_server[k];
        rc = sp_audit_scan_server(&m->a, ap, i, place_keys, fixer, why, sizeof why);
        if (rc < 0)
            snprintf(err, errlen, "pool '%s': server %s: %s", m->pool->name,
                     sp_audit_server_label(&ap->servers[i], label, sizeof label), why);
    }
    sp_oracle_progress_end(&m->a.progress, m->a.scanned);
    m->a.seconds = sp_oracle_now() - start;
    sp_audit_totals(ap);
    sp_audit_fixer_free(fixer);
    return rc;
}

static int report(const struct sp_migrate *m)
{
    const struct sp_audit_pool *ap = &m->a.pools[0];
    if (m->a.opt.format == SP_FORMAT_JSON)
        sp_oracle_json_migrate(stdout, m);
    else if (m->a.opt.format == SP_FORMAT_CSV)
        sp_oracle_csv_migrate(stdout, m);
    else
        sp_oracle_text_migrate(stdout, m);
    if (fflush(stdout) != 0)
        return sp_oracle_fail("cannot write output");
    return ap->conflicts || ap->failed || ap->aside ? SP_EXIT_THRESHOLD : SP_EXIT_OK;
}

/* Opens, checks the proxies, moves, reports.  An exit code. */
static int migrate(struct sp_migrate *m, const struct sp_registry *reg)
{
    char err[4096];
    if (open_migration(m, reg, err, sizeof err) < 0)
        return sp_oracle_fail("migrate: %s", err);
    if (m->a.opt.fix && sp_migrate_guard(m, stderr, err, sizeof err) < 0) {
        (void)sp_oracle_fail("migrate: refused: %s", err);
        return SP_EXIT_NOT_YET; /* a proxy not armed yet is a "later", not bad input */
    }
    if (run(m, err, sizeof err) < 0) {
        report(m);   /* what was done before the stop */
        return sp_oracle_fail("migrate: stopped: %s (nothing is lost: a key leaves its source "
                              "only once its new owner has it; run again to go on)", err);
    }
    return report(m);
}

int sp_oracle_cmd_migrate(int argc, char **argv)
{
    struct migrate_args args = {0};
    struct sp_migrate m;
    struct sp_audit_pool ap;
    memset(&m, 0, sizeof m);
    memset(&ap, 0, sizeof ap);
    m.a.opt.count = SP_AUDIT_DEFAULT_COUNT;
    m.a.opt.batch = SP_AUDIT_DEFAULT_BATCH;
    m.a.opt.timeout_ms = SP_AUDIT_DEFAULT_TIMEOUT;
    m.a.opt.format = SP_FORMAT_TEXT;
    m.a.opt.fix = true;
    m.a.opt.rate = SP_MIGRATE_DEFAULT_RATE;
    m.a.pools = &ap;
    m.a.npools = 1;
    int rc = parse(argc, argv, &args, &m);
    if (rc)
        return rc == 1 ? SP_EXIT_OK : rc;
    struct sp_registry *reg = sp_oracle_registry(args.plugin_dir);
    struct sp_conf *conf = reg ? sp_oracle_conf(reg, args.conf) : NULL;
    m.pool = conf ? choose_pool(conf, args.pool) : NULL;
    rc = SP_EXIT_BAD_INPUT;
    if (m.pool) {
        m.a.conf_path = conf->path;
        m.plan_id = sp_conf_plan_id(m.pool);
        rc = migrate(&m, reg);
    }
    sp_audit_pool_close(&ap);
    sp_placer_free(m.from_placer);
    sp_placer_free(m.to_placer);
    free(m.from_server);
    sp_conf_free(conf);
    sp_registry_free(reg);
    return rc;
}
