# SPDX-License-Identifier: Apache-2.0
# Distributions written as an out-of-tree author would (public ABI <shardproxy/plugin.h> and the C
# library only; nothing from lib/ or plugins/common/): jump consistent hash and weighted
# rendezvous hashing.  Not nutcracker distributions; see docs/distributions.md.
OUTSIDE_DIST_UTIL = plugins/dist/outside_util.h

plugin_LTLIBRARIES += plugins/dist/dist_jump.la plugins/dist/dist_rendezvous.la

plugins_dist_dist_jump_la_SOURCES = plugins/dist/jump.c $(OUTSIDE_DIST_UTIL)
plugins_dist_dist_jump_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)

plugins_dist_dist_rendezvous_la_SOURCES = plugins/dist/rendezvous.c $(OUTSIDE_DIST_UTIL)
plugins_dist_dist_rendezvous_la_LDFLAGS = $(PLUGIN_LINK_FLAGS)
