# The RESP protocol layer: request and reply framing over evbuffers, and the command table.
proxy_libspproxy_la_SOURCES += \
	proxy/resp.h \
	proxy/resp_scan.h \
	proxy/resp_scan.c \
	proxy/resp_request.c \
	proxy/resp_reply.c \
	proxy/resp_args.c \
	proxy/commands.h \
	proxy/commands.c
