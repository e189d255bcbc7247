# SPDX-License-Identifier: Apache-2.0
# The shardproxy daemon, by folder: core/ (the protocol-neutral data path), redis/ (RESP behind
# core/proto.h), memcache/ (memcached's text and meta protocols, behind it too), report/ (log and
# statistics, used by the data path and the shell), sentinel/ (the Sentinel client), shell/ (the
# process: command line, signals, daemon mode, worker threads; main.c is the program).  Everything but main.c goes
# into a convenience library that the unit tests link.  Includes across folders name the folder:
# "core/core.h", "report/log.h".
bin_PROGRAMS += proxy/shardproxy
noinst_LTLIBRARIES += proxy/libspproxy.la
PROXY_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
proxy_libspproxy_la_CPPFLAGS = $(PROXY_CPPFLAGS)
proxy_libspproxy_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
proxy_libspproxy_la_LIBADD = lib/libshardproxy.la $(LIBEVENT_LIBS)
proxy_shardproxy_SOURCES = proxy/shell/main.c
proxy_shardproxy_CPPFLAGS = $(PROXY_CPPFLAGS)
proxy_shardproxy_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
proxy_shardproxy_LDADD = proxy/libspproxy.la lib/libshardproxy.la $(LIBEVENT_LIBS)

# core/: pools, listeners, client and server connections, requests, multi-key split/merge.
proxy_libspproxy_la_SOURCES = \
	proxy/core/proxy.h proxy/core/proto.h proxy/core/core.h proxy/core/parse.h \
	proxy/core/proxy.c \
	proxy/core/reload.c \
	proxy/core/reload_log.c \
	proxy/core/hold.c proxy/core/hold.h \
	proxy/core/replica.c proxy/core/replica.h \
	proxy/core/migrate.c proxy/core/migration.h \
	proxy/core/survey.c \
	proxy/core/retire.c proxy/core/retire.h \
	proxy/core/server.c proxy/core/server.h \
	proxy/core/failover.c proxy/core/failover.h \
	proxy/core/listener.c proxy/core/listener.h \
	proxy/core/accept.c proxy/core/accept.h \
	proxy/core/addr.c proxy/core/addr.h \
	proxy/core/pool.c proxy/core/pool.h \
	proxy/core/eject.c proxy/core/world.h \
	proxy/core/clock.c \
	proxy/core/trim.c \
	proxy/core/assert.c \
	proxy/core/keybytes.c proxy/core/keybytes.h \
	proxy/core/conn.c proxy/core/conn.h \
	proxy/core/client.c proxy/core/client.h \
	proxy/core/client_cache.c \
	proxy/core/sconn.c proxy/core/sconn.h \
	proxy/core/deliver.c proxy/core/deliver.h \
	proxy/core/flow.c proxy/core/flow.h \
	proxy/core/request.c proxy/core/req.h \
	proxy/core/reason.c proxy/core/reason.h \
	proxy/core/multikey.c proxy/core/forward.h

# redis/: RESP request and reply framing over evbuffers, the command table, the adapter.
proxy_libspproxy_la_SOURCES += \
	proxy/redis/proto_redis.c \
	proxy/redis/resp.h \
	proxy/redis/resp_scan.h \
	proxy/redis/resp_scan.c \
	proxy/redis/resp_request.c \
	proxy/redis/resp_inline.c proxy/redis/resp_inline.h \
	proxy/redis/resp_reply.c \
	proxy/redis/resp_args.c \
	proxy/redis/resp_migrate.c proxy/redis/resp_migrate.h \
	proxy/redis/commands.h \
	proxy/redis/commands.c

# memcache/: the memcached text and meta protocols: framing, command table, checks, multi-get
# split and merge, commands for every server, the adapter.
proxy_libspproxy_la_SOURCES += \
	proxy/memcache/proto_memcache.c \
	proxy/memcache/mc.h \
	proxy/memcache/mc_commands.h \
	proxy/memcache/mc_commands.c \
	proxy/memcache/mc_scan.c \
	proxy/memcache/mc_request.c \
	proxy/memcache/mc_check.c \
	proxy/memcache/mc_reply.c \
	proxy/memcache/mc_multiget.h \
	proxy/memcache/mc_multiget.c \
	proxy/memcache/mc_fanout.h \
	proxy/memcache/mc_fanout.c

# report/: the log and the statistics (nutcracker's JSON on the stats port).
proxy_libspproxy_la_SOURCES += \
	proxy/report/log.c proxy/report/log.h \
	proxy/report/stats.c proxy/report/stats.h \
	proxy/report/stats_listener.c proxy/report/stats_listener.h \
	proxy/report/http.c proxy/report/http.h \
	proxy/report/metrics.c proxy/report/metrics.h

# sentinel/: the Sentinel client of Sentinel pools (the data path uses only sentinel.h).
proxy_libspproxy_la_SOURCES += \
	proxy/sentinel/sentinel.h proxy/sentinel/sentinel_int.h \
	proxy/sentinel/sentinel.c \
	proxy/sentinel/sentinel_view.c \
	proxy/sentinel/sentinel_link.c \
	proxy/sentinel/sentinel_msg.c

# shell/: the process around the data path.
proxy_libspproxy_la_SOURCES += \
	proxy/shell/version.h \
	proxy/shell/options.c proxy/shell/options.h \
	proxy/shell/signals.c proxy/shell/signals.h \
	proxy/shell/daemon.c proxy/shell/daemon.h \
	proxy/shell/workers.c proxy/shell/workers.h
