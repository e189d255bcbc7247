/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every listening socket of the process (pools, the stats port) does when accept() fails:
 * out of descriptors (or memory), the pending connection would wake the loop again at once and
 * spin at 100% CPU, so accepting pauses for a moment; and the log gets at most one line a second
 * about it, however many failures there are.
 */
#ifndef SP_ACCEPT_H
#define SP_ACCEPT_H

#include <event2/event.h>
#include <event2/listener.h>

#include "report/log.h"

/* How long accepting pauses after running out of descriptors. */
#define SP_ACCEPT_PAUSE_MS 100

struct sp_accept_guard {
    struct evconnlistener *lev;
    struct event *resume;          /* re-enables the listener after a pause */
    char what[160];                /* the listener, for the log: "pool 'alpha' (127.0.0.1:22121)" */
    struct sp_log_limit log;
};

/*
 * Guards `lev` (the caller's listener; its error callback must call sp_accept_guard_error).
 * `what` names the listener in log lines.  Returns 0, or -1 when out of memory.
 */
int sp_accept_guard_init(struct sp_accept_guard *g, struct event_base *base,
                         struct evconnlistener *lev, const char *what);

/* accept() failed (errno in EVUTIL_SOCKET_ERROR): log (rate-limited) and pause if need be. */
void sp_accept_guard_error(struct sp_accept_guard *g);

/* Frees the pause timer (the listener is the caller's).  Safe on a zeroed guard. */
void sp_accept_guard_fini(struct sp_accept_guard *g);

#endif /* SP_ACCEPT_H */
