/* SPDX-License-Identifier: Apache-2.0 */
/* What a reload dropped, finishing its work: retired servers and pools (retire.c). */
#ifndef SP_RETIRE_H
#define SP_RETIRE_H

#include "core.h"

/* Starts / stops the timer that frees retired servers and pools once idle (stop frees them). */
int sp_retire_start(struct sp_proxy *proxy);
void sp_retire_stop(struct sp_proxy *proxy);

/* `s` left its pool's config: it takes no new request, answers what is in flight, then goes. */
void sp_retire_server(struct sp_server *s);

/*
 * `pool` left the config (or changed its listen address): `own` (a copy of its config, taken
 * over) replaces the config it used; its listener must be gone already; its clients are closed
 * once their replies are out, its servers retired.
 */
void sp_retire_pool(struct sp_pool *pool, struct sp_conf_pool *own);

#endif /* SP_RETIRE_H */
