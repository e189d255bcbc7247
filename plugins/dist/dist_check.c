/* SPDX-License-Identifier: Apache-2.0 */
/* Shared input checks of the distribution plugins (see dist_check.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "dist_check.h"

void sp_dist_error(char *err, size_t errlen, const char *dist, const char *fmt, ...)
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

int sp_dist_check_servers(const char *dist, const struct sp_server_spec *servers, size_t n,
                          uint32_t *total, char *err, size_t errlen)
{
    if (servers == NULL || n == 0) {
        sp_dist_error(err, errlen, dist, "no servers (a distribution needs at least one)");
        return -1;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sp_server_spec *s = &servers[i];
        /* Names are printed capped: a message must stay one readable line. */
        int shown = s->name_len > 64 ? 64 : (int)s->name_len;
        if (s->weight == 0) {
            sp_dist_error(err, errlen, dist, "server %zu '%.*s%s' has weight 0 (must be >= 1)", i,
                          shown, s->name ? s->name : "", (size_t)shown < s->name_len ? "..." : "");
            return -1;
        }
        sum += s->weight;
        if (sum > UINT32_MAX) {
            sp_dist_error(err, errlen, dist,
                          "total weight exceeds %lu at server %zu '%.*s%s' (nutcracker sums "
                          "weights in 32 bits)",
                          (unsigned long)UINT32_MAX, i, shown, s->name ? s->name : "",
                          (size_t)shown < s->name_len ? "..." : "");
            return -1;
        }
    }
    *total = (uint32_t)sum;
    return 0;
}
