/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layouts and the names that carry them (online resharding, docs/resharding.md).
 *
 * A layout is what decides placement: a pool's name, hash, distribution, hash_tag and servers.
 * Its id lets two processes that read a config each - the proxies, the migrator - tell whether
 * they place keys alike; a plan id names one migration (source layout -> target layout).  Every
 * connection a proxy opens to a Redis pool's server carries them in its CLIENT SETNAME name,
 *
 *   shardproxy:<pool>:<16 lowercase hex digits of the plan id>:<state>
 *
 * so that CLIENT LIST on any server shows every proxy of the pool, which plan it follows and how
 * far it got (steady, wait, ready, armed).
 */
#ifndef SP_LAYOUT_H
#define SP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "registry.h"

/* "shardproxy:": what every connection name of ours starts with. */
#define SP_CONN_NAME_PREFIX "shardproxy:"
/* Longest pool part of a connection name (the pool name sanitised, then cut). */
#define SP_CONN_NAME_POOL_MAX 64
/* Longest state part of a connection name. */
#define SP_CONN_NAME_STATE_MAX 32
/* Longest connection name, with its NUL: prefix, pool, ':', 16 hex digits, ':', state. */
#define SP_CONN_NAME_MAX                                                                       \
    (sizeof(SP_CONN_NAME_PREFIX) - 1 + SP_CONN_NAME_POOL_MAX + 1 + 16 + 1 +                    \
     SP_CONN_NAME_STATE_MAX + 1)

/* The proxies' states (docs/resharding.md), as written in connection names. */
#define SP_CONN_STEADY "steady"
#define SP_CONN_WAIT "wait"
#define SP_CONN_READY "ready"
#define SP_CONN_ARMED "armed"

/* A connection name taken apart (sp_conf_conn_name_parse). */
struct sp_conn_name {
    char pool[SP_CONN_NAME_POOL_MAX + 1];    /* the pool name as sanitised in the name */
    uint64_t plan_id;
    char state[SP_CONN_NAME_STATE_MAX + 1];
};

/*
 * The id of `pool`'s layout: FNV-1a 64 over the pool name, hash, distribution, hash_tag, then
 * each server's name, address text and weight in pool order (nutcracker's sorted order, which
 * only depends on the set of servers), each field ended by a separator.  Equal ids: the same
 * placement.  A Sentinel pool's addresses are those of the file, not the current masters.
 */
uint64_t sp_conf_layout_id(const struct sp_conf_pool *pool);

/*
 * The plan id of `pool`: for a migrating pool, a 64-bit mix of the layout ids of
 * pool->migrate_from and of pool (order matters: A -> B is not B -> A); for a pool that does not
 * migrate, its layout id.
 */
uint64_t sp_conf_plan_id(const struct sp_conf_pool *pool);

/*
 * Writes "shardproxy:<pool>:<16 lowercase hex of sp_conf_plan_id>:<state>" into out[n], <pool>
 * being the pool name with every byte outside [A-Za-z0-9_.-] replaced by '_' and cut at
 * SP_CONN_NAME_POOL_MAX bytes.  Returns 0; -1 (out[] unspecified) when it does not fit n, or
 * when `state` is empty, longer than SP_CONN_NAME_STATE_MAX or has a byte outside [a-z0-9_-].
 * n >= SP_CONN_NAME_MAX always fits.
 */
int sp_conf_conn_name(const struct sp_conf_pool *pool, const char *state, char *out, size_t n);

/*
 * The reverse: parses name[0..len) (not NUL-terminated; e.g. CLIENT LIST's `name=` field) into
 * *out.  Returns 0, or -1 (*out unspecified) when the name is not one sp_conf_conn_name writes.
 */
int sp_conf_conn_name_parse(const char *name, size_t len, struct sp_conn_name *out);

/* True when the connection name `cn` belongs to pool `pool` (its sanitised, cut name). */
bool sp_conf_conn_name_is_pool(const struct sp_conn_name *cn, const struct sp_conf_pool *pool);

/*
 * The note `shardproxy -t` prints for a migrating pool, one line without a newline, e.g.
 *   "pool 'alpha': migrating from 2 servers (fnv1a_64/modula) to 3 servers (fnv1a_64/ketama),
 *    plan 0123456789abcdef: 66.67% of the hash space moves (exact)"
 * Returns 0; 1 (buf[0] = '\0') for a pool that does not migrate; -1 with the reason in buf when
 * a placer cannot be built from `reg` or out of memory.
 */
int sp_conf_migration_note(const struct sp_conf_pool *pool, const struct sp_registry *reg,
                           char *buf, size_t len);

#endif /* SP_LAYOUT_H */
