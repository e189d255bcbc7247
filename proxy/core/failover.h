/* SPDX-License-Identifier: Apache-2.0 */
/* Sentinel pools: following a pool's masters through Sentinel (failover.c). */
#ifndef SP_FAILOVER_H
#define SP_FAILOVER_H

#include "core.h"

/* Starts following a Sentinel pool's masters (no-op for other pools).  0 or -1 with err set. */
int sp_failover_start(struct sp_pool *pool, char *err, size_t errlen);

/* A Sentinel client for `pool` following config `cp` (a reload prepares the next one).  NULL
   with err set. */
struct sp_sentinel *sp_failover_client(struct sp_pool *pool, const struct sp_conf_pool *cp,
                                       char *err, size_t errlen);

/* Stops following (frees the client); safe when there is none. */
void sp_failover_stop(struct sp_pool *pool);

#endif /* SP_FAILOVER_H */
