/* SPDX-License-Identifier: Apache-2.0 */
/* Hash plugin "md5": nutcracker 0.5.0's md5 hash, the first four MD5 digest bytes read as a
 * little-endian uint32 (as libmemcached does).  Unsigned bytes throughout: MD5 is not affected
 * by char signedness. */
#include "config.h"

#include <shardproxy/plugin.h>

#include "../common/md5.h"

static uint64_t hash_md5(const void *key, size_t len)
{
    unsigned char d[SP_MD5_DIGEST_LEN];
    sp_md5(key, len, d);
    return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

SP_HASH_PLUGIN("md5", "MD5, first 4 digest bytes little-endian (nutcracker 0.5.0)", 32, hash_md5);
