/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads from a replica while a master is down (Sentinel pools, `failover_replica_reads`).
 *
 * A read-only request (the protocol says so: SP_MSG_READONLY) that would wait out a failover
 * (hold.c) is sent instead to the replica Sentinel chooses for that master (the freshest one
 * that is up: proxy/sentinel/sentinel.h, sp_sentinel_replica).  The answer may be stale: a
 * replica trails its master, and writes held for the master are not on it yet - so a client may
 * not read its own held write; that is what opting in accepts (docs/operations.md).
 *
 * The replica is reached through a server object of its own (server->replica), made on first
 * use: the same AUTH / SELECT and connection machinery as its master, but outside placement, never
 * held (a replica that is down too fails the read) and with its own counters.  When Sentinel
 * chooses another replica it moves there; it goes with its master.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "core.h"
#include "pool.h"
#include "replica.h"
#include "report/log.h"
#include "report/stats.h"
#include "req.h"
#include "sconn.h"
#include "sentinel/sentinel.h"
#include "server.h"

/* The replica object of `s`, at the replica chosen now; NULL when there is none. */
static struct sp_server *replica_of(struct sp_server *s)
{
    struct sp_pool *pool = s->pool;
    const char *host;
    int port;
    char err[SP_REASON_MAX];

    if (s->conf == NULL)
        return NULL;
    if (pool->proxy->follower) {
        /* No Sentinel client of its own: the leader's choice, as it was told (world.h). */
        if (s->told_replica_port == 0)
            return NULL;
        host = s->told_replica_host;
        port = s->told_replica_port;
    } else if (pool->sentinel == NULL ||
               sp_sentinel_replica(pool->sentinel, s->idx, &host, &port) < 0) {
        return NULL;
    }
    if (s->replica == NULL) {
        s->replica = sp_server_new(pool, s->conf, s->idx, err, sizeof(err));
        if (s->replica == NULL) {
            sp_log_error("pool '%s': server '%s': no replica reads: %s", pool->conf->name,
                         s->name, err);
            return NULL;
        }
        s->replica->is_replica = true;
        s->replica->conf = NULL; /* its master's entry may go with a reload: not kept */
    }
    if (sp_server_move(s->replica, host, port, "the replica read from changed") < 0)
        return NULL;
    return s->replica;
}

struct sp_sconn *sp_replica_conn(struct sp_server *s, const struct sp_req *req)
{
    const struct sp_req *top = req->parent != NULL ? req->parent : req;
    struct sp_server *r;
    const char *reason = NULL;
    struct sp_sconn *sc;

    if (!top->readonly || !s->pool->conf->failover_replica_reads || s->is_replica ||
        (r = replica_of(s)) == NULL)
        return NULL;
    sc = sp_server_conn(r, top->client != NULL ? sp_client_affinity(top->client) : 0, &reason);
    if (sc == NULL)
        return NULL;
    if (s->st->replica_reads == 0)
        sp_log_notice("pool '%s': server '%s': reads go to replica %s while the master is down",
                      s->pool->conf->name, s->name, r->addr_text);
    SP_STAT_ADD(s->st->replica_reads, 1);
    return sc;
}

void sp_replica_changed(struct sp_pool *pool, size_t server)
{
    /* Reads in flight on the old choice are answered; the next ones go to the new one.  With
       no choice left the object stays where it is, unused until there is one again. */
    if (server < pool->nservers && pool->servers[server]->replica != NULL)
        (void)replica_of(pool->servers[server]);
}

void sp_replica_free(struct sp_server *s)
{
    sp_server_free(s->replica);
    s->replica = NULL;
}
