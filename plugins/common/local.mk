# SPDX-License-Identifier: Apache-2.0
# Algorithms more than one plugin needs (MD5: the md5 hash and ketama's points).  Linked statically
# into each plugin that uses it; nothing here is exported.
noinst_LTLIBRARIES += plugins/common/libspalgo.la
plugins_common_libspalgo_la_SOURCES = plugins/common/md5.c plugins/common/md5.h
