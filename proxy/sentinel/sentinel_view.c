/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the client believes about each master, and the one rule that changes it (sentinel.h):
 * decided at start from a majority of answers by config epoch, switched at once by a
 * +switch-master from the address we follow, changed by a query answer only with a newer epoch.
 * Everything reported to the caller and logged about masters happens here, and so does the
 * choice of each master's replica for reads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "report/log.h"
#include "sentinel/sentinel_int.h"

int sn_view_init(struct sp_sentinel *sn)
{
    const struct sp_conf_pool *pool = sn->pool;

    for (size_t i = 0; i < sn->nmasters; i++) {
        struct sn_master *m = &sn->masters[i];
        const struct sp_conf_server *srv = &pool->servers[i];

        m->server = i;
        m->name = srv->name;
        m->master = srv->master ? srv->master : srv->name;
        if (strlen(srv->addr.host) >= sizeof(m->addr.host))
            return -1;
        strcpy(m->addr.host, srv->addr.host);
        m->addr.port = srv->addr.port;
        m->epoch = -1;
        m->state = SP_SENTINEL_UP;
    }
    return 0;
}

struct sn_master *sn_view_find(struct sp_sentinel *sn, const char *name, size_t len)
{
    for (size_t i = 0; i < sn->nmasters; i++) {
        if (strlen(sn->masters[i].master) == len && memcmp(sn->masters[i].master, name, len) == 0)
            return &sn->masters[i];
    }
    return NULL;
}

/* Follows `to` from now on, and says so. */
static void report(struct sn_link *l, struct sn_master *m, const struct sn_addr *to,
                   long long epoch, enum sp_sentinel_why why)
{
    struct sp_sentinel *sn = l->sn;
    char was[SN_HOST_MAX + 8];

    snprintf(was, sizeof(was), "%s:%d", m->addr.host, m->addr.port);
    m->addr = *to;
    m->epoch = epoch;
    m->decided = true;
    sp_log_notice("pool '%s': server '%s' (Sentinel master '%s'): %s:%d, was %s (%s from Sentinel "
                  "%s, config epoch %lld)", sn->pool->name, m->name, m->master, m->addr.host,
                  m->addr.port, was, sp_sentinel_why_name(why), l->name, epoch);
    if (sn->cb.on_master) {
        struct sp_sentinel_master info = {
            .server = m->server, .name = m->name, .master = m->master, .host = m->addr.host,
            .port = m->addr.port, .epoch = m->epoch, .why = why, .sentinel = l->name,
        };
        sn->cb.on_master(sn->cb.ctx, &info);
    }
    sn_view_choose_replica(sn, m);  /* the old choice may be the new master */
}

/* Recomputes a master's state from what each Sentinel reports: the worst one counts. */
static void update_state(struct sn_link *l, struct sn_master *m)
{
    struct sp_sentinel *sn = l->sn;
    enum sp_sentinel_state st = SP_SENTINEL_UP;

    for (size_t i = 0; i < sn->nlinks; i++) {
        const struct sn_answer *a = &sn->links[i].answers[m->server];
        if (a->odown)
            st = SP_SENTINEL_ODOWN;
        else if (a->sdown && st == SP_SENTINEL_UP)
            st = SP_SENTINEL_SDOWN;
    }
    if (st == m->state)
        return;
    m->state = st;
    sp_log_notice("pool '%s': server '%s' (Sentinel master '%s') at %s:%d: %s (Sentinel %s)",
                  sn->pool->name, m->name, m->master, m->addr.host, m->addr.port,
                  sp_sentinel_state_name(st), l->name);
    if (sn->cb.on_state)
        sn->cb.on_state(sn->cb.ctx, m->server, m->master, st, l->name);
    sn_view_choose_replica(sn, m);  /* down, the freshest replica is wanted */
}

/* The master moved: the Sentinels' down flags were about the old one; the new one is up. */
static void forget_down(struct sn_link *l, struct sn_master *m)
{
    struct sp_sentinel *sn = l->sn;

    for (size_t i = 0; i < sn->nlinks; i++)
        sn->links[i].answers[m->server].sdown = sn->links[i].answers[m->server].odown = false;
    update_state(l, m);
}

/*
 * After a (re)connect the events a Sentinel sent while we were away are lost; the flags of its
 * first answer that agrees with the followed address say whether it sees the master down.
 * Later rounds leave that to the events, which arrive in order (a round's flags may predate an
 * event read before them).
 */
static void take_flags(struct sn_link *l, struct sn_master *m)
{
    struct sn_answer *a = &l->answers[m->server];

    if (!a->fresh || a->kind != SN_ANSWER_KNOWN || !sn_addr_eq(&a->addr, &m->addr))
        return;
    a->fresh = false;
    a->sdown = a->next_sdown;
    a->odown = a->next_odown;
    update_state(l, m);
}

/*
 * Start: decides master `m` once a majority of the Sentinels answered for it, or none is left
 * to answer; the highest config epoch wins, then the address most of them gave.
 */
static void try_decide(struct sp_sentinel *sn, struct sn_master *m)
{
    size_t answered = 0, pending = 0, best = sn->nlinks, best_votes = 0;

    for (size_t i = 0; i < sn->nlinks; i++) {
        const struct sn_link *l = &sn->links[i];
        if (!l->up)
            continue;
        if (l->answers[m->server].kind == SN_ANSWER_NONE)
            pending++;
        else
            answered++;
    }
    if (answered == 0 || (answered < sn->nlinks / 2 + 1 && pending > 0))
        return;
    for (size_t i = 0; i < sn->nlinks; i++) {
        const struct sn_answer *a = &sn->links[i].answers[m->server];
        if (!sn->links[i].up || a->kind != SN_ANSWER_KNOWN)
            continue;
        size_t votes = 0;
        for (size_t j = 0; j < sn->nlinks; j++) {
            const struct sn_answer *b = &sn->links[j].answers[m->server];
            votes += sn->links[j].up && b->kind == SN_ANSWER_KNOWN && b->epoch == a->epoch &&
                     sn_addr_eq(&a->addr, &b->addr);
        }
        const struct sn_answer *cur = best < sn->nlinks ? &sn->links[best].answers[m->server]
                                                         : NULL;
        if (!cur || a->epoch > cur->epoch || (a->epoch == cur->epoch && votes > best_votes)) {
            best = i;
            best_votes = votes;
        }
    }
    if (best == sn->nlinks) {
        if (m->logged_nobody)
            return;
        m->logged_nobody = true;
        sp_log_warn("pool '%s': server '%s': none of the %zu Sentinel(s) that answered knows "
                    "master '%s'; using %s:%d from the configuration meanwhile", sn->pool->name,
                    m->name, answered, m->master, m->addr.host, m->addr.port);
        return;
    }
    const struct sn_answer *a = &sn->links[best].answers[m->server];
    report(&sn->links[best], m, &a->addr, a->epoch, SP_SENTINEL_FIRST);
    for (size_t i = 0; i < sn->nlinks; i++)
        take_flags(&sn->links[i], m);
}

void sn_view_answer(struct sn_link *l, size_t mi)
{
    struct sp_sentinel *sn = l->sn;
    struct sn_master *m = &sn->masters[mi];
    struct sn_answer *a = &l->answers[mi];

    if (a->kind == SN_ANSWER_UNKNOWN) {
        if (!a->logged_unknown)
            sp_log_warn("pool '%s': Sentinel %s does not know master '%s' (server '%s')",
                        sn->pool->name, l->name, m->master, m->name);
        a->logged_unknown = true;
    } else {
        a->logged_unknown = false;
    }
    if (!m->decided)
        try_decide(sn, m);
    if (!m->decided || a->kind != SN_ANSWER_KNOWN)
        return;
    if (sn_addr_eq(&a->addr, &m->addr)) {
        if (a->epoch > m->epoch)
            m->epoch = a->epoch;
        a->logged_stale = false;
        take_flags(l, m);
    } else if (a->epoch > m->epoch) {
        report(l, m, &a->addr, a->epoch, SP_SENTINEL_NEWER);
        forget_down(l, m); /* a newer master: what was down was the old one */
    } else if (!a->logged_stale) {
        a->logged_stale = true;
        sp_log_notice("pool '%s': Sentinel %s says master '%s' is at %s:%d (config epoch %lld); "
                      "following %s:%d (config epoch %lld): its older view is ignored",
                      sn->pool->name, l->name, m->master, a->addr.host, a->addr.port, a->epoch,
                      m->addr.host, m->addr.port, m->epoch);
    }
}

void sn_view_link_down(struct sn_link *l)
{
    struct sp_sentinel *sn = l->sn;

    for (size_t i = 0; i < sn->nmasters; i++) {
        struct sn_answer *a = &l->answers[i];
        bool had_down = a->sdown || a->odown;
        a->kind = SN_ANSWER_NONE;
        a->have_addr = false;
        a->sdown = a->odown = false;
        if (had_down)
            update_state(l, &sn->masters[i]);
        if (a->replicas_seq != 0) {
            a->replicas_seq = 0;
            sn_view_choose_replica(sn, &sn->masters[i]);
        }
        if (!sn->masters[i].decided)
            try_decide(sn, &sn->masters[i]);
    }
}

void sn_view_switch(struct sn_link *l, struct sn_master *m, const struct sn_addr *from,
                    const struct sn_addr *to)
{
    struct sp_sentinel *sn = l->sn;

    if (m->decided && sn_addr_eq(to, &m->addr)) {
        /* Every Sentinel announces the switch it learnt: the first one did it, or a newer
           answer did before any (the down flags it left were the old master's). */
        forget_down(l, m);
        return;
    }
    if (m->decided && !sn_addr_eq(from, &m->addr)) {
        sp_log_notice("pool '%s': Sentinel %s announces +switch-master '%s' %s:%d -> %s:%d, but "
                      "%s:%d is followed: asking every Sentinel", sn->pool->name, l->name,
                      m->master, from->host, from->port, to->host, to->port, m->addr.host,
                      m->addr.port);
        sn_view_requery(sn);
        return;
    }
    /* The new config's epoch is above the old one's: stale answers about `from` lose to it. */
    long long epoch = m->epoch;
    for (size_t i = 0; i < sn->nlinks; i++) {
        const struct sn_answer *a = &sn->links[i].answers[m->server];
        if (a->kind == SN_ANSWER_KNOWN && sn_addr_eq(&a->addr, from) && a->epoch > epoch)
            epoch = a->epoch;
    }
    report(l, m, to, epoch + 1, SP_SENTINEL_SWITCH);
    forget_down(l, m);
    sn_view_requery(sn);  /* to learn the real epoch */
}

void sn_view_down(struct sn_link *l, struct sn_master *m, const struct sn_addr *at, bool odown,
                  bool on)
{
    struct sn_answer *a = &l->answers[m->server];

    if (!sn_addr_eq(at, &m->addr))
        return;  /* about an address the master left */
    if (odown)
        a->odown = on;
    else
        a->sdown = on;
    update_state(l, m);
    if (on)
        sn_view_requery(l->sn);  /* its replicas' flags and offsets matter now */
}

/* ---- replicas ---- */

/* Is replica a fitter to read from than b?  The higher offset (fresher data), then the lower
 * address, so that every proxy makes the same choice. */
static bool replica_before(const struct sn_replica *a, const struct sn_replica *b)
{
    int c = strcmp(a->addr.host, b->addr.host);

    if (a->offset != b->offset)
        return a->offset > b->offset;
    return c != 0 ? c < 0 : a->addr.port < b->addr.port;
}

/*
 * The list that counts for master `m`: the latest from a Sentinel that put the master where we
 * follow it (one with an older view may list stale replicas, e.g. the new master).  NULL: none.
 */
static const struct sn_replicas *replicas_source(const struct sp_sentinel *sn,
                                                 const struct sn_master *m, const char **from)
{
    const struct sn_replicas *best = NULL;
    uint64_t seq = 0;

    for (size_t i = 0; i < sn->nlinks; i++) {
        const struct sn_answer *a = &sn->links[i].answers[m->server];
        if (sn->links[i].up && a->replicas_seq > seq && sn_addr_eq(&a->replicas_of, &m->addr)) {
            best = &a->replicas;
            seq = a->replicas_seq;
            *from = sn->links[i].name;
        }
    }
    return best;
}

/* The replica of `list` to read from: fit (no down flag), not the master, the fittest. */
static const struct sn_replica *pick_replica(const struct sn_replicas *list,
                                             const struct sn_master *m)
{
    const struct sn_replica *pick = NULL;

    for (size_t i = 0; i < list->n; i++) {
        const struct sn_replica *r = &list->r[i];
        if (r->flags != 0 || sn_addr_eq(&r->addr, &m->addr))
            continue;
        /* While the master is up every replica trails it by a moving amount: keep the one
         * chosen rather than flap with each sample of their offsets. */
        if (m->state == SP_SENTINEL_UP && sn_addr_eq(&r->addr, &m->replica))
            return r;
        if (!pick || replica_before(r, pick))
            pick = r;
    }
    return pick;
}

void sn_view_choose_replica(struct sp_sentinel *sn, struct sn_master *m)
{
    const char *from = NULL;
    const struct sn_replicas *list = m->decided ? replicas_source(sn, m, &from) : NULL;
    const struct sn_replica *pick = list ? pick_replica(list, m) : NULL;
    struct sn_addr to = { "", 0 };
    char was[SN_HOST_MAX + 8] = "none";

    if (pick)
        to = pick->addr;
    if (sn_addr_eq(&to, &m->replica))
        return;
    if (m->replica.port != 0)
        snprintf(was, sizeof(was), "%s:%d", m->replica.host, m->replica.port);
    m->replica = to;
    if (pick)
        sp_log_info("pool '%s': server '%s' (Sentinel master '%s' at %s:%d): replica for reads "
                    "%s:%d (replication offset %lld, from Sentinel %s), was %s", sn->pool->name,
                    m->name, m->master, m->addr.host, m->addr.port, to.host, to.port,
                    pick->offset, from, was);
    else
        sp_log_info("pool '%s': server '%s' (Sentinel master '%s' at %s:%d): no replica fit for "
                    "reads, was %s", sn->pool->name, m->name, m->master, m->addr.host,
                    m->addr.port, was);
    if (sn->on_replicas)
        sn->on_replicas(sn->cb.ctx, m->server);
}

void sn_view_replicas(struct sn_link *l, size_t mi, const struct sn_replicas *list)
{
    struct sp_sentinel *sn = l->sn;
    struct sn_master *m = &sn->masters[mi];
    struct sn_answer *a = &l->answers[mi];

    a->replicas = *list;
    a->replicas_of = a->kind == SN_ANSWER_KNOWN ? a->addr : (struct sn_addr){ "", 0 };
    a->replicas_seq = ++sn->seq;
    if ((list->over || list->malformed) && !a->logged_dropped)
        sp_log_warn("pool '%s': Sentinel %s: SENTINEL REPLICAS %s: %zu replica(s) beyond the "
                    "first %d and %zu malformed one(s) ignored", sn->pool->name, l->name,
                    m->master, list->over, SN_REPLICAS_MAX, list->malformed);
    a->logged_dropped = list->over || list->malformed;
    sn_view_choose_replica(sn, m);
}

void sn_view_requery(struct sp_sentinel *sn)
{
    for (size_t i = 0; i < sn->nlinks; i++)
        sn_link_query(&sn->links[i]);
}
