/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle migrate: online resharding's mover (docs/resharding.md).  A pool with migrate_from
 * has two layouts; every key whose owner changes between them is moved from its old owner to
 * its new one by audit --fix's mover (audit_fix.c), after checking that every proxy of the pool
 * is armed for this plan (migrate_guard.c), so that no proxy serves a moving key from the wrong
 * side.
 *
 * The servers of both layouts are one audit pool: the target layout's servers first (so the
 * target placer's indexes are the pool's), then the servers only the source layout has.  Only
 * the source layout's servers are scanned: keys live there until moved.
 */
#ifndef SP_ORACLE_MIGRATE_H
#define SP_ORACLE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"

/* Keys a second migrate moves unless --rate says otherwise: a live pool's clients come first
   (bench/reshard.py measures what it costs them). */
#define SP_MIGRATE_DEFAULT_RATE 10000

struct sp_migrate {
    struct sp_audit a;           /* one pool; opt.fix false: --dry-run */
    const struct sp_conf_pool *pool;
    uint64_t plan_id;
    struct sp_placer *from_placer; /* pool->migrate_from's placement */
    struct sp_placer *to_placer;   /* pool's: its indexes are the audit pool's */
    size_t *from_server;         /* migrate_from server index -> audit pool index */
    size_t nfrom;
    bool no_proxies;             /* --no-proxies: no armed proxy needed */
};

/* The audit pool of a migration `m` (its only one). */
#define SP_MIGRATE_POOL(m) (&(m)->a.pools[0])

/*
 * migrate_guard.c: refuses unless every connection named `shardproxy:<pool>:...` on every server
 * of `ap` (both layouts) is armed for the plan, and there is at least one (unless no_proxies).
 * Returns 0, or -1 after printing each offender (server, client address, connection name) and
 * the reason on `errs`; err gets a one-line summary.
 */
int sp_migrate_guard(const struct sp_migrate *m, FILE *errs, char *err, size_t errlen);

/* ---- reports: text.c, json.c, csv.c ---- */

void sp_oracle_text_migrate(FILE *out, const struct sp_migrate *m);
void sp_oracle_json_migrate(FILE *out, const struct sp_migrate *m);
void sp_oracle_csv_migrate(FILE *out, const struct sp_migrate *m);

#endif
