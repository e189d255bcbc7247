/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow control (flow.c): back-pressure on clients (backlog, block), stalls of server connections
 * by slow readers; resumption runs from the flusher.
 */
#ifndef SP_FLOW_H
#define SP_FLOW_H

#include "core.h"

/* Reply bytes the client has not taken yet: its output plus replies held in its queue. */
size_t sp_client_backlog(const struct sp_client *cl);

/* Pauses `cl` over the watermark, resumes it (from the flusher) below half of it. */
void sp_flow_check_backlog(struct sp_client *cl);

/* Makes `cl` wait for sc's output to drain before it reads again. */
void sp_flow_block(struct sp_sconn *sc, struct sp_client *cl);

/* Forgets `cl` as a waiter (client closing). */
void sp_flow_unblock(struct sp_client *cl);

/* sc's output drained (or sc closes): every client waiting on it resumes from the flusher. */
void sp_flow_release_waiters(struct sp_sconn *sc);

/* A reply for `cl` (NULL: none) was delivered on `sc`: stalls sc when cl reads too slowly. */
void sp_flow_after_reply(struct sp_sconn *sc, struct sp_client *cl);

/* The client's output drained, or it goes: connections it stalled read again (flusher). */
void sp_flow_resume_stalled(struct sp_client *cl);

/* Usec `sc` has spent stalled so far (the clock runs only while stalled). */
uint64_t sp_flow_stall_clock(const struct sp_sconn *sc, uint64_t now);

/* sc's timer fired while it is stalled: the stall limit, or the slow reader is closed. */
void sp_flow_stall_timer(struct sp_sconn *sc, uint64_t now);

/* sc is being freed: no client's stall list holds it any more. */
void sp_flow_sconn_gone(struct sp_sconn *sc);

/* Resumes the pool's clients paused by its migration. */
void sp_client_resume_paused(struct sp_pool *pool);

#endif /* SP_FLOW_H */
