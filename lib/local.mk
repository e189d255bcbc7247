# SPDX-License-Identifier: Apache-2.0
# libshardproxy: what the proxy, the oracle and the tests share (config, plugin loader, placement).
noinst_LTLIBRARIES += lib/libshardproxy.la
lib_libshardproxy_la_SOURCES = \
	lib/conf.c lib/conf.h lib/conf_int.h lib/conf_keys.c lib/conf_msg.c lib/conf_parse.c lib/conf_value.c lib/conf_pool.c \
	lib/conf_sentinel.c \
	lib/registry.c lib/registry.h \
	lib/placement.c lib/placement.h lib/placement_int.h lib/shares.c \
	lib/hex.c lib/hex.h
lib_libshardproxy_la_SOURCES += lib/conf_edit.c lib/conf_migrate.c \
	lib/layout.c lib/layout.h lib/move.h lib/layout_note.c
lib_libshardproxy_la_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
lib_libshardproxy_la_LIBADD = $(YAML_LIBS)
