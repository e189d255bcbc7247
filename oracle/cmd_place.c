/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle place: the server that owns each key, as the proxy would route it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oracle.h"
#include "placement.h"

/* "\thost:port[\tname]\n" for each server, so the hot loop writes two spans per key. */
static char **server_suffixes(const struct sp_conf_pool *pool)
{
    char **s = calloc(pool->nservers, sizeof *s);
    for (size_t i = 0; s && i < pool->nservers; i++) {
        const struct sp_conf_server *srv = &pool->servers[i];
        size_t n = strlen(srv->addr.text) + strlen(srv->name) + 4;
        if (!(s[i] = malloc(n)))
            return s;
        if (srv->named)
            snprintf(s[i], n, "\t%s\t%s\n", srv->addr.text, srv->name);
        else
            snprintf(s[i], n, "\t%s\n", srv->addr.text);
    }
    return s;
}

static void free_suffixes(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

/* Copies the spooled output to stdout.  Returns 0, or -1 when reading or writing failed. */
static int copy_out(FILE *spool)
{
    char buf[65536];
    size_t n;

    if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
        return -1;
    while ((n = fread(buf, 1, sizeof buf, spool)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            return -1;
    return ferror(spool) || fflush(stdout) != 0 ? -1 : 0;
}

/*
 * Where the lines go so that a bad line (e.g. in --hex input) leaves no partial answer behind for
 * a reader to take as the whole: a pipe or socket gets them via a temporary file, only once every
 * key was read; a regular file directly, cut back to where it was on failure (*start); a terminal
 * or a device directly (a person sees the error, /dev/null keeps nothing).  NULL on failure.
 */
static FILE *open_output(off_t *start)
{
    struct stat st;

    *start = -1;
    if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return tmpfile();
    if (S_ISREG(st.st_mode)) {
        /* Appending (>>), writes go to the end wherever the offset is now. */
        int append = fcntl(STDOUT_FILENO, F_GETFL) & O_APPEND;
        *start = lseek(STDOUT_FILENO, 0, append ? SEEK_END : SEEK_CUR);
    }
    return stdout;
}

/* Ends the output: copies the spool to stdout, or on failure cuts a regular file back. */
static int close_output(FILE *out, off_t start, bool ok)
{
    int rc = 0;

    if (out != stdout) {
        rc = ok ? (ferror(out) ? -1 : copy_out(out)) : 0;
        fclose(out);
        return rc;
    }
    if (ok)
        return ferror(stdout) || fflush(stdout) != 0 ? -1 : 0;
    if (start >= 0 && fflush(stdout) == 0 && ftruncate(STDOUT_FILENO, start) == 0)
        lseek(STDOUT_FILENO, start, SEEK_SET);
    return 0;
}

static int place_keys(struct sp_placer *placer, const struct sp_conf_pool *pool, const char *path,
                      int flags)
{
    char err[1024];
    off_t start;
    FILE *out = open_output(&start);
    char **suffix = server_suffixes(pool);
    size_t *suffix_len = calloc(pool->nservers, sizeof *suffix_len);
    for (size_t i = 0; suffix && suffix_len && i < pool->nservers; i++)
        suffix_len[i] = suffix[i] ? strlen(suffix[i]) : 0;
    struct sp_keys *keys = sp_keys_open(path, flags, err, sizeof err);
    int rc = SP_EXIT_OK;
    if (!keys) {
        rc = sp_oracle_fail("%s", err);
        goto out;
    }
    if (!out) {
        rc = sp_oracle_fail("cannot create a temporary file for the output: %s", strerror(errno));
        goto out;
    }
    struct sp_key key;
    int more;
    while ((more = sp_keys_next(keys, &key, err, sizeof err)) > 0) {
        int idx = sp_placer_locate(placer, key.bytes, key.len);
        fwrite_unlocked(key.text, 1, key.text_len, out);
        if (idx < 0)
            fputs_unlocked("\t-\n", out);
        else
            fwrite_unlocked(suffix[idx], 1, suffix_len[idx], out);
    }
    if (more < 0)
        rc = sp_oracle_fail("%s", err);
    if (close_output(out, start, more >= 0) != 0)
        rc = sp_oracle_fail("cannot write output: %s", strerror(errno));
    out = NULL;
out:
    if (out && out != stdout)
        fclose(out);
    sp_keys_close(keys);
    free(suffix_len);
    free_suffixes(suffix, pool->nservers);
    return rc;
}

int sp_oracle_cmd_place(int argc, char **argv)
{
    static const struct option options[] = {
        {"conf", required_argument, NULL, 'c'},
        {"conf-file", required_argument, NULL, 'c'},
        {"pool", required_argument, NULL, 'p'},
        {"hex", no_argument, NULL, 'x'},
        {"plugin-dir", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *conf_path = NULL, *pool_name = NULL, *plugin_dir = NULL;
    int flags = 0, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "c:p:xh", options, NULL)) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 'p': pool_name = optarg; break;
        case 'x': flags |= SP_KEYS_HEX; break;
        case 'P': plugin_dir = optarg; break;
        case 'h':
            printf("Usage: shardoracle place -c CONF [--pool NAME] [--hex] [--plugin-dir DIR] "
                   "[FILE]\n");
            return SP_EXIT_OK;
        default:
            return sp_oracle_fail("place: bad option '%s' (usage: shardoracle place -c CONF "
                                  "[--pool NAME] [--hex] [FILE])", argv[optind - 1]);
        }
    }
    if (!conf_path)
        return sp_oracle_fail("place: -c CONF is required");
    if (argc - optind > 1)
        return sp_oracle_fail("place: one key file at most (got %d)", argc - optind);
    struct sp_registry *reg = sp_oracle_registry(plugin_dir);
    if (!reg)
        return SP_EXIT_BAD_INPUT;
    struct sp_conf *conf = sp_oracle_conf(reg, conf_path);
    const struct sp_conf_pool *pool = conf ? sp_oracle_pool(conf, pool_name) : NULL;
    int rc = SP_EXIT_BAD_INPUT;
    if (pool) {
        char err[1024];
        struct sp_placer *placer = sp_placer_new(reg, pool, NULL, err, sizeof err);
        if (!placer)
            rc = sp_oracle_fail("%s: pool '%s': %s", conf_path, pool->name, err);
        else
            rc = place_keys(placer, pool, optind < argc ? argv[optind] : NULL, flags);
        sp_placer_free(placer);
    }
    sp_conf_free(conf);
    sp_registry_free(reg);
    return rc;
}
