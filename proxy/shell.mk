# (to be filled)
# The process shell: command line, log, signals, daemon mode and pid file, statistics.
proxy_libspproxy_la_SOURCES += \
	proxy/options.c proxy/options.h \
	proxy/log.c proxy/log.h \
	proxy/signals.c proxy/signals.h \
	proxy/daemon.c proxy/daemon.h \
	proxy/stats.c proxy/stats.h \
	proxy/stats_listener.c proxy/stats_listener.h
EXTRA_DIST += docs/operations.md
