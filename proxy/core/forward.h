/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forwarding a client's request to the servers: to one server (client.c), or a multi-key request
 * as is or split (multikey.c).
 */
#ifndef SP_FORWARD_H
#define SP_FORWARD_H

#include "core.h"

/*
 * Forwards the multi-key request framed in *msg at the head of `in` (msg->len bytes, removed):
 * as is when all keys live on one server, else split.  A SP_MSG_ALL request is always split,
 * one fragment per server of the pool.  `req` is already on the client queue.
 */
void sp_multikey_forward(struct sp_client *cl, struct sp_req *req, const struct sp_msg *msg,
                         struct evbuffer *in);

/*
 * Sends `len` request bytes from the head of `in` to `server` for `req`.  On failure the bytes
 * are dropped and req is failed.  Returns 0 or -1.
 */
int sp_forward_to(struct sp_client *cl, struct sp_req *req, struct sp_server *server,
                  struct evbuffer *in, size_t len);

#endif /* SP_FORWARD_H */
