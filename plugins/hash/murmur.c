/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugin "murmur": MurmurHash2 (m = 0x5bd1e995, r = 24) as nutcracker 0.5.0 has it.
 * Quirk kept for nutcracker fleets: there is no caller seed; the seed is 0xdeadbeef * len
 * (32-bit wrap-around) and the state starts at seed ^ len, so the empty key hashes to 0.
 * Words are read little-endian (what nutcracker's native reads give on x86_64).
 */
#include "config.h"

#include <shardproxy/plugin.h>

#include "key_bytes.h"

#define MURMUR_M 0x5bd1e995u
#define MURMUR_R 24

static uint64_t hash_murmur(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t len32 = (uint32_t)len;   /* nutcracker truncates the length the same way */
    uint32_t seed = 0xdeadbeefu * len32;
    uint32_t h = seed ^ len32;
    size_t left = len;

    for (; left >= 4; left -= 4, p += 4) {
        uint32_t k = sp_load_le32(p);
        k *= MURMUR_M;
        k ^= k >> MURMUR_R;
        k *= MURMUR_M;
        h *= MURMUR_M;
        h ^= k;
    }

    /* Tail: unsigned bytes (nutcracker reads them as unsigned char here). */
    if (left >= 3)
        h ^= (uint32_t)p[2] << 16;
    if (left >= 2)
        h ^= (uint32_t)p[1] << 8;
    if (left >= 1) {
        h ^= p[0];
        h *= MURMUR_M;
    }

    h ^= h >> 13;
    h *= MURMUR_M;
    h ^= h >> 15;
    return h;
}

SP_HASH_PLUGIN("murmur", "MurmurHash2, seed 0xdeadbeef*len (nutcracker 0.5.0)", 32, hash_murmur);
