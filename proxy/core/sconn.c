/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server connections: persistent, pipelined, one timeout timer each.
 *
 * Requests from any number of clients are appended to a connection's output buffer as they are
 * parsed; the flusher (conn.h) writes the buffer once at the end of the loop iteration, so
 * everything queued in one iteration leaves in one write.  Replies come back in send order and
 * are matched to the head of `sent`.  The timer tracks the oldest request's deadline, so timeouts
 * cost one timer per connection, not one per request; while a slow client stalls the connection
 * (back-pressure, flow.c) it tracks the stall limit instead, and time spent stalled does not
 * count against the requests, whose replies may be waiting unread.  Each framed reply goes to its
 * request through deliver.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conn.h"
#include "core.h"
#include "deliver.h"
#include "flow.h"
#include "hold.h"
#include "migration.h"
#include "parse.h"
#include "pool.h"
#include "proto.h"
#include "reason.h"
#include "report/log.h"
#include "report/stats.h"
#include "req.h"
#include "sconn.h"
#include "server.h"

enum sconn_end {
    SCONN_EOF,
    SCONN_ERR,
    SCONN_TIMEOUT,
    SCONN_SETUP,    /* the server refused AUTH / SELECT: its failure, but no outage */
    SCONN_CLOSED,   /* by the proxy (failover, reload, shutdown): not the server's failure */
    SCONN_MOVED,    /* by the proxy, the server moved (failover): what never left is held */
};

static void sconn_process(struct sp_sconn *sc);
static void sconn_on_read(void *arg);
static void sconn_on_drained(void *arg);
static void sconn_on_connected(void *arg);
static void sconn_on_end(void *arg, enum sp_conn_end how, int err);
static void sconn_on_resume(void *arg);
static void sconn_timer_cb(evutil_socket_t fd, short what, void *arg);

static const struct sp_conn_ops sconn_ops = {
    .on_read = sconn_on_read,
    .on_drained = sconn_on_drained,
    .on_connected = sconn_on_connected,
    .on_end = sconn_on_end,
    .on_resume = sconn_on_resume,
};

static struct sp_proxy *sconn_proxy(const struct sp_sconn *sc)
{
    return sc->server->pool->proxy;
}

/* Frees the connection object; the caller has emptied its queue. */
static void sconn_destroy(struct sp_sconn *sc)
{
    const struct sp_proto *proto = sc->server->pool->proto;

    sp_flow_sconn_gone(sc);
    if (sc->timer != NULL)
        event_free(sc->timer);
    if (sc->held_out != NULL)
        evbuffer_free(sc->held_out);
    sp_conn_fini(&sc->conn);
    proto->server_fini(sc->pstate);
    free(sc);
}

/*
 * Takes the requests at the tail of `failed` that never left the proxy - all their bytes are
 * still in the connection's output (or held back behind its AUTH / SELECT) - off the list, with
 * their bytes, onto the server's hold queue (hold.c).  A request partly written stays: the server
 * got part of it, and the rest never comes, but whether a request ran is the server's to say.
 */
static void sconn_hold_unsent(struct sp_sconn *sc, struct sp_req_q *failed, const char *reason)
{
    struct evbuffer *buf = sc->held_out != NULL ? sc->held_out : sc->conn.out;
    size_t avail = buf != NULL ? evbuffer_get_length(buf) : 0, total = 0;
    struct sp_req *req, *first = NULL;
    struct sp_req_q unsent;

    TAILQ_FOREACH_REVERSE(req, failed, sp_req_q, sq) {
        if (total + req->len > avail)
            break;
        total += req->len;
        first = req;
    }
    if (first == NULL)
        return;
    evbuffer_drain(buf, avail - total); /* what went out, or is partly out */
    TAILQ_INIT(&unsent);
    while ((req = first) != NULL) {
        first = TAILQ_NEXT(req, sq);
        TAILQ_REMOVE(failed, req, sq);
        if (sp_hold_prepare(req) < 0) {
            evbuffer_drain(buf, req->len);
            TAILQ_INSERT_TAIL(failed, req, sq); /* out of memory: fails as before */
            continue;
        }
        evbuffer_remove_buffer(buf, req->resend, req->len);
        req->sconn = NULL;
        TAILQ_INSERT_TAIL(&unsent, req, sq);
    }
    sp_hold_requeue(sc->server, &unsent, reason);
}

/*
 * Closes `sc`: every request waiting on it is failed with `reason` - but for those that never
 * left, which wait for a failover when the pool holds (sconn_hold_unsent) - stats are updated as
 * nutcracker's server_close does, and (unless the proxy closed it) the failure counts towards
 * ejection.
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

    sp_log_info("close server '%s' connection: %s (%zu requests in flight)", server->name,
                reason, sc->nsent);
    if (sc->connected) {
        SP_STAT_ADD(st->server_connections, -1);
    }
    SP_STAT_ADD(proxy->gst->curr_connections, -1);
    if (how == SCONN_EOF)
        SP_STAT_ADD(st->server_eof, 1);
    else if (how == SCONN_TIMEOUT)
        SP_STAT_ADD(st->server_timedout, 1);
    else if (how == SCONN_ERR || how == SCONN_SETUP)
        SP_STAT_ADD(st->server_err, 1);

    server->conns[sc->slot] = NULL;
    TAILQ_INIT(&failed);
    TAILQ_CONCAT(&failed, &sc->sent, sq);
    if (how != SCONN_SETUP && how != SCONN_CLOSED && sp_hold_enabled(server))
        sconn_hold_unsent(sc, &failed, reason);
    SP_STAT_ADD(st->in_queue, -(int64_t)nunsent);
    SP_STAT_ADD(st->in_queue_bytes, -(int64_t)sc->unsent_bytes);
    SP_STAT_ADD(st->out_queue, -(int64_t)(sc->nsent - nunsent));
    sc->nsent = 0;
    sc->unsent_count = 0;
    sc->unsent_bytes = 0;
    sp_flow_release_waiters(sc); /* they resume from the flusher, with this connection gone */
    sconn_destroy(sc);

    while ((req = TAILQ_FIRST(&failed)) != NULL) {
        TAILQ_REMOVE(&failed, req, sq);
        if (nunsent == 0)
            SP_STAT_ADD(st->out_queue_bytes, -(int64_t)req->len);
        else
            nunsent--; /* the newest requests are the unsent ones: counted above */
        req->sconn = NULL;
        sp_req_fail(pool, req, reason);
    }
    if (how != SCONN_CLOSED && how != SCONN_MOVED)
        sp_pool_server_failure(server);
}

/* Sets TCP options on a fresh server socket (failures only cost latency: ignored). */
static void sconn_sockopts(struct sp_sconn *sc)
{
    evutil_socket_t fd = sc->conn.fd;
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
    int err;

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
    sc->timer = evtimer_new(proxy->base, sconn_timer_cb, sc);
    if (sc->timer == NULL || sp_conn_init(&sc->conn, proxy->base, &proxy->flusher, -1,
                                          proxy->read_size, &sconn_ops, sc) < 0) {
        sconn_destroy(sc);
        *reason = strerror(ENOMEM);
        return NULL;
    }
    sc->nswallow = proto->server_hello(pool->conf, sc->conn.out);
    if (sc->nswallow > 0 && (sc->held_out = evbuffer_new()) == NULL) {
        sconn_destroy(sc);
        *reason = strerror(ENOMEM);
        return NULL;
    }
    SP_STAT_ADD(proxy->gst->total_connections, 1);
    if (sp_conn_connect(&sc->conn, (struct sockaddr *)&server->addr, server->addrlen) < 0) {
        err = errno;
        sp_log_warn("connect to server '%s' failed: %s", server->name, strerror(err));
        *reason = strerror(err);
        sconn_destroy(sc);
        SP_STAT_ADD(server->st->server_err, 1);
        sp_pool_server_failure(server);
        return NULL;
    }
    server->conns[slot] = sc;
    SP_STAT_ADD(proxy->gst->curr_connections, 1);
    sconn_sockopts(sc);
    /* Named before any request: other proxies tell this one's phase by it (survey.c). */
    if (proto->name_request != NULL)
        sp_sconn_name(proxy, sc, sp_pool_conn_name(pool));
    return sc;
}

struct evbuffer *sp_sconn_out(struct sp_sconn *sc)
{
    return sc->held_out != NULL ? sc->held_out : sc->conn.out;
}

/*
 * Makes room for slot `slot` in server->conns.  The table grows with the slots clients use (at
 * most one per client descriptor), never to server_connections at once: that may be 2^31.
 * Returns 0 or -1 (out of memory).
 */
static int server_reserve_slot(struct sp_server *server, unsigned slot)
{
    unsigned limit = (unsigned)server->pool->conf->server_connections;
    unsigned cap = server->nconns ? server->nconns : 1;
    struct sp_sconn **c;

    if (slot < server->nconns)
        return 0;
    while (cap <= slot)
        cap = cap > UINT_MAX / 2 ? UINT_MAX : cap * 2;
    if (limit > 0 && cap > limit)
        cap = limit;
    c = realloc(server->conns, (size_t)cap * sizeof(*c));
    if (c == NULL)
        return -1;
    memset(c + server->nconns, 0, (size_t)(cap - server->nconns) * sizeof(*c));
    server->conns = c;
    server->nconns = cap;
    return 0;
}

struct sp_sconn *sp_server_conn(struct sp_server *server, unsigned affinity,
                                const char **reason)
{
    unsigned n = (unsigned)server->pool->conf->server_connections;
    unsigned slot = n > 1 ? affinity % n : 0;

    if (server_reserve_slot(server, slot) < 0) {
        *reason = strerror(ENOMEM);
        return NULL;
    }
    if (server->conns[slot] != NULL)
        return server->conns[slot];
    return sconn_open(server, slot, reason);
}

void sp_sconn_timer_in(struct sp_sconn *sc, uint64_t usec)
{
    struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };

    evtimer_add(sc->timer, &tv);
}

/* The proxy's own requests (names, surveys, moves) are not the clients': not counted. */
static bool counted(const struct sp_req *req)
{
    return req->on_reply == NULL;
}

/* A request of the proxy's own whose answer does not matter (a connection's name). */
static void ignore_reply(struct sp_proxy *proxy, struct sp_req *req)
{
    sp_req_put(proxy, req);
}

void sp_sconn_name(struct sp_proxy *proxy, struct sp_sconn *sc, const char *name)
{
    struct sp_req *req = sp_req_get(proxy);
    struct evbuffer *out = sp_sconn_out(sc);
    size_t before = evbuffer_get_length(out);

    if (req == NULL)
        return; /* unnamed: a survey then sees nothing of this connection */
    req->on_reply = ignore_reply;
    req->cmd = SP_CMD_NONE;
    sc->server->pool->proto->name_request(out, name);
    req->len = evbuffer_get_length(out) - before;
    sp_conn_flush_later(&sc->conn);
    sp_sconn_enqueue(sc, req);
}

void sp_sconn_enqueue(struct sp_sconn *sc, struct sp_req *req)
{
    struct sp_server_stats *st = sc->server->st;
    int timeout = sc->server->pool->conf->timeout;

    req->sconn = sc;
    if (counted(req)) {
        SP_STAT_ADD(st->requests, 1);
        SP_STAT_ADD(st->request_bytes, (int64_t)req->len);
    }
    if (req->noreply) {
        /* Nothing will come back to match: the request is complete once handed over. */
        req->sconn = NULL;
        req->done = true;
        return;
    }
    req->stall_base = sp_flow_stall_clock(sc, sp_loop_usec(sconn_proxy(sc)->base));
    TAILQ_INSERT_TAIL(&sc->sent, req, sq);
    req->sent_at = sp_loop_usec(sconn_proxy(sc)->base);
    sc->nsent++;
    sc->unsent_count++;
    sc->unsent_bytes += req->len;
    SP_STAT_ADD(st->in_queue, 1);
    SP_STAT_ADD(st->in_queue_bytes, (int64_t)req->len);
    if (timeout > 0) {
        req->deadline = sp_loop_usec(sconn_proxy(sc)->base) + (uint64_t)timeout * 1000;
        if (!evtimer_pending(sc->timer, NULL))
            sp_sconn_timer_in(sc, (uint64_t)timeout * 1000);
    }
}

void sp_server_close_all(struct sp_server *server, const char *reason, bool hold)
{
    for (unsigned i = 0; i < server->nconns; i++) {
        struct sp_sconn *sc = server->conns[i];

        if (sc != NULL)
            sconn_close(sc, hold ? SCONN_MOVED : SCONN_CLOSED, reason);
    }
    free(server->conns);
    server->conns = NULL;
    server->nconns = 0;
}

size_t sp_server_close_idle(struct sp_server *server)
{
    size_t busy = 0;

    for (unsigned i = 0; i < server->nconns; i++) {
        struct sp_sconn *sc = server->conns[i];

        if (sc == NULL)
            continue;
        if (sc->nsent == 0 && sc->held_out == NULL && sp_conn_out_len(&sc->conn) == 0)
            sconn_close(sc, SCONN_CLOSED, "server removed by a reload");
        else
            busy++;
    }
    return busy;
}

/* Dequeues the request a reply belongs to and accounts for it. */
static struct sp_req *sconn_dequeue(struct sp_sconn *sc, size_t reply_len)
{
    struct sp_server_stats *st = sc->server->st;
    struct sp_req *req = TAILQ_FIRST(&sc->sent);

    SP_ASSERT(req != NULL && sc->nsent > 0 && sc->unsent_count <= sc->nsent);
    TAILQ_REMOVE(&sc->sent, req, sq);
    if (sc->unsent_count == sc->nsent) {
        /* A reply to a request the write callback has not confirmed yet: it was sent. */
        sc->unsent_count--;
        sc->unsent_bytes -= req->len;
        SP_STAT_ADD(st->in_queue, -1);
        SP_STAT_ADD(st->in_queue_bytes, -(int64_t)req->len);
    } else {
        SP_STAT_ADD(st->out_queue, -1);
        SP_STAT_ADD(st->out_queue_bytes, -(int64_t)req->len);
    }
    sc->nsent--;
    if (counted(req)) {
        SP_STAT_ADD(st->responses, 1);
        SP_STAT_ADD(st->response_bytes, (int64_t)reply_len);
        sp_latency_observe(&st->latency, req->sent_at, sp_loop_usec(sconn_proxy(sc)->base));
    }
    req->sconn = NULL;
    return req;
}

/*
 * One reply to the connection setup (AUTH, SELECT).  An error closes the connection: a request
 * must never run on a connection whose AUTH or SELECT failed (it would read or write another
 * database, e.g. another tenant's db 0), and none has been sent (they wait in held_out).  After
 * the last reply the held requests go out.  Returns 0, or -1 when the connection was closed.
 */
static int sconn_hello_reply(struct sp_sconn *sc, struct evbuffer *in, const struct sp_reply *rep)
{
    const struct sp_pool *pool = sc->server->pool;
    struct sp_refusal r;
    char why[SP_REASON_MAX];

    if (rep->is_error) {
        /* The server's own error code stays first: clients dispatch on it (WRONGPASS). */
        pool->proto->hello_refusal(pool->conf, sc->nswallow, in, rep, &r);
        sp_reason_coded(why, sizeof(why), r.code,
                        "%s%s(shardproxy: server '%s' refused the connection setup (%s))",
                        r.text, r.text[0] != '\0' ? " " : "", sc->server->name, r.step);
        sp_log_error("pool '%s': server '%s' refused the connection setup (%s): %s %s",
                     pool->conf->name, sc->server->name, r.step, r.code, r.text);
        sconn_close(sc, SCONN_SETUP, why);
        return -1;
    }
    evbuffer_drain(in, rep->len + rep->extra);
    if (--sc->nswallow == 0 && sc->held_out != NULL) {
        evbuffer_add_buffer(sc->conn.out, sc->held_out);
        evbuffer_free(sc->held_out);
        sc->held_out = NULL;
        sp_conn_flush_later(&sc->conn);
    }
    return 0;
}

/* Matches every complete reply in the input to its request, until a client stalls us. */
static void sconn_process(struct sp_sconn *sc)
{
    struct sp_server *server = sc->server;
    const struct sp_proto *proto = server->pool->proto;
    struct evbuffer *in = sc->conn.in;
    struct sp_reply rep;
    bool answered = false;

    while (sc->stalled_by == NULL) {
        struct sp_req *head = TAILQ_FIRST(&sc->sent);
        /* A fragment's reply is merged later: have its elements' bounds found while framing. */
        bool want_parts = sc->nswallow == 0 && head != NULL && head->parent != NULL;
        uint32_t cmd = sc->nswallow == 0 && head != NULL ? head->cmd : SP_CMD_NONE;
        enum sp_parse rc = proto->parse_reply(sc->pstate, in, cmd, want_parts, &rep);
        struct sp_req *req;
        struct sp_client *cl;

        if (rc == SP_PARSE_AGAIN)
            break;
        if (rc == SP_PARSE_ERROR) {
            sp_log_warn("pool '%s': server '%s' sent a reply that cannot be framed; closing its "
                        "connection", server->pool->conf->name, server->name);
            sconn_close(sc, SCONN_ERR, "Protocol error from server");
            return;
        }
        if (sc->nswallow > 0) {
            if (sconn_hello_reply(sc, in, &rep) < 0)
                return; /* refused: closed */
            continue;
        }
        if (TAILQ_EMPTY(&sc->sent)) {
            sp_log_warn("pool '%s': server '%s' sent a reply nobody asked for; closing its "
                        "connection", server->pool->conf->name, server->name);
            sconn_close(sc, SCONN_ERR, "Unexpected reply from server");
            return;
        }
        req = sconn_dequeue(sc, rep.len + rep.extra);
        answered = true;
        cl = req->parent != NULL ? req->parent->client : req->client;
        sp_deliver_reply(sconn_proxy(sc), req, in, &rep);
        sp_flow_after_reply(sc, cl); /* a slow reader may stall us */
        evbuffer_drain(in, rep.extra); /* the protocol's own trailer: nobody's reply */
    }
    if (answered) {
        sp_pool_server_ok(server);
        /* The timer tracks the new oldest request (re-armed lazily when it fires). */
    }
}

static void sconn_on_read(void *arg)
{
    sconn_process(arg);
}

/* No longer stalled (flow.c): the replies that waited are framed now. */
static void sconn_on_resume(void *arg)
{
    sconn_process(arg);
}

static void sconn_on_drained(void *arg)
{
    struct sp_sconn *sc = arg;
    struct sp_server_stats *st = sc->server->st;

    if (sc->held_out != NULL)
        return; /* only the hello went: the requests wait for its replies */
    /* Output fully written: everything queued so far is on the wire. */
    SP_STAT_ADD(st->in_queue, -(int64_t)sc->unsent_count);
    SP_STAT_ADD(st->in_queue_bytes, -(int64_t)sc->unsent_bytes);
    SP_STAT_ADD(st->out_queue, (int64_t)sc->unsent_count);
    SP_STAT_ADD(st->out_queue_bytes, (int64_t)sc->unsent_bytes);
    sc->unsent_count = 0;
    sc->unsent_bytes = 0;
    sp_flow_release_waiters(sc);
}

static void sconn_on_connected(void *arg)
{
    struct sp_sconn *sc = arg;

    sc->connected = true;
    SP_STAT_ADD(sc->server->st->server_connections, 1);
    sp_log_info("connected to server '%s'", sc->server->name);
    sp_hold_on_connected(sc->server); /* a master back at its address: what waited goes */
}

static void sconn_on_end(void *arg, enum sp_conn_end how, int err)
{
    struct sp_sconn *sc = arg;

    if (how == SP_CONN_EOF) {
        sconn_close(sc, SCONN_EOF, "Connection closed by server");
        return;
    }
    sconn_close(sc, SCONN_ERR, strerror(err != 0 ? err : ECONNRESET));
}

static void sconn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sp_sconn *sc = arg;
    struct sp_req *oldest = TAILQ_FIRST(&sc->sent);
    uint64_t now = sp_loop_usec(sconn_proxy(sc)->base);

    (void)fd;
    (void)what;
    if (sc->stalled_by != NULL) {
        sp_flow_stall_timer(sc, now); /* flow.c: the timer tracks the stall meanwhile */
        return;
    }
    /* 1 ms slack: the timer and the cached clock round differently. */
    if (oldest == NULL || sc->server->pool->conf->timeout <= 0)
        return;
    if (oldest->deadline <= now + 1000) {
        sconn_close(sc, SCONN_TIMEOUT, strerror(ETIMEDOUT));
        return;
    }
    sp_sconn_timer_in(sc, oldest->deadline - now);
}
