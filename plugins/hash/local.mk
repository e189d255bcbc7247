# SPDX-License-Identifier: Apache-2.0
# Hash plugins: one libtool module per algorithm, named hash_<config name>.la.  The nutcracker
# ones must match twemproxy 0.5.0 bit for bit (tests/unit/test_hash.c checks tests/data/hash.tsv).
HASH_KEY_BYTES = plugins/hash/key_bytes.h

plugin_LTLIBRARIES += plugins/hash/hash_one_at_a_time.la
plugins_hash_hash_one_at_a_time_la_SOURCES = plugins/hash/one_at_a_time.c $(HASH_KEY_BYTES)
plugins_hash_hash_one_at_a_time_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_md5.la
plugins_hash_hash_md5_la_SOURCES = plugins/hash/md5.c
plugins_hash_hash_md5_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
plugins_hash_hash_md5_la_LIBADD = plugins/common/libspalgo.la

plugin_LTLIBRARIES += plugins/hash/hash_crc16.la
plugins_hash_hash_crc16_la_SOURCES = plugins/hash/crc16.c
plugins_hash_hash_crc16_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_crc32.la
plugins_hash_hash_crc32_la_SOURCES = plugins/hash/crc32.c plugins/hash/crc32_ieee.h
plugins_hash_hash_crc32_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_crc32a.la
plugins_hash_hash_crc32a_la_SOURCES = plugins/hash/crc32a.c plugins/hash/crc32_ieee.h
plugins_hash_hash_crc32a_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

HASH_FNV = plugins/hash/fnv.h $(HASH_KEY_BYTES)

plugin_LTLIBRARIES += plugins/hash/hash_fnv1_64.la
plugins_hash_hash_fnv1_64_la_SOURCES = plugins/hash/fnv1_64.c $(HASH_FNV)
plugins_hash_hash_fnv1_64_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_fnv1a_64.la
plugins_hash_hash_fnv1a_64_la_SOURCES = plugins/hash/fnv1a_64.c $(HASH_FNV)
plugins_hash_hash_fnv1a_64_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_fnv1_32.la
plugins_hash_hash_fnv1_32_la_SOURCES = plugins/hash/fnv1_32.c $(HASH_FNV)
plugins_hash_hash_fnv1_32_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_fnv1a_32.la
plugins_hash_hash_fnv1a_32_la_SOURCES = plugins/hash/fnv1a_32.c $(HASH_FNV)
plugins_hash_hash_fnv1a_32_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_hsieh.la
plugins_hash_hash_hsieh_la_SOURCES = plugins/hash/hsieh.c $(HASH_KEY_BYTES)
plugins_hash_hash_hsieh_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_murmur.la
plugins_hash_hash_murmur_la_SOURCES = plugins/hash/murmur.c $(HASH_KEY_BYTES)
plugins_hash_hash_murmur_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugin_LTLIBRARIES += plugins/hash/hash_jenkins.la
plugins_hash_hash_jenkins_la_SOURCES = plugins/hash/jenkins.c $(HASH_KEY_BYTES)
plugins_hash_hash_jenkins_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

# Not a nutcracker hash: XXH3 64-bit from the system libxxhash.
plugin_LTLIBRARIES += plugins/hash/hash_xxhash.la
plugins_hash_hash_xxhash_la_SOURCES = plugins/hash/xxhash.c
plugins_hash_hash_xxhash_la_CPPFLAGS = $(AM_CPPFLAGS) $(XXHASH_CFLAGS)
plugins_hash_hash_xxhash_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
plugins_hash_hash_xxhash_la_LIBADD = $(XXHASH_LIBS)
