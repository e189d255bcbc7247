# SPDX-License-Identifier: Apache-2.0
# Fuzzing (tests/fuzz/README.md).  Each target has a libFuzzer build (with
# `CC=clang ./configure --enable-fuzz`) and a replay driver that runs it without libFuzzer in
# make check (seeded mutations of its seeds; file arguments replay saved inputs):
#   fuzz_resp     the RESP request and reply framers, fed whole, in pieces, a byte at a time
#   fuzz_inline   the inline splitter against a reference reading as Redis reads
#   fuzz_request  the whole request path: what is forwarded is what was parsed and routed by
#   fuzz_memcache the memcached request path (adapter) and reply framer, fed as fuzz_resp is
#   fuzz_conf     the config loader on arbitrary YAML (libFuzzer only)
FUZZ_TARGETS = resp inline request memcache
FUZZ_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy -I$(top_srcdir)/tests/fuzz
FUZZ_LIBS = proxy/libspproxy.la $(LIBEVENT_LIBS)
EXTRA_DIST += tests/fuzz/README.md tests/fuzz/fuzz.h tests/fuzz/fuzz_feed.h tests/fuzz/corpus

check_PROGRAMS += tests/fuzz/replay_resp tests/fuzz/replay_inline tests/fuzz/replay_request \
	tests/fuzz/replay_memcache
TESTS += tests/fuzz/replay_resp tests/fuzz/replay_inline tests/fuzz/replay_request \
	tests/fuzz/replay_memcache
tests_fuzz_replay_resp_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_resp.c tests/fuzz/fuzz_feed.c
tests_fuzz_replay_resp_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_replay_resp_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_replay_resp_LDADD = $(FUZZ_LIBS)
tests_fuzz_replay_inline_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_inline.c
tests_fuzz_replay_inline_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_replay_inline_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_replay_inline_LDADD = $(FUZZ_LIBS)
tests_fuzz_replay_request_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_request.c
tests_fuzz_replay_request_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_replay_request_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_replay_request_LDADD = $(FUZZ_LIBS)
tests_fuzz_replay_memcache_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_memcache.c \
	tests/fuzz/fuzz_feed.c
tests_fuzz_replay_memcache_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_replay_memcache_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_replay_memcache_LDADD = $(FUZZ_LIBS)

if FUZZ
noinst_PROGRAMS = tests/fuzz/fuzz_resp tests/fuzz/fuzz_inline tests/fuzz/fuzz_request \
	tests/fuzz/fuzz_memcache tests/fuzz/fuzz_conf
LIBFUZZER_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_resp_SOURCES = tests/fuzz/fuzz_resp.c tests/fuzz/fuzz_feed.c
tests_fuzz_fuzz_resp_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_resp_CFLAGS = $(LIBFUZZER_CFLAGS)
tests_fuzz_fuzz_resp_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_resp_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_inline_SOURCES = tests/fuzz/fuzz_inline.c
tests_fuzz_fuzz_inline_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_inline_CFLAGS = $(LIBFUZZER_CFLAGS)
tests_fuzz_fuzz_inline_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_inline_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c
tests_fuzz_fuzz_request_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_request_CFLAGS = $(LIBFUZZER_CFLAGS)
tests_fuzz_fuzz_request_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_request_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_memcache_SOURCES = tests/fuzz/fuzz_memcache.c tests/fuzz/fuzz_feed.c
tests_fuzz_fuzz_memcache_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_memcache_CFLAGS = $(LIBFUZZER_CFLAGS)
tests_fuzz_fuzz_memcache_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_memcache_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c
tests_fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_conf_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_conf_LDADD = lib/libshardproxy.la

# A short run of every target over its committed corpus (CI); the long run is in the README.
FUZZ_SMOKE_SECONDS = 20
fuzz-smoke: $(noinst_PROGRAMS)
	@set -e; for t in $(FUZZ_TARGETS) conf; do \
	  work=$$(mktemp -d); cp -R $(srcdir)/tests/fuzz/corpus/$$t/. $$work/; \
	  echo "fuzz-smoke: fuzz_$$t for $(FUZZ_SMOKE_SECONDS) s"; \
	  if tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=4096 \
	       -print_final_stats=1 $$work > fuzz-smoke-$$t.log 2>&1; then \
	    grep -h 'stat::number_of_executed_units' fuzz-smoke-$$t.log; rm -rf $$work; \
	  else \
	    tail -n 40 fuzz-smoke-$$t.log; rm -rf $$work; exit 1; \
	  fi; \
	done
else
fuzz-smoke:
	@echo "fuzz-smoke needs a libFuzzer build: CC=clang ./configure --enable-fuzz" >&2; exit 1
endif
.PHONY: fuzz-smoke
