/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A reply reaches its request: where every request ends.
 *
 * A server connection (sconn.c) frames a reply and hands it here with the request at the head
 * of its queue (sp_deliver_reply); a request that cannot be answered by a server gets the
 * protocol's error instead (sp_req_fail).  Where the reply goes:
 *   - the proxy's own request (a connection name, a survey, a key move): its on_reply;
 *   - a fragment of a multi-key request: kept until every fragment is answered, then the
 *     protocol merges them into the parent's reply (element bounds are noted on the way);
 *   - a client's request: appended to the client's output in request order - at once when it is
 *     the oldest unanswered one, else kept until those before it are done;
 *   - a request whose client is gone: swallowed.
 * Nothing here reads requests or resumes anyone: what a delivered reply frees up is flow.c's,
 * and runs from the flusher after this returns (conn.h, sp_conn_resume_later).
 */
#include "config.h"

#include "client.h"
#include "conn.h"
#include "core.h"
#include "deliver.h"
#include "flow.h"
#include "pool.h"
#include "proto.h"
#include "req.h"

/* A request's reply is complete: it no longer counts as in flight. */
static void client_answered(struct sp_client *cl, const struct sp_req *req)
{
    size_t cost = sp_req_cost(req);

    SP_ASSERT(cl->busy->inflight >= cost);
    cl->busy->inflight -= cost;
}

/* Writes the completed replies at the head of the queue, in order. */
static void client_flush(struct sp_client *cl)
{
    struct sp_proxy *proxy = cl->pool->proxy;
    struct evbuffer *out = cl->conn.out; /* exists: the client is busy */
    struct sp_req *req;

    while ((req = TAILQ_FIRST(&cl->busy->reqs)) != NULL && req->done) {
        TAILQ_REMOVE(&cl->busy->reqs, req, cq);
        if (req->held) {
            size_t cost = evbuffer_get_length(req->reply) + SP_HELD_REPLY_COST;

            SP_ASSERT(cl->busy->held >= cost);
            cl->busy->held -= cost;
        }
        evbuffer_add_buffer(out, req->reply);
        if (req->close_after) {
            cl->closing = true;
            sp_conn_set_reading(&cl->conn, false);
        }
        sp_req_put(proxy, req);
    }
    sp_conn_flush_later(&cl->conn);
}

void sp_req_done(struct sp_proxy *proxy, struct sp_req *req)
{
    struct sp_client *cl = req->client;

    if (cl == NULL) {
        sp_req_put(proxy, req);
        return;
    }
    client_answered(cl, req);
    if (req == TAILQ_FIRST(&cl->busy->reqs)) {
        client_flush(cl);
    } else {
        req->held = true;
        cl->busy->held += evbuffer_get_length(req->reply) + SP_HELD_REPLY_COST;
    }
    sp_flow_check_backlog(cl);
}

/* `len` reply bytes at the head of `src` answer the client's request `req`. */
static void client_reply(struct sp_proxy *proxy, struct sp_req *req, struct evbuffer *src,
                         size_t len)
{
    struct sp_client *cl = req->client;

    /* A client with a request in its queue is busy: cl->busy and its output exist. */
    if (cl == NULL || req != TAILQ_FIRST(&cl->busy->reqs) || req->close_after) {
        evbuffer_remove_buffer(src, req->reply, len);
        req->done = true;
        sp_req_done(proxy, req);
        return;
    }
    /* Nothing before it is waiting: no buffer of its own (a malloc and a copy per reply). */
    TAILQ_REMOVE(&cl->busy->reqs, req, cq);
    evbuffer_remove_buffer(src, cl->conn.out, len);
    client_answered(cl, req);
    sp_req_put(proxy, req);
    client_flush(cl); /* replies already complete behind it, and the write */
    sp_flow_check_backlog(cl);
}

/* ---- fragments of a multi-key request (multikey.c split it) ---- */

/* Keeps the element bounds of fragment `frag`'s reply for its keys, when it has one per key. */
static void record_parts(struct sp_req *parent, const struct sp_req *frag,
                         const struct sp_reply *rep)
{
    uint32_t f = 0;
    size_t k = 0;

    while (f < parent->nfrags && parent->frags[f] != frag)
        f++;
    for (size_t i = 0; i < parent->nkeys; i++) {
        if (parent->frag_of_key[i] != f)
            continue;
        if (k == rep->nparts)
            return; /* fewer elements than keys: the merge sorts it out */
        parent->key_part[i] = rep->parts[k++];
    }
    if (k == rep->nparts)
        parent->nparted++;
}

static void frag_reply(struct sp_proxy *proxy, struct sp_req *frag, struct evbuffer *src,
                       const struct sp_reply *rep)
{
    struct sp_req *parent = frag->parent;

    if (parent->client != NULL && rep->nparts > 0)
        record_parts(parent, frag, rep);
    evbuffer_remove_buffer(src, frag->reply, rep->len);
    frag->done = true;
    sp_frag_done(proxy, frag);
}

void sp_frag_done(struct sp_proxy *proxy, struct sp_req *frag)
{
    struct sp_req *parent = frag->parent;
    struct sp_client *cl = parent->client;
    uint32_t nfrags = parent->nfrags;

    if (--parent->npending > 0)
        return;
    if (cl != NULL) {
        /* Element bounds only when every fragment's reply gave them. */
        const struct sp_part *parts = parent->nparted == nfrags ? parent->key_part : NULL;

        for (uint32_t f = 0; f < nfrags; f++)
            proxy->frag_rep[f] = parent->frags[f]->reply;
        evbuffer_drain(parent->reply, evbuffer_get_length(parent->reply));
        cl->pool->proto->merge(parent->cmd, parent->frag_of_key, parent->nkeys, parts,
                               proxy->frag_rep, nfrags, parent->memo, parent->reply);
    }
    for (uint32_t f = 0; f < nfrags; f++)
        sp_req_put(proxy, parent->frags[f]);
    parent->nfrags = 0;
    parent->done = true;
    sp_req_done(proxy, parent);
}

/* ---- the two ways a request ends ---- */

void sp_deliver_reply(struct sp_proxy *proxy, struct sp_req *req, struct evbuffer *in,
                      const struct sp_reply *rep)
{
    if (req->on_reply != NULL) {
        evbuffer_remove_buffer(in, req->reply, rep->len); /* the proxy's own: to its owner */
        req->done = true;
        req->on_reply(proxy, req);
    } else if (req->parent != NULL) {
        frag_reply(proxy, req, in, rep); /* kept for the merge */
    } else if (req->client == NULL) {
        evbuffer_drain(in, rep->len); /* client gone: swallow */
        sp_req_put(proxy, req);
    } else {
        client_reply(proxy, req, in, rep->len);
    }
}

void sp_req_fail(struct sp_pool *pool, struct sp_req *req, const char *reason)
{
    struct sp_proxy *proxy = pool->proxy;

    evbuffer_drain(req->reply, evbuffer_get_length(req->reply));
    /* A request sent with memcached's noreply gets no reply, not even this one: the client
       reads none, and one it did not expect would shift every later reply. */
    if (!req->noreply)
        pool->proto->error_reply(req->reply, reason);
    req->done = true;
    if (req->on_reply != NULL)
        req->on_reply(proxy, req); /* the proxy's own request */
    else if (req->parent != NULL)
        sp_frag_done(proxy, req);
    else
        sp_req_done(proxy, req);
}
