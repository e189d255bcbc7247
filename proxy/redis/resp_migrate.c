/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis words of online resharding (proto.h: name_request ... survey_names): CLIENT SETNAME
 * to say which phase a proxy is in, CLIENT LIST to see every proxy's, and the scripts and
 * RESTORE of lib/move.h to move one key from its old server to its new one without blocking
 * either (core/migrate.c, core/survey.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_migrate.h"

#include "move.h"
#include "resp.h"

/* A client's lines in CLIENT LIST can be long (flags, buffers, commands): cut beyond this. */
#define SURVEY_LINE_MAX 4096

static void write_str(struct evbuffer *out, const char *s)
{
    sp_resp_write_bulk(out, s, strlen(s));
}

void sp_resp_name_request(struct evbuffer *out, const char *name)
{
    sp_resp_write_array(out, 3);
    write_str(out, "CLIENT");
    write_str(out, "SETNAME");
    write_str(out, name);
}

/* Appends `prefix` + key as one bulk string (a lock's or a set-aside copy's name). */
static void write_prefixed(struct evbuffer *out, const char *prefix, const void *key, size_t len)
{
    size_t plen = strlen(prefix);

    evbuffer_add_printf(out, "$%zu\r\n", plen + len);
    evbuffer_add(out, prefix, plen);
    evbuffer_add(out, key, len);
    evbuffer_add(out, "\r\n", 2);
}

void sp_resp_take_request(struct evbuffer *out, const void *key, size_t keylen,
                          const char *token, int lock_ms)
{
    char ms[24];

    snprintf(ms, sizeof(ms), "%d", lock_ms);
    sp_resp_write_array(out, 7);
    write_str(out, "EVAL");
    write_str(out, SP_MOVE_TAKE);
    write_str(out, "2");
    sp_resp_write_bulk(out, key, keylen);
    write_prefixed(out, SP_MOVE_LOCK_PREFIX, key, keylen);
    write_str(out, token);
    write_str(out, ms);
}

/* Reads "<type><number>\r\n" at the head of `buf` (removed); -1 when it is not that. */
static int take_number(struct evbuffer *buf, char type, long long *v)
{
    char line[32];
    size_t n;
    char *eol = evbuffer_readln(buf, &n, EVBUFFER_EOL_CRLF_STRICT);

    if (eol == NULL)
        return -1;
    snprintf(line, sizeof(line), "%s", eol);
    free(eol);
    if (line[0] != type || sscanf(line + 1, "%lld", v) != 1)
        return -1;
    return 0;
}

enum sp_take_result sp_resp_take_result(struct evbuffer *reply, struct evbuffer *dump,
                                        long long *pttl)
{
    char type;
    long long v, len;

    /* ":0" gone, ":-1" locked, or "*2 $<len> <dump> :<pttl>". */
    if (evbuffer_copyout(reply, &type, 1) != 1)
        return SP_TAKE_ERROR;
    if (type == ':') {
        if (take_number(reply, ':', &v) < 0)
            return SP_TAKE_ERROR;
        return v == 0 ? SP_TAKE_GONE : SP_TAKE_LOCKED;
    }
    if (take_number(reply, '*', &v) < 0 || v != 2 || take_number(reply, '$', &len) < 0 ||
        len < 0 || evbuffer_get_length(reply) < (size_t)len + 2)
        return SP_TAKE_ERROR;
    evbuffer_remove_buffer(reply, dump, (size_t)len);
    evbuffer_drain(reply, 2);
    if (take_number(reply, ':', pttl) < 0)
        return SP_TAKE_ERROR;
    return SP_TAKE_TAKEN;
}

void sp_resp_restore_request(struct evbuffer *out, const void *key, size_t keylen,
                             long long pttl, struct evbuffer *dump)
{
    char ttl[24];

    snprintf(ttl, sizeof(ttl), "%lld", pttl > 0 ? pttl : 0);
    sp_resp_write_array(out, 4);
    write_str(out, "RESTORE");
    sp_resp_write_bulk(out, key, keylen);
    write_str(out, ttl);
    evbuffer_add_printf(out, "$%zu\r\n", evbuffer_get_length(dump));
    evbuffer_add_buffer(out, dump);
    evbuffer_add(out, "\r\n", 2);
}

void sp_resp_settle_request(struct evbuffer *out, const void *key, size_t keylen,
                            const char *token, enum sp_settle how)
{
    if (how == SP_SETTLE_RELEASE) {
        sp_resp_write_array(out, 5);
        write_str(out, "EVAL");
        write_str(out, SP_MOVE_RELEASE);
        write_str(out, "1");
        write_prefixed(out, SP_MOVE_LOCK_PREFIX, key, keylen);
        write_str(out, token);
        return;
    }
    sp_resp_write_array(out, how == SP_SETTLE_ASIDE ? 7 : 6);
    write_str(out, "EVAL");
    write_str(out, how == SP_SETTLE_ASIDE ? SP_MOVE_ASIDE : SP_MOVE_FINISH);
    write_str(out, how == SP_SETTLE_ASIDE ? "3" : "2");
    sp_resp_write_bulk(out, key, keylen);
    write_prefixed(out, SP_MOVE_LOCK_PREFIX, key, keylen);
    if (how == SP_SETTLE_ASIDE)
        write_prefixed(out, SP_MOVE_ASIDE_PREFIX, key, keylen);
    write_str(out, token);
}

enum sp_move_result sp_resp_move_result(struct evbuffer *reply, char *why, size_t whylen)
{
    char line[256];
    ev_ssize_t n = evbuffer_copyout(reply, line, sizeof(line) - 1);

    line[n > 0 ? n : 0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "+OK") == 0)
        return SP_MOVE_DONE;
    /* RESTORE answers "-BUSYKEY Target key name already exists." (MIGRATE relays it inside an
       ERR: "... replied with error: BUSYKEY ..."). */
    if (line[0] == '-' && strstr(line, "BUSYKEY") != NULL)
        return SP_MOVE_CONFLICT;
    snprintf(why, whylen, "%s", line[0] == '-' || line[0] == '+' ? line + 1 : line);
    return SP_MOVE_FAILED;
}

void sp_resp_survey_request(struct evbuffer *out)
{
    sp_resp_write_array(out, 2);
    write_str(out, "CLIENT");
    write_str(out, "LIST");
}

/* The value of field `key` ("name=") in one CLIENT LIST line, or NULL. */
static const char *line_field(const char *line, size_t len, const char *key, size_t *vlen)
{
    size_t klen = strlen(key);

    for (size_t i = 0; i + klen <= len; i++) {
        if ((i == 0 || line[i - 1] == ' ') && memcmp(line + i, key, klen) == 0) {
            const char *v = line + i + klen;
            const char *end = memchr(v, ' ', len - i - klen);

            *vlen = end != NULL ? (size_t)(end - v) : len - i - klen;
            return v;
        }
    }
    return NULL;
}

int sp_resp_survey_names(struct evbuffer *reply,
                         void (*fn)(void *ctx, const char *name, size_t nlen, const char *addr,
                                    size_t alen),
                         void *ctx)
{
    char head[32], line[SURVEY_LINE_MAX];
    struct evbuffer_ptr p;
    size_t hlen, body;
    long long len;

    /* "$<len>\r\n" then the lines, each "id=... addr=... name=... ...\n". */
    p = evbuffer_search_eol(reply, NULL, &hlen, EVBUFFER_EOL_CRLF_STRICT);
    if (p.pos < 0 || (size_t)p.pos >= sizeof(head) ||
        evbuffer_copyout(reply, head, (size_t)p.pos) != p.pos)
        return -1;
    head[p.pos] = '\0';
    if (head[0] != '$' || sscanf(head + 1, "%lld", &len) != 1 || len < 0)
        return -1;
    evbuffer_drain(reply, (size_t)p.pos + hlen);
    body = (size_t)len;
    while (body > 0) {
        size_t n = 0, nlen = 0, alen = 0;
        const char *name, *addr;
        int c;

        /* One line, cut at SURVEY_LINE_MAX (the fields wanted come first in every version). */
        while (body > 0) {
            unsigned char ch;

            evbuffer_remove(reply, &ch, 1);
            body--;
            c = ch;
            if (c == '\n')
                break;
            if (n < sizeof(line))
                line[n++] = (char)c;
        }
        name = line_field(line, n, "name=", &nlen);
        addr = line_field(line, n, "addr=", &alen);
        if (name != NULL && nlen > 0 && addr != NULL)
            fn(ctx, name, nlen, addr, alen);
    }
    return 0;
}
