/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle --csv: one table per command (RFC 4180 quoting), every row with the header's column
 * count, for spreadsheets.  The summary figures that do not fit a table are in --json.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "audit.h"
#include "migrate.h"

static void field(FILE *out, const char *s, bool last)
{
    s = s ? s : "";
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

static void number(FILE *out, double v, bool last)
{
    fprintf(out, "%.6g%s", v, last ? "\r\n" : ",");
}

static void count(FILE *out, uint64_t v, bool last)
{
    fprintf(out, "%llu%s", (unsigned long long)v, last ? "\r\n" : ",");
}

void sp_oracle_csv_balance(FILE *out, const struct sp_oracle_side *s, bool sizes)
{
    uint64_t keys = 0, bytes = 0;
    for (size_t i = 0; i < s->n; i++) {
        keys += s->keys[i];
        bytes += s->bytes[i];
    }
    fputs("server,address,named,weight,live,weight_share,space_share,keys,key_share,load", out);
    fputs(sizes ? ",bytes,byte_share\r\n" : "\r\n", out);
    for (size_t i = 0; i < s->n; i++) {
        const struct sp_conf_server *srv = &s->pool->servers[i];
        double share = keys ? (double)s->keys[i] / (double)keys : 0;
        field(out, srv->name, false);
        field(out, srv->addr.text, false);
        field(out, srv->named ? "yes" : "no", false);
        count(out, srv->weight, false);
        field(out, s->live[i] ? "yes" : "no", false);
        number(out, s->weight_share[i], false);
        number(out, s->space_share[i], false);
        count(out, s->keys[i], false);
        number(out, share, false);
        number(out, s->weight_share[i] > 0 ? share / s->weight_share[i] : 0, !sizes);
        if (sizes) {
            count(out, s->bytes[i], false);
            number(out, bytes ? (double)s->bytes[i] / (double)bytes : 0, true);
        }
    }
}

/* One row per server identity; the "to:" columns are that server's old keys by new server. */
static void diff_row(FILE *out, const struct sp_oracle_diff *d, int i, int j, bool sizes)
{
    const struct sp_conf_server *a = i >= 0 ? &d->old.pool->servers[i] : NULL;
    const struct sp_conf_server *b = j >= 0 ? &d->new.pool->servers[j] : NULL;
    uint64_t ok = a ? d->old.keys[i] : 0, nk = b ? d->new.keys[j] : 0;
    char net[32];
    field(out, a ? a->name : "", false);
    field(out, b ? b->name : "", false);
    field(out, a ? a->addr.text : "", false);
    field(out, b ? b->addr.text : "", false);
    number(out, a ? d->old.weight_share[i] : 0, false);
    number(out, b ? d->new.weight_share[j] : 0, false);
    count(out, ok, false);
    count(out, nk, false);
    count(out, a ? sp_oracle_diff_lost(d, (size_t)i) : 0, false);
    count(out, b ? sp_oracle_diff_gained(d, (size_t)j) : 0, false);
    snprintf(net, sizeof net, "%lld", (long long)nk - (long long)ok);
    field(out, net, false);
    if (sizes) {
        count(out, a ? d->old.bytes[i] : 0, false);
        count(out, b ? d->new.bytes[j] : 0, false);
    }
    size_t w = d->new.n + 1;
    for (size_t k = 0; k < w; k++)
        count(out, a ? d->matrix[(size_t)i * w + k] : 0, k == w - 1);
}

void sp_oracle_csv_diff(FILE *out, const struct sp_oracle_diff *d, bool sizes)
{
    fputs("old_server,new_server,old_address,new_address,old_weight_share,new_weight_share,"
          "old_keys,new_keys,lost,gained,net,", out);
    if (sizes)
        fputs("old_bytes,new_bytes,", out);
    for (size_t j = 0; j < d->new.n; j++) {
        char head[600];
        snprintf(head, sizeof head, "to:%s", d->new.pool->servers[j].name);
        field(out, head, false);
    }
    field(out, "to:none", true);
    for (size_t i = 0; i < d->old.n; i++)
        diff_row(out, d, (int)i, d->match_new[i], sizes);
    for (size_t j = 0; j < d->new.n; j++)
        if (d->match_old[j] < 0)
            diff_row(out, d, -1, (int)j, sizes);
}

void sp_oracle_csv_compare(FILE *out, const struct sp_oracle_compare *c)
{
    fputs("hash,distribution,current,hash_bits,fixed_placement,peak_to_mean,stddev,"
          "expected_peak_to_mean,moved_plus_one,moved_fraction_plus_one,"
          "expected_fraction_plus_one,minimum_fraction,error\r\n", out);
    for (size_t k = 0; k < c->nrows; k++) {
        const struct sp_oracle_combo *r = &c->rows[k];
        field(out, r->hash, false);
        field(out, r->dist, false);
        field(out, r->current ? "yes" : "no", false);
        count(out, r->bits, false);
        field(out, r->unstable ? "no" : "yes", false);
        if (r->error[0]) {
            /* Refused: no figures at all (a 0 would sort as the best). */
            fputs(",,,,,,", out);
        } else {
            number(out, r->balance.peak_to_mean, false);
            number(out, r->balance.stddev, false);
            number(out, r->balance.exp_peak_to_mean, false);
            count(out, r->moved, false);
            number(out, c->keys ? (double)r->moved / (double)c->keys : 0, false);
            number(out, r->space_moved, false);
        }
        number(out, c->min_fraction, false);
        field(out, r->error, true);
    }
}

/* One row per (server the keys are on, server that owns them) of every pool: the diagonal holds
 * the keys in place (and set_aside: the set-aside copies found on the server), the rest the
 * misplaced ones and what --fix did with them. */
void sp_oracle_csv_audit(FILE *out, const struct sp_audit *a)
{
    fputs("pool,server,address,owner,owner_address,keys,moved,conflicts,failed,set_aside\r\n",
          out);
    for (size_t p = 0; p < a->npools; p++) {
        const struct sp_audit_pool *ap = &a->pools[p];
        for (size_t k = 0; k < ap->n * ap->n; k++) {
            const struct sp_audit_server *on = &ap->servers[k / ap->n];
            const struct sp_audit_server *owner = &ap->servers[k % ap->n];
            const struct sp_audit_flow *f = &ap->flows[k];
            field(out, ap->pool->name, false);
            field(out, on->conf->name, false);
            field(out, on->addr, false);
            field(out, owner->conf->name, false);
            field(out, owner->addr, false);
            count(out, on == owner ? on->keys - on->misplaced : f->misplaced, false);
            count(out, f->moved, false);
            count(out, f->conflicts, false);
            count(out, f->failed, false);
            count(out, on == owner ? on->aside : 0, true);
        }
    }
}

void sp_oracle_csv_migrate(FILE *out, const struct sp_migrate *m)
{
    const struct sp_audit_pool *ap = &m->a.pools[0];
    fputs("pool,from,from_address,to,to_address,to_move,moved,nokey,conflicts,failed\r\n", out);
    for (size_t k = 0; k < ap->n * ap->n; k++) {
        const struct sp_audit_server *from = &ap->servers[k / ap->n], *to = &ap->servers[k % ap->n];
        const struct sp_audit_flow *f = &ap->flows[k];
        if (!f->misplaced)
            continue;
        field(out, m->pool->name, false);
        field(out, from->conf->name, false);
        field(out, from->addr, false);
        field(out, to->conf->name, false);
        field(out, to->addr, false);
        count(out, f->misplaced, false);
        count(out, f->moved, false);
        count(out, f->nokey, false);
        count(out, f->conflicts, false);
        count(out, f->failed, true);
    }
}
