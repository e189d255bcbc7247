# The data path: pools, client and server connections, requests, multi-key split/merge, and the
# protocol adapters behind proto.h.
proxy_libspproxy_la_SOURCES += \
	proxy/proxy.h proxy/proto.h proxy/core.h \
	proxy/pool.c \
	proxy/client.c \
	proxy/server.c \
	proxy/request.c \
	proxy/multikey.c \
	proxy/proto_redis.c
