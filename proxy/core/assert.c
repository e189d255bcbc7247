/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The end of a broken invariant (SP_ASSERT in core.h): one log line naming it, then abort, so a
 * core dump shows the state where it broke.
 */
#include "config.h"

#include <stdlib.h>

#include "core.h"
#include "report/log.h"

void sp_assert_fail(const char *cond, const char *file, int line)
{
    sp_log_error("assertion failed at %s:%d: %s", file, line, cond);
    abort();
}
