/* SPDX-License-Identifier: Apache-2.0 */
/* Hash plugin "xxhash": XXH3 64-bit (seed 0) from the system libxxhash.  Not a nutcracker hash:
 * a fast, well-distributed choice for new pools.  hash_bits is 64. */
#include "config.h"

#include <xxhash.h>

#include <shardproxy/plugin.h>

static uint64_t hash_xxhash(const void *key, size_t len)
{
    return XXH3_64bits(key, len);
}

SP_HASH_PLUGIN("xxhash", "XXH3 64-bit, seed 0 (libxxhash)", 64, hash_xxhash);
