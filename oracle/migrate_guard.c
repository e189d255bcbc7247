/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The migrator's safety check: every proxy of the pool armed for this plan (docs/resharding.md).
 *
 * Each proxy names its connections `shardproxy:<pool>:<plan id>:<state>` (lib/layout.h) and keeps
 * one to every server of both layouts, so CLIENT LIST on those servers shows every proxy.  A proxy
 * that is not armed for this plan - on the old file (steady, another plan id), waiting, ready -
 * may still serve a moving key from its old owner: moving it then would split the key's history.
 * So the migrator starts only when it sees no such connection, and at least one armed one (no
 * proxy at all is nothing to be safe with, unless the operator says so: --no-proxies).
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "layout.h"
#include "migrate.h"

/* The value of field `key` ("name=") in one CLIENT LIST line, its length in *n; NULL if none. */
static const char *field(const char *line, size_t len, const char *key, size_t *n)
{
    size_t klen = strlen(key);

    for (size_t i = 0; i + klen <= len; i++) {
        if ((i == 0 || line[i - 1] == ' ') && memcmp(line + i, key, klen) == 0) {
            const char *v = line + i + klen, *end = memchr(v, ' ', len - i - klen);
            *n = end ? (size_t)(end - v) : len - i - klen;
            return v;
        }
    }
    return NULL;
}

/* What is wrong with connection `cn`, or NULL when it is armed for this plan. */
static const char *offence(const struct sp_conn_name *cn, uint64_t plan_id)
{
    if (cn->plan_id != plan_id)
        return "follows another plan (a proxy on another config of this pool)";
    if (strcmp(cn->state, SP_CONN_ARMED) != 0)
        return "not armed yet";
    return NULL;
}

struct tally {
    size_t armed, offenders;
};

/* Checks the CLIENT LIST text of server `s`, printing offenders to errs. */
static void check_list(const struct sp_migrate *m, const struct sp_audit_server *s,
                       const char *text, size_t len, FILE *errs, struct tally *t)
{
    char label[600];

    for (const char *line = text, *end = text + len; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line), nlen = 0, alen = 0;
        const char *name = field(line, n, "name=", &nlen), *addr = field(line, n, "addr=", &alen);
        struct sp_conn_name cn;
        line += n + 1;
        if (!name || sp_conf_conn_name_parse(name, nlen, &cn) != 0 ||
            !sp_conf_conn_name_is_pool(&cn, m->pool))
            continue;
        const char *why = offence(&cn, m->plan_id);
        if (!why) {
            t->armed++;
            continue;
        }
        t->offenders++;
        fprintf(errs, "shardoracle: migrate: server %s: client %.*s, connection '%.*s': %s\n",
                sp_audit_server_label(s, label, sizeof label), (int)alen, addr ? addr : "",
                (int)nlen, name, why);
    }
}

int sp_migrate_guard(const struct sp_migrate *m, FILE *errs, char *err, size_t errlen)
{
    const struct sp_audit_pool *ap = &m->a.pools[0];
    static const char *const list[] = {"CLIENT", "LIST"};
    struct tally t = {0, 0};
    char why[512], label[600];

    for (size_t i = 0; i < ap->n; i++) {
        struct sp_rc_reply *r = NULL;
        if (sp_rc_command(ap->servers[i].conn, 2, list, NULL, &r, why, sizeof why) < 0 ||
            r->type != SP_RC_BULK) {
            snprintf(err, errlen, "pool '%s': server %s: CLIENT LIST: %s", m->pool->name,
                     sp_audit_server_label(&ap->servers[i], label, sizeof label),
                     r ? (r->type == SP_RC_ERROR ? r->str : "unexpected reply") : why);
            sp_rc_reply_free(r);
            return -1;
        }
        check_list(m, &ap->servers[i], r->str, r->len, errs, &t);
        sp_rc_reply_free(r);
    }
    if (t.offenders) {
        snprintf(err, errlen, "pool '%s': %zu proxy connection(s) not armed for plan %016" PRIx64
                 " (above): migrating now could move a key a proxy still serves from its old "
                 "server; reload every proxy with this config and wait until all are armed",
                 m->pool->name, t.offenders, m->plan_id);
        return -1;
    }
    if (!t.armed && !m->no_proxies) {
        snprintf(err, errlen, "pool '%s': no proxy is armed for plan %016" PRIx64 " (no "
                 "connection named 'shardproxy:%s:...' on any server of either layout): start "
                 "or reload the proxies with this config first, or pass --no-proxies if no proxy "
                 "serves this pool", m->pool->name, m->plan_id, m->pool->name);
        return -1;
    }
    return 0;
}
