/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool's server as an object: made for a config entry, kept across reloads that keep it,
 * moved to a new address when Sentinel says its master moved (failover.c), freed at teardown or
 * once retired and idle (retire.c).  Its connections are sconn.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "core.h"
#include "hold.h"
#include "pool.h"
#include "replica.h"
#include "report/log.h"
#include "report/stats.h"
#include "sconn.h"
#include "server.h"

struct sp_server *sp_server_new(struct sp_pool *pool, const struct sp_conf_server *cs,
                                unsigned idx, char *err, size_t errlen)
{
    struct sp_server *s = calloc(1, sizeof(*s));
    char why[256];

    if (s == NULL || (s->name = strdup(cs->name)) == NULL) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->pool = pool;
    s->conf = cs;
    s->idx = idx;
    s->st = &s->own_st;
    TAILQ_INIT(&s->held);
    if (sp_addr_resolve(&cs->addr, &s->addr, &s->addrlen, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "server '%s': %s", cs->name, why);
        sp_server_free(s);
        return NULL;
    }
    snprintf(s->addr_text, sizeof(s->addr_text), "%s", cs->addr.text);
    return s;
}

void sp_server_free(struct sp_server *s)
{
    if (s == NULL)
        return;
    sp_replica_free(s);
    sp_hold_fail_all(s, "Proxy shutting down");
    sp_server_close_all(s, "Proxy shutting down", false);
    free(s->name);
    free(s);
}

int sp_server_move(struct sp_server *s, const char *host, int port, const char *reason)
{
    struct sp_conf_addr where = { 0 };
    struct sockaddr_storage ss;
    socklen_t len;
    char text[SP_ADDR_TEXT_MAX], why[256];

    snprintf(text, sizeof(text), strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
    if (strcmp(text, s->addr_text) == 0)
        return 0; /* already there (Sentinel's first answer is often the config's address) */
    where.text = text;
    where.host = (char *)host;
    where.port = port;
    if (sp_addr_resolve(&where, &ss, &len, why, sizeof(why)) < 0) {
        sp_log_error("pool '%s': server '%s': cannot use its new address: %s",
                     s->pool->conf->name, s->name, why);
        return -1;
    }
    /* Requests already sent to the old address get an error (a write may or may not have been
       done there: never retried silently); those that never left, and those held while the
       master was down, go to the new one first (hold.c), then the next requests. */
    sp_server_close_all(s, reason, true);
    s->addr = ss;
    s->addrlen = len;
    snprintf(s->addr_text, sizeof(s->addr_text), "%s", text);
    (void)sp_hold_release(s);
    return 0;
}
