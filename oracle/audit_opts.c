/* SPDX-License-Identifier: Apache-2.0 */
/* The mover's options (--fix, --rate, --batch, --count, --timeout): audit's and migrate's. */
#include "config.h"

#include <stdint.h>

#include "audit.h"
#include "opts.h"
#include "oracle.h"

/* A whole number in [min, max] for option `opt`.  0, or exit code 2 after reporting. */
static int parse_range(const char *cmd, const char *opt, const char *s, uint64_t min,
                       uint64_t max, uint64_t *out)
{
    if (sp_oracle_parse_u64(cmd, opt, s, out))
        return SP_EXIT_BAD_INPUT;
    if (*out < min || *out > max)
        return sp_oracle_fail("%s: %s %s is out of range (expected %llu..%llu)", cmd, opt, s,
                              (unsigned long long)min, (unsigned long long)max);
    return 0;
}

int sp_audit_parse_option(const char *cmd, int opt, const char *arg, struct sp_audit_opts *o)
{
    uint64_t v;
    switch (opt) {
    case SP_AUDIT_OPT_FIX: o->fix = true; return 0;
    case SP_AUDIT_OPT_RATE: return parse_range(cmd, "--rate", arg, 1, UINT32_MAX, &o->rate);
    case SP_AUDIT_OPT_BATCH: return parse_range(cmd, "--batch", arg, 1, 100000, &o->batch);
    case SP_AUDIT_OPT_COUNT: return parse_range(cmd, "--count", arg, 1, 1000000, &o->count);
    case SP_AUDIT_OPT_TIMEOUT:
        if (parse_range(cmd, "--timeout", arg, 1, 3600000, &v))
            return SP_EXIT_BAD_INPUT;
        o->timeout_ms = (int)v;
        return 0;
    }
    return -1;
}
