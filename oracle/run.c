/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hot loops: one pass over the keys, counting each key into per-server tallies (balance) or
 * into the old x new matrix (diff).  No allocation per key; a key is hashed once when both configs
 * hash alike.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "oracle.h"

/* Progress is checked every this many keys (a power of two: the check is a mask).  Small enough
 * that compare, which places each key once per hash x distribution, still ticks every second. */
#define PROGRESS_EVERY (UINT64_C(1) << 12)

struct sp_keys *sp_oracle_open_keys(const struct sp_oracle_opts *o)
{
    char err[1024];
    struct sp_keys *k = o->have_synthetic
                            ? sp_keys_synthetic(o->pattern ? o->pattern : "key:%d", o->synthetic,
                                                err, sizeof err)
                            : sp_keys_open(o->keys_path, o->key_flags, err, sizeof err);
    if (!k)
        sp_oracle_fail("%s", err);
    return k;
}

double sp_oracle_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sp_oracle_progress_start(struct sp_oracle_progress *p)
{
    memset(p, 0, sizeof(*p));
    p->on = isatty(STDERR_FILENO) == 1;
    if (p->on)
        p->start = p->last = sp_oracle_now();
}

static void progress_line(struct sp_oracle_progress *p, uint64_t keys, double t)
{
    p->last = t;
    p->printed = true;
    fprintf(stderr, "\rshardoracle: %.1fM keys, %.2fM keys/s ", (double)keys / 1e6,
            (double)keys / 1e6 / (t - p->start));
}

void sp_oracle_progress_tick(struct sp_oracle_progress *p, uint64_t keys)
{
    if (!p->on)
        return;
    double t = sp_oracle_now();
    /* Only runs longer than a second get a progress line, refreshed at most twice a second. */
    if (t - p->start >= 1.0 && t - p->last >= 0.5)
        progress_line(p, keys, t);
}

void sp_oracle_progress_end(struct sp_oracle_progress *p, uint64_t keys)
{
    if (!p->printed)
        return;
    progress_line(p, keys, sp_oracle_now());
    fputs("done\n", stderr);
}

int sp_oracle_each_key(const struct sp_oracle_opts *o, sp_oracle_key_fn *fn, void *ctx,
                       uint64_t *count)
{
    char err[1024];
    struct sp_keys *keys = sp_oracle_open_keys(o);
    if (!keys)
        return SP_EXIT_BAD_INPUT;
    struct sp_oracle_progress prog;
    struct sp_key key;
    uint64_t n = 0;
    int more;
    sp_oracle_progress_start(&prog);
    while ((more = sp_keys_next(keys, &key, err, sizeof err)) > 0) {
        fn(ctx, &key);
        if ((++n & (PROGRESS_EVERY - 1)) == 0)
            sp_oracle_progress_tick(&prog, n);
    }
    sp_oracle_progress_end(&prog, n);
    sp_keys_close(keys);
    if (count)
        *count = n;
    return more < 0 ? sp_oracle_fail("%s", err) : SP_EXIT_OK;
}

static void balance_key(void *ctx, const struct sp_key *key)
{
    struct sp_oracle_side *s = ctx;
    int i = sp_placer_locate(s->placer, key->bytes, key->len);
    size_t at = i < 0 ? s->n : (size_t)i;
    s->keys[at]++;
    s->bytes[at] += key->size;   /* 0 without --sizes */
}

int sp_oracle_run_balance(struct sp_oracle_side *s, const struct sp_oracle_opts *o)
{
    return sp_oracle_each_key(o, balance_key, s, NULL);
}

/* One moved key of the migration plan: key<TAB>old host:port<TAB>new host:port. */
static void list_moved(FILE *out, const struct sp_key *key, const struct sp_oracle_diff *d, int i,
                       int j)
{
    fwrite_unlocked(key->text, 1, key->text_len, out);
    putc_unlocked('\t', out);
    fputs_unlocked(i < 0 ? "-" : d->old.pool->servers[i].addr.text, out);
    putc_unlocked('\t', out);
    fputs_unlocked(j < 0 ? "-" : d->new.pool->servers[j].addr.text, out);
    putc_unlocked('\n', out);
}

static void diff_key(void *ctx, const struct sp_key *key)
{
    struct sp_oracle_diff *d = ctx;
    const size_t no = d->old.n, w = d->new.n + 1;
    int i, j;
    if (d->same_hash) {
        uint64_t h = sp_placer_hash(d->old.placer, key->bytes, key->len);
        i = sp_placer_locate_hash(d->old.placer, h);
        j = sp_placer_locate_hash(d->new.placer, h);
    } else {
        i = sp_placer_locate(d->old.placer, key->bytes, key->len);
        j = sp_placer_locate(d->new.placer, key->bytes, key->len);
    }
    size_t row = i < 0 ? no : (size_t)i, col = j < 0 ? w - 1 : (size_t)j;
    size_t cell = row * w + col;
    d->matrix[cell]++;
    if (key->size) {
        d->old.bytes[row] += key->size;
        d->new.bytes[col] += key->size;
        d->moved_bytes += d->moved_cell[cell] ? key->size : 0;
        d->bytes += key->size;
    }
    if (d->list && d->moved_cell[cell])
        list_moved(d->list, key, d, i, j);
}

int sp_oracle_run_diff(struct sp_oracle_diff *d, const struct sp_oracle_opts *o)
{
    int rc = sp_oracle_each_key(o, diff_key, d, NULL);
    if (rc == SP_EXIT_OK && d->list && fflush(d->list) != 0)
        return sp_oracle_fail("cannot write the list of moved keys");
    return rc;
}
