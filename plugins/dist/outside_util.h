/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the "outside" distribution plugins (jump, rendezvous).  These plugins are
 * written as an out-of-tree author would write them: they use <shardproxy/plugin.h> and the C
 * library only, nothing from lib/ or plugins/common/.  Everything here is static inline so each
 * plugin stays one self-contained shared object exporting only its descriptor.
 */
#ifndef SP_OUTSIDE_UTIL_H
#define SP_OUTSIDE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <shardproxy/plugin.h>

#if defined(__GNUC__)
#define OD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OD_PRINTF(f, a)
#endif

/* Writes "<dist>: <message>" into err[errlen], NUL-terminated and truncated; NULL/0 is allowed. */
static inline void od_error(char *err, size_t errlen, const char *dist, const char *fmt, ...)
    OD_PRINTF(4, 5);

static inline void od_error(char *err, size_t errlen, const char *dist, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    int used = snprintf(err, errlen, "%s: ", dist);
    if (used < 0 || (size_t)used >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, errlen - (size_t)used, fmt, ap);
    va_end(ap);
}

/*
 * Writes "<index> '<name>'" for server `i` into buf[len], the name capped at 48 bytes with "..."
 * (a message must stay one readable line even for absurd names).  Returns buf.
 */
static inline const char *od_server_label(const struct sp_server_spec *servers, size_t i,
                                          char *buf, size_t len)
{
    const struct sp_server_spec *s = &servers[i];
    size_t shown = s->name_len > 48 ? 48 : s->name_len;
    snprintf(buf, len, "%zu '%.*s%s'", i, (int)shown, s->name ? s->name : "",
             shown < s->name_len ? "..." : "");
    return buf;
}

/*
 * MurmurHash3's 64-bit finalizer (fmix64): a bijection on 64-bit values with full avalanche.
 * nutcracker's hashes carry 32 bits; spreading them over 64 bits first is what lets jump's LCG and
 * the rendezvous scores treat the key as uniform 64-bit input.  Note fmix64(0) == 0.
 */
static inline uint64_t od_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif /* SP_OUTSIDE_UTIL_H */
