/* SPDX-License-Identifier: Apache-2.0 */
/* Reads from a replica while a master is down (failover_replica_reads; replica.c). */
#ifndef SP_REPLICA_H
#define SP_REPLICA_H

#include "core.h"

/*
 * A connection to the replica Sentinel chooses for `s`'s master, for `req` (or the request whose
 * fragment it is) when it reads only and the pool has failover_replica_reads; counted as a
 * replica read.  NULL when it may not, or no replica can be had.
 */
struct sp_sconn *sp_replica_conn(struct sp_server *s, const struct sp_req *req);

/* Sentinel chose another replica (or none) for server index `server` of `pool`. */
void sp_replica_changed(struct sp_pool *pool, size_t server);

/* Frees the replica object of `s` (its server is going). */
void sp_replica_free(struct sp_server *s);

#endif /* SP_REPLICA_H */
