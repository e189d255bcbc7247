/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mover's half of the non-blocking move protocol (lib/move.h), the one the proxy speaks too:
 * a batch of keys of one source S for one target T takes three pipelines, one per step, so no
 * server ever waits for another (MIGRATE blocked S while it talked to T: two MIGRATEs in opposite
 * directions between the same servers deadlocked until their timeout).
 *
 *   TAKE on S (EVAL SP_MOVE_TAKE): 0 gone (nokey), -1 locked by another mover (retried after 1,
 *   2, 4 ... 512 ms, then failed "in flight elsewhere"), else [dump, pttl] and the lock is ours;
 *   RESTORE key ttl dump on T (never REPLACE);
 *   on S: FINISH after OK (moved), SET ASIDE after BUSYKEY (a conflict: T's copy stands), RELEASE
 *   after any other error (failed, with T's words; the key stays on S).
 *
 * A key is deleted from S only once T said OK, so stopping anywhere loses nothing.  If T cannot
 * be reached the locks the batch holds are released before the run stops; if S fails they expire
 * after SP_MOVE_LOCK_MS and the keys are found again by the next run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "move.h"

#define MOVE_RETRIES 10          /* sleeps of 1, 2, 4 ... 512 ms: about 1 s in all */
#define STR_(x) #x
#define STR(x) STR_(x)

/* Where one key of a batch is. */
enum step {
    STEP_TAKE,                   /* to TAKE (again) */
    STEP_TAKEN,                  /* the lock is ours: RESTORE next */
    STEP_DONE,                   /* its fate is recorded */
};

/* One key of a batch in flight. */
struct move_key {
    const unsigned char *key;
    size_t len;
    unsigned char *lock, *aside; /* SP_MOVE_LOCK_PREFIX + key, SP_MOVE_ASIDE_PREFIX + key */
    char token[48];
    enum step step;
    struct sp_rc_reply *taken;   /* TAKE's [dump, pttl] */
    struct sp_rc_reply *restored; /* RESTORE's answer; NULL: none (the target failed) */
};

/* A batch: its keys and what the current step sends. */
struct move_batch {
    struct sp_audit_mover *mv;
    struct sp_audit_pool *ap;
    size_t from, to;
    struct move_key *k;
    size_t n;
};

void sp_audit_mover_init(struct sp_audit_mover *mv)
{
    unsigned char r[8];
    ssize_t got = -1;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        got = read(fd, r, sizeof r);
        close(fd);
    }
    if (got != (ssize_t)sizeof r) {
        /* No urandom: the clock and the pid still tell runs apart. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
                     ((uint64_t)getpid() << 40);
        memcpy(r, &x, sizeof r);
    }
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(&mv->run[2 * i], 3, "%02x", r[i]);
    mv->next = 0;
}

void sp_audit_add_issue(struct sp_audit_pool *ap, enum sp_audit_issue_kind kind, size_t from,
                        size_t to, const unsigned char *key, size_t len, const char *why)
{
    if (kind == SP_AUDIT_ASIDE)
        ap->servers[from].aside++;
    else if (kind == SP_AUDIT_FAILED)
        ap->flows[from * ap->n + to].failed++;
    else
        ap->flows[from * ap->n + to].conflicts++;
    if (ap->nissues == ap->issues_cap) {
        size_t cap = ap->issues_cap ? 2 * ap->issues_cap : 16;
        struct sp_audit_issue *grown = realloc(ap->issues, cap * sizeof *grown);
        if (!grown)
            return;
        ap->issues = grown;
        ap->issues_cap = cap;
    }
    struct sp_audit_issue *is = &ap->issues[ap->nissues];
    is->kind = kind;
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

/* prefix + key, binary-safe; NULL when out of memory. */
static unsigned char *prefixed(const char *prefix, const unsigned char *key, size_t len)
{
    size_t plen = strlen(prefix);
    unsigned char *s = malloc(plen + len + 1);
    if (s) {
        memcpy(s, prefix, plen);
        memcpy(s + plen, key, len);
    }
    return s;
}

static void batch_free(struct move_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->k[i].lock);
        free(b->k[i].aside);
        sp_rc_reply_free(b->k[i].taken);
        sp_rc_reply_free(b->k[i].restored);
    }
    free(b->k);
}

/* Records the fate of key i and leaves it. */
static void fate(struct move_batch *b, size_t i, enum sp_audit_issue_kind kind, const char *why)
{
    struct move_key *k = &b->k[i];
    sp_audit_add_issue(b->ap, kind, b->from, b->to, k->key, k->len, why);
    k->step = STEP_DONE;
}

static struct sp_rc *source(const struct move_batch *b)
{
    return b->ap->servers[b->from].conn;
}

/* Pipelines TAKE for every key still to take; sorts the answers.  0, or -1 (the source failed). */
static int take(struct move_batch *b, size_t *locked, char *why, size_t len)
{
    static const char lock_ms[] = STR(SP_MOVE_LOCK_MS);
    size_t sent = 0;
    char io[512];
    *locked = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct move_key *k = &b->k[i];
        if (k->step != STEP_TAKE)
            continue;
        snprintf(k->token, sizeof k->token, "%s:%" PRIu64, b->mv->run, b->mv->next++);
        const char *argv[] = {"EVAL", SP_MOVE_TAKE, "2", (const char *)k->key,
                              (const char *)k->lock, k->token, lock_ms};
        size_t argvlen[] = {4, strlen(SP_MOVE_TAKE), 1, k->len,
                            strlen(SP_MOVE_LOCK_PREFIX) + k->len, strlen(k->token),
                            strlen(lock_ms)};
        if (sp_rc_send(source(b), 7, argv, argvlen, io, sizeof io) < 0)
            goto failed;
        sent++;
    }
    for (size_t i = 0; i < b->n && sent; i++) {
        struct move_key *k = &b->k[i];
        struct sp_rc_reply *r;
        if (k->step != STEP_TAKE)
            continue;
        if (sp_rc_read(source(b), &r, io, sizeof io) < 0)
            goto failed;
        sent--;
        if (r->type == SP_RC_INTEGER && r->integer == 0) {
            b->ap->flows[b->from * b->ap->n + b->to].nokey++;   /* moved meanwhile */
            k->step = STEP_DONE;
        } else if (r->type == SP_RC_INTEGER && r->integer == -1) {
            (*locked)++;   /* another mover has it: again later */
        } else if (r->type == SP_RC_ARRAY && r->nelem == 2 && r->elem[0].type == SP_RC_BULK &&
                   r->elem[1].type == SP_RC_INTEGER) {
            k->taken = r;
            k->step = STEP_TAKEN;
            continue;
        } else {
            char what[600];
            snprintf(what, sizeof what, "TAKE: %s",
                     r->type == SP_RC_ERROR ? r->str : "unexpected reply");
            fate(b, i, SP_AUDIT_FAILED, what);
        }
        sp_rc_reply_free(r);
    }
    return 0;
failed:
    snprintf(why, len, "TAKE: %s", io);
    return -1;
}

/*
 * Pipelines RESTORE on the target for every key taken.  0, or -1 with why set when the target
 * failed: the keys it did not answer for keep restored NULL (their locks are to release).
 */
static int restore(struct move_batch *b, char *why, size_t len)
{
    struct sp_rc *t = b->ap->servers[b->to].conn;
    size_t sent = 0;
    char io[512], label[600];
    for (size_t i = 0; i < b->n; i++) {
        struct move_key *k = &b->k[i];
        if (k->step != STEP_TAKEN)
            continue;
        const struct sp_rc_reply *dump = &k->taken->elem[0];
        char ttl[24];
        long long pttl = k->taken->elem[1].integer;
        snprintf(ttl, sizeof ttl, "%lld", pttl > 0 ? pttl : 0);
        const char *argv[] = {"RESTORE", (const char *)k->key, ttl, dump->str};
        size_t argvlen[] = {7, k->len, strlen(ttl), dump->len};
        if (sp_rc_send(t, 4, argv, argvlen, io, sizeof io) < 0)
            goto failed;
        sent++;
    }
    for (size_t i = 0; i < b->n && sent; i++) {
        struct move_key *k = &b->k[i];
        if (k->step != STEP_TAKEN)
            continue;
        if (sp_rc_read(t, &k->restored, io, sizeof io) < 0)
            goto failed;
        sent--;
    }
    return 0;
failed:
    snprintf(why, len, "RESTORE: the target server %s cannot be reached (%s); the keys it was "
             "given stay on the source", sp_audit_server_label(&b->ap->servers[b->to], label,
                                                               sizeof label), io);
    return -1;
}

/* What the source is told about key k after RESTORE: the script, its keys and its name. */
static size_t conclude_argv(const struct move_key *k, const char **argv, size_t *argvlen,
                            const char **step)
{
    size_t locklen = strlen(SP_MOVE_LOCK_PREFIX) + k->len;
    const struct sp_rc_reply *r = k->restored;
    size_t n = 0;
    argv[n] = "EVAL";
    argvlen[n++] = 4;
    if (r && r->type == SP_RC_STATUS) {
        *step = "FINISH";
        argv[n] = SP_MOVE_FINISH;
        argvlen[n++] = strlen(SP_MOVE_FINISH);
    } else if (r && r->type == SP_RC_ERROR && strstr(r->str, "BUSYKEY")) {
        *step = "SET ASIDE";
        argv[n] = SP_MOVE_ASIDE;
        argvlen[n++] = strlen(SP_MOVE_ASIDE);
    } else {
        *step = "RELEASE";
        argv[n] = SP_MOVE_RELEASE;
        argvlen[n++] = strlen(SP_MOVE_RELEASE);
        argv[n] = "1";
        argvlen[n++] = 1;
        goto lock;
    }
    bool aside = *step[0] == 'S';
    argv[n] = aside ? "3" : "2";
    argvlen[n++] = 1;
    argv[n] = (const char *)k->key;
    argvlen[n++] = k->len;
    argv[n] = (const char *)k->lock;
    argvlen[n++] = locklen;
    if (aside) {
        argv[n] = (const char *)k->aside;
        argvlen[n++] = strlen(SP_MOVE_ASIDE_PREFIX) + k->len;
    }
    argv[n] = k->token;
    argvlen[n++] = strlen(k->token);
    return n;
lock:
    argv[n] = (const char *)k->lock;
    argvlen[n++] = locklen;
    argv[n] = k->token;
    argvlen[n++] = strlen(k->token);
    return n;
}

/* The fate of key i from RESTORE's answer and the source's to FINISH / SET ASIDE / RELEASE. */
static void conclude_fate(struct move_batch *b, size_t i, const char *step,
                          const struct sp_rc_reply *r)
{
    const struct sp_rc_reply *restored = b->k[i].restored;
    char what[600];
    bool held = r->type == SP_RC_INTEGER && r->integer == 1;
    if (r->type == SP_RC_ERROR) {
        snprintf(what, sizeof what, "%s: %s", step, r->str);
        fate(b, i, SP_AUDIT_FAILED, what);
    } else if (step[0] == 'F' && held) {
        b->ap->flows[b->from * b->ap->n + b->to].moved++;
        b->k[i].step = STEP_DONE;
    } else if (step[0] == 'F') {
        fate(b, i, SP_AUDIT_FAILED, "the lock expired before FINISH: the target has the key, "
             "the source's copy stays (the next mover sets it aside)");
    } else if (step[0] == 'S' && held) {
        fate(b, i, SP_AUDIT_CONFLICT, NULL);
    } else if (step[0] == 'S') {
        fate(b, i, SP_AUDIT_FAILED, "BUSYKEY, and the lock expired before SET ASIDE: the "
             "source's copy stays");
    } else if (!restored) {
        b->k[i].step = STEP_DONE;   /* the target failed: the run stops, no fate to tell */
    } else {
        snprintf(what, sizeof what, "RESTORE: %s",
                 restored->type == SP_RC_ERROR ? restored->str : "unexpected reply");
        fate(b, i, SP_AUDIT_FAILED, what);
    }
}

/* Pipelines on the source the step after RESTORE for every key taken.  0, or -1 (source failed). */
static int conclude(struct move_batch *b, char *why, size_t len)
{
    size_t sent = 0;
    char io[512];
    const char *step = "FINISH";
    for (size_t i = 0; i < b->n; i++) {
        const char *argv[8];
        size_t argvlen[8];
        if (b->k[i].step != STEP_TAKEN)
            continue;
        size_t argc = conclude_argv(&b->k[i], argv, argvlen, &step);
        if (sp_rc_send(source(b), argc, argv, argvlen, io, sizeof io) < 0)
            goto failed;
        sent++;
    }
    for (size_t i = 0; i < b->n && sent; i++) {
        const char *argv[8];
        size_t argvlen[8];
        struct sp_rc_reply *r;
        if (b->k[i].step != STEP_TAKEN)
            continue;
        (void)conclude_argv(&b->k[i], argv, argvlen, &step);
        if (sp_rc_read(source(b), &r, io, sizeof io) < 0)
            goto failed;
        sent--;
        conclude_fate(b, i, step, r);
        sp_rc_reply_free(r);
    }
    return 0;
failed:
    snprintf(why, len, "%s: %s", step, io);
    return -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int sp_audit_move(struct sp_audit_mover *mv, struct sp_audit_pool *ap, size_t from, size_t to,
                  unsigned char *const *keys, const size_t *lens, size_t n, char *why,
                  size_t len)
{
    struct move_batch b = {.mv = mv, .ap = ap, .from = from, .to = to, .n = n};
    int rc = -1;
    if (!(b.k = calloc(n ? n : 1, sizeof *b.k)))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        b.k[i].key = keys[i];
        b.k[i].len = lens[i];
        b.k[i].lock = prefixed(SP_MOVE_LOCK_PREFIX, keys[i], lens[i]);
        b.k[i].aside = prefixed(SP_MOVE_ASIDE_PREFIX, keys[i], lens[i]);
        if (!b.k[i].lock || !b.k[i].aside)
            goto oom;
    }
    for (int attempt = 0;; attempt++) {
        size_t locked;
        if (take(&b, &locked, why, len) < 0)
            goto out;
        int restored = restore(&b, why, len);
        char later[1024];
        /* After a target failure the locks are released before stopping: keep its why. */
        if (conclude(&b, restored < 0 ? later : why, restored < 0 ? sizeof later : len) < 0 ||
            restored < 0)
            goto out;
        for (size_t i = 0; i < n; i++) {
            sp_rc_reply_free(b.k[i].taken);
            sp_rc_reply_free(b.k[i].restored);
            b.k[i].taken = b.k[i].restored = NULL;
        }
        if (!locked)
            break;
        if (attempt == MOVE_RETRIES) {
            for (size_t i = 0; i < n; i++)
                if (b.k[i].step == STEP_TAKE)
                    fate(&b, i, SP_AUDIT_FAILED, "in flight elsewhere: another mover (a proxy) "
                         "held its lock for over 1 s; run again to move it");
            break;
        }
        sleep_ms(1L << attempt);
    }
    rc = 0;
    goto out;
oom:
    snprintf(why, len, "out of memory");
out:
    batch_free(&b);
    return rc;
}
