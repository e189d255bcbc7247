/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool whose keys move (online resharding): where the proxy is in it (enum sp_mig_state), the
 * migration (struct sp_migration), moving and parking (migrate.c), the survey of the other
 * proxies and the names of the pool's connections (survey.c).
 */
#ifndef SP_MIGRATION_H
#define SP_MIGRATION_H

#include "core.h"
#include "layout.h"
#include "pool.h"

/* Where a proxy is in a migration (survey.c, docs/resharding.md). */
enum sp_mig_state {
    SP_MIG_UNKNOWN,  /* until the first survey: the pool's clients wait */
    SP_MIG_WAIT,     /* proxies on the old file are about: keys are served from the source */
    SP_MIG_READY,    /* none left: the pool's clients wait until every proxy is ready */
    SP_MIG_ARMED,    /* keys are served from the target, moved there first when they move */
};

/* A pool whose keys move from its `migrate_from` layout to its own (migrate.c, survey.c). */
struct sp_migration {
    struct sp_pool *pool;
    uint64_t plan;                /* sp_conf_plan_id: what the connections' names carry */
    uint64_t src_layout, dst_layout;
    enum sp_mig_state state;
    char name[SP_CONN_NAME_MAX];  /* our connections' name in this state */
    struct sp_server **src;       /* the source layout's servers, in its config order */
    bool *src_own;                /* ... made for it (else the pool's server of that name) */
    size_t nsrc;
    struct sp_placement place;    /* the source layout's placement */
    bool same_hash;               /* both layouts hash keys alike: one hash places twice */
    struct sp_req_q parked;       /* requests waiting for their keys to move, arrival order */
    size_t nparked;
    uintptr_t *blocked;           /* sp_mig_release's scratch: clients with an earlier request
                                     still parked */
    size_t nblocked, blocked_cap;
    struct event *timer;          /* survey rounds (a follower: its wait for what it sent
                                     in the previous state to be answered) */
    unsigned round, pending, answers, seen;
    uint64_t reached;             /* the leader: followers (bit i-1: worker i) that said they
                                     reached the state (world.h) */
    uint64_t round_started;
    bool warned, dead;
    unsigned refs;                /* the pool's, survey requests', parked requests' */
    uint64_t moved, conflicts, failures;
};

/*
 * A migration for `pool` under config `cp` (which has migrate_from), whose target layout is
 * `servers` (cp's order; a reload's next servers): source servers and placement made, not
 * running yet.  NULL with err set.  sp_mig_discard frees one never attached.
 */
struct sp_migration *sp_mig_prepare(struct sp_pool *pool, const struct sp_registry *reg,
                                    const struct sp_conf_pool *cp,
                                    struct sp_server *const *servers, char *err, size_t errlen);
void sp_mig_discard(struct sp_migration *m);

/* Starts it (pool->mig is m, pool->conf is cp): `was`, the migration a reload replaces, gives
   its state when the plan is the same.  -1 (logged) when its survey cannot run. */
int sp_mig_attach(struct sp_migration *m, const struct sp_migration *was);

/* The pool lets go of it: stops surveying; parked requests still go out when answered. */
void sp_mig_free(struct sp_migration *m);
void sp_mig_unref(struct sp_migration *m);

/* The key's server in the source layout (NULL: none live), or its index in m->src (-1). */
struct sp_server *sp_mig_source(struct sp_migration *m, const void *key, size_t len);
int sp_mig_source_index(struct sp_migration *m, const void *key, size_t len);

/* Where a key is served in the target layout (NULL: no server), and in *source its source
   layout index (-1: none): hashed once when both layouts hash alike. */
struct sp_server *sp_mig_owners(struct sp_migration *m, const void *key, size_t len,
                                int *source);

/* Parks top-level request `req` of its client (its bytes in resend, park_to set on it or on
   each fragment): sent in order once its moves are answered (sp_mig_move). */
void sp_mig_park(struct sp_migration *m, struct sp_req *req);

/* Moves `key` from `from` onto `to` for parked (or about to be) `req`.  -1: it cannot be
   moved (a unix socket target, out of memory); nothing was sent. */
int sp_mig_move(struct sp_migration *m, struct sp_req *req, struct sp_server *from,
                struct sp_server *to, const void *key, size_t len);

/* Sends the parked requests whose moves are answered, each client's in order. */
void sp_mig_release(struct sp_migration *m);

/* Must the pool's clients wait (unknown, ready)? */
bool sp_mig_pauses(const struct sp_migration *m);

/* What the pool's server connections are called now; sp_pool_rename names them all so. */
const char *sp_pool_conn_name(const struct sp_pool *pool);
void sp_pool_rename(struct sp_pool *pool);

int sp_survey_start(struct sp_migration *m);
void sp_survey_stop(struct sp_migration *m);

#endif /* SP_MIGRATION_H */
