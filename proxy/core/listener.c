/*
 * A pool's listening socket: TCP or a unix socket with permissions, accepting into client.c,
 * backing off when the process runs out of descriptors.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "report/log.h"

/* The listener's back-off is over: accept again. */
static void pool_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    struct sp_pool *pool = arg;

    (void)fd;
    (void)what;
    evconnlistener_enable(pool->listener);
}

/*
 * accept() failed.  Out of descriptors, the pending connection would wake us at once again and
 * spin: stop accepting for a moment instead (nutcracker spins here).
 */
static void pool_accept_error(struct evconnlistener *lev, void *arg)
{
    struct sp_pool *pool = arg;
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval pause = { 0, 100 * 1000 };

    sp_log_error("pool '%s': accept on %s failed: %s", pool->conf->name,
                 pool->conf->listen.text, strerror(err));
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        evconnlistener_disable(lev);
        evtimer_add(pool->accept_pause, &pause);
    }
}

int sp_listener_open(struct sp_pool *pool, char *err, size_t errlen)
{
    const struct sp_conf_addr *addr = &pool->conf->listen;
    struct sockaddr_storage ss;
    socklen_t sslen;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;

    if (sp_addr_resolve(addr, &ss, &sslen, err, errlen) < 0)
        return -1;
    if (addr->is_unix) {
        /* A socket file left by an earlier run would make bind fail. */
        struct stat sb;

        if (stat(addr->host, &sb) == 0 && S_ISSOCK(sb.st_mode))
            unlink(addr->host);
    } else {
        flags |= LEV_OPT_REUSEABLE;
    }
    pool->listener = evconnlistener_new_bind(pool->proxy->base, sp_client_accept, pool, flags,
                                             pool->conf->backlog, (struct sockaddr *)&ss,
                                             (int)sslen);
    if (pool->listener == NULL) {
        snprintf(err, errlen, "listen on %s failed: %s", addr->text, strerror(errno));
        return -1;
    }
    /* nutcracker counts its listening sockets as connections too (monitoring compares). */
    pool->proxy->gst->total_connections++;
    pool->proxy->gst->curr_connections++;
    pool->accept_pause = evtimer_new(pool->proxy->base, pool_accept_resume, pool);
    if (pool->accept_pause == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    evconnlistener_set_error_cb(pool->listener, pool_accept_error);
    if (addr->is_unix) {
        pool->unix_path = strdup(addr->host);
        if (pool->unix_path == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (addr->perm != 0 && chmod(addr->host, (mode_t)addr->perm) < 0) {
            snprintf(err, errlen, "chmod %o %s failed: %s", addr->perm, addr->host,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

void sp_listener_close(struct sp_pool *pool)
{
    if (pool->accept_pause != NULL) {
        event_free(pool->accept_pause);
        pool->accept_pause = NULL;
    }
    if (pool->listener != NULL) {
        evconnlistener_free(pool->listener);
        pool->listener = NULL;
        pool->proxy->gst->curr_connections--;
    }
    if (pool->unix_path != NULL) {
        unlink(pool->unix_path);
        free(pool->unix_path);
        pool->unix_path = NULL;
    }
}
