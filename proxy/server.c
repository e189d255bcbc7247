/*
 * Server connections: persistent, pipelined, one timeout timer each.
 *
 * Requests from any number of clients are appended to a connection's output buffer as they are
 * parsed; libevent writes the buffer when the socket is writable, so everything queued in one
 * loop iteration leaves in one write.  Replies come back in send order and are matched to the
 * head of `sent`.  The timer always tracks the oldest request's deadline, so timeouts cost one
 * timer per connection, not one per request.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"

enum sconn_end {
    SCONN_EOF,
    SCONN_ERR,
    SCONN_TIMEOUT,
};

static void sconn_read_cb(struct bufferevent *bev, void *arg);
static void sconn_write_cb(struct bufferevent *bev, void *arg);
static void sconn_event_cb(struct bufferevent *bev, short what, void *arg);
static void sconn_timer_cb(evutil_socket_t fd, short what, void *arg);

static struct sp_proxy *sconn_proxy(const struct sp_sconn *sc)
{
    return sc->server->pool->proxy;
}

/* Resumes every client that waited for this connection's output to drain. */
static void sconn_release_waiters(struct sp_sconn *sc)
{
    struct sp_client_q waiting;
    struct sp_client *cl;

    if (TAILQ_EMPTY(&sc->waiters))
        return;
    /* Resumed clients may block on this connection again: work on a detached list. */
    TAILQ_INIT(&waiting);
    TAILQ_CONCAT(&waiting, &sc->waiters, wlink);
    while ((cl = TAILQ_FIRST(&waiting)) != NULL) {
        TAILQ_REMOVE(&waiting, cl, wlink);
        cl->blocked_on = NULL;
        sp_client_unblock(cl);
    }
}

/* Frees the connection object; the caller has emptied its queue. */
static void sconn_destroy(struct sp_sconn *sc)
{
    const struct sp_proto *proto = sc->server->pool->proto;

    if (sc->timer != NULL)
        event_free(sc->timer);
    if (sc->bev != NULL)
        bufferevent_free(sc->bev);
    proto->server_fini(sc->pstate);
    free(sc);
}

/*
 * Closes `sc`: every request waiting on it is failed with `reason`, stats are updated as
 * nutcracker's server_close does, and the failure counts towards ejection.
 */
static void sconn_close(struct sp_sconn *sc, enum sconn_end how, const char *reason)
{
    struct sp_server *server = sc->server;
    struct sp_pool *pool = server->pool;
    struct sp_proxy *proxy = pool->proxy;
    struct sp_server_stats *st = server->st;
    struct sp_req_q failed;
    struct sp_req *req;
    size_t nunsent = sc->unsent_count;

    sp_log_info("close server '%s' connection: %s (%zu requests in flight)", server->conf->name,
                reason, sc->nsent);
    if (sc->connected) {
        st->server_connections--;
    }
    proxy->gst->curr_connections--;
    if (how == SCONN_EOF)
        st->server_eof++;
    else if (how == SCONN_TIMEOUT)
        st->server_timedout++;
    else
        st->server_err++;

    server->conns[sc->slot] = NULL;
    TAILQ_INIT(&failed);
    TAILQ_CONCAT(&failed, &sc->sent, sq);
    st->in_queue -= (int64_t)nunsent;
    st->in_queue_bytes -= (int64_t)sc->unsent_bytes;
    st->out_queue -= (int64_t)(sc->nsent - nunsent);
    sc->nsent = 0;
    sc->unsent_count = 0;
    sc->unsent_bytes = 0;
    /* Waiters may forward again right away: this connection must be gone by then. */
    sconn_release_waiters(sc);
    sconn_destroy(sc);

    while ((req = TAILQ_FIRST(&failed)) != NULL) {
        TAILQ_REMOVE(&failed, req, sq);
        if (nunsent == 0)
            st->out_queue_bytes -= (int64_t)req->len;
        else
            nunsent--; /* the newest requests are the unsent ones: counted above */
        req->sconn = NULL;
        sp_req_fail(pool, req, reason);
    }
    sp_pool_server_failure(server);
}

/* Sets TCP options on a fresh server socket (failures only cost latency: ignored). */
static void sconn_sockopts(struct sp_sconn *sc)
{
    evutil_socket_t fd = bufferevent_getfd(sc->bev);
    int one = 1;

    if (fd < 0 || sc->server->addr.ss_family == AF_UNIX)
        return;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (sc->server->pool->conf->tcpkeepalive)
        (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/* Starts a connection in slot `slot`; NULL with *reason on immediate failure. */
static struct sp_sconn *sconn_open(struct sp_server *server, unsigned slot, const char **reason)
{
    struct sp_pool *pool = server->pool;
    struct sp_proxy *proxy = pool->proxy;
    const struct sp_proto *proto = pool->proto;
    struct sp_sconn *sc;
    int rc, err;

    sc = calloc(1, sizeof(*sc) + proto->server_state_size);
    if (sc == NULL) {
        *reason = strerror(ENOMEM);
        return NULL;
    }
    sc->server = server;
    sc->slot = slot;
    sc->pstate = sc + 1;
    TAILQ_INIT(&sc->sent);
    TAILQ_INIT(&sc->waiters);
    proto->server_init(sc->pstate);
    sc->bev = bufferevent_socket_new(proxy->base, -1, BEV_OPT_CLOSE_ON_FREE);
    sc->timer = evtimer_new(proxy->base, sconn_timer_cb, sc);
    if (sc->bev == NULL || sc->timer == NULL) {
        sconn_destroy(sc);
        *reason = strerror(ENOMEM);
        return NULL;
    }
    bufferevent_set_max_single_read(sc->bev, proxy->read_size);
    bufferevent_setcb(sc->bev, sconn_read_cb, sconn_write_cb, sconn_event_cb, sc);
    sc->nswallow = proto->server_hello(pool->conf, bufferevent_get_output(sc->bev));

    /* libevent reports an immediate refusal through the event callback, synchronously: the
       callback sees no connection yet (bev unset) and leaves the error in errno. */
    server->conns[slot] = NULL;
    errno = 0;
    rc = bufferevent_socket_connect(sc->bev, (struct sockaddr *)&server->addr,
                                    (int)server->addrlen);
    err = errno;
    if (rc < 0 || server->conns[slot] == sc) {
        /* conns[slot] == sc marks the synchronous error callback (see sconn_event_cb). */
        server->conns[slot] = NULL;
        if (err == 0)
            err = ECONNREFUSED;
        sp_log_warn("connect to server '%s' failed: %s", server->conf->name, strerror(err));
        *reason = strerror(err);
        sconn_destroy(sc);
        proxy->gst->total_connections++;
        server->st->server_err++;
        sp_pool_server_failure(server);
        return NULL;
    }
    server->conns[slot] = sc;
    proxy->gst->total_connections++;
    proxy->gst->curr_connections++;
    sconn_sockopts(sc);
    bufferevent_enable(sc->bev, EV_READ | EV_WRITE);
    return sc;
}

struct sp_sconn *sp_server_conn(struct sp_server *server, const char **reason)
{
    unsigned n = (unsigned)server->pool->conf->server_connections;
    unsigned slot = 0;
    struct sp_sconn *sc;

    if (n > 1) {
        slot = server->next_conn++ % n;
    }
    sc = server->conns[slot];
    if (sc != NULL)
        return sc;
    return sconn_open(server, slot, reason);
}

void sp_sconn_enqueue(struct sp_sconn *sc, struct sp_req *req)
{
    struct sp_server_stats *st = sc->server->st;
    int timeout = sc->server->pool->conf->timeout;

    req->sconn = sc;
    st->requests++;
    st->request_bytes += (int64_t)req->len;
    if (req->noreply) {
        /* Nothing will come back to match: the request is complete once handed over. */
        req->sconn = NULL;
        req->done = true;
        return;
    }
    TAILQ_INSERT_TAIL(&sc->sent, req, sq);
    sc->nsent++;
    sc->unsent_count++;
    sc->unsent_bytes += req->len;
    st->in_queue++;
    st->in_queue_bytes += (int64_t)req->len;
    if (timeout > 0) {
        req->deadline = sp_loop_usec(sconn_proxy(sc)->base) + (uint64_t)timeout * 1000;
        if (!evtimer_pending(sc->timer, NULL)) {
            struct timeval tv = { timeout / 1000, (timeout % 1000) * 1000 };

            evtimer_add(sc->timer, &tv);
        }
    }
}

void sp_sconn_block_client(struct sp_sconn *sc, struct sp_client *cl)
{
    if (cl->blocked_on != NULL)
        return;
    cl->blocked_on = sc;
    TAILQ_INSERT_TAIL(&sc->waiters, cl, wlink);
    bufferevent_disable(cl->bev, EV_READ);
}

void sp_sconn_unblock_client(struct sp_client *cl)
{
    if (cl->blocked_on == NULL)
        return;
    TAILQ_REMOVE(&cl->blocked_on->waiters, cl, wlink);
    cl->blocked_on = NULL;
}

void sp_server_close_all(struct sp_server *server)
{
    unsigned n = (unsigned)server->pool->conf->server_connections;

    for (unsigned i = 0; i < n; i++) {
        struct sp_sconn *sc = server->conns[i];

        if (sc == NULL)
            continue;
        sconn_close(sc, SCONN_ERR, "Proxy shutting down");
    }
}

/* Dequeues the request a reply belongs to and accounts for it. */
static struct sp_req *sconn_dequeue(struct sp_sconn *sc, size_t reply_len)
{
    struct sp_server_stats *st = sc->server->st;
    struct sp_req *req = TAILQ_FIRST(&sc->sent);

    TAILQ_REMOVE(&sc->sent, req, sq);
    if (sc->unsent_count == sc->nsent) {
        /* A reply to a request the write callback has not confirmed yet: it was sent. */
        sc->unsent_count--;
        sc->unsent_bytes -= req->len;
        st->in_queue--;
        st->in_queue_bytes -= (int64_t)req->len;
    } else {
        st->out_queue--;
        st->out_queue_bytes -= (int64_t)req->len;
    }
    sc->nsent--;
    st->responses++;
    st->response_bytes += (int64_t)reply_len;
    req->sconn = NULL;
    return req;
}

/* Hands `len` reply bytes at the head of `in` to `req`. */
static void sconn_deliver(struct sp_proxy *proxy, struct sp_req *req, struct evbuffer *in,
                          size_t len)
{
    if (req->parent == NULL && req->client == NULL) {
        evbuffer_drain(in, len); /* client gone: swallow */
        sp_req_put(proxy, req);
        return;
    }
    evbuffer_remove_buffer(in, req->reply, len);
    req->done = true;
    if (req->parent != NULL)
        sp_multikey_frag_done(proxy, req);
    else
        sp_client_req_done(proxy, req);
}

static void sconn_read_cb(struct bufferevent *bev, void *arg)
{
    struct sp_sconn *sc = arg;
    struct sp_server *server = sc->server;
    const struct sp_proto *proto = server->pool->proto;
    struct sp_proxy *proxy = sconn_proxy(sc);
    struct evbuffer *in = bufferevent_get_input(bev);
    struct sp_reply rep;
    bool answered = false;

    for (;;) {
        enum sp_parse rc = proto->parse_reply(sc->pstate, in, &rep);
        struct sp_req *req;

        if (rc == SP_PARSE_AGAIN)
            break;
        if (rc == SP_PARSE_ERROR) {
            sconn_close(sc, SCONN_ERR, "Protocol error from server");
            return;
        }
        if (sc->nswallow > 0) {
            if (rep.is_error)
                sp_log_warn("server '%s' refused the connection setup (AUTH/SELECT)",
                            server->conf->name);
            evbuffer_drain(in, rep.len);
            sc->nswallow--;
            continue;
        }
        if (TAILQ_EMPTY(&sc->sent)) {
            sconn_close(sc, SCONN_ERR, "Unexpected reply from server");
            return;
        }
        req = sconn_dequeue(sc, rep.len);
        answered = true;
        sconn_deliver(proxy, req, in, rep.len);
    }
    if (answered) {
        sp_pool_server_ok(server);
        /* The timer tracks the new oldest request (re-armed lazily when it fires). */
    }
}

static void sconn_write_cb(struct bufferevent *bev, void *arg)
{
    struct sp_sconn *sc = arg;
    struct sp_server_stats *st = sc->server->st;

    (void)bev;
    /* Output fully written: everything queued so far is on the wire. */
    st->in_queue -= (int64_t)sc->unsent_count;
    st->in_queue_bytes -= (int64_t)sc->unsent_bytes;
    st->out_queue += (int64_t)sc->unsent_count;
    st->out_queue_bytes += (int64_t)sc->unsent_bytes;
    sc->unsent_count = 0;
    sc->unsent_bytes = 0;
    sconn_release_waiters(sc);
}

static void sconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct sp_sconn *sc = arg;
    struct sp_server *server = sc->server;
    int err = EVUTIL_SOCKET_ERROR();

    (void)bev;
    if (server->conns[sc->slot] != sc) {
        /* Synchronous failure inside bufferevent_socket_connect: let sconn_open handle it. */
        server->conns[sc->slot] = sc;
        errno = err;
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        sc->connected = true;
        server->st->server_connections++;
        sp_log_info("connected to server '%s'", server->conf->name);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        sconn_close(sc, SCONN_EOF, "Connection closed by server");
        return;
    }
    if (err == 0)
        err = ECONNRESET;
    sconn_close(sc, SCONN_ERR, strerror(err));
}

static void sconn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_sconn *sc = arg;
    struct sp_req *oldest = TAILQ_FIRST(&sc->sent);
    uint64_t now;

    (void)fd;
    (void)what;
    if (oldest == NULL)
        return;
    now = sp_loop_usec(sconn_proxy(sc)->base);
    /* 1 ms slack: the timer and the cached clock round differently. */
    if (oldest->deadline <= now + 1000) {
        sconn_close(sc, SCONN_TIMEOUT, strerror(ETIMEDOUT));
        return;
    }
    uint64_t left = oldest->deadline - now;
    struct timeval tv = { (time_t)(left / 1000000), (suseconds_t)(left % 1000000) };

    evtimer_add(sc->timer, &tv);
}
