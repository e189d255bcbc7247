/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scanning one pool: SCAN 0 .. 0 on each server (as redis-cli --scan), each key placed as the
 * proxy places it.  Memory is O(servers) whatever the number of keys: keys are counted, listed and
 * handed to the fixer as they come, never kept.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "hex.h"
#include "move.h"

char *sp_audit_key_text(const unsigned char *key, size_t len, bool hex)
{
    char *text = malloc(4 * len + 1);
    if (text && hex)
        sp_hex_encode(key, len, text);
    else if (text)
        sp_keys_escape(key, len, text);
    return text;
}

char *sp_audit_aside_text(const unsigned char *key, size_t len, bool hex)
{
    size_t plen = strlen(SP_MOVE_ASIDE_PREFIX);
    unsigned char *name = malloc(plen + len + 1);
    if (!name)
        return NULL;
    memcpy(name, SP_MOVE_ASIDE_PREFIX, plen);
    memcpy(name + plen, key, len);
    char *text = sp_audit_key_text(name, plen + len, hex);
    free(name);
    return text;
}

/* Does key[0..len) start with `prefix`? */
static bool has_prefix(const char *key, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return len >= plen && memcmp(key, prefix, plen) == 0;
}

bool sp_audit_protocol_key(struct sp_audit_pool *ap, size_t on, const char *key, size_t len)
{
    if (has_prefix(key, len, SP_MOVE_LOCK_PREFIX))
        return true;   /* a move in flight: its key is scanned (or gone) on its own */
    if (!has_prefix(key, len, SP_MOVE_ASIDE_PREFIX))
        return false;
    size_t plen = strlen(SP_MOVE_ASIDE_PREFIX);
    const unsigned char *orig = (const unsigned char *)key + plen;
    for (size_t k = 0; k < ap->nissues; k++) {
        const struct sp_audit_issue *is = &ap->issues[k];
        if (is->kind == SP_AUDIT_CONFLICT && is->from == on && is->len == len - plen &&
            memcmp(is->key, orig, is->len) == 0)
            return true;   /* this run's conflict, reported as such */
    }
    sp_audit_add_issue(ap, SP_AUDIT_ASIDE, on, on, orig, len - plen, NULL);
    return true;
}

/* key<TAB>where it is<TAB>where it belongs, as diff --list writes moved keys. */
static void list_key(const struct sp_audit *a, const struct sp_audit_pool *ap,
                     const struct sp_rc_reply *key, size_t from, size_t to)
{
    FILE *out = a->opt.list;
    char *text = sp_audit_key_text((const unsigned char *)key->str, key->len, a->opt.hex);
    fputs_unlocked(text ? text : "(out of memory)", out);
    free(text);
    putc_unlocked('\t', out);
    fputs_unlocked(ap->servers[from].addr, out);
    putc_unlocked('\t', out);
    fputs_unlocked(ap->servers[to].addr, out);
    putc_unlocked('\n', out);
}

/* Is `r` a SCAN answer, [cursor, [key, ...]]?  0, or -1 with why set. */
static int scan_reply_ok(const struct sp_rc_reply *r, char *why, size_t len)
{
    if (r->type == SP_RC_ERROR) {
        snprintf(why, len, "%s", r->str);
        return -1;
    }
    if (r->type != SP_RC_ARRAY || r->nelem != 2 || r->elem[0].type != SP_RC_BULK ||
        r->elem[0].len == 0 || r->elem[0].len > 20 || r->elem[1].type != SP_RC_ARRAY) {
        snprintf(why, len, "unexpected reply (not [cursor, keys])");
        return -1;
    }
    for (size_t k = 0; k < r->elem[1].nelem; k++)
        if (r->elem[1].elem[k].type != SP_RC_BULK) {
            snprintf(why, len, "unexpected reply (a key that is not a bulk string)");
            return -1;
        }
    return 0;
}

/* The audit's rule: a key belongs to the server the pool's placement gives it. */
static int place_keys(struct sp_audit *a, struct sp_audit_pool *ap, size_t from,
                      const struct sp_rc_reply *keys, struct sp_audit_fixer *fixer, char *why,
                      size_t len)
{
    struct sp_audit_server *s = &ap->servers[from];
    for (size_t k = 0; k < keys->nelem; k++) {
        const struct sp_rc_reply *key = &keys->elem[k];
        if (sp_audit_protocol_key(ap, from, key->str, key->len))
            continue;
        int to = sp_placer_locate(ap->placer, key->str, key->len);
        s->keys++;
        if (to < 0 || (size_t)to == from)
            continue;
        s->misplaced++;
        ap->flows[from * ap->n + (size_t)to].misplaced++;
        if (a->opt.list)
            list_key(a, ap, key, from, (size_t)to);
        if (fixer && sp_audit_fix_key(fixer, ap, from, (size_t)to, key->str, key->len, why,
                                      len) < 0)
            return -1;
    }
    return 0;
}

int sp_audit_scan_server(struct sp_audit *a, struct sp_audit_pool *ap, size_t i,
                         sp_audit_place_fn place, struct sp_audit_fixer *fixer, char *why,
                         size_t len)
{
    char cursor[24] = "0", count[24];
    snprintf(count, sizeof count, "%llu", (unsigned long long)a->opt.count);
    do {
        const char *argv[] = {"SCAN", cursor, "COUNT", count};
        struct sp_rc_reply *r;
        if (sp_rc_command(ap->servers[i].conn, 4, argv, NULL, &r, why, len) < 0)
            return -1;
        int rc = scan_reply_ok(r, why, len);
        if (rc == 0) {
            memcpy(cursor, r->elem[0].str, r->elem[0].len + 1);
            rc = place(a, ap, i, &r->elem[1], fixer, why, len);
            a->scanned += r->elem[1].nelem;
        }
        sp_rc_reply_free(r);
        if (rc < 0)
            return -1;
        sp_oracle_progress_tick(&a->progress, a->scanned);
    } while (strcmp(cursor, "0") != 0);
    return fixer ? sp_audit_fix_flush(fixer, ap, why, len) : 0;
}

int sp_audit_scan(struct sp_audit *a, struct sp_audit_pool *ap, char *err, size_t errlen)
{
    char why[1024], label[600];
    struct sp_audit_fixer *fixer = NULL;
    if (a->opt.fix && !(fixer = sp_audit_fixer_new(a))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ap->n; i++) {
        rc = sp_audit_scan_server(a, ap, i, place_keys, fixer, why, sizeof why);
        if (rc < 0)
            snprintf(err, errlen, "pool '%s': server %s: %s", ap->pool->name,
                     sp_audit_server_label(&ap->servers[i], label, sizeof label), why);
    }
    sp_audit_totals(ap);
    sp_audit_fixer_free(fixer);
    return rc;
}

void sp_audit_totals(struct sp_audit_pool *ap)
{
    ap->keys = ap->misplaced = ap->moved = ap->conflicts = ap->failed = ap->nokey = 0;
    ap->aside = 0;
    for (size_t i = 0; i < ap->n; i++) {
        ap->keys += ap->servers[i].keys;
        ap->aside += ap->servers[i].aside;
        ap->misplaced += ap->servers[i].misplaced;
    }
    for (size_t k = 0; k < ap->n * ap->n; k++) {
        ap->moved += ap->flows[k].moved;
        ap->conflicts += ap->flows[k].conflicts;
        ap->failed += ap->flows[k].failed;
        ap->nokey += ap->flows[k].nokey;
    }
}
