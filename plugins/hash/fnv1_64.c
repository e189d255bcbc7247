/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugin "fnv1_64": nutcracker 0.5.0's "FNV-1 64-bit".  nutcracker runs real 64-bit FNV-1
 * (sign-extending each byte to 64 bits) and returns only the low 32 bits.  Those bits depend only
 * on the low 32 bits of offset, prime and byte, so this is computed as a 32-bit FNV-1 with the
 * truncated 64-bit constants (fnv.h); the golden vectors confirm it for every byte value.
 * A true 64-bit result would change placement on every nutcracker fleet.
 */
#include "config.h"

#include <shardproxy/plugin.h>

#include "fnv.h"

static uint64_t hash_fnv1_64(const void *key, size_t len)
{
    return sp_fnv32(key, len, SP_FNV64_OFFSET_LO, SP_FNV64_PRIME_LO, SP_FNV1);
}

SP_HASH_PLUGIN("fnv1_64", "FNV-1 64-bit cut to 32 bits, bytes sign-extended (nutcracker 0.5.0)",
               32, hash_fnv1_64);
