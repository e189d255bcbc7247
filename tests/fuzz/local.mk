# libFuzzer targets, built with `CC=clang ./configure --enable-fuzz [--enable-sanitizers]`
# (tests/fuzz/README.md): the RESP parsers, the memcached parsers, and the config loader on
# arbitrary YAML.  Seed corpora live in tests/fuzz/corpus/<target>/.
EXTRA_DIST += tests/fuzz/README.md tests/fuzz/corpus
FUZZ_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy -I$(top_srcdir)/tests/fuzz
if FUZZ
noinst_PROGRAMS = tests/fuzz/fuzz_resp tests/fuzz/fuzz_memcache tests/fuzz/fuzz_conf
tests_fuzz_fuzz_resp_SOURCES = tests/fuzz/fuzz_resp.c tests/fuzz/fuzz_feed.c \
	tests/fuzz/fuzz_feed.h tests/fuzz/fuzz_target.h
tests_fuzz_fuzz_resp_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_resp_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_resp_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_resp_LDADD = proxy/libspproxy.la $(LIBEVENT_LIBS)
tests_fuzz_fuzz_memcache_SOURCES = tests/fuzz/fuzz_memcache.c tests/fuzz/fuzz_feed.c \
	tests/fuzz/fuzz_feed.h tests/fuzz/fuzz_target.h
tests_fuzz_fuzz_memcache_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_memcache_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_memcache_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_memcache_LDADD = proxy/libspproxy.la $(LIBEVENT_LIBS)
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c
tests_fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_conf_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_conf_LDADD = lib/libshardproxy.la
endif

# The fuzz targets driven without libFuzzer (in make check): seeded mutations of each target's
# protocol seeds, then its committed corpus; whole vs split feeds must agree.
check_PROGRAMS += tests/fuzz/replay_resp tests/fuzz/replay_memcache
TESTS += tests/fuzz/replay_resp tests/fuzz/replay_memcache
tests_fuzz_replay_resp_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_resp.c tests/fuzz/fuzz_feed.c \
	tests/fuzz/fuzz_feed.h tests/fuzz/fuzz_target.h
tests_fuzz_replay_resp_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_replay_resp_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_replay_resp_LDADD = proxy/libspproxy.la $(LIBEVENT_LIBS)
tests_fuzz_replay_memcache_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_memcache.c \
	tests/fuzz/fuzz_feed.c tests/fuzz/fuzz_feed.h tests/fuzz/fuzz_target.h
tests_fuzz_replay_memcache_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_replay_memcache_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_replay_memcache_LDADD = proxy/libspproxy.la $(LIBEVENT_LIBS)
