/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An out-of-tree hash plugin, as a plugin author writes one: Bernstein's djb2.
 *
 * Build (after `make install` of shardproxy):
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags shardproxy) \
 *      -o hash_djb2.so hash_djb2.c
 * then point the proxy or the oracle at its directory (--plugin-dir or $SHARDPROXY_PLUGIN_PATH)
 * and write `hash: djb2` in the pool.
 */
#include <shardproxy/plugin.h>

static uint64_t djb2(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t h = 5381;
    for (size_t i = 0; i < len; i++)
        h = h * 33 + p[i];
    return h;
}

SP_HASH_PLUGIN("djb2", "Bernstein djb2 (example plugin)", 32, djb2);
