/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugin "crc32": NOT a full CRC-32.  nutcracker 0.5.0 inherited libmemcached's variant,
 * which keeps only bits 16..30 of the CRC: (crc32(key) >> 16) & 0x7fff, so every value is in
 * 0..32767.  Under ketama that sends every key to the owner of the lowest continuum point (all
 * keys on one server), and nutcracker fleets configured with "crc32" really are laid out that
 * way, so we reproduce it.  Operators wanting a real CRC-32 use "crc32a".
 */
#include "config.h"

#include <shardproxy/plugin.h>

#include "crc32_ieee.h"

static uint64_t hash_crc32(const void *key, size_t len)
{
    return (sp_crc32_ieee(key, len) >> 16) & 0x7fffu;
}

SP_HASH_PLUGIN("crc32", "CRC-32 bits 16..30 only, 0..32767 (libmemcached/nutcracker 0.5.0)", 32,
               hash_crc32);
