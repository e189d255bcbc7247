/* SPDX-License-Identifier: Apache-2.0 */
/* Hash plugin "crc32a": the standard CRC-32 (IEEE, = zlib crc32), as nutcracker 0.5.0 has it. */
#include "config.h"

#include <shardproxy/plugin.h>

#include "crc32_ieee.h"

static uint64_t hash_crc32a(const void *key, size_t len)
{
    return sp_crc32_ieee(key, len);
}

SP_HASH_PLUGIN("crc32a", "CRC-32 (IEEE, as zlib) (nutcracker 0.5.0)", 32, hash_crc32a);
