/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "stats_listener.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core/accept.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"

struct sp_stats_reply;

/* How long a reader may take to read the reply, and then to close its end, before we close. */
#define SP_STATS_LINGER_SEC 5
/*
 * How long a new connection may stay silent before it is taken for a plain (nutcracker-style)
 * reader and gets the JSON.  An HTTP client sends its request line right after connecting, so
 * its first bytes arrive well within this; a plain reader waits this long for its document
 * (nutcracker answers at once).  Any byte that cannot start an HTTP request ends the wait at
 * once.  docs/operations.md has the measurements behind the figure.
 */
#define SP_STATS_REQUEST_WAIT_MSEC 50

static void on_drain_read(struct bufferevent *bev, void *arg);
static void on_reply_event(struct bufferevent *bev, short what, void *arg);
static void on_request_read(struct bufferevent *bev, void *arg);
static void on_request_event(struct bufferevent *bev, short what, void *arg);

struct sp_stats_listener {
    struct event_base *base;
    struct sp_stats *stats;
    struct evconnlistener *listener;
    struct sp_accept_guard accept_guard; /* out of descriptors: pause, do not spin */
    struct event *timer;
    char *snapshot;  /* latest JSON document */
    size_t snapshot_len;
    struct sp_stats_reply *replies; /* connections still being written */
    void (*before_render)(void *ctx); /* sp_stats_listener_before_render */
    void *before_render_ctx;
};

/* The stats to render, brought up to date first when the owner asked to be told. */
static struct sp_stats *current_stats(struct sp_stats_listener *srv)
{
    if (srv->before_render != NULL)
        srv->before_render(srv->before_render_ctx);
    return srv->stats;
}

/* One accepted connection being answered. */
struct sp_stats_reply {
    struct sp_stats_listener *srv;
    struct bufferevent *bev;
    struct sp_stats_reply *prev, *next;
};

static void reply_free(struct sp_stats_reply *r)
{
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        r->srv->replies = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    bufferevent_free(r->bev);
    free(r);
}

/*
 * The whole snapshot is written: half-close and wait for the client's EOF before closing.
 * Closing with unread client bytes (an HTTP-style request, say) would make the kernel send RST,
 * which may destroy the reply before the client read it.
 */
static void on_reply_written(struct bufferevent *bev, void *arg)
{
    struct timeval linger = {SP_STATS_LINGER_SEC, 0};

    bufferevent_setcb(bev, on_drain_read, NULL, on_reply_event, arg);
    if (shutdown(bufferevent_getfd(bev), SHUT_WR) < 0 ||
        bufferevent_set_timeouts(bev, &linger, NULL) < 0 ||
        bufferevent_enable(bev, EV_READ) < 0)
        reply_free(arg);
}

/* Input after the reply is discarded. */
static void on_drain_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

/* EOF, error or a timeout: done with this client. */
static void on_reply_event(struct bufferevent *bev, short what, void *arg)
{
    if (what & BEV_EVENT_ERROR)
        sp_log_verb("stats client connection failed: %s",
                    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    reply_free(arg);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    struct sp_stats_listener *srv = arg;
    struct sp_stats_reply *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        sp_log_error("stats server: out of memory, connection dropped");
        evutil_closesocket(fd);
        return;
    }
    r->srv = srv;
    r->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (r->bev == NULL) {
        sp_log_error("stats server: cannot set up a connection, dropped");
        evutil_closesocket(fd);
        free(r);
        return;
    }
    r->next = srv->replies;
    if (srv->replies != NULL)
        srv->replies->prev = r;
    srv->replies = r;
    /* First find out what the client is: it has SP_STATS_REQUEST_WAIT_MSEC to start an HTTP
     * request, else it is a plain reader. */
    struct timeval wait = {0, SP_STATS_REQUEST_WAIT_MSEC * 1000};
    bufferevent_setcb(r->bev, on_request_read, NULL, on_request_event, r);
    if (bufferevent_set_timeouts(r->bev, &wait, NULL) < 0 ||
        bufferevent_enable(r->bev, EV_READ) < 0) {
        sp_log_error("stats server: cannot watch a connection, dropped");
        reply_free(r);
    }
}

/*
 * Queues `head` (when not NULL) and then `body` (when not NULL) as the reply, and closes
 * gracefully once they are written.  A reader that does not take it within the linger time is
 * dropped.
 */
static void reply_send(struct sp_stats_reply *r, const char *head, struct evbuffer *body)
{
    struct timeval timeout = {SP_STATS_LINGER_SEC, 0};
    struct evbuffer *out = bufferevent_get_output(r->bev);
    int failed = 0;

    bufferevent_disable(r->bev, EV_READ); /* input is read again (and discarded) once written */
    bufferevent_setcb(r->bev, NULL, on_reply_written, on_reply_event, r);
    if (head != NULL)
        failed = evbuffer_add(out, head, strlen(head)) < 0;
    if (!failed && body != NULL)
        failed = evbuffer_add_buffer(out, body) < 0;
    if (failed || bufferevent_set_timeouts(r->bev, NULL, &timeout) < 0 ||
        bufferevent_enable(r->bev, EV_WRITE) < 0) {
        sp_log_error("stats server: cannot queue the reply, connection dropped");
        reply_free(r);
    }
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    struct sp_stats_listener *srv = arg;

    (void)listener;
    sp_accept_guard_error(&srv->accept_guard);
}

/* The nutcracker reply: the snapshot, nothing else. */
static void reply_json(struct sp_stats_reply *r)
{
    struct evbuffer *body = evbuffer_new();

    if (body == NULL || evbuffer_add(body, r->srv->snapshot, r->srv->snapshot_len) < 0) {
        sp_log_error("stats server: out of memory, connection dropped");
        if (body != NULL)
            evbuffer_free(body);
        reply_free(r);
        return;
    }
    reply_send(r, NULL, body);
    evbuffer_free(body);
}

/* An HTTP response with `body` (may be NULL: none, as for HEAD); always Connection: close. */
static void reply_http(struct sp_stats_reply *r, const char *status, const char *type,
                       struct evbuffer *body, bool head_only)
{
    char head[512];
    size_t len = body != NULL ? evbuffer_get_length(body) : 0;

    snprintf(head, sizeof head,
             "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
             "Connection: close\r\n\r\n",
             status, type, len, strncmp(status, "405", 3) == 0 ? "Allow: GET, HEAD\r\n" : "");
    reply_send(r, head, head_only ? NULL : body);
}

/*
 * Serves one framed HTTP request: /metrics gets the Prometheus exposition (405 for a method other
 * than GET and HEAD); any other request gets what nutcracker gives every client, the bare JSON
 * (monitoring that sends a request line to a nutcracker stats port keeps working).
 */
static void serve_http(struct sp_stats_reply *r, const struct sp_http_request *req)
{
    bool head_only = strcmp(req->method, "HEAD") == 0;
    struct evbuffer *body;
    int rc;

    if (strcmp(req->path, "/metrics") != 0) {
        reply_json(r);
        return;
    }
    if ((body = evbuffer_new()) == NULL) {
        rc = -1;
    } else if (!head_only && strcmp(req->method, "GET") != 0) {
        rc = evbuffer_add_printf(body, "method %s not allowed: use GET\n", req->method) < 0;
        if (rc == 0)
            reply_http(r, "405 Method Not Allowed", "text/plain; charset=utf-8", body, false);
    } else {
        rc = sp_metrics_render(current_stats(r->srv), time(NULL), body);
        if (rc == 0)
            reply_http(r, "200 OK", SP_METRICS_CONTENT_TYPE, body, head_only);
    }
    if (body != NULL)
        evbuffer_free(body);
    if (rc != 0) {
        sp_log_error("stats server: out of memory answering %s %s, connection dropped",
                     req->method, req->path);
        reply_free(r);
    }
}

/* New bytes from a client whose kind is not known yet. */
static void on_request_read(struct bufferevent *bev, void *arg)
{
    struct sp_stats_reply *r = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    struct sp_http_request req;
    struct timeval linger = {SP_STATS_LINGER_SEC, 0};

    switch (sp_http_parse(buf, len, &req)) {
    case SP_PARSE_OK:
        serve_http(r, &req);
        return;
    case SP_PARSE_AGAIN:
        /* An HTTP request has begun: give the rest of its head the linger time. */
        bufferevent_set_timeouts(bev, &linger, NULL);
        return;
    case SP_PARSE_ERROR:
        /* Not HTTP, or HTTP we do not serve: nutcracker ignores what a client says. */
        if (req.is_http)
            sp_log_verb("stats server: bad HTTP request: %s", req.problem);
        reply_json(r);
        return;
    }
}

/*
 * Silence (the wait is over), a request head that stalled, or the client's EOF: served as
 * nutcracker serves every client, with the JSON.  An error closes the connection.
 */
static void on_request_event(struct bufferevent *bev, short what, void *arg)
{
    if ((what & (BEV_EVENT_TIMEOUT | BEV_EVENT_EOF)) && !(what & BEV_EVENT_ERROR)) {
        reply_json(arg);
        return;
    }
    on_reply_event(bev, what, arg);
}

int sp_stats_listener_refresh(struct sp_stats_listener *srv)
{
    size_t len;
    char *json = sp_stats_render(current_stats(srv), time(NULL), &len);

    if (json == NULL) {
        sp_log_error("stats server: out of memory rendering stats, keeping the old snapshot");
        return -1;
    }
    free(srv->snapshot);
    srv->snapshot = json;
    srv->snapshot_len = len;
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    sp_stats_listener_refresh(arg);
}

/* Resolves and binds; returns the listener or NULL with err set. */
static struct evconnlistener *listen_on(struct sp_stats_listener *srv, const char *addr, int port,
                                        char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char service[16];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(service, sizeof(service), "%d", port);
    rc = getaddrinfo(addr, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "stats server: cannot resolve '%s': %s", addr, gai_strerror(rc));
        return NULL;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        srv->base, on_accept, srv,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024, res->ai_addr,
        (int)res->ai_addrlen);
    if (l == NULL)
        snprintf(err, errlen, "stats server: listening on %s:%d failed: %s", addr, port,
                 strerror(errno));
    freeaddrinfo(res);
    return l;
}

struct sp_stats_listener *sp_stats_listener_new(struct event_base *base, struct sp_stats *stats,
                                            const char *addr, int port, int interval_ms,
                                            char *err, size_t errlen)
{
    struct sp_stats_listener *srv = calloc(1, sizeof(*srv));
    struct timeval tv = {interval_ms / 1000, (interval_ms % 1000) * 1000};

    if (srv == NULL) {
        snprintf(err, errlen, "stats server: out of memory");
        return NULL;
    }
    srv->base = base;
    srv->stats = stats;
    if (sp_stats_listener_refresh(srv) < 0) {
        snprintf(err, errlen, "stats server: out of memory rendering stats");
        goto err;
    }
    srv->listener = listen_on(srv, addr, port, err, errlen);
    if (srv->listener == NULL)
        goto err;
    if (sp_accept_guard_init(&srv->accept_guard, base, srv->listener, "stats server") < 0) {
        snprintf(err, errlen, "stats server: out of memory");
        goto err;
    }
    evconnlistener_set_error_cb(srv->listener, on_accept_error);
    srv->timer = event_new(base, -1, EV_PERSIST, on_timer, srv);
    if (srv->timer == NULL || event_add(srv->timer, &tv) < 0) {
        snprintf(err, errlen, "stats server: cannot schedule the refresh timer");
        goto err;
    }
    return srv;
err:
    sp_stats_listener_free(srv);
    return NULL;
}

void sp_stats_listener_free(struct sp_stats_listener *srv)
{
    if (srv == NULL)
        return;
    while (srv->replies != NULL)
        reply_free(srv->replies);
    if (srv->timer != NULL)
        event_free(srv->timer);
    sp_accept_guard_fini(&srv->accept_guard);
    if (srv->listener != NULL)
        evconnlistener_free(srv->listener);
    free(srv->snapshot);
    free(srv);
}

void sp_stats_listener_set_stats(struct sp_stats_listener *srv, struct sp_stats *stats)
{
    srv->stats = stats;
    (void)sp_stats_listener_refresh(srv); /* the old snapshot is kept when out of memory */
}

void sp_stats_listener_before_render(struct sp_stats_listener *srv, void (*fn)(void *ctx),
                                     void *ctx)
{
    srv->before_render = fn;
    srv->before_render_ctx = ctx;
}
