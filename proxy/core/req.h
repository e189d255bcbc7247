/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A request (struct sp_req): one a client sent, a fragment of a split one, or one of the proxy's
 * own; what it costs while in flight; the proxy's free list of them (request.c).
 */
#ifndef SP_REQ_H
#define SP_REQ_H

#include "core.h"

struct sp_req {
    TAILQ_ENTRY(sp_req) cq;       /* client queue (top-level requests), or the free list */
    TAILQ_ENTRY(sp_req) sq;       /* server connection queue (sent, awaiting the reply) */
    struct sp_client *client;     /* NULL: the client is gone, the reply is swallowed */
    struct sp_req *parent;        /* fragment: the split request */
    struct sp_sconn *sconn;       /* connection it waits on, or NULL */
    struct evbuffer *reply;       /* reply bytes until written out; kept across reuse */
    uint64_t deadline;            /* usec (event_base clock) when the server must have replied */
    uint64_t stall_base;          /* its connection's stall clock when it was queued there */
    uint64_t sent_at;             /* usec (event_base clock) queued on sconn: latency histogram */
    size_t len;                   /* request bytes sent (stats, back-pressure) */
    uint32_t cmd;                 /* protocol command id (split / merge) */
    bool done;                    /* reply is complete */
    bool held;                    /* done behind an unanswered request: counted in busy->held */
    bool close_after;             /* close the client once this reply is written */
    bool noreply;                 /* the server will not answer */
    bool readonly;                /* reads only: a replica may answer (replica.c) */
    const char *err;              /* fragment: why it could not be sent (static string) */
    /* the proxy's own request (migrate.c, survey.c): no client; on_reply gets its reply (or
       the error it failed with) in `reply` and must release it; `owner` is its context */
    void (*on_reply)(struct sp_proxy *proxy, struct sp_req *req);
    void *owner;
    /* waiting out a failover (hold.c): on held_on->held through `sq`, its bytes in `resend` */
    struct sp_server *held_on;
    struct evbuffer *resend;
    uint64_t hold_until;          /* usec (event_base clock) when it stops waiting */
    /* parked while its keys move (migrate.c): on park_mig->parked through `sq` (a top-level
       request), to be sent to park_to (it, or each fragment) once nmoves moves are answered */
    struct sp_migration *park_mig;
    struct sp_server *park_to;
    uintptr_t park_owner;         /* the client it came from (compared, never followed) */
    uint32_t nmoves;
    bool move_failed;             /* a move failed: why is in `reply` until it is failed */
    /* split requests */
    uint32_t nfrags;
    uint32_t npending;            /* fragments still without a reply */
    struct sp_req **frags;        /* nfrags entries, capacity frags_cap (kept across reuse) */
    uint32_t frags_cap;
    uint32_t *frag_of_key;        /* nkeys entries, capacity keys_cap (kept across reuse) */
    struct sp_part *key_part;     /* key i's element in its fragment's reply (keys_cap) */
    struct evbuffer *memo;        /* what the protocol's split keeps for its merge (created on
                                     the first split, kept across reuse) */
    uint32_t nparted;             /* fragments whose replies filled key_part */
    size_t nkeys;
    size_t keys_cap;
};

/* What an unanswered request counts in its client's in-flight total (see SP_REQ_COST). */
static inline size_t sp_req_cost(const struct sp_req *req)
{
    return req->len > 0 ? req->len + SP_REQ_COST : 0;
}

/* Returns a clean request (from the free list when possible), or NULL when out of memory. */
struct sp_req *sp_req_get(struct sp_proxy *proxy);

/* Returns a request (and, for a split one, its fragments' arrays) to the free list. */
void sp_req_put(struct sp_proxy *proxy, struct sp_req *req);

/* Ensures req->frags / req->frag_of_key can hold nfrags / nkeys entries.  Returns 0 or -1. */
int sp_req_reserve(struct sp_req *req, uint32_t nfrags, size_t nkeys);

/* Frees requests beyond `keep` on the free list. */
void sp_req_trim(struct sp_proxy *proxy, size_t keep);

/* Frees every free request (at proxy teardown). */
void sp_req_free_all(struct sp_proxy *proxy);

#endif /* SP_REQ_H */
