/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle --json: the same figures as the table, as one JSON object per run.  Strings are
 * escaped for JSON, and bytes that are not valid UTF-8 are written as \u00XX so any name or path
 * still parses.
 */
#include "config.h"

#include <math.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "audit.h"
#include "layout.h"
#include "migrate.h"

/* A tiny streaming writer: tracks whether a comma is due at each nesting level. */
struct jw {
    FILE *out;
    int depth;
    bool comma[32];
};

static void jw_sep(struct jw *j)
{
    if (j->depth > 0 && j->comma[j->depth])
        fputc(',', j->out);
    if (j->depth > 0)
        fprintf(j->out, "\n%*s", 2 * j->depth, "");
    j->comma[j->depth] = true;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] >= 0xf8 || len == 0 || len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

static void jw_string_raw(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s);
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
        } else if (c < 0x80) {
            fputc(c, out);
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (len == 0) {
                fprintf(out, "\\u%04x", c);
            } else {
                fwrite(s + i, 1, len, out);
                i += len - 1;
            }
        }
    }
    fputc('"', out);
}

static void jw_open(struct jw *j, const char *key, char bracket)
{
    jw_sep(j);
    if (key) {
        jw_string_raw(j->out, key);
        fputs(": ", j->out);
    }
    fputc(bracket, j->out);
    j->comma[++j->depth] = false;
}

static void jw_close(struct jw *j, char bracket)
{
    j->depth--;
    fprintf(j->out, "\n%*s%c", 2 * j->depth, "", bracket);
    if (j->depth == 0)
        fputc('\n', j->out);
}

static void jw_key(struct jw *j, const char *key)
{
    jw_sep(j);
    if (key) {
        jw_string_raw(j->out, key);
        fputs(": ", j->out);
    }
}

static void jw_str(struct jw *j, const char *key, const char *v)
{
    jw_key(j, key);
    jw_string_raw(j->out, v);
}

static void jw_u64(struct jw *j, const char *key, uint64_t v)
{
    jw_key(j, key);
    fprintf(j->out, "%llu", (unsigned long long)v);
}

/* Numbers JSON cannot hold (NaN, infinity) become null. */
static void jw_num(struct jw *j, const char *key, double v)
{
    jw_key(j, key);
    if (isfinite(v))
        fprintf(j->out, "%.6g", v);
    else
        fputs("null", j->out);
}

static void jw_bool(struct jw *j, const char *key, bool v)
{
    jw_key(j, key);
    fputs(v ? "true" : "false", j->out);
}

static void pool_fields(struct jw *j, const struct sp_oracle_side *s)
{
    jw_str(j, "conf", s->conf_path);
    jw_str(j, "pool", s->pool->name);
    jw_str(j, "hash", s->pool->hash);
    jw_str(j, "hash_tag", s->pool->hash_tag);
    jw_str(j, "distribution", s->pool->distribution);
    jw_u64(j, "hash_bits", s->hash_bits);
}

static void server_fields(struct jw *j, const struct sp_conf_server *srv)
{
    jw_str(j, "name", srv->name);
    jw_str(j, "address", srv->addr.text);
    jw_bool(j, "named", srv->named);
    jw_u64(j, "weight", srv->weight);
}

static void balance_fields(struct jw *j, const struct sp_oracle_side *s,
                           const struct sp_oracle_balance *b, bool sizes)
{
    jw_u64(j, "keys", b->keys);
    jw_u64(j, "unplaced_keys", s->keys[s->n]);
    jw_num(j, "peak_to_mean", b->peak_to_mean);
    jw_str(j, "peak_server", b->nlive ? s->pool->servers[b->peak].name : "");
    jw_num(j, "stddev", b->stddev);
    jw_num(j, "expected_peak_to_mean", b->exp_peak_to_mean);
    jw_num(j, "expected_stddev", b->exp_stddev);
    jw_num(j, "binomial_stddev", b->binomial_stddev);
    if (sizes) {
        jw_u64(j, "bytes", b->bytes);
        jw_num(j, "bytes_peak_to_mean", b->bytes_peak_to_mean);
    }
}

void sp_oracle_json_balance(FILE *out, const struct sp_oracle_side *s,
                            const struct sp_oracle_balance *b, bool sizes)
{
    struct jw j = { .out = out };
    jw_open(&j, NULL, '{');
    jw_str(&j, "command", "balance");
    pool_fields(&j, s);
    balance_fields(&j, s, b, sizes);
    jw_open(&j, "servers", '[');
    for (size_t i = 0; i < s->n; i++) {
        jw_open(&j, NULL, '{');
        server_fields(&j, &s->pool->servers[i]);
        jw_bool(&j, "live", s->live[i]);
        jw_num(&j, "weight_share", s->weight_share[i]);
        jw_num(&j, "space_share", s->space_share[i]);
        jw_u64(&j, "keys", s->keys[i]);
        jw_num(&j, "key_share", b->keys ? (double)s->keys[i] / (double)b->keys : 0);
        jw_num(&j, "expected_keys", s->space_share[i] * (double)b->keys);
        if (sizes)
            jw_u64(&j, "bytes", s->bytes[i]);
        jw_close(&j, '}');
    }
    jw_close(&j, ']');
    jw_close(&j, '}');
}

static void diff_side(struct jw *j, const char *key, const struct sp_oracle_side *s, bool sizes)
{
    struct sp_oracle_balance b;
    sp_oracle_balance_of(s, &b);
    jw_open(j, key, '{');
    pool_fields(j, s);
    balance_fields(j, s, &b, sizes);
    jw_open(j, "servers", '[');
    for (size_t i = 0; i < s->n; i++) {
        jw_open(j, NULL, '{');
        server_fields(j, &s->pool->servers[i]);
        jw_bool(j, "live", s->live[i]);
        jw_num(j, "weight_share", s->weight_share[i]);
        jw_num(j, "space_share", s->space_share[i]);
        jw_u64(j, "keys", s->keys[i]);
        if (sizes)
            jw_u64(j, "bytes", s->bytes[i]);
        jw_close(j, '}');
    }
    jw_close(j, ']');
    jw_close(j, '}');
}

void sp_oracle_json_diff(FILE *out, const struct sp_oracle_diff *d, bool sizes)
{
    struct jw j = { .out = out };
    size_t w = d->new.n + 1;
    jw_open(&j, NULL, '{');
    jw_str(&j, "command", d->what);
    jw_str(&j, "changes", d->changes);
    jw_u64(&j, "keys", d->keys);
    jw_u64(&j, "moved", d->moved);
    jw_num(&j, "moved_fraction", d->keys ? (double)d->moved / (double)d->keys : 0);
    jw_num(&j, "minimum_fraction", d->min_fraction);
    jw_num(&j, "expected_fraction", d->space_moved);
    jw_num(&j, "excess_threshold", d->threshold);
    jw_bool(&j, "excess", d->excess);
    jw_u64(&j, "moved_between_kept_servers", d->churn);
    if (sizes) {
        jw_u64(&j, "bytes", d->bytes);
        jw_u64(&j, "moved_bytes", d->moved_bytes);
    }
    jw_open(&j, "causes", '[');
    static const char *const names[] = { "hash", "distribution", "modula", "renamed", "weights",
                                         "skew", "unknown" };
    for (size_t k = 0, bit = 0; bit < 7; bit++) {
        if (!(d->causes & (1u << bit)))
            continue;
        jw_open(&j, NULL, '{');
        jw_str(&j, "cause", names[bit]);
        jw_str(&j, "detail", k < d->ncauses ? d->cause_text[k] : "");
        k++;
        jw_close(&j, '}');
    }
    jw_close(&j, ']');
    jw_open(&j, "notes", '[');
    for (size_t k = 0; k < d->nnotes; k++)
        jw_str(&j, NULL, d->notes[k]);
    jw_close(&j, ']');
    diff_side(&j, "old", &d->old, sizes);
    diff_side(&j, "new", &d->new, sizes);
    jw_open(&j, "servers", '[');
    for (size_t i = 0; i < d->old.n; i++) {
        jw_open(&j, NULL, '{');
        jw_str(&j, "old", d->old.pool->servers[i].name);
        if (d->match_new[i] >= 0)
            jw_str(&j, "new", d->new.pool->servers[d->match_new[i]].name);
        jw_u64(&j, "lost", sp_oracle_diff_lost(d, i));
        if (d->match_new[i] >= 0)
            jw_u64(&j, "gained", sp_oracle_diff_gained(d, (size_t)d->match_new[i]));
        jw_close(&j, '}');
    }
    for (size_t k = 0; k < d->new.n; k++) {
        if (d->match_old[k] >= 0)
            continue;
        jw_open(&j, NULL, '{');
        jw_str(&j, "new", d->new.pool->servers[k].name);
        jw_u64(&j, "gained", sp_oracle_diff_gained(d, k));
        jw_close(&j, '}');
    }
    jw_close(&j, ']');
    jw_open(&j, "matrix", '[');   /* rows: old servers then "none"; columns: new, then "none" */
    for (size_t i = 0; i <= d->old.n; i++) {
        jw_open(&j, NULL, '[');
        for (size_t k = 0; k < w; k++)
            jw_u64(&j, NULL, d->matrix[i * w + k]);
        jw_close(&j, ']');
    }
    jw_close(&j, ']');
    jw_close(&j, '}');
}

void sp_oracle_json_compare(FILE *out, const struct sp_oracle_compare *c)
{
    struct jw j = { .out = out };
    jw_open(&j, NULL, '{');
    jw_str(&j, "command", "compare");
    jw_str(&j, "conf", c->conf_path);
    jw_str(&j, "pool", c->pool->name);
    jw_u64(&j, "servers", c->pool->nservers);
    jw_u64(&j, "keys", c->keys);
    jw_str(&j, "added_server", c->added);
    jw_num(&j, "minimum_fraction", c->min_fraction);
    jw_open(&j, "rows", '[');
    for (size_t k = 0; k < c->nrows; k++) {
        const struct sp_oracle_combo *r = &c->rows[k];
        jw_open(&j, NULL, '{');
        jw_str(&j, "hash", r->hash);
        jw_str(&j, "distribution", r->dist);
        jw_bool(&j, "current", r->current);
        if (r->error[0]) {
            jw_str(&j, "error", r->error);
        } else {
            jw_u64(&j, "hash_bits", r->bits);
            jw_bool(&j, "fixed_placement", !r->unstable);
            jw_num(&j, "peak_to_mean", r->balance.peak_to_mean);
            jw_num(&j, "stddev", r->balance.stddev);
            jw_num(&j, "expected_peak_to_mean", r->balance.exp_peak_to_mean);
            jw_u64(&j, "moved_plus_one", r->moved);
            jw_num(&j, "moved_fraction_plus_one",
                   c->keys ? (double)r->moved / (double)c->keys : 0);
            jw_num(&j, "expected_fraction_plus_one", r->space_moved);
        }
        jw_close(&j, '}');
    }
    jw_close(&j, ']');
    jw_close(&j, '}');
}

/* conflict_keys, failed_keys or set_aside_keys: the issues of one kind. */
static void audit_issues(struct jw *j, const struct sp_audit *a, const struct sp_audit_pool *ap,
                         enum sp_audit_issue_kind kind)
{
    static const char *const name[] = {[SP_AUDIT_CONFLICT] = "conflict_keys",
                                       [SP_AUDIT_FAILED] = "failed_keys",
                                       [SP_AUDIT_ASIDE] = "set_aside_keys"};
    jw_open(j, name[kind], '[');
    for (size_t k = 0; k < ap->nissues; k++) {
        const struct sp_audit_issue *is = &ap->issues[k];
        if (is->kind != kind)
            continue;
        char *key = sp_audit_key_text(is->key, is->len, a->opt.hex);
        char *aside = sp_audit_aside_text(is->key, is->len, a->opt.hex);
        jw_open(j, NULL, '{');
        jw_str(j, "key", key ? key : "");
        if (kind == SP_AUDIT_ASIDE)
            jw_str(j, "set_aside_as", aside ? aside : "");
        jw_str(j, "on", ap->servers[is->from].addr);
        if (kind != SP_AUDIT_ASIDE)
            jw_str(j, "owner", ap->servers[is->to].addr);
        if (kind == SP_AUDIT_CONFLICT)
            jw_str(j, "set_aside_as", aside ? aside : "");
        if (kind == SP_AUDIT_FAILED)
            jw_str(j, "error", is->why);
        jw_close(j, '}');
        free(key);
        free(aside);
    }
    jw_close(j, ']');
}

/* The three lists of issues. */
static void audit_all_issues(struct jw *j, const struct sp_audit *a,
                             const struct sp_audit_pool *ap)
{
    audit_issues(j, a, ap, SP_AUDIT_CONFLICT);
    audit_issues(j, a, ap, SP_AUDIT_FAILED);
    audit_issues(j, a, ap, SP_AUDIT_ASIDE);
}

static void audit_server(struct jw *j, const struct sp_audit_pool *ap, size_t i)
{
    const struct sp_audit_server *s = &ap->servers[i];
    jw_open(j, NULL, '{');
    server_fields(j, s->conf);
    jw_str(j, "scanned_at", s->addr);
    jw_u64(j, "keys", s->keys);
    jw_u64(j, "misplaced", s->misplaced);
    jw_u64(j, "set_aside", s->aside);
    jw_open(j, "owners", '[');
    for (size_t to = 0; to < ap->n; to++) {
        const struct sp_audit_flow *f = &ap->flows[i * ap->n + to];
        if (!f->misplaced)
            continue;
        jw_open(j, NULL, '{');
        jw_str(j, "owner", ap->servers[to].conf->name);
        jw_str(j, "owner_address", ap->servers[to].addr);
        jw_u64(j, "misplaced", f->misplaced);
        jw_u64(j, "moved", f->moved);
        jw_u64(j, "conflicts", f->conflicts);
        jw_u64(j, "failed", f->failed);
        jw_close(j, '}');
    }
    jw_close(j, ']');
    jw_close(j, '}');
}

void sp_oracle_json_audit(FILE *out, const struct sp_audit *a)
{
    struct jw j = { .out = out };
    jw_open(&j, NULL, '{');
    jw_str(&j, "command", "audit");
    jw_str(&j, "conf", a->conf_path);
    jw_bool(&j, "fix", a->opt.fix);
    jw_bool(&j, "hex_keys", a->opt.hex);
    jw_num(&j, "seconds", a->seconds);
    jw_open(&j, "pools", '[');
    for (size_t p = 0; p < a->npools; p++) {
        const struct sp_audit_pool *ap = &a->pools[p];
        jw_open(&j, NULL, '{');
        jw_str(&j, "pool", ap->pool->name);
        jw_str(&j, "hash", ap->pool->hash);
        jw_str(&j, "hash_tag", ap->pool->hash_tag);
        jw_str(&j, "distribution", ap->pool->distribution);
        jw_bool(&j, "sentinel", sp_conf_pool_is_sentinel(ap->pool));
        jw_u64(&j, "keys", ap->keys);
        jw_u64(&j, "misplaced", ap->misplaced);
        jw_u64(&j, "moved", ap->moved);
        jw_u64(&j, "conflicts", ap->conflicts);
        jw_u64(&j, "failed", ap->failed);
        jw_u64(&j, "set_aside", ap->aside);
        jw_open(&j, "servers", '[');
        for (size_t i = 0; i < ap->n; i++)
            audit_server(&j, ap, i);
        jw_close(&j, ']');
        audit_all_issues(&j, a, ap);
        jw_close(&j, '}');
    }
    jw_close(&j, ']');
    jw_close(&j, '}');
}

static void migrate_layout(struct jw *j, const char *key, const struct sp_conf_pool *p)
{
    jw_open(j, key, '{');
    jw_str(j, "hash", p->hash);
    jw_str(j, "hash_tag", p->hash_tag);
    jw_str(j, "distribution", p->distribution);
    jw_u64(j, "servers", p->nservers);
    jw_close(j, '}');
}

static void migrate_pairs(struct jw *j, const struct sp_audit_pool *ap)
{
    jw_open(j, "pairs", '[');
    for (size_t k = 0; k < ap->n * ap->n; k++) {
        const struct sp_audit_flow *f = &ap->flows[k];
        const struct sp_audit_server *from = &ap->servers[k / ap->n], *to = &ap->servers[k % ap->n];
        if (!f->misplaced)
            continue;
        jw_open(j, NULL, '{');
        jw_str(j, "from", from->conf->name);
        jw_str(j, "from_address", from->addr);
        jw_str(j, "to", to->conf->name);
        jw_str(j, "to_address", to->addr);
        jw_u64(j, "to_move", f->misplaced);
        jw_u64(j, "moved", f->moved);
        jw_u64(j, "nokey", f->nokey);
        jw_u64(j, "conflicts", f->conflicts);
        jw_u64(j, "failed", f->failed);
        jw_close(j, '}');
    }
    jw_close(j, ']');
}

void sp_oracle_json_migrate(FILE *out, const struct sp_migrate *m)
{
    const struct sp_audit_pool *ap = &m->a.pools[0];
    struct jw j = { .out = out };
    char plan[17];
    uint64_t moving = 0;
    for (size_t k = 0; k < ap->n * ap->n; k++)
        moving += ap->flows[k].misplaced;
    snprintf(plan, sizeof plan, "%016" PRIx64, m->plan_id);
    jw_open(&j, NULL, '{');
    jw_str(&j, "command", "migrate");
    jw_str(&j, "conf", m->a.conf_path);
    jw_str(&j, "pool", m->pool->name);
    jw_str(&j, "plan", plan);
    jw_bool(&j, "dry_run", !m->a.opt.fix);
    jw_bool(&j, "hex_keys", m->a.opt.hex);
    migrate_layout(&j, "from", m->pool->migrate_from);
    migrate_layout(&j, "to", m->pool);
    jw_u64(&j, "keys", ap->keys);
    jw_u64(&j, "to_move", moving);
    jw_u64(&j, "misplaced", ap->misplaced);
    jw_u64(&j, "moved", ap->moved);
    jw_u64(&j, "nokey", ap->nokey);
    jw_u64(&j, "conflicts", ap->conflicts);
    jw_u64(&j, "failed", ap->failed);
    jw_u64(&j, "set_aside", ap->aside);
    jw_num(&j, "seconds", m->a.seconds);
    jw_num(&j, "moved_per_second", m->a.seconds > 0 ? (double)ap->moved / m->a.seconds : 0);
    migrate_pairs(&j, ap);
    audit_all_issues(&j, &m->a, ap);
    jw_close(&j, '}');
}
