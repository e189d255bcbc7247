/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Options shared by the analysing subcommands (balance, diff, whatif, compare): where the keys come
 * from, how the report is written, and the dispatch of a finished analysis to its writers.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "oracle.h"
#include "opts.h"

void sp_oracle_opts_init(struct sp_oracle_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->format = SP_FORMAT_TEXT;
    o->samples = SP_ORACLE_DEFAULT_SAMPLES;
}

int sp_oracle_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno == ERANGE)
        return sp_oracle_fail("%s: %s '%s' is not a whole number (expected decimal digits)", cmd,
                              opt, s);
    *out = v;
    return 0;
}

int sp_oracle_parse_percent(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '%' && end == s + n - 1)
        end++;
    if (n == 0 || *end != '\0' || errno == ERANGE || !(v >= 0 && v <= 100))
        return sp_oracle_fail("%s: %s '%s' is not a percentage (expected a number 0..100)", cmd,
                              opt, s);
    *out = v;
    return 0;
}

int sp_oracle_common_option(struct sp_oracle_opts *o, const char *cmd, int opt, const char *arg)
{
    switch (opt) {
    case SP_OPT_PLUGIN_DIR: o->plugin_dir = arg; return 1;
    case SP_OPT_HEX: o->key_flags |= SP_KEYS_HEX; return 1;
    case SP_OPT_SIZES: o->key_flags |= SP_KEYS_SIZES; return 1;
    case SP_OPT_PATTERN: o->pattern = arg; return 1;
    case SP_OPT_JSON: o->format = SP_FORMAT_JSON; return 1;
    case SP_OPT_CSV: o->format = SP_FORMAT_CSV; return 1;
    case SP_OPT_HTML: o->html_path = arg; return 1;
    case SP_OPT_SYNTHETIC:
        o->have_synthetic = true;
        return sp_oracle_parse_u64(cmd, "--synthetic", arg, &o->synthetic) != 0 ? -1 : 1;
    case SP_OPT_SAMPLES:
        if (sp_oracle_parse_u64(cmd, "--samples", arg, &o->samples))
            return -1;
        if (o->samples >= 1024 && o->samples <= (UINT64_C(1) << 28))
            return 1;
        sp_oracle_fail("%s: --samples %s is out of range (expected 1024..268435456)", cmd, arg);
        return -1;
    default:
        return 0;
    }
}

int sp_oracle_bad_option(const char *cmd, int opt, int argc, char **argv, const char *usage)
{
    const char *what = optind - 1 < argc ? argv[optind - 1] : "?";
    if (opt == ':')
        return sp_oracle_fail("%s: option '%s' needs a value (usage: %s)", cmd, what, usage);
    return sp_oracle_fail("%s: bad option '%s' (usage: %s)", cmd, what, usage);
}

int sp_oracle_keys_operand(struct sp_oracle_opts *o, const char *cmd, int argc, char **argv)
{
    if (argc - optind > 1)
        return sp_oracle_fail("%s: one key file at most (got %d)", cmd, argc - optind);
    if (optind < argc)
        o->keys_path = argv[optind];
    if (o->have_synthetic && o->keys_path)
        return sp_oracle_fail("%s: --synthetic and a key file '%s' exclude each other", cmd,
                              o->keys_path);
    if (o->pattern && !o->have_synthetic)
        return sp_oracle_fail("%s: --pattern needs --synthetic N", cmd);
    if (o->have_synthetic && (o->key_flags & (SP_KEYS_HEX | SP_KEYS_SIZES)))
        return sp_oracle_fail("%s: --hex and --sizes describe a key file, not --synthetic keys",
                              cmd);
    return 0;
}

int sp_oracle_parse_conf_command(int argc, char **argv, const char *cmd, const char *usage,
                                 const char *about, struct sp_oracle_opts *o, const char **conf,
                                 const char **pool)
{
    static const struct option options[] = {
        {"conf", required_argument, NULL, 'c'},
        {"conf-file", required_argument, NULL, 'c'},
        {"pool", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        SP_ORACLE_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:p:h", options, NULL)) != -1) {
        int c = sp_oracle_common_option(o, cmd, opt, optarg);
        if (c < 0)
            return SP_EXIT_BAD_INPUT;
        if (c > 0)
            continue;
        switch (opt) {
        case 'c': *conf = optarg; break;
        case 'p': *pool = optarg; break;
        case 'h':
            printf("Usage: %s\n\n%s\n\n" SP_ORACLE_COMMON_HELP, usage, about);
            return 1;
        default:
            return sp_oracle_bad_option(cmd, opt, argc, argv, usage);
        }
    }
    if (!*conf)
        return sp_oracle_fail("%s: -c CONF is required", cmd);
    return sp_oracle_keys_operand(o, cmd, argc, argv);
}

int sp_oracle_load(const struct sp_oracle_opts *o, const char *conf_path, const char *pool_name,
                   struct sp_registry **reg, struct sp_conf **conf,
                   const struct sp_conf_pool **pool)
{
    *conf = NULL;
    *pool = NULL;
    if (!(*reg = sp_oracle_registry(o->plugin_dir)) || !(*conf = sp_oracle_conf(*reg, conf_path)) ||
        !(*pool = sp_oracle_pool(*conf, pool_name)))
        return SP_EXIT_BAD_INPUT;
    return 0;
}

int sp_oracle_emit_balance(const struct sp_oracle_opts *o, const struct sp_oracle_side *s)
{
    struct sp_oracle_balance b;
    bool sizes = o->key_flags & SP_KEYS_SIZES;
    sp_oracle_balance_of(s, &b);
    if (o->format == SP_FORMAT_JSON)
        sp_oracle_json_balance(stdout, s, &b, sizes);
    else if (o->format == SP_FORMAT_CSV)
        sp_oracle_csv_balance(stdout, s, sizes);
    else
        sp_oracle_text_balance(stdout, s, &b, sizes);
    if (fflush(stdout) != 0)
        return sp_oracle_fail("cannot write output");
    return o->html_path ? sp_oracle_html_balance(o->html_path, s, &b, sizes) : SP_EXIT_OK;
}

int sp_oracle_emit_diff(const struct sp_oracle_opts *o, const struct sp_oracle_diff *d)
{
    bool sizes = o->key_flags & SP_KEYS_SIZES;
    if (d->list == stdout)
        ; /* the migration plan is the output */
    else if (o->format == SP_FORMAT_JSON)
        sp_oracle_json_diff(stdout, d, sizes);
    else if (o->format == SP_FORMAT_CSV)
        sp_oracle_csv_diff(stdout, d, sizes);
    else
        sp_oracle_text_diff(stdout, d, sizes);
    if (fflush(stdout) != 0)
        return sp_oracle_fail("cannot write output");
    return o->html_path ? sp_oracle_html_diff(o->html_path, d, sizes) : SP_EXIT_OK;
}

int sp_oracle_emit_compare(const struct sp_oracle_opts *o, const struct sp_oracle_compare *c)
{
    if (o->format == SP_FORMAT_JSON)
        sp_oracle_json_compare(stdout, c);
    else if (o->format == SP_FORMAT_CSV)
        sp_oracle_csv_compare(stdout, c);
    else
        sp_oracle_text_compare(stdout, c);
    if (fflush(stdout) != 0)
        return sp_oracle_fail("cannot write output");
    return o->html_path ? sp_oracle_html_compare(o->html_path, c) : SP_EXIT_OK;
}
