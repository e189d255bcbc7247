/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reasons: why a request failed, as text handed from where the failure is seen (a server
 * connection, placement) to the protocol that answers the client with it (proto.h error_reply).
 *
 * Most reasons are the proxy's own ("Connection refused") and the protocol gives them its generic
 * error code.  When a server refused something with an error of its own (Redis's WRONGPASS,
 * NOAUTH), clients dispatch on that code, so it must stay first in what they read: such a reason is
 * coded, "-CODE text", and the protocol puts CODE where its error code goes.  The mark is
 * printable so that a logged reason reads like the server's error did; the proxy's own reasons
 * never begin with it.
 */
#ifndef SP_REASON_H
#define SP_REASON_H

#include <stddef.h>

/* The longest error code a coded reason carries (Redis's are a word: ERR, WRONGPASS). */
#define SP_REASON_CODE_MAX 32

/*
 * Length of the error code at the start of `s`: 1..SP_REASON_CODE_MAX characters of A-Z, 0-9
 * and '_' followed by a space or the end.  0 when `s` does not start with one.
 */
size_t sp_reason_code_len(const char *s);

/*
 * Writes into dst (cap > 0 bytes, truncated to fit, always terminated) the reason "-CODE text",
 * the text made from fmt.  A code that sp_reason_code_len rejects makes a plain reason (the
 * text alone): a reason is never malformed.
 */
void sp_reason_coded(char *dst, size_t cap, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The text of `reason`.  *code and *codelen get its code (not terminated) for a coded reason,
 * NULL and 0 for a plain one.
 */
const char *sp_reason_split(const char *reason, const char **code, size_t *codelen);

#endif /* SP_REASON_H */
