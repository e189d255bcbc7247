/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a reload changed, one log line per pool: the settings and servers that differ, and the
 * share of the key space that changes server, computed by the placement core the oracle uses
 * (lib/shares.c: exact for ketama and modula, measured for distributions without a shape,
 * estimated when the hash changes).  A server is the same server when it has the same name and
 * address (in a Sentinel pool, the same name): the rule the reload keeps connections by.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "core.h"
#include "placement.h"
#include "report/log.h"

/* Appends to a line; silently cut when full (a log line has a limit anyway). */
struct line {
    char buf[SP_LOG_MAX_LEN];
    size_t len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (l->len >= sizeof(l->buf))
        return;
    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - l->len;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The server of `a` that `cs` (of pool config `b`) continues, or -1. */
static int match(const struct sp_conf_pool *a, const struct sp_conf_pool *b,
                 const struct sp_conf_server *cs)
{
    for (size_t i = 0; i < a->nservers; i++) {
        if (strcmp(a->servers[i].name, cs->name) == 0 &&
            (sp_conf_pool_is_sentinel(b) || strcmp(a->servers[i].addr.text, cs->addr.text) == 0))
            return (int)i;
    }
    return -1;
}

/* The settings that differ, as " key a -> b" items. */
static void settings(struct line *l, const struct sp_conf_pool *a, const struct sp_conf_pool *b)
{
#define INT_KEY(k) \
    if (a->k != b->k) \
        add(l, "; " #k " %d -> %d", (int)a->k, (int)b->k)
    if (!same(a->hash, b->hash))
        add(l, "; hash %s -> %s", a->hash, b->hash);
    if (!same(a->distribution, b->distribution))
        add(l, "; distribution %s -> %s", a->distribution, b->distribution);
    if (strcmp(a->hash_tag, b->hash_tag) != 0)
        add(l, "; hash_tag '%s' -> '%s'", a->hash_tag, b->hash_tag);
    INT_KEY(timeout);
    INT_KEY(client_connections);
    INT_KEY(redis_db);
    INT_KEY(server_connections);
    INT_KEY(server_retry_timeout);
    INT_KEY(server_failure_limit);
    INT_KEY(preconnect);
    INT_KEY(auto_eject_hosts);
    INT_KEY(tcpkeepalive);
    INT_KEY(backlog);
    INT_KEY(nsentinels);
#undef INT_KEY
    if (!same(a->redis_auth, b->redis_auth))
        add(l, "; redis_auth changed");
    if (!same(a->sentinel_auth, b->sentinel_auth) || !same(a->sentinel_user, b->sentinel_user))
        add(l, "; Sentinel credentials changed");
}

/* Servers added, removed, reweighted; fills b_to_a.  Returns whether any changed. */
static bool servers(struct line *l, const struct sp_conf_pool *a, const struct sp_conf_pool *b,
                    int *b_to_a)
{
    bool changed = false;

    for (size_t j = 0; j < b->nservers; j++) {
        int i = b_to_a[j] = match(a, b, &b->servers[j]);

        if (i < 0) {
            add(l, "; server %s (%s) added", b->servers[j].name, b->servers[j].addr.text);
            changed = true;
        } else if (a->servers[i].weight != b->servers[j].weight) {
            add(l, "; server %s weight %u -> %u", b->servers[j].name, a->servers[i].weight,
                b->servers[j].weight);
            changed = true;
        }
    }
    for (size_t i = 0; i < a->nservers; i++) {
        bool kept = false;

        for (size_t j = 0; j < b->nservers && !kept; j++)
            kept = b_to_a[j] == (int)i;
        if (!kept) {
            add(l, "; server %s (%s) removed", a->servers[i].name, a->servers[i].addr.text);
            changed = true;
        }
    }
    return changed;
}

/* The share of the key space that changes server, as text. */
static void moved(struct line *l, const struct sp_registry *areg, const struct sp_conf_pool *a,
                  const struct sp_registry *breg, const struct sp_conf_pool *b,
                  const int *b_to_a)
{
    static const char *const how_name[] = { "exact", "sampled", "estimated: the hash changed" };
    struct sp_placer *pa = sp_placer_new(areg, a, NULL, NULL, 0);
    struct sp_placer *pb = sp_placer_new(breg, b, NULL, NULL, 0);
    enum sp_share_how how = SP_SHARE_EXACT;
    double share = pa != NULL && pb != NULL ? sp_placer_moved_share(pa, pb, b_to_a, &how) : -1;

    if (share < 0)
        add(l, "; the share of keys that move could not be computed (out of memory)");
    else
        add(l, "; %.4f%% of the key space changes server (%s)", 100 * share, how_name[how]);
    sp_placer_free(pa);
    sp_placer_free(pb);
}

static void log_kept(const struct sp_registry *areg, const struct sp_conf_pool *a,
                     const struct sp_registry *breg, const struct sp_conf_pool *b)
{
    struct line l = { "", 0 };
    int *b_to_a = calloc(b->nservers ? b->nservers : 1, sizeof(*b_to_a));
    bool changed;

    if (b_to_a == NULL)
        return;
    settings(&l, a, b);
    changed = servers(&l, a, b, b_to_a);
    if (l.len == 0 && !changed) {
        sp_log_notice("reload: pool '%s': unchanged", b->name);
        free(b_to_a);
        return;
    }
    moved(&l, areg, a, breg, b, b_to_a);
    sp_log_notice("reload: pool '%s': %s", b->name, l.buf + 2); /* past the first "; " */
    free(b_to_a);
}

void sp_reload_log(const struct sp_conf *aconf, const struct sp_registry *areg,
                   const struct sp_conf *bconf, const struct sp_registry *breg)
{
    for (size_t j = 0; j < bconf->npools; j++) {
        const struct sp_conf_pool *b = &bconf->pools[j];
        const struct sp_conf_pool *a = sp_conf_find_pool(aconf, b->name);

        if (a == NULL)
            sp_log_notice("reload: pool '%s': added, listening on %s (%zu servers)", b->name,
                          b->listen.text, b->nservers);
        else if (strcmp(a->listen.text, b->listen.text) != 0 || a->redis != b->redis)
            sp_log_notice("reload: pool '%s': replaced (listen %s -> %s%s): the old pool's clients "
                          "are closed once their replies are out", b->name, a->listen.text,
                          b->listen.text, a->redis != b->redis ? ", protocol changed" : "");
        else
            log_kept(areg, a, breg, b);
    }
    for (size_t i = 0; i < aconf->npools; i++) {
        if (sp_conf_find_pool(bconf, aconf->pools[i].name) == NULL)
            sp_log_notice("reload: pool '%s': removed: no longer listening on %s; its clients are "
                          "closed once their replies are out", aconf->pools[i].name,
                          aconf->pools[i].listen.text);
    }
}
