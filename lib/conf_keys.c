/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pool keys the loader knows: the one list (name, YAML shape, what each takes), and lookups
 * in it.  nutcracker's keys come first, in its order; shardproxy's own (Sentinel, failover, migrate_from) follow.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

/* Indexed by enum cf_key: the one list of keys, with what each takes (for messages). */
static const struct {
    const char *name;
    const char *expect;
    enum cf_shape shape; /* CF_SHAPE_SCALAR (0) unless given */
    const char *item;    /* lists: what one item is called in messages */
    const char *form;    /* lists: how one item is written */
} cf_keys[CF_KEY_COUNT] = {
    [CF_KEY_LISTEN] = {.name = "listen",
                       .expect = "'host:port', or '/path/to/socket' optionally followed by a "
                                 "space and octal permissions such as 0666"},
    [CF_KEY_HASH] = {.name = "hash",
                     .expect = "a hash function name, default " SP_CONF_DEFAULT_HASH},
    [CF_KEY_HASH_TAG] = {.name = "hash_tag", .expect = "exactly two characters, e.g. \"{}\""},
    [CF_KEY_DISTRIBUTION] = {.name = "distribution",
                             .expect = "a distribution name, default " SP_CONF_DEFAULT_DIST},
    [CF_KEY_TIMEOUT] = {.name = "timeout", .expect = "milliseconds, an integer 0..2147483647"},
    [CF_KEY_BACKLOG] = {.name = "backlog", .expect = "an integer 0..2147483647"},
    [CF_KEY_CLIENT_CONNECTIONS] = {.name = "client_connections",
                                   .expect = "an integer 0..2147483647 (0: no limit)"},
    [CF_KEY_REDIS] = {.name = "redis", .expect = "true or false"},
    [CF_KEY_REDIS_AUTH] = {.name = "redis_auth", .expect = "a non-empty password"},
    [CF_KEY_REDIS_DB] = {.name = "redis_db", .expect = "an integer 0..2147483647"},
    [CF_KEY_PRECONNECT] = {.name = "preconnect", .expect = "true or false"},
    [CF_KEY_AUTO_EJECT_HOSTS] = {.name = "auto_eject_hosts", .expect = "true or false"},
    [CF_KEY_SERVER_CONNECTIONS] = {.name = "server_connections",
                                   .expect = "an integer 1..2147483647"},
    [CF_KEY_SERVER_RETRY_TIMEOUT] = {.name = "server_retry_timeout",
                                     .expect = "milliseconds, an integer 0..2147483647"},
    [CF_KEY_SERVER_FAILURE_LIMIT] = {.name = "server_failure_limit",
                                     .expect = "an integer 0..2147483647"},
    [CF_KEY_SERVERS] = {.name = "servers",
                        .expect = "a list of " CF_SERVER_FORM " lines, each after '- '",
                        .shape = CF_SHAPE_LIST,
                        .item = "server entry",
                        .form = CF_SERVER_FORM},
    [CF_KEY_TCPKEEPALIVE] = {.name = "tcpkeepalive", .expect = "true or false"},
    [CF_KEY_SENTINELS] = {.name = "sentinels",
                          .expect = "a list of " CF_SENTINEL_FORM " lines, each after '- '",
                          .shape = CF_SHAPE_LIST,
                          .item = "Sentinel entry",
                          .form = CF_SENTINEL_FORM},
    [CF_KEY_SENTINEL_AUTH] = {.name = "sentinel_auth",
                              .expect = "a non-empty password for the Sentinels"},
    [CF_KEY_SENTINEL_USER] = {.name = "sentinel_user",
                              .expect = "a non-empty ACL user name for the Sentinels"},
    [CF_KEY_SENTINEL_MASTERS] = {.name = "sentinel_masters",
                                 .expect = "indented 'server-name: sentinel-master-name' lines",
                                 .shape = CF_SHAPE_MAP},
    [CF_KEY_FAILOVER_HOLD] = {.name = "failover_hold",
                              .expect = "milliseconds, an integer 0..2147483647 (0: no hold)"},
    [CF_KEY_FAILOVER_REPLICA_READS] = {.name = "failover_replica_reads",
                                       .expect = "true or false"},
    [CF_KEY_MIGRATE_FROM] = {.name = "migrate_from",
                             .expect = "indented '" CF_LAYOUT_KEYS "' lines (servers required), "
                                       "or directly a servers list",
                             .shape = CF_SHAPE_LAYOUT},
};

const char *cf_key_name(enum cf_key k)
{
    return (unsigned)k < CF_KEY_COUNT ? cf_keys[k].name : "?";
}

const char *cf_key_expect(enum cf_key k)
{
    return (unsigned)k < CF_KEY_COUNT ? cf_keys[k].expect : "?";
}

enum cf_shape cf_key_shape(enum cf_key k)
{
    return (unsigned)k < CF_KEY_COUNT ? cf_keys[k].shape : CF_SHAPE_SCALAR;
}

const char *cf_key_item(enum cf_key k)
{
    return (unsigned)k < CF_KEY_COUNT && cf_keys[k].item ? cf_keys[k].item : "entry";
}

const char *cf_key_form(enum cf_key k)
{
    return (unsigned)k < CF_KEY_COUNT && cf_keys[k].form ? cf_keys[k].form : "?";
}

void cf_key_list(char *buf, size_t size)
{
    size_t o = 0;

    buf[0] = '\0';
    for (unsigned k = 0; k < CF_KEY_COUNT && o < size; k++) {
        int n = snprintf(buf + o, size - o, "%s%s", k ? ", " : "", cf_keys[k].name);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

bool cf_key_in_layout(enum cf_key k)
{
    return k == CF_KEY_SERVERS || k == CF_KEY_HASH || k == CF_KEY_DISTRIBUTION ||
           k == CF_KEY_HASH_TAG;
}

enum cf_key cf_key_lookup(const char *s, size_t n)
{
    for (unsigned k = 0; k < CF_KEY_COUNT; k++) {
        if (strlen(cf_keys[k].name) == n && memcmp(cf_keys[k].name, s, n) == 0)
            return (enum cf_key)k;
    }
    return CF_KEY_COUNT;
}
