/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugin "crc16": nutcracker 0.5.0's crc16, a CRC-16/XMODEM table loop (polynomial 0x1021,
 * init 0, MSB first) whose running value lives in a uint32_t and is never cut to 16 bits.
 * Each step shifts the whole value left by 8, so the bits a real CRC-16 discards pile up above
 * bit 15 (until they fall off the top of the 32-bit word).  The low 16 bits equal
 * CRC-16/XMODEM; the full 32-bit value is what nutcracker feeds to modula/ketama, so fleets
 * depend on it and we must not mask it.
 */
#include "config.h"

#include <shardproxy/plugin.h>

/* One bit of the MSB-first CRC-16: shift left, xor the polynomial when a 1 fell out of bit 15. */
#define CRC16_BIT(c) ((((c) << 1) ^ (0x1021u & (0u - (((c) >> 15) & 1u)))) & 0xffffu)
#define CRC16_ENTRY(n)                                                                           \
    CRC16_BIT(CRC16_BIT(CRC16_BIT(CRC16_BIT(                                                     \
        CRC16_BIT(CRC16_BIT(CRC16_BIT(CRC16_BIT((uint32_t)n << 8))))))))
#define CRC16_ROW(h)                                                                             \
    CRC16_ENTRY(h##0), CRC16_ENTRY(h##1), CRC16_ENTRY(h##2), CRC16_ENTRY(h##3),                   \
    CRC16_ENTRY(h##4), CRC16_ENTRY(h##5), CRC16_ENTRY(h##6), CRC16_ENTRY(h##7),                   \
    CRC16_ENTRY(h##8), CRC16_ENTRY(h##9), CRC16_ENTRY(h##a), CRC16_ENTRY(h##b),                   \
    CRC16_ENTRY(h##c), CRC16_ENTRY(h##d), CRC16_ENTRY(h##e), CRC16_ENTRY(h##f)

/* CRC-16/XMODEM of each single byte, computed by the compiler from the polynomial. */
static const uint16_t crc16_table[256] = {
    CRC16_ROW(0x),  CRC16_ROW(0x1), CRC16_ROW(0x2), CRC16_ROW(0x3),
    CRC16_ROW(0x4), CRC16_ROW(0x5), CRC16_ROW(0x6), CRC16_ROW(0x7),
    CRC16_ROW(0x8), CRC16_ROW(0x9), CRC16_ROW(0xa), CRC16_ROW(0xb),
    CRC16_ROW(0xc), CRC16_ROW(0xd), CRC16_ROW(0xe), CRC16_ROW(0xf),
};

static uint64_t hash_crc16(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        /* The index uses bits 8..15 only (masked), so char signedness never shows here; the
         * shift is the quirk: no "& 0xffff" on crc, on purpose (see the top of the file). */
        crc = (crc << 8) ^ crc16_table[((crc >> 8) ^ p[i]) & 0xffu];
    }
    return crc;
}

SP_HASH_PLUGIN("crc16", "CRC-16/XMODEM loop kept in 32 bits, not truncated (nutcracker 0.5.0)",
               32, hash_crc16);
