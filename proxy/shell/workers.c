/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "core/proxy.h"
#include "core/world.h"
#include "report/log.h"
#include "report/stats.h"

struct worker;

/* A function a worker runs in its own thread, between two events. */
struct message {
    void (*fn)(struct worker *w, void *arg);
    void *arg;
    struct message *next;
};

struct worker {
    struct sp_workers *set;
    unsigned index;            /* 0: the leader */
    struct event_base *base;   /* the leader's is the caller's */
    struct sp_proxy *proxy;
    struct sp_stats *stats;    /* this worker's own counters */
    struct sp_world world;     /* how its data path reaches the others (n > 1) */
    /* With several workers (the leader hears followers' news; followers, the leader): */
    int wake[2];               /* a byte written to [1] wakes the loop to read the inbox */
    struct event *wake_ev;
    pthread_mutex_t lock;      /* guards inbox */
    struct message *inbox, **inbox_tail;
    /* Followers only: */
    pthread_t thread;
    bool running;
};

/* A follower's news for the leader (world.h). */
struct news {
    unsigned generation, pool, server;
    enum sp_world_news what;
};

/* One reload across the workers: who has prepared, what was decided, who has finished. */
struct reload_round {
    const struct sp_conf *conf;
    const struct sp_registry *reg;
    struct sp_stats **stats;   /* the new counters, one per worker */
    unsigned prepared, finished;
    bool failed, decided, commit, resumed;
    char err[1024];
};

struct sp_workers {
    unsigned n;
    struct worker *w;        /* [n] */
    struct sp_stats *total;    /* n > 1: the sum the stats server shows */
    pthread_mutex_t sync;      /* guards round and the parking below */
    pthread_cond_t changed;
    struct reload_round round;
    unsigned park_round;       /* the leader's latest world stop */
    unsigned parked;           /* followers parked in it so far */
    unsigned released;         /* the latest round they may leave */
    bool held;                 /* the followers are held already (a reload, a stop) */
    bool started;              /* the followers' threads run */
    long *clients;             /* n > 1: per pool, its clients in every worker (atomic) */
};

/*
 * New per-pool client counters for `conf`, every worker counting in them (every worker parked
 * or not started).  Returns 0, or -1 when out of memory (the old ones stay).
 */
static int count_clients(struct sp_workers *ws, const struct sp_conf *conf)
{
    long *counters = calloc(conf->npools + 1, sizeof(*counters));

    if (counters == NULL)
        return -1;
    for (unsigned i = 0; i < ws->n; i++)
        sp_proxy_count_clients(ws->w[i].proxy, counters);
    free(ws->clients);
    ws->clients = counters;
    return 0;
}

static struct sp_stats **stats_set_new(unsigned n, const struct sp_conf *conf,
                                       const struct sp_stats_identity *id, time_t started,
                                       char *err, size_t errlen)
{
    struct sp_stats **set = calloc(n, sizeof(*set));

    if (set == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        set[i] = sp_stats_new(conf, id, started, err, errlen);
        if (set[i] == NULL) {
            while (i-- > 0)
                sp_stats_free(set[i]);
            free(set);
            return NULL;
        }
    }
    return set;
}

/* Queues fn(w, arg) for worker w's thread.  -1 when out of memory (nothing queued). */
static int try_post(struct worker *w, void (*fn)(struct worker *, void *), void *arg)
{
    struct message *m = malloc(sizeof(*m));
    char byte = 1;

    if (m == NULL)
        return -1;
    m->fn = fn;
    m->arg = arg;
    m->next = NULL;
    pthread_mutex_lock(&w->lock);
    *w->inbox_tail = m;
    w->inbox_tail = &m->next;
    pthread_mutex_unlock(&w->lock);
    while (write(w->wake[1], &byte, 1) < 0 && errno == EINTR)
        ; /* EAGAIN: the pipe is full of wake-ups already */
    return 0;
}

/* A message the leader then waits for: it cannot be dropped. */
static void post(struct worker *w, void (*fn)(struct worker *, void *), void *arg)
{
    if (try_post(w, fn, arg) < 0) {
        sp_log_error("workers: out of memory posting to worker %u", w->index);
        abort();
    }
}

/* Queues fn(w, copy) with a malloc'd copy of the `size` bytes at msg (fn frees it).  -1 when
   out of memory (nothing queued). */
static int post_copy(struct worker *w, void (*fn)(struct worker *, void *), const void *msg,
                     size_t size)
{
    void *copy = malloc(size);

    if (copy == NULL)
        return -1;
    memcpy(copy, msg, size);
    if (try_post(w, fn, copy) < 0) {
        free(copy);
        return -1;
    }
    return 0;
}

/* The worker's loop was woken: runs everything in the inbox, in order. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    char buf[64];
    struct message *m;

    (void)what;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&w->lock);
    m = w->inbox;
    w->inbox = NULL;
    w->inbox_tail = &w->inbox;
    pthread_mutex_unlock(&w->lock);
    while (m != NULL) {
        struct message *next = m->next;

        m->fn(w, m->arg);
        free(m);
        m = next;
    }
}

/* The inbox of a worker among several; a follower's event base too. */
static int inbox_init(struct worker *w, char *err, size_t errlen)
{
    w->inbox_tail = &w->inbox;
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        snprintf(err, errlen, "workers: cannot make a mutex");
        return -1;
    }
    if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "workers: pipe failed: %s", strerror(errno));
        return -1;
    }
    if (w->index > 0 && (w->base = event_base_new()) == NULL) {
        snprintf(err, errlen, "workers: cannot create an event base");
        return -1;
    }
    w->wake_ev = event_new(w->base, w->wake[0], EV_READ | EV_PERSIST, on_wake, w);
    if (w->wake_ev == NULL || event_add(w->wake_ev, NULL) < 0) {
        snprintf(err, errlen, "workers: cannot watch the wake-up pipe");
        return -1;
    }
    return 0;
}

/* ---- the world of the data path (world.h) ---- */

#define WORKER_OF(sw) ((struct worker *)((char *)(sw) - offsetof(struct worker, world)))

static void leader_news(struct worker *w, void *arg)
{
    struct news *n = arg;

    sp_world_news(w->proxy, n->generation, n->pool, n->server, n->what);
    free(n);
}

static void world_report(struct sp_world *sw, unsigned generation, unsigned pool,
                         unsigned server, enum sp_world_news what)
{
    struct news n = { generation, pool, server, what };

    /* Out of memory: the news is lost, as a failure nobody counted (the next one counts). */
    (void)post_copy(&WORKER_OF(sw)->set->w[0], leader_news, &n, sizeof(n));
}

static void follower_move(struct worker *w, void *arg)
{
    sp_world_move(w->proxy, arg);
    free(arg);
}

static void follower_phase(struct worker *w, void *arg)
{
    sp_world_phase(w->proxy, arg);
    free(arg);
}

static void world_tell_phase(struct sp_world *sw, const struct sp_world_phase *p)
{
    struct sp_workers *ws = WORKER_OF(sw)->set;

    for (unsigned i = 1; i < ws->n; i++) {
        /* A follower left untold stays where it is; the leader waits for it to say it is
           ready before any key moves, so the migration stops there (safe), logged. */
        if (post_copy(&ws->w[i], follower_phase, p, sizeof(*p)) < 0) {
            sp_log_error("workers: out of memory telling worker %u the migration phase of "
                         "pool %u; it stays in the one it was in", i, p->pool);
        }
    }
}

/* A follower's phase_reached, for the leader. */
struct phase_news {
    unsigned follower;
    struct sp_world_phase phase;
};

static void leader_phase_reached(struct worker *w, void *arg)
{
    struct phase_news *n = arg;

    sp_world_phase_reached(w->proxy, n->follower, &n->phase);
    free(n);
}

static void world_phase_reached(struct sp_world *sw, const struct sp_world_phase *p)
{
    struct worker *w = WORKER_OF(sw);
    struct phase_news n = { w->index, *p };

    if (post_copy(&w->set->w[0], leader_phase_reached, &n, sizeof(n)) < 0) {
        sp_log_error("workers: out of memory telling the leader that worker %u reached the "
                     "migration phase of pool %u: no key of it moves until a reload", w->index,
                     p->pool);
    }
}

static void world_tell(struct sp_world *sw, const struct sp_world_move *m)
{
    struct sp_workers *ws = WORKER_OF(sw)->set;

    for (unsigned i = 1; i < ws->n; i++) {
        if (post_copy(&ws->w[i], follower_move, m, sizeof(*m)) < 0) {
            sp_log_error("workers: out of memory telling worker %u that server %u of pool %u "
                         "moved to %s:%d; it stays where it was", i, m->server, m->pool,
                         m->host, m->port);
        }
    }
}

/* Waits (the sync lock held) until `count` reaches `n`. */
static void wait_for(struct sp_workers *ws, const unsigned *count, unsigned n)
{
    while (*count < n)
        pthread_cond_wait(&ws->changed, &ws->sync);
}

/* A follower parks until the leader releases round `arg`. */
static void park(struct worker *w, void *arg)
{
    struct sp_workers *ws = w->set;
    unsigned round = (unsigned)(uintptr_t)arg;

    pthread_mutex_lock(&ws->sync);
    ws->parked++;
    pthread_cond_broadcast(&ws->changed);
    while (ws->released != round)
        pthread_cond_wait(&ws->changed, &ws->sync);
    pthread_mutex_unlock(&ws->sync);
}

static void world_stop(struct sp_world *sw,
                       void (*fn)(struct sp_proxy *const *followers, size_t n, void *arg),
                       void *arg)
{
    struct sp_workers *ws = WORKER_OF(sw)->set;
    struct sp_proxy *followers[ws->n];
    unsigned nf = ws->n - 1, round;

    if (ws->held || !ws->started) {
        /* A reload holds them, mid-switch, or they do not run yet: the leader changes alone,
           and the reload (or the start) makes every follower take the leader's placements
           before it lets them go. */
        fn(NULL, 0, arg);
        return;
    }
    for (unsigned i = 1; i < ws->n; i++)
        followers[i - 1] = ws->w[i].proxy;
    pthread_mutex_lock(&ws->sync);
    round = ++ws->park_round;
    ws->parked = 0;
    pthread_mutex_unlock(&ws->sync);
    for (unsigned i = 1; i < ws->n; i++)
        post(&ws->w[i], park, (void *)(uintptr_t)round);
    pthread_mutex_lock(&ws->sync);
    wait_for(ws, &ws->parked, nf);
    ws->held = true;
    pthread_mutex_unlock(&ws->sync);
    fn(followers, nf, arg);
    pthread_mutex_lock(&ws->sync);
    ws->held = false;
    ws->released = round;
    pthread_cond_broadcast(&ws->changed);
    pthread_mutex_unlock(&ws->sync);
}

struct sp_workers *sp_workers_new(struct event_base *base, unsigned n, const struct sp_conf *conf,
                                  const struct sp_registry *reg,
                                  const struct sp_proxy_options *opts,
                                  const struct sp_stats_identity *id, time_t started, char *err,
                                  size_t errlen)
{
    struct sp_workers *ws = calloc(1, sizeof(*ws));
    struct sp_stats **stats = NULL;

    if (ws == NULL || (ws->w = calloc(n, sizeof(*ws->w))) == NULL) {
        free(ws);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ws->n = n;
    pthread_mutex_init(&ws->sync, NULL);
    pthread_cond_init(&ws->changed, NULL);
    if ((stats = stats_set_new(n, conf, id, started, err, errlen)) == NULL)
        goto fail;
    if (n > 1 && (ws->total = sp_stats_new(conf, id, started, err, errlen)) == NULL)
        goto fail;
    for (unsigned i = 0; i < n; i++)
        ws->w[i].wake[0] = ws->w[i].wake[1] = -1;
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &ws->w[i];
        struct sp_proxy_options o = *opts;

        w->set = ws;
        w->index = i;
        w->stats = stats[i];
        stats[i] = NULL;
        w->base = base;
        w->world.follower = i > 0;
        w->world.report = world_report;
        w->world.stop = world_stop;
        w->world.tell = world_tell;
        w->world.tell_phase = world_tell_phase;
        w->world.phase_reached = world_phase_reached;
        w->world.index = i;
        w->world.nfollowers = n - 1;
        if (n > 1 && inbox_init(w, err, errlen) < 0)
            goto fail;
        /* The leader opens each TCP address first (and checks nobody else has it). */
        o.shared_port = n > 1;
        o.follower = i > 0;
        o.world = n > 1 ? &w->world : NULL;
        w->proxy = sp_proxy_new(w->base, conf, reg, w->stats, &o, err, errlen);
        if (w->proxy == NULL)
            goto fail;
    }
    if (n > 1 && count_clients(ws, conf) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    free(stats);
    return ws;
fail:
    if (stats != NULL)
        for (unsigned i = 0; i < n; i++)
            sp_stats_free(stats[i]);
    free(stats);
    sp_workers_free(ws);
    return NULL;
}

int sp_workers_after_fork(struct sp_workers *ws, char *err, size_t errlen)
{
    for (unsigned i = 1; i < ws->n; i++) {
        if (event_reinit(ws->w[i].base) < 0) {
            snprintf(err, errlen, "re-initialising worker %u's event base after fork failed", i);
            return -1;
        }
    }
    return 0;
}

static void *follower_main(void *arg)
{
    struct worker *w = arg;
    sigset_t all;

    /* Signals are the main thread's business (signals.c). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    if (event_base_dispatch(w->base) < 0)
        sp_log_error("worker %u: event loop failed", w->index);
    return NULL;
}

int sp_workers_start(struct sp_workers *ws, char *err, size_t errlen)
{
    /* A server may have failed already (a preconnect): nobody runs yet, all take the same. */
    for (unsigned i = 1; i < ws->n; i++)
        sp_world_adopt_all(ws->w[0].proxy, ws->w[i].proxy);
    ws->started = true;
    for (unsigned i = 1; i < ws->n; i++) {
        struct worker *w = &ws->w[i];
        int rc = pthread_create(&w->thread, NULL, follower_main, w);
        char name[24];

        if (rc != 0) {
            snprintf(err, errlen, "cannot start worker %u: %s", i, strerror(rc));
            return -1;
        }
        w->running = true;
        /* What `top -H` and /proc/PID/task/TID/comm show (15 bytes: i is at most 63). */
        snprintf(name, sizeof(name), "sp-worker-%u", i);
        (void)pthread_setname_np(w->thread, name);
    }
    return 0;
}

static void stop_loop(struct worker *w, void *arg)
{
    (void)arg;
    event_base_loopbreak(w->base);
}

static void worker_fini(struct worker *w)
{
    sp_proxy_free(w->proxy);
    sp_stats_free(w->stats);
    if (w->wake_ev != NULL)
        event_free(w->wake_ev);
    if (w->index > 0 && w->base != NULL)
        event_base_free(w->base);
    for (int i = 0; i < 2; i++)
        if (w->wake[i] >= 0)
            close(w->wake[i]);
    while (w->inbox != NULL) {
        struct message *m = w->inbox;

        w->inbox = m->next;
        if (m->fn == leader_news || m->fn == follower_move)
            free(m->arg);
        free(m);
    }
    if (w->inbox_tail != NULL)
        pthread_mutex_destroy(&w->lock);
}

void sp_workers_free(struct sp_workers *ws)
{
    if (ws == NULL)
        return;
    for (unsigned i = 1; i < ws->n; i++)
        if (ws->w[i].running)
            post(&ws->w[i], stop_loop, NULL);
    for (unsigned i = 1; i < ws->n; i++)
        if (ws->w[i].running)
            pthread_join(ws->w[i].thread, NULL);
    /* Followers first: the leader's base is the caller's, freed after this. */
    for (unsigned i = ws->n; i-- > 0;)
        if (ws->w[i].set != NULL)
            worker_fini(&ws->w[i]);
    sp_stats_free(ws->total);
    free(ws->clients);
    pthread_cond_destroy(&ws->changed);
    pthread_mutex_destroy(&ws->sync);
    free(ws->w);
    free(ws);
}

unsigned sp_workers_count(const struct sp_workers *ws)
{
    return ws->n;
}

struct sp_proxy *sp_workers_leader(struct sp_workers *ws)
{
    return ws->w[0].proxy;
}

struct sp_stats *sp_workers_stats(struct sp_workers *ws)
{
    return ws->n > 1 ? ws->total : ws->w[0].stats;
}

void sp_workers_sum_stats(void *arg)
{
    struct sp_workers *ws = arg;
    struct sp_stats *parts[ws->n > 1 ? ws->n : 1];

    if (ws->n <= 1)
        return;
    for (unsigned i = 0; i < ws->n; i++)
        parts[i] = ws->w[i].stats;
    if (sp_stats_sum(ws->total, parts, ws->n) < 0)
        sp_log_error("workers: counters of different configs cannot be summed");
}


/*
 * A follower's part of a reload: prepares, says so, waits for the decision (nothing else may
 * run on its proxy in between), then switches or undoes.
 */
static void follower_reload(struct worker *w, void *arg)
{
    struct sp_workers *ws = w->set;
    struct reload_round *rd = arg;
    char err[sizeof(rd->err) - 64]; /* room for the worker's number */
    struct sp_reload *r = sp_proxy_reload_prepare(w->proxy, rd->conf, rd->reg, err, sizeof(err));
    bool commit;

    pthread_mutex_lock(&ws->sync);
    if (r == NULL && !rd->failed) {
        rd->failed = true;
        snprintf(rd->err, sizeof(rd->err), "worker %u: %s", w->index, err);
    }
    rd->prepared++;
    pthread_cond_broadcast(&ws->changed);
    while (!rd->decided)
        pthread_cond_wait(&ws->changed, &ws->sync);
    commit = rd->commit;
    pthread_mutex_unlock(&ws->sync);
    if (r != NULL && commit) {
        sp_proxy_reload_commit(r, rd->stats[w->index]);
        sp_stats_free(w->stats);
        w->stats = rd->stats[w->index];
    } else {
        sp_proxy_reload_abort(r);
    }
    pthread_mutex_lock(&ws->sync);
    rd->finished++;
    pthread_cond_broadcast(&ws->changed);
    /* The leader makes every placement its own before this worker routes again. */
    while (!rd->resumed)
        pthread_cond_wait(&ws->changed, &ws->sync);
    pthread_mutex_unlock(&ws->sync);
}

int sp_workers_reload(struct sp_workers *ws, const struct sp_conf *conf,
                      const struct sp_registry *reg, char *err, size_t errlen)
{
    struct reload_round *rd = &ws->round;
    struct sp_stats_identity id = sp_stats_identity(ws->w[0].stats);
    struct sp_stats **stats = stats_set_new(ws->n, conf, &id, sp_stats_start(ws->w[0].stats), err,
                                            errlen);
    struct sp_stats *total = NULL;
    struct sp_reload *r0;
    unsigned nf = ws->n - 1;

    if (stats == NULL)
        return -1;
    if (ws->n > 1 && (total = sp_stats_new(conf, &id, sp_stats_start(ws->w[0].stats), err,
                                           errlen)) == NULL)
        goto fail;
    /* The leader first: it opens a new TCP address before the followers join its group. */
    r0 = sp_proxy_reload_prepare(ws->w[0].proxy, conf, reg, err, errlen);
    if (r0 == NULL)
        goto fail;
    pthread_mutex_lock(&ws->sync);
    memset(rd, 0, sizeof(*rd));
    rd->conf = conf;
    rd->reg = reg;
    rd->stats = stats;
    pthread_mutex_unlock(&ws->sync);
    for (unsigned i = 1; i < ws->n; i++)
        post(&ws->w[i], follower_reload, rd);
    pthread_mutex_lock(&ws->sync);
    wait_for(ws, &rd->prepared, nf);
    ws->held = true;
    rd->decided = true;
    rd->commit = !rd->failed;
    pthread_cond_broadcast(&ws->changed);
    pthread_mutex_unlock(&ws->sync);
    if (rd->commit) {
        sp_proxy_reload_commit(r0, stats[0]);
        sp_stats_free(ws->w[0].stats);
        ws->w[0].stats = stats[0];
    } else {
        sp_proxy_reload_abort(r0);
        snprintf(err, errlen, "%s", rd->err);
    }
    pthread_mutex_lock(&ws->sync);
    wait_for(ws, &rd->finished, nf);
    pthread_mutex_unlock(&ws->sync);
    /* Each built its placements at its own moment: a retry time may have passed in between. */
    for (unsigned i = 1; rd->commit && i < ws->n; i++)
        sp_world_adopt_all(ws->w[0].proxy, ws->w[i].proxy);
    if (rd->commit && nf > 0 && count_clients(ws, conf) < 0)
        sp_log_error("reload: out of memory counting clients: client_connections is counted "
                     "against the pools of the previous configuration");
    pthread_mutex_lock(&ws->sync);
    ws->held = false;
    rd->resumed = true;
    pthread_cond_broadcast(&ws->changed);
    pthread_mutex_unlock(&ws->sync);
    if (!rd->commit)
        goto fail;
    if (nf > 0)
        sp_world_tell_phases(ws->w[0].proxy);
    sp_stats_free(ws->total);
    ws->total = total;
    free(stats); /* each worker took its own */
    return 0;
fail:
    for (unsigned i = 0; i < ws->n; i++)
        sp_stats_free(stats[i]);
    free(stats);
    sp_stats_free(total);
    return -1;
}
