/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request objects and their free list.
 *
 * A request keeps its reply evbuffer and its split arrays when it goes back to the free list, so
 * the steady state allocates nothing per request.  The list is bounded (SP_REQ_FREE_MAX) and
 * trimmed when the last client leaves, unlike nutcracker's, which only grows.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "proto.h"
#include "req.h"

/* Split arrays kept with a free request up to this many keys (beyond: freed when put back). */
#define SP_REQ_KEEP_KEYS 1024

struct sp_req *sp_req_get(struct sp_proxy *proxy)
{
    struct sp_req *req = TAILQ_FIRST(&proxy->free_reqs);

    if (req != NULL) {
        TAILQ_REMOVE(&proxy->free_reqs, req, cq);
        proxy->nfree--;
        return req;
    }
    req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->reply = evbuffer_new();
    if (req->reply == NULL) {
        free(req);
        return NULL;
    }
    return req;
}

static void req_destroy(struct sp_req *req)
{
    evbuffer_free(req->reply);
    if (req->memo != NULL)
        evbuffer_free(req->memo);
    free(req->frags);
    free(req->frag_of_key);
    free(req->key_part);
    free(req);
}

void sp_req_put(struct sp_proxy *proxy, struct sp_req *req)
{
    struct evbuffer *reply = req->reply;
    struct evbuffer *memo = req->memo;
    struct sp_req **frags = req->frags;
    uint32_t *fok = req->frag_of_key;
    struct sp_part *parts = req->key_part;
    uint32_t fcap = req->frags_cap;
    size_t kcap = req->keys_cap;

    SP_ASSERT(req->sconn == NULL); /* never freed while a server connection still holds it */
    SP_ASSERT(req->held_on == NULL); /* ... nor while a server's hold queue does */
    if (req->resend != NULL) {
        evbuffer_free(req->resend); /* only failovers make one: not kept for reuse */
        req->resend = NULL;
    }
    if (proxy->nfree >= SP_REQ_FREE_MAX) {
        req_destroy(req);
        return;
    }
    /* Arrays sized for a huge multi-key request are not kept for the next, small one. */
    if (kcap > SP_REQ_KEEP_KEYS) {
        free(fok);
        free(parts);
        fok = NULL;
        parts = NULL;
        kcap = 0;
    }
    /* A reply left behind (a swallowed one) must not leak into the next use. */
    if (evbuffer_get_length(reply) > 0)
        evbuffer_drain(reply, evbuffer_get_length(reply));
    if (memo != NULL && evbuffer_get_length(memo) > 0)
        evbuffer_drain(memo, evbuffer_get_length(memo));
    memset(req, 0, sizeof(*req));
    req->reply = reply;
    req->memo = memo;
    req->frags = frags;
    req->frags_cap = fcap;
    req->frag_of_key = fok;
    req->key_part = parts;
    req->keys_cap = kcap;
    TAILQ_INSERT_HEAD(&proxy->free_reqs, req, cq);
    proxy->nfree++;
}

int sp_req_reserve(struct sp_req *req, uint32_t nfrags, size_t nkeys)
{
    if (nfrags > req->frags_cap) {
        struct sp_req **f = realloc(req->frags, nfrags * sizeof(*f));

        if (f == NULL)
            return -1;
        req->frags = f;
        req->frags_cap = nfrags;
    }
    if (nkeys > req->keys_cap) {
        uint32_t *k = realloc(req->frag_of_key, nkeys * sizeof(*k));
        struct sp_part *p;

        if (k == NULL)
            return -1;
        req->frag_of_key = k;
        p = realloc(req->key_part, nkeys * sizeof(*p));
        if (p == NULL)
            return -1;
        req->key_part = p;
        req->keys_cap = nkeys;
    }
    return 0;
}

void sp_req_trim(struct sp_proxy *proxy, size_t keep)
{
    while (proxy->nfree > keep) {
        struct sp_req *req = TAILQ_LAST(&proxy->free_reqs, sp_req_q);

        TAILQ_REMOVE(&proxy->free_reqs, req, cq);
        proxy->nfree--;
        req_destroy(req);
    }
}

void sp_req_free_all(struct sp_proxy *proxy)
{
    sp_req_trim(proxy, 0);
}
