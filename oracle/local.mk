# SPDX-License-Identifier: Apache-2.0
# shardoracle: offline placement, linking the same library and plugins as the proxy.
bin_PROGRAMS += oracle/shardoracle
oracle_shardoracle_SOURCES = oracle/main.c oracle/oracle.h oracle/common.c oracle/keys.c \
	oracle/keys.h oracle/cmd_hash.c oracle/cmd_place.c oracle/cmd_plugins.c \
	oracle/analysis.h oracle/opts.c oracle/opts.h oracle/side.c oracle/movement.c oracle/run.c \
	oracle/cmd_balance.c oracle/cmd_diff.c oracle/cmd_whatif.c oracle/cmd_compare.c \
	oracle/table.c oracle/table.h oracle/text.c oracle/json.c oracle/csv.c oracle/html.c \
	oracle/resp_client.c oracle/resp_client.h oracle/audit.h oracle/audit_servers.c \
	oracle/audit_scan.c oracle/audit_fix.c oracle/audit_move.c oracle/audit_opts.c oracle/cmd_audit.c \
	oracle/migrate.h oracle/migrate_guard.c oracle/cmd_migrate.c
oracle_shardoracle_LDADD = lib/libshardproxy.la
