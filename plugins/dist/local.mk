# SPDX-License-Identifier: Apache-2.0
# Distribution plugins (ketama, modula, random), bit-identical to nutcracker 0.5.0.
# Two convenience libraries: the shared input checks, and the ketama continuum (also linked by the
# unit tests, which inspect point counts).
noinst_LTLIBRARIES += plugins/dist/libspdist.la plugins/dist/libspketama.la
plugins_dist_libspdist_la_SOURCES = plugins/dist/dist_check.c plugins/dist/dist_check.h
plugins_dist_libspketama_la_SOURCES = plugins/dist/ketama_ring.c plugins/dist/ketama_ring.h
plugins_dist_libspketama_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common

plugin_LTLIBRARIES += plugins/dist/dist_ketama.la plugins/dist/dist_modula.la \
	plugins/dist/dist_random.la

plugins_dist_dist_ketama_la_SOURCES = plugins/dist/ketama.c
plugins_dist_dist_ketama_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
plugins_dist_dist_ketama_la_LIBADD = plugins/dist/libspketama.la plugins/dist/libspdist.la \
	plugins/common/libspalgo.la

plugins_dist_dist_modula_la_SOURCES = plugins/dist/modula.c
plugins_dist_dist_modula_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
plugins_dist_dist_modula_la_LIBADD = plugins/dist/libspdist.la

plugins_dist_dist_random_la_SOURCES = plugins/dist/random.c
plugins_dist_dist_random_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
plugins_dist_dist_random_la_LIBADD = plugins/dist/libspdist.la
