/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Never-sent requests waiting out a failover on their server (server->held) until its master is
 * back or replaced (hold.c).
 */
#ifndef SP_HOLD_H
#define SP_HOLD_H

#include "core.h"

/* True when requests for `s` that never left may wait for its master (failover_hold). */
bool sp_hold_enabled(const struct sp_server *s);

/* Gives `req` its buffer for its own bytes (req->resend).  Returns 0 or -1 (out of memory). */
int sp_hold_prepare(struct sp_req *req);

/* Holds `req` (never sent; its req->len bytes in req->resend) behind those held already;
   `reason` says why it could not be sent (used when the hold starts). */
void sp_hold_push(struct sp_server *s, struct sp_req *req, const char *reason);

/* Holds the never-sent requests `reqs` (linked by `sq`, bytes in resend) ahead of those held
   already: they were taken off a closing connection, so they are older.  Empties `reqs`. */
void sp_hold_requeue(struct sp_server *s, struct sp_req_q *reqs, const char *reason);

/* Sends the held requests, in order, as far as connections can be had; returns how many. */
size_t sp_hold_release(struct sp_server *s);

/* A connection to `s` came up: held requests go out on it. */
void sp_hold_on_connected(struct sp_server *s);

/* Fails every held request with `reason` and stops the timer (server going away). */
void sp_hold_fail_all(struct sp_server *s, const char *reason);

#endif /* SP_HOLD_H */
