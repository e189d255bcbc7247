# SPDX-License-Identifier: Apache-2.0
# Plugins built only for the loader tests: one way of being wrong per file, plus the example
# plugin from examples/ to prove an out-of-tree author's file loads.
TEST_PLUGIN_LINK_FLAGS = -module -avoid-version -shared -rpath /nowhere

check_LTLIBRARIES += tests/plugins/wrong_major.la tests/plugins/newer_minor.la \
	tests/plugins/short_struct.la tests/plugins/wrong_kind.la tests/plugins/bad_name.la \
	tests/plugins/no_name.la tests/plugins/no_hash_fn.la tests/plugins/bad_bits.la \
	tests/plugins/no_dist_fns.la tests/plugins/dup_a.la tests/plugins/dup_b.la \
	tests/plugins/not_a_plugin.la tests/plugins/hash_djb2.la tests/plugins/abi_1_0.la
tests_plugins_wrong_major_la_SOURCES = tests/plugins/wrong_major.c tests/plugins/broken.h
tests_plugins_wrong_major_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_newer_minor_la_SOURCES = tests/plugins/newer_minor.c tests/plugins/broken.h
tests_plugins_newer_minor_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_short_struct_la_SOURCES = tests/plugins/short_struct.c tests/plugins/broken.h
tests_plugins_short_struct_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_wrong_kind_la_SOURCES = tests/plugins/wrong_kind.c tests/plugins/broken.h
tests_plugins_wrong_kind_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_bad_name_la_SOURCES = tests/plugins/bad_name.c tests/plugins/broken.h
tests_plugins_bad_name_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_no_name_la_SOURCES = tests/plugins/no_name.c tests/plugins/broken.h
tests_plugins_no_name_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_no_hash_fn_la_SOURCES = tests/plugins/no_hash_fn.c tests/plugins/broken.h
tests_plugins_no_hash_fn_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_bad_bits_la_SOURCES = tests/plugins/bad_bits.c tests/plugins/broken.h
tests_plugins_bad_bits_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_no_dist_fns_la_SOURCES = tests/plugins/no_dist_fns.c tests/plugins/broken.h
tests_plugins_no_dist_fns_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_dup_a_la_SOURCES = tests/plugins/dup_a.c tests/plugins/broken.h
tests_plugins_dup_a_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_dup_b_la_SOURCES = tests/plugins/dup_b.c tests/plugins/broken.h
tests_plugins_dup_b_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_not_a_plugin_la_SOURCES = tests/plugins/not_a_plugin.c
tests_plugins_not_a_plugin_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_hash_djb2_la_SOURCES = examples/hash_djb2.c
tests_plugins_hash_djb2_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
tests_plugins_abi_1_0_la_SOURCES = tests/plugins/abi_1_0.c tests/plugins/broken.h
tests_plugins_abi_1_0_la_LDFLAGS = $(TEST_PLUGIN_LINK_FLAGS)
