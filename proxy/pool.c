/*
 * Pools: the proxy object, one listener per pool, the servers, placement and ejection.
 *
 * Ejection follows nutcracker 0.5.0 (nc_server.c server_failure / server_pool_update): every
 * closed or failed server connection counts one failure; at server_failure_limit the server is
 * out for server_retry_timeout ms and the placer is rebuilt from the live servers only, exactly
 * as if the config lacked that server (placement.h).  Any reply resets the count.  The first
 * request after the earliest retry time rebuilds the placer with the server back in.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core.h"
#include "log.h"

int64_t sp_usec_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

uint64_t sp_loop_usec(struct event_base *base)
{
    struct timeval tv;

    event_base_gettimeofday_cached(base, &tv);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

const void *sp_key_bytes(struct sp_proxy *proxy, struct evbuffer *buf, size_t off, size_t len)
{
    struct evbuffer_ptr pos;
    struct evbuffer_iovec vec;

    if (len == 0)
        return "";
    if (evbuffer_ptr_set(buf, &pos, off, EVBUFFER_PTR_SET) < 0)
        return NULL;
    if (evbuffer_peek(buf, (ev_ssize_t)len, &pos, &vec, 1) == 1 && vec.iov_len >= len)
        return vec.iov_base;
    if (len > proxy->keycap) {
        char *k = realloc(proxy->keybuf, len);

        if (k == NULL)
            return NULL;
        proxy->keybuf = k;
        proxy->keycap = len;
    }
    if (evbuffer_copyout_from(buf, &pos, proxy->keybuf, len) != (ev_ssize_t)len)
        return NULL;
    return proxy->keybuf;
}

/*
 * Resolves a config address into `ss`.  Returns 0, or -1 with err set.  Blocking (startup only).
 */
static int resolve(const struct sp_conf_addr *addr, struct sockaddr_storage *ss, socklen_t *len,
                   char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    int rc;

    memset(ss, 0, sizeof(*ss));
    if (addr->is_unix) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;

        if (strlen(addr->host) >= sizeof(un->sun_path)) {
            snprintf(err, errlen, "%s: unix socket path too long", addr->text);
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, addr->host);
        *len = (socklen_t)sizeof(*un);
        return 0;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", addr->port);
    rc = getaddrinfo(addr->host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "%s: cannot resolve '%s': %s", addr->text, addr->host,
                 gai_strerror(rc));
        if (res != NULL)
            freeaddrinfo(res);
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Builds the placer from the servers whose retry time has passed. */
static void pool_rebuild(struct sp_pool *pool)
{
    int64_t now = sp_usec_now();
    struct sp_placer *placer;
    char err[256];
    size_t nlive = 0;
    bool changed = false;

    pool->next_rebuild = 0;
    for (size_t i = 0; i < pool->nservers; i++) {
        struct sp_server *s = &pool->servers[i];
        bool live = true;

        if (pool->conf->auto_eject_hosts) {
            if (s->next_retry <= now) {
                s->next_retry = 0;
            } else {
                live = false;
                if (pool->next_rebuild == 0 || s->next_retry < pool->next_rebuild)
                    pool->next_rebuild = s->next_retry;
            }
        }
        if (pool->live[i] != live)
            changed = true;
        pool->live[i] = live;
        nlive += live;
    }
    pool->nlive = nlive;
    if (!changed || nlive == 0)
        return;
    placer = sp_placer_new(pool->proxy->reg, pool->conf, pool->live, err, sizeof(err));
    if (placer == NULL) {
        sp_log_error("pool '%s': rebuilding placement failed: %s", pool->conf->name, err);
        return;
    }
    sp_placer_free(pool->placer);
    pool->placer = placer;
    sp_log_notice("pool '%s': %zu of %zu servers live", pool->conf->name, nlive,
                  pool->nservers);
}

struct sp_server *sp_pool_locate(struct sp_pool *pool, const void *key, size_t len,
                                 const char **reason)
{
    int idx;

    if (pool->next_rebuild != 0 && sp_usec_now() > pool->next_rebuild)
        pool_rebuild(pool);
    if (pool->nlive == 0) {
        *reason = strerror(ECONNREFUSED);
        return NULL;
    }
    idx = sp_placer_locate(pool->placer, key, len);
    if (idx < 0) {
        *reason = strerror(ECONNREFUSED);
        return NULL;
    }
    return &pool->servers[idx];
}

void sp_pool_server_failure(struct sp_server *server)
{
    struct sp_pool *pool = server->pool;
    int64_t now;

    if (!pool->conf->auto_eject_hosts || pool->proxy->stopping)
        return;
    server->failure_count++;
    if (server->failure_count < (uint32_t)pool->conf->server_failure_limit)
        return;
    now = sp_usec_now();
    server->failure_count = 0;
    server->next_retry = now + (int64_t)pool->conf->server_retry_timeout * 1000;
    server->st->server_ejected_at = now;
    pool->st->server_ejects++;
    sp_log_notice("pool '%s': ejecting server '%s' for %d ms", pool->conf->name,
                  server->conf->name, pool->conf->server_retry_timeout);
    pool_rebuild(pool);
}

void sp_pool_server_ok(struct sp_server *server)
{
    server->failure_count = 0;
    server->next_retry = 0;
}

/* The listener's back-off is over: accept again. */
static void pool_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    struct sp_pool *pool = arg;

    (void)fd;
    (void)what;
    evconnlistener_enable(pool->listener);
}

/*
 * accept() failed.  Out of descriptors, the pending connection would wake us at once again and
 * spin: stop accepting for a moment instead (nutcracker spins here).
 */
static void pool_accept_error(struct evconnlistener *lev, void *arg)
{
    struct sp_pool *pool = arg;
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval pause = { 0, 100 * 1000 };

    sp_log_error("pool '%s': accept on %s failed: %s", pool->conf->name,
                 pool->conf->listen.text, strerror(err));
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        evconnlistener_disable(lev);
        evtimer_add(pool->accept_pause, &pause);
    }
}

/* Opens the pool's listening socket.  Returns 0 or -1 with err set. */
static int pool_listen(struct sp_pool *pool, char *err, size_t errlen)
{
    const struct sp_conf_addr *addr = &pool->conf->listen;
    struct sockaddr_storage ss;
    socklen_t sslen;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;

    if (resolve(addr, &ss, &sslen, err, errlen) < 0)
        return -1;
    if (addr->is_unix) {
        /* A socket file left by an earlier run would make bind fail. */
        struct stat sb;

        if (stat(addr->host, &sb) == 0 && S_ISSOCK(sb.st_mode))
            unlink(addr->host);
    } else {
        flags |= LEV_OPT_REUSEABLE;
    }
    pool->listener = evconnlistener_new_bind(pool->proxy->base, sp_client_accept, pool, flags,
                                             pool->conf->backlog, (struct sockaddr *)&ss,
                                             (int)sslen);
    if (pool->listener == NULL) {
        snprintf(err, errlen, "listen on %s failed: %s", addr->text, strerror(errno));
        return -1;
    }
    /* nutcracker counts its listening sockets as connections too (monitoring compares). */
    pool->proxy->gst->total_connections++;
    pool->proxy->gst->curr_connections++;
    pool->accept_pause = evtimer_new(pool->proxy->base, pool_accept_resume, pool);
    if (pool->accept_pause == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    evconnlistener_set_error_cb(pool->listener, pool_accept_error);
    if (addr->is_unix) {
        pool->unix_path = strdup(addr->host);
        if (pool->unix_path == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (addr->perm != 0 && chmod(addr->host, (mode_t)addr->perm) < 0) {
            snprintf(err, errlen, "chmod %o %s failed: %s", addr->perm, addr->host,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int pool_init(struct sp_proxy *proxy, struct sp_pool *pool, unsigned idx, char *err,
                     size_t errlen)
{
    const struct sp_conf_pool *cp = &proxy->conf->pools[idx];
    char why[256];

    pool->proxy = proxy;
    pool->conf = cp;
    pool->idx = idx;
    pool->proto = &sp_proto_redis;
    TAILQ_INIT(&pool->clients);
    pool->st = proxy->stats != NULL ? sp_stats_pool(proxy->stats, idx) : &pool->own_st;
    if (!cp->redis) {
        snprintf(err, errlen, "pool '%s': the memcached protocol is not supported yet", cp->name);
        return -1;
    }
    pool->nservers = cp->nservers;
    pool->servers = calloc(cp->nservers, sizeof(*pool->servers));
    pool->live = calloc(cp->nservers, sizeof(*pool->live));
    if (pool->servers == NULL || pool->live == NULL) {
        snprintf(err, errlen, "pool '%s': out of memory", cp->name);
        return -1;
    }
    for (size_t i = 0; i < cp->nservers; i++) {
        struct sp_server *s = &pool->servers[i];

        s->pool = pool;
        s->conf = &cp->servers[i];
        s->idx = (unsigned)i;
        s->st = proxy->stats != NULL ? sp_stats_server(proxy->stats, idx, i) : &s->own_st;
        s->conns = calloc((size_t)(cp->server_connections > 0 ? cp->server_connections : 1),
                          sizeof(*s->conns));
        if (s->conns == NULL) {
            snprintf(err, errlen, "pool '%s': out of memory", cp->name);
            return -1;
        }
        if (resolve(&s->conf->addr, &s->addr, &s->addrlen, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "pool '%s': server '%s': %s", cp->name, s->conf->name, why);
            return -1;
        }
        pool->live[i] = true;
    }
    pool->nlive = cp->nservers;
    pool->placer = sp_placer_new(proxy->reg, cp, NULL, why, sizeof(why));
    if (pool->placer == NULL) {
        snprintf(err, errlen, "pool '%s': %s", cp->name, why);
        return -1;
    }
    if (pool_listen(pool, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "pool '%s': %s", cp->name, why);
        return -1;
    }
    return 0;
}

static void pool_fini(struct sp_pool *pool)
{
    struct sp_client *cl;

    if (pool->accept_pause != NULL)
        event_free(pool->accept_pause);
    if (pool->listener != NULL) {
        evconnlistener_free(pool->listener);
        pool->proxy->gst->curr_connections--;
    }
    if (pool->unix_path != NULL) {
        unlink(pool->unix_path);
        free(pool->unix_path);
    }
    while ((cl = TAILQ_FIRST(&pool->clients)) != NULL)
        sp_client_close(cl);
    for (size_t i = 0; pool->servers != NULL && i < pool->nservers; i++) {
        if (pool->servers[i].conns != NULL)
            sp_server_close_all(&pool->servers[i]);
    }
    for (size_t i = 0; pool->servers != NULL && i < pool->nservers; i++)
        free(pool->servers[i].conns);
    free(pool->servers);
    free(pool->live);
    sp_placer_free(pool->placer);
}

static void pool_preconnect(struct sp_pool *pool)
{
    const char *reason;

    if (!pool->conf->preconnect)
        return;
    for (size_t i = 0; i < pool->nservers; i++)
        (void)sp_server_conn(&pool->servers[i], 0, &reason); /* failures counted and logged */
}

struct sp_proxy *sp_proxy_new(struct event_base *base, const struct sp_conf *conf,
                              const struct sp_registry *reg, struct sp_stats *stats,
                              const struct sp_proxy_options *opt, char *err, size_t errlen)
{
    struct sp_proxy *proxy = calloc(1, sizeof(*proxy));
    size_t maxservers = 1;

    if (proxy == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    proxy->base = base;
    proxy->conf = conf;
    proxy->reg = reg;
    proxy->stats = stats;
    proxy->gst = stats != NULL ? sp_stats_global(stats) : &proxy->own_gst;
    /* -m sizes each read, as nutcracker's mbuf does (its smallest, 512, is allowed here too). */
    proxy->read_size = opt != NULL && opt->mbuf_size > 0 ? opt->mbuf_size
                                                         : SP_PROXY_DEFAULT_MBUF_SIZE;
    proxy->hwm = opt != NULL && opt->high_watermark > 0 ? opt->high_watermark
                                                        : SP_PROXY_DEFAULT_HIGH_WATERMARK;
    TAILQ_INIT(&proxy->free_reqs);
    TAILQ_INIT(&proxy->free_busy);
    if (sp_flusher_init(&proxy->flusher, base) < 0) {
        snprintf(err, errlen, "out of memory");
        sp_proxy_free(proxy);
        return NULL;
    }
    proxy->scratch = evbuffer_new();
    proxy->discard = evbuffer_new();
    for (size_t p = 0; p < conf->npools; p++) {
        if (conf->pools[p].nservers > maxservers)
            maxservers = conf->pools[p].nservers;
    }
    proxy->srv_frag = calloc(maxservers, sizeof(*proxy->srv_frag));
    proxy->frag_out = calloc(maxservers, sizeof(*proxy->frag_out));
    proxy->frag_rep = calloc(maxservers, sizeof(*proxy->frag_rep));
    proxy->pools = calloc(conf->npools ? conf->npools : 1, sizeof(*proxy->pools));
    if (proxy->scratch == NULL || proxy->discard == NULL || proxy->srv_frag == NULL ||
        proxy->frag_out == NULL || proxy->frag_rep == NULL || proxy->pools == NULL) {
        snprintf(err, errlen, "out of memory");
        sp_proxy_free(proxy);
        return NULL;
    }
    memset(proxy->srv_frag, 0xff, maxservers * sizeof(*proxy->srv_frag)); /* no fragment */
    for (size_t p = 0; p < conf->npools; p++) {
        proxy->npools = p + 1;
        if (pool_init(proxy, &proxy->pools[p], (unsigned)p, err, errlen) < 0) {
            sp_proxy_free(proxy);
            return NULL;
        }
    }
    for (size_t p = 0; p < proxy->npools; p++)
        pool_preconnect(&proxy->pools[p]);
    return proxy;
}

void sp_proxy_free(struct sp_proxy *proxy)
{
    if (proxy == NULL)
        return;
    proxy->stopping = true;
    for (size_t p = 0; p < proxy->npools; p++)
        pool_fini(&proxy->pools[p]);
    free(proxy->pools);
    sp_flusher_fini(&proxy->flusher);
    sp_req_free_all(proxy);
    sp_client_cache_free(proxy);
    if (proxy->scratch != NULL)
        evbuffer_free(proxy->scratch);
    if (proxy->discard != NULL)
        evbuffer_free(proxy->discard);
    free(proxy->keybuf);
    free(proxy->srv_frag);
    free(proxy->frag_out);
    free(proxy->frag_rep);
    free(proxy->key_srv);
    free(proxy);
}
