/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mcload: a small memcached text-protocol load generator for bench/memcache.py (memtier_benchmark
 * is not packaged for Debian, and memaslap cannot pipeline or send fixed-size multi-gets).
 *
 *   mcload -p PORT [-c CONNS] [-n REQUESTS] [-P PIPELINE] [-t get|set|mget] [-k KEYSPACE]
 *          [-d VALUE_BYTES] [-m MGET_KEYS] [-s SEED]
 *
 * CONNS connections to 127.0.0.1:PORT each keep PIPELINE requests in flight until REQUESTS
 * requests in all were answered; keys are "key:<random below KEYSPACE>".  A reply is counted at
 * its last line (END for retrievals, one line for set); values are 'x' bytes, so no value holds
 * those bytes.  Prints "requests N seconds S rps R" and exits 0, or 1 with a message (a
 * connection failed or closed, or an error reply came back).  One thread, libevent.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

enum test { T_GET, T_SET, T_MGET };

struct run {
    struct event_base *base;
    enum test test;
    long total, sent, done;
    int pipeline, keyspace, mget_keys;
    size_t value_bytes;
    char *value;
    unsigned long long rng;
    int failed;
};

struct conn {
    struct run *run;
    struct bufferevent *bev;
    int inflight;
};

static unsigned next_key(struct run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (unsigned)(r->rng % (unsigned)r->keyspace);
}

/* Tops the connection up to `pipeline` requests in flight. */
static void fill(struct conn *c)
{
    struct run *r = c->run;
    struct evbuffer *out = bufferevent_get_output(c->bev);

    while (c->inflight < r->pipeline && r->sent < r->total) {
        switch (r->test) {
        case T_GET:
            evbuffer_add_printf(out, "get key:%u\r\n", next_key(r));
            break;
        case T_SET:
            evbuffer_add_printf(out, "set key:%u 0 0 %zu\r\n", next_key(r), r->value_bytes);
            evbuffer_add(out, r->value, r->value_bytes);
            evbuffer_add(out, "\r\n", 2);
            break;
        case T_MGET:
            evbuffer_add(out, "get", 3);
            for (int i = 0; i < r->mget_keys; i++)
                evbuffer_add_printf(out, " key:%u", next_key(r));
            evbuffer_add(out, "\r\n", 2);
            break;
        }
        c->inflight++;
        r->sent++;
    }
}

static void fail(struct run *r, const char *what)
{
    fprintf(stderr, "mcload: %s\n", what);
    r->failed = 1;
    event_base_loopbreak(r->base);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct run *r = c->run;
    struct evbuffer *in = bufferevent_get_input(bev);
    const char *marker = r->test == T_SET ? "\n" : "END\r\n";
    size_t mlen = strlen(marker);

    while (evbuffer_get_length(in) > 0) {
        char head[13] = "";
        struct evbuffer_ptr p;

        /* A reply that fails has no END: look at its first word before waiting for one. */
        evbuffer_copyout(in, head, sizeof(head) - 1);
        if (strncmp(head, "SERVER_ERROR", 12) == 0 || strncmp(head, "CLIENT_ERROR", 12) == 0 ||
            strncmp(head, "ERROR", 5) == 0) {
            fail(r, "error reply");
            return;
        }
        p = evbuffer_search(in, marker, mlen, NULL);
        if (p.pos < 0)
            break;
        evbuffer_drain(in, (size_t)p.pos + mlen);
        c->inflight--;
        if (++r->done == r->total) {
            event_base_loopbreak(r->base);
            return;
        }
    }
    fill(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        fail(c->run, (what & BEV_EVENT_EOF) ? "connection closed" : strerror(errno));
}

int main(int argc, char **argv)
{
    struct run r = { .test = T_GET, .total = 100000, .pipeline = 1, .keyspace = 10000,
                     .mget_keys = 10, .value_bytes = 32, .rng = 88172645463325252ULL };
    struct sockaddr_in sin = { .sin_family = AF_INET };
    int nconn = 50, port = 0, opt;
    struct conn *conns;
    struct timespec t0, t1;
    double secs;

    while ((opt = getopt(argc, argv, "p:c:n:P:t:k:d:m:s:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'c': nconn = atoi(optarg); break;
        case 'n': r.total = atol(optarg); break;
        case 'P': r.pipeline = atoi(optarg); break;
        case 'k': r.keyspace = atoi(optarg); break;
        case 'd': r.value_bytes = (size_t)atol(optarg); break;
        case 'm': r.mget_keys = atoi(optarg); break;
        case 's': r.rng = strtoull(optarg, NULL, 0) | 1; break;
        case 't':
            r.test = strcmp(optarg, "set") == 0 ? T_SET : strcmp(optarg, "mget") == 0 ? T_MGET
                                                                                        : T_GET;
            break;
        default:
            fprintf(stderr, "usage: mcload -p PORT [-c CONNS] [-n REQUESTS] [-P PIPELINE] "
                            "[-t get|set|mget] [-k KEYSPACE] [-d BYTES] [-m KEYS] [-s SEED]\n");
            return 2;
        }
    }
    if (port <= 0 || nconn <= 0 || r.total <= 0 || r.pipeline <= 0 || r.keyspace <= 0) {
        fprintf(stderr, "mcload: -p PORT is required; counts must be positive\n");
        return 2;
    }
    r.value = malloc(r.value_bytes + 1);
    conns = calloc((size_t)nconn, sizeof(*conns));
    r.base = event_base_new();
    if (r.value == NULL || conns == NULL || r.base == NULL)
        return 1;
    memset(r.value, 'x', r.value_bytes);
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < nconn; i++) {
        int one = 1;

        conns[i].run = &r;
        conns[i].bev = bufferevent_socket_new(r.base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (conns[i].bev == NULL ||
            bufferevent_socket_connect(conns[i].bev, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
            fprintf(stderr, "mcload: cannot connect to 127.0.0.1:%d\n", port);
            return 1;
        }
        setsockopt(bufferevent_getfd(conns[i].bev), IPPROTO_TCP, TCP_NODELAY, &one,
                   sizeof(one));
        bufferevent_setcb(conns[i].bev, on_read, NULL, on_event, &conns[i]);
        bufferevent_enable(conns[i].bev, EV_READ | EV_WRITE);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < nconn; i++)
        fill(&conns[i]);
    event_base_dispatch(r.base);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (int i = 0; i < nconn; i++)
        bufferevent_free(conns[i].bev);
    event_base_free(r.base);
    free(conns);
    free(r.value);
    if (r.failed || r.done != r.total)
        return 1;
    printf("requests %ld seconds %.6f rps %.1f\n", r.done, secs, (double)r.done / secs);
    return 0;
}
