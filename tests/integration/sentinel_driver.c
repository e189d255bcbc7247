/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sentinel_driver: runs the Sentinel client (proxy/sentinel) for one pool of a config and prints
 * each callback as a line, for tests/integration/test_sentinel.py.
 *
 *   sentinel_driver -c CONF [-p POOL] [-o LOG] [-v LEVEL] [--timeout MS] [--interval MS]
 *                   [--backoff-min MS] [--backoff-max MS]
 *
 * Lines on stdout (flushed at once), the time as seconds since the epoch with microseconds:
 *   TIME ready
 *   TIME master SERVER MASTER HOST:PORT WHY epoch=N sentinel=HOST:PORT
 *   TIME state SERVER MASTER up|sdown|odown sentinel=HOST:PORT
 *   TIME replica SERVER MASTER HOST:PORT|none    (the replica for reads changed)
 * WHY is first, switch or newer.  SIGTERM or SIGINT stops it (exit 0); a bad config or option
 * exits 2 with the reason on stderr.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "conf.h"
#include "report/log.h"
#include "sentinel/sentinel.h"

static void stamp(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("%lld.%06ld ", (long long)tv.tv_sec, (long)tv.tv_usec);
}

/* What the callbacks get. */
struct driver {
    const struct sp_conf_pool *pool;
    struct sp_sentinel *sn;
};

static void on_master(void *ctx, const struct sp_sentinel_master *m)
{
    static const char *const why[] = { [SP_SENTINEL_FIRST] = "first",
                                       [SP_SENTINEL_SWITCH] = "switch",
                                       [SP_SENTINEL_NEWER] = "newer" };
    (void)ctx;
    stamp();
    printf("master %s %s %s:%d %s epoch=%lld sentinel=%s\n", m->name, m->master, m->host, m->port,
           why[m->why], m->epoch, m->sentinel);
}

static void on_state(void *ctx, size_t server, const char *master, enum sp_sentinel_state state,
                     const char *sentinel)
{
    const struct driver *d = ctx;
    stamp();
    printf("state %s %s %s sentinel=%s\n", d->pool->servers[server].name, master,
           sp_sentinel_state_name(state), sentinel);
}

static void on_replicas(void *ctx, size_t server)
{
    const struct driver *d = ctx;
    const struct sp_conf_server *srv = &d->pool->servers[server];
    const char *host;
    int port;

    stamp();
    if (sp_sentinel_replica(d->sn, server, &host, &port) == 0)
        printf("replica %s %s %s:%d\n", srv->name, srv->master ? srv->master : srv->name, host,
               port);
    else
        printf("replica %s %s none\n", srv->name, srv->master ? srv->master : srv->name);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

static int usage(const char *why)
{
    fprintf(stderr, "sentinel_driver: %s\nusage: sentinel_driver -c CONF [-p POOL] [-o LOG] "
                    "[-v LEVEL] [--timeout MS] [--interval MS] [--backoff-min MS] "
                    "[--backoff-max MS]\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "timeout", required_argument, NULL, 't' },
        { "interval", required_argument, NULL, 'i' },
        { "backoff-min", required_argument, NULL, 'b' },
        { "backoff-max", required_argument, NULL, 'B' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf_path = NULL, *pool_name = NULL, *log_path = NULL;
    int level = SP_LOG_NOTICE, opt;
    struct sp_sentinel_options so = { 0 };
    char err[1024];

    while ((opt = getopt_long(argc, argv, "c:p:o:v:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 'p': pool_name = optarg; break;
        case 'o': log_path = optarg; break;
        case 'v': level = atoi(optarg); break;
        case 't': so.timeout_ms = atoi(optarg); break;
        case 'i': so.interval_ms = atoi(optarg); break;
        case 'b': so.backoff_min_ms = atoi(optarg); break;
        case 'B': so.backoff_max_ms = atoi(optarg); break;
        default: return usage("bad option");
        }
    }
    if (!conf_path || optind != argc)
        return usage("-c CONF is required, and nothing else");
    if (sp_log_init(level, log_path, err, sizeof(err)) != 0)
        return usage(err);
    struct sp_conf *conf = NULL;
    if (sp_conf_load(conf_path, NULL, NULL, &conf, err, sizeof(err)) != 0)
        return usage(err);
    const struct sp_conf_pool *pool = pool_name ? sp_conf_find_pool(conf, pool_name)
                                                : &conf->pools[0];
    if (!pool || !sp_conf_pool_is_sentinel(pool)) {
        sp_conf_free(conf);
        return usage("no such Sentinel pool");
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct event_base *base = event_base_new();
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct driver d = { pool, NULL };
    struct sp_sentinel_callbacks cb = { on_master, on_state, &d };
    struct sp_sentinel *sn = sp_sentinel_new(base, pool, &cb, &so, err, sizeof(err));
    int rc = 0;
    if (!sn) {
        rc = usage(err);
    } else {
        d.sn = sn;
        sp_sentinel_on_replicas(sn, on_replicas);
        evsignal_add(sigterm, NULL);
        evsignal_add(sigint, NULL);
        stamp();
        printf("ready\n");
        event_base_dispatch(base);
    }
    sp_sentinel_free(sn);
    event_free(sigterm);
    event_free(sigint);
    event_base_free(base);
    sp_conf_free(conf);
    sp_log_deinit();
    return rc;
}
