/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client request framing for the memcached text and meta protocols, resumable across reads.
 *
 * A command line is found by searching its LF from where the last search stopped, so a line
 * trickling in byte by byte is scanned once.  Only then is it pulled up (lines are short; a long
 * get line sits in few chains), tokenized on spaces as memcached does, and checked
 * (mc_check.c).  A data block is never looked at: the parser waits until the buffer holds it and
 * then reads its two CRLF bytes.  So a 64 MiB value costs one length comparison per read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mc.h"

enum rq_state {
    RQ_LINE,     /* searching the LF of the command line; `scan` = where to resume */
    RQ_DATA,     /* line checked; waiting for the data block and its CRLF */
    RQ_DONE,     /* framed; the next call starts the next request */
    RQ_FAILED,   /* framing lost; sticky */
};

void sp_mc_request_init(struct sp_mc_request *r)
{
    memset(r, 0, sizeof(*r));
    r->max_line = SP_MC_MAX_LINE;
    r->max_retrieval_line = SP_MC_MAX_RETRIEVAL_LINE;
    r->max_value = SP_MC_MAX_VALUE;
    r->state = RQ_LINE;
}

void sp_mc_request_free(struct sp_mc_request *r)
{
    free(r->tok);
    r->tok = NULL;
    r->tok_cap = 0;
    r->ntok = 0;
}

static void start_request(struct sp_mc_request *r)
{
    r->len = 0;
    r->line_len = 0;
    r->cmd = NULL;
    r->ntok = 0;
    r->first_key = 0;
    r->nkeys = 0;
    r->has_data = 0;
    r->data_len = 0;
    r->noreply = 0;
    r->quiet = 0;
    r->err = NULL;
    r->state = RQ_LINE;
    r->scan = 0;
}

int sp_mc_request_pending(const struct sp_mc_request *r)
{
    return (r->state == RQ_LINE && r->scan > 0) || r->state == RQ_DATA;
}

void sp_mc_request_restart(struct sp_mc_request *r, uint64_t off)
{
    start_request(r);
    r->stream_off = off;
    if (r->tok_cap > SP_MC_KEEP_ELEMS)
        sp_mc_request_free(r);
}

static enum sp_parse fail(struct sp_mc_request *r, char *err, size_t errlen, const char *msg)
{
    r->state = RQ_FAILED;
    if (errlen > 0)
        snprintf(err, errlen, "%s", msg);
    return SP_PARSE_ERROR;
}

/* Only retrieval lines may be longer than max_line (memcached's rule, by the line's start). */
static size_t line_limit(const struct sp_mc_request *r, struct evbuffer *in)
{
    static const char *const long_ok[] = { "get ", "gets ", "gat ", "gats " };
    char head[5];
    ev_ssize_t got = evbuffer_copyout(in, head, sizeof(head));
    size_t n = got > 0 ? (size_t)got : 0;

    for (size_t i = 0; i < sizeof(long_ok) / sizeof(long_ok[0]); i++) {
        size_t k = strlen(long_ok[i]);

        if (n >= k && memcmp(head, long_ok[i], k) == 0)
            return r->max_retrieval_line;
    }
    return r->max_line;
}

/* Makes room for one more token.  Returns 0 or -1. */
static int reserve_token(struct sp_mc_request *r)
{
    struct sp_key_span *t;
    size_t cap;

    if (r->ntok < r->tok_cap)
        return 0;
    cap = r->tok_cap ? r->tok_cap * 2 : 16;
    t = realloc(r->tok, cap * sizeof(*t));
    if (t == NULL)
        return -1;
    r->tok = t;
    r->tok_cap = cap;
    return 0;
}

/* Splits line[0, n) on spaces (runs of them, leading and trailing ones too, as memcached). */
static int tokenize(struct sp_mc_request *r, const unsigned char *line, size_t n)
{
    size_t i = 0;

    r->ntok = 0;
    while (i < n) {
        size_t start;

        while (i < n && line[i] == ' ')
            i++;
        if (i == n)
            break;
        start = i;
        while (i < n && line[i] != ' ')
            i++;
        if (reserve_token(r) < 0)
            return -1;
        r->tok[r->ntok].off = start;
        r->tok[r->ntok].len = i - start;
        r->ntok++;
    }
    return 0;
}

/* Frames the command line (RQ_LINE); OK moves on to the check. */
static enum sp_parse frame_line(struct sp_mc_request *r, struct evbuffer *in, char *err,
                                size_t errlen)
{
    size_t total = evbuffer_get_length(in);
    size_t limit = line_limit(r, in);
    size_t to = total < limit ? total : limit;
    long lf = sp_mc_find_lf(in, r->scan, to);
    const unsigned char *line;
    size_t n;

    if (lf < 0) {
        r->examined += to > r->scan ? to - r->scan : 0;
        if (total >= limit) {
            char msg[SP_MC_ERRLEN];

            snprintf(msg, sizeof(msg), "CLIENT_ERROR line too long (over %zu bytes) at byte %llu",
                     limit, (unsigned long long)r->stream_off);
            return fail(r, err, errlen, msg);
        }
        r->scan = to;
        return SP_PARSE_AGAIN;
    }
    r->examined += (size_t)lf + 1 - r->scan;
    r->line_len = (size_t)lf + 1;
    line = evbuffer_pullup(in, (ev_ssize_t)r->line_len);
    if (line == NULL)
        return fail(r, err, errlen, "SERVER_ERROR out of memory");
    n = (size_t)lf;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (tokenize(r, line, n) < 0)
        return fail(r, err, errlen, "SERVER_ERROR out of memory");
    if (r->ntok > 0 && r->last_cmd != NULL && r->tok[0].len == r->last_cmd->name_len &&
        memcmp(line, r->last_cmd->name, r->tok[0].len) == 0 && r->tok[0].off == 0)
        r->cmd = r->last_cmd; /* pipelines repeat commands: skip the search */
    else
        r->cmd = r->ntok > 0 ? sp_mc_command_lookup(line + r->tok[0].off, r->tok[0].len) : NULL;
    if (r->cmd != NULL)
        r->last_cmd = r->cmd;
    if (sp_mc_request_check(r, line) < 0)
        return fail(r, err, errlen, r->err);
    r->len = r->line_len;
    if (!r->has_data)
        return SP_PARSE_OK;
    r->len += r->data_len + 2;
    r->state = RQ_DATA;
    return SP_PARSE_OK;
}

/* Waits for the data block (RQ_DATA) and checks its CRLF. */
static enum sp_parse frame_data(struct sp_mc_request *r, struct evbuffer *in)
{
    char crlf[2];

    if (evbuffer_get_length(in) < r->len)
        return SP_PARSE_AGAIN;
    if (sp_mc_copy_at(in, r->len - 2, crlf, 2) < 0 || crlf[0] != '\r' || crlf[1] != '\n') {
        /* memcached takes the declared length all the same and says so: framing goes on. */
        if (r->err == NULL)
            r->err = "CLIENT_ERROR bad data chunk";
    }
    return SP_PARSE_OK;
}

enum sp_parse sp_mc_request_parse(struct sp_mc_request *r, struct evbuffer *in, char *err,
                                  size_t errlen)
{
    enum sp_parse rc;

    if (r->state == RQ_FAILED)
        return fail(r, err, errlen, "CLIENT_ERROR framing lost earlier in the stream");
    if (r->state == RQ_DONE) {
        r->stream_off += r->len;
        start_request(r);
    }
    if (r->state == RQ_LINE) {
        rc = frame_line(r, in, err, errlen);
        if (rc != SP_PARSE_OK)
            return rc;
    }
    if (r->state == RQ_DATA && frame_data(r, in) == SP_PARSE_AGAIN)
        return SP_PARSE_AGAIN;
    r->state = RQ_DONE;
    return SP_PARSE_OK;
}
