# The data path: pools, client and server connections, requests, multi-key split/merge, and the
# protocol adapters behind proto.h.
proxy_libspproxy_la_SOURCES += \
	proxy/proxy.h proxy/proto.h proxy/core.h \
	proxy/conn.c proxy/conn.h \
	proxy/pool.c \
	proxy/client.c \
	proxy/client_cache.c \
	proxy/server.c \
	proxy/request.c \
	proxy/multikey.c \
	proxy/proto_redis.c
EXTRA_DIST += docs/compat.md

# The protocol adapter on its own (no sockets): local replies, routing, split and merge bytes.
check_PROGRAMS += tests/unit/test_proto_redis
TESTS += tests/unit/test_proto_redis
tests_unit_test_proto_redis_SOURCES = tests/unit/test_proto_redis.c
tests_unit_test_proto_redis_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_proto_redis_CFLAGS = $(UNIT_COMPILE_FLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_proto_redis_LDADD = proxy/libspproxy.la $(UNIT_LIBS) $(LIBEVENT_LIBS)
