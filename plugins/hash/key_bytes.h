/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte access shared by the nutcracker-compatible hash plugins (header-only, all static inline).
 *
 * nutcracker 0.5.0 reads keys through `const char *`.  Several of its hashes widen such a byte
 * straight to uint32_t/uint64_t, so on x86_64 (signed char) a byte >= 0x80 enters as 0xFFFFFFxx,
 * and that is what every deployed fleet's placement is built on.  On aarch64 plain char is
 * unsigned, so copying nutcracker's `(uint32_t)key[i]` would silently place keys differently
 * there.  We therefore never widen a plain char: the helpers below say which extension they do.
 */
#ifndef SP_HASH_KEY_BYTES_H
#define SP_HASH_KEY_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* Byte i of the key, sign-extended to 32 bits as x86_64 nutcracker does (0x80 -> 0xFFFFFF80).
 * Reading through int8_t is well defined for any object (character type) and int8_t is
 * two's complement by definition, so this is the same on every CPU. */
static inline uint32_t sp_key_sbyte32(const void *key, size_t i)
{
    return (uint32_t)((const int8_t *)key)[i];
}

/* Bytes p[0..1] / p[0..3] as a little-endian number, from any alignment.  nutcracker's hsieh and
 * murmur read native words on x86_64, i.e. little-endian; spelling it out keeps big-endian and
 * strict-alignment hosts compatible. */
static inline uint32_t sp_load_le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline uint32_t sp_load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif /* SP_HASH_KEY_BYTES_H */
