/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle whatif: `diff` against a modified copy of the config, without writing it.
 *
 * The edits go through the config loader (lib/conf_edit.c), so names, server order and messages
 * are the loader's.  Servers keep their identity across edits by address, except that a failed-over
 * server is the same logical server at a new address (its data is on the promoted replica): it is
 * followed through the edit, which is what exposes the naming trap - an unnamed server's name is
 * its address, so its keys move although its data did not.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "oracle.h"
#include "opts.h"

#define WHATIF_USAGE                                                                             \
    "shardoracle whatif -c CONF [--pool P] [--add host:port:weight[ name]] [--remove NAME] "     \
    "[--weight NAME=W] [--rename OLD=NEW] [--failover NAME=host:port] [--eject NAME] "           \
    "[--hash H] [--distribution D] [--list[=FILE]] [--max-moved PCT] [FILE]"

enum edit_kind {
    EDIT_ADD = SP_OPT_FIRST_OWN, EDIT_REMOVE, EDIT_WEIGHT, EDIT_RENAME, EDIT_FAILOVER, EDIT_EJECT,
    EDIT_HASH, EDIT_DIST, EDIT_HASH_TAG, OPT_LIST, OPT_MAX_MOVED
};

static const char *const edit_option[] = {
    [EDIT_ADD - EDIT_ADD] = "--add", [EDIT_REMOVE - EDIT_ADD] = "--remove",
    [EDIT_WEIGHT - EDIT_ADD] = "--weight", [EDIT_RENAME - EDIT_ADD] = "--rename",
    [EDIT_FAILOVER - EDIT_ADD] = "--failover", [EDIT_EJECT - EDIT_ADD] = "--eject",
    [EDIT_HASH - EDIT_ADD] = "--hash", [EDIT_DIST - EDIT_ADD] = "--distribution",
    [EDIT_HASH_TAG - EDIT_ADD] = "--hash-tag",
};

struct edit {
    int kind;
    const char *arg;
};

/* What whatif knows besides the diff: the edits, and each old server's current address. */
struct whatif {
    const struct sp_registry *reg;
    struct sp_conf_pool *pool;     /* the edited copy */
    const struct sp_conf_pool *orig;
    struct edit *edits;
    size_t nedits;
    char **addr;                   /* old server i's address after the edits so far; NULL: gone */
    bool *live;                    /* per server of the edited pool */
};

/* "a, b, c" of the pool's server names, for messages. */
static const char *server_names(const struct sp_conf_pool *pool, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < pool->nservers; i++) {
        size_t used = strlen(buf);
        if (used + 8 >= len) {
            snprintf(buf + used, len - used, ", ...");
            break;
        }
        snprintf(buf + used, len - used, "%s%s", i ? ", " : "", pool->servers[i].name);
    }
    return buf;
}

/* The server called `name`, or -1 after reporting. */
static int find_named(const struct sp_conf_pool *pool, const char *opt, const char *arg,
                      const char *name)
{
    int i = sp_conf_find_server(pool, name);
    if (i < 0) {
        char names[512];
        sp_oracle_fail("whatif: %s '%s': no server named '%s' in pool '%s' (names: %s)", opt, arg,
                       name, pool->name, server_names(pool, names, sizeof names));
    }
    return i;
}

/*
 * Splits "NAME=VALUE" at the first '=' whose left part names a server (names may contain '=').
 * Returns the server index and sets *value, or -1 after reporting.
 */
static int split_named(const struct sp_conf_pool *pool, const char *opt, const char *arg,
                       const char *what, char *name, size_t namelen, const char **value)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return sp_oracle_fail("whatif: %s '%s': expected NAME=%s", opt, arg, what), -1;
    for (const char *p = eq; p; p = strchr(p + 1, '=')) {
        snprintf(name, namelen, "%.*s", (int)(p - arg), arg);
        int i = sp_conf_find_server(pool, name);
        if (i >= 0) {
            *value = p + 1;
            return i;
        }
    }
    snprintf(name, namelen, "%.*s", (int)(eq - arg), arg);
    return find_named(pool, opt, arg, name);
}

/* The tracking slot of the old server now at `addr`, or -1. */
static int tracked(const struct whatif *w, const char *addr)
{
    for (size_t i = 0; i < w->orig->nservers; i++)
        if (w->addr[i] && strcmp(w->addr[i], addr) == 0)
            return (int)i;
    return -1;
}

static int failover(struct whatif *w, int idx, const char *arg, const char *to, char *err,
                    size_t errlen)
{
    for (size_t j = 0; j < w->pool->nservers; j++)
        if (strcmp(w->pool->servers[j].addr.text, to) == 0)
            return sp_oracle_fail("whatif: --failover '%s': %s is already the address of server "
                                  "'%s'", arg, to, w->pool->servers[j].name);
    int t = tracked(w, w->pool->servers[idx].addr.text);
    if (sp_conf_pool_edit_server(w->pool, (size_t)idx, to, NULL, NULL, "--failover", err,
                                 errlen) != 0)
        return sp_oracle_fail("whatif: %s", err);
    if (t >= 0) {
        char *copy = strdup(to);
        if (!copy)
            return sp_oracle_fail("out of memory");
        free(w->addr[t]);
        w->addr[t] = copy;
    }
    return 0;
}

/* Applies one edit (all but --eject) to the copy.  0, or exit code 2 after reporting. */
static int apply(struct whatif *w, const struct edit *e, const char *const *hashes,
                 const char *const *dists)
{
    const char *opt = edit_option[e->kind - EDIT_ADD];
    char err[1024], name[512];
    const char *value = NULL;
    int idx, rc = 0;
    switch (e->kind) {
    case EDIT_ADD:
        rc = sp_conf_pool_add_server(w->pool, e->arg, opt, err, sizeof err);
        break;
    case EDIT_REMOVE: {
        if ((idx = find_named(w->pool, opt, e->arg, e->arg)) < 0)
            return SP_EXIT_BAD_INPUT;
        if (w->pool->nservers == 1)
            return sp_oracle_fail("whatif: --remove '%s': it is the last server of pool '%s' "
                                  "(use --eject to see the pool with no live server)", e->arg,
                                  w->pool->name);
        int t = tracked(w, w->pool->servers[idx].addr.text);
        if (t >= 0) {
            free(w->addr[t]);
            w->addr[t] = NULL;
        }
        sp_conf_pool_remove_server(w->pool, (size_t)idx);
        return 0;
    }
    case EDIT_WEIGHT:
    case EDIT_RENAME:
    case EDIT_FAILOVER:
        idx = split_named(w->pool, opt, e->arg, e->kind == EDIT_WEIGHT ? "WEIGHT"
                          : e->kind == EDIT_RENAME ? "NEW_NAME" : "host:port",
                          name, sizeof name, &value);
        if (idx < 0)
            return SP_EXIT_BAD_INPUT;
        if (e->kind == EDIT_FAILOVER)
            return failover(w, idx, e->arg, value, err, sizeof err);
        rc = sp_conf_pool_edit_server(w->pool, (size_t)idx, NULL,
                                      e->kind == EDIT_WEIGHT ? value : NULL,
                                      e->kind == EDIT_RENAME ? value : NULL, opt, err, sizeof err);
        break;
    case EDIT_HASH:
    case EDIT_DIST:
    case EDIT_HASH_TAG:
        rc = sp_conf_pool_set_key(w->pool, e->kind == EDIT_HASH ? "hash"
                                  : e->kind == EDIT_DIST ? "distribution" : "hash_tag",
                                  e->arg, hashes, dists, opt, err, sizeof err);
        break;
    default:
        return 0;
    }
    return rc != 0 ? sp_oracle_fail("whatif: %s", err) : 0;
}

/* Applies every edit in command-line order, then the ejections (on the final server list). */
static int apply_all(struct whatif *w, struct sp_oracle_diff *d)
{
    const char *hashes[128], *dists[128];
    sp_registry_names(w->reg, SP_PLUGIN_HASH, hashes, 128);
    sp_registry_names(w->reg, SP_PLUGIN_DIST, dists, 128);
    for (size_t k = 0; k < w->nedits; k++) {
        if (apply(w, &w->edits[k], hashes, dists) != 0)
            return SP_EXIT_BAD_INPUT;
        size_t used = strlen(d->changes);
        snprintf(d->changes + used, sizeof d->changes - used, "%s%s %s", used ? "; " : "",
                 edit_option[w->edits[k].kind - EDIT_ADD], w->edits[k].arg);
    }
    w->live = calloc(w->pool->nservers + 1, sizeof(*w->live));
    if (!w->live)
        return sp_oracle_fail("out of memory");
    for (size_t j = 0; j < w->pool->nservers; j++)
        w->live[j] = true;
    for (size_t k = 0; k < w->nedits; k++) {
        if (w->edits[k].kind != EDIT_EJECT)
            continue;
        int idx = find_named(w->pool, "--eject", w->edits[k].arg, w->edits[k].arg);
        if (idx < 0)
            return SP_EXIT_BAD_INPUT;
        w->live[idx] = false;
    }
    return 0;
}

/* Each new server's old identity, by tracked address. */
static int *identities(const struct whatif *w)
{
    size_t n = w->pool->nservers;
    int *match = malloc((n + 1) * sizeof(*match));
    bool *used = calloc(w->orig->nservers + 1, sizeof(*used));
    for (size_t j = 0; match && used && j < n; j++) {
        match[j] = -1;
        for (size_t i = 0; i < w->orig->nservers; i++) {
            if (!used[i] && w->addr[i] && strcmp(w->addr[i], w->pool->servers[j].addr.text) == 0) {
                match[j] = (int)i;
                used[i] = true;
                break;
            }
        }
    }
    free(used);
    return match;
}

/* Explains each failover and each ejection once the keys are counted. */
static void add_notes(const struct whatif *w, struct sp_oracle_diff *d)
{
    for (size_t i = 0; i < d->old.n; i++) {
        int j = d->match_new[i];
        const struct sp_conf_server *a = &d->old.pool->servers[i];
        if (j < 0 || strcmp(a->addr.text, d->new.pool->servers[j].addr.text) == 0)
            continue;
        const struct sp_conf_server *b = &d->new.pool->servers[j];
        uint64_t lost = sp_oracle_diff_lost(d, i);
        if (a->named)
            sp_oracle_diff_note(d, "failover: '%s' moved %s -> %s. It is the same logical server "
                                "(its data is on the promoted replica), so it is matched by "
                                "identity, not address. It is named, and placement follows the "
                                "name: %llu of its keys move (%.2f%%).", a->name, a->addr.text,
                                b->addr.text, (unsigned long long)lost,
                                d->keys ? 100.0 * (double)lost / (double)d->keys : 0.0);
        else
            sp_oracle_diff_note(d, "failover TRAP: %s moved to %s. It is the same logical server "
                                "(its data is on the promoted replica), matched by identity, not "
                                "address. But it is unnamed, so its name IS its address: the name "
                                "changes to '%s' and %s places by name, so %llu keys (%.2f%%) "
                                "move although no data did: %llu of its keys go to other servers "
                                "and %llu keys of other servers come to it, where their data is "
                                "not (cache misses, or stale reads after a later move back). Give "
                                "every server an explicit name ('- %s:%u shard1'); then a "
                                "failover moves nothing.", a->addr.text, b->addr.text, b->name,
                                d->new.pool->distribution, (unsigned long long)d->moved,
                                d->keys ? 100.0 * (double)d->moved / (double)d->keys : 0.0,
                                (unsigned long long)lost,
                                (unsigned long long)sp_oracle_diff_gained(d, (size_t)j),
                                a->addr.text, a->weight);
    }
    for (size_t j = 0; j < d->new.n; j++) {
        if (w->live[j])
            continue;
        sp_oracle_diff_note(d, "eject: placement while '%s' is auto-ejected is the pool without "
                            "it (the distribution is rebuilt from the live servers).%s",
                            d->new.pool->servers[j].name,
                            d->new.pool->auto_eject_hosts ? ""
                            : " This pool has auto_eject_hosts: false, so nutcracker would not "
                              "eject it: its keys would fail instead of moving.");
    }
}

/* Parses the options into edits; 0, 1 (help printed) or an exit code >= 2. */
static int parse(int argc, char **argv, struct sp_oracle_opts *o, struct whatif *w,
                 const char **conf, const char **pool, const char **list, bool *has_max,
                 double *max)
{
    static const struct option options[] = {
        {"conf", required_argument, NULL, 'c'}, {"conf-file", required_argument, NULL, 'c'},
        {"pool", required_argument, NULL, 'p'}, {"add", required_argument, NULL, EDIT_ADD},
        {"remove", required_argument, NULL, EDIT_REMOVE},
        {"weight", required_argument, NULL, EDIT_WEIGHT},
        {"rename", required_argument, NULL, EDIT_RENAME},
        {"failover", required_argument, NULL, EDIT_FAILOVER},
        {"eject", required_argument, NULL, EDIT_EJECT},
        {"hash", required_argument, NULL, EDIT_HASH},
        {"distribution", required_argument, NULL, EDIT_DIST},
        {"hash-tag", required_argument, NULL, EDIT_HASH_TAG},
        {"list", optional_argument, NULL, OPT_LIST},
        {"max-moved", required_argument, NULL, OPT_MAX_MOVED},
        {"help", no_argument, NULL, 'h'}, SP_ORACLE_COMMON_OPTIONS, {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:p:h", options, NULL)) != -1) {
        int c = sp_oracle_common_option(o, "whatif", opt, optarg);
        if (c != 0) {
            if (c < 0)
                return SP_EXIT_BAD_INPUT;
            continue;
        }
        if (opt >= EDIT_ADD && opt <= EDIT_HASH_TAG) {
            w->edits[w->nedits++] = (struct edit){ opt, optarg };
            continue;
        }
        switch (opt) {
        case 'c': *conf = optarg; break;
        case 'p': *pool = optarg; break;
        case OPT_LIST: *list = optarg ? optarg : "-"; break;
        case OPT_MAX_MOVED:
            if (sp_oracle_parse_percent("whatif", "--max-moved", optarg, max) != 0)
                return SP_EXIT_BAD_INPUT;
            *has_max = true;
            break;
        case 'h':
            printf("Usage: " WHATIF_USAGE "\n\n`diff` against CONF with these changes, without "
                   "writing it (options repeat; applied\nin order).  NAME is a server's name as "
                   "placement sees it: its explicit name, else\nhost:port (host for port 11211).\n"
                   "  --failover NAME=host:port  the server's replica was promoted at host:port\n"
                   "  --eject NAME               the server is down and auto-ejected\n\n"
                   SP_ORACLE_COMMON_HELP);
            return 1;
        default:
            return sp_oracle_bad_option("whatif", opt, argc, argv, WHATIF_USAGE);
        }
    }
    if (!*conf)
        return sp_oracle_fail("whatif: -c CONF is required");
    if (w->nedits == 0)
        return sp_oracle_fail("whatif: nothing to change (use --add, --remove, --weight, "
                              "--rename, --failover, --eject, --hash or --distribution)");
    return sp_oracle_keys_operand(o, "whatif", argc, argv);
}

/* Loads, edits, counts and reports; the caller frees w and d. */
static int run(struct whatif *w, struct sp_oracle_diff *d, const struct sp_oracle_opts *o,
               const char *conf_path, const char *list, bool has_max, double max)
{
    char err[1024];
    w->pool = sp_conf_pool_dup(w->orig);
    w->addr = calloc(w->orig->nservers + 1, sizeof(*w->addr));
    if (!w->pool || !w->addr)
        return sp_oracle_fail("out of memory");
    for (size_t i = 0; i < w->orig->nservers; i++)
        if (!(w->addr[i] = strdup(w->orig->servers[i].addr.text)))
            return sp_oracle_fail("out of memory");
    if (apply_all(w, d) != 0)
        return SP_EXIT_BAD_INPUT;
    if (sp_oracle_side_init(&d->old, w->reg, conf_path, w->orig, NULL, err, sizeof err) != 0 ||
        sp_oracle_side_init(&d->new, w->reg, conf_path, w->pool, w->live, err, sizeof err) != 0)
        return sp_oracle_fail("whatif: %s", err);
    if (!(d->match_old = identities(w)))
        return sp_oracle_fail("out of memory");
    int rc = sp_oracle_diff_count(d, w->reg, o, list);
    if (rc != SP_EXIT_OK)
        return rc;
    add_notes(w, d);
    return sp_oracle_diff_report(d, o, has_max, max);
}

int sp_oracle_cmd_whatif(int argc, char **argv)
{
    struct sp_oracle_opts o;
    struct whatif w;
    struct sp_oracle_diff d;
    const char *conf_path = NULL, *pool_name = NULL, *list = NULL;
    bool has_max = false;
    double max = 0;
    sp_oracle_opts_init(&o);
    memset(&w, 0, sizeof w);
    memset(&d, 0, sizeof d);
    d.what = "whatif";
    w.edits = calloc((size_t)argc + 1, sizeof(*w.edits));
    if (!w.edits)
        return sp_oracle_fail("out of memory");
    int rc = parse(argc, argv, &o, &w, &conf_path, &pool_name, &list, &has_max, &max);
    struct sp_registry *reg = NULL;
    struct sp_conf *conf = NULL;
    if (rc != 0) {
        rc = rc == 1 ? SP_EXIT_OK : rc;
        goto out;
    }
    if ((rc = sp_oracle_load(&o, conf_path, pool_name, &reg, &conf, &w.orig)) != 0)
        goto out;
    w.reg = reg;
    rc = run(&w, &d, &o, conf_path, list, has_max, max);
out:
    sp_oracle_diff_release(&d);
    for (size_t i = 0; w.addr && w.orig && i < w.orig->nservers; i++)
        free(w.addr[i]);
    free(w.addr);
    free(w.live);
    free(w.edits);
    sp_conf_pool_free(w.pool);
    sp_conf_free(conf);
    sp_registry_free(reg);
    return rc;
}
