/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the Sentinel client, shared by the files of proxy/sentinel only.
 *
 *   sentinel.c       the client: life cycle, options, the periodic re-ask
 *   sentinel_view.c  what the client believes about each master, and the rule that updates it
 *   sentinel_link.c  one Sentinel: two connections, what is sent, what is owed, timeouts, backoff
 *   sentinel_msg.c   RESP replies and pub/sub payloads, decoded
 */
#ifndef SP_SENTINEL_INT_H
#define SP_SENTINEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "redis/resp.h"
#include "sentinel/sentinel.h"

/* Longest host name in an address Sentinel reports (a DNS name is at most 253 bytes). */
#define SN_HOST_MAX 256

/* The channels subscribed on every Sentinel. */
#define SN_CHANNELS(X) X("+switch-master") X("+sdown") X("-sdown") X("+odown") X("-odown")

struct sn_addr {
    char host[SN_HOST_MAX];
    int port;
};

/* Bytes with a length: a field of a reply or an event, valid while its reply is handled. */
struct sn_text {
    const char *s;
    size_t n;
};

/* Replicas kept per master from one answer; the rest are counted, not kept (Sentinel lists every
 * replica it ever saw of a master: 16 is far above any real set-up). */
#define SN_REPLICAS_MAX 16

/* What makes a replica unfit to read from: its flags s_down, o_down, disconnected, a
 * role-reported other than "slave" (an old master back up, not yet turned into a replica: it
 * may be empty), and a master-host of "?": Sentinel has not yet heard from it what it
 * replicates (a failover lists the dead old master as a replica of the new one at once, and
 * for a few ms, until its first reconnection fails, without the disconnected flag).  Not
 * master-link-status: it is "err" exactly while the master is down, which is when a replica is
 * wanted. */
enum {
    SN_REPLICA_SDOWN = 1, SN_REPLICA_ODOWN = 2, SN_REPLICA_DISCONNECTED = 4, SN_REPLICA_MASTER = 8,
    SN_REPLICA_UNSEEN = 16
};

struct sn_replica {
    struct sn_addr addr;
    unsigned flags;            /* SN_REPLICA_*: any one makes it unfit */
    long long offset;          /* slave-repl-offset; -1 when not given */
};

/* One SENTINEL REPLICAS answer: its first SN_REPLICAS_MAX well-formed entries. */
struct sn_replicas {
    struct sn_replica r[SN_REPLICAS_MAX];
    size_t n;
    size_t over;               /* well-formed or not, beyond the limit */
    size_t malformed;          /* not a key/value array with ip and port */
};

/* One Sentinel's latest answer about one master. */
enum sn_answer_kind { SN_ANSWER_NONE, SN_ANSWER_KNOWN, SN_ANSWER_UNKNOWN };

struct sn_answer {
    enum sn_answer_kind kind;
    struct sn_addr addr;       /* kind KNOWN: where it says the master is, and its epoch */
    long long epoch;
    struct sn_addr next;       /* this round's address, until its epoch (SENTINEL MASTER) comes */
    bool have_addr;            /* `next` (or "unknown") arrived this round */
    bool next_known;
    bool logged_unknown;       /* "does not know" was logged: say it again only after it knew */
    bool logged_stale;         /* "stale view ignored" was logged for the current disagreement */
    bool fresh;                /* no answer yet on this connection: take its down flags */
    bool next_sdown;           /* this round's SENTINEL MASTER flags */
    bool next_odown;
    bool sdown;                /* this Sentinel sees the master down (+sdown, or its flags) */
    bool odown;                /* ... and agreed with the others (+odown) */
    struct sn_replicas replicas;  /* its latest SENTINEL REPLICAS answer, */
    struct sn_addr replicas_of;   /* ... given while it said the master was here (port 0: */
    uint64_t replicas_seq;        /* ... did not know), and when (sp_sentinel.seq; 0: none) */
    bool logged_dropped;       /* "replicas ignored" was logged (again only after a clean list) */
};

/* What the client believes about one master (one server of the pool). */
struct sn_master {
    size_t server;
    const char *name;          /* the server's name (the pool config's) */
    const char *master;        /* its Sentinel master name (ditto) */
    struct sn_addr addr;       /* followed now: the YAML's until decided */
    long long epoch;           /* -1: not known */
    bool decided;
    bool logged_nobody;        /* "no Sentinel knows it" was logged (once until decided) */
    enum sp_sentinel_state state;
    struct sn_addr replica;    /* chosen for reads (sp_sentinel_replica); port 0: none */
};

/* What a reply on the command connection answers. */
enum sn_expect {
    SN_EXPECT_AUTH, SN_EXPECT_ADDR, SN_EXPECT_INFO, SN_EXPECT_REPLICAS, SN_EXPECT_SLAVES,
    SN_EXPECT_PING
};

struct sn_owed {
    uint8_t kind;              /* enum sn_expect */
    uint32_t master;
};

struct sn_link;

/* One connection to a Sentinel. */
struct sn_conn {
    struct bufferevent *bev;   /* NULL: closed */
    struct sp_resp_reply parser;
    struct sn_link *link;
    bool sub;                  /* the subscribed one */
    struct sn_owed *owed;      /* command connection: replies owed, in order */
    size_t head, nowed, cap;
    size_t sub_owed;           /* subscribed connection: non-message replies owed */
};

/* One Sentinel of the pool. */
struct sn_link {
    struct sp_sentinel *sn;
    size_t idx;
    const char *name;          /* "host:port" as configured */
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool up;                   /* connections exist (connecting or answering) */
    bool answered;             /* a reply came since they were opened */
    bool requery;              /* a query round is wanted once the current one is answered */
    bool said_down;            /* its failure was logged (repeats are quieter) */
    bool slaves;               /* it refused SENTINEL REPLICAS: ask SENTINEL SLAVES (Redis < 5) */
    bool logged_replicas;      /* a replicas answer it failed was logged on this connection */
    int backoff_ms;
    struct event *timer;       /* up: the answer deadline; down: the reconnect */
    struct sn_conn cmd, sub;
    struct sn_answer *answers; /* [nmasters] */
};

struct sp_sentinel {
    struct event_base *base;
    const struct sp_conf_pool *pool;
    struct sp_sentinel_callbacks cb;
    struct sp_sentinel_options opt;
    struct sn_master *masters;
    size_t nmasters;
    struct sn_link *links;
    size_t nlinks;
    struct event *tick;        /* the periodic re-ask */
    void (*on_replicas)(void *ctx, size_t server);  /* sp_sentinel_on_replicas */
    uint64_t seq;              /* replicas answers so far: their order of arrival */
};

/* ---- sentinel_link.c ---- */

/* Sets up link `i` of `sn` (nothing connects yet).  0, or -1 with err set. */
int sn_link_init(struct sp_sentinel *sn, size_t i, char *err, size_t errlen);

/* Closes the link's connections and frees what it holds. */
void sn_link_fini(struct sn_link *l);

/* Opens both connections and sends the first queries; on failure schedules a reconnect. */
void sn_link_connect(struct sn_link *l);

/* Asks every master's address, epoch and replicas (and pings the subscribed connection); if a
 * round is still owed, asks again once it is answered. */
void sn_link_query(struct sn_link *l);

/* ---- sentinel_view.c ---- */

/* Fills the masters from the pool config (YAML addresses, epochs unknown).  0 or -1 (OOM). */
int sn_view_init(struct sp_sentinel *sn);

/* The master called `name`, or NULL (Sentinels watch other masters too). */
struct sn_master *sn_view_find(struct sp_sentinel *sn, const char *name, size_t len);

/* Link `l` answered for master `m` (l->answers[m] is filled): apply the rule. */
void sn_view_answer(struct sn_link *l, size_t m);

/* Link `l` went down: its answers and its sdown reports no longer count. */
void sn_view_link_down(struct sn_link *l);

/* A +switch-master event from link `l`. */
void sn_view_switch(struct sn_link *l, struct sn_master *m, const struct sn_addr *from,
                    const struct sn_addr *to);

/* A +sdown/-sdown (odown false) or +odown/-odown (odown true) event of master `m` at `at`. */
void sn_view_down(struct sn_link *l, struct sn_master *m, const struct sn_addr *at, bool odown,
                  bool on);

/* Link `l` answered SENTINEL REPLICAS for master `m`: keeps `list`, chooses again. */
void sn_view_replicas(struct sn_link *l, size_t m, const struct sn_replicas *list);

/* Chooses master `m`'s replica for reads again (sentinel.h); on a change logs it and calls
 * on_replicas. */
void sn_view_choose_replica(struct sp_sentinel *sn, struct sn_master *m);

/* Asks every link for a fresh round (used when an event does not fit what we know). */
void sn_view_requery(struct sp_sentinel *sn);

/* ---- sentinel_msg.c ---- */

/* A framed reply, pulled up into contiguous bytes. */
struct sn_reply {
    const struct sp_resp_reply *r;
    const char *p;
};

/* The text of a status, error or bulk reply; -1 for anything else (nil, integer, array). */
int sn_reply_text(const struct sn_reply *rp, struct sn_text *out);

/* Element i of an array reply as text (bulk, status or integer); -1 for nil or a nested array. */
int sn_reply_elem(const struct sn_reply *rp, size_t i, struct sn_text *out);

/* SENTINEL get-master-addr-by-name: 1 with *out filled, 0 when the master is unknown (nil),
 * -1 when the reply is not one (an error: its text in *why). */
int sn_parse_addr(const struct sn_reply *rp, struct sn_addr *out, struct sn_text *why);

/* What SENTINEL MASTER says that the client uses. */
struct sn_info {
    long long epoch;           /* config-epoch */
    bool sdown;                /* "s_down" in its flags */
    bool odown;                /* "o_down" in its flags */
};

/* SENTINEL MASTER: 1 with *out set, 0 for an unknown master, -1 otherwise (text in *why). */
int sn_parse_info(const struct sn_reply *rp, struct sn_info *out, struct sn_text *why);

/*
 * SENTINEL REPLICAS (or SLAVES): 1 with *out filled (entries over the limit or malformed are
 * counted in it, not kept), 0 for an unknown master, -1 when the reply is not a list (an error:
 * its text in *why).
 */
int sn_parse_replicas(const struct sn_reply *rp, struct sn_replicas *out, struct sn_text *why);

/* A pub/sub event's payload. */
enum sn_event_kind { SN_EV_SWITCH, SN_EV_SDOWN, SN_EV_SDOWN_OFF, SN_EV_ODOWN, SN_EV_ODOWN_OFF };

struct sn_event {
    enum sn_event_kind kind;
    struct sn_text master;
    struct sn_addr from;       /* switch: the old address; down events: the instance's */
    struct sn_addr to;         /* switch: the new address */
};

/*
 * Decodes a message on `channel` with `payload`.  1 when it is an event about a master, 0 when
 * it is about something else (a replica, another channel), -1 when malformed.
 */
int sn_parse_event(struct sn_text channel, struct sn_text payload, struct sn_event *ev);

/* Same address? */
bool sn_addr_eq(const struct sn_addr *a, const struct sn_addr *b);

#endif /* SP_SENTINEL_INT_H */
