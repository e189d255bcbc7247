# Placement: golden vectors from nutcracker 0.5.0, ketama/modula/random units, seeded properties.
# test_placement also links the ketama continuum directly to check its point counts.
check_PROGRAMS += tests/unit/test_placement tests/unit/test_properties
TESTS += tests/unit/test_placement tests/unit/test_properties

tests_unit_test_placement_SOURCES = tests/unit/test_placement.c
tests_unit_test_placement_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dist \
	-I$(top_srcdir)/plugins/common
tests_unit_test_placement_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_placement_LDADD = plugins/dist/libspketama.la plugins/dist/libspdist.la \
	plugins/common/libspalgo.la $(UNIT_LIBS)

tests_unit_test_properties_SOURCES = tests/unit/test_properties.c
tests_unit_test_properties_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dist
tests_unit_test_properties_CFLAGS = $(UNIT_COMPILE_FLAGS)
tests_unit_test_properties_LDADD = plugins/dist/libspketama.la plugins/dist/libspdist.la \
	plugins/common/libspalgo.la $(UNIT_LIBS)
