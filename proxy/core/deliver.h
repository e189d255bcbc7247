/* SPDX-License-Identifier: Apache-2.0 */
/* A reply reaches its request: the client's, a fragment's, or the proxy's own (deliver.c). */
#ifndef SP_DELIVER_H
#define SP_DELIVER_H

#include "core.h"

/*
 * The server's whole reply to `req` is the rep->len bytes at the head of `in`: removes them and
 * hands them to whoever waits (the proxy's own on_reply, the parent of a fragment, the client, or
 * nobody: swallowed).  A request at the head of its client's queue has its reply moved straight
 * into the client's output; any other keeps it in req->reply until the replies before it are
 * out.  req may be freed.
 */
void sp_deliver_reply(struct sp_proxy *proxy, struct sp_req *req, struct evbuffer *in,
                      const struct sp_reply *rep);

/*
 * A client's request got its whole reply (or error) in req->reply: writes every completed reply
 * at the head of the client's queue, in order.  A request with no client is freed instead.
 */
void sp_req_done(struct sp_proxy *proxy, struct sp_req *req);

/* A fragment of a split request got its reply in frag->reply: merges when it was the last. */
void sp_frag_done(struct sp_proxy *proxy, struct sp_req *frag);

/* Fails `req` with an error reply naming `reason` and completes it. */
void sp_req_fail(struct sp_pool *pool, struct sp_req *req, const char *reason);

#endif /* SP_DELIVER_H */
