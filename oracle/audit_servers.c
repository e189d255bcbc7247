/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The servers an audit scans: each configured server at its address, or in a Sentinel pool the
 * master Sentinel names for it now (the addresses in the config are only where the proxy starts).
 * Every connection is opened, authenticated and switched to redis_db before any key is read, so an
 * unreachable server stops the audit before it has done anything.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

const char *sp_audit_server_label(const struct sp_audit_server *s, char *buf, size_t len)
{
    if (strcmp(s->conf->name, s->addr) == 0)
        snprintf(buf, len, "'%s'", s->addr);
    else
        snprintf(buf, len, "'%s' (%s)", s->conf->name, s->addr);
    return buf;
}

static void set_addr(struct sp_audit_server *s, const char *host, int port)
{
    snprintf(s->host, sizeof s->host, "%s", host);
    s->port = port;
    if (port == 0)
        snprintf(s->addr, sizeof s->addr, "%s", host);
    else
        snprintf(s->addr, sizeof s->addr, "%s:%d", host, port);
}

/* AUTH [user] password to a Sentinel, as the proxy sends it.  0, or -1 with err set. */
static int sentinel_auth(struct sp_rc *c, const struct sp_conf_pool *pool, char *err,
                         size_t errlen)
{
    if (!pool->sentinel_auth)
        return 0;
    const char *with_user[] = {"AUTH", pool->sentinel_user, pool->sentinel_auth};
    const char *plain[] = {"AUTH", pool->sentinel_auth};
    return pool->sentinel_user ? sp_rc_expect_status(c, 3, with_user, err, errlen)
                               : sp_rc_expect_status(c, 2, plain, err, errlen);
}

/* Asks one Sentinel where `master` is.  0 with s's address set, or -1 with err set. */
static int ask_sentinel(const struct sp_conf_pool *pool, const struct sp_conf_sentinel *sn,
                        const char *master, int timeout_ms, struct sp_audit_server *s, char *err,
                        size_t errlen)
{
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", master};
    struct sp_rc_reply *r = NULL;
    char why[512];
    int rc = -1;
    struct sp_rc *c = sp_rc_connect(sn->addr.host, sn->addr.port, timeout_ms, why, sizeof why);
    if (!c || sentinel_auth(c, pool, why, sizeof why) < 0 ||
        sp_rc_command(c, 3, argv, NULL, &r, why, sizeof why) < 0)
        ;
    else if (r->type == SP_RC_ERROR)
        snprintf(why, sizeof why, "%s", r->str);
    else if (r->type == SP_RC_NIL)
        snprintf(why, sizeof why, "does not know master '%s'", master);
    else if (r->type != SP_RC_ARRAY || r->nelem != 2 || r->elem[0].type != SP_RC_BULK ||
             r->elem[1].type != SP_RC_BULK || atoi(r->elem[1].str) <= 0)
        snprintf(why, sizeof why, "unexpected answer to get-master-addr-by-name");
    else {
        set_addr(s, r->elem[0].str, atoi(r->elem[1].str));
        rc = 0;
    }
    if (rc < 0)
        snprintf(err, errlen, "Sentinel %s: %s", sn->addr.text, why);
    sp_rc_reply_free(r);
    sp_rc_close(c);
    return rc;
}

/* The master's address from the first Sentinel that knows it.  0, or -1 with every reason. */
static int resolve_master(const struct sp_conf_pool *pool, struct sp_audit_server *s,
                          int timeout_ms, char *err, size_t errlen)
{
    size_t used = 0;
    err[0] = '\0';
    for (size_t k = 0; k < pool->nsentinels; k++) {
        char why[640];
        if (ask_sentinel(pool, &pool->sentinels[k], s->conf->master, timeout_ms, s, why,
                         sizeof why) == 0)
            return 0;
        if (used < errlen)
            used += (size_t)snprintf(err + used, errlen - used, "%s%s", k ? "; " : "", why);
    }
    return -1;
}

/* Opens server i: connect, AUTH, SELECT.  0, or -1 with the reason in why. */
static int connect_server(struct sp_audit_server *s, const struct sp_conf_pool *pool,
                          int timeout_ms, char *why, size_t len)
{
    char db[24];
    snprintf(db, sizeof db, "%d", pool->redis_db);
    const char *auth[] = {"AUTH", pool->redis_auth};
    const char *select[] = {"SELECT", db};
    s->conn = sp_rc_connect(s->host, s->port, timeout_ms, why, len);
    if (!s->conn)
        return -1;
    if (pool->redis_auth && sp_rc_expect_status(s->conn, 2, auth, why, len) < 0)
        return -1;
    if (pool->redis_db != 0 && sp_rc_expect_status(s->conn, 2, select, why, len) < 0)
        return -1;
    return 0;
}

/* Two servers at one address would each call the other's keys misplaced. */
static int check_distinct(const struct sp_audit_pool *ap, char *err, size_t errlen)
{
    for (size_t i = 0; i < ap->n; i++)
        for (size_t j = i + 1; j < ap->n; j++)
            if (strcmp(ap->servers[i].addr, ap->servers[j].addr) == 0) {
                snprintf(err, errlen, "pool '%s': servers '%s' and '%s' are both at %s: the "
                                      "audit cannot tell their keys apart",
                         ap->pool->name, ap->servers[i].conf->name, ap->servers[j].conf->name,
                         ap->servers[i].addr);
                return -1;
            }
    return 0;
}

int sp_audit_pool_open_servers(struct sp_audit_pool *ap, const struct sp_conf_pool *pool,
                               const struct sp_conf_server *const *servers, size_t n,
                               int timeout_ms, char *err, size_t errlen)
{
    char why[2048], label[600];
    memset(ap, 0, sizeof *ap);
    ap->pool = pool;
    ap->n = n;
    ap->servers = calloc(ap->n, sizeof *ap->servers);
    ap->flows = calloc(ap->n * ap->n, sizeof *ap->flows);
    if (!ap->servers || !ap->flows) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < ap->n; i++) {
        struct sp_audit_server *s = &ap->servers[i];
        s->conf = servers[i];
        set_addr(s, s->conf->addr.host, s->conf->addr.is_unix ? 0 : s->conf->addr.port);
        if (sp_conf_pool_is_sentinel(pool) &&
            resolve_master(pool, s, timeout_ms, why, sizeof why) < 0) {
            snprintf(err, errlen, "pool '%s': server '%s': no Sentinel gave the address of "
                                  "master '%s' (%s)", pool->name, s->conf->name, s->conf->master,
                     why);
            return -1;
        }
    }
    if (check_distinct(ap, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < ap->n; i++)
        if (connect_server(&ap->servers[i], pool, timeout_ms, why, sizeof why) < 0) {
            snprintf(err, errlen, "pool '%s': server %s: %s", pool->name,
                     sp_audit_server_label(&ap->servers[i], label, sizeof label), why);
            return -1;
        }
    return 0;
}

int sp_audit_pool_open(struct sp_audit_pool *ap, const struct sp_registry *reg,
                       const struct sp_conf_pool *pool, int timeout_ms, char *err, size_t errlen)
{
    const struct sp_conf_server **servers = calloc(pool->nservers + 1, sizeof *servers);
    char why[2048];
    int rc = -1;

    memset(ap, 0, sizeof *ap);
    if (!servers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < pool->nservers; i++)
        servers[i] = &pool->servers[i];
    if (sp_audit_pool_open_servers(ap, pool, servers, pool->nservers, timeout_ms, err,
                                   errlen) == 0) {
        ap->placer = sp_placer_new(reg, pool, NULL, why, sizeof why);
        if (ap->placer)
            rc = 0;
        else
            snprintf(err, errlen, "pool '%s': %s", pool->name, why);
    }
    free(servers);
    return rc;
}

void sp_audit_pool_close(struct sp_audit_pool *ap)
{
    for (size_t i = 0; ap->servers && i < ap->n; i++)
        sp_rc_close(ap->servers[i].conn);
    for (size_t k = 0; k < ap->nissues; k++) {
        free(ap->issues[k].key);
        free(ap->issues[k].why);
    }
    free(ap->issues);
    free(ap->servers);
    free(ap->flows);
    sp_placer_free(ap->placer);
    memset(ap, 0, sizeof *ap);
}
