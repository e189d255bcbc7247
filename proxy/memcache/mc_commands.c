/* SPDX-License-Identifier: Apache-2.0 */
/* The memcached command table, generated from SP_MC_COMMAND_LIST, and its lookup. */
#include "config.h"

#include <string.h>

#include "mc_commands.h"

#define SP_MC_ENTRY_(name, kind, min, max, why) \
    { #name, (uint8_t)(sizeof(#name) - 1), SP_MC_CMD_##name, SP_MC_##kind, (min), (max), (why) },

static const struct sp_mc_command mc_commands[SP_MC_CMD_COUNT_] = {
    SP_MC_COMMAND_LIST(SP_MC_ENTRY_)
};

#undef SP_MC_ENTRY_

/* Byte-order comparison of a name against an entry, as the list is sorted. */
static int cmp_entry(const unsigned char *name, size_t len, const struct sp_mc_command *c)
{
    size_t n = len < c->name_len ? len : c->name_len;
    int d = memcmp(name, c->name, n);

    if (d != 0)
        return d;
    return (len > c->name_len) - (len < c->name_len);
}

const struct sp_mc_command *sp_mc_command_lookup(const void *name, size_t len)
{
    size_t lo = 0, hi = SP_MC_CMD_COUNT_;

    if (len == 0 || len > SP_MC_NAME_MAX)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = cmp_entry(name, len, &mc_commands[mid]);

        if (d == 0)
            return &mc_commands[mid];
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct sp_mc_command *sp_mc_command_get(unsigned id)
{
    return id < SP_MC_CMD_COUNT_ ? &mc_commands[id] : NULL;
}

size_t sp_mc_command_count(void)
{
    return SP_MC_CMD_COUNT_;
}

int sp_mc_kind_has_data(enum sp_mc_kind kind)
{
    return kind == SP_MC_STORE || kind == SP_MC_CAS || kind == SP_MC_META_SET;
}

const char *sp_mc_kind_name(enum sp_mc_kind kind)
{
    static const char *const names[] = {
        "store", "cas", "get", "gat", "delete", "arith", "touch",
        "meta", "meta_set", "noop", "version", "all", "quit", "refuse",
    };

    return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
