# The RESP layer: request and reply framing (split at every byte), argument helpers, and the
# command table (incl. parity with what nutcracker 0.5.0 forwards).
check_LTLIBRARIES += tests/unit/librespfeed.la
tests_unit_librespfeed_la_SOURCES = tests/unit/resp_feed.c tests/unit/resp_feed.h
tests_unit_librespfeed_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_librespfeed_la_CFLAGS = $(UNIT_COMPILE_FLAGS) $(LIBEVENT_CFLAGS)

RESP_TEST_LIBS = tests/unit/librespfeed.la proxy/libspproxy.la $(UNIT_LIBS) $(LIBEVENT_LIBS)

check_PROGRAMS += tests/unit/test_resp tests/unit/test_resp_reply tests/unit/test_commands
TESTS += tests/unit/test_resp tests/unit/test_resp_reply tests/unit/test_commands

tests_unit_test_resp_SOURCES = tests/unit/test_resp.c
tests_unit_test_resp_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_resp_CFLAGS = $(UNIT_COMPILE_FLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_resp_LDADD = $(RESP_TEST_LIBS)

tests_unit_test_resp_reply_SOURCES = tests/unit/test_resp_reply.c
tests_unit_test_resp_reply_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_resp_reply_CFLAGS = $(UNIT_COMPILE_FLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_resp_reply_LDADD = $(RESP_TEST_LIBS)

tests_unit_test_commands_SOURCES = tests/unit/test_commands.c
tests_unit_test_commands_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_commands_CFLAGS = $(UNIT_COMPILE_FLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_commands_LDADD = proxy/libspproxy.la $(UNIT_LIBS) $(LIBEVENT_LIBS)

# The fuzz target (tests/fuzz/fuzz_resp.c) driven without libFuzzer: seeded mutations of
# protocol seeds, whole vs split feeds must agree.  The libFuzzer targets: tests/fuzz/local.mk.
check_PROGRAMS += tests/fuzz/replay_resp
TESTS += tests/fuzz/replay_resp
tests_fuzz_replay_resp_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_resp.c tests/fuzz/fuzz_resp.h
tests_fuzz_replay_resp_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy -I$(top_srcdir)/tests/fuzz
tests_fuzz_replay_resp_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_replay_resp_LDADD = proxy/libspproxy.la $(LIBEVENT_LIBS)
EXTRA_DIST += docs/commands.md
