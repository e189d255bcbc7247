/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deliberately broken plugins for the loader tests.  Each file defines one descriptor by hand
 * (bypassing the registration macros) so it can be wrong in exactly one way.
 */
#ifndef SP_TEST_BROKEN_H
#define SP_TEST_BROKEN_H

#include <shardproxy/plugin.h>

/* The overrides repeat a designated initializer on purpose. */
#pragma GCC diagnostic ignored "-Woverride-init"

uint64_t broken_hash(const void *key, size_t len);

/* A valid hash descriptor with one field overridden: BROKEN_PLUGIN(.abi_major = 99). */
#define BROKEN_PLUGIN(...)                                                                       \
    SP_PLUGIN_EXTERN SP_PLUGIN_EXPORT const struct sp_plugin SP_PLUGIN_SYMBOL;                    \
    const struct sp_plugin SP_PLUGIN_SYMBOL = {                                                  \
        .abi_major = SP_ABI_MAJOR,                                                               \
        .abi_minor = SP_ABI_MINOR,                                                               \
        .struct_size = (uint32_t)sizeof(struct sp_plugin),                                       \
        .kind = SP_PLUGIN_HASH,                                                                  \
        .name = "broken",                                                                        \
        .summary = "deliberately broken",                                                        \
        .hash_bits = 32,                                                                         \
        .hash = broken_hash,                                                                     \
        __VA_ARGS__                                                                              \
    }

#define BROKEN_HASH_BODY                                                                         \
    uint64_t broken_hash(const void *key, size_t len)                                            \
    {                                                                                            \
        (void)key;                                                                               \
        return len;                                                                              \
    }

#endif
