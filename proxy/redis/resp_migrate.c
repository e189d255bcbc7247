/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis words of online resharding (proto.h: name_request ... survey_names): CLIENT SETNAME
 * to say which phase a proxy is in, CLIENT LIST to see every proxy's, and MIGRATE to move one
 * key atomically from its old owner to its new one (core/migrate.c, core/survey.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "resp_migrate.h"

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

void sp_resp_move_request(struct evbuffer *out, const struct sp_conf_pool *pool,
                          const char *host, int port, int timeout_ms, const void *key,
                          size_t keylen)
{
    char num[24];
    bool auth = pool->redis_auth != NULL;

    /* MIGRATE host port "" db timeout [AUTH password] KEYS key: never COPY, never REPLACE. */
    sp_resp_write_array(out, auth ? 10 : 8);
    write_str(out, "MIGRATE");
    write_str(out, host);
    snprintf(num, sizeof(num), "%d", port);
    write_str(out, num);
    write_str(out, "");
    snprintf(num, sizeof(num), "%d", pool->redis_db);
    write_str(out, num);
    snprintf(num, sizeof(num), "%d", timeout_ms);
    write_str(out, num);
    if (auth) {
        write_str(out, "AUTH");
        write_str(out, pool->redis_auth);
    }
    write_str(out, "KEYS");
    sp_resp_write_bulk(out, key, keylen);
}

enum sp_move_result sp_resp_move_result(struct evbuffer *reply, char *why, size_t whylen)
{
    char line[256];
    ev_ssize_t n = evbuffer_copyout(reply, line, sizeof(line) - 1);

    line[n > 0 ? n : 0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "+OK") == 0 || strcmp(line, "+NOKEY") == 0)
        return SP_MOVE_DONE;
    /* Redis relays the target's refusal: "-ERR Target instance replied with error: BUSYKEY
       Target key name already exists." (older versions: "-BUSYKEY ..." itself). */
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
