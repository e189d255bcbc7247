# shardoracle as users run it: golden data from nutcracker, movement and capacity planning
# (diff/whatif against nutcracker's observed resharding and ejection), reports, and bad input.
ORACLE_TESTS = tests/oracle-golden.sh tests/oracle-errors.sh tests/oracle-movement.sh \
	tests/oracle-report.sh
TESTS += $(ORACLE_TESTS)
EXTRA_DIST += $(ORACLE_TESTS) bench/oracle.sh docs/oracle.md
# The pool edits whatif relies on (lib/conf_edit.c) against the loader itself.
check_PROGRAMS += tests/unit/test_conf_edit
TESTS += tests/unit/test_conf_edit
tests_unit_test_conf_edit_SOURCES = tests/unit/test_conf_edit.c
tests_unit_test_conf_edit_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_conf_edit_LDADD = $(UNIT_LIBS)
