/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client connections: parse requests, route them, write replies back in request order.
 *
 * Every request gets a place on the client's queue when it is parsed; replies leave only from the
 * head, so a reply for request k is written after those for 1..k-1 whatever order the servers
 * answer in (deliver.c writes them).  Request bytes move from the client's input straight into a
 * server connection's output (evbuffer_remove_buffer moves the chains), reply bytes the other way.
 *
 * Back-pressure (flow.c): a client stops being read while its unanswered request bytes or its
 * unwritten reply bytes exceed the high watermark, or while a server connection it feeds has more
 * than the watermark waiting to be written; it is resumed from the flusher when they drain
 * (client_on_resume).  Memory per client is thus bounded by about two watermarks plus one
 * request, whatever the peers do.
 *
 * A client is only freed from its own event or write callback, never from code that another
 * connection's callback runs, so nothing up the stack holds a dangling pointer.
 *
 * Memory: an idle client (nothing in flight, nothing buffered) is the connection and a few
 * words.  Its work state (cl->busy: request queue, back-pressure links), its buffers and a
 * request parser block are taken from per-proxy caches when bytes arrive and given back once it
 * is idle again: at the end of client_process and when its output drained.  A parser block that
 * holds part of a request stays with the client until the rest arrives.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sockios.h> /* SIOCOUTQ */
#endif

#include "client.h"
#include "conf.h"
#include "conn.h"
#include "core.h"
#include "deliver.h"
#include "flow.h"
#include "forward.h"
#include "hold.h"
#include "keybytes.h"
#include "migration.h"
#include "parse.h"
#include "pool.h"
#include "proto.h"
#include "report/log.h"
#include "report/stats.h"
#include "req.h"
#include "sconn.h"
#include "server.h"

static void client_on_read(void *arg);
static void client_on_drained(void *arg);
static void client_on_end(void *arg, enum sp_conn_end how, int err);
static void client_on_resume(void *arg);
static void client_process(struct sp_client *cl);

static const struct sp_conn_ops client_ops = {
    .on_read = client_on_read,
    .on_drained = client_on_drained,
    .on_connected = NULL,
    .on_end = client_on_end,
    .on_resume = client_on_resume,
};

static bool client_can_read(const struct sp_client *cl)
{
    return !cl->paused && !cl->mig_paused &&
           (cl->busy == NULL || cl->busy->blocked_on == NULL) && !cl->closing;
}

/* ---- work state: taken when work arrives, given back when idle (client_cache.c) ---- */

/* Gives `cl` its work state and output buffer.  Returns 0, or -1 when out of memory. */
static int client_busy(struct sp_client *cl)
{
    struct sp_client_busy *b;

    if (cl->busy != NULL)
        return 0;
    /* sconn.c measures a busy client's output: it must exist (conn.h: buffers on demand). */
    if (sp_conn_out(&cl->conn) == NULL)
        return -1;
    if ((b = sp_busy_get(cl->pool->proxy)) == NULL)
        return -1;
    b->client = cl;
    cl->busy = b;
    return 0;
}

/* Gives back the work state and the empty buffers once nothing is in flight or buffered. */
static void client_try_idle(struct sp_client *cl)
{
    struct sp_client_busy *b = cl->busy;

    if (b == NULL || cl->in_process || !TAILQ_EMPTY(&b->reqs) || b->parser != NULL ||
        b->blocked_on != NULL || !TAILQ_EMPTY(&b->stalled) || sp_conn_in_len(&cl->conn) > 0 ||
        sp_conn_out_len(&cl->conn) > 0)
        return;
    cl->busy = NULL;
    sp_busy_put(cl->pool->proxy, b);
    sp_conn_shed(&cl->conn);
}

/*
 * Flow control let the client go again (flow.c, from the flusher): reading is enabled when
 * nothing else holds it back, and what is buffered already is framed.
 */
static void client_on_resume(void *arg)
{
    struct sp_client *cl = arg;

    if (cl->lingering || !client_can_read(cl))
        return;
    sp_conn_set_reading(&cl->conn, true);
    if (sp_conn_in_len(&cl->conn) > 0)
        client_process(cl);
    client_try_idle(cl);
}

/*
 * Holds `req` (never sent: `len` bytes at the head of `in`) until its server's master is back or
 * replaced (hold.c).  It is in flight meanwhile, for back-pressure.  Returns 0, or -1 when out
 * of memory (nothing taken).
 */
static int client_hold(struct sp_client *cl, struct sp_req *req, struct sp_server *server,
                       struct evbuffer *in, size_t len, const char *reason)
{
    if (sp_hold_prepare(req) < 0)
        return -1;
    evbuffer_remove_buffer(in, req->resend, len);
    req->len = len;
    cl->busy->inflight += sp_req_cost(req);
    sp_hold_push(server, req, reason);
    return 0;
}

int sp_forward_to(struct sp_client *cl, struct sp_req *req, struct sp_server *server,
                  struct evbuffer *in, size_t len)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;
    const char *reason = NULL;
    struct sp_sconn *sc = NULL;
    struct evbuffer *out;

    /* Behind requests already waiting for this server's master: in order, never ahead. */
    if (server->nheld == 0 || !sp_hold_enabled(server))
        sc = sp_server_conn(server, sp_client_affinity(cl), &reason);
    if (sc == NULL && sp_hold_enabled(server) &&
        client_hold(cl, req, server, in, len, reason) == 0)
        return 0;
    if (sc == NULL) {
        evbuffer_drain(in, len);
        SP_STAT_ADD(pool->st->forward_error, 1);
        sp_req_fail(pool, req, reason != NULL ? reason : strerror(ENOMEM));
        return -1;
    }
    out = sp_sconn_out(sc);
    evbuffer_remove_buffer(in, out, len);
    sp_conn_flush_later(&sc->conn);
    req->len = len;
    cl->busy->inflight += sp_req_cost(req);
    sp_sconn_enqueue(sc, req);
    if (req->done) {
        sp_req_done(proxy, req); /* noreply */
        return 0;
    }
    if (evbuffer_get_length(out) > proxy->hwm)
        sp_flow_block(sc, cl);
    return 0;
}

/*
 * A single-key request in a pool whose keys move (migrate.c): waiting proxies serve the key from
 * its source owner; armed ones from `target`, moving it there first when its owner changes, and
 * behind any earlier request of the client still parked.
 */
static void client_forward_moving(struct sp_client *cl, struct sp_req *req,
                                  const struct sp_msg *msg, struct evbuffer *in,
                                  const void *key, size_t klen)
{
    struct sp_migration *m = cl->pool->mig;
    struct sp_server *source, *target;
    int from;

    if (m->state != SP_MIG_ARMED) {
        source = sp_mig_source(m, key, klen);
        if (source == NULL) {
            evbuffer_drain(in, msg->len);
            SP_STAT_ADD(cl->pool->st->forward_error, 1);
            sp_req_fail(cl->pool, req, strerror(ECONNREFUSED));
            return;
        }
        sp_forward_to(cl, req, source, in, msg->len);
        return;
    }
    target = sp_mig_owners(m, key, klen, &from);
    source = from >= 0 ? m->src[from] : NULL;
    if (target == NULL) {
        evbuffer_drain(in, msg->len);
        SP_STAT_ADD(cl->pool->st->forward_error, 1);
        sp_req_fail(cl->pool, req, strerror(ECONNREFUSED));
        return;
    }
    if ((source == NULL || source == target) && cl->busy->nparked == 0) {
        sp_forward_to(cl, req, target, in, msg->len);
        return;
    }
    if (sp_hold_prepare(req) < 0) {
        evbuffer_drain(in, msg->len);
        sp_req_fail(cl->pool, req, strerror(ENOMEM));
        return;
    }
    req->len = msg->len;
    cl->busy->inflight += sp_req_cost(req);
    req->park_to = target;
    sp_mig_park(m, req);
    if (source != NULL && source != target) {
        /* The key's bytes are in `in` still: the move request copies them. */
        const void *k = sp_key_bytes(cl->pool->proxy, in, msg->keys[0].off, klen);

        if (k == NULL || sp_mig_move(m, req, source, target, k, klen) < 0) {
            req->move_failed = true;
            evbuffer_add_printf(req->reply, "the key could not be moved to its new server");
        }
    }
    evbuffer_remove_buffer(in, req->resend, msg->len);
    sp_mig_release(m); /* nothing to wait for when the move could not even start */
}

/* Routes a single-key request by keys[0]. */
static void client_forward(struct sp_client *cl, struct sp_req *req, const struct sp_msg *msg,
                           struct evbuffer *in)
{
    struct sp_pool *pool = cl->pool;
    const char *reason = NULL; /* strerror is costly (gettext): only on the failure path */
    const void *key = "";
    size_t klen = 0;
    struct sp_server *server = NULL;

    if (pool->nservers > 1) {
        /* One-server pools never hash (placement.h): skip fetching the key too. */
        klen = msg->keys[0].len;
        key = sp_key_bytes(pool->proxy, in, msg->keys[0].off, klen);
    }
    if (pool->mig != NULL && key != NULL) {
        client_forward_moving(cl, req, msg, in, key, klen);
        return;
    }
    if (key != NULL)
        server = sp_pool_locate(pool, key, klen, &reason);
    if (server == NULL) {
        evbuffer_drain(in, msg->len);
        SP_STAT_ADD(pool->st->forward_error, 1);
        sp_req_fail(pool, req, reason != NULL ? reason : strerror(ENOMEM));
        return;
    }
    sp_forward_to(cl, req, server, in, msg->len);
}

/* A reply the proxy makes itself: straight to the output when nothing is queued before it. */
static void client_local(struct sp_client *cl, const struct sp_msg *msg, struct evbuffer *in,
                         struct evbuffer *local)
{
    struct sp_proxy *proxy = cl->pool->proxy;
    struct sp_req *req;

    evbuffer_drain(in, msg->len);
    if (msg->flags & SP_MSG_CLOSE) {
        cl->closing = true; /* nothing after QUIT or lost framing is read */
        sp_conn_set_reading(&cl->conn, false);
    } else if (TAILQ_EMPTY(&cl->busy->reqs)) {
        sp_buf_move(cl->conn.out, local);
        sp_conn_flush_later(&cl->conn);
        return;
    }
    req = sp_req_get(proxy);
    if (req == NULL) {
        evbuffer_drain(local, evbuffer_get_length(local));
        cl->closing = true; /* cannot keep the order any more: give up on this client */
        sp_conn_set_reading(&cl->conn, false);
        return;
    }
    evbuffer_add_buffer(req->reply, local);
    req->client = cl;
    req->done = true;
    req->close_after = (msg->flags & SP_MSG_CLOSE) != 0;
    TAILQ_INSERT_TAIL(&cl->busy->reqs, req, cq);
    sp_req_done(proxy, req);
}

/*
 * Out of memory for the client's state: it is closed once what it has is answered (the flush
 * makes sure the drained callback comes even when nothing is in flight).
 */
static void client_give_up(struct sp_client *cl)
{
    cl->closing = true;
    sp_conn_set_reading(&cl->conn, false);
    sp_conn_flush_later(&cl->conn);
}

/*
 * Frames and dispatches every complete request in the input, while reading is allowed.  The
 * parser block is lent for the loop; it stays with the client only if a request is partial.
 */
static void client_process(struct sp_client *cl)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;
    struct evbuffer *in = cl->conn.in;
    struct evbuffer *local = proxy->scratch;
    struct sp_proto_client pc;

    if (cl->in_process || in == NULL)
        return; /* the outer loop re-checks the conditions */
    if (client_busy(cl) < 0 ||
        (cl->busy->parser == NULL &&
         (cl->busy->parser = sp_parser_lend(proxy, pool->proto)) == NULL)) {
        evbuffer_drain(in, evbuffer_get_length(in));
        client_give_up(cl);
        return;
    }
    pc.pool = pool->conf;
    pc.state = cl->busy->parser;
    cl->in_process = true;
    while (client_can_read(cl) && evbuffer_get_length(in) > 0) {
        struct sp_msg msg;
        struct sp_req *req;
        struct evbuffer *src;
        enum sp_parse rc;

        if (pool->mig != NULL && sp_mig_pauses(pool->mig)) {
            /* This proxy may not touch a key that moves yet (survey.c): read nothing. */
            cl->mig_paused = true;
            sp_conn_set_reading(&cl->conn, false);
            break;
        }

        pc.consumed = cl->consumed;
        pc.authenticated = cl->authenticated;
        rc = pool->proto->parse_request(&pc, in, &msg, local);
        cl->authenticated = pc.authenticated;
        if (rc == SP_PARSE_AGAIN)
            break;
        if (rc == SP_PARSE_ERROR) {
            /* Framing is lost: answer what came before, then the error, then close. */
            msg.len = evbuffer_get_length(in);
            msg.flags = SP_MSG_CLOSE;
            SP_STAT_ADD(pool->st->client_err, 1);
            client_local(cl, &msg, in, local);
            break;
        }
        cl->consumed += msg.len;
        proxy->activity++;
        if (msg.kind == SP_MSG_LOCAL) {
            client_local(cl, &msg, in, local);
            sp_flow_check_backlog(cl);
            continue;
        }
        req = sp_req_get(proxy);
        if (req == NULL) {
            client_give_up(cl);
            break;
        }
        req->client = cl;
        req->cmd = msg.cmd;
        req->noreply = (msg.flags & SP_MSG_NOREPLY) != 0;
        req->readonly = (msg.flags & SP_MSG_READONLY) != 0;
        TAILQ_INSERT_TAIL(&cl->busy->reqs, req, cq);
        src = in;
        if (msg.body != NULL) {
            /* Rewritten by the protocol: forward its bytes, not the client's. */
            evbuffer_drain(in, msg.len);
            src = msg.body;
            msg.len = evbuffer_get_length(src);
        }
        if ((msg.kind == SP_MSG_MULTI && msg.nkeys > 1) || msg.kind == SP_MSG_ALL)
            sp_multikey_forward(cl, req, &msg, src);
        else
            client_forward(cl, req, &msg, src);
        sp_flow_check_backlog(cl);
    }
    cl->in_process = false;
    if (pool->proto->parser_idle(cl->busy->parser)) {
        sp_parser_return(proxy, cl->busy->parser);
        cl->busy->parser = NULL;
    }
    client_try_idle(cl);
}

/*
 * Lets go of everything that links the client to the data path: back-pressure links, the work
 * state, the parser block.  Unanswered requests are swallowed when their replies come.
 */
static void client_drop_work(struct sp_client *cl)
{
    struct sp_proxy *proxy = cl->pool->proxy;
    struct sp_req *req;

    sp_flow_unblock(cl);
    if (cl->busy != NULL)
        cl->busy->nparked = 0; /* parked ones go out ownerless (migrate.c) */
    while (cl->busy != NULL && (req = TAILQ_FIRST(&cl->busy->reqs)) != NULL) {
        TAILQ_REMOVE(&cl->busy->reqs, req, cq);
        if (req->done)
            sp_req_put(proxy, req);
        else
            req->client = NULL;
    }
    sp_flow_resume_stalled(cl); /* their replies for this client are now swallowed */
    if (cl->busy != NULL) {
        if (cl->busy->parser != NULL)
            sp_parser_return(proxy, cl->busy->parser);
        sp_busy_put(proxy, cl->busy);
        cl->busy = NULL;
    }
}

/* Frees the client; its unanswered requests are swallowed when their replies come. */
static void client_free(struct sp_client *cl)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;

    client_drop_work(cl);
    sp_conn_fini(&cl->conn);
    TAILQ_REMOVE(&pool->clients, cl, link);
    pool->nclients--;
    if (pool->all_clients != NULL)
        __atomic_sub_fetch(pool->all_clients, 1, __ATOMIC_RELAXED);
    proxy->nclients--;
    SP_STAT_ADD(pool->st->client_connections, -1);
    SP_STAT_ADD(proxy->gst->curr_connections, -1);
    free(cl);
    if (proxy->nclients == 0)
        sp_req_trim(proxy, SP_REQ_FREE_IDLE);
}

void sp_client_close(struct sp_client *cl)
{
    client_free(cl);
}

/*
 * A closing client's last reply is out.  Closing the socket while the peer's requests after a
 * QUIT or a framing error sit unread in it would make the kernel send a reset, which throws
 * away the replies it has not delivered yet (a slow reader loses its tail).  So the write side
 * is shut (the peer reads every reply, then EOF) and input is discarded until the peer closes
 * too.  Holds no more than an idle client does.
 */
static void client_linger(struct sp_client *cl)
{
    client_drop_work(cl);
    if (shutdown(cl->conn.fd, SHUT_WR) < 0) {
        client_free(cl);
        return;
    }
    cl->lingering = true;
    if (cl->conn.in != NULL)
        evbuffer_drain(cl->conn.in, evbuffer_get_length(cl->conn.in));
    sp_conn_shed(&cl->conn);
    sp_conn_set_reading(&cl->conn, true);
}

/* Nothing in flight and no reply left to write: closing the client breaks no promise. */
static bool client_owes_nothing(const struct sp_client *cl)
{
    return (cl->busy == NULL || TAILQ_EMPTY(&cl->busy->reqs)) && sp_conn_out_len(&cl->conn) == 0;
}

/*
 * Has the peer acknowledged everything written to the client's socket?  Then closing it loses
 * nothing, even if input arriving later makes the kernel answer with a reset.  Unknown: no.
 */
static bool client_output_acked(const struct sp_client *cl)
{
#ifdef SIOCOUTQ
    int unacked = 0;

    return ioctl(cl->conn.fd, SIOCOUTQ, &unacked) == 0 && unacked == 0;
#else
    (void)cl;
    return false;
#endif
}

/*
 * A retired client has all its replies written: it is closed now if the peer has them all, else
 * its write side is shut (the peer reads them, then EOF) and the retire timer comes back.
 */
static void client_retire_close(struct sp_client *cl)
{
    if (client_output_acked(cl)) {
        client_free(cl);
        return;
    }
    if (!cl->lingering)
        client_linger(cl);
}

void sp_client_retire(struct sp_client *cl)
{
    if (cl->lingering || client_owes_nothing(cl)) {
        client_retire_close(cl); /* nothing owed: a partial request is dropped */
        return;
    }
    if (cl->closing)
        return; /* the drained callback closes it */
    cl->closing = true; /* nothing more is read: what was sent is answered, then the close */
    sp_conn_set_reading(&cl->conn, false);
    sp_conn_flush_later(&cl->conn); /* the drained callback then closes it */
}

static void client_on_read(void *arg)
{
    struct sp_client *cl = arg;

    if (cl->lingering) {
        evbuffer_drain(cl->conn.in, evbuffer_get_length(cl->conn.in));
        sp_conn_shed(&cl->conn);
        return;
    }
    client_process(cl);
}

static void client_on_drained(void *arg)
{
    struct sp_client *cl = arg;

    if (cl->lingering)
        return;
    if (cl->closing) {
        /* QUIT answered, lost framing reported, or a half-closed peer has all its replies. */
        if (cl->busy == NULL || TAILQ_EMPTY(&cl->busy->reqs)) {
            if (cl->pool->retired)
                client_retire_close(cl);
            else
                client_linger(cl);
            return;
        }
        /* Replies still due may sit behind a server connection this client's output stalled:
           it must read again now, or they never come and the client (and every client sharing
           that connection) hangs.  A delivered reply flushes, so this callback comes again. */
        sp_flow_resume_stalled(cl);
        return;
    }
    sp_flow_resume_stalled(cl);
    sp_flow_check_backlog(cl);
    client_try_idle(cl);
}

static void client_on_end(void *arg, enum sp_conn_end how, int err)
{
    struct sp_client *cl = arg;
    struct sp_pool *pool = cl->pool;

    (void)err;
    if (cl->lingering) {
        client_free(cl); /* the close it asked for: not counted as an EOF or an error */
        return;
    }
    if (how == SP_CONN_EOF) {
        SP_STAT_ADD(pool->st->client_eof, 1);
        /* A half-closed peer still gets the replies to what it sent. */
        cl->closing = true;
        sp_conn_set_reading(&cl->conn, false);
        if (client_owes_nothing(cl))
            client_free(cl);
        return;
    }
    SP_STAT_ADD(pool->st->client_err, 1);
    client_free(cl);
}

/*
 * Room for one more client under client_connections?  With several workers the count is the
 * process's (one atomic counter: taken here, given back by client_unadmit or client_free).
 */
static bool client_admit(struct sp_pool *pool)
{
    long limit = pool->conf->client_connections;

    if (pool->all_clients == NULL)
        return limit <= 0 || pool->nclients < (size_t)limit;
    if (__atomic_add_fetch(pool->all_clients, 1, __ATOMIC_RELAXED) <= limit || limit <= 0)
        return true;
    __atomic_sub_fetch(pool->all_clients, 1, __ATOMIC_RELAXED);
    return false;
}

static void client_unadmit(struct sp_pool *pool)
{
    if (pool->all_clients != NULL)
        __atomic_sub_fetch(pool->all_clients, 1, __ATOMIC_RELAXED);
}

/*
 * Over client_connections: the new connection gets the protocol's error (as Redis: "max number
 * of clients reached") and is closed; the log gets at most one line a second about it.
 */
static void client_refuse(struct sp_pool *pool, evutil_socket_t fd)
{
    struct evbuffer *msg = pool->proxy->scratch;
    unsigned char junk[512];
    char reply[128];
    unsigned dropped = 0;
    ev_ssize_t n;

    evbuffer_drain(msg, evbuffer_get_length(msg));
    pool->proto->error_reply(msg, "max number of clients reached");
    n = evbuffer_remove(msg, reply, sizeof(reply));
    evbuffer_drain(msg, evbuffer_get_length(msg));
    /* What the client sent already would make close() reset the connection, and the reset can
       overtake the error: take it first. */
    while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
        ;
    if (n > 0)
        (void)send(fd, reply, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    evutil_closesocket(fd);
    if (sp_log_limit_pass(&pool->refuse_log, sp_loop_usec(pool->proxy->base), 1000, &dropped))
        sp_log_warn("pool '%s': client_connections limit %d reached: connection refused "
                    "(%u more refused since the last report)", pool->conf->name,
                    pool->conf->client_connections, dropped);
}

void sp_client_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    struct sp_pool *pool = arg;
    struct sp_proxy *proxy = pool->proxy;
    const struct sp_proto *proto = pool->proto;
    struct sp_proto_client pc = { 0 };
    struct sp_client *cl;
    int one = 1;

    (void)lev;
    (void)socklen;
    if (!client_admit(pool)) {
        client_refuse(pool, fd);
        return;
    }
    cl = calloc(1, sizeof(*cl));
    if (cl == NULL || sp_conn_init(&cl->conn, proxy->base, &proxy->flusher, fd, proxy->read_size,
                                   &client_ops, cl) < 0) {
        evutil_closesocket(fd);
        free(cl);
        client_unadmit(pool);
        return;
    }
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    cl->pool = pool;
    pc.pool = pool->conf;
    proto->client_init(&pc);
    cl->authenticated = pc.authenticated;
    TAILQ_INSERT_TAIL(&pool->clients, cl, link);
    pool->nclients++;
    proxy->nclients++;
    SP_STAT_ADD(pool->st->client_connections, 1);
    SP_STAT_ADD(proxy->gst->total_connections, 1);
    SP_STAT_ADD(proxy->gst->curr_connections, 1);
}
