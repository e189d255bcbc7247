/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data path's clocks: wall time for ejection stamps (as nutcracker's nc_usec_now, since the
 * stats report them) and the event loop's cached time for deadlines (no system call per request).
 */
#include "config.h"

#include <sys/time.h>

#include "core.h"

int64_t sp_usec_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

uint64_t sp_loop_usec(struct event_base *base)
{
    struct timeval tv;

    event_base_gettimeofday_cached(base, &tv);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}
