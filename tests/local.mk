# SPDX-License-Identifier: Apache-2.0
# Tests: Check unit tests (tests/unit), deliberately broken plugins (tests/plugins), shell tests of
# the programs (tests/*.sh).  Golden data observed on nutcracker 0.5.0 lives in tests/data.
TEST_PLUGIN_PATH = $(abs_top_builddir)/plugins/hash/.libs:$(abs_top_builddir)/plugins/dist/.libs
AM_TESTS_ENVIRONMENT = \
	SHARDPROXY_PLUGIN_PATH='$(TEST_PLUGIN_PATH)'; export SHARDPROXY_PLUGIN_PATH; \
	SP_TEST_DATA='$(abs_top_srcdir)/tests/data'; export SP_TEST_DATA; \
	SP_TEST_BAD_PLUGINS='$(abs_top_builddir)/tests/plugins/.libs'; export SP_TEST_BAD_PLUGINS; \
	SP_BUILDDIR='$(abs_top_builddir)'; export SP_BUILDDIR; \
	SP_SRCDIR='$(abs_top_srcdir)'; export SP_SRCDIR; \
	SHARDPROXY_SYSTEM_PLUGIN_DIR=; export SHARDPROXY_SYSTEM_PLUGIN_DIR;

EXTRA_DIST += tests/data

# The unit tests need Check; without it (configure said so) `make check` reports them skipped
# and how to get Check.
EXTRA_DIST += tests/unit/no-check.sh
if HAVE_CHECK
# Shared by every unit test program.
check_LTLIBRARIES += tests/unit/libtestutil.la
tests_unit_libtestutil_la_SOURCES = tests/unit/testutil.c tests/unit/testutil.h
tests_unit_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_COMPILE_FLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LIBS = tests/unit/libtestutil.la lib/libshardproxy.la $(CHECK_LIBS)

include $(srcdir)/tests/unit/local.mk
else
TESTS += tests/unit/no-check.sh
endif
include $(srcdir)/tests/plugins/local.mk
include $(srcdir)/tests/oracle.mk
include $(srcdir)/tests/ship.mk
include $(srcdir)/tests/integration/local.mk
include $(srcdir)/tests/abuse/local.mk
include $(srcdir)/tests/fuzz/local.mk
