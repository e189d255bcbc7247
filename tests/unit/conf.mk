# Configuration loader: nutcracker 0.5.0 YAML (fixtures in tests/data/conf, golden configs in
# tests/data/placement and tests/data/eject).
check_PROGRAMS += tests/unit/test_conf
TESTS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LIBS)
# The sample configs are loaded by the test, so they ship with the tarball.
EXTRA_DIST += conf/demo.yml conf/nutcracker.yml
# The same fixtures against the real nutcracker 0.5.0 (Debian's /usr/sbin/nutcracker).
TESTS += tests/unit/conf-nutcracker.sh
EXTRA_DIST += tests/unit/conf-nutcracker.sh
