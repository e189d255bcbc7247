/* SPDX-License-Identifier: Apache-2.0 */
/* Hash plugin "one_at_a_time": Bob Jenkins' one-at-a-time hash as nutcracker 0.5.0 computes it. */
#include "config.h"

#include <shardproxy/plugin.h>

#include "key_bytes.h"

static uint64_t hash_one_at_a_time(const void *key, size_t len)
{
    uint32_t h = 0;
    for (size_t i = 0; i < len; i++) {
        /* Sign-extended byte: nutcracker adds `(uint32_t)char`, so on x86_64 fleets 0x80 adds
         * 0xFFFFFF80.  Explicit so aarch64 (unsigned char) places keys the same way. */
        h += sp_key_sbyte32(key, i);
        h += h << 10;
        h ^= h >> 6;
    }
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    return h;
}

SP_HASH_PLUGIN("one_at_a_time", "Jenkins one-at-a-time, bytes sign-extended (nutcracker 0.5.0)",
               32, hash_one_at_a_time);
