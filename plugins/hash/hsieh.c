/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugin "hsieh": Paul Hsieh's SuperFastHash as nutcracker 0.5.0 (via libmemcached) has it.
 * Two departures from Hsieh's published code, both kept because nutcracker fleets place keys
 * with them:
 *   - the state starts at 0, not at the key length (so the empty key hashes to 0);
 *   - in the 3-byte tail the third byte is read through plain `char`, i.e. sign-extended on
 *     x86_64, before `<< 18`; the 16-bit reads and the 1-byte tail are unsigned.
 */
#include "config.h"

#include <shardproxy/plugin.h>

#include "key_bytes.h"

static uint64_t hash_hsieh(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t h = 0;   /* quirk: nutcracker's initial state, not `len` */

    for (size_t n = len / 4; n > 0; n--, p += 4) {
        h += sp_load_le16(p);
        h = (h << 16) ^ ((sp_load_le16(p + 2) << 11) ^ h);
        h += h >> 11;
    }

    switch (len % 4) {
    case 3:
        h += sp_load_le16(p);
        h ^= h << 16;
        /* quirk: sign-extended (0x80 -> 0xFFFFFF80 << 18 sets bits 25..31), as on x86_64;
         * explicit so that unsigned-char CPUs agree. */
        h ^= sp_key_sbyte32(p, 2) << 18;
        h += h >> 11;
        break;
    case 2:
        h += sp_load_le16(p);
        h ^= h << 11;
        h += h >> 17;
        break;
    case 1:
        h += p[0];
        h ^= h << 10;
        h += h >> 1;
        break;
    default:
        break;
    }

    /* Final avalanche. */
    h ^= h << 3;
    h += h >> 5;
    h ^= h << 4;
    h += h >> 17;
    h ^= h << 25;
    h += h >> 6;
    return h;
}

SP_HASH_PLUGIN("hsieh", "Hsieh SuperFastHash, initial state 0 (nutcracker 0.5.0)", 32,
               hash_hsieh);
