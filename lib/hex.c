/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "hex.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long sp_hex_decode(const char *text, size_t n, unsigned char *out, size_t *bad_offset)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        int hi = hex_digit(text[i]);
        int lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0) {
            if (bad_offset)
                *bad_offset = hi < 0 ? i : i + 1;
            return -1;
        }
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    if (n % 2) {
        if (bad_offset)
            *bad_offset = hex_digit(text[n - 1]) < 0 ? n - 1 : n;
        return -1;
    }
    return (long)(n / 2);
}

void sp_hex_encode(const void *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}
