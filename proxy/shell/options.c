/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "report/log.h"
#include "registry.h"

/* Long options without a short letter get codes above any char. */
enum { OPT_PLUGIN_DIR = 256, OPT_WORKERS };

static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"test-conf", no_argument, NULL, 't'},
    {"daemonize", no_argument, NULL, 'd'},
    {"describe-stats", no_argument, NULL, 'D'},
    {"verbose", required_argument, NULL, 'v'},
    {"output", required_argument, NULL, 'o'},
    {"conf-file", required_argument, NULL, 'c'},
    {"stats-port", required_argument, NULL, 's'},
    {"stats-interval", required_argument, NULL, 'i'},
    {"stats-addr", required_argument, NULL, 'a'},
    {"pid-file", required_argument, NULL, 'p'},
    {"mbuf-size", required_argument, NULL, 'm'},
    {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {NULL, 0, NULL, 0},
};

/* Leading ':' makes getopt report a missing argument as ':' and stay quiet itself. */
static const char short_options[] = ":hVtdDv:o:c:s:i:a:p:m:";

void sp_options_defaults(struct sp_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->log_level = SP_LOG_DEFAULT;
    opts->conf_file = SP_DEFAULT_CONF_FILE;
    opts->stats_port = SP_DEFAULT_STATS_PORT;
    opts->stats_addr = SP_DEFAULT_STATS_ADDR;
    opts->stats_interval = SP_DEFAULT_STATS_INTERVAL;
    opts->mbuf_size = SP_DEFAULT_MBUF_SIZE;
    opts->workers = 1;
}

void sp_options_usage(FILE *out)
{
    fprintf(out,
            "Usage: " SP_PROGRAM_NAME " [-?hVdDt] [-v verbosity level] [-o output file]\n"
            "                  [-c conf file] [-s stats port] [-a stats addr]\n"
            "                  [-i stats interval] [-p pid file] [-m mbuf size]\n"
            "                  [--plugin-dir dir] [--workers N|auto]\n"
            "\n"
            "Options:\n"
            "  -h, --help             : this help\n"
            "  -V, --version          : show version and exit\n"
            "  -t, --test-conf        : test configuration for syntax errors and exit\n"
            "  -d, --daemonize        : run as a daemon\n"
            "  -D, --describe-stats   : print stats description and exit\n"
            "  -v, --verbose=N        : set logging level (default: %d, min: %d, max: %d)\n"
            "  -o, --output=S         : set logging file (default: stderr)\n"
            "  -c, --conf-file=S      : set configuration file (default: %s)\n"
            "  -s, --stats-port=N     : set stats monitoring port (default: %d)\n"
            "  -a, --stats-addr=S     : set stats monitoring ip (default: %s)\n"
            "  -i, --stats-interval=N : set stats aggregation interval in msec (default: %d msec)\n"
            "  -p, --pid-file=S       : set pid file (default: off)\n"
            "  -m, --mbuf-size=N      : set size of mbuf chunk in bytes (default: %d bytes)\n"
            "      --plugin-dir=S     : search plugins here first, then in $"
            SP_PLUGIN_PATH_ENV "\n"
            "                           and %s\n"
            "      --workers=N|auto   : event-loop threads serving the pools (default: 1;\n"
            "                           auto: one per online CPU, at most %d)\n"
            "\n",
            SP_LOG_DEFAULT, SP_LOG_MIN, SP_LOG_MAX, SP_DEFAULT_CONF_FILE, SP_DEFAULT_STATS_PORT,
            SP_DEFAULT_STATS_ADDR, SP_DEFAULT_STATS_INTERVAL, SP_DEFAULT_MBUF_SIZE, SP_PLUGIN_DIR,
            SP_WORKERS_MAX);
}

/*
 * Parses a whole decimal number in min..max.  Returns 0, or -1 with err naming the option:
 * "requires a number" for anything that is not digits (signs, spaces, junk), "value V is not..."
 * for a number out of range (`what` describes the range).
 */
static int parse_number(const char *arg, const char *opt, long min, long max, const char *what,
                        long *out, char *err, size_t errlen)
{
    char *end;
    long value;

    if (arg[0] < '0' || arg[0] > '9') {
        snprintf(err, errlen, "option %s requires a number, got '%s'", opt, arg);
        return -1;
    }
    errno = 0;
    value = strtol(arg, &end, 10);
    if (*end != '\0') {
        snprintf(err, errlen, "option %s requires a number, got '%s'", opt, arg);
        return -1;
    }
    if (errno == ERANGE || value < min || value > max) {
        snprintf(err, errlen, "option %s value %s %s", opt, arg, what);
        return -1;
    }
    *out = value;
    return 0;
}

/* The message for a missing argument, in nutcracker's words. */
static void missing_argument(int opt, const char *longname, char *err, size_t errlen)
{
    const char *kind;

    switch (opt) {
    case 'o': case 'c': case 'p':
        kind = "a file name";
        break;
    case 'v': case 's': case 'i': case 'm':
        kind = "a number";
        break;
    case OPT_PLUGIN_DIR:
        kind = "a directory name";
        break;
    case OPT_WORKERS:
        kind = "a number of workers, or auto";
        break;
    default:
        kind = "a string";
        break;
    }
    if (opt < 256)
        snprintf(err, errlen, "option -%c requires %s", opt, kind);
    else
        snprintf(err, errlen, "option --%s requires %s", longname, kind);
}

/* Stores one option with an argument; returns 0 or -1 with err set. */
static int apply_value(struct sp_options *opts, int c, const char *arg, char *err, size_t errlen)
{
    long value;

    switch (c) {
    case 'v':
        if (parse_number(arg, "-v", SP_LOG_MIN, SP_LOG_MAX, "is not a level between 0 and 11",
                         &value, err, errlen) < 0)
            return -1;
        opts->log_level = (int)value;
        return 0;
    case 's':
        if (parse_number(arg, "-s", 1, 65535, "is not a valid port", &value, err, errlen) < 0)
            return -1;
        opts->stats_port = (int)value;
        return 0;
    case 'i':
        if (parse_number(arg, "-i", 1, INT_MAX, "is not a positive number of msec", &value, err,
                         errlen) < 0)
            return -1;
        opts->stats_interval = (int)value;
        return 0;
    case 'm':
        if (parse_number(arg, "-m", SP_MBUF_MIN_SIZE, SP_MBUF_MAX_SIZE,
                         "is out of range: mbuf chunk size must be between 512 and 16777216 bytes",
                         &value, err, errlen) < 0)
            return -1;
        opts->mbuf_size = (size_t)value;
        return 0;
    case 'o':
        opts->log_file = arg;
        return 0;
    case 'c':
        opts->conf_file = arg;
        return 0;
    case 'a':
        if (arg[0] == '\0') {
            snprintf(err, errlen, "option -a requires a non-empty address");
            return -1;
        }
        opts->stats_addr = arg;
        return 0;
    case 'p':
        opts->pid_file = arg;
        return 0;
    case OPT_PLUGIN_DIR:
        opts->plugin_dir = arg;
        return 0;
    case OPT_WORKERS:
        if (strcmp(arg, "auto") == 0) {
            opts->workers = 0;
            return 0;
        }
        if (parse_number(arg, "--workers", 1, SP_WORKERS_MAX,
                         "is out of range: between 1 and " SP_STR(SP_WORKERS_MAX) ", or auto",
                         &value, err, errlen) < 0)
            return -1;
        opts->workers = (unsigned)value;
        return 0;
    default:
        snprintf(err, errlen, "internal error: unhandled option %d", c);
        return -1;
    }
}

/* The name of the option at argv[optind - 1], for messages about long options. */
static const char *current_arg(int argc, char **argv)
{
    return optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "?";
}

int sp_options_parse(struct sp_options *opts, int argc, char **argv, char *err, size_t errlen)
{
    int longindex;

    opterr = 0;
    for (;;) {
        longindex = -1;
        int c = getopt_long(argc, argv, short_options, long_options, &longindex);
        if (c == -1)
            break;
        switch (c) {
        case 'h':
            opts->show_help = true;
            opts->show_version = true;
            break;
        case 'V':
            opts->show_version = true;
            break;
        case 't':
            opts->test_conf = true;
            break;
        case 'd':
            opts->daemonize = true;
            break;
        case 'D':
            opts->describe_stats = true;
            opts->show_version = true;
            break;
        case ':':
            missing_argument(optopt,
                             optopt == OPT_PLUGIN_DIR ? "plugin-dir"
                             : optopt == OPT_WORKERS  ? "workers"
                                                      : "",
                             err, errlen);
            return -1;
        case '?':
            if (optopt != 0)
                snprintf(err, errlen, "invalid option -- '%c'", optopt);
            else
                snprintf(err, errlen, "unrecognized option '%s'", current_arg(argc, argv));
            return -1;
        default:
            if (apply_value(opts, c, optarg, err, errlen) < 0)
                return -1;
            break;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}
