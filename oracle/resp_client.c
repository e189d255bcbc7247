/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The blocking RESP2 client (resp_client.h).  The socket is non-blocking and every wait goes
 * through poll() with the timeout, so a server that stops answering is a clear error, never a
 * hang.  Replies are read through a buffer and parsed recursively: depth is bounded, so the
 * recursion is too.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "resp_client.h"

#define RBUF_SIZE 65536

struct sp_rc {
    int fd;
    int timeout_ms;
    char *out;                 /* queued commands: [0, out_len) */
    size_t out_len, out_cap;
    char rbuf[RBUF_SIZE];      /* received, not parsed yet: [rpos, rend) */
    size_t rpos, rend;
    char failed[256];          /* first I/O or protocol error; "" while usable */
};

/* Writes a message into err; returns -1 so that callers can `return fail(...)`. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (errlen == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* strerror, lowercased, as messages here are ("connection refused"). */
static const char *why(int errnum, char *buf, size_t len)
{
    snprintf(buf, len, "%s", strerror(errnum));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

/* Marks the connection failed with a message, copies it to err; returns -1. */
static int broken(struct sp_rc *c, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int broken(struct sp_rc *c, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->failed, sizeof c->failed, fmt, ap);
    va_end(ap);
    return fail(err, errlen, "%s", c->failed);
}

/* Waits for `events` on fd: 1 ready, 0 timed out, -1 error (errno). */
static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    int rc;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* Non-blocking connect to one address, waited for up to timeout_ms.  fd, or -1 with errno. */
static int connect_one(int family, const struct sockaddr *sa, socklen_t salen, int timeout_ms)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, sa, salen) < 0) {
        int soerr = 0;
        socklen_t n = sizeof soerr;
        if (errno != EINPROGRESS)
            goto err;
        int ready = wait_fd(fd, POLLOUT, timeout_ms);
        if (ready == 0)
            errno = ETIMEDOUT;
        if (ready <= 0)
            goto err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &n) < 0)
            goto err;
        if (soerr) {
            errno = soerr;
            goto err;
        }
    }
    if (family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
err:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

static int connect_unix(const char *path, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char buf[128];
    if (strlen(path) >= sizeof sun.sun_path)
        return fail(err, errlen, "unix socket path is longer than %zu bytes",
                    sizeof sun.sun_path - 1);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = connect_one(AF_UNIX, (const struct sockaddr *)&sun, sizeof sun, timeout_ms);
    if (fd < 0)
        return fail(err, errlen, "%s", why(errno, buf, sizeof buf));
    return fd;
}

static int connect_tcp(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    char service[16], buf[128];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return fail(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(gai));
    int fd = -1, last = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, timeout_ms);
        if (fd < 0)
            last = errno;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return fail(err, errlen, "%s", last == ETIMEDOUT && timeout_ms >= 0
                                           ? "connect timed out"
                                           : why(last, buf, sizeof buf));
    return fd;
}

struct sp_rc *sp_rc_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    struct sp_rc *c = calloc(1, sizeof *c);
    if (!c) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    c->timeout_ms = timeout_ms;
    c->fd = port == 0 ? connect_unix(host, timeout_ms, err, errlen)
                      : connect_tcp(host, port, timeout_ms, err, errlen);
    if (c->fd < 0) {
        free(c);
        return NULL;
    }
    return c;
}

void sp_rc_set_timeout(struct sp_rc *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

void sp_rc_close(struct sp_rc *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c->out);
    free(c);
}

/* ---- sending ---- */

static int out_append(struct sp_rc *c, const void *bytes, size_t n)
{
    if (c->out_cap - c->out_len < n) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap - c->out_len < n)
            cap *= 2;
        char *grown = realloc(c->out, cap);
        if (!grown)
            return -1;
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, bytes, n);
    c->out_len += n;
    return 0;
}

static int out_header(struct sp_rc *c, char type, size_t n)
{
    char head[32];
    int len = snprintf(head, sizeof head, "%c%zu\r\n", type, n);
    return out_append(c, head, (size_t)len);
}

int sp_rc_send(struct sp_rc *c, size_t argc, const char *const *argv, const size_t *argvlen,
               char *err, size_t errlen)
{
    if (c->failed[0])
        return fail(err, errlen, "%s", c->failed);
    size_t mark = c->out_len;
    int rc = out_header(c, '*', argc);
    for (size_t i = 0; rc == 0 && i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        rc = out_header(c, '$', n) || out_append(c, argv[i], n) || out_append(c, "\r\n", 2);
    }
    if (rc != 0) {
        c->out_len = mark;   /* no half command left queued */
        return fail(err, errlen, "out of memory");
    }
    return 0;
}

static int flush_out(struct sp_rc *c, char *err, size_t errlen)
{
    char buf[128];
    size_t done = 0;
    while (done < c->out_len) {
        /* MSG_NOSIGNAL: a server that hung up is an error to report, not a SIGPIPE. */
        ssize_t n = send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return broken(c, err, errlen, "cannot send: %s", why(errno, buf, sizeof buf));
        int ready = wait_fd(c->fd, POLLOUT, c->timeout_ms);
        if (ready == 0)
            return broken(c, err, errlen, "timed out after %d ms sending a command",
                          c->timeout_ms);
        if (ready < 0)
            return broken(c, err, errlen, "cannot send: %s", why(errno, buf, sizeof buf));
    }
    c->out_len = 0;
    return 0;
}

/* ---- receiving ---- */

/* Reads more bytes after [rpos, rend), moving them to the front first.  0, or -1 (failed). */
static int fill(struct sp_rc *c, char *err, size_t errlen)
{
    char buf[128];
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rend - c->rpos);
        c->rend -= c->rpos;
        c->rpos = 0;
    }
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rend, sizeof c->rbuf - c->rend);
        if (n > 0) {
            c->rend += (size_t)n;
            return 0;
        }
        if (n == 0)
            return broken(c, err, errlen, "connection closed by the server");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return broken(c, err, errlen, "cannot read: %s", why(errno, buf, sizeof buf));
        int ready = wait_fd(c->fd, POLLIN, c->timeout_ms);
        if (ready == 0)
            return broken(c, err, errlen, "timed out after %d ms waiting for a reply",
                          c->timeout_ms);
        if (ready < 0)
            return broken(c, err, errlen, "cannot read: %s", why(errno, buf, sizeof buf));
    }
}

/*
 * The next line (without its CRLF) as a fresh NUL-terminated string in *line.  Lines longer than
 * the buffer (a long -ERR text) are gathered piecewise, up to SP_RC_MAX_LINE.
 */
static int read_line(struct sp_rc *c, char **line, size_t *len, char *err, size_t errlen)
{
    char *acc = NULL;
    size_t n = 0;
    for (;;) {
        const char *start = c->rbuf + c->rpos;
        const char *crlf = memmem(start, c->rend - c->rpos, "\r\n", 2);
        size_t part = crlf ? (size_t)(crlf - start) : c->rend - c->rpos;
        if (!crlf && part > 0 && start[part - 1] == '\r')
            part--;   /* half of a CRLF: keep it for the next search */
        if (n + part > SP_RC_MAX_LINE) {
            free(acc);
            return broken(c, err, errlen, "protocol error: reply line over %u bytes",
                          SP_RC_MAX_LINE);
        }
        char *grown = realloc(acc, n + part + 1);
        if (!grown) {
            free(acc);
            return broken(c, err, errlen, "out of memory");
        }
        acc = grown;
        memcpy(acc + n, start, part);
        n += part;
        acc[n] = '\0';
        c->rpos += part;
        if (crlf) {
            c->rpos += 2;
            *line = acc;
            *len = n;
            return 0;
        }
        if (fill(c, err, errlen) < 0) {
            free(acc);
            return -1;
        }
    }
}

/* Copies n bytes of the stream into dst, reading as needed.  0, or -1 (failed). */
static int read_exact(struct sp_rc *c, char *dst, size_t n, char *err, size_t errlen)
{
    while (n > 0) {
        if (c->rpos == c->rend && fill(c, err, errlen) < 0)
            return -1;
        size_t k = c->rend - c->rpos < n ? c->rend - c->rpos : n;
        memcpy(dst, c->rbuf + c->rpos, k);
        c->rpos += k;
        dst += k;
        n -= k;
    }
    return 0;
}

/* Strict decimal long long as Redis writes it.  0, or -1 when it is not one. */
static int parse_ll(const char *s, size_t n, long long *out)
{
    size_t i = s[0] == '-' ? 1 : 0;
    unsigned long long v = 0, limit = i ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    if (n == i || n - i > 19)
        return -1;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = s[0] == '-' ? (long long)(0 - v) : (long long)v;
    return 0;
}

static int read_value(struct sp_rc *c, struct sp_rc_reply *r, int depth, char *err,
                      size_t errlen);

static int read_bulk(struct sp_rc *c, struct sp_rc_reply *r, long long n, char *err,
                     size_t errlen)
{
    char crlf[2];
    if (n == -1) {
        r->type = SP_RC_NIL;
        return 0;
    }
    if (n < 0 || (unsigned long long)n > SP_RC_MAX_BULK)
        return broken(c, err, errlen, "protocol error: bulk length %lld is not 0..%u", n,
                      SP_RC_MAX_BULK);
    if (!(r->str = malloc((size_t)n + 1)))
        return broken(c, err, errlen, "out of memory");
    r->type = SP_RC_BULK;
    r->len = (size_t)n;
    r->str[n] = '\0';
    if (read_exact(c, r->str, (size_t)n, err, errlen) < 0 ||
        read_exact(c, crlf, 2, err, errlen) < 0)
        return -1;
    if (crlf[0] != '\r' || crlf[1] != '\n')
        return broken(c, err, errlen, "protocol error: bulk of %lld bytes not followed by CRLF",
                      n);
    return 0;
}

static int read_array(struct sp_rc *c, struct sp_rc_reply *r, long long n, int depth, char *err,
                      size_t errlen)
{
    if (n == -1) {
        r->type = SP_RC_NIL;
        return 0;
    }
    if (n < 0 || (unsigned long long)n > SP_RC_MAX_ELEMS)
        return broken(c, err, errlen, "protocol error: array length %lld is not 0..%u", n,
                      SP_RC_MAX_ELEMS);
    if (depth >= SP_RC_MAX_DEPTH)
        return broken(c, err, errlen, "protocol error: arrays nested deeper than %d",
                      SP_RC_MAX_DEPTH);
    r->type = SP_RC_ARRAY;
    size_t cap = 0;
    while (r->nelem < (size_t)n) {
        if (r->nelem == cap) {
            /* Grow as elements arrive: the announced count alone commits little memory. */
            cap = cap ? 2 * cap : 64;
            if (cap > (size_t)n)
                cap = (size_t)n;
            struct sp_rc_reply *grown = realloc(r->elem, cap * sizeof *grown);
            if (!grown)
                return broken(c, err, errlen, "out of memory");
            r->elem = grown;
        }
        struct sp_rc_reply *e = &r->elem[r->nelem++];
        memset(e, 0, sizeof *e);
        if (read_value(c, e, depth + 1, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int read_value(struct sp_rc *c, struct sp_rc_reply *r, int depth, char *err,
                      size_t errlen)
{
    char *line = NULL;
    size_t len = 0;
    long long n = 0;
    if (read_line(c, &line, &len, err, errlen) < 0)
        return -1;
    char type = len ? line[0] : '\0';
    int rc = 0;
    if (type == '+' || type == '-') {
        r->type = type == '+' ? SP_RC_STATUS : SP_RC_ERROR;
        memmove(line, line + 1, len);   /* with the NUL */
        r->str = line;
        r->len = len - 1;
        return 0;
    }
    if (type != ':' && type != '$' && type != '*')
        rc = broken(c, err, errlen, "protocol error: unexpected reply type byte 0x%02x",
                    (unsigned char)type);
    else if (parse_ll(line + 1, len - 1, &n) < 0)
        rc = broken(c, err, errlen, "protocol error: bad number after '%c'", type);
    free(line);
    if (rc < 0)
        return rc;
    if (type == ':') {
        r->type = SP_RC_INTEGER;
        r->integer = n;
        return 0;
    }
    return type == '$' ? read_bulk(c, r, n, err, errlen)
                       : read_array(c, r, n, depth, err, errlen);
}

static void free_tree(struct sp_rc_reply *r)
{
    for (size_t i = 0; i < r->nelem; i++)
        free_tree(&r->elem[i]);
    free(r->elem);
    free(r->str);
}

void sp_rc_reply_free(struct sp_rc_reply *r)
{
    if (!r)
        return;
    free_tree(r);
    free(r);
}

int sp_rc_read(struct sp_rc *c, struct sp_rc_reply **reply, char *err, size_t errlen)
{
    *reply = NULL;
    if (c->failed[0])
        return fail(err, errlen, "%s", c->failed);
    if (flush_out(c, err, errlen) < 0)
        return -1;
    struct sp_rc_reply *r = calloc(1, sizeof *r);
    if (!r)
        return broken(c, err, errlen, "out of memory");
    if (read_value(c, r, 0, err, errlen) < 0) {
        sp_rc_reply_free(r);
        return -1;
    }
    *reply = r;
    return 0;
}

int sp_rc_command(struct sp_rc *c, size_t argc, const char *const *argv, const size_t *argvlen,
                  struct sp_rc_reply **reply, char *err, size_t errlen)
{
    *reply = NULL;
    if (sp_rc_send(c, argc, argv, argvlen, err, errlen) < 0)
        return -1;
    return sp_rc_read(c, reply, err, errlen);
}

int sp_rc_expect_status(struct sp_rc *c, size_t argc, const char *const *argv, char *err,
                        size_t errlen)
{
    struct sp_rc_reply *r;
    if (sp_rc_command(c, argc, argv, NULL, &r, err, errlen) < 0)
        return -1;
    int rc = 0;
    if (r->type == SP_RC_ERROR)
        rc = fail(err, errlen, "%s", r->str);
    else if (r->type != SP_RC_STATUS)
        rc = fail(err, errlen, "unexpected reply");
    sp_rc_reply_free(r);
    return rc;
}
