# The shardproxy daemon.  Everything but main.c goes into a convenience library so unit tests can
# link the pieces; the fragments below append their sources.
bin_PROGRAMS += proxy/shardproxy
noinst_LTLIBRARIES += proxy/libspproxy.la
proxy_libspproxy_la_SOURCES = proxy/version.h
proxy_libspproxy_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
proxy_libspproxy_la_LIBADD = lib/libshardproxy.la $(LIBEVENT_LIBS)
proxy_shardproxy_SOURCES = proxy/main.c
proxy_shardproxy_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
proxy_shardproxy_LDADD = proxy/libspproxy.la lib/libshardproxy.la $(LIBEVENT_LIBS)

include $(srcdir)/proxy/resp.mk
include $(srcdir)/proxy/core.mk
include $(srcdir)/proxy/shell.mk
