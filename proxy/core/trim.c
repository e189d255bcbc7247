/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Giving memory back once the proxy is quiet.
 *
 * Bursts leave memory behind that the steady state does not need: caches of requests, work
 * states and parser blocks filled by thousands of clients, arrays sized for a million-key MGET,
 * and free heap that malloc keeps for the next burst.  Once a second a timer looks whether any
 * request arrived since the last look; after a quiet second it empties the caches down to their
 * idle sizes and asks malloc to return free pages to the system (malloc_trim), once per quiet
 * spell.  Under load it does nothing: a busy proxy reuses what it holds.
 */
#include "config.h"

#include <stdlib.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include "client.h"
#include "conn.h"
#include "core.h"
#include "req.h"

/* How often the timer looks. */
#define SP_TRIM_INTERVAL_MS 1000
/* Arrays of the proxy's own kept when no bigger than this many entries / bytes. */
#define SP_TRIM_KEEP_KEYS 4096
#define SP_TRIM_KEEP_KEYBUF 4096

/* Empties the proxy's caches to their idle sizes and frees oversized scratch arrays. */
static void trim_caches(struct sp_proxy *proxy)
{
    sp_req_trim(proxy, SP_REQ_FREE_IDLE);
    sp_client_cache_free(proxy);
    sp_flusher_trim(&proxy->flusher);
    if (proxy->key_srv_cap > SP_TRIM_KEEP_KEYS) {
        free(proxy->key_srv);
        free(proxy->key_from);
        proxy->key_srv = NULL;
        proxy->key_from = NULL;
        proxy->key_srv_cap = 0;
    }
    if (proxy->keycap > SP_TRIM_KEEP_KEYBUF) {
        free(proxy->keybuf);
        proxy->keybuf = NULL;
        proxy->keycap = 0;
    }
}

static void trim_tick(evutil_socket_t fd, short what, void *arg)
{
    struct sp_proxy *proxy = arg;

    (void)fd;
    (void)what;
    if (proxy->activity != proxy->trim_seen) {
        proxy->trim_seen = proxy->activity;
        proxy->trimmed = false;
        return;
    }
    if (proxy->trimmed)
        return;
    trim_caches(proxy);
#ifdef HAVE_MALLOC_TRIM
    malloc_trim(0);
#endif
    proxy->trimmed = true;
}

int sp_trim_start(struct sp_proxy *proxy)
{
    struct timeval tv = { SP_TRIM_INTERVAL_MS / 1000, (SP_TRIM_INTERVAL_MS % 1000) * 1000 };

    proxy->trim_timer = event_new(proxy->base, -1, EV_PERSIST, trim_tick, proxy);
    if (proxy->trim_timer == NULL || event_add(proxy->trim_timer, &tv) < 0)
        return -1;
    return 0;
}

void sp_trim_stop(struct sp_proxy *proxy)
{
    if (proxy->trim_timer != NULL)
        event_free(proxy->trim_timer);
    proxy->trim_timer = NULL;
}
