/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RESP adapter: the command table (commands.h) and the framers (resp.h) behind the protocol
 * vtable (proto.h).
 *
 * Decides per request: forward by key, split by key, or answer here (PING, QUIT, ECHO, AUTH,
 * SELECT, refused and malformed commands).  A malformed command whose framing is intact gets an
 * -ERR and the connection stays; only lost framing closes it.  Error texts follow nutcracker
 * 0.5.0 where it answers (AUTH, NOAUTH) and Redis 7 where nutcracker just closes the connection
 * (docs/compat.md).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/proto.h"
#include "resp.h"
#include "resp_migrate.h"

/* A request parser block (proto.h: lent to one client at a time). */
struct redis_client {
    struct sp_resp_request req;
    struct sp_key_span *keys;
    size_t keys_cap;
};

struct redis_server {
    struct sp_resp_reply rep;
    struct sp_part *parts;      /* rep.elems as the core sees them (want_parts) */
    size_t parts_cap;
};

/* A merged MGET is built in one piece when its parts hold at most this many bytes; bigger
   values are moved chain by chain instead (a pull-up would copy them whole). */
#define REDIS_MERGE_FLAT_MAX (64u * 1024u)

static void redis_client_init(struct sp_proto_client *cl)
{
    cl->authenticated = cl->pool->redis_auth == NULL;
}

static void redis_parser_init(void *state)
{
    struct redis_client *st = state;

    sp_resp_request_init(&st->req);
}

static void redis_parser_fini(void *state)
{
    struct redis_client *st = state;

    sp_resp_request_free(&st->req);
    free(st->keys);
    st->keys = NULL;
    st->keys_cap = 0;
}

static bool redis_parser_idle(const void *state)
{
    const struct redis_client *st = state;

    return !sp_resp_request_pending(&st->req);
}

static void redis_server_init(void *state)
{
    sp_resp_reply_init(&((struct redis_server *)state)->rep);
}

static void redis_server_fini(void *state)
{
    struct redis_server *st = state;

    sp_resp_reply_free(&st->rep);
    free(st->parts);
}

/* "-CODE text": a coded reason's own code (a server's), else the generic ERR. */
static void redis_error_reply(struct evbuffer *out, const char *reason)
{
    const char *code;
    size_t codelen;
    const char *text = sp_reason_split(reason, &code, &codelen);

    if (code == NULL) {
        code = "ERR";
        codelen = 3;
    }
    evbuffer_add_printf(out, "-%.*s %s\r\n", (int)codelen, code, text);
}

/* Copies a client-supplied name for an error message: printable, capped, lower case. */
static void arg_text(struct evbuffer *in, const struct sp_resp_arg *arg, char *dst, size_t cap,
                     bool lower)
{
    long n = sp_resp_arg_copy(in, 0, arg, dst, cap - 1);

    if (n < 0)
        n = 0;
    dst[n] = '\0';
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)dst[i];

        if (c < 0x20 || c >= 0x7f)
            dst[i] = '?';
        else if (lower && c >= 'A' && c <= 'Z')
            dst[i] = (char)(c + ('a' - 'A'));
    }
}

/* Is the argument exactly the C string `s` (any length: compared a slice at a time)? */
static bool arg_equals(struct evbuffer *in, const struct sp_resp_arg *arg, const char *s)
{
    size_t len = strlen(s);
    char buf[256];

    if (arg->len != len)
        return false;
    for (size_t done = 0; done < len; done += sizeof(buf)) {
        struct sp_resp_arg part = { arg->off + done, len - done };

        if (part.len > sizeof(buf))
            part.len = sizeof(buf);
        if (sp_resp_arg_copy(in, 0, &part, buf, part.len) != (long)part.len ||
            memcmp(buf, s + done, part.len) != 0)
            return false;
    }
    return true;
}

/* AUTH [default] password, checked against the pool's redis_auth (nutcracker's texts). */
static void local_auth(struct sp_proto_client *cl, struct evbuffer *in,
                       const struct sp_resp_request *r, struct evbuffer *local)
{
    const char *want = cl->pool->redis_auth;
    const struct sp_resp_arg *pass = &r->argv[r->argc - 1];

    if (want == NULL) {
        evbuffer_add_printf(local, "-ERR Client sent AUTH, but no password is set\r\n");
        return;
    }
    if (r->argc > 3 || (r->argc == 3 && !arg_equals(in, &r->argv[1], "default")) ||
        !arg_equals(in, pass, want)) {
        cl->authenticated = false;
        evbuffer_add_printf(local, "-ERR invalid password\r\n");
        return;
    }
    cl->authenticated = true;
    evbuffer_add_printf(local, "+OK\r\n");
}

/* SELECT n: fine for the pool's redis_db (server connections use it), refused otherwise. */
static void local_select(struct sp_proto_client *cl, struct evbuffer *in,
                         const struct sp_resp_request *r, struct evbuffer *local)
{
    long long db;

    if (sp_resp_arg_ll(in, 0, &r->argv[1], &db) < 0) {
        evbuffer_add_printf(local, "-ERR value is not an integer or out of range\r\n");
        return;
    }
    if (db == cl->pool->redis_db) {
        evbuffer_add_printf(local, "+OK\r\n");
        return;
    }
    evbuffer_add_printf(local,
                        "-ERR SELECT %lld is not supported by the proxy: pool '%s' serves db %d "
                        "(redis_db)\r\n", db, cl->pool->name, cl->pool->redis_db);
}

/* Commands the proxy answers itself.  Sets SP_MSG_CLOSE for QUIT. */
static void local_command(struct sp_proto_client *cl, struct evbuffer *in,
                          const struct sp_resp_request *r, struct sp_msg *msg,
                          struct evbuffer *local)
{
    switch (r->cmd->id) {
    case SP_CMD_PING:
        if (r->argc == 1) {
            evbuffer_add(local, "+PONG\r\n", 7);
            return;
        }
        if (r->argc == 2) {
            sp_resp_write_arg(local, in, 0, &r->argv[1]);
            return;
        }
        evbuffer_add_printf(local, "-ERR wrong number of arguments for 'ping' command\r\n");
        return;
    case SP_CMD_ECHO:
        sp_resp_write_arg(local, in, 0, &r->argv[1]);
        return;
    case SP_CMD_QUIT:
        evbuffer_add(local, "+OK\r\n", 5);
        msg->flags |= SP_MSG_CLOSE;
        return;
    case SP_CMD_AUTH:
        local_auth(cl, in, r, local);
        return;
    case SP_CMD_SELECT:
        local_select(cl, in, r, local);
        return;
    default:
        evbuffer_add_printf(local, "-ERR %s is not supported by the proxy\r\n", r->cmd->name);
        return;
    }
}

/* Fills st->keys with argv[first], argv[first+step], ... argv[last].  Returns 0 or -1. */
static int collect_keys(struct redis_client *st, size_t first, size_t last, size_t step)
{
    size_t n = (last - first) / step + 1;

    if (n > st->keys_cap) {
        struct sp_key_span *k = realloc(st->keys, n * sizeof(*k));

        if (k == NULL)
            return -1;
        st->keys = k;
        st->keys_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        const struct sp_resp_arg *a = &st->req.argv[first + i * step];

        st->keys[i].off = a->off;
        st->keys[i].len = a->len;
    }
    return 0;
}

/* Routes a framed request with a known command; LOCAL replies go into `local`. */
static void route(struct sp_proto_client *cl, struct evbuffer *in, struct sp_msg *msg,
                  struct evbuffer *local)
{
    struct redis_client *st = cl->state;
    const struct sp_resp_request *r = &st->req;
    const struct sp_command *cmd = r->cmd;
    long long numkeys = 0;
    size_t first = 0, last = 0, step = 1;
    long nkeys;

    switch (cmd->route) {
    case SP_ROUTE_LOCAL:
        local_command(cl, in, r, msg, local);
        return;
    case SP_ROUTE_REJECT:
        evbuffer_add_printf(local, "-ERR %s is not supported by the proxy: %s\r\n", cmd->name,
                            cmd->reason);
        return;
    case SP_ROUTE_KEYLESS:
        /* Any one server can answer: route as the empty key would. */
        msg->kind = SP_MSG_FORWARD;
        msg->nkeys = 1;
        if (collect_keys(st, 0, 0, 1) < 0)
            goto nomem;
        st->keys[0].len = 0;
        msg->keys = st->keys;
        return;
    case SP_ROUTE_EVAL:
        if (sp_resp_arg_ll(in, 0, &r->argv[2], &numkeys) < 0) {
            evbuffer_add_printf(local, "-ERR value is not an integer or out of range\r\n");
            return;
        }
        if (numkeys < 0) {
            evbuffer_add_printf(local, "-ERR Number of keys can't be negative\r\n");
            return;
        }
        if (numkeys == 0) {
            evbuffer_add_printf(local, "-ERR %s without keys is not supported by the proxy: "
                                "it cannot be routed\r\n", cmd->name);
            return;
        }
        break;
    default:
        break;
    }
    nkeys = sp_command_keys(cmd, r->argc, numkeys, &first, &last, &step);
    if (nkeys <= 0) {
        char name[64];

        arg_text(in, &r->argv[0], name, sizeof(name), true);
        if (cmd->route == SP_ROUTE_EVAL)
            evbuffer_add_printf(local, "-ERR Number of keys can't be greater than number of "
                                "args\r\n");
        else
            evbuffer_add_printf(local, "-ERR wrong number of arguments for '%s' command\r\n",
                                name);
        return;
    }
    if (cmd->route == SP_ROUTE_KEY || cmd->route == SP_ROUTE_EVAL)
        last = first; /* routed by the first key only */
    if (collect_keys(st, first, last, step) < 0)
        goto nomem;
    msg->kind = (cmd->route == SP_ROUTE_KEY || cmd->route == SP_ROUTE_EVAL) ? SP_MSG_FORWARD
                                                                             : SP_MSG_MULTI;
    msg->nkeys = (last - first) / step + 1;
    msg->keys = st->keys;
    return;
nomem:
    msg->kind = SP_MSG_LOCAL;
    evbuffer_add_printf(local, "-ERR out of memory\r\n");
}

static enum sp_parse redis_parse_request(struct sp_proto_client *cl, struct evbuffer *in,
                                         struct sp_msg *msg, struct evbuffer *local)
{
    struct redis_client *st = cl->state;
    const struct sp_resp_request *r = &st->req;
    char err[SP_RESP_ERRLEN];
    struct evbuffer *args; /* where the arguments are: the input, or an inline rewrite */
    int rc;

    /* A block between requests may have served another client last: start on this stream. */
    if (!sp_resp_request_pending(&st->req)) {
        sp_resp_request_restart(&st->req, cl->consumed);
        if (st->keys_cap > SP_RESP_KEEP_ELEMS) {
            free(st->keys);
            st->keys = NULL;
            st->keys_cap = 0;
        }
    }
    rc = sp_resp_request_parse(&st->req, in, err, sizeof(err));
    if (rc == SP_PARSE_AGAIN)
        return SP_PARSE_AGAIN;
    if (rc == SP_PARSE_ERROR) {
        evbuffer_add_printf(local, "-ERR %s\r\n", err);
        return SP_PARSE_ERROR;
    }
    args = sp_resp_request_args(r, in);
    memset(msg, 0, sizeof(*msg));
    msg->len = r->len;
    msg->kind = SP_MSG_LOCAL;
    msg->priv = r;
    msg->body = r->is_inline ? r->body : NULL;
    if (r->argc == 0)
        return SP_PARSE_OK; /* an empty request: nothing to answer, as Redis */
    if (r->cmd == NULL) {
        char name[128];

        arg_text(args, &r->argv[0], name, sizeof(name), false);
        evbuffer_add_printf(local, "-ERR unknown command '%s'\r\n", name);
        return SP_PARSE_OK;
    }
    msg->cmd = (uint32_t)r->cmd->id;
    if (r->cmd->flags & SP_CMD_RO)
        msg->flags |= SP_MSG_READONLY;
    if (!cl->authenticated && r->cmd->id != SP_CMD_AUTH && r->cmd->id != SP_CMD_QUIT) {
        evbuffer_add_printf(local, "-NOAUTH Authentication required\r\n");
        return SP_PARSE_OK;
    }
    if (!sp_command_arity_ok(r->cmd, r->argc)) {
        char name[64];

        arg_text(args, &r->argv[0], name, sizeof(name), true);
        evbuffer_add_printf(local, "-ERR wrong number of arguments for '%s' command\r\n", name);
        return SP_PARSE_OK;
    }
    route(cl, args, msg, local);
    return SP_PARSE_OK;
}

/* Hands the framed reply's element bounds to the core.  Returns 0, or -1 when out of memory
   (the merge then frames the elements itself). */
static int export_parts(struct redis_server *st, struct sp_reply *rep)
{
    size_t n = st->rep.nelems;

    if (st->rep.type != SP_RESP_ARRAY || n == 0)
        return 0;
    if (n > st->parts_cap) {
        struct sp_part *p = realloc(st->parts, n * sizeof(*p));

        if (p == NULL)
            return -1;
        st->parts = p;
        st->parts_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        st->parts[i].off = st->rep.elems[i].off;
        st->parts[i].len = st->rep.elems[i].len;
    }
    rep->nparts = n;
    rep->parts = st->parts;
    return 0;
}

static enum sp_parse redis_parse_reply(void *state, struct evbuffer *in, uint32_t cmd,
                                       bool want_parts, struct sp_reply *rep)
{
    struct redis_server *st = state;
    char err[SP_RESP_ERRLEN];
    int rc;

    (void)cmd; /* a RESP reply says what it is */
    if (st->parts_cap > SP_RESP_KEEP_ELEMS) {
        free(st->parts); /* the previous reply's, handed over already */
        st->parts = NULL;
        st->parts_cap = 0;
    }

    st->rep.want_elems = want_parts;
    rc = sp_resp_reply_parse(&st->rep, in, err, sizeof(err));
    if (rc == SP_PARSE_AGAIN)
        return SP_PARSE_AGAIN;
    if (rc == SP_PARSE_ERROR)
        return SP_PARSE_ERROR;
    rep->len = st->rep.len;
    rep->extra = 0;
    rep->is_error = st->rep.is_error != 0;
    rep->nparts = 0;
    rep->parts = NULL;
    if (want_parts)
        (void)export_parts(st, rep);
    return SP_PARSE_OK;
}

static unsigned redis_server_hello(const struct sp_conf_pool *pool, struct evbuffer *out)
{
    unsigned n = 0;

    if (pool->redis_auth != NULL) {
        sp_resp_write_array(out, 2);
        sp_resp_write_bulk(out, "AUTH", 4);
        sp_resp_write_bulk(out, pool->redis_auth, strlen(pool->redis_auth));
        n++;
    }
    if (pool->redis_db != 0) {
        char db[24];
        int len = snprintf(db, sizeof(db), "%d", pool->redis_db);

        sp_resp_write_array(out, 2);
        sp_resp_write_bulk(out, "SELECT", 6);
        sp_resp_write_bulk(out, db, (size_t)len);
        n++;
    }
    return n;
}

/*
 * The setup is AUTH (when redis_auth is set) then SELECT (when redis_db is not 0): the last
 * reply answers SELECT if there is one.  The error line is "-CODE message"; a line that does not
 * start with a code (not Redis's habit) keeps all its words, under ERR.
 */
static void redis_hello_refusal(const struct sp_conf_pool *pool, unsigned left,
                                struct evbuffer *in, const struct sp_reply *rep,
                                struct sp_refusal *why)
{
    char line[SP_REASON_CODE_MAX + SP_REFUSAL_TEXT_MAX];
    size_t cap = rep->len < sizeof(line) ? rep->len : sizeof(line) - 1;
    ev_ssize_t n = evbuffer_copyout(in, line, cap);
    const char *msg = line + 1;
    size_t codelen;

    why->step = left == 1 && pool->redis_db != 0 ? "SELECT" : "AUTH";
    if (n < 1)
        n = 1; /* a reply has its type byte: only an empty copy is odd, read as "-" */
    while (n > 1 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    line[n] = '\0';
    for (ev_ssize_t i = 1; i < n; i++) {
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
            line[i] = '?';
    }
    codelen = sp_reason_code_len(msg);
    if (codelen > 0) {
        memcpy(why->code, msg, codelen);
        why->code[codelen] = '\0';
        msg += codelen + (msg[codelen] == ' ');
    } else {
        snprintf(why->code, sizeof(why->code), "ERR");
    }
    n = (ev_ssize_t)strlen(msg);
    if ((size_t)n >= sizeof(why->text))
        n = (ev_ssize_t)sizeof(why->text) - 1; /* cut: the code is what clients act on */
    memcpy(why->text, msg, (size_t)n);
    why->text[n] = '\0';
}

/* Number of keys of fragment f. */
static size_t frag_keys(const uint32_t *frag_of_key, size_t nkeys, uint32_t f)
{
    size_t n = 0;

    for (size_t i = 0; i < nkeys; i++)
        n += frag_of_key[i] == f;
    return n;
}

/*
 * Bytes of fragment f's arguments in a flat multibulk request: the "$len\r\n<bytes>\r\n" runs
 * of its keys (and values), as they stand.  *nargs gets how many arguments that is.
 */
static size_t flat_frag_bytes(const struct sp_resp_request *r, const uint32_t *frag_of_key,
                              size_t step, uint32_t f, size_t *nargs)
{
    size_t prev = r->argv[0].off + r->argv[0].len + 2;
    size_t bytes = 0, n = 0;

    for (size_t i = 1; i < r->argc; i++) {
        size_t end = r->argv[i].off + r->argv[i].len + 2;

        if (frag_of_key[(i - 1) / step] == f) {
            bytes += end - prev;
            n++;
        }
        prev = end;
    }
    *nargs = n;
    return bytes;
}

/* Writes fragment f of a flat multibulk request into one reserved piece of `out`. */
static int split_flat_frag(const struct sp_resp_request *r, const unsigned char *flat,
                           const uint32_t *frag_of_key, size_t step, uint32_t f,
                           struct evbuffer *out)
{
    const struct sp_resp_arg *name = &r->argv[0];
    size_t nargs, prev = name->off + name->len + 2;
    size_t bytes = flat_frag_bytes(r, frag_of_key, step, f, &nargs);
    struct evbuffer_iovec v;
    char *p;

    if (evbuffer_reserve_space(out, (ev_ssize_t)(2 * SP_RESP_HEADER_MAX + name->len + 2 + bytes),
                               &v, 1) != 1)
        return -1;
    p = v.iov_base;
    p += sp_resp_format_header(p, '*', (long long)(1 + nargs));
    p += sp_resp_format_header(p, '$', (long long)name->len);
    memcpy(p, flat + name->off, name->len + 2);
    p += name->len + 2;
    for (size_t i = 1; i < r->argc; i++) {
        size_t end = r->argv[i].off + r->argv[i].len + 2;

        if (frag_of_key[(i - 1) / step] == f) {
            memcpy(p, flat + prev, end - prev);
            p += end - prev;
        }
        prev = end;
    }
    v.iov_len = (size_t)(p - (char *)v.iov_base);
    return evbuffer_commit_space(out, &v, 1);
}

static int redis_split(const struct sp_msg *msg, struct evbuffer *req, const void *flat,
                       const uint32_t *frag_of_key, size_t nfrags, struct evbuffer *const *out,
                       struct evbuffer *memo)
{
    const struct sp_resp_request *r = msg->priv;
    const struct sp_command *cmd = sp_command_get((enum sp_cmd_id)msg->cmd);
    size_t step = cmd->route == SP_ROUTE_MSET ? 2 : 1;
    size_t consumed;

    (void)memo; /* RESP replies answer every key: the merge needs nothing more */
    /* An inline request arrives here rewritten (msg->body): always a multibulk. */
    if (flat != NULL) {
        for (uint32_t f = 0; f < nfrags; f++) {
            if (split_flat_frag(r, flat, frag_of_key, step, f, out[f]) < 0)
                return -1;
        }
        return 0;
    }
    for (uint32_t f = 0; f < nfrags; f++) {
        if (sp_resp_write_array(out[f], 1 + frag_keys(frag_of_key, msg->nkeys, f) * step) < 0 ||
            sp_resp_write_arg(out[f], req, 0, &r->argv[0]) < 0)
            return -1;
    }
    /* Move each "$len\r\n<bytes>\r\n" as it stands: values are never copied. */
    consumed = r->argv[0].off + r->argv[0].len + 2;
    evbuffer_drain(req, consumed);
    for (size_t i = 1; i < r->argc; i++) {
        size_t end = r->argv[i].off + r->argv[i].len + 2;

        if (evbuffer_remove_buffer(req, out[frag_of_key[(i - 1) / step]], end - consumed) !=
            (int)(end - consumed))
            return -1;
        consumed = end;
    }
    return 0;
}

/* Frames the value at the head of `buf` (a fresh parser: allocates nothing without elems). */
static bool frame_value(struct evbuffer *buf, struct sp_resp_reply *p)
{
    char err[SP_RESP_ERRLEN];

    sp_resp_reply_init(p);
    return sp_resp_reply_parse(p, buf, err, sizeof(err)) == SP_PARSE_OK;
}

/* Whether part `b` is an error (or missing). */
static bool part_failed(struct evbuffer *b)
{
    unsigned char c = 0;

    return evbuffer_copyout(b, &c, 1) != 1 || c == '-';
}

/*
 * The first error among the parts, in key order, or -1.  Each part is looked at once (not once
 * per key): the key order only matters when several failed.
 */
static long first_error(const uint32_t *frag_of_key, size_t nkeys, struct evbuffer *const *rep,
                        size_t nfrags)
{
    size_t nbad = 0;

    for (size_t f = 0; f < nfrags; f++)
        nbad += part_failed(rep[f]);
    if (nbad == 0)
        return -1;
    for (size_t i = 0; i < nkeys; i++) {
        if (part_failed(rep[frag_of_key[i]]))
            return (long)frag_of_key[i];
    }
    return -1;
}

/*
 * Merges MGET parts from the element bounds the reply parser recorded: one reservation in
 * `out`, one memcpy per key.  Returns false, with `out` untouched, when the parts are too big
 * to pull up or do not fit their replies; the caller then frames the elements itself.
 */
static bool merge_mget_parts(const uint32_t *frag_of_key, size_t nkeys,
                             const struct sp_part *parts, struct evbuffer *const *rep,
                             size_t nfrags, struct evbuffer *out)
{
    size_t total = SP_RESP_HEADER_MAX;
    struct evbuffer_iovec v;
    char *p;

    for (size_t f = 0; f < nfrags; f++) {
        if (evbuffer_get_length(rep[f]) > REDIS_MERGE_FLAT_MAX)
            return false;
    }
    for (size_t i = 0; i < nkeys; i++) {
        if (parts[i].off + parts[i].len > evbuffer_get_length(rep[frag_of_key[i]]))
            return false;
        total += parts[i].len;
    }
    if (evbuffer_reserve_space(out, (ev_ssize_t)total, &v, 1) != 1)
        return false;
    p = v.iov_base;
    p += sp_resp_format_header(p, '*', (long long)nkeys);
    for (size_t i = 0; i < nkeys; i++) {
        /* Already contiguous after the first call per part: pull-up is then a length check. */
        const unsigned char *b = evbuffer_pullup(rep[frag_of_key[i]], -1);

        if (b == NULL)
            return false; /* nothing committed: `out` is as it was */
        memcpy(p, b + parts[i].off, parts[i].len);
        p += parts[i].len;
    }
    v.iov_len = (size_t)(p - (char *)v.iov_base);
    return evbuffer_commit_space(out, &v, 1) == 0;
}

static void merge_mget(const uint32_t *frag_of_key, size_t nkeys, const struct sp_part *parts,
                       struct evbuffer *const *rep, size_t nfrags, struct evbuffer *out)
{
    struct sp_resp_reply p;

    if (parts != NULL && merge_mget_parts(frag_of_key, nkeys, parts, rep, nfrags, out))
        return;

    /* Each part is "*k\r\n" and then k values, answering its keys in order. */
    for (size_t f = 0; f < nfrags; f++) {
        struct evbuffer_ptr eol = evbuffer_search_eol(rep[f], NULL, NULL, EVBUFFER_EOL_CRLF);
        unsigned char c = 0;

        if (eol.pos < 0 || evbuffer_copyout(rep[f], &c, 1) != 1 || c != '*') {
            redis_error_reply(out, "Unexpected reply from server to a split MGET");
            return;
        }
        evbuffer_drain(rep[f], (size_t)eol.pos + 2);
    }
    sp_resp_write_array(out, nkeys);
    for (size_t i = 0; i < nkeys; i++) {
        struct evbuffer *b = rep[frag_of_key[i]];

        if (!frame_value(b, &p)) {
            sp_resp_reply_free(&p);
            evbuffer_add(out, "$-1\r\n", 5); /* a short part: keep the array well-formed */
            continue;
        }
        evbuffer_remove_buffer(b, out, p.len);
        sp_resp_reply_free(&p);
    }
}

static void redis_merge(uint32_t cmd_id, const uint32_t *frag_of_key, size_t nkeys,
                        const struct sp_part *parts, struct evbuffer *const *rep, size_t nfrags,
                        struct evbuffer *memo, struct evbuffer *out)
{
    const struct sp_command *cmd = sp_command_get((enum sp_cmd_id)cmd_id);
    long bad = first_error(frag_of_key, nkeys, rep, nfrags);
    struct sp_resp_reply p;
    long long sum = 0;

    (void)memo;
    if (bad >= 0) {
        if (evbuffer_get_length(rep[bad]) == 0)
            redis_error_reply(out, "no reply from server");
        else
            evbuffer_add_buffer(out, rep[bad]);
        return;
    }
    switch (cmd->route) {
    case SP_ROUTE_MGET:
        merge_mget(frag_of_key, nkeys, parts, rep, nfrags, out);
        return;
    case SP_ROUTE_SUM:
        for (size_t f = 0; f < nfrags; f++) {
            bool ok = frame_value(rep[f], &p) && p.type == SP_RESP_INTEGER;

            sp_resp_reply_free(&p);
            if (!ok) {
                redis_error_reply(out, "Unexpected reply from server to a split command");
                return;
            }
            sum += p.integer;
        }
        sp_resp_write_integer(out, sum);
        return;
    default: /* MSET: every part said +OK */
        for (size_t f = 0; f < nfrags; f++) {
            unsigned char c = 0;

            if (evbuffer_copyout(rep[f], &c, 1) != 1 || c != '+') {
                redis_error_reply(out, "Unexpected reply from server to a split command");
                return;
            }
        }
        evbuffer_add(out, "+OK\r\n", 5);
        return;
    }
}

const struct sp_proto sp_proto_redis = {
    .name = "redis",
    .client_state_size = sizeof(struct redis_client),
    .server_state_size = sizeof(struct redis_server),
    .client_init = redis_client_init,
    .parser_init = redis_parser_init,
    .parser_fini = redis_parser_fini,
    .parser_idle = redis_parser_idle,
    .server_init = redis_server_init,
    .server_fini = redis_server_fini,
    .parse_request = redis_parse_request,
    .parse_reply = redis_parse_reply,
    .error_reply = redis_error_reply,
    .server_hello = redis_server_hello,
    .hello_refusal = redis_hello_refusal,
    .name_request = sp_resp_name_request,
    .take_request = sp_resp_take_request,
    .take_result = sp_resp_take_result,
    .restore_request = sp_resp_restore_request,
    .move_result = sp_resp_move_result,
    .settle_request = sp_resp_settle_request,
    .survey_request = sp_resp_survey_request,
    .survey_names = sp_resp_survey_names,
    .split = redis_split,
    .merge = redis_merge,
};
