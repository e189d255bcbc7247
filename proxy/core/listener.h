/* SPDX-License-Identifier: Apache-2.0 */
/* A pool's listening socket (struct sp_listener is listener.c's own): open, close, hand over. */
#ifndef SP_LISTENER_H
#define SP_LISTENER_H

#include "core.h"

/* Opens the pool's listening socket, accepting into client.c.  Returns 0 or -1 with err set. */
int sp_listener_open(struct sp_pool *pool, char *err, size_t errlen);

/* Closes the pool's listener (a unix socket file is removed); safe when it has none. */
void sp_listener_close(struct sp_pool *pool);

/*
 * Hands `from`'s listener to `to` (a reload: a new pool on a removed pool's address), which gets
 * the connections accepted from now on.  Never fails; the socket is not closed in between.
 */
void sp_listener_move(struct sp_pool *to, struct sp_pool *from);

#endif /* SP_LISTENER_H */
