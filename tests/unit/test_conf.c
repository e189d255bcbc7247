/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loader: nutcracker 0.5.0's YAML with its defaults, names and server order, every
 * golden config, one test per error message (exact file:line:col, pool, key, problem), and
 * garbage input that must be refused cleanly.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "testutil.h"

/* The hash names nutcracker 0.5.0 accepts (checked against hash.tsv's header below). */
static const char *const HASHES[] = { "one_at_a_time", "md5",      "crc16",   "crc32",
                                      "crc32a",        "fnv1_64",  "fnv1a_64", "fnv1_32",
                                      "fnv1a_32",      "hsieh",    "murmur",  "jenkins",
                                      NULL };
static const char *const DISTS[] = { "ketama", "modula", "random", NULL };

static char *conf_path(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "conf/%s", name);
    return tu_data_path(rel);
}

/* Loads tests/data/<rel>, failing the test with the loader's message when it does not load. */
static struct sp_conf *load_ok(const char *rel)
{
    char *path = tu_data_path(rel);
    struct sp_conf *c = NULL;
    char err[1024] = "";
    int rc = sp_conf_load(path, HASHES, DISTS, &c, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", rel, err);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->path, path);
    free(path);
    return c;
}

static struct sp_conf *load_conf_ok(const char *name)
{
    char rel[512];
    snprintf(rel, sizeof rel, "conf/%s", name);
    return load_ok(rel);
}

/* Loads text that must fail; returns the message (static buffer per call site is not needed). */
static int load_text(const char *text, const char *const *hashes, const char *const *dists,
                     char *err, size_t errlen)
{
    struct sp_conf *c = (struct sp_conf *)&c;  /* must be reset to NULL on failure */
    int rc = sp_conf_load_string(text, strlen(text), "t.yml", hashes, dists, &c, err, errlen);
    if (rc == 0) {
        ck_assert_ptr_nonnull(c);
        sp_conf_free(c);
    } else {
        ck_assert_int_eq(rc, -1);
        ck_assert_ptr_null(c);
    }
    return rc;
}

static void check_server(const struct sp_conf_server *s, const char *name, const char *text,
                         const char *host, int port, uint32_t weight, bool named, bool is_unix)
{
    ck_assert_str_eq(s->name, name);
    ck_assert_str_eq(s->addr.text, text);
    ck_assert_str_eq(s->addr.host, host);
    ck_assert_int_eq(s->addr.port, port);
    ck_assert_uint_eq(s->weight, weight);
    ck_assert_int_eq(s->named, named);
    ck_assert_int_eq(s->addr.is_unix, is_unix);
}

START_TEST(hash_list_matches_vectors)
{
    char *path = tu_data_path("hash.tsv");
    struct tu_table *t = tu_read_tsv(path);
    size_t n = 0;
    while (HASHES[n])
        n++;
    ck_assert_uint_eq(t->ncols, n + 1);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(t->header[i + 1], HASHES[i]);
    tu_table_free(t);
    free(path);
}
END_TEST

START_TEST(every_key)
{
    struct sp_conf *c = load_conf_ok("good_all_keys.yml");
    ck_assert_uint_eq(c->npools, 1);
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert_str_eq(p->name, "full");
    ck_assert_uint_eq(p->mark.line, 2);
    ck_assert_uint_eq(p->mark.column, 1);
    ck_assert_str_eq(p->listen.text, "127.0.0.1:22121");
    ck_assert_str_eq(p->listen.host, "127.0.0.1");
    ck_assert_int_eq(p->listen.port, 22121);
    ck_assert(!p->listen.is_unix);
    ck_assert_str_eq(p->hash, "md5");
    ck_assert_str_eq(p->hash_tag, "{}");
    ck_assert_str_eq(p->distribution, "modula");
    ck_assert_int_eq(p->timeout, 400);
    ck_assert_int_eq(p->backlog, 1024);
    ck_assert(p->preconnect);
    ck_assert(p->redis);
    ck_assert_str_eq(p->redis_auth, "s3cret");
    ck_assert_int_eq(p->redis_db, 7);
    ck_assert_int_eq(p->server_connections, 3);
    ck_assert(p->auto_eject_hosts);
    ck_assert_int_eq(p->server_retry_timeout, 2000);
    ck_assert_int_eq(p->server_failure_limit, 5);
    ck_assert_int_eq(p->client_connections, 100);
    ck_assert(p->tcpkeepalive);
    ck_assert_uint_eq(p->nservers, 2);
    check_server(&p->servers[0], "one", "127.0.0.1:6380", "127.0.0.1", 6380, 2, true, false);
    check_server(&p->servers[1], "two", "127.0.0.1:6381", "127.0.0.1", 6381, 3, true, false);
    ck_assert_uint_eq(p->servers[0].mark.line, 20);
    ck_assert_uint_eq(p->servers[0].mark.column, 6);
    sp_conf_free(c);
}
END_TEST

START_TEST(defaults)
{
    struct sp_conf *c = load_conf_ok("good_defaults.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert_str_eq(p->hash, SP_CONF_DEFAULT_HASH);
    ck_assert_str_eq(p->hash, "fnv1a_64");
    ck_assert_str_eq(p->distribution, SP_CONF_DEFAULT_DIST);
    ck_assert_str_eq(p->distribution, "ketama");
    ck_assert_str_eq(p->hash_tag, "");
    ck_assert_int_eq(p->timeout, -1);
    ck_assert_int_eq(p->backlog, 512);
    ck_assert_int_eq(p->client_connections, 0);
    ck_assert_int_eq(p->server_connections, 1);
    ck_assert_int_eq(p->server_retry_timeout, 30000);
    ck_assert_int_eq(p->server_failure_limit, 2);
    ck_assert_int_eq(p->redis_db, 0);
    ck_assert(!p->redis && !p->preconnect && !p->auto_eject_hosts && !p->tcpkeepalive);
    ck_assert_ptr_null(p->redis_auth);
    ck_assert_uint_eq(p->listen.perm, 0);
    check_server(&p->servers[0], "127.0.0.1:6380", "127.0.0.1:6380", "127.0.0.1", 6380, 1, false,
                 false);
    sp_conf_free(c);
}
END_TEST

START_TEST(several_pools_in_file_order)
{
    struct sp_conf *c = load_conf_ok("good_pools.yml");
    ck_assert_uint_eq(c->npools, 3);
    ck_assert_str_eq(c->pools[0].name, "zeta");
    ck_assert_str_eq(c->pools[1].name, "alpha");
    ck_assert_str_eq(c->pools[2].name, "mid");
    ck_assert_uint_eq(c->pools[1].mark.line, 8);
    ck_assert(c->pools[0].redis);
    ck_assert(!c->pools[1].redis);
    ck_assert_str_eq(c->pools[1].hash, "crc32a");
    ck_assert_str_eq(c->pools[2].distribution, "random");
    ck_assert_ptr_eq(sp_conf_find_pool(c, "mid"), &c->pools[2]);
    ck_assert_ptr_null(sp_conf_find_pool(c, "nope"));
    ck_assert_ptr_null(sp_conf_find_pool(NULL, "mid"));
    const struct sp_conf_pool *a = &c->pools[1];
    check_server(&a->servers[0], "127.0.0.1", "127.0.0.1:11211", "127.0.0.1", 11211, 1, false,
                 false);
    check_server(&a->servers[1], "127.0.0.1:11212", "127.0.0.1:11212", "127.0.0.1", 11212, 1,
                 false, false);
    ck_assert_int_eq(sp_conf_find_server(a, "127.0.0.1"), 0);
    ck_assert_int_eq(sp_conf_find_server(a, "127.0.0.1:11212"), 1);
    ck_assert_int_eq(sp_conf_find_server(a, "127.0.0.1:11211"), -1);
    ck_assert_int_eq(sp_conf_find_server(&c->pools[2], "a"), 0);
    sp_conf_free(c);
}
END_TEST

/* Names and order as nutcracker 0.5.0's stats port listed them for this very file. */
START_TEST(unix_sockets)
{
    struct sp_conf *c = load_conf_ok("good_unix.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert(p->listen.is_unix);
    ck_assert_str_eq(p->listen.text, "/tmp/shardproxy-test.sock");
    ck_assert_str_eq(p->listen.host, "/tmp/shardproxy-test.sock");
    ck_assert_int_eq(p->listen.port, 0);
    ck_assert_uint_eq(p->listen.perm, 0666);
    ck_assert_uint_eq(p->nservers, 3);
    check_server(&p->servers[0], "bee", "/tmp/redis-b.sock", "/tmp/redis-b.sock", 0, 2, true, true);
    check_server(&p->servers[1], "127.0.0.1:6380", "127.0.0.1:6380", "127.0.0.1", 6380, 1, false,
                 false);
    /* nutcracker names an unnamed socket "path:" (an empty port after the colon) */
    check_server(&p->servers[2], "/tmp/redis-a.sock:", "/tmp/redis-a.sock", "/tmp/redis-a.sock", 0,
                 1, false, true);
    ck_assert(c->pools[1].listen.is_unix);
    ck_assert_uint_eq(c->pools[1].listen.perm, 0);
    ck_assert_str_eq(c->pools[1].servers[0].name, "/tmp/redis-c.sock:");
    sp_conf_free(c);
}
END_TEST

/* Order observed on nutcracker 0.5.0's stats port for good_names.yml. */
START_TEST(derived_names_and_order)
{
    static const char *const want[] = { "a:b",       "10.0.0.1",       "::1:6379",
                                         "127.0.0.1", "localhost:6379", "127.0.0.1:06379" };
    struct sp_conf *c = load_conf_ok("good_names.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert_uint_eq(p->nservers, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(p->servers[i].name, want[i]);
    check_server(&p->servers[1], "10.0.0.1", "10.0.0.1:011211", "10.0.0.1", 11211, 1, false, false);
    check_server(&p->servers[2], "::1:6379", "::1:6379", "::1", 6379, 1, false, false);
    check_server(&p->servers[5], "127.0.0.1:06379", "127.0.0.1:06379", "127.0.0.1", 6379, 1, false,
                 false);
    ck_assert_uint_eq(p->servers[0].mark.line, 10);  /* marks keep the config line */
    ck_assert_uint_eq(p->servers[3].mark.line, 5);
    sp_conf_free(c);
}
END_TEST

START_TEST(accepted_spellings)
{
    struct sp_conf *c = load_conf_ok("good_quirks.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert_str_eq(p->listen.text, "127.0.0.1:22121");
    ck_assert_str_eq(p->hash, "fnv1_32");
    ck_assert_str_eq(p->hash_tag, "\xc3\xa9");  /* two bytes, as nutcracker counts */
    ck_assert_int_eq(p->timeout, 400);
    ck_assert(p->redis);
    ck_assert_uint_eq(p->servers[0].weight, 1);
    ck_assert_str_eq(p->servers[0].name, "127.0.0.1:6380");
    sp_conf_free(c);
}
END_TEST

START_TEST(crlf_and_bom)
{
    struct sp_conf *c = load_conf_ok("good_crlf.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert_str_eq(p->hash, "md5");
    ck_assert_str_eq(p->servers[1].name, "two");
    ck_assert_uint_eq(p->servers[1].mark.line, 6);
    ck_assert_uint_eq(p->servers[1].mark.column, 6);
    sp_conf_free(c);

    c = load_conf_ok("good_bom.yml");
    ck_assert_str_eq(c->pools[0].name, "bom");
    ck_assert_uint_eq(c->pools[0].mark.line, 1);
    ck_assert_uint_eq(c->pools[0].mark.column, 1);
    ck_assert_str_eq(c->pools[0].hash, "md5");
    sp_conf_free(c);
}
END_TEST

/* README: alpha beta gamma delta -> beta, alpha, delta, gamma. */
START_TEST(sort_named)
{
    static const char *const want[] = { "beta", "alpha", "delta", "gamma" };
    static const unsigned lines[] = { 9, 8, 11, 10 };
    struct sp_conf *c = load_ok("placement/c_md5_modula.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert_uint_eq(p->nservers, 4);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(p->servers[i].name, want[i]);
        ck_assert_uint_eq(p->servers[i].mark.line, lines[i]);
    }
    sp_conf_free(c);
}
END_TEST

/* README: 27002, 7003, 27001 -> 7003, 27001, 27002. */
START_TEST(sort_unnamed)
{
    static const char *const want[] = { "127.0.0.1:7003", "127.0.0.1:27001", "127.0.0.1:27002" };
    struct sp_conf *c = load_ok("placement/f_fnv1a_64_modula.yml");
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert_uint_eq(p->nservers, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(p->servers[i].name, want[i]);
    sp_conf_free(c);
}
END_TEST

/* "host:port:weight[ name]" of a loaded server, as cases.tsv lists config entries. */
static void entry_of(const struct sp_conf_server *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%u%s%s", s->addr.text, s->weight, s->named ? " " : "",
             s->named ? s->name : "");
}

/* Every case of an index (placement/ or eject/) loads, with the listed settings and servers. */
static void load_cases(const char *dir)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/cases.tsv", dir);
    char *index = tu_data_path(rel);
    struct tu_table *t = tu_read_tsv(index);
    size_t ccase = tu_col(t, "case"), chash = tu_col(t, "hash"), cdist = tu_col(t, "distribution");
    size_t csrv = tu_col(t, "servers"), ctag = tu_col(t, "hash_tag");
    ck_assert_uint_gt(t->nrows, 0);
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        snprintf(rel, sizeof rel, "%s/%s.yml", dir, row[ccase]);
        struct sp_conf *c = load_ok(rel);
        ck_assert_uint_eq(c->npools, 1);
        const struct sp_conf_pool *p = &c->pools[0];
        ck_assert_str_eq(p->hash, row[chash]);
        ck_assert_str_eq(p->distribution, row[cdist]);
        ck_assert_str_eq(p->hash_tag, row[ctag]);
        ck_assert(p->redis);
        /* same entries as listed (config order), now sorted by (length, bytes) of the name */
        char *list = strdup(row[csrv]);
        size_t listed = 0;
        char *save = NULL;
        for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
            bool found = false;
            for (size_t i = 0; i < p->nservers && !found; i++) {
                char buf[512];
                entry_of(&p->servers[i], buf, sizeof buf);
                found = strcmp(buf, e) == 0;
            }
            ck_assert_msg(found, "%s: entry '%s' not loaded", rel, e);
            listed++;
        }
        free(list);
        ck_assert_uint_eq(p->nservers, listed);
        for (size_t i = 1; i < p->nservers; i++) {
            const char *a = p->servers[i - 1].name, *b = p->servers[i].name;
            ck_assert_msg(strlen(a) < strlen(b) ||
                              (strlen(a) == strlen(b) && memcmp(a, b, strlen(a)) < 0),
                          "%s: '%s' before '%s'", rel, a, b);
        }
        sp_conf_free(c);
    }
    tu_table_free(t);
    free(index);
}

START_TEST(golden_placement_configs)
{
    load_cases("placement");
}
END_TEST

START_TEST(golden_eject_configs)
{
    load_cases("eject");
}
END_TEST

START_TEST(load_string_and_plugin_lists)
{
    static const char text[] = "p:\n  listen: 127.0.0.1:1\n  hash: whatever\n"
                               "  distribution: mine\n  servers:\n   - 127.0.0.1:2:1\n";
    static const char *const none[] = { NULL };
    static const char *const only_md5[] = { "md5", NULL };
    struct sp_conf *c = NULL;
    char err[512];

    /* NULL lists: no check */
    ck_assert_int_eq(sp_conf_load_string(text, strlen(text), "mem", NULL, NULL, &c, err,
                                         sizeof err), 0);
    ck_assert_str_eq(c->path, "mem");
    ck_assert_str_eq(c->pools[0].hash, "whatever");
    ck_assert_str_eq(c->pools[0].distribution, "mine");
    sp_conf_free(c);
    /* an empty list says so */
    ck_assert_int_eq(load_text(text, none, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "t.yml:3:9: pool 'p': key 'hash': unknown hash 'whatever' "
                          "(expected one of: none loaded)");
    /* a default that is not loaded is reported at the pool */
    static const char deflt[] = "p:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:1\n";
    ck_assert_int_eq(load_text(deflt, only_md5, DISTS, err, sizeof err), -1);
    ck_assert_str_eq(err, "t.yml:1:1: pool 'p': key 'hash': unknown hash (the default) "
                          "'fnv1a_64' (expected one of: md5)");
    ck_assert_int_eq(load_text(deflt, HASHES, only_md5, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "t.yml:1:1: pool 'p': key 'distribution': unknown distribution "
                              "(the default) 'ketama'") == err, "%s", err);
    /* sp_conf_free(NULL) and lookups on NULL are harmless */
    sp_conf_free(NULL);
    ck_assert_int_eq(sp_conf_find_server(NULL, "x"), -1);
}
END_TEST

START_TEST(unreadable_files)
{
    struct sp_conf *c = NULL;
    char err[512];
    char *missing = conf_path("does_not_exist.yml");
    char want[1024];

    ck_assert_int_eq(sp_conf_load(missing, HASHES, DISTS, &c, err, sizeof err), -1);
    ck_assert_ptr_null(c);
    snprintf(want, sizeof want, "%s: cannot open configuration file: No such file or directory",
             missing);
    ck_assert_str_eq(err, want);
    free(missing);

    char *dir = tu_data_path("conf");
    ck_assert_int_eq(sp_conf_load(dir, HASHES, DISTS, &c, err, sizeof err), -1);
    ck_assert_ptr_null(c);
    snprintf(want, sizeof want, "%s: cannot read configuration file: Is a directory", dir);
    ck_assert_str_eq(err, want);
    free(dir);
}
END_TEST

START_TEST(small_or_missing_error_buffer)
{
    static const char bad[] = "p:\n  listen: 127.0.0.1:1\n  hash: nope\n  servers:\n   - a:1:1\n";
    char err[12];
    memset(err, 'x', sizeof err);
    ck_assert_int_eq(load_text(bad, HASHES, DISTS, err, sizeof err), -1);
    ck_assert_str_eq(err, "t.yml:3:9: ");
    ck_assert_int_eq(load_text(bad, HASHES, DISTS, NULL, 0), -1);
    ck_assert_int_eq(load_text(bad, HASHES, DISTS, err, 1), -1);
    ck_assert_str_eq(err, "");
    struct sp_conf *c = NULL;
    char *missing = conf_path("does_not_exist.yml");
    ck_assert_int_eq(sp_conf_load(missing, HASHES, DISTS, &c, NULL, 0), -1);
    free(missing);
}
END_TEST

/* A Sentinel pool: every key, the map, each server's master; a plain pool has no masters. */
START_TEST(sentinel_pool)
{
    struct sp_conf *c = load_conf_ok("good_sentinel.yml");
    ck_assert_uint_eq(c->npools, 2);
    const struct sp_conf_pool *p = &c->pools[0];
    ck_assert(sp_conf_pool_is_sentinel(p));
    ck_assert_uint_eq(p->nsentinels, 3);
    ck_assert_str_eq(p->sentinels[0].addr.text, "127.0.0.1:26379");
    ck_assert_str_eq(p->sentinels[1].addr.host, "127.0.0.1");
    ck_assert_int_eq(p->sentinels[1].addr.port, 26380);
    ck_assert_str_eq(p->sentinels[2].addr.host, "::1");
    ck_assert_int_eq(p->sentinels[2].addr.port, 26381);
    ck_assert_uint_eq(p->sentinels[2].mark.line, 11);
    ck_assert_str_eq(p->sentinel_auth, "s3cret");
    ck_assert_str_eq(p->sentinel_user, "proxy");
    ck_assert(p->auto_eject_hosts);  /* kept as written; the proxy does not apply it */
    ck_assert_uint_eq(p->nsentinel_masters, 1);
    ck_assert_str_eq(p->sentinel_masters[0].server, "127.0.0.1:4500");
    ck_assert_str_eq(p->sentinel_masters[0].master, "redis_g1");
    ck_assert_int_eq(p->failover_hold, 1500);
    ck_assert(p->failover_replica_reads);
    /* the ring names decide the order, as always: the shorter name first */
    ck_assert_uint_eq(p->nservers, 2);
    check_server(&p->servers[0], "redis_g2", "127.0.0.1:4501", "127.0.0.1", 4501, 1, true, false);
    ck_assert_str_eq(p->servers[0].master, "redis_g2");
    check_server(&p->servers[1], "127.0.0.1:4500", "127.0.0.1:4500", "127.0.0.1", 4500, 1, true,
                 false);
    ck_assert_str_eq(p->servers[1].master, "redis_g1");
    const struct sp_conf_pool *plain = &c->pools[1];
    ck_assert(!sp_conf_pool_is_sentinel(plain));
    ck_assert_int_eq(plain->failover_hold, SP_CONF_DEFAULT_FAILOVER_HOLD);
    ck_assert(!plain->failover_replica_reads);
    ck_assert_uint_eq(plain->nsentinels, 0);
    ck_assert_ptr_null(plain->sentinel_auth);
    ck_assert_ptr_null(plain->servers[0].master);
    sp_conf_free(c);
}
END_TEST

/*
 * migrate_from: the source layout is the pool with its layout keys replaced, servers sorted and
 * named as in `servers`; the short form; a Sentinel pool keeps only its own servers' aliases.
 */
START_TEST(migrate_from)
{
    struct sp_conf *c = load_conf_ok("good_migrate.yml");
    ck_assert_uint_eq(c->npools, 3);
    const struct sp_conf_pool *p = &c->pools[0], *f = p->migrate_from;
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_null(f->migrate_from);
    ck_assert_str_eq(f->name, "alpha");
    ck_assert_str_eq(f->listen.text, "127.0.0.1:22121");
    ck_assert_str_eq(f->hash, "fnv1a_64");
    ck_assert_str_eq(f->distribution, "modula");
    ck_assert_str_eq(f->hash_tag, "{}");
    ck_assert(f->redis);
    ck_assert_int_eq(f->redis_db, 3);
    ck_assert_uint_eq(f->mark.line, 14);
    ck_assert_uint_eq(f->nservers, 2);
    check_server(&f->servers[0], "a", "127.0.0.1:6379", "127.0.0.1", 6379, 1, true, false);
    check_server(&f->servers[1], "b", "127.0.0.1:6380", "127.0.0.1", 6380, 1, true, false);
    ck_assert_uint_eq(f->servers[0].mark.line, 17);
    ck_assert_str_eq(p->distribution, "ketama");
    ck_assert_uint_eq(p->nservers, 3);

    const struct sp_conf_pool *b = &c->pools[1];
    ck_assert_uint_eq(b->migrate_from->nservers, 2);
    check_server(&b->migrate_from->servers[1], "127.0.0.1:6391", "127.0.0.1:6391", "127.0.0.1",
                 6391, 1, false, false);
    ck_assert_str_eq(b->migrate_from->distribution, "ketama");

    const struct sp_conf_pool *g = &c->pools[2], *gf = g->migrate_from;
    ck_assert_str_eq(gf->hash, "md5");
    ck_assert_str_eq(gf->hash_tag, "[]");
    ck_assert_str_eq(g->hash_tag, "");
    ck_assert(sp_conf_pool_is_sentinel(gf));
    ck_assert_uint_eq(gf->nsentinel_masters, 1);
    ck_assert_str_eq(gf->servers[1].name, "old");
    ck_assert_str_eq(gf->servers[1].master, "gamma_old");
    ck_assert_uint_eq(g->nsentinel_masters, 1);   /* the pool keeps its map as written */

    /* a copy is deep, migrate_from included */
    struct sp_conf_pool *d = sp_conf_pool_dup(p);
    ck_assert_ptr_nonnull(d->migrate_from);
    ck_assert_ptr_ne(d->migrate_from, f);
    ck_assert_ptr_ne(d->migrate_from->servers, f->servers);
    ck_assert_str_eq(d->migrate_from->distribution, "modula");
    sp_conf_pool_free(d);
    ck_assert_ptr_null(c->pools[0].migrate_from->migrate_from);
    sp_conf_free(c);
}
END_TEST

/* One test per error message: exact position, pool and key, and the problem. */
struct bad_case {
    const char *file;
    const char *at;     /* "LINE:COL" */
    const char *pool;   /* NULL: the message must not name a pool */
    const char *key;    /* NULL: the message must not name a key */
    const char *what;
};

static const struct bad_case bad_cases[] = {
    { "bad_empty.yml", "1:1", NULL, NULL, "empty configuration: no pools" },
    { "bad_only_comments.yml", "1:1", NULL, NULL, "empty configuration: no pools" },
    { "bad_top_scalar.yml", "1:1", NULL, NULL, "top level is a scalar (expected a mapping" },
    { "bad_top_list.yml", "1:1", NULL, NULL, "top level is a list (expected a mapping" },
    { "bad_pool_name_list.yml", "1:3", NULL, NULL, "pool name is a list, not a scalar" },
    { "bad_pool_empty_name.yml", "1:1", NULL, NULL, "empty pool name" },
    { "bad_pool_dup.yml", "6:1", "alpha", NULL, "duplicate pool name (first defined at line 1)" },
    { "bad_pool_no_settings.yml", "1:1", "alpha", NULL, "pool has no settings" },
    { "bad_pool_scalar.yml", "1:8", "alpha", NULL,
      "expected a mapping of settings (indented 'key: value' lines), got a scalar "
      "'127.0.0.1:22121'" },
    { "bad_key_unknown.yml", "3:3", "alpha", NULL,
      "unknown key 'hashtag' (expected one of: listen, hash, hash_tag, distribution, timeout, "
      "backlog, client_connections, redis, redis_auth, redis_db, preconnect, auto_eject_hosts, "
      "server_connections, server_retry_timeout, server_failure_limit, servers, tcpkeepalive, "
      "sentinels, sentinel_auth, sentinel_user, sentinel_masters, failover_hold, "
      "failover_replica_reads, migrate_from)" },
    { "bad_key_dup.yml", "5:3", "alpha", "hash", "duplicate key (already set at line 3)" },
    { "bad_key_not_scalar.yml", "3:5", "alpha", NULL, "setting name is a list, not a scalar" },
    { "bad_value_list.yml", "4:4", "alpha", "hash", "expected a hash function name" },
    { "bad_value_mapping.yml", "4:5", "alpha", "timeout", ", got a mapping" },
    { "bad_value_missing.yml", "3:16", "alpha", "distribution", "missing value (expected a "
      "distribution name" },
    { "bad_missing_listen.yml", "1:1", "alpha", NULL,
      "missing key 'listen' (expected 'host:port'" },
    { "bad_missing_servers.yml", "1:1", "alpha", NULL, "missing key 'servers' (expected a list" },
    { "bad_servers_scalar.yml", "3:12", "alpha", "servers", "got a scalar" },
    { "bad_servers_nested.yml", "4:6", "alpha", "servers", "server entry is a list" },
    { "bad_server_mapping.yml", "4:6", "alpha", "servers", "server entry is a mapping" },
    { "bad_server_empty.yml", "5:6", "alpha", "servers", "empty server entry" },
    { "bad_server_spaces.yml", "4:22", "alpha", "servers",
      "'127.0.0.1:6380:1 my server' has more than one space: neither the address nor the "
      "server name may contain spaces" },
    { "bad_server_empty_name.yml", "4:24", "alpha", "servers", "has an empty server name" },
    { "bad_server_no_weight.yml", "4:6", "alpha", "servers", "'cache-1' has no weight" },
    { "bad_server_no_port.yml", "4:6", "alpha", "servers",
      "'127.0.0.1:6380' has no port or no weight" },
    { "bad_weight_zero.yml", "5:21", "alpha", "servers",
      "invalid weight '0' in '127.0.0.1:6381:0' (expected an integer 1..2147483647)" },
    { "bad_weight_bad.yml", "4:21", "alpha", "servers", "invalid weight 'x1'" },
    { "bad_weight_big.yml", "4:21", "alpha", "servers", "invalid weight '4294967297'" },
    { "bad_server_port_bad.yml", "4:16", "alpha", "servers",
      "invalid port '70000' (expected an integer 1..65535)" },
    { "bad_server_empty_host.yml", "4:6", "alpha", "servers", "':6380:1' has an empty host" },
    { "bad_server_brackets.yml", "4:6", "alpha", "servers",
      "brackets around an IPv6 address are not supported" },
    { "bad_server_unix_colon.yml", "4:6", "alpha", "servers", "a socket path cannot contain ':'" },
    { "bad_server_dup_name.yml", "6:6", "alpha", "servers",
      "duplicate server name 'cache' (same as the server at line 4" },
    { "bad_server_dup_derived.yml", "5:6", "alpha", "servers",
      "duplicate server name '127.0.0.1:6380' (same as the server at line 4" },
    { "bad_server_dup_11211.yml", "5:6", "alpha", "servers",
      "duplicate server name '127.0.0.1' (same as the server at line 4" },
    { "bad_listen_no_port.yml", "2:11", "alpha", "listen", "'127.0.0.1' has no port" },
    { "bad_listen_port_zero.yml", "2:21", "alpha", "listen", "invalid port '0'" },
    { "bad_listen_empty_host.yml", "2:11", "alpha", "listen", "':22121' has an empty host" },
    { "bad_listen_brackets.yml", "2:11", "alpha", "listen",
      "brackets around an IPv6 address are not supported" },
    { "bad_listen_perm_bad.yml", "2:27", "alpha", "listen", "invalid socket permissions '0999'" },
    { "bad_listen_perm_big.yml", "2:27", "alpha", "listen", "invalid socket permissions '1777'" },
    { "bad_listen_dup.yml", "7:11", "beta", "listen",
      "address '127.0.0.1:22121' is already used by pool 'alpha' at line 2" },
    { "bad_hash_unknown.yml", "3:9", "alpha", "hash",
      "unknown hash 'fnv2' (expected one of: one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, "
      "fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins)" },
    { "bad_dist_unknown.yml", "3:17", "alpha", "distribution",
      "unknown distribution 'Ketama' (expected one of: ketama, modula, random)" },
    { "bad_hash_tag_short.yml", "3:13", "alpha", "hash_tag", "'{' is 1 byte(s) long (expected "
      "exactly two characters" },
    { "bad_hash_tag_long.yml", "3:13", "alpha", "hash_tag", "'{{}}' is 4 byte(s) long" },
    { "bad_bool_yes.yml", "3:10", "alpha", "redis",
      "'yes' is not a boolean (expected true or false" },
    { "bad_bool_caps.yml", "3:21", "alpha", "auto_eject_hosts", "'True' is not a boolean" },
    { "bad_int_negative.yml", "3:12", "alpha", "timeout", "'-1' is not a non-negative integer" },
    { "bad_int_text.yml", "3:12", "alpha", "backlog", "'lots' is not a plain decimal integer" },
    { "bad_int_big.yml", "3:25", "alpha", "server_retry_timeout", "'2147483648' is too large" },
    { "bad_server_connections_zero.yml", "3:23", "alpha", "server_connections",
      "'0' is too small (expected an integer 1..2147483647)" },
    { "bad_redis_db_negative.yml", "4:13", "alpha", "redis_db", "'-2' is not a non-negative" },
    { "bad_redis_auth_memcache.yml", "3:3", "alpha", "redis_auth", "only valid for a redis pool" },
    { "bad_tab_indent.yml", "3:1", NULL, NULL, "tab character in indentation" },
    { "bad_syntax.yml", "6:1", NULL, NULL,
      "YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at line 3 "
      "column 9)" },
    { "bad_doc_start.yml", "1:1", NULL, NULL, "document start marker '---' is not supported" },
    { "bad_doc_end.yml", "5:1", NULL, NULL, "document end marker '...' is not supported" },
    { "bad_directive.yml", "1:1", NULL, NULL, "YAML directives" },
    { "bad_anchor.yml", "3:9", NULL, NULL, "YAML anchors ('&name') are not supported" },
    { "bad_alias.yml", "5:6", NULL, NULL, "YAML aliases ('*name') are not supported" },
    { "bad_tag.yml", "3:12", NULL, NULL, "YAML tags ('!tag') are not supported" },
    { "bad_flow.yml", "3:12", NULL, NULL, "flow style ('[...]' or '{...}') is not supported" },
    { "bad_flow_map.yml", "1:8", NULL, NULL, "flow style" },
    { "bad_nul.yml", "3:9", NULL, NULL, "value contains a NUL byte" },
    { "bad_utf8.yml", "3:12", NULL, NULL, "invalid leading UTF-8 octet (byte offset 44, value "
      "0xff; expected UTF-8 text)" },
    /* Sentinel pools: the list, its entries, the map, and the pool rules. */
    { "bad_sentinels_empty.yml", "4:13", "alpha", "sentinels",
      "expected a list of 'host:port' (no weight, no name) lines, each after '- ', got an empty "
      "value" },
    { "bad_sentinels_scalar.yml", "4:14", "alpha", "sentinels", "got a scalar" },
    { "bad_sentinel_entry_mapping.yml", "5:6", "alpha", "sentinels",
      "Sentinel entry is a mapping, not a scalar" },
    { "bad_sentinel_entry_list.yml", "5:6", "alpha", "sentinels", "Sentinel entry is a list" },
    { "bad_sentinel_empty.yml", "6:6", "alpha", "sentinels",
      "empty Sentinel entry (expected 'host:port' (no weight, no name))" },
    { "bad_sentinel_space.yml", "5:21", "alpha", "sentinels",
      "'127.0.0.1:26379 s1' has a space: a Sentinel has no weight and no name" },
    { "bad_sentinel_unix.yml", "5:6", "alpha", "sentinels",
      "'/tmp/sentinel.sock': Sentinels are reached over TCP, not unix sockets" },
    { "bad_sentinel_no_port.yml", "5:6", "alpha", "sentinels", "'127.0.0.1' has no port" },
    { "bad_sentinel_port.yml", "5:16", "alpha", "sentinels",
      "invalid port '0' (expected an integer 1..65535)" },
    { "bad_sentinel_empty_host.yml", "5:6", "alpha", "sentinels", "':26379' has an empty host" },
    { "bad_sentinel_weight.yml", "5:6", "alpha", "sentinels",
      "'127.0.0.1:26379:1' is not 'host:port': a Sentinel has no weight" },
    { "bad_sentinel_dup.yml", "7:6", "alpha", "sentinels",
      "duplicate Sentinel '127.0.0.1:26379' (already listed at line 5)" },
    { "bad_sentinel_auth_alone.yml", "4:3", "alpha", "sentinel_auth",
      "only valid in a Sentinel pool (expected a 'sentinels:' list in this pool too)" },
    { "bad_failover_hold_alone.yml", "4:3", "alpha", "failover_hold",
      "only valid in a Sentinel pool (expected a 'sentinels:' list in this pool too)" },
    { "bad_failover_replica_reads_alone.yml", "4:3", "alpha", "failover_replica_reads",
      "only valid in a Sentinel pool (expected a 'sentinels:' list in this pool too)" },
    { "bad_failover_hold_value.yml", "6:18", "alpha", "failover_hold",
      "expected milliseconds, an integer 0..2147483647 (0: no hold)" },
    { "bad_sentinel_memcache.yml", "3:3", "alpha", "sentinels",
      "only valid for a redis pool (expected 'redis: true' in this pool" },
    { "bad_sentinel_user_alone.yml", "6:3", "alpha", "sentinel_user",
      "needs 'sentinel_auth' too" },
    { "bad_sentinel_unnamed.yml", "8:6", "alpha", "servers",
      "server '127.0.0.1:6381' has no name: in a Sentinel pool every server needs one" },
    { "bad_sentinel_unix_server.yml", "7:6", "alpha", "servers",
      "server 'm1' is a unix socket: Sentinel reports masters as host:port" },
    { "bad_sentinel_master_ctrl.yml", "7:6", "alpha", "servers",
      "server name 'm\\x01' is not a valid Sentinel master name" },
    { "bad_sentinel_master_twice.yml", "10:6", "alpha", "servers",
      "Sentinel master 'g2' is already followed by server '127.0.0.1:6380' (line 7; expected "
      "one server per master)" },
    { "bad_sentinel_masters_scalar.yml", "6:21", "alpha", "sentinel_masters",
      "expected indented 'server-name: sentinel-master-name' lines, got a scalar" },
    { "bad_sentinel_masters_key_list.yml", "7:7", "alpha", "sentinel_masters",
      "entry name is a list, not a scalar" },
    { "bad_sentinel_masters_value_list.yml", "8:6", "alpha", "sentinel_masters",
      "the value of 'm1' is a list, not a scalar" },
    { "bad_sentinel_masters_empty_name.yml", "7:5", "alpha", "sentinel_masters",
      "empty server name" },
    { "bad_sentinel_masters_no_master.yml", "7:8", "alpha", "sentinel_masters",
      "missing Sentinel master name for server 'm1'" },
    { "bad_sentinel_masters_space.yml", "7:9", "alpha", "sentinel_masters",
      "Sentinel master name 'group one' of server 'm1' has a space or a control character" },
    { "bad_sentinel_masters_dup.yml", "8:5", "alpha", "sentinel_masters",
      "server 'm1' is mapped twice (first at line 7)" },
    { "bad_sentinel_masters_unknown.yml", "8:5", "alpha", "sentinel_masters",
      "'m3' is not the name of a server of this pool" },
    { "bad_migrate_memcache.yml", "5:3", "alpha", "migrate_from", "only valid for a redis pool" },
    { "bad_migrate_eject.yml", "7:3", "alpha", "migrate_from",
      "cannot be used with 'auto_eject_hosts: true'" },
    { "bad_migrate_no_servers.yml", "6:3", "alpha", "migrate_from",
      "missing key 'servers' (expected indented 'servers, hash, distribution, hash_tag'" },
    { "bad_migrate_unknown_key.yml", "9:5", "alpha", "migrate_from",
      "unknown key 'listen' (expected one of: servers, hash, distribution, hash_tag; every "
      "other setting is the pool's own)" },
    { "bad_migrate_dup_key.yml", "10:5", "alpha", "migrate_from",
      "duplicate key 'hash' (already set at line 7)" },
    { "bad_migrate_scalar.yml", "6:17", "alpha", "migrate_from", ", got a scalar" },
    { "bad_migrate_key_not_scalar.yml", "7:7", "alpha", "migrate_from",
      "setting name is a list, not a scalar" },
    { "bad_migrate_servers_scalar.yml", "7:14", "alpha", "migrate_from.servers", "got a scalar" },
    { "bad_migrate_server_no_weight.yml", "8:6", "alpha", "migrate_from.servers",
      "'cache-2' has no weight" },
    { "bad_migrate_hash_unknown.yml", "7:11", "alpha", "migrate_from.hash",
      "unknown hash 'fnv2' (expected one of: one_at_a_time" },
    { "bad_migrate_hash_tag.yml", "9:15", "alpha", "migrate_from.hash_tag",
      "'{' is 1 byte(s) long" },
    { "bad_migrate_dup_name.yml", "8:6", "alpha", "migrate_from.servers",
      "duplicate server name 'b' (same as the server at line 7" },
    { "bad_migrate_address.yml", "9:6", "alpha", "migrate_from",
      "server 'b' is at '127.0.0.1:6390' here but at '127.0.0.1:6380' in 'servers' (line 6)" },
    { "bad_migrate_sentinel_unnamed.yml", "10:6", "alpha", "migrate_from.servers",
      "server '127.0.0.1:6380' has no name" },
    { "bad_migrate_alias_unknown.yml", "8:5", "alpha", "sentinel_masters",
      "'zz' is not the name of a server of this pool (expected 'server-name: "
      "sentinel-master-name' for a server in 'servers' or 'migrate_from')" },
};

START_TEST(error_messages)
{
    const struct bad_case *bc = &bad_cases[_i];
    char *path = conf_path(bc->file);
    struct sp_conf *c = (struct sp_conf *)&c;
    char err[2048] = "", prefix[1024];
    size_t o;

    ck_assert_int_eq(sp_conf_load(path, HASHES, DISTS, &c, err, sizeof err), -1);
    ck_assert_ptr_null(c);
    o = (size_t)snprintf(prefix, sizeof prefix, "%s:%s: ", path, bc->at);
    if (bc->pool)
        o += (size_t)snprintf(prefix + o, sizeof prefix - o, "pool '%s': ", bc->pool);
    if (bc->key)
        snprintf(prefix + o, sizeof prefix - o, "key '%s': ", bc->key);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "%s:\n want prefix: %s\n got: %s",
                  bc->file, prefix, err);
    const char *rest = err + strlen(prefix);
    ck_assert_msg(strncmp(rest, "pool '", 6) != 0 && strncmp(rest, "key '", 5) != 0,
                  "%s: unexpected pool/key part: %s", bc->file, err);
    ck_assert_msg(strstr(rest, bc->what) != NULL, "%s:\n want: %s\n got: %s", bc->file, bc->what,
                  err);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s: message is not one line", bc->file);
    free(path);
}
END_TEST

/* Every good_*.yml fixture and every sample in conf/ loads; every bad_*.yml has a case above. */
START_TEST(fixture_inventory)
{
    char *dir = tu_data_path("conf");
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t good = 0, bad = 0;

    ck_assert_msg(d != NULL, "cannot list %s", dir);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "good_", 5) == 0) {
            sp_conf_free(load_conf_ok(e->d_name));
            good++;
        } else if (strncmp(e->d_name, "bad_", 4) == 0) {
            bool listed = false;
            for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
                listed = listed || strcmp(bad_cases[i].file, e->d_name) == 0;
            ck_assert_msg(listed, "%s has no entry in bad_cases", e->d_name);
            bad++;
        }
    }
    closedir(d);
    free(dir);
    ck_assert_uint_eq(bad, sizeof bad_cases / sizeof bad_cases[0]);
    ck_assert_uint_ge(good, 8);

    const char *src = getenv("SP_SRCDIR");
    ck_assert_msg(src != NULL, "SP_SRCDIR is not set (run with make check)");
    static const char *const samples[] = { "conf/demo.yml", "conf/nutcracker.yml",
                                           "conf/sentinel.yml" };
    for (size_t i = 0; i < 3; i++) {
        char path[4096], err[1024];
        struct sp_conf *c = NULL;
        snprintf(path, sizeof path, "%s/%s", src, samples[i]);
        ck_assert_msg(sp_conf_load(path, HASHES, DISTS, &c, err, sizeof err) == 0, "%s", err);
        if (i == 0) {  /* the demo the README promises */
            const struct sp_conf_pool *p = &c->pools[0];
            ck_assert_uint_eq(c->npools, 1);
            ck_assert_str_eq(p->listen.text, "127.0.0.1:22121");
            ck_assert(p->redis);
            ck_assert_str_eq(p->hash, "fnv1a_64");
            ck_assert_str_eq(p->distribution, "ketama");
            ck_assert_uint_eq(p->nservers, 2);
            check_server(&p->servers[0], "one", "127.0.0.1:6380", "127.0.0.1", 6380, 1, true,
                         false);
            check_server(&p->servers[1], "two", "127.0.0.1:6381", "127.0.0.1", 6381, 1, true,
                         false);
        } else if (i == 1) {
            ck_assert_uint_eq(c->npools, 5);
        } else {  /* the Sentinel sample: every server follows a master */
            for (size_t p = 0; p < c->npools; p++) {
                ck_assert(sp_conf_pool_is_sentinel(&c->pools[p]));
                for (size_t j = 0; j < c->pools[p].nservers; j++)
                    ck_assert_ptr_nonnull(c->pools[p].servers[j].master);
            }
        }
        sp_conf_free(c);
    }
}
END_TEST

/* The result must be a config, or -1 with one non-empty line naming "t.yml:". */
static void expect_sane(const char *text, size_t len)
{
    struct sp_conf *c = NULL;
    char err[1024] = "";
    int rc = sp_conf_load_string(text, len, "t.yml", HASHES, DISTS, &c, err, sizeof err);
    if (rc == 0) {
        ck_assert_ptr_nonnull(c);
        ck_assert_uint_gt(c->npools, 0);
        for (size_t i = 0; i < c->npools; i++)
            ck_assert_uint_gt(c->pools[i].nservers, 0);
        sp_conf_free(c);
        return;
    }
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(c);
    ck_assert_msg(strncmp(err, "t.yml:", 6) == 0, "bad message: %s", err);
    ck_assert_msg(strchr(err, '\n') == NULL, "message is not one line: %s", err);
}

static char *read_all(const char *name, size_t *len)
{
    char *path = conf_path(name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    free(path);
    return buf;
}

START_TEST(every_prefix)
{
    static const char *const files[] = { "good_all_keys.yml", "good_sentinel.yml" };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        char *text = read_all(files[f], &len);
        for (size_t n = 0; n <= len; n++)
            expect_sane(text, n);
        free(text);
    }
}
END_TEST

START_TEST(random_bytes_and_mutations)
{
    static const char alphabet[] = ":- \t\n\r\"'#[]{}&*!|>%@`,?0123456789\xff\x80";
    uint64_t st = tu_seed("conf random_bytes_and_mutations");
    size_t lens[2];
    char *goods[2] = { read_all("good_all_keys.yml", &lens[0]),
                       read_all("good_sentinel.yml", &lens[1]) };
    char buf[1024];

    for (int iter = 0; iter < 20000; iter++) {
        size_t n;
        if (iter % 3 == 0) {  /* pure garbage */
            n = tu_rand(&st) % sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = (char)(tu_rand(&st) & 0xff);
        } else {  /* a good file with a few bytes changed to YAML-significant ones */
            const char *good = goods[iter & 1];
            size_t len = lens[iter & 1];
            n = len < sizeof buf ? len : sizeof buf;
            memcpy(buf, good, n);
            int edits = 1 + (int)(tu_rand(&st) % 4);
            for (int e = 0; e < edits; e++)
                buf[tu_rand(&st) % n] = alphabet[tu_rand(&st) % (sizeof alphabet - 1)];
        }
        expect_sane(buf, n);
    }
    free(goods[0]);
    free(goods[1]);
}
END_TEST

START_TEST(deep_nesting_and_huge_scalars)
{
    size_t n = 200000;
    char *text = malloc(n * 4 + 64);
    char err[1024];

    /* deeply nested flow, block mappings and block lists */
    memset(text, '[', n);
    expect_sane(text, n);
    memset(text, '{', n);
    expect_sane(text, n);
    size_t o = 0;
    for (size_t d = 0; d < 1000; d++) {  /* 500 kB: fits in text */
        memset(text + o, ' ', d);
        o += d;
        memcpy(text + o, "k:\n", 3);
        o += 3;
    }
    expect_sane(text, o);
    o = 0;
    for (size_t d = 0; d < 20000; d++) {
        memcpy(text + o, "- ", 2);
        o += 2;
    }
    expect_sane(text, o);

    /* YAML keys are at most 1024 characters: a 1000-byte pool name loads, 200 kB is refused */
    static const char rest[] = ":\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:1\n";
    memset(text, 'p', n);
    memcpy(text + 1000, rest, sizeof rest);
    struct sp_conf *c = NULL;
    ck_assert_int_eq(sp_conf_load_string(text, strlen(text), "t.yml", HASHES, DISTS, &c, err,
                                         sizeof err), 0);
    ck_assert_uint_eq(strlen(c->pools[0].name), 1000);
    sp_conf_free(c);
    memset(text, 'p', n);
    memcpy(text + n, rest, sizeof rest);
    ck_assert_int_eq(sp_conf_load_string(text, strlen(text), "t.yml", HASHES, DISTS, &c, err,
                                         sizeof err), -1);
    ck_assert_msg(strstr(err, "t.yml:1:1: top level is a scalar") == err &&
                      strstr(err, "a YAML key is at most 1024 characters long") != NULL,
                  "%s", err);
    /* a 200 kB value is refused with a short message */
    o = (size_t)sprintf(text, "p:\n  listen: 127.0.0.1:1\n  hash: ");
    memset(text + o, 'h', n);
    o += n;
    o += (size_t)sprintf(text + o, "\n  servers:\n   - 127.0.0.1:2:1\n");
    ck_assert_int_eq(sp_conf_load_string(text, o, "t.yml", HASHES, DISTS, &c, err, sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "t.yml:3:9: pool 'p': key 'hash': unknown hash 'hhhh") == err, "%s",
                  err);
    ck_assert_msg(strstr(err, "...'") != NULL && strlen(err) < 400, "%s", err);
    free(text);
}
END_TEST

START_TEST(unprintable_bytes_are_escaped)
{
    static const char text[] = "\"p\\x01\\t\":\n  listen: 127.0.0.1:1\n  hsh: x\n";
    char err[512];
    ck_assert_int_eq(load_text(text, HASHES, DISTS, err, sizeof err), -1);
    ck_assert_str_eq(err, "t.yml:3:3: pool 'p\\x01\\x09': unknown key 'hsh' (expected one of: "
                          "listen, hash, hash_tag, distribution, timeout, backlog, "
                          "client_connections, redis, redis_auth, redis_db, preconnect, "
                          "auto_eject_hosts, server_connections, server_retry_timeout, "
                          "server_failure_limit, servers, tcpkeepalive, sentinels, "
                          "sentinel_auth, sentinel_user, sentinel_masters, failover_hold, "
                          "failover_replica_reads, migrate_from)");
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, hash_list_matches_vectors);
    tcase_add_test(tc, every_key);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, several_pools_in_file_order);
    tcase_add_test(tc, unix_sockets);
    tcase_add_test(tc, derived_names_and_order);
    tcase_add_test(tc, accepted_spellings);
    tcase_add_test(tc, crlf_and_bom);
    tcase_add_test(tc, sort_named);
    tcase_add_test(tc, sort_unnamed);
    tcase_add_test(tc, golden_placement_configs);
    tcase_add_test(tc, golden_eject_configs);
    tcase_add_test(tc, load_string_and_plugin_lists);
    tcase_add_test(tc, unreadable_files);
    tcase_add_test(tc, small_or_missing_error_buffer);
    tcase_add_test(tc, sentinel_pool);
    tcase_add_test(tc, migrate_from);
    suite_add_tcase(s, tc);

    TCase *te = tcase_create("errors");
    tcase_add_loop_test(te, error_messages, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(te, unprintable_bytes_are_escaped);
    tcase_add_test(te, fixture_inventory);
    suite_add_tcase(s, te);

    TCase *tg = tcase_create("garbage");
    tcase_set_timeout(tg, 120);
    tcase_add_test(tg, every_prefix);
    tcase_add_test(tg, random_bytes_and_mutations);
    tcase_add_test(tg, deep_nesting_and_huge_scalars);
    suite_add_tcase(s, tg);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
