/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line: nutcracker 0.5.0's flags, defaults and messages, plus --plugin-dir and
 * --workers.
 */
#ifndef SP_OPTIONS_H
#define SP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SP_PROGRAM_NAME "shardproxy"

/* Defaults, as upstream nutcracker 0.5.0 (nc.c, nc_stats.h, nc_mbuf.h). */
#define SP_DEFAULT_CONF_FILE "conf/nutcracker.yml"
#define SP_DEFAULT_STATS_PORT 22222
#define SP_DEFAULT_STATS_ADDR "0.0.0.0"
#define SP_DEFAULT_STATS_INTERVAL 30000 /* msec */
#define SP_DEFAULT_MBUF_SIZE 16384
#define SP_MBUF_MIN_SIZE 512
#define SP_MBUF_MAX_SIZE 16777216
/* --workers: at most this many event-loop threads (auto takes the online CPUs, up to it). */
#define SP_WORKERS_MAX 64

#define SP_STR_(x) #x
#define SP_STR(x) SP_STR_(x)

struct sp_options {
    bool show_help;      /* -h */
    bool show_version;   /* -V (also set by -h and -D, as nutcracker) */
    bool test_conf;      /* -t */
    bool daemonize;      /* -d */
    bool describe_stats; /* -D */
    int log_level;       /* -v, 0..11 */
    const char *log_file;   /* -o, NULL: stderr */
    const char *conf_file;  /* -c */
    int stats_port;         /* -s, 1..65535 */
    const char *stats_addr; /* -a */
    int stats_interval;     /* -i, msec, > 0 */
    const char *pid_file;   /* -p, NULL: none */
    size_t mbuf_size;       /* -m */
    const char *plugin_dir; /* --plugin-dir, NULL: only the environment and the default */
    unsigned workers;       /* --workers, 1..SP_WORKERS_MAX; 0: auto (online CPUs) */
};

/* Fills `opts` with the defaults above. */
void sp_options_defaults(struct sp_options *opts);

/*
 * Parses argv into `opts` (which should hold the defaults).  Strings point into argv.
 * Returns 0, or -1 with one line in err[errlen] naming the option and what was wrong, e.g.
 * "option -s value 70000 is not a valid port"; `opts` may then be partly updated.
 * Uses getopt_long, so it reorders argv as glibc does and must be called once per process.
 */
int sp_options_parse(struct sp_options *opts, int argc, char **argv, char *err, size_t errlen);

/* Prints the usage text (nutcracker's layout) to `out`. */
void sp_options_usage(FILE *out);

#endif /* SP_OPTIONS_H */
