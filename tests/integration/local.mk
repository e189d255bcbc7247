# SPDX-License-Identifier: Apache-2.0
# Integration tests: the daemon against real redis-server / memcached / nutcracker on 127.0.0.1.
# Each test_*.py is a unittest program run with Debian's python3 (python3-redis, python3-yaml),
# exiting non-zero on failure; harness.py is the shared library they import.
PY_LOG_COMPILER = /usr/bin/python3
AM_PY_LOG_FLAGS = -B

# A new test file is one more line here (it is then run by `make check` and distributed).
INTEGRATION_TESTS = \
	tests/integration/test_cli.py \
	tests/integration/test_stats.py \
	tests/integration/test_metrics.py \
	tests/integration/test_scaleout.py
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/harness.py

# The data path (proxy/core, proxy/redis): routing, pipelining, multi-key, failures, auth.
CORE_INTEGRATION_TESTS = \
	tests/integration/test_routing.py \
	tests/integration/test_pipeline.py \
	tests/integration/test_multikey.py \
	tests/integration/test_failures.py \
	tests/integration/test_auth.py \
	tests/integration/test_oracle_vs_proxy.py \
	tests/integration/test_audit.py \
	tests/integration/test_migrate.py \
	tests/integration/test_idle.py \
	tests/integration/test_workers.py \
	tests/integration/test_stress.py
TESTS += $(CORE_INTEGRATION_TESTS)
EXTRA_DIST += $(CORE_INTEGRATION_TESTS) tests/integration/rawresp.py

# memcached pools (proxy/memcache) against real memcached and python3-pymemcache.
MEMCACHE_INTEGRATION_TESTS = \
	tests/integration/test_memcache.py \
	tests/integration/test_routing_memcache.py \
	tests/integration/test_memcache_vs_nutcracker.py \
	tests/integration/test_memcache_fanout.py \
	tests/integration/test_stress_memcache.py
TESTS += $(MEMCACHE_INTEGRATION_TESTS)
EXTRA_DIST += $(MEMCACHE_INTEGRATION_TESTS) tests/integration/rawmc.py

# Byte-for-byte reply comparison with nutcracker 0.5.0 (bench engineer).
TESTS += tests/integration/test_vs_nutcracker.py
EXTRA_DIST += tests/integration/test_vs_nutcracker.py

# The Sentinel client (proxy/sentinel) against real redis-sentinel: a driver that prints each
# callback, run by test_sentinel.py on 2 shards x (master + replica) + 3 Sentinels.
check_PROGRAMS += tests/integration/sentinel_driver
tests_integration_sentinel_driver_SOURCES = tests/integration/sentinel_driver.c
tests_integration_sentinel_driver_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_integration_sentinel_driver_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_integration_sentinel_driver_LDADD = proxy/libspproxy.la lib/libshardproxy.la $(LIBEVENT_LIBS)
SENTINEL_INTEGRATION_TESTS = tests/integration/test_sentinel.py
TESTS += $(SENTINEL_INTEGRATION_TESTS)
EXTRA_DIST += $(SENTINEL_INTEGRATION_TESTS)

# Issue #8 end to end, under a model-checked load: a Sentinel pool through failovers
# (2 shards x master + replica, 3 Sentinels), and hot reload on SIGUSR1.  The typed load
# (typedload.py: keys of every type, TTLs) and its own test, for issue #14's resharding.
HA_INTEGRATION_TESTS = \
	tests/integration/test_failover.py \
	tests/integration/test_reload.py \
	tests/integration/test_failover_hold.py \
	tests/integration/test_migrate_proxy.py \
	tests/integration/test_resharding.py \
	tests/integration/test_typed_load.py
TESTS += $(HA_INTEGRATION_TESTS)
EXTRA_DIST += $(HA_INTEGRATION_TESTS) tests/integration/typedload.py

# The integration and abuse suites again with every shardproxy they start running 2 workers
# (harness.py: SP_TEST_WORKERS), scripts/test's second pass.  Not test_resharding: it runs a
# proxy of two workers beside one of one in the first pass already.
WORKER_TESTS = tests/integration/test_cli.py tests/integration/test_stats.py \
	tests/integration/test_metrics.py $(CORE_INTEGRATION_TESTS) $(MEMCACHE_INTEGRATION_TESTS) \
	tests/integration/test_vs_nutcracker.py $(SENTINEL_INTEGRATION_TESTS) \
	tests/integration/test_failover.py tests/integration/test_reload.py \
	tests/integration/test_failover_hold.py tests/integration/test_typed_load.py \
	tests/integration/test_migrate_proxy.py tests/integration/test_scaleout.py $(ABUSE_TESTS)
check-workers: all
	SP_TEST_WORKERS=2 $(MAKE) $(AM_MAKEFLAGS) check TESTS="$(WORKER_TESTS)" \
	    TEST_SUITE_LOG=test-suite-workers.log
.PHONY: check-workers

# scripts/test's ThreadSanitizer pass, in a build configured with --enable-tsan: the tests of
# what the workers hand each other (placement changes, reloads, Sentinel moves, migration
# phases, the counters summed for the stats), every proxy with 2 workers; a race reported by
# any proxy fails the test that stops it (harness.py).  Not the tests that time or weigh the
# proxy: ThreadSanitizer makes it several times slower and bigger.
THREAD_TESTS = tests/integration/test_workers.py tests/integration/test_stats.py \
	tests/integration/test_metrics.py tests/integration/test_failures.py \
	tests/integration/test_reload.py tests/integration/test_failover_hold.py \
	tests/integration/test_migrate_proxy.py tests/integration/test_stress.py
check-threads: all
	SP_TEST_WORKERS=2 $(MAKE) $(AM_MAKEFLAGS) check TESTS="$(THREAD_TESTS)" \
	    TEST_SUITE_LOG=test-suite-threads.log
.PHONY: check-threads
