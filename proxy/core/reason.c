/* SPDX-License-Identifier: Apache-2.0 */
/* Coded reasons (reason.h): a server's error code carried through the core to the client. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reason.h"

#define SP_REASON_MARK '-'

size_t sp_reason_code_len(const char *s)
{
    size_t n = 0;

    while (n <= SP_REASON_CODE_MAX &&
           ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
        n++;
    if (n == 0 || n > SP_REASON_CODE_MAX || (s[n] != ' ' && s[n] != '\0'))
        return 0;
    return n;
}

void sp_reason_coded(char *dst, size_t cap, const char *code, const char *fmt, ...)
{
    size_t n = sp_reason_code_len(code);
    size_t at = 0;
    va_list ap;

    if (n > 0 && n + 2 < cap) {
        dst[0] = SP_REASON_MARK;
        memcpy(dst + 1, code, n);
        dst[n + 1] = ' ';
        at = n + 2;
    }
    va_start(ap, fmt);
    (void)vsnprintf(dst + at, cap - at, fmt, ap);
    va_end(ap);
}

const char *sp_reason_split(const char *reason, const char **code, size_t *codelen)
{
    size_t n = reason[0] == SP_REASON_MARK ? sp_reason_code_len(reason + 1) : 0;

    *code = n > 0 ? reason + 1 : NULL;
    *codelen = n;
    if (n == 0)
        return reason;
    return reason[n + 1] == ' ' ? reason + n + 2 : reason + n + 1;
}
