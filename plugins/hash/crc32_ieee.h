/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the zlib crc32), shared by the crc32 and
 * crc32a plugins.  The table is computed by the compiler from the polynomial, so it is constant
 * data with nothing typed in by hand and no run-time initialisation (no mutable globals).
 */
#ifndef SP_HASH_CRC32_IEEE_H
#define SP_HASH_CRC32_IEEE_H

#include <stddef.h>
#include <stdint.h>

/* One bit of the reflected CRC: shift right, xor the polynomial when a 1 fell out. */
#define SP_CRC32_BIT(c) (((c) >> 1) ^ (0xedb88320u & (0u - ((c) & 1u))))
#define SP_CRC32_ENTRY(n)                                                                        \
    SP_CRC32_BIT(SP_CRC32_BIT(SP_CRC32_BIT(SP_CRC32_BIT(                                         \
        SP_CRC32_BIT(SP_CRC32_BIT(SP_CRC32_BIT(SP_CRC32_BIT((uint32_t)n))))))))
#define SP_CRC32_ROW(h)                                                                          \
    SP_CRC32_ENTRY(h##0), SP_CRC32_ENTRY(h##1), SP_CRC32_ENTRY(h##2), SP_CRC32_ENTRY(h##3),       \
    SP_CRC32_ENTRY(h##4), SP_CRC32_ENTRY(h##5), SP_CRC32_ENTRY(h##6), SP_CRC32_ENTRY(h##7),       \
    SP_CRC32_ENTRY(h##8), SP_CRC32_ENTRY(h##9), SP_CRC32_ENTRY(h##a), SP_CRC32_ENTRY(h##b),       \
    SP_CRC32_ENTRY(h##c), SP_CRC32_ENTRY(h##d), SP_CRC32_ENTRY(h##e), SP_CRC32_ENTRY(h##f)

/* Entry n = CRC of the single byte n (row 0x1 holds 0x10..0x1f, and so on). */
static const uint32_t sp_crc32_table[256] = {
    SP_CRC32_ROW(0x),  SP_CRC32_ROW(0x1), SP_CRC32_ROW(0x2), SP_CRC32_ROW(0x3),
    SP_CRC32_ROW(0x4), SP_CRC32_ROW(0x5), SP_CRC32_ROW(0x6), SP_CRC32_ROW(0x7),
    SP_CRC32_ROW(0x8), SP_CRC32_ROW(0x9), SP_CRC32_ROW(0xa), SP_CRC32_ROW(0xb),
    SP_CRC32_ROW(0xc), SP_CRC32_ROW(0xd), SP_CRC32_ROW(0xe), SP_CRC32_ROW(0xf),
};

/* Standard CRC-32 of key[0..len-1] (init and final xor 0xFFFFFFFF); "" -> 0.  The byte is used
 * unsigned; nutcracker's crc32 widens a signed char but masks with 0xff, so signedness never
 * shows. */
static inline uint32_t sp_crc32_ieee(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        crc = (crc >> 8) ^ sp_crc32_table[(crc ^ p[i]) & 0xffu];
    return ~crc;
}

#endif /* SP_HASH_CRC32_IEEE_H */
