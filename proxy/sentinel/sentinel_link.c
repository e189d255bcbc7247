/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One Sentinel: a command connection (AUTH, then rounds of SENTINEL get-master-addr-by-name,
 * SENTINEL MASTER and SENTINEL REPLICAS for every master) and a subscribed one (AUTH, SUBSCRIBE to
 * the events, a PING per round), opened and failed together.  A Sentinel that refuses REPLICAS
 * (Redis < 5) is asked SENTINEL SLAVES, the older name, from the next round on.
 *
 * Liveness: every reply owed is counted; while anything is owed the link's timer holds a deadline
 * of `timeout_ms`, pushed back by each reply that arrives, so a Sentinel that stops answering
 * (stopped, partitioned, overloaded) is dropped however open its sockets look.  A dropped link
 * is reconnected after a backoff that doubles per failure (min..max) and starts over once a
 * Sentinel answers.  The same timer serves both: a link is either up (deadline) or down
 * (reconnect).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "core/addr.h"
#include "report/log.h"
#include "sentinel/sentinel_int.h"

/* A reply beyond this is not from a Sentinel we understand (SENTINEL MASTER is ~1 kB, and
 * SENTINEL REPLICAS ~1 kB a replica). */
#define SN_MAX_REPLY (1024 * 1024)

static void link_timer_cb(evutil_socket_t fd, short what, void *arg);

int sn_link_init(struct sp_sentinel *sn, size_t i, char *err, size_t errlen)
{
    struct sn_link *l = &sn->links[i];
    const struct sp_conf_sentinel *cs = &sn->pool->sentinels[i];
    char why[512];

    l->sn = sn;
    l->idx = i;
    l->name = cs->addr.text;
    l->backoff_ms = sn->opt.backoff_min_ms;
    l->cmd.link = l->sub.link = l;
    l->sub.sub = true;
    if (sp_addr_resolve(&cs->addr, &l->ss, &l->sslen, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "pool '%s': Sentinel %s", sn->pool->name, why);
        return -1;
    }
    l->answers = calloc(sn->nmasters ? sn->nmasters : 1, sizeof(*l->answers));
    l->cmd.cap = 1 + 3 * sn->nmasters;  /* AUTH, then a round: the most ever owed */
    l->cmd.owed = calloc(l->cmd.cap, sizeof(*l->cmd.owed));
    l->timer = evtimer_new(sn->base, link_timer_cb, l);
    if (!l->answers || !l->cmd.owed || !l->timer) {
        snprintf(err, errlen, "pool '%s': out of memory", sn->pool->name);
        return -1;
    }
    return 0;
}

static void conn_close(struct sn_conn *c)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
        sp_resp_reply_free(&c->parser);
    }
    c->head = c->nowed = 0;
    c->sub_owed = 0;
}

void sn_link_fini(struct sn_link *l)
{
    conn_close(&l->cmd);
    conn_close(&l->sub);
    if (l->timer)
        event_free(l->timer);
    free(l->cmd.owed);
    free(l->answers);
}

/* Replies owed on both connections. */
static size_t owed(const struct sn_link *l)
{
    return l->cmd.nowed - l->cmd.head + l->sub.sub_owed;
}

/*
 * Keeps the deadline: none while nothing is owed; started when something becomes owed; pushed
 * back only on progress (a reply), never by sending more.
 */
static void arm_deadline(struct sn_link *l, bool progress)
{
    struct timeval tv = { l->sn->opt.timeout_ms / 1000, (l->sn->opt.timeout_ms % 1000) * 1000 };

    if (owed(l) == 0)
        event_del(l->timer);
    else if (progress || !evtimer_pending(l->timer, NULL))
        evtimer_add(l->timer, &tv);
}

/* Drops both connections, logs why, forgets the link's answers, schedules the reconnect. */
static void link_fail(struct sn_link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void link_fail(struct sn_link *l, const char *fmt, ...)
{
    struct sp_sentinel *sn = l->sn;
    struct timeval tv = { l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000 };
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    /* The first failure is news; retries of a Sentinel that stays away are not. */
    if (!l->said_down)
        sp_log_warn("pool '%s': Sentinel %s: %s; reconnecting in %d ms", sn->pool->name, l->name,
                    why, l->backoff_ms);
    else
        sp_log_info("pool '%s': Sentinel %s: %s; reconnecting in %d ms", sn->pool->name, l->name,
                    why, l->backoff_ms);
    l->said_down = true;
    conn_close(&l->cmd);
    conn_close(&l->sub);
    l->up = false;
    l->answered = false;
    l->requery = false;
    evtimer_add(l->timer, &tv);
    l->backoff_ms = l->backoff_ms * 2 > sn->opt.backoff_max_ms ? sn->opt.backoff_max_ms
                                                                : l->backoff_ms * 2;
    sn_view_link_down(l);
}

/* Appends one command (argv[0..argc)) to the connection's output.  0, or -1 when out of memory. */
static int send_cmd(struct sn_conn *c, size_t argc, const char *const *argv)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    if (sp_resp_write_array(out, argc) != 0)
        return -1;
    for (size_t i = 0; i < argc; i++) {
        if (sp_resp_write_bulk(out, argv[i], strlen(argv[i])) != 0)
            return -1;
    }
    return 0;
}

/* AUTH [user] password, when the pool has a password for its Sentinels. */
static int send_auth(struct sn_conn *c, const struct sp_conf_pool *pool)
{
    const char *argv[3] = { "AUTH", pool->sentinel_user, pool->sentinel_auth };

    if (!pool->sentinel_auth)
        return 0;
    if (!pool->sentinel_user) {
        argv[1] = pool->sentinel_auth;
        return send_cmd(c, 2, argv);
    }
    return send_cmd(c, 3, argv);
}

static void owe(struct sn_conn *c, enum sn_expect kind, size_t master)
{
    c->owed[c->nowed].kind = (uint8_t)kind;
    c->owed[c->nowed].master = (uint32_t)master;
    c->nowed++;
}

/* One round on an idle command connection, and a PING on an idle subscribed one.  0 or -1. */
static int send_round(struct sn_link *l)
{
    struct sp_sentinel *sn = l->sn;

    for (size_t m = 0; m < sn->nmasters; m++) {
        const char *addr[] = { "SENTINEL", "get-master-addr-by-name", sn->masters[m].master };
        const char *info[] = { "SENTINEL", "MASTER", sn->masters[m].master };
        const char *replicas[] = { "SENTINEL", l->slaves ? "SLAVES" : "REPLICAS",
                                   sn->masters[m].master };
        if (send_cmd(&l->cmd, 3, addr) != 0 || send_cmd(&l->cmd, 3, info) != 0 ||
            send_cmd(&l->cmd, 3, replicas) != 0)
            return -1;
        owe(&l->cmd, SN_EXPECT_ADDR, m);
        owe(&l->cmd, SN_EXPECT_INFO, m);
        owe(&l->cmd, l->slaves ? SN_EXPECT_SLAVES : SN_EXPECT_REPLICAS, m);
        l->answers[m].have_addr = false;
    }
    if (l->sub.sub_owed == 0) {
        const char *ping[] = { "PING" };
        if (send_cmd(&l->sub, 1, ping) != 0)
            return -1;
        l->sub.sub_owed++;
    }
    arm_deadline(l, false);
    return 0;
}

void sn_link_query(struct sn_link *l)
{
    if (!l->up || !l->cmd.bev)
        return;
    if (l->cmd.nowed > l->cmd.head) {
        l->requery = true;  /* after the round in flight */
        return;
    }
    l->cmd.head = l->cmd.nowed = 0;
    if (send_round(l) != 0)
        link_fail(l, "out of memory");
}

/* A reply to a query: the address, then the epoch of the same master. */
static void on_query_reply(struct sn_link *l, const struct sn_owed *o, const struct sn_reply *rp)
{
    struct sp_sentinel *sn = l->sn;
    struct sn_answer *a = &l->answers[o->master];
    const char *what = o->kind == SN_EXPECT_ADDR ? "get-master-addr-by-name" : "MASTER";
    struct sn_text why;
    int rc;

    if (o->kind == SN_EXPECT_ADDR) {
        rc = sn_parse_addr(rp, &a->next, &why);
        a->have_addr = rc >= 0;
        a->next_known = rc > 0;
    } else {
        struct sn_info info = { -1, false, false };
        rc = sn_parse_info(rp, &info, &why);
        if (rc >= 0 && a->have_addr) {
            /* Unknown to either command is unknown; else the address with its epoch. */
            a->kind = rc > 0 && a->next_known ? SN_ANSWER_KNOWN : SN_ANSWER_UNKNOWN;
            if (a->kind == SN_ANSWER_KNOWN) {
                a->addr = a->next;
                a->epoch = info.epoch;
                a->next_sdown = info.sdown;
                a->next_odown = info.odown;
            }
            a->have_addr = false;
            sn_view_answer(l, o->master);
        }
    }
    if (rc < 0)
        sp_log_warn("pool '%s': Sentinel %s: SENTINEL %s %s: %.*s", sn->pool->name, l->name, what,
                    sn->masters[o->master].master, (int)why.n, why.s);
}

/* A reply to SENTINEL REPLICAS (or SLAVES) for master o->master. */
static void on_replicas_reply(struct sn_link *l, const struct sn_owed *o, const struct sn_reply *rp)
{
    struct sp_sentinel *sn = l->sn;
    struct sn_replicas list;
    struct sn_text why;
    int rc = sn_parse_replicas(rp, &list, &why);

    if (rc < 0 && rp->r->is_error && o->kind == SN_EXPECT_REPLICAS) {
        if (!l->slaves)
            sp_log_info("pool '%s': Sentinel %s refuses SENTINEL REPLICAS (%.*s): asking "
                        "SENTINEL SLAVES", sn->pool->name, l->name, (int)why.n, why.s);
        l->slaves = true;
        l->requery = true;  /* a round with SLAVES once this one is answered */
        return;
    }
    if (rc < 0) {
        if (!l->logged_replicas)
            sp_log_warn("pool '%s': Sentinel %s: SENTINEL %s %s: %.*s", sn->pool->name, l->name,
                        o->kind == SN_EXPECT_SLAVES ? "SLAVES" : "REPLICAS",
                        sn->masters[o->master].master, (int)why.n, why.s);
        l->logged_replicas = true;
        return;
    }
    sn_view_replicas(l, o->master, &list);  /* an unknown master has none */
}

/* Handles one reply on the command connection.  0, or -1 when the link was failed. */
static int on_cmd_reply(struct sn_link *l, const struct sn_reply *rp)
{
    struct sn_text text;

    if (l->cmd.head == l->cmd.nowed) {
        link_fail(l, "a reply nobody asked for");
        return -1;
    }
    const struct sn_owed o = l->cmd.owed[l->cmd.head++];
    if (o.kind == SN_EXPECT_AUTH) {
        if (rp->r->is_error) {
            if (sn_reply_text(rp, &text) != 0)
                text = (struct sn_text){ "?", 1 };
            link_fail(l, "AUTH refused: %.*s", (int)text.n, text.s);
            return -1;
        }
    } else if (o.kind != SN_EXPECT_PING) {
        if (rp->r->is_error && sn_reply_text(rp, &text) == 0 &&
            (memmem(text.s, text.n, "NOAUTH", 6) || memmem(text.s, text.n, "NOPERM", 6))) {
            link_fail(l, "%.*s (set sentinel_auth / sentinel_user)", (int)text.n, text.s);
            return -1;
        }
        if (o.kind == SN_EXPECT_REPLICAS || o.kind == SN_EXPECT_SLAVES)
            on_replicas_reply(l, &o, rp);
        else
            on_query_reply(l, &o, rp);
    }
    if (l->cmd.head == l->cmd.nowed) {
        l->cmd.head = l->cmd.nowed = 0;
        if (l->requery) {
            l->requery = false;
            if (send_round(l) != 0) {
                link_fail(l, "out of memory");
                return -1;
            }
        }
    }
    return 0;
}

/* A pub/sub message: an event about one of our masters, or something to ignore. */
static void on_message(struct sn_link *l, const struct sn_reply *rp)
{
    struct sn_text channel, payload;
    struct sn_event ev;

    if (sn_reply_elem(rp, 1, &channel) != 0 || sn_reply_elem(rp, 2, &payload) != 0)
        return;
    int rc = sn_parse_event(channel, payload, &ev);
    if (rc < 0) {
        sp_log_warn("pool '%s': Sentinel %s: malformed %.*s event: %.*s", l->sn->pool->name,
                    l->name, (int)channel.n, channel.s, (int)payload.n, payload.s);
        return;
    }
    struct sn_master *m = rc > 0 ? sn_view_find(l->sn, ev.master.s, ev.master.n) : NULL;
    if (!m)
        return;
    sp_log_info("pool '%s': Sentinel %s: %.*s %.*s", l->sn->pool->name, l->name, (int)channel.n,
                channel.s, (int)payload.n, payload.s);
    switch (ev.kind) {
    case SN_EV_SWITCH:
        sn_view_switch(l, m, &ev.from, &ev.to);
        break;
    case SN_EV_SDOWN:
    case SN_EV_SDOWN_OFF:
        sn_view_down(l, m, &ev.from, false, ev.kind == SN_EV_SDOWN);
        break;
    case SN_EV_ODOWN:
    case SN_EV_ODOWN_OFF:
        sn_view_down(l, m, &ev.from, true, ev.kind == SN_EV_ODOWN);
        break;
    }
}

/* Handles one reply on the subscribed connection.  0, or -1 when the link was failed. */
static int on_sub_reply(struct sn_link *l, const struct sn_reply *rp)
{
    struct sn_text kind, text;

    if (rp->r->type == SP_RESP_ARRAY && rp->r->nelems == 3 && sn_reply_elem(rp, 0, &kind) == 0 &&
        kind.n == 7 && memcmp(kind.s, "message", 7) == 0) {
        on_message(l, rp);
        return 0;
    }
    if (rp->r->is_error) {
        if (sn_reply_text(rp, &text) != 0)
            text = (struct sn_text){ "?", 1 };
        link_fail(l, "subscribing: %.*s", (int)text.n, text.s);
        return -1;
    }
    if (l->sub.sub_owed > 0)
        l->sub.sub_owed--;
    return 0;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct sn_conn *c = arg;
    struct sn_link *l = c->link;
    struct evbuffer *in = bufferevent_get_input(bev);
    char err[SP_RESP_ERRLEN];

    for (;;) {
        int rc = sp_resp_reply_parse(&c->parser, in, err, sizeof(err));
        if (rc == SP_PARSE_AGAIN)
            break;
        if (rc == SP_PARSE_ERROR || c->parser.len > SN_MAX_REPLY) {
            link_fail(l, "%s", rc == SP_PARSE_ERROR ? err : "reply too large");
            return;
        }
        struct sn_reply rp = { &c->parser, (const char *)evbuffer_pullup(in, (ssize_t)c->parser.len) };
        if (!rp.p) {
            link_fail(l, "out of memory");
            return;
        }
        if (!l->answered) {
            l->answered = true;
            l->backoff_ms = l->sn->opt.backoff_min_ms;
            if (l->said_down)
                sp_log_notice("pool '%s': Sentinel %s answers again", l->sn->pool->name, l->name);
            l->said_down = false;
        }
        if ((c->sub ? on_sub_reply(l, &rp) : on_cmd_reply(l, &rp)) != 0)
            return;  /* the link was failed: c is closed */
        evbuffer_drain(in, c->parser.len);
    }
    arm_deadline(l, true);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct sn_conn *c = arg;
    int err = EVUTIL_SOCKET_ERROR();

    (void)bev;
    if (what & BEV_EVENT_CONNECTED)
        return;
    if (what & BEV_EVENT_EOF)
        link_fail(c->link, "closed the connection");
    else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        link_fail(c->link, "%s", err ? evutil_socket_error_to_string(err) : "connection error");
}

/* Opens one connection (connecting in the background).  0, or -1 with errno set. */
static int conn_open(struct sn_link *l, struct sn_conn *c)
{
    c->bev = bufferevent_socket_new(l->sn->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        errno = ENOMEM;
        return -1;
    }
    sp_resp_reply_init(&c->parser);
    c->parser.want_elems = 1;
    c->head = c->nowed = 0;
    c->sub_owed = 0;
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0 ||
        bufferevent_socket_connect(c->bev, (struct sockaddr *)&l->ss, (int)l->sslen) != 0) {
        if (errno == 0)
            errno = ECONNREFUSED;
        return -1;
    }
    return 0;
}

/* AUTH and SUBSCRIBE on the subscribed connection.  0 or -1 (out of memory). */
static int subscribe(struct sn_link *l)
{
#define SN_CHANNEL_ARG_(name) name,
    static const char *const argv[] = { "SUBSCRIBE", SN_CHANNELS(SN_CHANNEL_ARG_) };
#undef SN_CHANNEL_ARG_
    size_t argc = sizeof(argv) / sizeof(argv[0]);

    if (send_auth(&l->sub, l->sn->pool) != 0 || send_cmd(&l->sub, argc, argv) != 0)
        return -1;
    l->sub.sub_owed = (l->sn->pool->sentinel_auth ? 1 : 0) + argc - 1;  /* one per channel */
    return 0;
}

void sn_link_connect(struct sn_link *l)
{
    const struct sp_conf_pool *pool = l->sn->pool;

    l->up = true;
    l->answered = false;
    l->requery = false;
    l->slaves = false;  /* it may have been upgraded */
    l->logged_replicas = false;
    for (size_t m = 0; m < l->sn->nmasters; m++)
        l->answers[m].fresh = true;  /* events missed while away: its flags tell */
    if (conn_open(l, &l->cmd) != 0 || conn_open(l, &l->sub) != 0) {
        link_fail(l, "cannot connect: %s", strerror(errno));
        return;
    }
    if (send_auth(&l->cmd, pool) != 0 || subscribe(l) != 0) {
        link_fail(l, "out of memory");
        return;
    }
    if (pool->sentinel_auth)
        owe(&l->cmd, SN_EXPECT_AUTH, 0);
    if (send_round(l) != 0)
        link_fail(l, "out of memory");
}

static void link_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sn_link *l = arg;

    (void)fd;
    (void)what;
    if (l->up)
        link_fail(l, "no answer within %d ms", l->sn->opt.timeout_ms);
    else
        sn_link_connect(l);
}
