/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the RESP request parser: Redis' inline command syntax (resp_inline.c).
 */
#ifndef SP_RESP_INLINE_H
#define SP_RESP_INLINE_H

#include <stddef.h>

/* Results of sp_resp_inline_split (an `add` callback may return any other non-zero value). */
enum {
    SP_INLINE_OK = 0,
    SP_INLINE_NUL = 1,    /* a NUL byte in the line: Redis would never see its end */
    SP_INLINE_QUOTES = 2, /* unbalanced quotes, or a closing quote not followed by a blank */
};

/* Receives each argument: `len` decoded bytes at offset `off` of the line. */
typedef int sp_resp_inline_arg_fn(void *ctx, size_t off, size_t len);

/*
 * Splits the inline line line[0..n) (without its LF, and without the CR before it) into
 * arguments as Redis does, decoding quotes and escapes in place: argument bytes end up in
 * line[0..n) at the offsets handed to `add`, in order.  Returns SP_INLINE_OK; SP_INLINE_NUL or
 * SP_INLINE_QUOTES with *bad set to the offending byte's offset in the line; or the first
 * non-zero value `add` returned (with *bad where that argument starts).  A line of blanks has
 * no argument.
 */
int sp_resp_inline_split(unsigned char *line, size_t n, sp_resp_inline_arg_fn *add, void *ctx,
                         size_t *bad);

#endif /* SP_RESP_INLINE_H */
