/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Moving one key between two Redis servers without blocking either (online resharding: the
 * proxy's on-access moves and `shardoracle migrate` / `audit --fix` speak it alike).
 *
 * Why not MIGRATE: it blocks the source server while it talks to the target, so two moves in
 * opposite directions between the same two servers (a distribution change, a reweight) block
 * each server on the other until MIGRATE's timeout.  Here every step is one ordinary command:
 *
 *   1. TAKE on the source (EVAL SP_MOVE_TAKE, KEYS key lock, ARGV token lock-ms): 0 when the key is
 *      not there (nothing to move: the target is where it lives), -1 when another mover holds
 *      its lock (retry shortly), else [DUMP, PTTL] with the lock now held by `token`;
 *   2. RESTORE key ttl dump on the target (ttl 0 when PTTL was -1; never REPLACE);
 *   3. on the source: after OK, FINISH (EVAL SP_MOVE_FINISH, KEYS key lock, ARGV token) deletes
 *      key and lock; after BUSYKEY (the target has the key: its copy stands), SET ASIDE
 *      (EVAL SP_MOVE_ASIDE, KEYS key lock aside, ARGV token) renames the source copy to
 *      SP_MOVE_ASIDE_PREFIX + key (kept for the operator, never served, never overwriting the copy
 *      that is; a later conflict of the same key replaces its set-aside copy); after
 *      any other error, RELEASE (EVAL SP_MOVE_RELEASE, KEYS lock, ARGV token) drops the lock and
 *      the key stays where it was.  Each acts only while `token` still holds the lock.
 *
 * It is as safe as MIGRATE under the rule every mover follows (docs/resharding.md): no request
 * on a key that moves runs on its new server before a TAKE said the key is not on the old one,
 * and nothing writes the old copy once movers run.  So while a key is locked (in flight) every
 * mover waits; a mover that dies leaves the lock to expire and the key on the source, where the
 * next one finds it (its RESTORE then meets the dead one's copy: BUSYKEY, set aside).
 *
 * Key names: the lock of key K is SP_MOVE_LOCK_PREFIX + K, its set-aside copy
 * SP_MOVE_ASIDE_PREFIX + K (binary-safe concatenations).  Scans skip both prefixes.
 */
#ifndef SP_MOVE_H
#define SP_MOVE_H

#define SP_MOVE_LOCK_PREFIX "__shardproxy:moving:"
#define SP_MOVE_ASIDE_PREFIX "__shardproxy:aside:"

/* How long a lock holds when its mover dies (ms): far above a RESTORE's time. */
#define SP_MOVE_LOCK_MS 10000

#define SP_MOVE_TAKE                                                                           \
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "                                 \
    "if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end "      \
    "return {redis.call('DUMP', KEYS[1]), redis.call('PTTL', KEYS[1])}"

#define SP_MOVE_FINISH                                                                         \
    "if redis.call('GET', KEYS[2]) == ARGV[1] then "                                           \
    "redis.call('DEL', KEYS[1], KEYS[2]) return 1 end return 0"

#define SP_MOVE_ASIDE                                                                          \
    "if redis.call('GET', KEYS[2]) == ARGV[1] then "                                           \
    "redis.call('RENAME', KEYS[1], KEYS[3]) redis.call('DEL', KEYS[2]) return 1 end return 0"

#define SP_MOVE_RELEASE                                                                        \
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end "   \
    "return 0"

#endif /* SP_MOVE_H */
