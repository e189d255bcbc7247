/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugin "fnv1a_64", nutcracker's default hash.  nutcracker 0.5.0 computes it in 32-bit
 * arithmetic with the 64-bit FNV offset and prime truncated to 32 bits, bytes sign-extended
 * (fnv.h).  For ASCII keys that is the low half of true FNV-1a-64; for keys with bytes >= 0x80
 * it is not, and fleets depend on the nutcracker value, so we keep it.
 */
#include "config.h"

#include <shardproxy/plugin.h>

#include "fnv.h"

static uint64_t hash_fnv1a_64(const void *key, size_t len)
{
    return sp_fnv32(key, len, SP_FNV64_OFFSET_LO, SP_FNV64_PRIME_LO, SP_FNV1A);
}

SP_HASH_PLUGIN("fnv1a_64", "FNV-1a with 64-bit constants cut to 32 bits (nutcracker 0.5.0)", 32,
               hash_fnv1a_64);
