/*
 * Client connections: parse requests, route them, write replies back in request order.
 *
 * Every request gets a place on the client's queue when it is parsed; replies leave only from the
 * head, so a reply for request k is written after those for 1..k-1 whatever order the servers
 * answer in.  Request bytes move from the client's input straight into a server connection's
 * output (evbuffer_remove_buffer moves the chains), reply bytes the other way.
 *
 * Back-pressure: a client stops being read while its unanswered request bytes or its unwritten
 * reply bytes exceed the high watermark, or while a server connection it feeds has more than the
 * watermark waiting to be written; reading resumes when they drain.  Memory per client is thus
 * bounded by about two watermarks plus one request, whatever the peers do.
 *
 * A client is only freed from its own event or write callback, never from code that another
 * connection's callback runs, so nothing up the stack holds a dangling pointer.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "log.h"

static void client_on_read(void *arg);
static void client_on_drained(void *arg);
static void client_on_end(void *arg, enum sp_conn_end how, int err);
static void client_process(struct sp_client *cl);

static const struct sp_conn_ops client_ops = {
    .on_read = client_on_read,
    .on_drained = client_on_drained,
    .on_connected = NULL,
    .on_end = client_on_end,
};

static bool client_can_read(const struct sp_client *cl)
{
    return !cl->paused && cl->blocked_on == NULL && !cl->closing;
}

/* Enables reading when nothing holds the client back, and frames what is already buffered. */
static void client_resume(struct sp_client *cl)
{
    if (!client_can_read(cl))
        return;
    sp_conn_set_reading(&cl->conn, true);
    if (evbuffer_get_length(cl->conn.in) > 0)
        client_process(cl);
}

/* Pauses or resumes the client by its own backlog (hysteresis: resume below half). */
static void client_check_backlog(struct sp_client *cl)
{
    size_t hwm = cl->pool->proxy->hwm;
    size_t out = evbuffer_get_length(cl->conn.out);

    if (!cl->paused && (cl->inflight > hwm || out > hwm)) {
        cl->paused = true;
        sp_conn_set_reading(&cl->conn, false);
    } else if (cl->paused && cl->inflight <= hwm / 2 && out <= hwm / 2) {
        cl->paused = false;
        client_resume(cl);
    }
}

void sp_client_unblock(struct sp_client *cl)
{
    client_resume(cl);
}

/* Writes the completed replies at the head of the queue, in order. */
static void client_flush(struct sp_client *cl)
{
    struct sp_proxy *proxy = cl->pool->proxy;
    struct evbuffer *out = cl->conn.out;
    struct sp_req *req;

    while ((req = TAILQ_FIRST(&cl->reqs)) != NULL && req->done) {
        TAILQ_REMOVE(&cl->reqs, req, cq);
        evbuffer_add_buffer(out, req->reply);
        if (req->close_after) {
            cl->closing = true;
            sp_conn_set_reading(&cl->conn, false);
        }
        sp_req_put(proxy, req);
    }
    sp_conn_flush_later(&cl->conn);
}

void sp_client_req_done(struct sp_proxy *proxy, struct sp_req *req)
{
    struct sp_client *cl = req->client;

    if (cl == NULL) {
        sp_req_put(proxy, req);
        return;
    }
    cl->inflight -= req->len;
    if (req == TAILQ_FIRST(&cl->reqs)) {
        client_flush(cl);
        client_check_backlog(cl);
    }
}

void sp_client_req_reply(struct sp_proxy *proxy, struct sp_req *req, struct evbuffer *src,
                         size_t len)
{
    struct sp_client *cl = req->client;

    if (cl == NULL || req != TAILQ_FIRST(&cl->reqs) || req->close_after) {
        evbuffer_remove_buffer(src, req->reply, len);
        req->done = true;
        sp_client_req_done(proxy, req);
        return;
    }
    /* Nothing before it is waiting: no buffer of its own (a malloc and a copy per reply). */
    TAILQ_REMOVE(&cl->reqs, req, cq);
    evbuffer_remove_buffer(src, cl->conn.out, len);
    cl->inflight -= req->len;
    sp_req_put(proxy, req);
    client_flush(cl); /* replies already complete behind it, and the write */
    client_check_backlog(cl);
}

void sp_req_fail(struct sp_pool *pool, struct sp_req *req, const char *reason)
{
    struct sp_proxy *proxy = pool->proxy;

    evbuffer_drain(req->reply, evbuffer_get_length(req->reply));
    pool->proto->error_reply(req->reply, reason);
    req->done = true;
    if (req->parent != NULL)
        sp_multikey_frag_done(proxy, req);
    else
        sp_client_req_done(proxy, req);
}

int sp_forward_to(struct sp_client *cl, struct sp_req *req, struct sp_server *server,
                  struct evbuffer *in, size_t len)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;
    const char *reason = NULL;
    struct sp_sconn *sc = sp_server_conn(server, cl->id, &reason);
    struct evbuffer *out;

    if (sc == NULL) {
        evbuffer_drain(in, len);
        pool->st->forward_error++;
        sp_req_fail(pool, req, reason);
        return -1;
    }
    out = sc->conn.out;
    evbuffer_remove_buffer(in, out, len);
    sp_conn_flush_later(&sc->conn);
    req->len = len;
    cl->inflight += len;
    sp_sconn_enqueue(sc, req);
    if (req->done) {
        sp_client_req_done(proxy, req); /* noreply */
        return 0;
    }
    if (evbuffer_get_length(out) > proxy->hwm)
        sp_sconn_block_client(sc, cl);
    return 0;
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
    if (key != NULL)
        server = sp_pool_locate(pool, key, klen, &reason);
    if (server == NULL) {
        evbuffer_drain(in, msg->len);
        pool->st->forward_error++;
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
    } else if (TAILQ_EMPTY(&cl->reqs)) {
        evbuffer_add_buffer(cl->conn.out, local);
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
    TAILQ_INSERT_TAIL(&cl->reqs, req, cq);
    sp_client_req_done(proxy, req);
}

/* Frames and dispatches every complete request in the input, while reading is allowed. */
static void client_process(struct sp_client *cl)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;
    struct evbuffer *in = cl->conn.in;
    struct evbuffer *local = proxy->scratch;

    if (cl->in_process)
        return; /* the outer loop re-checks the conditions */
    cl->in_process = true;
    while (client_can_read(cl) && evbuffer_get_length(in) > 0) {
        struct sp_msg msg;
        struct sp_req *req;
        enum sp_parse rc = pool->proto->parse_request(&cl->pc, in, &msg, local);

        if (rc == SP_PARSE_AGAIN)
            break;
        if (rc == SP_PARSE_ERROR) {
            /* Framing is lost: answer what came before, then the error, then close. */
            msg.len = evbuffer_get_length(in);
            msg.flags = SP_MSG_CLOSE;
            pool->st->client_err++;
            client_local(cl, &msg, in, local);
            break;
        }
        if (msg.kind == SP_MSG_LOCAL) {
            client_local(cl, &msg, in, local);
            continue;
        }
        req = sp_req_get(proxy);
        if (req == NULL) {
            cl->closing = true;
            sp_conn_set_reading(&cl->conn, false);
            break;
        }
        req->client = cl;
        req->cmd = msg.cmd;
        req->noreply = (msg.flags & SP_MSG_NOREPLY) != 0;
        TAILQ_INSERT_TAIL(&cl->reqs, req, cq);
        if (msg.kind == SP_MSG_MULTI && msg.nkeys > 1)
            sp_multikey_forward(cl, req, &msg, in);
        else
            client_forward(cl, req, &msg, in);
        client_check_backlog(cl);
    }
    cl->in_process = false;
}

/* Frees the client; its unanswered requests are swallowed when their replies come. */
static void client_free(struct sp_client *cl)
{
    struct sp_pool *pool = cl->pool;
    struct sp_proxy *proxy = pool->proxy;
    struct sp_req *req;

    sp_sconn_unblock_client(cl);
    while ((req = TAILQ_FIRST(&cl->reqs)) != NULL) {
        TAILQ_REMOVE(&cl->reqs, req, cq);
        if (req->done)
            sp_req_put(proxy, req);
        else
            req->client = NULL;
    }
    sp_sconn_resume_stalled(cl); /* their replies for this client are now swallowed */
    sp_conn_fini(&cl->conn);
    pool->proto->client_fini(&cl->pc);
    TAILQ_REMOVE(&pool->clients, cl, link);
    pool->nclients--;
    proxy->nclients--;
    pool->st->client_connections--;
    proxy->gst->curr_connections--;
    free(cl);
    if (proxy->nclients == 0)
        sp_req_trim(proxy, SP_REQ_FREE_IDLE);
}

void sp_client_close(struct sp_client *cl)
{
    client_free(cl);
}

static void client_on_read(void *arg)
{
    client_process(arg);
}

static void client_on_drained(void *arg)
{
    struct sp_client *cl = arg;

    if (cl->closing) {
        /* QUIT answered, lost framing reported, or a half-closed peer has all its replies. */
        if (TAILQ_EMPTY(&cl->reqs))
            client_free(cl);
        return;
    }
    sp_sconn_resume_stalled(cl);
    client_check_backlog(cl);
}

static void client_on_end(void *arg, enum sp_conn_end how, int err)
{
    struct sp_client *cl = arg;
    struct sp_pool *pool = cl->pool;

    (void)err;
    if (how == SP_CONN_EOF) {
        pool->st->client_eof++;
        /* A half-closed peer still gets the replies to what it sent. */
        cl->closing = true;
        sp_conn_set_reading(&cl->conn, false);
        if (TAILQ_EMPTY(&cl->reqs) && evbuffer_get_length(cl->conn.out) == 0)
            client_free(cl);
        return;
    }
    pool->st->client_err++;
    client_free(cl);
}

void sp_client_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    struct sp_pool *pool = arg;
    struct sp_proxy *proxy = pool->proxy;
    const struct sp_proto *proto = pool->proto;
    struct sp_client *cl;
    int one = 1;

    (void)lev;
    (void)socklen;
    if (pool->conf->client_connections > 0 &&
        pool->nclients >= (size_t)pool->conf->client_connections) {
        sp_log_warn("pool '%s': client_connections limit %d reached, closing new connection",
                    pool->conf->name, pool->conf->client_connections);
        evutil_closesocket(fd);
        return;
    }
    cl = calloc(1, sizeof(*cl) + proto->client_state_size);
    if (cl == NULL) {
        evutil_closesocket(fd);
        return;
    }
    if (sp_conn_init(&cl->conn, proxy->base, &proxy->flusher, fd, proxy->read_size, &client_ops,
                     cl) < 0) {
        evutil_closesocket(fd);
        free(cl);
        return;
    }
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    cl->pool = pool;
    cl->id = proxy->next_client_id++;
    TAILQ_INIT(&cl->reqs);
    TAILQ_INIT(&cl->stalled);
    cl->pc.pool = pool->conf;
    cl->pc.state = cl + 1;
    proto->client_init(&cl->pc);
    TAILQ_INSERT_TAIL(&pool->clients, cl, link);
    pool->nclients++;
    proxy->nclients++;
    pool->st->client_connections++;
    proxy->gst->total_connections++;
    proxy->gst->curr_connections++;
}
