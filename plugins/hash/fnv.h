/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FNV loop shared by the four nutcracker FNV plugins (fnv1_32, fnv1a_32, fnv1_64, fnv1a_64).
 * They differ only in constants and in the order of multiply and xor, so each plugin is one call.
 */
#ifndef SP_HASH_FNV_H
#define SP_HASH_FNV_H

#include <stddef.h>
#include <stdint.h>

#include "key_bytes.h"

/* Standard 32-bit FNV parameters. */
#define SP_FNV32_OFFSET 2166136261u
#define SP_FNV32_PRIME 16777619u

/* The 64-bit FNV parameters cut to their low 32 bits (0xcbf29ce484222325, 0x100000001b3).
 * nutcracker's "64-bit" FNVs return uint32_t; the low 32 bits of a product or xor depend only on
 * the low 32 bits of the operands, so 32-bit arithmetic with these constants gives exactly the
 * low half of the 64-bit computation, and it is what nutcracker's fnv1a_64 literally does. */
#define SP_FNV64_OFFSET_LO 0x84222325u
#define SP_FNV64_PRIME_LO 0x000001b3u

enum sp_fnv_order {
    SP_FNV1,   /* multiply, then xor the byte */
    SP_FNV1A,  /* xor the byte, then multiply */
};

/*
 * FNV over key[0..len-1] in 32-bit arithmetic.  Every byte is sign-extended first (0xFF enters
 * as 0xFFFFFFFF): nutcracker widens `char` directly, and x86_64 fleets place keys with high bytes
 * that way.  This differs from textbook FNV for any key containing a byte >= 0x80.
 * `order` is a constant at every call site, so the branch folds away after inlining.
 */
static inline uint32_t sp_fnv32(const void *key, size_t len, uint32_t offset, uint32_t prime,
                                enum sp_fnv_order order)
{
    uint32_t h = offset;
    for (size_t i = 0; i < len; i++) {
        uint32_t b = sp_key_sbyte32(key, i);
        if (order == SP_FNV1) {
            h *= prime;
            h ^= b;
        } else {
            h ^= b;
            h *= prime;
        }
    }
    return h;
}

#endif /* SP_HASH_FNV_H */
