# SPDX-License-Identifier: Apache-2.0
# Check unit tests: one program per module, linked against the convenience libraries.
UNIT_PROXY_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
UNIT_PROXY_CFLAGS = $(UNIT_COMPILE_FLAGS) $(LIBEVENT_CFLAGS)
UNIT_PROXY_LIBS = proxy/libspproxy.la $(UNIT_LIBS) $(LIBEVENT_LIBS)

# Hash plugins against nutcracker 0.5.0's golden vectors, plus MD5 (linked directly: it is not
# exported by any plugin) against RFC 1321.
check_PROGRAMS += tests/unit/test_hash
TESTS += tests/unit/test_hash
tests_unit_test_hash_SOURCES = tests/unit/test_hash.c
tests_unit_test_hash_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_hash_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
tests_unit_test_hash_LDADD = plugins/common/libspalgo.la $(UNIT_LIBS)

# Configuration loader: nutcracker 0.5.0 YAML (fixtures in tests/data/conf, golden configs in
# tests/data/placement and tests/data/eject); the same fixtures against the real nutcracker.
check_PROGRAMS += tests/unit/test_conf
TESTS += tests/unit/test_conf tests/unit/conf-nutcracker.sh
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LIBS)
EXTRA_DIST += tests/unit/conf-nutcracker.sh

# The pool edits `shardoracle whatif` relies on (lib/conf_edit.c) against the loader itself.
check_PROGRAMS += tests/unit/test_conf_edit
TESTS += tests/unit/test_conf_edit
tests_unit_test_conf_edit_SOURCES = tests/unit/test_conf_edit.c
tests_unit_test_conf_edit_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_conf_edit_LDADD = $(UNIT_LIBS)

# Placement: golden vectors from nutcracker 0.5.0, ketama/modula/random units, seeded properties.
# test_placement also links the ketama continuum directly to check its point counts.
check_PROGRAMS += tests/unit/test_placement tests/unit/test_properties
TESTS += tests/unit/test_placement tests/unit/test_properties
tests_unit_test_placement_SOURCES = tests/unit/test_placement.c
tests_unit_test_placement_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dist \
	-I$(top_srcdir)/plugins/common
tests_unit_test_placement_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_placement_LDADD = plugins/dist/libspketama.la plugins/dist/libspdist.la \
	plugins/common/libspalgo.la $(UNIT_LIBS)
tests_unit_test_properties_SOURCES = tests/unit/test_properties.c
tests_unit_test_properties_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dist
tests_unit_test_properties_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_properties_LDADD = plugins/dist/libspketama.la plugins/dist/libspdist.la \
	plugins/common/libspalgo.la $(UNIT_LIBS)

# Shares of the hash space (what a change moves): exact answers against closed forms and brute
# force, for ketama, modula, both ways between them, a distribution without a shape.
check_PROGRAMS += tests/unit/test_shares
TESTS += tests/unit/test_shares
tests_unit_test_shares_SOURCES = tests/unit/test_shares.c
tests_unit_test_shares_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_shares_LDADD = $(UNIT_LIBS) -lm

# The plugin loader: one broken plugin per failure (tests/plugins), and the exported symbols.
check_PROGRAMS += tests/unit/test_registry
TESTS += tests/unit/test_registry tests/plugin-exports.sh
EXTRA_DIST += tests/plugin-exports.sh
tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_registry_LDADD = $(UNIT_LIBS)

# The outside distributions (jump, rendezvous), loaded as plugins like any third-party one:
# seeded movement, balance and weight properties, reference values, build errors.
check_PROGRAMS += tests/unit/test_outside_dists
TESTS += tests/unit/test_outside_dists
tests_unit_test_outside_dists_SOURCES = tests/unit/test_outside_dists.c
tests_unit_test_outside_dists_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_outside_dists_LDADD = $(UNIT_LIBS)

# The stats JSON rendering and field list, without sockets.
check_PROGRAMS += tests/unit/test_stats
TESTS += tests/unit/test_stats
tests_unit_test_stats_SOURCES = tests/unit/test_stats.c
tests_unit_test_stats_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_stats_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_stats_LDADD = $(UNIT_PROXY_LIBS)

# The RESP layer: request and reply framing (split at every byte), argument helpers, and the
# command table (incl. parity with what nutcracker 0.5.0 forwards).
check_LTLIBRARIES += tests/unit/librespfeed.la
tests_unit_librespfeed_la_SOURCES = tests/unit/resp_feed.c tests/unit/resp_feed.h
tests_unit_librespfeed_la_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_librespfeed_la_CFLAGS = $(UNIT_PROXY_CFLAGS)
RESP_TEST_LIBS = tests/unit/librespfeed.la $(UNIT_PROXY_LIBS)

check_PROGRAMS += tests/unit/test_resp tests/unit/test_resp_reply tests/unit/test_commands
TESTS += tests/unit/test_resp tests/unit/test_resp_reply tests/unit/test_commands
tests_unit_test_resp_SOURCES = tests/unit/test_resp.c
tests_unit_test_resp_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_resp_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_resp_LDADD = $(RESP_TEST_LIBS)
tests_unit_test_resp_reply_SOURCES = tests/unit/test_resp_reply.c
tests_unit_test_resp_reply_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_resp_reply_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_resp_reply_LDADD = $(RESP_TEST_LIBS)
tests_unit_test_commands_SOURCES = tests/unit/test_commands.c
tests_unit_test_commands_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_commands_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_commands_LDADD = $(UNIT_PROXY_LIBS)

# The RESP adapter on its own (no sockets): local replies, routing, split and merge bytes.
check_PROGRAMS += tests/unit/test_proto_redis
TESTS += tests/unit/test_proto_redis
tests_unit_test_proto_redis_SOURCES = tests/unit/test_proto_redis.c
tests_unit_test_proto_redis_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_proto_redis_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_proto_redis_LDADD = $(UNIT_PROXY_LIBS)

# The memcached layer: request and reply framing (split at every byte), memcached's line rules,
# limits, the command table; and the adapter on its own (local replies, routing, split, merge).
check_PROGRAMS += tests/unit/test_memcache tests/unit/test_proto_memcache
TESTS += tests/unit/test_memcache tests/unit/test_proto_memcache
tests_unit_test_memcache_SOURCES = tests/unit/test_memcache.c
tests_unit_test_memcache_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_memcache_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_memcache_LDADD = $(UNIT_PROXY_LIBS)
tests_unit_test_proto_memcache_SOURCES = tests/unit/test_proto_memcache.c
tests_unit_test_proto_memcache_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_proto_memcache_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_proto_memcache_LDADD = $(UNIT_PROXY_LIBS)

# The Sentinel client without sockets: replies and events decoded, and the rule that decides
# which address a master is followed at (against real Sentinels: tests/integration/test_sentinel.py).
check_PROGRAMS += tests/unit/test_sentinel
TESTS += tests/unit/test_sentinel
tests_unit_test_sentinel_SOURCES = tests/unit/test_sentinel.c
tests_unit_test_sentinel_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_sentinel_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_sentinel_LDADD = $(UNIT_PROXY_LIBS)

# The stats port's HTTP framing (GET /metrics next to nutcracker's plain readers).
check_PROGRAMS += tests/unit/test_http
TESTS += tests/unit/test_http
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CPPFLAGS = $(UNIT_PROXY_CPPFLAGS)
tests_unit_test_http_CFLAGS = $(UNIT_PROXY_CFLAGS)
tests_unit_test_http_LDADD = $(UNIT_PROXY_LIBS)

# The oracle's blocking RESP2 client (audit; migrate next) against a scripted unix-socket server.
check_PROGRAMS += tests/unit/test_resp_client
TESTS += tests/unit/test_resp_client
tests_unit_test_resp_client_SOURCES = tests/unit/test_resp_client.c oracle/resp_client.c
tests_unit_test_resp_client_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/oracle
tests_unit_test_resp_client_CFLAGS = $(UNIT_COMPILE_FLAGS) -pthread
tests_unit_test_resp_client_LDADD = $(UNIT_LIBS) -lpthread

# Layout ids, plan ids, connection names and the migration note (lib/layout*.c).
check_PROGRAMS += tests/unit/test_layout
TESTS += tests/unit/test_layout
tests_unit_test_layout_SOURCES = tests/unit/test_layout.c
tests_unit_test_layout_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_layout_LDADD = $(UNIT_LIBS)
