/* SPDX-License-Identifier: Apache-2.0 */
/* The command table, generated from SP_COMMAND_LIST, and its case-insensitive lookup. */
#include "config.h"

#include "commands.h"

#define SP_CMD_ENTRY_(name, arity, first, last, step, route, flags, reason) \
    { #name, (uint8_t)(sizeof(#name) - 1), SP_CMD_##name, SP_ROUTE_##route, (arity), (first), \
      (last), (step), (flags), (reason) },

static const struct sp_command sp_commands[SP_CMD_COUNT_] = {
    SP_COMMAND_LIST(SP_CMD_ENTRY_)
};

#undef SP_CMD_ENTRY_

/* ASCII upper-casing that leaves every other byte alone (locale-independent, any signedness). */
static inline unsigned char upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - ('a' - 'A')) : c;
}

/*
 * Byte-order comparison of an upper-cased key against an entry, as the list is sorted.  A plain
 * loop: names are short and usually differ in the first byte, where a memcmp call costs more than
 * the comparison.
 */
static int cmp_entry(const unsigned char *key, size_t len, const struct sp_command *c)
{
    const unsigned char *name = (const unsigned char *)c->name;
    size_t n = len < c->name_len ? len : c->name_len;

    for (size_t i = 0; i < n; i++)
        if (key[i] != name[i])
            return (int)key[i] - (int)name[i];
    return (len > c->name_len) - (len < c->name_len);
}

/*
 * Upper-cases into a small stack buffer, then binary-searches the sorted table: about eight
 * short memcmp calls, no per-request allocation and no strcasecmp over the table.
 */
const struct sp_command *sp_command_lookup(const void *name, size_t len)
{
    unsigned char key[SP_COMMAND_NAME_MAX];
    const unsigned char *in = name;
    size_t lo = 0, hi = SP_CMD_COUNT_;

    if (len == 0 || len > sizeof(key))
        return NULL;
    for (size_t i = 0; i < len; i++)
        key[i] = upper(in[i]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = cmp_entry(key, len, &sp_commands[mid]);

        if (d == 0)
            return &sp_commands[mid];
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int sp_command_is(const struct sp_command *cmd, const void *name, size_t len)
{
    const unsigned char *in = name;

    if (len != cmd->name_len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (upper(in[i]) != (unsigned char)cmd->name[i])
            return 0;
    return 1;
}

const struct sp_command *sp_command_get(enum sp_cmd_id id)
{
    if ((unsigned)id >= SP_CMD_COUNT_)
        return NULL;
    return &sp_commands[id];
}

size_t sp_command_count(void)
{
    return SP_CMD_COUNT_;
}

int sp_command_arity_ok(const struct sp_command *cmd, size_t argc)
{
    if (cmd->arity >= 0)
        return argc == (size_t)cmd->arity;
    return argc >= (size_t)-cmd->arity;
}

/* Keys of an EVAL-like request: argv[3 .. 2+numkeys]. */
static long eval_keys(size_t argc, long long numkeys, size_t *first, size_t *last, size_t *step)
{
    if (numkeys < 0 || (unsigned long long)numkeys > argc - 3)
        return -1;
    if (numkeys == 0) {
        *first = *last = *step = 0;
        return 0;
    }
    *first = 3;
    *last = 2 + (size_t)numkeys;
    *step = 1;
    return (long)numkeys;
}

long sp_command_keys(const struct sp_command *cmd, size_t argc, long long numkeys,
                     size_t *first, size_t *last, size_t *step)
{
    size_t f, l, s;

    if (!sp_command_arity_ok(cmd, argc))
        return -1;
    if (cmd->route == SP_ROUTE_EVAL)
        return eval_keys(argc, numkeys, first, last, step);
    if (cmd->first_key <= 0) {
        *first = *last = *step = 0;
        return 0;
    }
    f = (size_t)cmd->first_key;
    s = (size_t)cmd->key_step;
    if (cmd->last_key >= 0)
        l = (size_t)cmd->last_key;
    else if ((size_t)-cmd->last_key <= argc)
        l = argc - (size_t)-cmd->last_key;
    else
        return -1;
    if (l < f || l >= argc)
        return -1;
    /* Pairs (MSET): the last key must leave room for its value, i.e. step divides the span. */
    if (cmd->last_key < 0 && s > 1 && (argc - f) % s != 0)
        return -1;
    if (cmd->last_key < 0 && s > 1)
        l = argc - s;
    *first = f;
    *last = l;
    *step = s;
    return (long)((l - f) / s + 1);
}

const char *sp_command_route_name(enum sp_cmd_route route)
{
    switch (route) {
    case SP_ROUTE_KEY: return "key";
    case SP_ROUTE_MGET: return "mget";
    case SP_ROUTE_SUM: return "sum";
    case SP_ROUTE_MSET: return "mset";
    case SP_ROUTE_EVAL: return "eval";
    case SP_ROUTE_KEYLESS: return "keyless";
    case SP_ROUTE_LOCAL: return "local";
    case SP_ROUTE_REJECT: return "reject";
    }
    return "?";
}
