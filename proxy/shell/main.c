/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardproxy: the process shell.  Parses the command line, loads plugins and the config, then
 * (optionally daemonized, with a pid file) runs the event loop that serves the pools and the
 * stats until SIGINT or SIGTERM; with --workers N, N-1 more loops in threads (workers.c).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "layout.h"
#include "daemon.h"
#include "report/log.h"
#include "options.h"
#include "placement.h"
#include "core/proxy.h"
#include "registry.h"
#include "signals.h"
#include "report/stats.h"
#include "report/stats_listener.h"
#include "version.h"
#include "workers.h"

/* The "service" field of the stats JSON: nutcracker's, so monitoring that matches on it keeps
 * working (see docs/operations.md); "version" is ours. */
#define SP_STATS_SERVICE "nutcracker"

/* Everything a running daemon owns, torn down in reverse order by app_stop. */
struct sp_app {
    const struct sp_options *opts;
    struct sp_registry *reg;
    struct sp_conf *conf;
    struct event_base *base;
    struct sp_signals *signals;
    struct sp_stats_listener *stats_listener;
    struct sp_workers *workers; /* the data path: the proxies and their counters */
    unsigned nworkers;          /* --workers, auto resolved */
    char *pid_file;  /* absolute; set once written */
    char *conf_path; /* -c, absolute: a reload after the daemon's chdir("/") reads it again */
    char *plugin_dir; /* --plugin-dir, absolute (or NULL) */
    time_t started;  /* the stats' "uptime" counts from here, across reloads */
    pid_t pid;
};

static void print_version(void)
{
    const char **methods = event_get_supported_methods();

    fprintf(stderr, "This is " SP_PROGRAM_NAME "-%s\n", SP_VERSION_STRING);
    fprintf(stderr, "async event backend: %s\n\n",
            methods != NULL && methods[0] != NULL ? methods[0] : "unknown");
}

/* Is `p` the hash or distribution of some pool?  (The others are unloaded once the config is in.) */
static int plugin_in_use(const struct sp_plugin *p, void *ctx)
{
    const struct sp_conf *conf = ctx;

    for (size_t i = 0; i < conf->npools; i++) {
        /* A migrating pool places by its source layout too (migrate_from). */
        for (const struct sp_conf_pool *cp = &conf->pools[i]; cp != NULL; cp = cp->migrate_from) {
            const char *name = p->kind == SP_PLUGIN_HASH ? cp->hash : cp->distribution;

            if (name != NULL && strcmp(p->name, name) == 0)
                return 1;
        }
    }
    return 0;
}

/*
 * Loads the plugins (--plugin-dir, $SHARDPROXY_PLUGIN_PATH, the installed directory), then the
 * config, checking hash and distribution names against the loaded plugins.  Returns 0, or -1
 * with err set and nothing left allocated.
 */
static int load_setup(const char *conf_file, const char *plugin_dir,
                      struct sp_registry **reg_out, struct sp_conf **conf_out, char *err,
                      size_t errlen)
{
    const char **hashes = NULL, **dists = NULL;
    struct sp_registry *reg = sp_registry_new();

    if (reg == NULL)
        goto oom;
    if (sp_registry_load_default(reg, plugin_dir, err, errlen) < 0)
        goto err;
    for (size_t i = 0; i < sp_registry_skipped_count(reg); i++)
        sp_log_warn("%s", sp_registry_skipped(reg, i));
    size_t cap = sp_registry_count(reg) + 1; /* room for every name and the NULL */
    hashes = calloc(cap, sizeof(*hashes));
    dists = calloc(cap, sizeof(*dists));
    if (hashes == NULL || dists == NULL)
        goto oom;
    sp_registry_names(reg, SP_PLUGIN_HASH, hashes, cap);
    sp_registry_names(reg, SP_PLUGIN_DIST, dists, cap);
    if (sp_conf_load(conf_file, hashes, dists, conf_out, err, errlen) < 0)
        goto err;
    /* What starting would find wrong in the config itself (-t says it too). */
    if (sp_proxy_check(*conf_out, reg, err, errlen) < 0) {
        sp_conf_free(*conf_out);
        *conf_out = NULL;
        goto err;
    }
    /* Every name was known while the config was checked; only the used ones stay resident. */
    sp_registry_retain(reg, plugin_in_use, *conf_out);
    free(hashes);
    free(dists);
    *reg_out = reg;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
err:
    free(hashes);
    free(dists);
    sp_registry_free(reg);
    return -1;
}

/*
 * -t on a Sentinel pool: which masters it follows, and that ejection does not apply there (the
 * address of a server is Sentinel's business, so its keys are never re-routed).
 */
static void print_sentinel_notes(const struct sp_conf *conf)
{
    for (size_t i = 0; i < conf->npools; i++) {
        const struct sp_conf_pool *p = &conf->pools[i];

        if (!sp_conf_pool_is_sentinel(p))
            continue;
        fprintf(stderr, SP_PROGRAM_NAME ": pool '%s': follows %zu Sentinel(s) for master(s)",
                p->name, p->nsentinels);
        for (size_t j = 0; j < p->nservers; j++)
            fprintf(stderr, "%s%s", j ? ", " : " ", p->servers[j].master);
        fprintf(stderr, "; auto_eject_hosts%s is not applied in a Sentinel pool",
                p->auto_eject_hosts ? " (true here)" : "");
        if (p->failover_hold > 0)
            fprintf(stderr, "; requests wait up to %d ms for a failover (failover_hold)",
                    p->failover_hold);
        else
            fprintf(stderr, "; requests for a down master fail at once (failover_hold: 0)");
        fprintf(stderr, "%s\n", p->failover_replica_reads
                                    ? "; reads go to a replica meanwhile (failover_replica_reads)"
                                    : "");
    }
}

/* -t on a migrating pool: from which layout to which, and what share of the keys moves.
   -1 when a layout cannot be placed (said why). */
static int print_migration_notes(const struct sp_conf *conf, const struct sp_registry *reg)
{
    char note[512];

    for (size_t i = 0; i < conf->npools; i++) {
        int rc = sp_conf_migration_note(&conf->pools[i], reg, note, sizeof(note));

        if (rc == 1)
            continue;
        fprintf(stderr, SP_PROGRAM_NAME ": %s\n", note);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* --workers: auto is one per online CPU (at most SP_WORKERS_MAX). */
static unsigned resolve_workers(unsigned asked)
{
    long cpus;

    if (asked != 0)
        return asked;
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : cpus > SP_WORKERS_MAX ? SP_WORKERS_MAX : (unsigned)cpus;
}

/* -t: exit status 0 when the config (and every plugin it names) loads, 1 otherwise. */
static int test_conf(const struct sp_options *opts)
{
    struct sp_registry *reg;
    struct sp_conf *conf;
    char err[1024];

    if (load_setup(opts->conf_file, opts->plugin_dir, &reg, &conf, err, sizeof(err)) < 0) {
        fprintf(stderr, SP_PROGRAM_NAME ": %s\n", err);
        fprintf(stderr, SP_PROGRAM_NAME ": configuration file '%s' syntax is invalid\n",
                opts->conf_file);
        return 1;
    }
    print_sentinel_notes(conf);
    if (print_migration_notes(conf, reg) < 0) {
        sp_conf_free(conf);
        sp_registry_free(reg);
        fprintf(stderr, SP_PROGRAM_NAME ": configuration file '%s' syntax is invalid\n",
                opts->conf_file);
        return 1;
    }
    sp_conf_free(conf);
    sp_registry_free(reg);
    fprintf(stderr, SP_PROGRAM_NAME ": configuration file '%s' syntax is ok\n", opts->conf_file);
    return 0;
}

/* Returns a malloc'd absolute version of `path` (relative to the current directory); NULL when
 * out of memory. */
static char *absolute_path(const char *path)
{
    char cwd[PATH_MAX];
    char *abs;

    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return strdup(path);
    if (asprintf(&abs, "%s/%s", cwd, path) < 0)
        return NULL;
    return abs;
}

/* The stats' identity: nutcracker's service name, this host, our version. */
static void stats_identity(struct sp_stats_identity *id, char *host, size_t hostlen)
{
    if (gethostname(host, hostlen) < 0)
        snprintf(host, hostlen, "unknown");
    host[hostlen - 1] = '\0';
    id->service = SP_STATS_SERVICE;
    id->source = host;
    id->version = SP_VERSION_STRING;
}

/* The data path, with its counters: the one place it is started and stopped. */
static int start_proxy(struct sp_app *app, char *err, size_t errlen)
{
    struct sp_proxy_options popts = {
        .mbuf_size = app->opts->mbuf_size,
        .high_watermark = 0, /* the data path's default */
    };
    struct sp_stats_identity id;
    char host[256];

    stats_identity(&id, host, sizeof(host));
    app->started = time(NULL);
    app->workers = sp_workers_new(app->base, app->nworkers, app->conf, app->reg, &popts, &id,
                                  app->started, err, errlen);
    return app->workers != NULL ? 0 : -1;
}

static void stop_proxy(struct sp_app *app)
{
    sp_workers_free(app->workers);
    app->workers = NULL;
}

static int start_stats(struct sp_app *app, char *err, size_t errlen)
{
    app->stats_listener = sp_stats_listener_new(app->base, sp_workers_stats(app->workers),
                                                app->opts->stats_addr, app->opts->stats_port,
                                                app->opts->stats_interval, err, errlen);
    if (app->stats_listener == NULL)
        return -1;
    if (app->nworkers > 1) {
        sp_stats_listener_before_render(app->stats_listener, sp_workers_sum_stats, app->workers);
        (void)sp_stats_listener_refresh(app->stats_listener);
    }
    return 0;
}

/*
 * SIGUSR1: reads the -c file again and puts it in service without a restart (core/reload.c).
 * Everything is loaded and checked first (plugins, config, placement, addresses); anything wrong
 * and the running config stays, the log says why.
 */
static void app_reload(void *ctx)
{
    struct sp_app *app = ctx;
    struct sp_registry *reg;
    struct sp_conf *conf;
    char err[1024];

    if (load_setup(app->conf_path, app->plugin_dir, &reg, &conf, err, sizeof(err)) < 0) {
        sp_log_error("reload: %s; the running configuration stays", err);
        return;
    }
    if (sp_workers_reload(app->workers, conf, reg, err, sizeof(err)) < 0) {
        sp_log_error("reload: %s: %s; the running configuration stays", app->conf_path, err);
        sp_conf_free(conf);
        sp_registry_free(reg);
        return;
    }
    /* The old counters are gone: the stats server shows the new ones before anything else. */
    sp_stats_listener_set_stats(app->stats_listener, sp_workers_stats(app->workers));
    sp_conf_free(app->conf);
    sp_registry_free(app->reg);
    app->conf = conf;
    app->reg = reg;
    sp_log_always("reload: configuration '%s' in service: %zu pool(s)", app->conf_path,
                  conf->npools);
}

/*
 * Detaches when -d asks.  Everything is already bound and listening, so start-up errors (a port
 * in use) reached the terminal; the event base is re-initialised for the new process (its epoll
 * descriptor and signal pipe are per process).  Returns 0 or -1 with err set.
 */
static int become_daemon(struct sp_app *app, char *err, size_t errlen)
{
    if (app->opts->daemonize) {
        if (sp_daemonize(err, errlen) < 0)
            return -1;
        if (event_reinit(app->base) < 0) {
            snprintf(err, errlen, "re-initialising the event base after fork failed");
            return -1;
        }
        if (sp_workers_after_fork(app->workers, err, errlen) < 0)
            return -1;
        if (app->opts->log_file != NULL && sp_log_capture_stderr(err, errlen) < 0)
            return -1;
    }
    app->pid = getpid();
    return 0;
}

/*
 * Writes the pid file (-p) once everything listens and the signal handlers are in place: a
 * supervisor that sees the file can talk to the daemon and stop it cleanly at once.
 */
static int write_pid_file(struct sp_app *app, const char *path, char *err, size_t errlen)
{
    if (path == NULL)
        return 0;
    if (sp_pidfile_write(path, app->pid, err, errlen) < 0)
        return -1;
    app->pid_file = strdup(path);
    if (app->pid_file == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/*
 * Brings the daemon up: log, plugins, config, signals, the data path and stats (while errors
 * still reach the terminal), then daemonize, the pid file, and last the workers' threads (a
 * fork keeps only the thread that calls it).  Returns 0, or -1 with err
 * set (what was started is left for app_stop).
 */
static int app_start(struct sp_app *app, char *err, size_t errlen)
{
    const struct sp_options *opts = app->opts;
    /* Absolute, so they still name the same files after the daemon's chdir("/"). */
    char *log_path = opts->log_file != NULL ? absolute_path(opts->log_file) : NULL;
    char *pid_path = opts->pid_file != NULL ? absolute_path(opts->pid_file) : NULL;
    int rc = -1;

    if ((opts->log_file != NULL && log_path == NULL) ||
        (opts->pid_file != NULL && pid_path == NULL)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    app->conf_path = absolute_path(opts->conf_file);
    app->plugin_dir = opts->plugin_dir != NULL ? absolute_path(opts->plugin_dir) : NULL;
    if (app->conf_path == NULL || (opts->plugin_dir != NULL && app->plugin_dir == NULL)) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (sp_log_init(opts->log_level, log_path, err, errlen) < 0 ||
        load_setup(opts->conf_file, opts->plugin_dir, &app->reg, &app->conf, err, errlen) < 0)
        goto out;
    app->base = event_base_new();
    if (app->base == NULL) {
        snprintf(err, errlen, "cannot create the event base");
        goto out;
    }
    app->signals = sp_signals_new(app->base, app_reload, app, err, errlen);
    if (app->signals == NULL || start_proxy(app, err, errlen) < 0 ||
        start_stats(app, err, errlen) < 0 || become_daemon(app, err, errlen) < 0 ||
        write_pid_file(app, pid_path, err, errlen) < 0 ||
        sp_workers_start(app->workers, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    free(log_path);
    free(pid_path);
    return rc;
}

static void app_stop(struct sp_app *app)
{
    char err[512];

    sp_stats_listener_free(app->stats_listener); /* shows the workers' counters */
    stop_proxy(app);
    sp_signals_free(app->signals);
    if (app->base != NULL)
        event_base_free(app->base);
    if (app->pid_file != NULL && sp_pidfile_remove(app->pid_file, app->pid, err, sizeof(err)) < 0)
        sp_log_error("%s", err);
    free(app->pid_file);
    free(app->conf_path);
    free(app->plugin_dir);
    sp_conf_free(app->conf);
    sp_registry_free(app->reg);
}

static void log_banner(const struct sp_app *app)
{
    struct utsname name;

    if (uname(&name) < 0)
        memset(&name, 0, sizeof(name));
    sp_log_always(SP_PROGRAM_NAME "-%s built for %s %s %s started on pid %ld",
                  SP_VERSION_STRING, name.sysname, name.release, name.machine, (long)app->pid);
    sp_log_always("configuration '%s': %zu pool(s); stats on %s:%d every %d msec; log level %d",
                  app->conf->path, app->conf->npools, app->opts->stats_addr,
                  app->opts->stats_port, app->opts->stats_interval, sp_log_level());
    if (app->nworkers > 1)
        sp_log_always("%u workers: each with its own event loop and server connections",
                      app->nworkers);
}

/* Runs the daemon until SIGINT/SIGTERM.  Returns the exit status. */
static int run(const struct sp_options *opts)
{
    struct sp_app app;
    char err[1024];
    int status = 0;

    memset(&app, 0, sizeof(app));
    app.opts = opts;
    app.nworkers = resolve_workers(opts->workers);
    if (app_start(&app, err, sizeof(err)) < 0) {
        /* Reported once per destination: the log file (if any), and stderr unless it is
         * already the detached daemon's /dev/null or log file. */
        bool detached = opts->daemonize && app.pid != 0;
        if (sp_log_fd() != STDERR_FILENO)
            sp_log_error("%s", err);
        if (!detached)
            fprintf(stderr, SP_PROGRAM_NAME ": %s\n", err);
        status = 1;
    } else {
        log_banner(&app);
        if (event_base_dispatch(app.base) < 0) {
            sp_log_error("event loop failed");
            status = 1;
        }
    }
    int signo = app.signals != NULL ? sp_signals_exit_signal(app.signals) : 0;
    app_stop(&app);
    if (signo != 0)
        sp_log_always("done, exiting on %s with status %d", sp_signal_name(signo), status);
    else
        sp_log_always("done, exit status %d", status);
    sp_log_deinit();
    return status;
}

int main(int argc, char **argv)
{
    struct sp_options opts;
    char err[512];

    sp_options_defaults(&opts);
    if (sp_options_parse(&opts, argc, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, SP_PROGRAM_NAME ": %s\n", err);
        sp_options_usage(stderr);
        return 1;
    }
    if (opts.show_version) {
        print_version();
        if (opts.show_help)
            sp_options_usage(stderr);
        if (opts.describe_stats)
            sp_stats_describe(stderr);
        return 0;
    }
    if (opts.test_conf)
        return test_conf(&opts);
    return run(&opts);
}
