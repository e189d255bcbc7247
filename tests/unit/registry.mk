check_PROGRAMS += tests/unit/test_registry
TESTS += tests/unit/test_registry tests/plugin-exports.sh
EXTRA_DIST += tests/plugin-exports.sh
tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_registry_LDADD = $(UNIT_LIBS)
