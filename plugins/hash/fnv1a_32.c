/* SPDX-License-Identifier: Apache-2.0 */
/* Hash plugin "fnv1a_32": nutcracker 0.5.0's FNV-1a (32-bit), bytes sign-extended (see fnv.h). */
#include "config.h"

#include <shardproxy/plugin.h>

#include "fnv.h"

static uint64_t hash_fnv1a_32(const void *key, size_t len)
{
    return sp_fnv32(key, len, SP_FNV32_OFFSET, SP_FNV32_PRIME, SP_FNV1A);
}

SP_HASH_PLUGIN("fnv1a_32", "FNV-1a 32-bit, bytes sign-extended (nutcracker 0.5.0)", 32,
               hash_fnv1a_32);
