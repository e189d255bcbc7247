/* SPDX-License-Identifier: Apache-2.0 */
/* Hex encoding of binary keys, as the vectors and `--hex` input use it. */
#ifndef SP_HEX_H
#define SP_HEX_H

#include <stddef.h>

/*
 * Decodes `n` hex digits from `text` into out[] (room for n/2 bytes).  Accepts upper and lower
 * case.  Returns the number of bytes written, or -1 when n is odd or a character is not a hex
 * digit; then *bad_offset (if not NULL) is the offset of the first offending character (n for an
 * odd length).  Never reads past text[n-1].
 */
long sp_hex_decode(const char *text, size_t n, unsigned char *out, size_t *bad_offset);

/* Encodes n bytes as 2n lowercase hex digits plus a NUL into out (room for 2n+1). */
void sp_hex_encode(const void *bytes, size_t n, char *out);

#endif /* SP_HEX_H */
