/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Movement between two configs of a pool: which server is which across the change, the least
 * movement any placement could achieve, and - when a change moves far more than that - why.
 *
 * Servers are matched by address ("host:port" as written): the data lives at an address.  The
 * caller may match differently when it knows better (a failed-over server is the same logical
 * server at a new address).  The minimum is the total variation distance between the two weight
 * distributions: the share of keys that must change server for every server to hold its new weight
 * share (adding k equal servers to n: k/(n+k); removing one of n equal: 1/n; renaming: 0).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

void sp_oracle_diff_note(struct sp_oracle_diff *d, const char *fmt, ...)
{
    if (d->nnotes == SP_ORACLE_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->notes[d->nnotes++], SP_ORACLE_NOTE_LEN, fmt, ap);
    va_end(ap);
}

static void add_cause(struct sp_oracle_diff *d, unsigned cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_cause(struct sp_oracle_diff *d, unsigned cause, const char *fmt, ...)
{
    d->causes |= cause;
    if (d->ncauses == sizeof(d->cause_text) / sizeof(d->cause_text[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->cause_text[d->ncauses++], SP_ORACLE_NOTE_LEN, fmt, ap);
    va_end(ap);
}

/*
 * Matches each new server to the old server at the same address (first unused one); then a server
 * left over on both sides with the same explicit name is the same logical server at a new address
 * (a failover or a move already written into NEW).
 */
static void match_by_address(struct sp_oracle_diff *d)
{
    const struct sp_conf_pool *a = d->old.pool, *b = d->new.pool;
    for (size_t j = 0; j < b->nservers; j++) {
        d->match_old[j] = -1;
        for (size_t i = 0; i < a->nservers; i++) {
            if (d->match_new[i] < 0 &&
                strcmp(a->servers[i].addr.text, b->servers[j].addr.text) == 0) {
                d->match_old[j] = (int)i;
                d->match_new[i] = (int)j;
                break;
            }
        }
    }
    for (size_t j = 0; j < b->nservers; j++) {
        int i = b->servers[j].named ? sp_conf_find_server(a, b->servers[j].name) : -1;
        if (d->match_old[j] >= 0 || i < 0 || d->match_new[i] >= 0 || !a->servers[i].named)
            continue;
        d->match_old[j] = i;
        d->match_new[i] = (int)j;
        sp_oracle_diff_note(d, "'%s' moved %s -> %s: matched by its name as the same logical "
                            "server (its data moved with it, e.g. a failover)", b->servers[j].name,
                            a->servers[i].addr.text, b->servers[j].addr.text);
    }
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int sp_oracle_diff_prepare(struct sp_oracle_diff *d, const struct sp_registry *reg,
                           const struct sp_oracle_opts *o, char *err, size_t errlen)
{
    size_t no = d->old.n, nn = d->new.n;
    bool given = d->match_old != NULL;

    d->match_new = malloc((no + 1) * sizeof(*d->match_new));
    if (!given)
        d->match_old = malloc((nn + 1) * sizeof(*d->match_old));
    d->matrix = calloc((no + 1) * (nn + 1), sizeof(*d->matrix));
    d->moved_cell = calloc((no + 1) * (nn + 1), sizeof(*d->moved_cell));
    if (!d->match_new || !d->match_old || !d->matrix || !d->moved_cell) {
        snprintf(err, errlen, "out of memory for %zu x %zu servers", no, nn);
        return -1;
    }
    for (size_t i = 0; i < no; i++)
        d->match_new[i] = -1;
    d->match_new[no] = (int)nn;   /* "no server" stays "no server" */
    if (given) {
        for (size_t j = 0; j < nn; j++)
            if (d->match_old[j] >= 0)
                d->match_new[d->match_old[j]] = (int)j;
    } else {
        match_by_address(d);
    }
    for (size_t i = 0; i <= no; i++)
        for (size_t j = 0; j <= nn; j++)
            d->moved_cell[i * (nn + 1) + j] = d->match_new[i] != (int)j;
    const struct sp_conf_pool *a = d->old.pool, *b = d->new.pool;
    d->same_hash = str_eq(a->hash, b->hash) && strcmp(a->hash_tag, b->hash_tag) == 0 &&
                   a->nservers > 1 && b->nservers > 1;
    /* Identity of a sample's server: sp_oracle_sample wants -1 for "gone". */
    int *a_to_b = malloc((no + 1) * sizeof(*a_to_b));
    if (!a_to_b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < no; i++)
        a_to_b[i] = d->match_new[i];
    int rc = sp_oracle_sample(reg, &d->old, &d->new, a_to_b, o->samples, &d->space_moved, err,
                              errlen);
    free(a_to_b);
    if (rc == 0 && !d->same_hash) {
        /* Unrelated hash values: a key stays only if both hashes pick the same server. */
        double stay = 0;
        for (size_t i = 0; i < no; i++)
            if (d->match_new[i] >= 0)
                stay += d->old.space_share[i] * d->new.space_share[d->match_new[i]];
        d->space_moved = 1 - stay;
    }
    return rc;
}

double sp_oracle_min_movement(const struct sp_oracle_side *a, const struct sp_oracle_side *b,
                              const int *a_to_b)
{
    double sum = 0;
    bool *seen = calloc(b->n + 1, sizeof(*seen));
    for (size_t i = 0; i < a->n; i++) {
        int j = a_to_b[i];
        double q = j >= 0 ? b->weight_share[j] : 0;
        sum += fabs(a->weight_share[i] - q);
        if (j >= 0 && seen)
            seen[j] = true;
    }
    for (size_t j = 0; j < b->n; j++)
        if (!seen || !seen[j])
            sum += b->weight_share[j];
    free(seen);
    return sum / 2;
}

void sp_oracle_diff_columns(const struct sp_oracle_diff *d, size_t *cols)
{
    size_t n = 0;
    for (size_t i = 0; i < d->old.n; i++)
        if (d->match_new[i] >= 0)
            cols[n++] = (size_t)d->match_new[i];
    for (size_t j = 0; j < d->new.n; j++)
        if (d->match_old[j] < 0)
            cols[n++] = j;
}

uint64_t sp_oracle_diff_lost(const struct sp_oracle_diff *d, size_t i)
{
    uint64_t n = 0;
    size_t w = d->new.n + 1;
    for (size_t j = 0; j < w; j++)
        if (d->moved_cell[i * w + j])
            n += d->matrix[i * w + j];
    return n;
}

uint64_t sp_oracle_diff_gained(const struct sp_oracle_diff *d, size_t j)
{
    uint64_t n = 0;
    size_t w = d->new.n + 1;
    for (size_t i = 0; i <= d->old.n; i++)
        if (d->moved_cell[i * w + j])
            n += d->matrix[i * w + j];
    return n;
}

/* Same servers in the same order with the same weights (what modula's slot list depends on). */
static bool same_slots(const struct sp_oracle_diff *d)
{
    size_t j = 0;
    for (size_t i = 0; i < d->old.n; i++) {
        if (!d->old.live[i])
            continue;
        while (j < d->new.n && !d->new.live[j])
            j++;
        if (j == d->new.n || d->match_new[i] != (int)j ||
            d->old.pool->servers[i].weight != d->new.pool->servers[j].weight)
            return false;
        j++;
    }
    while (j < d->new.n && !d->new.live[j])
        j++;
    return j == d->new.n;
}

/* Weight shares of kept servers changed although their weights did not (or weights changed). */
static bool shares_renormalised(const struct sp_oracle_diff *d)
{
    for (size_t i = 0; i < d->old.n; i++) {
        int j = d->match_new[i];
        if (j < 0 || !d->old.live[i] || !d->new.live[j])
            continue;
        if (d->old.pool->servers[i].weight != d->new.pool->servers[j].weight)
            return true;
    }
    /* Unequal weights: ketama-like placers scale every server's share by weight / total. */
    uint32_t w0 = 0;
    for (size_t i = 0; i < d->new.n; i++) {
        if (!d->new.live[i])
            continue;
        if (w0 && d->new.pool->servers[i].weight != w0)
            return true;
        w0 = d->new.pool->servers[i].weight;
    }
    return false;
}

/* Names the reasons a change moved more than its minimum. */
static void find_causes(struct sp_oracle_diff *d)
{
    const struct sp_conf_pool *a = d->old.pool, *b = d->new.pool;
    if (!str_eq(a->hash, b->hash))
        add_cause(d, SP_CAUSE_HASH, "hash changed (%s -> %s): every key gets a new hash value, "
                  "so about 1 - 1/n of the keys move whatever the distribution", a->hash, b->hash);
    else if (strcmp(a->hash_tag, b->hash_tag) != 0)
        add_cause(d, SP_CAUSE_HASH, "hash_tag changed ('%s' -> '%s'): tagged keys hash other "
                  "bytes now", a->hash_tag, b->hash_tag);
    if (!str_eq(a->distribution, b->distribution))
        add_cause(d, SP_CAUSE_DIST, "distribution changed (%s -> %s): the two place keys "
                  "independently", a->distribution, b->distribution);
    else if (str_eq(b->distribution, "modula") && !same_slots(d))
        add_cause(d, SP_CAUSE_MODULA, "modula: a key goes to slot hash %% total_weight, so "
                  "changing the slot list re-deals almost every key (n -> n+1 equal servers "
                  "moves n/(n+1) of them); a consistent distribution (ketama) moves about the "
                  "minimum");
    char names[400] = "";
    size_t renamed = 0;
    for (size_t j = 0; j < d->new.n; j++) {
        int i = d->match_old[j];
        if (i < 0 || strcmp(a->servers[i].name, b->servers[j].name) == 0)
            continue;
        size_t used = strlen(names);
        if (renamed++ < 3)
            snprintf(names + used, sizeof(names) - used, "%s'%s' -> '%s'", used ? ", " : "",
                     a->servers[i].name, b->servers[j].name);
    }
    if (renamed)
        add_cause(d, SP_CAUSE_RENAMED, "%zu renamed server(s) (%s%s): placement follows the "
                  "server name, not its address or data, and an unnamed server's name is its "
                  "address; give servers explicit names", renamed, names,
                  renamed > 3 ? ", ..." : "");
    if (!(d->causes & (SP_CAUSE_HASH | SP_CAUSE_DIST | SP_CAUSE_MODULA)) && d->churn > 0 &&
        shares_renormalised(d))
        add_cause(d, SP_CAUSE_WEIGHTS, "weights renormalised: each server's share is weight / "
                  "total, and %s recomputes every server's points from the new total and server "
                  "count, so keys also move between servers that both stay (%.2f%% of the keys "
                  "moved between kept servers)",
                  b->distribution, d->keys ? 100.0 * (double)d->churn / (double)d->keys : 0.0);
    if (!d->causes && d->space_moved <= d->threshold)
        add_cause(d, SP_CAUSE_SKEW, "these keys' hash values are not spread evenly: %.2f%% of "
                  "them fall where the owner changes, although that is %.2f%% of the hash space "
                  "(balance shows the same skew); a hash that mixes these keys better (e.g. md5, "
                  "murmur) moves about the minimum", d->keys ? 100.0 * (double)d->moved /
                  (double)d->keys : 0.0, 100 * d->space_moved);
    if (!d->causes)
        add_cause(d, SP_CAUSE_UNKNOWN, "the %s distribution moved more keys than the weight "
                  "change requires", b->distribution);
}

void sp_oracle_diff_finish(struct sp_oracle_diff *d)
{
    size_t w = d->new.n + 1;
    d->keys = d->moved = d->churn = 0;
    for (size_t i = 0; i <= d->old.n; i++) {
        for (size_t j = 0; j < w; j++) {
            uint64_t k = d->matrix[i * w + j];
            d->old.keys[i] += k;
            d->new.keys[j] += k;
            d->keys += k;
            if (!d->moved_cell[i * w + j])
                continue;
            d->moved += k;
            if (i < d->old.n && j < d->new.n && d->match_new[i] >= 0 && d->match_old[j] >= 0)
                d->churn += k;
        }
    }
    int *a_to_b = d->match_new;
    d->min_fraction = sp_oracle_min_movement(&d->old, &d->new, a_to_b);
    /* "Far more than needed": beyond the minimum by a quarter of it (at least 2 points of the
     * keys) plus three binomial standard deviations for this many keys. */
    double m = d->min_fraction, n = d->keys ? (double)d->keys : 1;
    double p = m > 1.0 / n ? m : 1.0 / n;
    d->threshold = m + (0.25 * m > 0.02 ? 0.25 * m : 0.02) + 3 * sqrt(p * (1 - m) / n);
    double moved = d->keys ? (double)d->moved / (double)d->keys : 0;
    d->excess = d->keys > 0 && moved > d->threshold;
    if (d->excess)
        find_causes(d);
}

void sp_oracle_diff_release(struct sp_oracle_diff *d)
{
    sp_oracle_side_release(&d->old);
    sp_oracle_side_release(&d->new);
    free(d->match_new);
    free(d->match_old);
    free(d->matrix);
    free(d->moved_cell);
    d->match_new = d->match_old = NULL;
    d->matrix = NULL;
    d->moved_cell = NULL;
}
