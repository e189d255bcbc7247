/* SPDX-License-Identifier: Apache-2.0 */
/* Accept failures on any listener: pause when out of descriptors, log at most once a second. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accept.h"

static uint64_t monotonic_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
    struct sp_accept_guard *g = arg;

    (void)fd;
    (void)what;
    evconnlistener_enable(g->lev);
}

int sp_accept_guard_init(struct sp_accept_guard *g, struct event_base *base,
                         struct evconnlistener *lev, const char *what)
{
    memset(g, 0, sizeof(*g));
    g->lev = lev;
    snprintf(g->what, sizeof(g->what), "%s", what);
    g->resume = evtimer_new(base, accept_resume, g);
    return g->resume != NULL ? 0 : -1;
}

void sp_accept_guard_error(struct sp_accept_guard *g)
{
    int err = EVUTIL_SOCKET_ERROR();
    bool pause = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
    struct timeval tv = { 0, SP_ACCEPT_PAUSE_MS * 1000 };
    unsigned dropped = 0;

    if (sp_log_limit_pass(&g->log, monotonic_usec(), 1000, &dropped)) {
        sp_log_error("%s: accept failed: %s%s (%u more failures since the last report)",
                     g->what, strerror(err), pause ? "; pausing accepts" : "", dropped);
    }
    if (pause) {
        evconnlistener_disable(g->lev);
        evtimer_add(g->resume, &tv);
    }
}

void sp_accept_guard_fini(struct sp_accept_guard *g)
{
    if (g->resume != NULL)
        event_free(g->resume);
    g->resume = NULL;
}
