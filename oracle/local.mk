# shardoracle: offline placement, linking the same library and plugins as the proxy.
bin_PROGRAMS += oracle/shardoracle
oracle_shardoracle_SOURCES = oracle/main.c oracle/oracle.h oracle/common.c oracle/keys.c \
	oracle/keys.h oracle/cmd_hash.c oracle/cmd_place.c oracle/cmd_plugins.c
oracle_shardoracle_LDADD = lib/libshardproxy.la
