/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layout ids, plan ids and connection names (lib/layout.h).  The ids are part of what proxies and
 * the migrator compare across processes and versions: changing how they are computed makes a
 * fleet of mixed versions refuse to migrate (safe, but to be avoided).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

#define FNV64_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME UINT64_C(0x100000001b3)

/* Separators: a field's end and a server's end (bytes that no name or address holds). */
#define FIELD_END 0x00
#define SERVER_END 0x1e

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV64_PRIME;
    }
    return h;
}

/* A text field and its end mark; NULL counts as empty. */
static uint64_t fnv_field(uint64_t h, const char *s)
{
    static const unsigned char end = FIELD_END;

    if (s)
        h = fnv_bytes(h, s, strlen(s));
    return fnv_bytes(h, &end, 1);
}

uint64_t sp_conf_layout_id(const struct sp_conf_pool *pool)
{
    static const unsigned char end = SERVER_END;
    uint64_t h = FNV64_BASIS;
    char weight[16];

    h = fnv_field(h, pool->name);
    h = fnv_field(h, pool->hash);
    h = fnv_field(h, pool->distribution);
    h = fnv_field(h, pool->hash_tag);
    for (size_t i = 0; i < pool->nservers; i++) {
        const struct sp_conf_server *s = &pool->servers[i];
        snprintf(weight, sizeof(weight), "%" PRIu32, s->weight);
        h = fnv_field(h, s->name);
        h = fnv_field(h, s->addr.text);
        h = fnv_field(h, weight);
        h = fnv_bytes(h, &end, 1);
    }
    return h;
}

/* 8 bytes, least significant first, so the id does not depend on the host's byte order. */
static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];

    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return fnv_bytes(h, b, sizeof(b));
}

uint64_t sp_conf_plan_id(const struct sp_conf_pool *pool)
{
    uint64_t to = sp_conf_layout_id(pool);

    if (!pool->migrate_from)
        return to;
    static const char tag[] = "plan";   /* so that a plan id is never a layout id's twin */
    uint64_t h = fnv_bytes(FNV64_BASIS, tag, sizeof(tag) - 1);
    h = fnv_u64(h, sp_conf_layout_id(pool->migrate_from));
    return fnv_u64(h, to);
}

static bool pool_byte_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

static bool state_byte_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* The pool part of a connection name: sanitised and cut; out has room for the max + NUL. */
static void pool_part(const char *name, char out[SP_CONN_NAME_POOL_MAX + 1])
{
    size_t n = 0;

    for (; name[n] && n < SP_CONN_NAME_POOL_MAX; n++)
        out[n] = pool_byte_ok((unsigned char)name[n]) ? name[n] : '_';
    out[n] = '\0';
}

/* True when s[0..n) is 1..max bytes, each accepted by ok. */
static bool span_ok(const char *s, size_t n, size_t max, bool (*ok)(unsigned char))
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!ok((unsigned char)s[i]))
            return false;
    }
    return true;
}

int sp_conf_conn_name(const struct sp_conf_pool *pool, const char *state, char *out, size_t n)
{
    char part[SP_CONN_NAME_POOL_MAX + 1];

    if (!span_ok(state, strlen(state), SP_CONN_NAME_STATE_MAX, state_byte_ok))
        return -1;
    pool_part(pool->name, part);
    int w = snprintf(out, n, SP_CONN_NAME_PREFIX "%s:%016" PRIx64 ":%s", part,
                     sp_conf_plan_id(pool), state);
    return w >= 0 && (size_t)w < n ? 0 : -1;
}

/* 16 lowercase hex digits into *v.  0 or -1. */
static int parse_hex16(const char *s, uint64_t *v)
{
    uint64_t r = 0;

    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return -1;
        r = r << 4 | d;
    }
    *v = r;
    return 0;
}

int sp_conf_conn_name_parse(const char *name, size_t len, struct sp_conn_name *out)
{
    const size_t plen = sizeof(SP_CONN_NAME_PREFIX) - 1;

    if (len < plen || memcmp(name, SP_CONN_NAME_PREFIX, plen) != 0)
        return -1;
    const char *pool = name + plen, *end = name + len;
    const char *colon = memchr(pool, ':', (size_t)(end - pool));
    if (!colon || !span_ok(pool, (size_t)(colon - pool), SP_CONN_NAME_POOL_MAX, pool_byte_ok))
        return -1;
    const char *hex = colon + 1;
    if (end - hex < 18 || hex[16] != ':' || parse_hex16(hex, &out->plan_id) != 0)
        return -1;
    const char *state = hex + 17;
    size_t slen = (size_t)(end - state);
    if (!span_ok(state, slen, SP_CONN_NAME_STATE_MAX, state_byte_ok))
        return -1;
    memcpy(out->pool, pool, (size_t)(colon - pool));
    out->pool[colon - pool] = '\0';
    memcpy(out->state, state, slen);
    out->state[slen] = '\0';
    return 0;
}

bool sp_conf_conn_name_is_pool(const struct sp_conn_name *cn, const struct sp_conf_pool *pool)
{
    char part[SP_CONN_NAME_POOL_MAX + 1];

    pool_part(pool->name, part);
    return strcmp(cn->pool, part) == 0;
}
