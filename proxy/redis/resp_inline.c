/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis' inline command syntax, exactly as Redis 7 reads it (networking.c processInlineBuffer,
 * which splits the line with sds.c sdssplitargs), so a line means to the proxy what it would
 * mean to the server:
 *
 *   - blanks (space, tab, CR, VT, FF) before an argument are skipped; an unquoted argument ends
 *     at a space, tab or CR only (a VT or FF inside one is part of it);
 *   - "double quotes" take the escapes \xHH (two hex digits), \n \r \t \b \a, and \<c> for any
 *     other c; 'single quotes' take only \' ; a quote may start in the middle of an argument
 *     ("a"b -> ab), a closing quote must be followed by a blank or the end of the line, and an
 *     unclosed quote is an error ("unbalanced quotes");
 *   - Redis finds the end of the line with strchr, so a NUL byte before the LF hides the LF:
 *     Redis would wait for more bytes for ever.  The proxy refuses such a line instead.
 *
 * The proxy never forwards an inline line: the arguments decoded here are sent as a RESP
 * multibulk that the proxy builds itself (resp_request.c), so the key it routes by is the key
 * the server stores.
 */
#include "config.h"

#include <string.h>

#include "resp.h"
#include "resp_inline.h"

/* isspace() in the C locale, without the locale lookup. */
static int c_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

static int hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The byte at i, or 0 past the end (Redis reads the line as a NUL-terminated string). */
static unsigned char at(const unsigned char *s, size_t n, size_t i)
{
    return i < n ? s[i] : 0;
}

/* The character a backslash escape inside double quotes stands for. */
static unsigned char unescape(unsigned char ch)
{
    switch (ch) {
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'b':
        return '\b';
    case 'a':
        return '\a';
    default:
        return ch;
    }
}

/*
 * Decodes one argument starting at s[*p] (not a blank) into s[*w...] (never ahead of *p, so in
 * place).  Moves *p past the argument and *w past its decoded bytes.  Returns 0, or -1 at an
 * unbalanced or badly closed quote (*p then at the offending byte).
 */
static int decode_arg(unsigned char *s, size_t n, size_t *p, size_t *w)
{
    size_t i = *p, o = *w;
    int dq = 0, sq = 0;

    for (;;) {
        unsigned char ch = at(s, n, i);

        if (dq) {
            int hi = hex_value(at(s, n, i + 2)), lo = hex_value(at(s, n, i + 3));

            if (ch == '\\' && at(s, n, i + 1) == 'x' && hi >= 0 && lo >= 0) {
                s[o++] = (unsigned char)(hi * 16 + lo);
                i += 3;
            } else if (ch == '\\' && at(s, n, i + 1) != 0) {
                i++;
                s[o++] = unescape(s[i]);
            } else if (ch == '"') {
                if (at(s, n, i + 1) != 0 && !c_space(s[i + 1])) {
                    *p = i + 1;
                    return -1;
                }
                i++;
                break;
            } else if (ch == 0) {
                *p = i;
                return -1;
            } else {
                s[o++] = ch;
            }
        } else if (sq) {
            if (ch == '\\' && at(s, n, i + 1) == '\'') {
                i++;
                s[o++] = '\'';
            } else if (ch == '\'') {
                if (at(s, n, i + 1) != 0 && !c_space(s[i + 1])) {
                    *p = i + 1;
                    return -1;
                }
                i++;
                break;
            } else if (ch == 0) {
                *p = i;
                return -1;
            } else {
                s[o++] = ch;
            }
        } else if (ch == ' ' || ch == '\r' || ch == '\t' || ch == 0) {
            break;
        } else if (ch == '"') {
            dq = 1;
        } else if (ch == '\'') {
            sq = 1;
        } else {
            s[o++] = ch;
        }
        if (i < n)
            i++;
    }
    *p = i;
    *w = o;
    return 0;
}

int sp_resp_inline_split(unsigned char *line, size_t n, sp_resp_inline_arg_fn *add, void *ctx,
                         size_t *bad)
{
    size_t p = 0, w = 0;
    const unsigned char *nul = n > 0 ? memchr(line, '\0', n) : NULL; /* line may be NULL */

    if (nul != NULL) {
        *bad = (size_t)(nul - line);
        return SP_INLINE_NUL;
    }
    for (;;) {
        size_t start, arg_at;
        int rc;

        while (p < n && c_space(line[p]))
            p++;
        if (p >= n)
            return SP_INLINE_OK;
        start = w;
        arg_at = p;
        if (decode_arg(line, n, &p, &w) < 0) {
            *bad = p;
            return SP_INLINE_QUOTES;
        }
        rc = add(ctx, start, w - start);
        if (rc != SP_INLINE_OK) {
            *bad = arg_at;
            return rc;
        }
    }
}
