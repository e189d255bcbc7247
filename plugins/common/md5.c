/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MD5 as specified by RFC 1321.  Written for shardproxy: nutcracker's md5 hash and its ketama
 * points are both MD5-based, so this has to be exact, not fast at all costs.  Words are loaded
 * byte by byte (little-endian), which makes the result independent of host endianness and of the
 * alignment of the caller's buffer.
 */
#include "config.h"

#include "md5.h"

#include <stdint.h>
#include <string.h>

#define MD5_BLOCK 64

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4. */
static const uint32_t md5_t[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu,
    0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu,
    0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau,
    0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu,
    0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu,
    0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u,
    0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u,
    0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u,
    0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u,
};

/* Left-rotation amounts, four per round (RFC 1321 section 3.4). */
static const unsigned char md5_s[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21},
};

static uint32_t md5_rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32u - n));
}

static uint32_t md5_load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void md5_store_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* One MD5 operation (RFC 1321 section 3.4) on the state (a, b, c, d) with the round function
 * value f: the new b is b + ((a + f + X[k] + T[i]) <<< s); the others move along by one. */
#define MD5_OP(f, k, i, s)                                                                       \
    do {                                                                                         \
        uint32_t nb_ = b + md5_rotl(a + (f) + x[k] + md5_t[i], (s));                             \
        a = d;                                                                                   \
        d = c;                                                                                   \
        c = b;                                                                                   \
        b = nb_;                                                                                 \
    } while (0)

/* Folds one 64-byte block into the state st[4] (a, b, c, d).  One loop per round with constant
 * trip counts, so the compiler can unroll them (no per-step branch on the round). */
static void md5_block(uint32_t st[4], const unsigned char *block)
{
    uint32_t x[16];
    for (unsigned i = 0; i < 16; i++)
        x[i] = md5_load_le32(block + 4 * i);

    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (unsigned i = 0; i < 16; i++)
        MD5_OP((b & c) | (~b & d), i, i, md5_s[0][i % 4]);
    for (unsigned i = 16; i < 32; i++)
        MD5_OP((b & d) | (c & ~d), (5 * i + 1) % 16, i, md5_s[1][i % 4]);
    for (unsigned i = 32; i < 48; i++)
        MD5_OP(b ^ c ^ d, (3 * i + 5) % 16, i, md5_s[2][i % 4]);
    for (unsigned i = 48; i < 64; i++)
        MD5_OP(c ^ (b | ~d), (7 * i) % 16, i, md5_s[3][i % 4]);
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

void sp_md5(const void *data, size_t len, unsigned char digest[SP_MD5_DIGEST_LEN])
{
    uint32_t st[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    const unsigned char *p = data;
    size_t left = len;

    for (; left >= MD5_BLOCK; left -= MD5_BLOCK, p += MD5_BLOCK)
        md5_block(st, p);

    /* Padding: 0x80, zeros up to 56 mod 64, then the bit length as a 64-bit little-endian
     * number.  The tail plus padding needs one block, or two when fewer than 9 bytes are free. */
    unsigned char tail[2 * MD5_BLOCK];
    memset(tail, 0, sizeof(tail));
    if (left > 0)
        memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tail_len = left + 9 <= MD5_BLOCK ? MD5_BLOCK : 2 * MD5_BLOCK;
    uint64_t bits = (uint64_t)len << 3;   /* modulo 2^64, as RFC 1321 says */
    md5_store_le32(tail + tail_len - 8, (uint32_t)bits);
    md5_store_le32(tail + tail_len - 4, (uint32_t)(bits >> 32));
    for (size_t off = 0; off < tail_len; off += MD5_BLOCK)
        md5_block(st, tail + off);

    for (unsigned i = 0; i < 4; i++)
        md5_store_le32(digest + 4 * i, st[i]);
}
