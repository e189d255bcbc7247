# Hash plugins against nutcracker 0.5.0's golden vectors, plus MD5 (linked directly: it is not
# exported by any plugin) against RFC 1321.
check_PROGRAMS += tests/unit/test_hash
TESTS += tests/unit/test_hash
tests_unit_test_hash_SOURCES = tests/unit/test_hash.c
tests_unit_test_hash_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_hash_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
tests_unit_test_hash_LDADD = plugins/common/libspalgo.la $(UNIT_LIBS)
