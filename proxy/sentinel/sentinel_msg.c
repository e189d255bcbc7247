/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What Sentinels send, decoded: the replies to the client's few commands and the payloads of the
 * events it subscribes to.  Replies arrive framed by the RESP reply parser (redis/resp.h) with
 * their top-level elements located; they are small, so they are read from a pulled-up copy.
 * SENTINEL REPLICAS nests one level deeper (an array of flat key/value arrays): its entries are
 * walked here, value by value, within the bytes the framer located.
 *
 * Event payloads (Sentinel's sentinelEvent format, fields separated by single spaces):
 *   +switch-master  <master> <old-ip> <old-port> <new-ip> <new-port>
 *   +sdown, -sdown, +odown, -odown
 *                   <type> <name> <ip> <port> [@ <master> <ip> <port>] [#quorum n/q]
 * where <type> is "master" for a master (then no "@" part) and "slave"/"sentinel" otherwise.
 */
#include "config.h"

#include <string.h>

#include "sentinel/sentinel_int.h"

/* Parses decimal digits (optional '-') of t into *out within [min, max].  0 or -1. */
static int text_ll(struct sn_text t, long long min, long long max, long long *out)
{
    size_t i = 0;
    bool neg = t.n > 0 && t.s[0] == '-';
    long long v = 0;

    if (neg)
        i++;
    if (i == t.n || t.n - i > 18)
        return -1;
    for (; i < t.n; i++) {
        if (t.s[i] < '0' || t.s[i] > '9')
            return -1;
        v = v * 10 + (t.s[i] - '0');
    }
    v = neg ? -v : v;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static bool text_is(struct sn_text t, const char *s)
{
    size_t n = strlen(s);
    return t.n == n && memcmp(t.s, s, n) == 0;
}

/* The text of one encoded value at p[0..len): a line type's line, a bulk's body.  0 or -1. */
static int value_text(const char *p, size_t len, struct sn_text *out)
{
    const char *eol = memchr(p, '\r', len);

    if (len < 3 || !eol)
        return -1;
    switch (p[0]) {
    case '+':
    case '-':
    case ':':
        out->s = p + 1;
        out->n = (size_t)(eol - p - 1);
        return 0;
    case '$': {
        struct sn_text hdr = { p + 1, (size_t)(eol - p - 1) };
        long long n;
        size_t body = (size_t)(eol - p) + 2;
        if (text_ll(hdr, 0, (long long)len, &n) != 0 || body + (size_t)n + 2 > len)
            return -1;  /* nil (-1) or malformed */
        out->s = p + body;
        out->n = (size_t)n;
        return 0;
    }
    default:
        return -1;
    }
}

int sn_reply_text(const struct sn_reply *rp, struct sn_text *out)
{
    if (rp->r->type == SP_RESP_ARRAY)
        return -1;
    return value_text(rp->p, rp->r->len, out);
}

int sn_reply_elem(const struct sn_reply *rp, size_t i, struct sn_text *out)
{
    if (rp->r->type != SP_RESP_ARRAY || i >= rp->r->nelems)
        return -1;
    return value_text(rp->p + rp->r->elems[i].off, rp->r->elems[i].len, out);
}

/* Fills an address from host and port texts.  0 or -1. */
static int addr_of(struct sn_text host, struct sn_text port, struct sn_addr *out)
{
    long long p;

    if (host.n == 0 || host.n >= SN_HOST_MAX || memchr(host.s, '\0', host.n) ||
        text_ll(port, 1, 65535, &p) != 0)
        return -1;
    memcpy(out->host, host.s, host.n);
    out->host[host.n] = '\0';
    out->port = (int)p;
    return 0;
}

/* Is this a nil reply ("*-1" or "$-1")? */
static bool is_nil(const struct sn_reply *rp)
{
    return (rp->r->type == SP_RESP_ARRAY || rp->r->type == SP_RESP_BULK) && rp->r->integer < 0;
}

/* An error reply: -1 with its text in *why (or "unexpected reply" for another shape). */
static int not_an_answer(const struct sn_reply *rp, struct sn_text *why)
{
    static const char unexpected[] = "unexpected reply";

    if (!rp->r->is_error || sn_reply_text(rp, why) != 0) {
        why->s = unexpected;
        why->n = sizeof(unexpected) - 1;
    }
    return -1;
}

int sn_parse_addr(const struct sn_reply *rp, struct sn_addr *out, struct sn_text *why)
{
    struct sn_text host, port;

    if (is_nil(rp))
        return 0;
    if (rp->r->type != SP_RESP_ARRAY || rp->r->nelems != 2 || sn_reply_elem(rp, 0, &host) != 0 ||
        sn_reply_elem(rp, 1, &port) != 0 || addr_of(host, port, out) != 0)
        return not_an_answer(rp, why);
    return 1;
}

/* Is `flag` one of the comma-separated flags in t? */
static bool has_flag(struct sn_text t, const char *flag)
{
    size_t n = strlen(flag);

    for (const char *p = t.s, *end = t.s + t.n; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if ((size_t)(stop - p) == n && memcmp(p, flag, n) == 0)
            return true;
        p = stop + 1;
    }
    return false;
}

/* Is this Sentinel's answer for a master it does not watch (its text then in *why)? */
static bool unknown_master(const struct sn_reply *rp, struct sn_text *why)
{
    return rp->r->is_error && sn_reply_text(rp, why) == 0 &&
           memmem(why->s, why->n, "No such master", 14) != NULL;
}

int sn_parse_info(const struct sn_reply *rp, struct sn_info *out, struct sn_text *why)
{
    struct sn_text k, v;
    bool epoch = false;

    if (unknown_master(rp, why))
        return 0;
    if (rp->r->type != SP_RESP_ARRAY)
        return not_an_answer(rp, why);
    out->sdown = out->odown = false;
    for (size_t i = 0; i + 1 < rp->r->nelems; i += 2) {
        if (sn_reply_elem(rp, i, &k) != 0 || sn_reply_elem(rp, i + 1, &v) != 0)
            continue;
        if (text_is(k, "config-epoch")) {
            epoch = text_ll(v, 0, INT64_MAX, &out->epoch) == 0;
        } else if (text_is(k, "flags")) {
            out->sdown = has_flag(v, "s_down");
            out->odown = has_flag(v, "o_down");
        }
    }
    return epoch ? 1 : not_an_answer(rp, why);
}

/*
 * One replica of a SENTINEL REPLICAS answer: the encoded flat key/value array at p[0..len).
 * Fields may come in any order, unknown ones are skipped; ip and port are required.  0, or -1
 * when it is not such an array (another type, an odd length, a nested value, no address).
 */
static int parse_replica(const char *p, size_t len, struct sn_replica *out)
{
    const char *eol = memchr(p, '\r', len), *end = p + len;
    struct sn_text ip = { "", 0 }, port = { "", 0 }, k, v;
    long long n, offset;

    if (len < 4 || p[0] != '*' || !eol ||
        text_ll((struct sn_text){ p + 1, (size_t)(eol - p - 1) }, 0, (long long)len, &n) != 0 ||
        n % 2 != 0)
        return -1;
    out->flags = 0;
    out->offset = -1;
    p = eol + 2;
    for (long long i = 0; i < n; i += 2) {
        if (p >= end || value_text(p, (size_t)(end - p), &k) != 0)
            return -1;
        p = k.s + k.n + 2;  /* a value ends with CRLF right after its text */
        if (p >= end || value_text(p, (size_t)(end - p), &v) != 0)
            return -1;
        p = v.s + v.n + 2;
        if (text_is(k, "ip")) {
            ip = v;
        } else if (text_is(k, "port")) {
            port = v;
        } else if (text_is(k, "flags")) {
            out->flags |= (has_flag(v, "s_down") ? SN_REPLICA_SDOWN : 0) |
                         (has_flag(v, "o_down") ? SN_REPLICA_ODOWN : 0) |
                         (has_flag(v, "disconnected") ? SN_REPLICA_DISCONNECTED : 0);
        } else if (text_is(k, "role-reported") && !text_is(v, "slave")) {
            out->flags |= SN_REPLICA_MASTER;
        } else if (text_is(k, "master-host") && text_is(v, "?")) {
            out->flags |= SN_REPLICA_UNSEEN;
        } else if (text_is(k, "slave-repl-offset") &&
                   text_ll(v, 0, INT64_MAX, &offset) == 0) {
            out->offset = offset;
        }
    }
    return addr_of(ip, port, &out->addr);
}

int sn_parse_replicas(const struct sn_reply *rp, struct sn_replicas *out, struct sn_text *why)
{
    out->n = out->over = out->malformed = 0;
    if (unknown_master(rp, why))
        return 0;
    if (rp->r->type != SP_RESP_ARRAY || is_nil(rp))
        return not_an_answer(rp, why);
    for (size_t i = 0; i < rp->r->nelems; i++) {
        if (out->n == SN_REPLICAS_MAX)
            out->over++;
        else if (parse_replica(rp->p + rp->r->elems[i].off, rp->r->elems[i].len,
                               &out->r[out->n]) == 0)
            out->n++;
        else
            out->malformed++;
    }
    return 1;
}

/* Splits t at single spaces into at most max fields; returns how many. */
static size_t split_fields(struct sn_text t, struct sn_text *f, size_t max)
{
    size_t n = 0;
    const char *p = t.s, *end = t.s + t.n;

    while (p < end && n < max) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *stop = sp ? sp : end;
        f[n].s = p;
        f[n].n = (size_t)(stop - p);
        n++;
        p = sp ? sp + 1 : end;
    }
    return n;
}

int sn_parse_event(struct sn_text channel, struct sn_text payload, struct sn_event *ev)
{
    static const struct {
        const char *name;
        enum sn_event_kind kind;
    } channels[] = {
        { "+switch-master", SN_EV_SWITCH }, { "+sdown", SN_EV_SDOWN },
        { "-sdown", SN_EV_SDOWN_OFF },      { "+odown", SN_EV_ODOWN },
        { "-odown", SN_EV_ODOWN_OFF },
    };
    struct sn_text f[6];
    size_t i, n = split_fields(payload, f, 6);

    for (i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
        if (text_is(channel, channels[i].name))
            break;
    }
    if (i == sizeof(channels) / sizeof(channels[0]))
        return 0;
    ev->kind = channels[i].kind;
    if (ev->kind == SN_EV_SWITCH) {
        if (n != 5 || addr_of(f[1], f[2], &ev->from) != 0 || addr_of(f[3], f[4], &ev->to) != 0)
            return -1;
        ev->master = f[0];
        return 1;
    }
    if (n < 4)
        return -1;
    if (!text_is(f[0], "master"))
        return 0;
    ev->master = f[1];
    return addr_of(f[2], f[3], &ev->from) == 0 ? 1 : -1;
}

bool sn_addr_eq(const struct sn_addr *a, const struct sn_addr *b)
{
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}
