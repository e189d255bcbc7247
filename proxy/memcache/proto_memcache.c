/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memcached adapter: the command table (mc_commands.h) and the framers (mc.h) behind the
 * protocol vtable (proto.h).
 *
 * Decides per request: forward by key (storage, delete, incr/decr, touch, the meta commands),
 * split by key (get, gets, gat, gats: merged back in the client's key order with one END), send
 * to every server (version, flush_all, verbosity: merged into one answer, mc_fanout.h), or
 * answer here (quit, mn, refused and malformed commands, with memcached's own words).
 * A refused request whose framing is intact is answered and the connection stays, as memcached
 * does; `noreply` silences the answer as it does on memcached.  docs/compat.md lists where this
 * differs from nutcracker 0.5.0 (which closes the connection on most of these) and memcached.
 *
 * Quiet meta requests (flag q) are answered by the server only when there is something to say
 * (a hit, a failure), which a connection shared by many clients cannot match to requests.  So
 * each goes out followed by "mn": the server's MN then always closes its answer, and the reply
 * parser, told the request is quiet, hands the client what came before the MN and drops the MN.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proto.h"
#include "mc.h"
#include "mc_fanout.h"
#include "mc_multiget.h"

/* msg->cmd bit of a quiet meta request (forwarded with "mn" behind it); SP_CMD_NONE aside. */
#define MC_CMD_QUIET 0x40000000u
/* msg->cmd bit of a fan-out request sent with noreply: the merge answers nothing. */
#define MC_CMD_SILENT 0x20000000u

/* A request parser block (proto.h: lent to one client at a time). */
struct mc_client {
    struct sp_mc_request req;
    struct evbuffer *body;      /* a quiet request as forwarded (msg->body), emptied by the core */
};

struct mc_server {
    struct sp_mc_reply rep;
    int quiet_framed;           /* a quiet request's answer is framed; its MN is awaited */
    size_t quiet_len;
    int quiet_error;
};

static void mc_client_init(struct sp_proto_client *cl)
{
    cl->authenticated = true; /* the text protocol has no AUTH (SASL is binary-only) */
}

static void mc_parser_init(void *state)
{
    sp_mc_request_init(&((struct mc_client *)state)->req);
}

static void mc_parser_fini(void *state)
{
    struct mc_client *st = state;

    sp_mc_request_free(&st->req);
    if (st->body != NULL)
        evbuffer_free(st->body);
    st->body = NULL;
}

static bool mc_parser_idle(const void *state)
{
    return !sp_mc_request_pending(&((const struct mc_client *)state)->req);
}

static void mc_server_init(void *state)
{
    sp_mc_reply_init(&((struct mc_server *)state)->rep);
}

static void mc_server_fini(void *state)
{
    struct mc_server *st = state;

    sp_mc_reply_free(&st->rep);
}

/* "SERVER_ERROR <reason>": one line whatever the reason holds. */
static void mc_error_reply(struct evbuffer *out, const char *reason)
{
    char line[SP_MC_ERRLEN];
    const char *code;
    size_t codelen;
    const char *text = sp_reason_split(reason, &code, &codelen);
    /* memcached clients read no code after SERVER_ERROR: a server's stays in the text */
    int n = snprintf(line, sizeof(line), "SERVER_ERROR %.*s%s%s", (int)codelen,
                     code != NULL ? code : "", codelen > 0 ? " " : "", text);

    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    for (int i = 0; i < n; i++) {
        if (line[i] == '\r' || line[i] == '\n')
            line[i] = ' ';
    }
    evbuffer_add(out, line, (size_t)n);
    evbuffer_add(out, "\r\n", 2);
}

/* st->body = the quiet request at the head of `in` (len bytes) and "mn".  Returns 0 or -1. */
static int quiet_body(struct mc_client *st, struct evbuffer *in, size_t len)
{
    struct evbuffer_iovec v;

    if (st->body == NULL && (st->body = evbuffer_new()) == NULL)
        return -1;
    evbuffer_drain(st->body, evbuffer_get_length(st->body));
    if (evbuffer_reserve_space(st->body, (ev_ssize_t)(len + 4), &v, 1) != 1 ||
        evbuffer_copyout(in, v.iov_base, len) != (ev_ssize_t)len)
        return -1;
    memcpy((char *)v.iov_base + len, "mn\r\n", 4);
    v.iov_len = len + 4;
    return evbuffer_commit_space(st->body, &v, 1);
}

/* Requests the proxy answers itself; the reply goes into `local`. */
static void local_command(const struct sp_mc_request *r, struct sp_msg *msg,
                          struct evbuffer *local)
{
    switch (r->cmd->kind) {
    case SP_MC_NOOP:
        evbuffer_add(local, "MN\r\n", 4);
        return;
    case SP_MC_QUIT:
        msg->flags |= SP_MSG_CLOSE; /* memcached closes without a word */
        return;
    case SP_MC_GAT:
        evbuffer_add(local, "END\r\n", 5); /* gat <exptime> and no key: memcached's answer */
        return;
    default:
        if (!r->noreply)
            evbuffer_add_printf(local, "SERVER_ERROR %s is not supported by the proxy: %s\r\n",
                                r->cmd->name, r->cmd->reason);
        return;
    }
}

static enum sp_parse mc_parse_request(struct sp_proto_client *cl, struct evbuffer *in,
                                      struct sp_msg *msg, struct evbuffer *local)
{
    struct mc_client *st = cl->state;
    const struct sp_mc_request *r = &st->req;
    char err[SP_MC_ERRLEN];
    enum sp_parse rc;

    /* A block between requests may have served another client last: start on this stream. */
    if (!sp_mc_request_pending(&st->req))
        sp_mc_request_restart(&st->req, cl->consumed);
    rc = sp_mc_request_parse(&st->req, in, err, sizeof(err));
    if (rc == SP_PARSE_AGAIN)
        return SP_PARSE_AGAIN;
    if (rc == SP_PARSE_ERROR) {
        evbuffer_add_printf(local, "%s\r\n", err);
        return SP_PARSE_ERROR;
    }
    memset(msg, 0, sizeof(*msg));
    msg->len = r->len;
    msg->kind = SP_MSG_LOCAL;
    msg->priv = r;
    if (r->err != NULL) {
        if (!r->noreply)
            evbuffer_add_printf(local, "%s\r\n", r->err);
        return SP_PARSE_OK;
    }
    msg->cmd = (uint32_t)r->cmd->id;
    if (r->cmd->kind == SP_MC_VERSION || r->cmd->kind == SP_MC_ALL) {
        /* Servers get it without the client's noreply (mc_fanout.h): the merge stays quiet. */
        msg->kind = SP_MSG_ALL;
        msg->cmd |= r->noreply ? MC_CMD_SILENT : 0;
        return SP_PARSE_OK;
    }
    if (r->nkeys == 0) {
        local_command(r, msg, local);
        return SP_PARSE_OK;
    }
    if (r->quiet && quiet_body(st, in, r->len) < 0) {
        evbuffer_add_printf(local, "SERVER_ERROR out of memory\r\n");
        return SP_PARSE_OK;
    }
    if (r->quiet) {
        msg->cmd |= MC_CMD_QUIET;
        msg->body = st->body;
    }
    msg->kind = r->cmd->kind == SP_MC_GET || r->cmd->kind == SP_MC_GAT ? SP_MSG_MULTI
                                                                         : SP_MSG_FORWARD;
    msg->flags = r->noreply ? SP_MSG_NOREPLY : 0;
    msg->nkeys = r->nkeys;
    msg->keys = &r->tok[r->first_key]; /* the framer's tokens: keys need no copy */
    return SP_PARSE_OK;
}

/*
 * The answer to a quiet request: whatever the server says (maybe nothing), then the MN of the
 * "mn" sent behind it.  The client gets what came before the MN.
 */
static enum sp_parse parse_quiet(struct mc_server *st, struct evbuffer *in, struct sp_reply *rep)
{
    char err[SP_MC_ERRLEN], mn[4];

    if (!st->quiet_framed) {
        enum sp_parse rc;

        st->rep.want_elems = 0;
        rc = sp_mc_reply_parse(&st->rep, in, err, sizeof(err));
        if (rc != SP_PARSE_OK)
            return rc;
        st->quiet_framed = 1;
        st->quiet_len = st->rep.len;
        st->quiet_error = st->rep.is_error;
        if (st->quiet_len == 4 && sp_mc_copy_at(in, 0, mn, 4) == 0 && memcmp(mn, "MN\r\n", 4) == 0)
            st->quiet_len = 0; /* nothing to say: the MN alone */
    }
    if (st->quiet_len > 0) {
        if (evbuffer_get_length(in) < st->quiet_len + 4)
            return SP_PARSE_AGAIN;
        if (sp_mc_copy_at(in, st->quiet_len, mn, 4) < 0 || memcmp(mn, "MN\r\n", 4) != 0)
            return SP_PARSE_ERROR; /* the MN must follow: the stream is not what was asked */
        sp_mc_reply_skip(&st->rep, 4);
    }
    st->quiet_framed = 0;
    rep->len = st->quiet_len;
    rep->extra = 4;
    rep->is_error = st->quiet_error != 0 && st->quiet_len > 0;
    rep->nparts = 0;
    rep->parts = NULL;
    return SP_PARSE_OK;
}

static enum sp_parse mc_parse_reply(void *state, struct evbuffer *in, uint32_t cmd,
                                    bool want_parts, struct sp_reply *rep)
{
    struct mc_server *st = state;
    char err[SP_MC_ERRLEN];
    enum sp_parse rc;

    if (cmd != SP_CMD_NONE && (cmd & MC_CMD_QUIET))
        return parse_quiet(st, in, rep);
    st->rep.want_elems = want_parts;
    rc = sp_mc_reply_parse(&st->rep, in, err, sizeof(err));
    if (rc != SP_PARSE_OK)
        return rc;
    rep->len = st->rep.len;
    rep->extra = 0;
    rep->is_error = st->rep.is_error != 0;
    rep->nparts = want_parts ? st->rep.nelems : 0;
    rep->parts = want_parts ? st->rep.elems : NULL; /* the VALUE items, in the core's type */
    return SP_PARSE_OK;
}

static unsigned mc_server_hello(const struct sp_conf_pool *pool, struct evbuffer *out)
{
    (void)pool;
    (void)out;
    return 0;
}

static int mc_split(const struct sp_msg *msg, struct evbuffer *req, const void *flat,
                    const uint32_t *frag_of_key, size_t nfrags, struct evbuffer *const *out,
                    struct evbuffer *memo)
{
    const struct sp_mc_request *r = msg->priv;
    const unsigned char *line = flat;

    /* Retrieval lines hold keys only (at most max_retrieval_line bytes): read them in one
       piece. */
    if (line == NULL)
        line = evbuffer_pullup(req, (ev_ssize_t)r->line_len);
    if (line == NULL)
        return -1;
    if (msg->kind == SP_MSG_ALL)
        return sp_mc_fanout_lines(r, line, nfrags, out);
    return sp_mc_split_lines(r, line, frag_of_key, nfrags, out, memo);
}

static void mc_merge(uint32_t cmd, const uint32_t *frag_of_key, size_t nkeys,
                     const struct sp_part *parts, struct evbuffer *const *rep, size_t nfrags,
                     struct evbuffer *memo, struct evbuffer *out)
{
    const struct sp_mc_command *c = sp_mc_command_get(cmd & ~MC_CMD_SILENT); /* never quiet */

    if (cmd & MC_CMD_SILENT)
        return; /* noreply: the servers' answers are swallowed */
    if (c != NULL && c->kind == SP_MC_VERSION)
        sp_mc_merge_version(rep, nfrags, out);
    else if (c != NULL && c->kind == SP_MC_ALL)
        sp_mc_merge_ok(c->name, rep, nfrags, out);
    else
        sp_mc_merge_values(frag_of_key, nkeys, parts, rep, nfrags, memo, out);
}

const struct sp_proto sp_proto_memcache = {
    .name = "memcache",
    .client_state_size = sizeof(struct mc_client),
    .server_state_size = sizeof(struct mc_server),
    .client_init = mc_client_init,
    .parser_init = mc_parser_init,
    .parser_fini = mc_parser_fini,
    .parser_idle = mc_parser_idle,
    .server_init = mc_server_init,
    .server_fini = mc_server_fini,
    .parse_request = mc_parse_request,
    .parse_reply = mc_parse_reply,
    .error_reply = mc_error_reply,
    .server_hello = mc_server_hello,
    .hello_refusal = NULL, /* the setup is empty: nothing to refuse */
    .split = mc_split,
    .merge = mc_merge,
};
