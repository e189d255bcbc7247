/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input checks every distribution plugin makes on the {name, weight} list it is given, so that all
 * of them reject the same bad input with the same message.
 */
#ifndef SP_DIST_CHECK_H
#define SP_DIST_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <shardproxy/plugin.h>

/*
 * Checks that there is at least one server, that every weight is >= 1 and that the weights sum to
 * at most UINT32_MAX (nutcracker adds them up in 32 bits).  On success stores the sum in *total
 * and returns 0.  On failure returns -1, leaves *total unchanged and writes one line starting with
 * "<dist>: " into err[errlen], naming the offending server (index and name).
 */
int sp_dist_check_servers(const char *dist, const struct sp_server_spec *servers, size_t n,
                          uint32_t *total, char *err, size_t errlen);

/* Writes "<dist>: <message>" into err[errlen] (NUL-terminated, truncated); NULL/0 is allowed. */
#if defined(__GNUC__)
#define SP_DIST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SP_DIST_PRINTF(f, a)
#endif
void sp_dist_error(char *err, size_t errlen, const char *dist, const char *fmt, ...)
    SP_DIST_PRINTF(4, 5);

#endif /* SP_DIST_CHECK_H */
