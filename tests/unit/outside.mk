# The outside distributions (jump, rendezvous), loaded as plugins like any third-party one:
# seeded movement, balance and weight properties, reference values, build errors.
check_PROGRAMS += tests/unit/test_outside_dists
TESTS += tests/unit/test_outside_dists
tests_unit_test_outside_dists_SOURCES = tests/unit/test_outside_dists.c
tests_unit_test_outside_dists_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_outside_dists_LDADD = $(UNIT_LIBS)
