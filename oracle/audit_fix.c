/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit --fix: misplaced keys go to their owner with MIGRATE, in batches, at most --rate keys a
 * second.  MIGRATE copies each key with RESTORE and deletes the source copy only when RESTORE
 * succeeded; without REPLACE, RESTORE refuses a key the owner already has (BUSYKEY).  So the
 * owner's copy always wins, nothing is overwritten and nothing is lost: a conflict or a failure
 * leaves the source copy where it was.
 *
 * One MIGRATE answers with the first error of its batch only, having moved every key it could;
 * the batch is then retried key by key to learn each key's fate (a key the batch moved is no
 * longer on the source: NOKEY).  A key gone before its MIGRATE (NOKEY: a proxy moved it) is
 * counted apart.  An I/O error whose destination does not answer PING stops the run.
 *
 * `shardoracle migrate` moves with the same code: only the choice of the keys differs.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"

/* Keys queued for one destination. */
struct batch {
    unsigned char **key;
    size_t *len;
    size_t n;
};

struct sp_audit_fixer {
    const struct sp_audit_opts *opt;
    size_t batch;                /* keys per MIGRATE: --batch, at most --rate */
    struct batch *to;            /* per destination server */
    size_t nto;
    size_t from;                 /* the server the queued keys are on */
    double tokens, last;         /* the --rate token bucket */
};

struct sp_audit_fixer *sp_audit_fixer_new(const struct sp_audit *a)
{
    struct sp_audit_fixer *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->opt = &a->opt;
    f->batch = a->opt.batch;
    if (a->opt.rate && a->opt.rate < f->batch)
        f->batch = a->opt.rate;   /* a batch bigger than a second's worth would burst */
    f->tokens = (double)f->batch;
    f->last = sp_oracle_now();
    return f;
}

static void batch_clear(struct batch *b)
{
    for (size_t k = 0; k < b->n; k++)
        free(b->key[k]);
    b->n = 0;
}

void sp_audit_fixer_free(struct sp_audit_fixer *f)
{
    if (!f)
        return;
    for (size_t j = 0; j < f->nto; j++) {
        batch_clear(&f->to[j]);
        free(f->to[j].key);
        free(f->to[j].len);
    }
    free(f->to);
    free(f);
}

/* Waits until n keys may be moved under --rate. */
static void take_tokens(struct sp_audit_fixer *f, size_t n)
{
    if (!f->opt->rate)
        return;
    double rate = (double)f->opt->rate, t = sp_oracle_now();
    f->tokens += (t - f->last) * rate;
    if (f->tokens > (double)f->batch)
        f->tokens = (double)f->batch;
    f->last = t;
    if (f->tokens >= (double)n) {
        f->tokens -= (double)n;
        return;
    }
    double wait = ((double)n - f->tokens) / rate;
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
    f->tokens = 0;
    f->last = sp_oracle_now();
}

/* Records a key left behind: a conflict (why NULL) or a failure.  Out of memory loses the
 * record, not the count. */
static void add_issue(struct sp_audit_pool *ap, size_t from, size_t to, const unsigned char *key,
                      size_t len, const char *why)
{
    struct sp_audit_flow *flow = &ap->flows[from * ap->n + to];
    if (why)
        flow->failed++;
    else
        flow->conflicts++;
    if (ap->nissues == ap->issues_cap) {
        size_t cap = ap->issues_cap ? 2 * ap->issues_cap : 16;
        struct sp_audit_issue *grown = realloc(ap->issues, cap * sizeof *grown);
        if (!grown)
            return;
        ap->issues = grown;
        ap->issues_cap = cap;
    }
    struct sp_audit_issue *is = &ap->issues[ap->nissues];
    is->from = from;
    is->to = to;
    is->len = len;
    is->key = malloc(len ? len : 1);
    is->why = why ? strdup(why) : NULL;
    if (!is->key || (why && !is->why)) {
        free(is->key);
        free(is->why);
        return;
    }
    memcpy(is->key, key, len);
    ap->nissues++;
}

/*
 * Sends MIGRATE for keys[0..n) from `from` to `to` and reads its answer into *r.  0, or -1 with
 * why set when the source's connection failed.
 */
static int send_migrate(const struct sp_audit_fixer *f, struct sp_audit_pool *ap, size_t from,
                        size_t to, unsigned char *const *keys, const size_t *lens, size_t n,
                        struct sp_rc_reply **r, char *why, size_t len)
{
    const struct sp_audit_server *dst = &ap->servers[to];
    char port[16], db[24], timeout[24];
    snprintf(port, sizeof port, "%d", dst->port);
    snprintf(db, sizeof db, "%d", ap->pool->redis_db);
    snprintf(timeout, sizeof timeout, "%d", f->opt->timeout_ms);
    const char *head[] = {"MIGRATE", dst->host, port, "", db, timeout, "AUTH",
                          ap->pool->redis_auth, "KEYS"};
    size_t nhead = 9;
    const char **argv = malloc((nhead + n) * sizeof *argv);
    size_t *argvlen = malloc((nhead + n) * sizeof *argvlen);
    int rc = -1;
    if (!argv || !argvlen) {
        snprintf(why, len, "out of memory");
        goto out;
    }
    if (!ap->pool->redis_auth) {
        head[6] = "KEYS";   /* no AUTH pair */
        nhead = 7;
    }
    for (size_t k = 0; k < nhead; k++) {
        argv[k] = head[k];
        argvlen[k] = strlen(head[k]);
    }
    for (size_t k = 0; k < n; k++) {
        argv[nhead + k] = (const char *)keys[k];
        argvlen[nhead + k] = lens[k];
    }
    struct sp_rc *c = ap->servers[from].conn;
    /* MIGRATE's timeout bounds each of its own waits on the destination (one per key, and the
     * connect, AUTH and SELECT): wait for all of them, and one more. */
    long long wait = (long long)f->opt->timeout_ms * (long long)(n + 4);
    sp_rc_set_timeout(c, wait > INT_MAX ? INT_MAX : (int)wait);
    char io[512];
    rc = sp_rc_command(c, nhead + n, argv, argvlen, r, io, sizeof io);
    sp_rc_set_timeout(c, f->opt->timeout_ms);
    if (rc < 0)
        snprintf(why, len, "MIGRATE: %s", io);
out:
    free(argv);
    free(argvlen);
    return rc;
}

/* The fate of one key MIGRATE answered for on its own (after_batch: a batch was tried first). */
static void one_key_fate(struct sp_audit_pool *ap, size_t from, size_t to,
                         const unsigned char *key, size_t len, const struct sp_rc_reply *r,
                         bool after_batch)
{
    struct sp_audit_flow *flow = &ap->flows[from * ap->n + to];
    if (r->type == SP_RC_STATUS && strcmp(r->str, "NOKEY") != 0)
        flow->moved++;
    else if (r->type == SP_RC_STATUS && after_batch)
        flow->moved++;   /* gone: the batch moved it (or a client deleted it) */
    else if (r->type == SP_RC_STATUS)
        flow->nokey++;   /* gone before: a proxy moved it (or a client deleted it) */
    else if (r->type == SP_RC_ERROR && strstr(r->str, "BUSYKEY"))
        add_issue(ap, from, to, key, len, NULL);
    else
        add_issue(ap, from, to, key, len, r->type == SP_RC_ERROR ? r->str : "unexpected reply");
}

/*
 * After MIGRATE answered an I/O error: is the destination itself down?  Then going on would fail
 * every key (each after a timeout): -1 with why set, so the run stops.  0 when it answers.
 */
static int check_destination(struct sp_audit_pool *ap, size_t to, const struct sp_rc_reply *r,
                             char *why, size_t len)
{
    static const char *const ping[] = {"PING"};
    struct sp_rc_reply *pong = NULL;
    char io[512], label[600];

    if (r->type != SP_RC_ERROR || !strstr(r->str, "IOERR"))
        return 0;
    int rc = sp_rc_command(ap->servers[to].conn, 1, ping, NULL, &pong, io, sizeof io);
    sp_rc_reply_free(pong);
    if (rc == 0)
        return 0;
    snprintf(why, len, "MIGRATE: %s; the destination server %s cannot be reached (%s)", r->str,
             sp_audit_server_label(&ap->servers[to], label, sizeof label), io);
    return -1;
}

/* Moves keys[0..n) of `from` to `to`.  0, or -1 with why set (the source or the destination
 * failed). */
static int migrate(struct sp_audit_fixer *f, struct sp_audit_pool *ap, size_t from, size_t to,
                   struct batch *b, char *why, size_t len)
{
    struct sp_rc_reply *r = NULL;
    const struct sp_audit_server *dst = &ap->servers[to];
    if (dst->port == 0) {
        snprintf(why, len, "MIGRATE cannot reach a unix socket (%s)", dst->addr);
        for (size_t k = 0; k < b->n; k++)
            add_issue(ap, from, to, b->key[k], b->len[k], why);
        return 0;
    }
    take_tokens(f, b->n);
    if (send_migrate(f, ap, from, to, b->key, b->len, b->n, &r, why, len) < 0)
        return -1;
    if (check_destination(ap, to, r, why, len) < 0) {
        sp_rc_reply_free(r);
        return -1;
    }
    if (b->n == 1 || r->type != SP_RC_ERROR) {
        struct sp_audit_flow *flow = &ap->flows[from * ap->n + to];
        if (b->n == 1)
            one_key_fate(ap, from, to, b->key[0], b->len[0], r, false);
        else if (r->type == SP_RC_STATUS && strcmp(r->str, "NOKEY") != 0)
            flow->moved += b->n;
        else if (r->type == SP_RC_STATUS)
            flow->nokey += b->n;
        sp_rc_reply_free(r);
        return 0;
    }
    sp_rc_reply_free(r);
    for (size_t k = 0; k < b->n; k++) {
        if (send_migrate(f, ap, from, to, &b->key[k], &b->len[k], 1, &r, why, len) < 0)
            return -1;
        one_key_fate(ap, from, to, b->key[k], b->len[k], r, true);
        sp_rc_reply_free(r);
    }
    return 0;
}

int sp_audit_fix_flush(struct sp_audit_fixer *f, struct sp_audit_pool *ap, char *why, size_t len)
{
    int rc = 0;
    for (size_t j = 0; j < f->nto; j++) {
        if (rc == 0 && f->to[j].n)
            rc = migrate(f, ap, f->from, j, &f->to[j], why, len);
        batch_clear(&f->to[j]);
    }
    return rc;
}

/* Makes room for the destinations of a pool of n servers. */
static int ensure_destinations(struct sp_audit_fixer *f, size_t n)
{
    if (n <= f->nto)
        return 0;
    struct batch *grown = realloc(f->to, n * sizeof *grown);
    if (!grown)
        return -1;
    memset(grown + f->nto, 0, (n - f->nto) * sizeof *grown);
    f->to = grown;
    f->nto = n;
    return 0;
}

int sp_audit_fix_key(struct sp_audit_fixer *f, struct sp_audit_pool *ap, size_t from, size_t to,
                     const void *key, size_t len, char *why, size_t errlen)
{
    if (ensure_destinations(f, ap->n) < 0)
        goto oom;
    if (from != f->from && sp_audit_fix_flush(f, ap, why, errlen) < 0)
        return -1;
    f->from = from;
    struct batch *b = &f->to[to];
    if (!b->key)
        b->key = malloc(f->batch * sizeof *b->key);
    if (!b->len)
        b->len = malloc(f->batch * sizeof *b->len);
    if (!b->key || !b->len)
        goto oom;
    if (!(b->key[b->n] = malloc(len ? len : 1)))
        goto oom;
    memcpy(b->key[b->n], key, len);
    b->len[b->n++] = len;
    if (b->n < f->batch)
        return 0;
    int rc = migrate(f, ap, from, to, b, why, errlen);
    batch_clear(b);
    return rc;
oom:
    snprintf(why, errlen, "out of memory");
    return -1;
}
