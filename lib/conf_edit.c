/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Editing a loaded pool, for "what if" questions: add, remove, re-weight, rename or move a server,
 * or switch the hash or distribution, without writing a file.
 *
 * Every edit goes through the loader's own code, so an edited pool is exactly what loading the
 * edited YAML would give: a changed server is re-written as a servers-list entry
 * ("host:port:weight [name]") and parsed by cf_value_server (same syntax checks, same derived
 * names, same messages), a changed key is parsed by cf_value_scalar, and cf_pool_finish re-sorts
 * the servers.  Edits are transactional: they are applied to a scratch copy that replaces the pool
 * only when every check passed.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

/* strdup that accepts NULL; *ok turns false when a copy fails. */
static char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

static void addr_copy(struct sp_conf_addr *to, const struct sp_conf_addr *from, bool *ok)
{
    *to = *from;
    to->text = dup_or_null(from->text, ok);
    to->host = dup_or_null(from->host, ok);
}

/* Deep copies of the Sentinel keys into `d`, whose own pointers are fresh (NULL) already. */
static void sentinel_copy(struct sp_conf_pool *d, const struct sp_conf_pool *pool, bool *ok)
{
    d->sentinel_auth = dup_or_null(pool->sentinel_auth, ok);
    d->sentinel_user = dup_or_null(pool->sentinel_user, ok);
    if (pool->nsentinels) {
        d->sentinels = calloc(pool->nsentinels, sizeof(*d->sentinels));
        if (!d->sentinels)
            *ok = false;
    }
    for (size_t i = 0; d->sentinels && i < pool->nsentinels; i++) {
        d->sentinels[i].mark = pool->sentinels[i].mark;
        addr_copy(&d->sentinels[i].addr, &pool->sentinels[i].addr, ok);
        d->nsentinels++;
    }
    if (pool->nsentinel_masters) {
        d->sentinel_masters = calloc(pool->nsentinel_masters, sizeof(*d->sentinel_masters));
        if (!d->sentinel_masters)
            *ok = false;
    }
    for (size_t i = 0; d->sentinel_masters && i < pool->nsentinel_masters; i++) {
        struct sp_conf_master_alias *to = &d->sentinel_masters[i];
        to->mark = pool->sentinel_masters[i].mark;
        to->server = dup_or_null(pool->sentinel_masters[i].server, ok);
        to->master = dup_or_null(pool->sentinel_masters[i].master, ok);
        d->nsentinel_masters++;
    }
}

struct sp_conf_pool *sp_conf_pool_dup(const struct sp_conf_pool *pool)
{
    struct sp_conf_pool *d = calloc(1, sizeof(*d));
    bool ok = true;

    if (!d)
        return NULL;
    *d = *pool;
    /* nothing of `pool` may stay shared: a failure below frees what `d` points to */
    d->servers = NULL;
    d->nservers = 0;
    d->sentinels = NULL;
    d->nsentinels = 0;
    d->sentinel_masters = NULL;
    d->nsentinel_masters = 0;
    d->migrate_from = NULL;
    d->name = dup_or_null(pool->name, &ok);
    addr_copy(&d->listen, &pool->listen, &ok);
    d->hash = dup_or_null(pool->hash, &ok);
    d->distribution = dup_or_null(pool->distribution, &ok);
    d->redis_auth = dup_or_null(pool->redis_auth, &ok);
    sentinel_copy(d, pool, &ok);
    if (pool->nservers) {
        d->servers = calloc(pool->nservers, sizeof(*d->servers));
        if (!d->servers)
            ok = false;
    }
    for (size_t i = 0; d->servers && i < pool->nservers; i++) {
        struct sp_conf_server *to = &d->servers[i];
        *to = pool->servers[i];
        addr_copy(&to->addr, &pool->servers[i].addr, &ok);
        to->name = dup_or_null(pool->servers[i].name, &ok);
        to->master = dup_or_null(pool->servers[i].master, &ok);
        d->nservers++;
    }
    if (pool->migrate_from && !(d->migrate_from = sp_conf_pool_dup(pool->migrate_from)))
        ok = false;
    if (!ok) {
        sp_conf_pool_free(d);
        return NULL;
    }
    return d;
}

void sp_conf_pool_free(struct sp_conf_pool *pool)
{
    if (!pool)
        return;
    cf_pool_release(pool);
    free(pool);
}

/*
 * A loader context whose messages are named after the edit (`what`, e.g. "--add").  Messages about
 * text the caller typed keep the loader's "WHAT:1:COL:" prefix (COL points into that text);
 * messages about an entry rebuilt here drop ":1:COL", which would point into text nobody wrote.
 */
static struct cf_ctx edit_ctx(const char *what, char *err, size_t errlen)
{
    return (struct cf_ctx){ .name = what, .err = err, .errlen = errlen };
}

static void drop_position(const char *what, char *err)
{
    size_t n = strlen(what);
    if (strncmp(err, what, n) != 0 || err[n] != ':')
        return;
    char *rest = strchr(err + n + 1, ':');          /* after LINE */
    rest = rest ? strchr(rest + 1, ':') : NULL;     /* after COL */
    if (rest)
        memmove(err + n, rest, strlen(rest) + 1);
}

/* Installs `scratch` as `pool` after the loader's pool checks (which also sort the servers). */
static int commit(struct sp_conf_pool *pool, struct sp_conf_pool *scratch, struct cf_ctx *cx)
{
    struct cf_pool_marks marks;

    /* Every key the checks ask for was given when the pool was loaded; mark them present. */
    memset(&marks, 0, sizeof(marks));
    marks.key[CF_KEY_LISTEN] = scratch->mark;
    marks.key[CF_KEY_SERVERS] = scratch->mark;
    marks.key[CF_KEY_LISTEN].line = marks.key[CF_KEY_SERVERS].line = 1;
    if (cf_pool_finish(cx, scratch, &marks) != 0) {
        drop_position(cx->name, cx->err);   /* it would be the edited entry's dummy mark */
        sp_conf_pool_free(scratch);
        return -1;
    }
    cf_pool_release(pool);
    *pool = *scratch;
    free(scratch);
    return 0;
}

/*
 * Parses `entry` (a servers-list line) with the loader into `out`.  `typed`: the user wrote the
 * entry, so columns in messages are meaningful.  On failure `out` holds nothing.
 */
static int parse_entry(struct cf_ctx *cx, struct sp_conf_pool *pool, const char *entry, bool typed,
                       struct sp_conf_server *out)
{
    struct cf_scalar v = {
        .s = entry, .len = strlen(entry), .mark = { 1, 1 }, .exact = typed, .quoted = false
    };

    memset(out, 0, sizeof(*out));
    if (cf_value_server(cx, pool, &v, out) != 0) {
        cf_server_release(out);
        if (!typed)
            drop_position(cx->name, cx->err);
        return -1;
    }
    /* Sorts after a loaded server with an equal name, so the loader's duplicate-name message
     * blames this entry and cites the other one's line. */
    out->mark.line = UINT_MAX;
    return 0;
}

int sp_conf_pool_add_server(struct sp_conf_pool *pool, const char *entry, const char *what,
                            char *err, size_t errlen)
{
    struct cf_ctx cx = edit_ctx(what, err, errlen);
    struct sp_conf_pool *scratch = sp_conf_pool_dup(pool);
    struct sp_conf_server srv;

    if (!scratch)
        return cf_error(&cx, pool->mark, pool->name, NULL, "out of memory");
    if (parse_entry(&cx, scratch, entry, true, &srv) != 0) {
        sp_conf_pool_free(scratch);
        return -1;
    }
    struct sp_conf_server *grown =
        realloc(scratch->servers, (scratch->nservers + 1) * sizeof(*grown));
    if (!grown) {
        cf_server_release(&srv);
        sp_conf_pool_free(scratch);
        return cf_error(&cx, pool->mark, pool->name, NULL, "out of memory");
    }
    scratch->servers = grown;
    scratch->servers[scratch->nservers++] = srv;
    return commit(pool, scratch, &cx);
}

int sp_conf_pool_remove_server(struct sp_conf_pool *pool, size_t index)
{
    if (index >= pool->nservers)
        return -1;
    int a = cf_alias_index(pool, pool->servers[index].name);
    if (a >= 0) {   /* a map entry naming no server would make the pool invalid */
        struct sp_conf_master_alias *al = pool->sentinel_masters;
        free(al[a].server);
        free(al[a].master);
        memmove(&al[a], &al[a + 1], (pool->nsentinel_masters - (size_t)a - 1) * sizeof(*al));
        pool->nsentinel_masters--;
    }
    cf_server_release(&pool->servers[index]);
    memmove(&pool->servers[index], &pool->servers[index + 1],
            (pool->nservers - index - 1) * sizeof(pool->servers[0]));
    pool->nservers--;
    return 0;   /* the rest keep their relative, sorted order */
}

/* A renamed server takes its sentinel_masters entry along.  0, or -1 when out of memory. */
static int rename_alias(struct sp_conf_pool *pool, const char *from, const char *to)
{
    int a = cf_alias_index(pool, from);
    if (a < 0 || strcmp(from, to) == 0)
        return 0;
    char *name = strdup(to);
    if (!name)
        return -1;
    free(pool->sentinel_masters[a].server);
    pool->sentinel_masters[a].server = name;
    return 0;
}

int sp_conf_pool_edit_server(struct sp_conf_pool *pool, size_t index, const char *address,
                             const char *weight, const char *name, const char *what, char *err,
                             size_t errlen)
{
    struct cf_ctx cx = edit_ctx(what, err, errlen);
    char wbuf[16];

    if (index >= pool->nservers)
        return cf_error(&cx, pool->mark, pool->name, NULL, "no server #%zu", index);
    const struct sp_conf_server *old = &pool->servers[index];
    snprintf(wbuf, sizeof(wbuf), "%u", (unsigned)old->weight);
    const char *a = address ? address : old->addr.text;
    const char *w = weight ? weight : wbuf;
    const char *n = name ? name : (old->named ? old->name : NULL);
    size_t len = strlen(a) + strlen(w) + (n ? strlen(n) : 0) + 3;
    char *entry = malloc(len);
    if (!entry)
        return cf_error(&cx, pool->mark, pool->name, NULL, "out of memory");
    snprintf(entry, len, "%s:%s%s%s", a, w, n ? " " : "", n ? n : "");

    struct sp_conf_pool *scratch = sp_conf_pool_dup(pool);
    struct sp_conf_server srv;
    struct sp_conf_mark mark = old->mark;
    int rc = -1;
    if (!scratch) {
        cf_error(&cx, pool->mark, pool->name, NULL, "out of memory");
    } else if (parse_entry(&cx, scratch, entry, false, &srv) != 0) {
        sp_conf_pool_free(scratch);
    } else if (rename_alias(scratch, old->name, srv.name) != 0) {
        cf_server_release(&srv);
        sp_conf_pool_free(scratch);
        cf_error(&cx, pool->mark, pool->name, NULL, "out of memory");
    } else {
        cf_server_release(&scratch->servers[index]);
        scratch->servers[index] = srv;
        rc = commit(pool, scratch, &cx);
    }
    if (rc == 0) {
        /* The same entry of the file, edited: it keeps its line for later messages. */
        int at = sp_conf_find_server(pool, srv.name);
        if (at >= 0)
            pool->servers[at].mark = mark;
    }
    free(entry);
    return rc;
}

int sp_conf_pool_set_key(struct sp_conf_pool *pool, const char *key, const char *value,
                         const char *const *known_hashes, const char *const *known_dists,
                         const char *what, char *err, size_t errlen)
{
    struct cf_ctx cx = edit_ctx(what, err, errlen);
    enum cf_key k = cf_key_lookup(key, strlen(key));
    struct cf_scalar v = {
        .s = value, .len = strlen(value), .mark = { 1, 1 }, .exact = true, .quoted = false
    };

    cx.known_hashes = known_hashes;
    cx.known_dists = known_dists;
    if (k != CF_KEY_HASH && k != CF_KEY_DISTRIBUTION && k != CF_KEY_HASH_TAG)
        return cf_error(&cx, v.mark, pool->name, key,
                        "not a placement key (expected hash, hash_tag or distribution)");
    struct sp_conf_pool *scratch = sp_conf_pool_dup(pool);
    if (!scratch)
        return cf_error(&cx, v.mark, pool->name, NULL, "out of memory");
    /* The value parsers fill an empty field; empty this one first. */
    if (k == CF_KEY_HASH) {
        free(scratch->hash);
        scratch->hash = NULL;
    } else if (k == CF_KEY_DISTRIBUTION) {
        free(scratch->distribution);
        scratch->distribution = NULL;
    }
    int rc = v.len == 0 ? cf_error(&cx, v.mark, pool->name, key, "missing value (expected %s)",
                                   cf_key_expect(k))
                        : cf_value_scalar(&cx, scratch, k, &v);
    if (rc != 0) {
        drop_position(what, err);
        sp_conf_pool_free(scratch);
        return -1;
    }
    return commit(pool, scratch, &cx);
}
