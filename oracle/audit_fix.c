/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit --fix: misplaced keys go to their owner in batches (one per source and target), at most
 * --rate keys a second, each batch moved with the non-blocking move protocol (audit_move.c,
 * lib/move.h).  RESTORE without REPLACE refuses a key the owner already has (BUSYKEY): the
 * owner's copy always wins and the source's is set aside; nothing is overwritten and nothing is
 * lost, since a key leaves its source only once its owner said OK.
 *
 * `shardoracle migrate` moves with the same code: only the choice of the keys differs.
 */
#include "config.h"

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
    size_t batch;                /* keys per batch: --batch, at most --rate */
    struct batch *to;            /* per destination server */
    size_t nto;
    size_t from;                 /* the server the queued keys are on */
    double tokens, last;         /* the --rate token bucket */
    struct sp_audit_mover mover;
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
    sp_audit_mover_init(&f->mover);
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

/* Moves keys of `from` queued in b to `to`.  0, or -1 with why set (the run must stop). */
static int move(struct sp_audit_fixer *f, struct sp_audit_pool *ap, size_t from, size_t to,
                struct batch *b, char *why, size_t len)
{
    take_tokens(f, b->n);
    return sp_audit_move(&f->mover, ap, from, to, b->key, b->len, b->n, why, len);
}

int sp_audit_fix_flush(struct sp_audit_fixer *f, struct sp_audit_pool *ap, char *why, size_t len)
{
    int rc = 0;
    for (size_t j = 0; j < f->nto; j++) {
        if (rc == 0 && f->to[j].n)
            rc = move(f, ap, f->from, j, &f->to[j], why, len);
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
    int rc = move(f, ap, from, to, b, why, errlen);
    batch_clear(b);
    return rc;
oom:
    snprintf(why, errlen, "out of memory");
    return -1;
}
