/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML walk: nutcracker's config shape, event by event.
 *
 *   pool_name:            <- top-level block mapping, one entry per pool, in file order
 *     key: scalar          <- pool settings
 *     servers:             <- a key that takes a block sequence of scalars (also: sentinels)
 *       - host:port:weight [name]
 *     sentinel_masters:    <- the one key that takes a block mapping of scalars
 *       name: master
 *     migrate_from:        <- a layout: a mapping of layout keys (servers a list), or a list
 *       servers:
 *        - host:port:weight [name]
 *
 * The event API (not the document API) is used so that every event carries its own position,
 * deeply nested garbage is rejected at the first level too deep without building a tree, and the
 * YAML features nutcracker refuses (flow collections, anchors, aliases, tags, explicit document
 * markers and directives) can be refused here too, with a reason.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "conf_int.h"

struct cf_walk {
    struct cf_ctx *cx;
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    struct sp_conf_mark *listen_marks;  /* per pool, for duplicate listen messages */
    size_t pools_cap;
};

static struct sp_conf_mark cf_mark(yaml_mark_t m)
{
    struct sp_conf_mark r = { (unsigned)m.line + 1, (unsigned)m.column + 1 };
    return r;
}

static struct sp_conf_mark ev_mark(const struct cf_walk *w)
{
    return cf_mark(w->ev.start_mark);
}

/* What an event is, in words, for "expected X, got Y" messages. */
static const char *ev_what(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ev->data.scalar.length ? "a scalar" : "an empty value";
    case YAML_SEQUENCE_START_EVENT:
        return "a list";
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT:
        return "nothing";
    default:
        return "something else";
    }
}

/* Start of line `line` (1-based) in the input, counting "\r\n", "\r" and "\n" as breaks. */
static const char *line_start(const struct cf_ctx *cx, unsigned line)
{
    const char *p = cx->text, *end = cx->text + cx->len;

    for (unsigned l = 1; l < line && p < end; p++) {
        if (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] != '\n')))
            l++;
    }
    return p;
}

/* Line and column (in characters, like libyaml's marks) of byte `off` of the input. */
static struct sp_conf_mark offset_mark(const struct cf_ctx *cx, size_t off)
{
    struct sp_conf_mark m = { 1, 1 };

    if (off > cx->len)
        off = cx->len;
    for (size_t i = 0; i < off; i++) {
        char c = cx->text[i];
        if (c == '\n' || (c == '\r' && (i + 1 == cx->len || cx->text[i + 1] != '\n'))) {
            m.line++;
            m.column = 1;
        } else if (((unsigned char)c & 0xc0) != 0x80) {
            m.column++;
        }
    }
    return m;
}

/*
 * Reports a libyaml syntax error.  libyaml's message for a tab in indentation ("found character
 * that cannot start any token") does not mention the tab, the most common cause by far, so a tab
 * in the leading whitespace of the offending line is reported as such.
 */
static int syntax_error(struct cf_walk *w)
{
    const yaml_parser_t *p = &w->parser;
    struct sp_conf_mark at = cf_mark(p->problem_mark);
    const char *problem = p->problem ? p->problem : "unknown problem";

    if (p->error == YAML_MEMORY_ERROR)
        return cf_error(w->cx, at, NULL, NULL, "out of memory while parsing YAML");
    if (p->error == YAML_READER_ERROR)
        return cf_error(w->cx, offset_mark(w->cx, p->problem_offset), NULL, NULL,
                        "%s (byte offset %zu, value 0x%02x; expected UTF-8 text)", problem,
                        p->problem_offset,
                        p->problem_value >= 0 ? (unsigned)p->problem_value : 0u);
    const char *ls = line_start(w->cx, at.line), *end = w->cx->text + w->cx->len;
    for (const char *q = ls; q < end && (*q == ' ' || *q == '\t'); q++) {
        if (*q == '\t') {
            at.column = (unsigned)(q - ls) + 1;
            return cf_error(w->cx, at, NULL, NULL,
                            "tab character in indentation (YAML indentation must use spaces)");
        }
    }
    if (p->context)
        return cf_error(w->cx, at, NULL, NULL, "YAML syntax error: %s (%s at line %u column %u)",
                        problem, p->context, (unsigned)p->context_mark.line + 1,
                        (unsigned)p->context_mark.column + 1);
    return cf_error(w->cx, at, NULL, NULL, "YAML syntax error: %s", problem);
}

/* Rejects what nutcracker refuses in any event: aliases, anchors, tags, flow style. */
static int check_event(struct cf_walk *w)
{
    const yaml_event_t *ev = &w->ev;
    struct sp_conf_mark at = ev_mark(w);
    const yaml_char_t *anchor = NULL, *tag = NULL;
    bool flow = false;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return cf_error(w->cx, at, NULL, NULL,
                        "YAML aliases ('*name') are not supported (nutcracker refuses them)");
    case YAML_DOCUMENT_START_EVENT:
        if (ev->data.document_start.version_directive ||
            ev->data.document_start.tag_directives.start !=
                ev->data.document_start.tag_directives.end)
            return cf_error(w->cx, at, NULL, NULL,
                            "YAML directives ('%%YAML', '%%TAG') are not supported "
                            "(nutcracker refuses them)");
        if (!ev->data.document_start.implicit)
            return cf_error(w->cx, at, NULL, NULL,
                            "document start marker '---' is not supported "
                            "(nutcracker refuses it; remove the line)");
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        if (!ev->data.document_end.implicit)
            return cf_error(w->cx, at, NULL, NULL,
                            "document end marker '...' is not supported "
                            "(nutcracker refuses it; remove the line)");
        return 0;
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
            return cf_error(w->cx, at, NULL, NULL, "value contains a NUL byte");
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        flow = ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        flow = ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
        break;
    default:
        return 0;
    }
    if (anchor)
        return cf_error(w->cx, at, NULL, NULL,
                        "YAML anchors ('&name') are not supported (nutcracker refuses them)");
    if (tag)
        return cf_error(w->cx, at, NULL, NULL,
                        "YAML tags ('!tag') are not supported (nutcracker refuses them)");
    if (flow)
        return cf_error(w->cx, at, NULL, NULL,
                        "flow style ('[...]' or '{...}') is not supported (nutcracker refuses "
                        "it): write one item per line, and quote values that start with '[' or "
                        "'{', e.g. hash_tag: \"{}\"");
    return 0;
}

/* Moves to the next event (freeing the current one).  0, or -1 with the error set. */
static int next(struct cf_walk *w)
{
    if (w->have_ev) {
        yaml_event_delete(&w->ev);
        w->have_ev = false;
    }
    if (!yaml_parser_parse(&w->parser, &w->ev))
        return syntax_error(w);
    w->have_ev = true;
    return check_event(w);
}

/* The current event (a scalar) as a cf_scalar. */
static struct cf_scalar scalar_of(const struct cf_walk *w)
{
    const yaml_event_t *ev = &w->ev;
    struct cf_scalar v = {
        .s = (const char *)ev->data.scalar.value,
        .len = ev->data.scalar.length,
        .mark = ev_mark(w),
    };
    size_t chars = 0;
    unsigned width = (unsigned)(ev->end_mark.column - ev->start_mark.column);

    for (size_t i = 0; i < v.len; i++) {
        if (((unsigned char)v.s[i] & 0xc0) != 0x80)
            chars++;
    }
    v.quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
               ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    v.exact = (v.quoted || ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) &&
              ev->end_mark.line == ev->start_mark.line && width == chars + (v.quoted ? 2 : 0);
    return v;
}

/*
 * A list key (servers, sentinels): the items of a block list of scalars (the current event is the
 * list start), each appended to the pool's list in file order.
 */
static int walk_list(struct cf_walk *w, struct sp_conf_pool *pool, enum cf_key k)
{
    const char *key = cf_key_name(k), *item = cf_key_item(k), *form = cf_key_form(k);

    for (;;) {
        if (next(w) != 0)
            return -1;
        if (w->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (w->ev.type == YAML_MAPPING_START_EVENT)
            return cf_error(w->cx, ev_mark(w), pool->name, key,
                            "%s is a mapping, not a scalar: a ':' followed by a space, or ending "
                            "the entry, makes YAML read a key (expected %s)", item, form);
        if (w->ev.type != YAML_SCALAR_EVENT)
            return cf_error(w->cx, ev_mark(w), pool->name, key, "%s is %s (expected %s)", item,
                            ev_what(&w->ev), form);
        struct cf_scalar v = scalar_of(w);
        if (cf_value_item(w->cx, pool, k, &v) != 0)
            return -1;
    }
}

/* One "name: value" of a mapping key; the current event is the name. */
static int walk_map_entry(struct cf_walk *w, struct sp_conf_pool *pool, enum cf_key k)
{
    const char *key = cf_key_name(k);
    struct cf_scalar name = scalar_of(w);
    struct cf_show s;
    int rc;

    /* the name's text belongs to its event, which the next one replaces */
    char *copy = cf_dup_n(name.s, name.len);
    if (!copy)
        return cf_error(w->cx, name.mark, pool->name, key, "out of memory");
    name.s = copy;
    if (next(w) != 0) {
        rc = -1;
    } else if (w->ev.type != YAML_SCALAR_EVENT) {
        rc = cf_error(w->cx, ev_mark(w), pool->name, key,
                      "the value of %s is %s, not a scalar (expected %s)",
                      cf_show(&s, name.s, name.len), ev_what(&w->ev), cf_key_expect(k));
    } else {
        struct cf_scalar value = scalar_of(w);
        rc = cf_value_master_alias(w->cx, pool, &name, &value);
    }
    free(copy);
    return rc;
}

/*
 * A mapping key (sentinel_masters): "name: value" scalar pairs (the current event is the mapping
 * start), each handed to the key's parser.
 */
static int walk_map(struct cf_walk *w, struct sp_conf_pool *pool, enum cf_key k)
{
    for (;;) {
        if (next(w) != 0)
            return -1;
        if (w->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        if (w->ev.type != YAML_SCALAR_EVENT)
            return cf_error(w->cx, ev_mark(w), pool->name, cf_key_name(k),
                            "entry name is %s, not a scalar (expected %s)", ev_what(&w->ev),
                            cf_key_expect(k));
        if (walk_map_entry(w, pool, k) != 0)
            return -1;
    }
}

/* The value of key `k` for `pool` (a scalar, a list, a mapping); the current event is the value. */
static int walk_value(struct cf_walk *w, struct sp_conf_pool *pool, enum cf_key k)
{
    switch (cf_key_shape(k)) {
    case CF_SHAPE_LIST:
        if (w->ev.type != YAML_SEQUENCE_START_EVENT)
            return cf_error(w->cx, ev_mark(w), pool->name, cf_key_name(k), "expected %s, got %s",
                            cf_key_expect(k), ev_what(&w->ev));
        return walk_list(w, pool, k);
    case CF_SHAPE_MAP:
        if (w->ev.type != YAML_MAPPING_START_EVENT)
            return cf_error(w->cx, ev_mark(w), pool->name, cf_key_name(k), "expected %s, got %s",
                            cf_key_expect(k), ev_what(&w->ev));
        return walk_map(w, pool, k);
    case CF_SHAPE_SCALAR:
    case CF_SHAPE_LAYOUT:
        break;
    }
    if (w->ev.type != YAML_SCALAR_EVENT)
        return cf_error(w->cx, ev_mark(w), pool->name, cf_key_name(k), "expected %s, got %s",
                        cf_key_expect(k), ev_what(&w->ev));
    struct cf_scalar v = scalar_of(w);
    if (v.len == 0)
        return cf_error(w->cx, v.mark, pool->name, cf_key_name(k),
                        "missing value (expected %s)", cf_key_expect(k));
    return cf_value_scalar(w->cx, pool, k, &v);
}

/*
 * The keys of a layout mapping (migrate_from), each parsed into `from` by the pool keys' own
 * parsers; the current event is the mapping start.  Where each was written goes to m->from.
 */
static int walk_layout_map(struct cf_walk *w, struct sp_conf_pool *from, struct cf_pool_marks *m)
{
    const char *key = cf_key_name(CF_KEY_MIGRATE_FROM);
    struct cf_show s;

    for (;;) {
        if (next(w) != 0)
            return -1;
        if (w->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        if (w->ev.type != YAML_SCALAR_EVENT)
            return cf_error(w->cx, ev_mark(w), from->name, key,
                            "setting name is %s, not a scalar (expected %s)", ev_what(&w->ev),
                            cf_key_expect(CF_KEY_MIGRATE_FROM));
        const char *name = (const char *)w->ev.data.scalar.value;
        size_t len = w->ev.data.scalar.length;
        enum cf_key k = cf_key_lookup(name, len);
        struct sp_conf_mark at = ev_mark(w);
        if (k == CF_KEY_COUNT || !cf_key_in_layout(k))
            return cf_error(w->cx, at, from->name, key,
                            "unknown key %s (expected one of: " CF_LAYOUT_KEYS
                            "; every other setting is the pool's own)",
                            cf_show(&s, name, len));
        if (m->from[k].line)
            return cf_error(w->cx, at, from->name, key,
                            "duplicate key %s (already set at line %u)", cf_show(&s, name, len),
                            m->from[k].line);
        m->from[k] = at;
        if (next(w) != 0)
            return -1;
        w->cx->key_prefix = key;
        int rc = walk_value(w, from, k);
        w->cx->key_prefix = NULL;
        if (rc != 0)
            return -1;
    }
}

/*
 * migrate_from: a layout mapping, or directly a servers list (the short form); parsed into a pool
 * of its own that conf_migrate.c completes once the whole pool is known.
 */
static int walk_layout(struct cf_walk *w, struct sp_conf_pool *pool, struct cf_pool_marks *m)
{
    const enum cf_key k = CF_KEY_MIGRATE_FROM;
    int rc;

    if (w->ev.type != YAML_SEQUENCE_START_EVENT && w->ev.type != YAML_MAPPING_START_EVENT)
        return cf_error(w->cx, ev_mark(w), pool->name, cf_key_name(k), "expected %s, got %s",
                        cf_key_expect(k), ev_what(&w->ev));
    pool->migrate_from = calloc(1, sizeof(*pool->migrate_from));
    if (!pool->migrate_from || cf_pool_init(pool->migrate_from, pool->name, m->key[k]) != 0)
        return cf_error(w->cx, ev_mark(w), pool->name, cf_key_name(k), "out of memory");
    if (w->ev.type == YAML_MAPPING_START_EVENT)
        return walk_layout_map(w, pool->migrate_from, m);
    m->from[CF_KEY_SERVERS] = ev_mark(w);
    w->cx->key_prefix = cf_key_name(k);
    rc = walk_list(w, pool->migrate_from, CF_KEY_SERVERS);
    w->cx->key_prefix = NULL;
    return rc;
}

/* One "key: value" of a pool; the current event is the key. */
static int walk_setting(struct cf_walk *w, struct sp_conf_pool *pool, struct cf_pool_marks *m)
{
    struct cf_show s;
    char list[512];

    if (w->ev.type != YAML_SCALAR_EVENT)
        return cf_error(w->cx, ev_mark(w), pool->name, NULL,
                        "setting name is %s, not a scalar (expected 'key: value' lines)",
                        ev_what(&w->ev));
    const char *name = (const char *)w->ev.data.scalar.value;
    size_t len = w->ev.data.scalar.length;
    enum cf_key k = cf_key_lookup(name, len);
    struct sp_conf_mark at = ev_mark(w);

    if (k == CF_KEY_COUNT) {
        cf_key_list(list, sizeof(list));
        return cf_error(w->cx, at, pool->name, NULL, "unknown key %s (expected one of: %s)",
                        cf_show(&s, name, len), list);
    }
    if (m->key[k].line)
        return cf_error(w->cx, at, pool->name, cf_key_name(k),
                        "duplicate key (already set at line %u)", m->key[k].line);
    m->key[k] = at;
    if (next(w) != 0)
        return -1;
    m->value[k] = ev_mark(w);
    if (cf_key_shape(k) == CF_SHAPE_LAYOUT)
        return walk_layout(w, pool, m);
    return walk_value(w, pool, k);
}

/* Appends an initialised pool called `name`; returns it, or NULL with the error set. */
static struct sp_conf_pool *add_pool(struct cf_walk *w, const struct cf_scalar *name)
{
    struct sp_conf *conf = w->cx->conf;

    if (conf->npools == w->pools_cap) {
        size_t ncap = w->pools_cap ? w->pools_cap * 2 : 4;
        struct sp_conf_pool *np = realloc(conf->pools, ncap * sizeof(*np));
        if (!np) {
            cf_error(w->cx, name->mark, NULL, NULL, "out of memory");
            return NULL;
        }
        conf->pools = np;
        struct sp_conf_mark *nm = realloc(w->listen_marks, ncap * sizeof(*nm));
        if (!nm) {
            cf_error(w->cx, name->mark, NULL, NULL, "out of memory");
            return NULL;
        }
        w->listen_marks = nm;
        w->pools_cap = ncap;
    }
    struct sp_conf_pool *pool = &conf->pools[conf->npools];
    if (cf_pool_init(pool, name->s, name->mark) != 0) {
        cf_error(w->cx, name->mark, NULL, NULL, "out of memory");
        return NULL;
    }
    conf->npools++;
    return pool;
}

/* One pool: the current event is its name. */
static int walk_pool(struct cf_walk *w)
{
    struct cf_scalar name = scalar_of(w);
    struct sp_conf *conf = w->cx->conf;
    struct cf_pool_marks m;
    struct cf_show s;

    if (name.len == 0)
        return cf_error(w->cx, name.mark, NULL, NULL,
                        "empty pool name (expected 'NAME:' followed by indented settings)");
    for (size_t i = 0; i < conf->npools; i++) {
        if (strcmp(conf->pools[i].name, name.s) == 0)
            return cf_error(w->cx, name.mark, conf->pools[i].name, NULL,
                            "duplicate pool name (first defined at line %u)",
                            conf->pools[i].mark.line);
    }
    struct sp_conf_pool *pool = add_pool(w, &name);
    if (!pool)
        return -1;
    if (next(w) != 0)
        return -1;
    if (w->ev.type == YAML_SCALAR_EVENT && w->ev.data.scalar.length == 0)
        return cf_error(w->cx, pool->mark, pool->name, NULL,
                        "pool has no settings (expected an indented mapping with at least "
                        "'listen' and 'servers')");
    if (w->ev.type != YAML_MAPPING_START_EVENT)
        return cf_error(w->cx, ev_mark(w), pool->name, NULL,
                        "expected a mapping of settings (indented 'key: value' lines), got %s "
                        "%s", ev_what(&w->ev),
                        w->ev.type == YAML_SCALAR_EVENT
                            ? cf_show(&s, (const char *)w->ev.data.scalar.value,
                                      w->ev.data.scalar.length)
                            : "");
    memset(&m, 0, sizeof(m));
    for (;;) {
        if (next(w) != 0)
            return -1;
        if (w->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (walk_setting(w, pool, &m) != 0)
            return -1;
    }
    if (cf_pool_finish(w->cx, pool, &m) != 0)
        return -1;
    w->listen_marks[conf->npools - 1] = m.value[CF_KEY_LISTEN];
    return cf_pool_check_listen(w->cx, conf->npools - 1, w->listen_marks);
}

/* The whole stream: one implicit document holding one mapping of pools. */
static int walk_stream(struct cf_walk *w)
{
    struct sp_conf_mark top = { 1, 1 };

    if (next(w) != 0)  /* stream start */
        return -1;
    if (next(w) != 0)
        return -1;
    if (w->ev.type == YAML_STREAM_END_EVENT)
        return cf_error(w->cx, top, NULL, NULL,
                        "empty configuration: no pools (expected at least one 'NAME:' line "
                        "followed by indented 'listen:' and 'servers:')");
    if (next(w) != 0)  /* after the document start */
        return -1;
    if (w->ev.type != YAML_MAPPING_START_EVENT)
        return cf_error(w->cx, ev_mark(w), NULL, NULL,
                        "top level is %s (expected a mapping of pool names to pool settings, "
                        "e.g. 'alpha:' on its own line%s)", ev_what(&w->ev),
                        w->ev.type == YAML_SCALAR_EVENT && w->ev.data.scalar.length >= 1024
                            ? "; a YAML key is at most 1024 characters long"
                            : "");
    for (;;) {
        if (next(w) != 0)
            return -1;
        if (w->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (w->ev.type != YAML_SCALAR_EVENT)
            return cf_error(w->cx, ev_mark(w), NULL, NULL,
                            "pool name is %s, not a scalar (expected 'NAME:' lines)",
                            ev_what(&w->ev));
        if (walk_pool(w) != 0)
            return -1;
    }
    if (next(w) != 0)  /* document end */
        return -1;
    if (next(w) != 0)
        return -1;
    if (w->ev.type != YAML_STREAM_END_EVENT)
        return cf_error(w->cx, ev_mark(w), NULL, NULL,
                        "more than one YAML document (nutcracker accepts exactly one)");
    return 0;
}

int cf_parse(struct cf_ctx *cx)
{
    struct cf_walk w = { .cx = cx };
    int rc;

    if (!yaml_parser_initialize(&w.parser))
        return cf_error(cx, (struct sp_conf_mark){ 0, 0 }, NULL, NULL,
                        "out of memory (YAML parser)");
    yaml_parser_set_input_string(&w.parser, (const unsigned char *)cx->text, cx->len);
    rc = walk_stream(&w);
    if (w.have_ev)
        yaml_event_delete(&w.ev);
    yaml_parser_delete(&w.parser);
    free(w.listen_marks);
    return rc;
}
