/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugin "jenkins": Bob Jenkins' lookup3 hashlittle() as nutcracker 0.5.0 has it, with the
 * fixed initval 13 (a = b = c = 0xdeadbeef + len + 13); nutcracker fleets use that initval, so
 * the empty key hashes to 0xdeadbefc.  nutcracker picks 32-, 16- or 8-bit reads by alignment;
 * on little-endian hosts all three give the same value, which is the value we compute with
 * byte-wise little-endian loads (any alignment, any host byte order).  Bytes are unsigned.
 */
#include "config.h"

#include <string.h>

#include <shardproxy/plugin.h>

#include "key_bytes.h"

#define JENKINS_INITVAL 13u

static uint32_t jenkins_rot(uint32_t x, unsigned k)
{
    return (x << k) | (x >> (32u - k));
}

/* lookup3 mix(): reversible mixing of three 32-bit words after each 12-byte block. */
static void jenkins_mix(uint32_t *a, uint32_t *b, uint32_t *c)
{
    *a -= *c; *a ^= jenkins_rot(*c, 4);  *c += *b;
    *b -= *a; *b ^= jenkins_rot(*a, 6);  *a += *c;
    *c -= *b; *c ^= jenkins_rot(*b, 8);  *b += *a;
    *a -= *c; *a ^= jenkins_rot(*c, 16); *c += *b;
    *b -= *a; *b ^= jenkins_rot(*a, 19); *a += *c;
    *c -= *b; *c ^= jenkins_rot(*b, 4);  *b += *a;
}

/* lookup3 final(): the last block's avalanche into c. */
static void jenkins_final(uint32_t *a, uint32_t *b, uint32_t *c)
{
    *c ^= *b; *c -= jenkins_rot(*b, 14);
    *a ^= *c; *a -= jenkins_rot(*c, 11);
    *b ^= *a; *b -= jenkins_rot(*a, 25);
    *c ^= *b; *c -= jenkins_rot(*b, 16);
    *a ^= *c; *a -= jenkins_rot(*c, 4);
    *b ^= *a; *b -= jenkins_rot(*a, 14);
    *c ^= *b; *c -= jenkins_rot(*b, 24);
}

static uint64_t hash_jenkins(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + (uint32_t)len + JENKINS_INITVAL;

    if (len == 0)
        return c;   /* lookup3: no mixing for the empty key */

    /* Every block but the last (which has 1..12 bytes, never 0). */
    size_t left = len;
    for (; left > 12; left -= 12, p += 12) {
        a += sp_load_le32(p);
        b += sp_load_le32(p + 4);
        c += sp_load_le32(p + 8);
        jenkins_mix(&a, &b, &c);
    }

    /* The last block, zero-padded: the same sums as lookup3's masked/byte-wise tail cases. */
    unsigned char last[12] = {0};
    memcpy(last, p, left);
    a += sp_load_le32(last);
    b += sp_load_le32(last + 4);
    c += sp_load_le32(last + 8);
    jenkins_final(&a, &b, &c);
    return c;
}

SP_HASH_PLUGIN("jenkins", "Jenkins lookup3 hashlittle, initval 13 (nutcracker 0.5.0)", 32,
               hash_jenkins);
