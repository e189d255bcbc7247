/* SPDX-License-Identifier: Apache-2.0 */
/* shardoracle's readable reports: aligned tables plus a few summary lines. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "audit.h"
#include "migrate.h"
#include "layout.h"
#include "table.h"

/* Largest matrix printed in full; bigger ones are summarised by their largest flows. */
#define MATRIX_MAX 12
#define TOP_FLOWS 10

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void header(FILE *out, const char *what, const struct sp_oracle_side *s)
{
    fprintf(out, "%s: pool '%s' (%s): %s + %s%s%s, %zu servers", what, s->pool->name,
            s->conf_path, s->pool->hash, s->pool->distribution,
            s->pool->hash_tag[0] ? ", hash_tag " : "", s->pool->hash_tag, s->n);
}

void sp_oracle_text_balance(FILE *out, const struct sp_oracle_side *s,
                            const struct sp_oracle_balance *b, bool sizes)
{
    struct sp_table t;
    char label[600];
    header(out, "balance", s);
    fprintf(out, ", %llu keys\n\n", (unsigned long long)(b->keys + s->keys[s->n]));
    sp_table_init(&t, sizes ? 11 : 8, "lrrrrrrrrrr");
    sp_table_cell(&t, "server");
    sp_table_cell(&t, "weight");
    sp_table_cell(&t, "share");
    sp_table_cell(&t, "space");
    sp_table_cell(&t, "keys");
    sp_table_cell(&t, "keys%%");
    sp_table_cell(&t, "load");
    sp_table_cell(&t, "expected");
    if (sizes) {
        sp_table_cell(&t, "bytes");
        sp_table_cell(&t, "bytes%%");
        sp_table_cell(&t, "bytes load");
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct sp_conf_server *srv = &s->pool->servers[i];
        double w = s->weight_share[i];
        sp_table_cell(&t, "%s%s", sp_oracle_label(srv, label, sizeof label),
                      s->live[i] ? "" : " [ejected]");
        sp_table_cell(&t, "%u", (unsigned)srv->weight);
        sp_table_cell(&t, "%.2f%%", 100 * w);
        sp_table_cell(&t, "%.2f%%", 100 * s->space_share[i]);
        sp_table_cell(&t, "%llu", (unsigned long long)s->keys[i]);
        sp_table_cell(&t, "%.2f%%", pct(s->keys[i], b->keys));
        sp_table_cell(&t, "%.3f", w > 0 && b->keys ? pct(s->keys[i], b->keys) / 100 / w : 0);
        sp_table_cell(&t, b->keys >= 1000 ? "%.0f" : "%.1f", s->space_share[i] * (double)b->keys);
        if (sizes) {
            sp_table_cell(&t, "%llu", (unsigned long long)s->bytes[i]);
            sp_table_cell(&t, "%.2f%%", pct(s->bytes[i], b->bytes));
            sp_table_cell(&t, "%.3f", w > 0 && b->bytes ? pct(s->bytes[i], b->bytes) / 100 / w
                                                        : 0);
        }
    }
    sp_table_print(&t, out, "  ");
    sp_table_free(&t);
    fprintf(out, "\n  (share: weight / total weight; space: share of the hash space, measured by "
                 "placing %s hash values;\n   load: key share / weight share; expected: keys the "
                 "hash-space share predicts)\n\n",
            s->hash_bits == 64 ? "evenly spread 64-bit" : "evenly spread 32-bit");
    if (s->keys[s->n])
        fprintf(out, "  no live server    %llu keys\n", (unsigned long long)s->keys[s->n]);
    fprintf(out, "  peak-to-mean      %.3f (%s)   expected %.3f from the hash space\n",
            b->peak_to_mean, b->nlive ? s->pool->servers[b->peak].name : "-",
            b->exp_peak_to_mean);
    fprintf(out, "  stddev            %.1f keys (%.2f%% of the mean)   expected %.1f "
                 "(binomial alone %.1f)\n",
            b->stddev, b->nlive && b->keys ? 100 * b->stddev * (double)b->nlive / (double)b->keys
                                           : 0,
            b->exp_stddev, b->binomial_stddev);
    if (b->keys && b->stddev > 2 * b->exp_stddev + 1)
        fprintf(out, "  note              keys are far less even than the hash space predicts: "
                     "the hash does not\n                    spread these keys well (see "
                     "`shardoracle compare`)\n");
    if (sizes)
        fprintf(out, "  bytes             %llu, peak-to-mean %.3f\n",
                (unsigned long long)b->bytes, b->bytes_peak_to_mean);
}

/* A percentage cell, or "-" for a server that is not on this side. */
static void share_cell(struct sp_table *t, bool present, double fraction)
{
    if (present)
        sp_table_cell(t, "%.2f%%", 100 * fraction);
    else
        sp_table_cell(t, "-");
}

/* Rows of the per-server table: kept servers (old order), removed ones, then added ones. */
static void diff_servers(FILE *out, const struct sp_oracle_diff *d, bool sizes)
{
    struct sp_table t;
    char label[600];
    sp_table_init(&t, sizes ? 11 : 9, "lrrrrrrrrrr");
    const char *head[] = { "server", "old share", "new share", "old keys", "new keys", "lost",
                           "gained", "net", "space now" };
    for (size_t k = 0; k < 9; k++)
        sp_table_cell(&t, "%s", head[k]);
    if (sizes) {
        sp_table_cell(&t, "old bytes");
        sp_table_cell(&t, "new bytes");
    }
    for (size_t r = 0; r < d->old.n + d->new.n; r++) {
        int i = r < d->old.n ? (int)r : -1;
        int j = i >= 0 ? d->match_new[i] : (int)(r - d->old.n);
        if (i < 0 && d->match_old[j] >= 0)
            continue;   /* shown with its old self */
        const struct sp_conf_server *srv = j >= 0 ? &d->new.pool->servers[j]
                                                  : &d->old.pool->servers[i];
        sp_oracle_label(srv, label, sizeof label);
        if (i >= 0 && j >= 0 && strcmp(d->old.pool->servers[i].name, srv->name) != 0)
            snprintf(label + strlen(label), sizeof label - strlen(label), " was %s",
                     d->old.pool->servers[i].name);
        uint64_t ok = i >= 0 ? d->old.keys[i] : 0, nk = j >= 0 ? d->new.keys[j] : 0;
        sp_table_cell(&t, "%s%s%s", label, i < 0 ? " [added]" : j < 0 ? " [removed]" : "",
                      j >= 0 && !d->new.live[j] ? " [ejected]" : "");
        share_cell(&t, i >= 0, i >= 0 ? d->old.weight_share[i] : 0);
        share_cell(&t, j >= 0, j >= 0 ? d->new.weight_share[j] : 0);
        sp_table_cell(&t, "%llu", (unsigned long long)ok);
        sp_table_cell(&t, "%llu", (unsigned long long)nk);
        sp_table_cell(&t, "%llu", (unsigned long long)(i >= 0 ? sp_oracle_diff_lost(d, (size_t)i)
                                                              : 0));
        sp_table_cell(&t, "%llu", (unsigned long long)(j >= 0 ? sp_oracle_diff_gained(d, (size_t)j)
                                                              : 0));
        sp_table_cell(&t, "%+lld", (long long)nk - (long long)ok);
        share_cell(&t, j >= 0, j >= 0 ? d->new.space_share[j] : 0);
        if (sizes) {
            sp_table_cell(&t, "%llu", (unsigned long long)(i >= 0 ? d->old.bytes[i] : 0));
            sp_table_cell(&t, "%llu", (unsigned long long)(j >= 0 ? d->new.bytes[j] : 0));
        }
    }
    sp_table_print(&t, out, "  ");
    sp_table_free(&t);
}

struct flow {
    uint64_t keys;
    size_t cell;
};

/* Largest first; equal flows in matrix order, so the output is stable. */
static int flow_cmp(const void *x, const void *y)
{
    const struct flow *a = x, *b = y;
    if (a->keys != b->keys)
        return a->keys > b->keys ? -1 : 1;
    return a->cell < b->cell ? -1 : a->cell > b->cell;
}

/* The from -> to matrix of moved keys, or its largest flows when it is too big to read. */
static void diff_matrix(FILE *out, const struct sp_oracle_diff *d)
{
    size_t w = d->new.n + 1;
    if (d->moved == 0)
        return;
    if (d->old.n <= MATRIX_MAX && d->new.n <= MATRIX_MAX) {
        /* The "none" row and column only when some key had no live server. */
        bool none_row = false, none_col = false;
        for (size_t j = 0; j < w; j++)
            none_row = none_row || d->matrix[d->old.n * w + j];
        for (size_t i = 0; i <= d->old.n; i++)
            none_col = none_col || d->matrix[i * w + d->new.n];
        size_t rows = d->old.n + none_row, cols = d->new.n + none_col;
        size_t order[MATRIX_MAX + 1];
        sp_oracle_diff_columns(d, order);
        order[d->new.n] = d->new.n;
        struct sp_table t;
        sp_table_init(&t, cols + 1, "l");
        sp_table_cell(&t, "moved from \\ to");
        for (size_t c = 0; c < cols; c++)
            if (c < d->new.n)
                sp_table_cell(&t, "[%zu]", c + 1);
            else
                sp_table_cell(&t, "none");
        for (size_t i = 0; i < rows; i++) {
            sp_table_cell(&t, "%s", i < d->old.n ? d->old.pool->servers[i].name : "none");
            for (size_t c = 0; c < cols; c++) {
                uint64_t k = d->matrix[i * w + order[c]];
                if (d->moved_cell[i * w + order[c]] && k)
                    sp_table_cell(&t, "%llu", (unsigned long long)k);
                else
                    sp_table_cell(&t, ".");
            }
        }
        fprintf(out, "\n  moved keys, from (old) to (new):\n");
        sp_table_print(&t, out, "  ");
        sp_table_free(&t);
        for (size_t c = 0; c < d->new.n; c++)
            fprintf(out, "  [%zu] %s%s", c + 1, d->new.pool->servers[order[c]].name,
                    c % 4 == 3 || c + 1 == d->new.n ? "\n" : "");
        return;
    }
    size_t ncells = (d->old.n + 1) * w, nflows = 0;
    struct flow *flows = malloc(ncells * sizeof(*flows));
    if (!flows)
        return;
    for (size_t c = 0; c < ncells; c++)
        if (d->moved_cell[c] && d->matrix[c])
            flows[nflows++] = (struct flow){ d->matrix[c], c };
    qsort(flows, nflows, sizeof(*flows), flow_cmp);
    fprintf(out, "\n  largest flows of moved keys (%zu of %zu):\n",
            nflows < TOP_FLOWS ? nflows : TOP_FLOWS, nflows);
    for (size_t k = 0; k < nflows && k < TOP_FLOWS; k++) {
        size_t i = flows[k].cell / w, j = flows[k].cell % w;
        fprintf(out, "    %s -> %s: %llu\n", i < d->old.n ? d->old.pool->servers[i].name : "none",
                j < d->new.n ? d->new.pool->servers[j].name : "none",
                (unsigned long long)flows[k].keys);
    }
    free(flows);
}

void sp_oracle_text_diff(FILE *out, const struct sp_oracle_diff *d, bool sizes)
{
    fprintf(out, "%s: pool '%s': %s -> %s\n", d->what, d->old.pool->name, d->old.conf_path,
            d->changes[0] ? d->changes : d->new.conf_path);
    size_t live = 0;
    for (size_t j = 0; j < d->new.n; j++)
        live += d->new.live[j];
    fprintf(out, "  old: %s + %s, %zu servers;  new: %s + %s, %zu servers (%zu live);  "
                 "%llu keys\n\n",
            d->old.pool->hash, d->old.pool->distribution, d->old.n, d->new.pool->hash,
            d->new.pool->distribution, d->new.n, live, (unsigned long long)d->keys);
    double moved = pct(d->moved, d->keys);
    fprintf(out, "  moved             %llu keys (%.2f%%)", (unsigned long long)d->moved, moved);
    if (sizes)
        fprintf(out, ", %llu of %llu bytes (%.2f%%)", (unsigned long long)d->moved_bytes,
                (unsigned long long)d->bytes, pct(d->moved_bytes, d->bytes));
    fprintf(out, "\n  minimum           %.2f%% (the weight shares' total variation distance: "
                 "what any placement must move)\n", 100 * d->min_fraction);
    fprintf(out, "  expected          %.2f%% for this change (hash space, uniformly spread "
                 "hashes)\n", 100 * d->space_moved);
    if (d->excess) {
        fprintf(out, "  verdict           EXCESS MOVEMENT: %.2f%% moved where %.2f%% would do",
                moved, 100 * d->min_fraction);
        if (d->min_fraction > 0)
            fprintf(out, " (%.1fx)", moved / 100 / d->min_fraction);
        fputc('\n', out);
    } else {
        fprintf(out, "  verdict           ok: %.2f%% moved, within the tolerance\n", moved);
    }
    fprintf(out, "  tolerance         %.2f%% = " SP_ORACLE_TOLERANCE_RULE "\n",
            100 * d->threshold);
    for (size_t k = 0; k < d->ncauses; k++)
        fprintf(out, "    cause: %s\n", d->cause_text[k]);
    for (size_t k = 0; k < d->nnotes; k++)
        fprintf(out, "  note: %s\n", d->notes[k]);
    fputc('\n', out);
    diff_servers(out, d, sizes);
    diff_matrix(out, d);
}

/* The plugin's own reason for refusing the servers, without the "pool ...: distribution ...
 * rejected the servers: " preamble (rows of one distribution share it). */
static const char *refusal(const char *error)
{
    const char *why = strstr(error, "rejected the servers: ");
    return why ? why + strlen("rejected the servers: ") : error;
}

/* Footnote numbers of the refused rows (0: not refused); rows refused for the same reason share
 * one, numbered in order of first appearance.  Returns how many distinct reasons, or -1 when out
 * of memory. */
static long refusal_notes(const struct sp_oracle_compare *c, size_t *note)
{
    long n = 0;
    for (size_t k = 0; k < c->nrows; k++) {
        note[k] = 0;
        if (!c->rows[k].error[0])
            continue;
        for (size_t m = 0; m < k && !note[k]; m++)
            if (note[m] && strcmp(refusal(c->rows[m].error), refusal(c->rows[k].error)) == 0)
                note[k] = note[m];
        if (!note[k])
            note[k] = (size_t)++n;
    }
    return n;
}

void sp_oracle_text_compare(FILE *out, const struct sp_oracle_compare *c)
{
    struct sp_table t;
    size_t *note = calloc(c->nrows + 1, sizeof *note);
    if (!note)
        return;
    long notes = refusal_notes(c, note);
    fprintf(out, "compare: pool '%s' (%s): %zu servers, %llu keys\n", c->pool->name, c->conf_path,
            c->pool->nservers, (unsigned long long)c->keys);
    fprintf(out, "  +1 server: '%s' (minimum movement %.2f%%); * = the config's choice\n\n",
            c->added, 100 * c->min_fraction);
    sp_table_init(&t, 8, "llrrrrrl");
    const char *head[] = { "hash", "distribution", "peak/mean", "stddev", "exp.peak", "moved +1",
                           "exp.moved", "note" };
    for (size_t k = 0; k < 8; k++)
        sp_table_cell(&t, "%s", head[k]);
    for (size_t k = 0; k < c->nrows; k++) {
        const struct sp_oracle_combo *r = &c->rows[k];
        sp_table_cell(&t, "%s%s", r->current ? "* " : "  ", r->hash);
        sp_table_cell(&t, "%s", r->dist);
        if (r->error[0]) {
            for (int x = 0; x < 5; x++)
                sp_table_cell(&t, "-");
            sp_table_cell(&t, "refused [%zu]", note[k]);
            continue;
        }
        double moved = pct(r->moved, c->keys);
        sp_table_cell(&t, "%.3f", r->balance.peak_to_mean);
        sp_table_cell(&t, "%.1f", r->balance.stddev);
        sp_table_cell(&t, "%.3f", r->balance.exp_peak_to_mean);
        sp_table_cell(&t, "%.2f%%", moved);
        sp_table_cell(&t, "%.2f%%", 100 * r->space_moved);
        sp_table_cell(&t, "%s", r->unstable ? "no fixed placement (random per request)"
                                : sp_oracle_moves_too_much(c, r) ? "moves too much"
                                : r->balance.peak_to_mean > 1.5 ? "unbalanced" : "");
    }
    sp_table_print(&t, out, "  ");
    sp_table_free(&t);
    /* The refusals in full, once per distinct reason: they do not fit a table cell. */
    for (size_t k = 0, shown = 0; k < c->nrows && (long)shown < notes; k++) {
        if (note[k] <= shown)
            continue;
        fprintf(out, "%s  [%zu] %s\n", shown ? "" : "\n", note[k], refusal(c->rows[k].error));
        shown = note[k];
    }
    free(note);
    fprintf(out, "\n  (peak/mean: the most loaded server's key share over its weight share; "
                 "exp.: from the hash space;\n   moved +1: keys that move when the server is "
                 "added; moves too much: " SP_ORACLE_TOO_MUCH_RULE ")\n");
}

/* ---- audit ---- */

static void audit_flows(FILE *out, const struct sp_audit *a, const struct sp_audit_pool *ap)
{
    struct sp_table t;
    sp_table_init(&t, a->opt.fix ? 6 : 3, "llrrrr");
    sp_table_cell(&t, "on");
    sp_table_cell(&t, "owner");
    sp_table_cell(&t, "misplaced");
    if (a->opt.fix) {
        sp_table_cell(&t, "moved");
        sp_table_cell(&t, "conflicts");
        sp_table_cell(&t, "failed");
    }
    for (size_t k = 0; k < ap->n * ap->n; k++) {
        const struct sp_audit_flow *f = &ap->flows[k];
        if (!f->misplaced)
            continue;
        sp_table_cell(&t, "%s", ap->servers[k / ap->n].addr);
        sp_table_cell(&t, "%s", ap->servers[k % ap->n].addr);
        sp_table_cell(&t, "%llu", (unsigned long long)f->misplaced);
        if (a->opt.fix) {
            sp_table_cell(&t, "%llu", (unsigned long long)f->moved);
            sp_table_cell(&t, "%llu", (unsigned long long)f->conflicts);
            sp_table_cell(&t, "%llu", (unsigned long long)f->failed);
        }
    }
    fprintf(out, "\n  misplaced keys, from the server they are on to the one that owns them:\n");
    sp_table_print(&t, out, "  ");
    sp_table_free(&t);
}

/* Conflicts, failures, then set-aside copies found: each key left behind by --fix, and why. */
static void audit_issues(FILE *out, const struct sp_audit *a, const struct sp_audit_pool *ap)
{
    static const char *const title[] = {
        [SP_AUDIT_CONFLICT] = "\n  conflicts (the owner has the key too: its copy stands, the "
                              "source's is set aside):\n",
        [SP_AUDIT_FAILED] = "\n  failed (the key stays where it is):\n",
        [SP_AUDIT_ASIDE] = "\n  set aside (conflicts: copies the proxy never serves, for an "
                           "operator to look at):\n",
    };
    for (int kind = SP_AUDIT_CONFLICT; kind <= SP_AUDIT_ASIDE; kind++) {
        bool first = true;
        for (size_t k = 0; k < ap->nissues; k++) {
            const struct sp_audit_issue *is = &ap->issues[k];
            if ((int)is->kind != kind)
                continue;
            if (first)
                fputs(title[kind], out);
            first = false;
            char *key = sp_audit_key_text(is->key, is->len, a->opt.hex);
            char *aside = sp_audit_aside_text(is->key, is->len, a->opt.hex);
            const char *text = key ? key : "(out of memory)";
            const char *as = aside ? aside : "(out of memory)";
            if (is->kind == SP_AUDIT_CONFLICT)
                fprintf(out, "    %s  on %s, owner %s: set aside as %s\n", text,
                        ap->servers[is->from].addr, ap->servers[is->to].addr, as);
            else if (is->kind == SP_AUDIT_FAILED)
                fprintf(out, "    %s  on %s, owner %s: %s\n", text, ap->servers[is->from].addr,
                        ap->servers[is->to].addr, is->why);
            else
                fprintf(out, "    %s  on %s\n", as, ap->servers[is->from].addr);
            free(key);
            free(aside);
        }
    }
}

static void audit_pool(FILE *out, const struct sp_audit *a, const struct sp_audit_pool *ap)
{
    struct sp_table t;
    char label[600];
    const struct sp_conf_pool *p = ap->pool;
    fprintf(out, "audit: pool '%s' (%s): %s + %s%s%s, %zu servers%s: %llu keys, %llu misplaced",
            p->name, a->conf_path, p->hash, p->distribution, p->hash_tag[0] ? ", hash_tag " : "",
            p->hash_tag, ap->n, sp_conf_pool_is_sentinel(p) ? " (masters from Sentinel)" : "",
            (unsigned long long)ap->keys, (unsigned long long)ap->misplaced);
    if (a->opt.fix)
        fprintf(out, ", %llu moved, %llu conflicts, %llu failed", (unsigned long long)ap->moved,
                (unsigned long long)ap->conflicts, (unsigned long long)ap->failed);
    if (ap->aside)
        fprintf(out, ", %llu set aside (conflicts)", (unsigned long long)ap->aside);
    fputs("\n\n", out);
    sp_table_init(&t, 4, "llrr");
    sp_table_cell(&t, "server");
    sp_table_cell(&t, "scanned at");
    sp_table_cell(&t, "keys");
    sp_table_cell(&t, "misplaced");
    for (size_t i = 0; i < ap->n; i++) {
        const struct sp_audit_server *s = &ap->servers[i];
        sp_table_cell(&t, "%s", sp_oracle_label(s->conf, label, sizeof label));
        sp_table_cell(&t, "%s", s->addr);
        sp_table_cell(&t, "%llu", (unsigned long long)s->keys);
        sp_table_cell(&t, "%llu", (unsigned long long)s->misplaced);
    }
    sp_table_print(&t, out, "  ");
    sp_table_free(&t);
    if (ap->misplaced)
        audit_flows(out, a, ap);
    audit_issues(out, a, ap);
    fputc('\n', out);
}

void sp_oracle_text_audit(FILE *out, const struct sp_audit *a)
{
    uint64_t keys = 0, misplaced = 0;
    for (size_t i = 0; i < a->npools; i++) {
        audit_pool(out, a, &a->pools[i]);
        keys += a->pools[i].keys;
        misplaced += a->pools[i].misplaced;
    }
    fprintf(out, "%zu pool%s, %llu keys scanned in %.2f s (%.0f keys/s), %llu misplaced%s\n",
            a->npools, a->npools == 1 ? "" : "s", (unsigned long long)keys, a->seconds,
            a->seconds > 0 ? (double)keys / a->seconds : 0, (unsigned long long)misplaced,
            a->opt.fix ? "" : misplaced ? " (--fix moves them to their owners)" : "");
}

/* ---- migrate ---- */

/* Keys moving from a source server to a target server, and what became of them. */
static void migrate_pairs(FILE *out, const struct sp_migrate *m, const struct sp_audit_pool *ap)
{
    struct sp_table t;
    bool fix = m->a.opt.fix;
    sp_table_init(&t, fix ? 7 : 3, "llrrrrr");
    sp_table_cell(&t, "from");
    sp_table_cell(&t, "to");
    sp_table_cell(&t, "to move");
    if (fix) {
        sp_table_cell(&t, "moved");
        sp_table_cell(&t, "nokey");
        sp_table_cell(&t, "conflicts");
        sp_table_cell(&t, "failed");
    }
    for (size_t k = 0; k < ap->n * ap->n; k++) {
        const struct sp_audit_flow *f = &ap->flows[k];
        char label[600];
        if (!f->misplaced)
            continue;
        sp_table_cell(&t, "%s", sp_audit_server_label(&ap->servers[k / ap->n], label,
                                                      sizeof label));
        sp_table_cell(&t, "%s", sp_audit_server_label(&ap->servers[k % ap->n], label,
                                                      sizeof label));
        sp_table_cell(&t, "%llu", (unsigned long long)f->misplaced);
        if (fix) {
            sp_table_cell(&t, "%llu", (unsigned long long)f->moved);
            sp_table_cell(&t, "%llu", (unsigned long long)f->nokey);
            sp_table_cell(&t, "%llu", (unsigned long long)f->conflicts);
            sp_table_cell(&t, "%llu", (unsigned long long)f->failed);
        }
    }
    fprintf(out, "\n  keys whose owner changes, from their old owner to their new one:\n");
    sp_table_print(&t, out, "  ");
    sp_table_free(&t);
}

void sp_oracle_text_migrate(FILE *out, const struct sp_migrate *m)
{
    const struct sp_audit_pool *ap = &m->a.pools[0];
    const struct sp_conf_pool *to = m->pool, *from = to->migrate_from;
    uint64_t moving = 0;
    for (size_t k = 0; k < ap->n * ap->n; k++)
        moving += ap->flows[k].misplaced;
    fprintf(out, "migrate%s: pool '%s' (%s), plan %016" PRIx64 ": %zu servers (%s/%s) -> %zu "
            "servers (%s/%s)\n", m->a.opt.fix ? "" : " --dry-run", to->name, m->a.conf_path,
            m->plan_id, from->nservers, from->hash, from->distribution, to->nservers, to->hash,
            to->distribution);
    fprintf(out, "  %llu keys scanned on the old layout's servers: %llu to move, %llu at home, "
            "%llu misplaced (owned there in neither layout: left for audit --fix)\n",
            (unsigned long long)ap->keys, (unsigned long long)moving,
            (unsigned long long)(ap->keys - moving - ap->misplaced),
            (unsigned long long)ap->misplaced);
    if (m->a.opt.fix)
        fprintf(out, "  %llu moved, %llu gone already (moved by a proxy), %llu conflicts, "
                "%llu failed\n", (unsigned long long)ap->moved, (unsigned long long)ap->nokey,
                (unsigned long long)ap->conflicts, (unsigned long long)ap->failed);
    if (ap->aside)
        fprintf(out, "  %llu set aside (conflicts) found: copies an operator must look at\n",
                (unsigned long long)ap->aside);
    if (moving)
        migrate_pairs(out, m, ap);
    audit_issues(out, &m->a, ap);
    fprintf(out, "\n%.2f s, %.0f keys/s scanned, %.0f keys/s moved\n", m->a.seconds,
            m->a.seconds > 0 ? (double)ap->keys / m->a.seconds : 0,
            m->a.seconds > 0 ? (double)ap->moved / m->a.seconds : 0);
}
