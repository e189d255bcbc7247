/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Sentinel client without sockets: what Sentinels send, decoded (sentinel_msg.c), and the
 * rule that decides which address a master is followed at (sentinel_view.c), driven answer by
 * answer and event by event.  (The client against real Sentinels: test_sentinel.py.)
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "conf.h"
#include "sentinel/sentinel_int.h"

/* ---- decoding ---- */

/* A reply framed from `bytes` (the whole of it), kept for the sn_parse_* calls. */
struct framed {
    struct evbuffer *buf;
    struct sp_resp_reply r;
    struct sn_reply rp;
};

static void frame(struct framed *f, const char *bytes, size_t len)
{
    char err[SP_RESP_ERRLEN];
    f->buf = evbuffer_new();
    evbuffer_add(f->buf, bytes, len);
    sp_resp_reply_init(&f->r);
    f->r.want_elems = 1;
    ck_assert_int_eq(sp_resp_reply_parse(&f->r, f->buf, err, sizeof err), SP_PARSE_OK);
    ck_assert_uint_eq(f->r.len, len);
    f->rp.r = &f->r;
    f->rp.p = (const char *)evbuffer_pullup(f->buf, (ssize_t)len);
}

static void unframe(struct framed *f)
{
    sp_resp_reply_free(&f->r);
    evbuffer_free(f->buf);
}

#define FRAME(f, lit) frame(f, lit, sizeof(lit) - 1)

static int parse_addr(const char *bytes, size_t len, struct sn_addr *a, char *why, size_t wlen)
{
    struct framed f;
    struct sn_text w = { "", 0 };
    frame(&f, bytes, len);
    int rc = sn_parse_addr(&f.rp, a, &w);
    snprintf(why, wlen, "%.*s", (int)w.n, w.s);
    unframe(&f);
    return rc;
}
#define PARSE_ADDR(lit, a, why) parse_addr(lit, sizeof(lit) - 1, a, why, sizeof(why))

START_TEST(addr_replies)
{
    struct sn_addr a;
    char why[128];
    ck_assert_int_eq(PARSE_ADDR("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n", &a, why), 1);
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_int_eq(a.port, 6379);
    ck_assert_int_eq(PARSE_ADDR("*2\r\n$3\r\n::1\r\n$5\r\n65535\r\n", &a, why), 1);
    ck_assert_str_eq(a.host, "::1");
    /* an unknown master: nil */
    ck_assert_int_eq(PARSE_ADDR("*-1\r\n", &a, why), 0);
    ck_assert_int_eq(PARSE_ADDR("$-1\r\n", &a, why), 0);
    /* errors and nonsense: -1, with the error's text */
    ck_assert_int_eq(PARSE_ADDR("-NOAUTH Authentication required.\r\n", &a, why), -1);
    ck_assert_str_eq(why, "NOAUTH Authentication required.");
    ck_assert_int_eq(PARSE_ADDR("*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n", &a, why), -1);
    ck_assert_str_eq(why, "unexpected reply");
    ck_assert_int_eq(PARSE_ADDR("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n65536\r\n", &a, why), -1);
    ck_assert_int_eq(PARSE_ADDR("*2\r\n$9\r\n127.0.0.1\r\n$2\r\nx1\r\n", &a, why), -1);
    ck_assert_int_eq(PARSE_ADDR("*2\r\n$0\r\n\r\n$4\r\n6379\r\n", &a, why), -1);
    ck_assert_int_eq(PARSE_ADDR("*1\r\n$9\r\n127.0.0.1\r\n", &a, why), -1);
    ck_assert_int_eq(PARSE_ADDR("*2\r\n*0\r\n$4\r\n6379\r\n", &a, why), -1);
    ck_assert_int_eq(PARSE_ADDR("+OK\r\n", &a, why), -1);
    ck_assert_int_eq(PARSE_ADDR("*2\r\n$4\r\na\0bc\r\n$4\r\n6379\r\n", &a, why), -1);
    /* a host longer than any DNS name */
    char big[600];
    int n = snprintf(big, sizeof big, "*2\r\n$300\r\n%0300d\r\n$4\r\n6379\r\n", 0);
    ck_assert_int_eq(parse_addr(big, (size_t)n, &a, why, sizeof why), -1);
}
END_TEST

static int parse_info(const char *bytes, size_t len, struct sn_info *info)
{
    struct framed f;
    struct sn_text why;
    frame(&f, bytes, len);
    int rc = sn_parse_info(&f.rp, info, &why);
    unframe(&f);
    return rc;
}
#define PARSE_INFO(lit, info) parse_info(lit, sizeof(lit) - 1, info)

START_TEST(master_replies)
{
    struct sn_info info;
    ck_assert_int_eq(PARSE_INFO("*8\r\n$4\r\nname\r\n$2\r\nm1\r\n$5\r\nflags\r\n"
                                "$20\r\nmaster,s_down,o_down\r\n$12\r\nconfig-epoch\r\n$2\r\n17\r\n"
                                "$4\r\nport\r\n$4\r\n6379\r\n", &info), 1);
    ck_assert_int_eq(info.epoch, 17);
    ck_assert(info.sdown && info.odown);
    ck_assert_int_eq(PARSE_INFO("*4\r\n$5\r\nflags\r\n$6\r\nmaster\r\n$12\r\nconfig-epoch\r\n"
                                "$1\r\n0\r\n", &info), 1);
    ck_assert_int_eq(info.epoch, 0);
    ck_assert(!info.sdown && !info.odown);
    /* "s_down" must be a whole flag */
    ck_assert_int_eq(PARSE_INFO("*4\r\n$5\r\nflags\r\n$14\r\nmaster,xs_down\r\n"
                                "$12\r\nconfig-epoch\r\n$1\r\n1\r\n", &info), 1);
    ck_assert(!info.sdown);
    ck_assert_int_eq(PARSE_INFO("-ERR No such master with that name\r\n", &info), 0);
    ck_assert_int_eq(PARSE_INFO("-ERR unknown command\r\n", &info), -1);
    ck_assert_int_eq(PARSE_INFO("*2\r\n$5\r\nflags\r\n$6\r\nmaster\r\n", &info), -1);
    ck_assert_int_eq(PARSE_INFO("*2\r\n$12\r\nconfig-epoch\r\n$2\r\n-1\r\n", &info), -1);
    ck_assert_int_eq(PARSE_INFO("*1\r\n$12\r\nconfig-epoch\r\n", &info), -1);
    ck_assert_int_eq(PARSE_INFO(":1\r\n", &info), -1);
}
END_TEST

/* ---- SENTINEL REPLICAS answers ---- */

/* Appends an array of the strings of NULL-terminated v (one replica entry, or a whole reply). */
static void put_array(struct evbuffer *b, const char *const *v)
{
    size_t n = 0;
    while (v[n])
        n++;
    ck_assert_int_eq(sp_resp_write_array(b, n), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(sp_resp_write_bulk(b, v[i], strlen(v[i])), 0);
}

/* Parses the reply in b (consumed). */
static int parse_replicas(struct evbuffer *b, struct sn_replicas *out, char *why, size_t wlen)
{
    struct framed f;
    struct sn_text w = { "", 0 };
    size_t len = evbuffer_get_length(b);
    frame(&f, (const char *)evbuffer_pullup(b, -1), len);
    int rc = sn_parse_replicas(&f.rp, out, &w);
    snprintf(why, wlen, "%.*s", (int)w.n, w.s);
    unframe(&f);
    evbuffer_free(b);
    return rc;
}

/* A reply of the n entries given (each a NULL-terminated key/value list). */
static struct evbuffer *replicas_reply(size_t n, const char *const *const *entries)
{
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(sp_resp_write_array(b, n), 0);
    for (size_t i = 0; i < n; i++)
        put_array(b, entries[i]);
    return b;
}

static struct evbuffer *literal(const char *s)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, s, strlen(s));
    return b;
}

START_TEST(replicas_replies)
{
    /* as Sentinel sends them (abridged), and in another order with unknown fields */
    static const char *const r1[] = {
        "name", "10.0.0.2:6380", "ip", "10.0.0.2", "port", "6380", "runid", "abc", "flags",
        "slave", "role-reported", "slave", "master-link-status", "err", "slave-repl-offset",
        "1234", NULL };
    static const char *const r2[] = {
        "slave-repl-offset", "99", "some-future-field", "x", "flags", "slave,s_down,disconnected",
        "port", "6381", "ip", "::1", NULL };
    static const char *const r3[] = { "ip", "10.0.0.3", "port", "7000", "flags",
                                      "slave,o_down,xs_down", NULL };
    static const char *const r4[] = { "role-reported", "master", "ip", "10.0.0.4", "port", "1",
                                      "flags", "slave", NULL };
    /* just listed by a failover (the old master): Sentinel has not heard from it yet */
    static const char *const r5[] = { "ip", "10.0.0.5", "port", "2", "flags", "slave",
                                      "master-host", "?", "master-port", "0", NULL };
    static const char *const r6[] = { "ip", "10.0.0.6", "port", "3", "flags", "slave",
                                      "master-host", "10.0.0.1", "master-port", "6379", NULL };
    const char *const *ok[] = { r1, r2, r3, r4, r5, r6 };
    struct sn_replicas list;
    char why[128];

    ck_assert_int_eq(parse_replicas(replicas_reply(6, ok), &list, why, sizeof why), 1);
    ck_assert_uint_eq(list.n, 6);
    ck_assert_uint_eq(list.over + list.malformed, 0);
    ck_assert_str_eq(list.r[0].addr.host, "10.0.0.2");
    ck_assert_int_eq(list.r[0].addr.port, 6380);
    ck_assert_uint_eq(list.r[0].flags, 0);            /* master-link-status err is fine */
    ck_assert_int_eq(list.r[0].offset, 1234);
    ck_assert_str_eq(list.r[1].addr.host, "::1");
    ck_assert_uint_eq(list.r[1].flags, SN_REPLICA_SDOWN | SN_REPLICA_DISCONNECTED);
    ck_assert_int_eq(list.r[1].offset, 99);
    ck_assert_uint_eq(list.r[2].flags, SN_REPLICA_ODOWN); /* xs_down is not s_down */
    ck_assert_int_eq(list.r[2].offset, -1);           /* not given */
    ck_assert_uint_eq(list.r[3].flags, SN_REPLICA_MASTER);  /* whatever order the fields */
    ck_assert_uint_eq(list.r[4].flags, SN_REPLICA_UNSEEN);
    ck_assert_uint_eq(list.r[5].flags, 0);

    /* no replicas; an unknown master; not a list */
    ck_assert_int_eq(parse_replicas(literal("*0\r\n"), &list, why, sizeof why), 1);
    ck_assert_uint_eq(list.n, 0);
    ck_assert_int_eq(parse_replicas(literal("-ERR No such master with that name\r\n"), &list, why,
                                    sizeof why), 0);
    ck_assert_uint_eq(list.n, 0);
    ck_assert_int_eq(parse_replicas(literal("-ERR Unknown sentinel subcommand 'replicas'\r\n"),
                                    &list, why, sizeof why), -1);
    ck_assert_str_eq(why, "ERR Unknown sentinel subcommand 'replicas'");
    ck_assert_int_eq(parse_replicas(literal("*-1\r\n"), &list, why, sizeof why), -1);
    ck_assert_str_eq(why, "unexpected reply");
    ck_assert_int_eq(parse_replicas(literal("+OK\r\n"), &list, why, sizeof why), -1);
    ck_assert_int_eq(parse_replicas(literal(":3\r\n"), &list, why, sizeof why), -1);
}
END_TEST

START_TEST(replicas_malformed_entries)
{
    static const char *const good[] = { "ip", "10.0.0.2", "port", "6380", NULL };
    static const char *const odd[] = { "ip", "10.0.0.4", "port", "6380", "flags", NULL };
    static const char *const no_ip[] = { "port", "6380", "flags", "slave", NULL };
    static const char *const no_port[] = { "ip", "10.0.0.4", NULL };
    static const char *const bad_port[] = { "ip", "10.0.0.4", "port", "70000", NULL };
    static const char *const empty_ip[] = { "ip", "", "port", "6380", NULL };
    struct sn_replicas list;
    char why[128];

    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(sp_resp_write_array(b, 11), 0);
    put_array(b, odd);
    put_array(b, no_ip);
    put_array(b, no_port);
    put_array(b, bad_port);
    put_array(b, empty_ip);
    evbuffer_add_printf(b, "$5\r\nslave\r\n");                        /* not an array */
    evbuffer_add_printf(b, ":1\r\n");
    evbuffer_add_printf(b, "*2\r\n$2\r\nip\r\n*1\r\n$1\r\nx\r\n");  /* a nested value */
    evbuffer_add_printf(b, "*4\r\n$2\r\nip\r\n$-1\r\n$4\r\nport\r\n$1\r\n1\r\n"); /* nil */
    evbuffer_add_printf(b, "*-1\r\n");
    put_array(b, good);                                               /* ... the others stay */
    ck_assert_int_eq(parse_replicas(b, &list, why, sizeof why), 1);
    ck_assert_uint_eq(list.malformed, 10);
    ck_assert_uint_eq(list.n, 1);
    ck_assert_str_eq(list.r[0].addr.host, "10.0.0.2");

    /* integers and statuses are values too */
    ck_assert_int_eq(parse_replicas(literal("*1\r\n*4\r\n+ip\r\n+10.0.0.5\r\n+port\r\n:6390\r\n"),
                                    &list, why, sizeof why), 1);
    ck_assert_uint_eq(list.n, 1);
    ck_assert_int_eq(list.r[0].addr.port, 6390);
}
END_TEST

START_TEST(replicas_huge_list)
{
    static const char *const one[] = { "ip", "10.0.0.2", "port", "6380", NULL };
    struct sn_replicas list;
    char why[128];
    struct evbuffer *b = evbuffer_new();

    ck_assert_int_eq(sp_resp_write_array(b, 1000), 0);
    for (int i = 0; i < 1000; i++)
        put_array(b, one);
    ck_assert_int_eq(parse_replicas(b, &list, why, sizeof why), 1);
    ck_assert_uint_eq(list.n, SN_REPLICAS_MAX);
    ck_assert_uint_eq(list.over, 1000 - SN_REPLICAS_MAX);
    ck_assert_uint_eq(list.malformed, 0);
}
END_TEST

static int event(const char *channel, const char *payload, struct sn_event *ev)
{
    struct sn_text c = { channel, strlen(channel) }, p = { payload, strlen(payload) };
    return sn_parse_event(c, p, ev);
}

START_TEST(events)
{
    struct sn_event ev;
    ck_assert_int_eq(event("+switch-master", "m1 10.0.0.1 6379 10.0.0.2 6380", &ev), 1);
    ck_assert_int_eq(ev.kind, SN_EV_SWITCH);
    ck_assert_int_eq((int)ev.master.n, 2);
    ck_assert(memcmp(ev.master.s, "m1", 2) == 0);
    ck_assert_str_eq(ev.from.host, "10.0.0.1");
    ck_assert_int_eq(ev.from.port, 6379);
    ck_assert_str_eq(ev.to.host, "10.0.0.2");
    ck_assert_int_eq(ev.to.port, 6380);
    ck_assert_int_eq(event("+sdown", "master m1 10.0.0.1 6379", &ev), 1);
    ck_assert_int_eq(ev.kind, SN_EV_SDOWN);
    ck_assert_int_eq(event("-sdown", "master m1 10.0.0.1 6379", &ev), 1);
    ck_assert_int_eq(ev.kind, SN_EV_SDOWN_OFF);
    ck_assert_int_eq(event("+odown", "master m1 10.0.0.1 6379 #quorum 2/2", &ev), 1);
    ck_assert_int_eq(ev.kind, SN_EV_ODOWN);
    ck_assert_str_eq(ev.from.host, "10.0.0.1");
    ck_assert_int_eq(event("-odown", "master m1 ::1 6379", &ev), 1);
    ck_assert_int_eq(ev.kind, SN_EV_ODOWN_OFF);
    ck_assert_str_eq(ev.from.host, "::1");
    /* about replicas and Sentinels, or another channel: not ours */
    ck_assert_int_eq(event("+sdown", "slave 10.0.0.2:6380 10.0.0.2 6380 @ m1 10.0.0.1 6379", &ev),
                     0);
    ck_assert_int_eq(event("+sdown", "sentinel 0123 10.0.0.9 26379 @ m1 10.0.0.1 6379", &ev), 0);
    ck_assert_int_eq(event("+failover-end", "master m1 10.0.0.1 6379", &ev), 0);
    /* malformed */
    ck_assert_int_eq(event("+switch-master", "m1 10.0.0.1 6379 10.0.0.2", &ev), -1);
    ck_assert_int_eq(event("+switch-master", "m1 10.0.0.1 6379 10.0.0.2 6380 extra", &ev), -1);
    ck_assert_int_eq(event("+switch-master", "m1 10.0.0.1 port 10.0.0.2 6380", &ev), -1);
    ck_assert_int_eq(event("+switch-master", "", &ev), -1);
    ck_assert_int_eq(event("+odown", "master m1 10.0.0.1", &ev), -1);
    ck_assert_int_eq(event("+odown", "master m1 10.0.0.1 99999", &ev), -1);
}
END_TEST

START_TEST(reply_text)
{
    struct framed f;
    struct sn_text t;
    FRAME(&f, "+PONG\r\n");
    ck_assert_int_eq(sn_reply_text(&f.rp, &t), 0);
    ck_assert(t.n == 4 && memcmp(t.s, "PONG", 4) == 0);
    unframe(&f);
    FRAME(&f, "$5\r\nab\r\nc\r\n");
    ck_assert_int_eq(sn_reply_text(&f.rp, &t), 0);
    ck_assert(t.n == 5 && memcmp(t.s, "ab\r\nc", 5) == 0);
    unframe(&f);
    FRAME(&f, "*3\r\n$7\r\nmessage\r\n:12\r\n+x\r\n");
    ck_assert_int_eq(sn_reply_text(&f.rp, &t), -1);
    ck_assert_int_eq(sn_reply_elem(&f.rp, 1, &t), 0);
    ck_assert(t.n == 2 && memcmp(t.s, "12", 2) == 0);
    ck_assert_int_eq(sn_reply_elem(&f.rp, 2, &t), 0);
    ck_assert_int_eq(sn_reply_elem(&f.rp, 3, &t), -1);
    unframe(&f);
}
END_TEST

/* ---- the rule ---- */

#define NLINKS 3
#define NMASTERS 2

static const char POOL[] =
    "ha:\n  listen: 127.0.0.1:22121\n  redis: true\n  sentinels:\n   - 127.0.0.1:26379\n"
    "   - 127.0.0.1:26380\n   - 127.0.0.1:26381\n  servers:\n   - 10.0.0.1:6379:1 m1\n"
    "   - 10.0.0.2:6379:1 m2\n";

/* A client with links that are "up" but have no sockets: the view's requests go nowhere. */
struct fixture {
    struct sp_conf *conf;
    struct sp_sentinel sn;
    struct sn_master masters[NMASTERS];
    struct sn_link links[NLINKS];
    struct sn_answer answers[NLINKS][NMASTERS];
    /* what was reported */
    int nreports;
    struct sp_sentinel_master last;
    char last_host[SN_HOST_MAX];
    char last_sentinel[64];
    int nstates;
    enum sp_sentinel_state state;
    int nreplicas;                 /* on_replicas calls */
};

static void on_master(void *ctx, const struct sp_sentinel_master *m)
{
    struct fixture *fx = ctx;
    fx->nreports++;
    fx->last = *m;
    snprintf(fx->last_host, sizeof fx->last_host, "%s", m->host);
    snprintf(fx->last_sentinel, sizeof fx->last_sentinel, "%s", m->sentinel);
}

static void on_state(void *ctx, size_t server, const char *master, enum sp_sentinel_state state,
                     const char *sentinel)
{
    struct fixture *fx = ctx;
    (void)server;
    (void)master;
    (void)sentinel;
    fx->nstates++;
    fx->state = state;
}

static void on_replicas(void *ctx, size_t server)
{
    struct fixture *fx = ctx;
    (void)server;
    fx->nreplicas++;
}

static struct fixture *setup(void)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[512];
    ck_assert_msg(sp_conf_load_string(POOL, sizeof(POOL) - 1, "t.yml", NULL, NULL, &fx->conf, err,
                                      sizeof err) == 0, "%s", err);
    struct sp_sentinel *sn = &fx->sn;
    sn->pool = &fx->conf->pools[0];
    sn->cb = (struct sp_sentinel_callbacks){ on_master, on_state, fx };
    sn->masters = fx->masters;
    sn->nmasters = NMASTERS;
    sn->links = fx->links;
    sn->nlinks = NLINKS;
    ck_assert_int_eq(sn_view_init(sn), 0);
    sp_sentinel_on_replicas(sn, on_replicas);
    for (size_t i = 0; i < NLINKS; i++) {
        fx->links[i].sn = sn;
        fx->links[i].idx = i;
        fx->links[i].name = sn->pool->sentinels[i].addr.text;
        fx->links[i].up = true;
        fx->links[i].answers = fx->answers[i];
    }
    return fx;
}

static void teardown(struct fixture *fx)
{
    sp_conf_free(fx->conf);
    free(fx);
}

static struct sn_addr addr(const char *host, int port)
{
    struct sn_addr a;
    snprintf(a.host, sizeof a.host, "%s", host);
    a.port = port;
    return a;
}

/* Link `l` answers that master `m` is at host:port with `epoch` (port 0: does not know it). */
static void answer(struct fixture *fx, size_t l, size_t m, const char *host, int port,
                   long long epoch)
{
    struct sn_answer *a = &fx->answers[l][m];
    a->kind = port ? SN_ANSWER_KNOWN : SN_ANSWER_UNKNOWN;
    a->addr = addr(host, port);
    a->epoch = epoch;
    sn_view_answer(&fx->links[l], m);
}

static void link_down(struct fixture *fx, size_t l)
{
    fx->links[l].up = false;
    sn_view_link_down(&fx->links[l]);
}

static void switch_master(struct fixture *fx, size_t l, size_t m, const char *from, int fport,
                          const char *to, int tport)
{
    struct sn_addr a = addr(from, fport), b = addr(to, tport);
    sn_view_switch(&fx->links[l], &fx->masters[m], &a, &b);
}

static void assert_followed(struct fixture *fx, size_t m, const char *host, int port,
                            long long epoch)
{
    const char *h;
    int p;
    long long e;
    ck_assert_int_eq(sp_sentinel_current(&fx->sn, m, &h, &p, &e), 0);
    ck_assert_str_eq(h, host);
    ck_assert_int_eq(p, port);
    ck_assert_int_eq(e, epoch);
}

START_TEST(start_waits_for_a_majority_and_takes_the_newest_epoch)
{
    struct fixture *fx = setup();
    assert_followed(fx, 0, "10.0.0.1", 6379, -1);      /* the YAML's, until decided */
    answer(fx, 0, 0, "10.0.0.1", 6379, 3);             /* a stale Sentinel answers first */
    ck_assert_int_eq(fx->nreports, 0);
    answer(fx, 1, 0, "10.0.0.9", 6379, 5);
    ck_assert_int_eq(fx->nreports, 1);
    ck_assert_int_eq(fx->last.why, SP_SENTINEL_FIRST);
    ck_assert_str_eq(fx->last_host, "10.0.0.9");
    ck_assert_int_eq(fx->last.epoch, 5);
    ck_assert_str_eq(fx->last_sentinel, "127.0.0.1:26380");
    ck_assert_uint_eq(fx->last.server, 0);
    ck_assert_str_eq(fx->last.master, "m1");
    /* the stale one keeps its view: never applied */
    answer(fx, 0, 0, "10.0.0.1", 6379, 3);
    answer(fx, 2, 0, "10.0.0.1", 6379, 3);
    ck_assert_int_eq(fx->nreports, 1);
    assert_followed(fx, 0, "10.0.0.9", 6379, 5);
    /* a first answer equal to the YAML's address is reported too (it is decided now) */
    answer(fx, 0, 1, "10.0.0.2", 6379, 0);
    answer(fx, 1, 1, "10.0.0.2", 6379, 0);
    ck_assert_int_eq(fx->nreports, 2);
    ck_assert_uint_eq(fx->last.server, 1);
    teardown(fx);
}
END_TEST

START_TEST(start_with_sentinels_down_or_not_knowing)
{
    struct fixture *fx = setup();
    answer(fx, 0, 0, "10.0.0.5", 6379, 1);
    link_down(fx, 1);
    ck_assert_int_eq(fx->nreports, 0);                 /* one answer, one Sentinel to go */
    link_down(fx, 2);
    ck_assert_int_eq(fx->nreports, 1);                 /* nobody else left to ask */
    ck_assert_str_eq(fx->last_host, "10.0.0.5");
    /* master 2: every Sentinel says it does not know it: the YAML's address stays */
    fx->links[1].up = fx->links[2].up = true;
    answer(fx, 0, 1, "", 0, 0);
    answer(fx, 1, 1, "", 0, 0);
    answer(fx, 2, 1, "", 0, 0);
    ck_assert_int_eq(fx->nreports, 1);
    assert_followed(fx, 1, "10.0.0.2", 6379, -1);
    answer(fx, 2, 1, "10.0.0.2", 6380, 0);            /* it learnt it */
    ck_assert_int_eq(fx->nreports, 2);
    assert_followed(fx, 1, "10.0.0.2", 6380, 0);
    teardown(fx);
}
END_TEST

START_TEST(switch_then_stale_and_newer_answers)
{
    struct fixture *fx = setup();
    answer(fx, 0, 0, "10.0.0.1", 6379, 4);
    answer(fx, 1, 0, "10.0.0.1", 6379, 4);
    ck_assert_int_eq(fx->nreports, 1);
    switch_master(fx, 2, 0, "10.0.0.1", 6379, "10.0.0.3", 6379);
    ck_assert_int_eq(fx->nreports, 2);
    ck_assert_int_eq(fx->last.why, SP_SENTINEL_SWITCH);
    assert_followed(fx, 0, "10.0.0.3", 6379, 5);      /* one above the old config's epoch */
    /* every other Sentinel announces the same switch: nothing new */
    switch_master(fx, 0, 0, "10.0.0.1", 6379, "10.0.0.3", 6379);
    switch_master(fx, 1, 0, "10.0.0.1", 6379, "10.0.0.3", 6379);
    ck_assert_int_eq(fx->nreports, 2);
    /* a Sentinel that has not heard of it yet answers with the old view */
    answer(fx, 1, 0, "10.0.0.1", 6379, 4);
    ck_assert_int_eq(fx->nreports, 2);
    /* one that did tells the real epoch: learnt, nothing reported */
    answer(fx, 2, 0, "10.0.0.3", 6379, 9);
    assert_followed(fx, 0, "10.0.0.3", 6379, 9);
    ck_assert_int_eq(fx->nreports, 2);
    /* an equal epoch with another address is not newer */
    answer(fx, 0, 0, "10.0.0.4", 6379, 9);
    ck_assert_int_eq(fx->nreports, 2);
    /* a newer epoch is (a switch whose event was lost) */
    answer(fx, 0, 0, "10.0.0.4", 6379, 10);
    ck_assert_int_eq(fx->nreports, 3);
    ck_assert_int_eq(fx->last.why, SP_SENTINEL_NEWER);
    assert_followed(fx, 0, "10.0.0.4", 6379, 10);
    /* a late Sentinel replays an older failover: from an address not followed, only a query */
    switch_master(fx, 1, 0, "10.0.0.1", 6379, "10.0.0.3", 6379);
    ck_assert_int_eq(fx->nreports, 3);
    assert_followed(fx, 0, "10.0.0.4", 6379, 10);
    teardown(fx);
}
END_TEST

START_TEST(switch_before_any_answer)
{
    struct fixture *fx = setup();
    answer(fx, 0, 0, "10.0.0.1", 6379, 2);             /* one answer: not decided yet */
    switch_master(fx, 1, 0, "10.0.0.1", 6379, "10.0.0.7", 6379);
    ck_assert_int_eq(fx->nreports, 1);
    ck_assert_int_eq(fx->last.why, SP_SENTINEL_SWITCH);
    assert_followed(fx, 0, "10.0.0.7", 6379, 3);
    answer(fx, 2, 0, "10.0.0.1", 6379, 2);             /* stale: older than the switch */
    ck_assert_int_eq(fx->nreports, 1);
    teardown(fx);
}
END_TEST

START_TEST(down_states)
{
    struct fixture *fx = setup();
    struct sn_addr at = addr("10.0.0.1", 6379), other = addr("10.0.0.8", 6379);
    struct sn_master *m = &fx->masters[0];
    sn_view_down(&fx->links[0], m, &at, false, true);
    ck_assert_int_eq(fx->state, SP_SENTINEL_SDOWN);
    sn_view_down(&fx->links[1], m, &at, false, true);
    sn_view_down(&fx->links[1], m, &at, true, true);
    ck_assert_int_eq(fx->state, SP_SENTINEL_ODOWN);
    ck_assert_int_eq(fx->nstates, 2);
    sn_view_down(&fx->links[2], m, &other, true, true);  /* not where it is followed */
    ck_assert_int_eq(fx->nstates, 2);
    sn_view_down(&fx->links[1], m, &at, true, false);
    ck_assert_int_eq(fx->state, SP_SENTINEL_SDOWN);
    link_down(fx, 1);
    link_down(fx, 0);                                    /* their views no longer count */
    ck_assert_int_eq(fx->state, SP_SENTINEL_UP);
    fx->links[0].up = fx->links[1].up = true;
    sn_view_down(&fx->links[0], m, &at, true, true);
    ck_assert_int_eq(fx->state, SP_SENTINEL_ODOWN);
    switch_master(fx, 0, 0, "10.0.0.1", 6379, "10.0.0.3", 6379);
    ck_assert_int_eq(fx->state, SP_SENTINEL_UP);         /* a new master */
    teardown(fx);
}
END_TEST

START_TEST(flags_after_a_reconnect)
{
    struct fixture *fx = setup();
    struct sn_answer *a = &fx->answers[0][0];
    a->fresh = true;
    a->next_odown = true;
    answer(fx, 0, 0, "10.0.0.1", 6379, 1);
    fx->answers[1][0].fresh = true;
    answer(fx, 1, 0, "10.0.0.1", 6379, 1);             /* decided: link 0's flags count */
    ck_assert_int_eq(fx->state, SP_SENTINEL_ODOWN);
    a->next_odown = false;                             /* later rounds: events decide */
    answer(fx, 0, 0, "10.0.0.1", 6379, 1);
    ck_assert_int_eq(fx->state, SP_SENTINEL_ODOWN);
    teardown(fx);
}
END_TEST

/* Link `l` answers SENTINEL REPLICAS for master `m`: "host:port:offset:flags" strings, NULL-ended
 * (flags: SN_REPLICA_* bits). */
static void replicas(struct fixture *fx, size_t l, size_t m, const char *const *spec)
{
    struct sn_replicas list = { .n = 0 };
    for (; *spec; spec++) {
        struct sn_replica *r = &list.r[list.n++];
        unsigned flags;
        ck_assert_int_eq(sscanf(*spec, "%255[^:]:%d:%lld:%u", r->addr.host, &r->addr.port,
                                &r->offset, &flags), 4);
        r->flags = flags;
    }
    sn_view_replicas(&fx->links[l], m, &list);
}

/* The replica chosen for master m is host:port (port 0: none). */
static void assert_replica(struct fixture *fx, size_t m, const char *host, int port)
{
    const char *h;
    int p;
    if (port == 0) {
        ck_assert_int_eq(sp_sentinel_replica(&fx->sn, m, &h, &p), -1);
        return;
    }
    ck_assert_int_eq(sp_sentinel_replica(&fx->sn, m, &h, &p), 0);
    ck_assert_str_eq(h, host);
    ck_assert_int_eq(p, port);
}

START_TEST(replica_choice)
{
    struct fixture *fx = setup();
    static const char *const first[] = {
        "10.0.1.1:6379:10:0", "10.0.1.2:6379:20:0",
        "10.0.0.1:6379:90:0",                         /* the master itself (a stale entry) */
        "10.0.1.3:6379:40:1", "10.0.1.4:6379:40:2", "10.0.1.5:6379:40:4",  /* down, unlinked */
        "10.0.1.6:6379:40:8",                         /* a master (an old one, back) */
        NULL };
    /* undecided: nothing chosen yet */
    answer(fx, 0, 0, "10.0.0.1", 6379, 1);
    replicas(fx, 0, 0, first);
    assert_replica(fx, 0, NULL, 0);
    ck_assert_int_eq(fx->nreplicas, 0);
    answer(fx, 1, 0, "10.0.0.1", 6379, 1);             /* decided: link 0's list counts */
    assert_replica(fx, 0, "10.0.1.2", 6379);
    ck_assert_int_eq(fx->nreplicas, 1);
    replicas(fx, 0, 0, first);                         /* the same again: no news */
    ck_assert_int_eq(fx->nreplicas, 1);
    /* a stale Sentinel's list does not count, however fresh */
    static const char *const stale[] = { "10.0.9.9:6379:99:0", NULL };
    answer(fx, 2, 0, "10.0.0.7", 6379, 0);
    replicas(fx, 2, 0, stale);
    assert_replica(fx, 0, "10.0.1.2", 6379);
    /* while the master is up the choice stays while fit, though another is ahead now */
    static const char *const ahead[] = { "10.0.1.1:6379:30:0", "10.0.1.2:6379:25:0", NULL };
    replicas(fx, 1, 0, ahead);
    assert_replica(fx, 0, "10.0.1.2", 6379);
    ck_assert_int_eq(fx->nreplicas, 1);
    /* down: the freshest data wins */
    struct sn_addr at = addr("10.0.0.1", 6379);
    sn_view_down(&fx->links[1], &fx->masters[0], &at, false, true);
    assert_replica(fx, 0, "10.0.1.1", 6379);
    ck_assert_int_eq(fx->nreplicas, 2);
    /* ties: the lower address, whatever the order */
    static const char *const tie[] = { "10.0.1.9:6379:30:0", "10.0.1.1:6380:30:0",
                                       "10.0.1.1:6379:30:1", NULL };
    replicas(fx, 0, 0, tie);
    assert_replica(fx, 0, "10.0.1.1", 6380);
    /* the Sentinel that gave it goes away: the other agreeing list counts again */
    link_down(fx, 0);
    assert_replica(fx, 0, "10.0.1.1", 6379);
    ck_assert_int_eq(fx->nreplicas, 4);
    link_down(fx, 1);
    assert_replica(fx, 0, NULL, 0);                    /* no agreeing list left */
    ck_assert_int_eq(fx->nreplicas, 5);
    ck_assert_int_eq(sp_sentinel_replica(&fx->sn, NMASTERS, &(const char *){ NULL }, &(int){ 0 }),
                     -1);
    teardown(fx);
}
END_TEST

START_TEST(replica_after_a_switch)
{
    struct fixture *fx = setup();
    static const char *const before[] = { "10.0.1.1:6379:10:0", NULL };
    answer(fx, 0, 0, "10.0.0.1", 6379, 1);
    answer(fx, 1, 0, "10.0.0.1", 6379, 1);
    replicas(fx, 0, 0, before);
    assert_replica(fx, 0, "10.0.1.1", 6379);
    /* the replica is promoted: never read from "the replica" that is the master now */
    switch_master(fx, 1, 0, "10.0.0.1", 6379, "10.0.1.1", 6379);
    assert_replica(fx, 0, NULL, 0);
    ck_assert_int_eq(fx->nreplicas, 2);
    /* a late Sentinel still lists it as a replica of the old master: ignored */
    answer(fx, 2, 0, "10.0.0.1", 6379, 1);
    replicas(fx, 2, 0, before);
    assert_replica(fx, 0, NULL, 0);
    /* the new master's list: the old master is away (disconnected), then back as a replica */
    static const char *const after[] = { "10.0.0.1:6379:0:4", NULL };
    static const char *const back[] = { "10.0.0.1:6379:5:0", NULL };
    answer(fx, 0, 0, "10.0.1.1", 6379, 2);
    replicas(fx, 0, 0, after);
    assert_replica(fx, 0, NULL, 0);
    ck_assert_int_eq(fx->nreplicas, 2);
    replicas(fx, 0, 0, back);
    assert_replica(fx, 0, "10.0.0.1", 6379);
    ck_assert_int_eq(fx->nreplicas, 3);
    teardown(fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sentinel");
    TCase *tm = tcase_create("messages");
    tcase_add_test(tm, addr_replies);
    tcase_add_test(tm, master_replies);
    tcase_add_test(tm, events);
    tcase_add_test(tm, reply_text);
    tcase_add_test(tm, replicas_replies);
    tcase_add_test(tm, replicas_malformed_entries);
    tcase_add_test(tm, replicas_huge_list);
    suite_add_tcase(s, tm);
    TCase *tv = tcase_create("view");
    tcase_add_test(tv, start_waits_for_a_majority_and_takes_the_newest_epoch);
    tcase_add_test(tv, start_with_sentinels_down_or_not_knowing);
    tcase_add_test(tv, switch_then_stale_and_newer_answers);
    tcase_add_test(tv, switch_before_any_answer);
    tcase_add_test(tv, down_states);
    tcase_add_test(tv, flags_after_a_reconnect);
    tcase_add_test(tv, replica_choice);
    tcase_add_test(tv, replica_after_a_switch);
    suite_add_tcase(s, tv);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
