/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool's listening socket: TCP or a unix socket with permissions, accepting into client.c,
 * backing off when the process runs out of descriptors.  A reload may hand it to another pool on
 * the same address without closing it.  With several workers every worker listens on a pool's
 * TCP address in one SO_REUSEPORT group (the kernel spreads the clients); a unix socket is the
 * first worker's alone.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accept.h"
#include "addr.h"
#include "client.h"
#include "conf.h"
#include "core.h"
#include "listener.h"
#include "pool.h"
#include "report/log.h"
#include "report/stats.h"

struct sp_listener {
    struct evconnlistener *lev;
    struct sp_accept_guard guard; /* accept failures: pause, rate-limited log */
    char *unix_path;              /* unix listen socket to remove at teardown ... */
    dev_t unix_dev;               /* ... if it is still the one we made */
    ino_t unix_ino;
};

static void pool_accept_error(struct evconnlistener *lev, void *arg)
{
    struct sp_pool *pool = arg;

    (void)lev;
    sp_accept_guard_error(&pool->listener->guard);
}

/* Is a process listening on unix socket `path` (a connect succeeds, or its backlog is full)? */
static bool unix_socket_live(const struct sockaddr_storage *ss, socklen_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bool live;

    if (fd < 0)
        return false;
    live = connect(fd, (const struct sockaddr *)ss, len) == 0 || errno == EAGAIN;
    close(fd);
    return live;
}

/*
 * Makes way for a unix listen socket at `path`: a socket file that nobody listens on any more
 * (left by a crash) is removed; a live one, or a file that is not a socket, is an error: taking
 * it over would leave the other process unreachable.  Returns 0 or -1 with err set.
 */
static int unix_make_way(const char *path, const struct sockaddr_storage *ss, socklen_t len,
                         char *err, size_t errlen)
{
    struct stat sb;

    if (lstat(path, &sb) < 0)
        return 0;
    if (!S_ISSOCK(sb.st_mode)) {
        snprintf(err, errlen, "listen on %s: the path exists and is not a socket", path);
        return -1;
    }
    if (unix_socket_live(ss, len)) {
        snprintf(err, errlen, "listen on %s: another process is listening on that socket "
                 "(another shardproxy?); not taking it over", path);
        return -1;
    }
    unlink(path);
    return 0;
}

/* Binds and listens; a unix socket file is created with the pool's permissions at once (under
   a umask, so it is never reachable with looser ones). */
static struct evconnlistener *listen_bind(struct sp_pool *pool, const struct sockaddr_storage *ss,
                                          socklen_t len, unsigned flags)
{
    const struct sp_conf_addr *addr = &pool->conf->listen;
    mode_t old = 0;
    struct evconnlistener *lev;

    if (addr->is_unix && addr->perm != 0)
        old = umask((mode_t)(0777 & ~addr->perm));
    lev = evconnlistener_new_bind(pool->proxy->base, sp_client_accept, pool, flags,
                                  pool->conf->backlog, (const struct sockaddr *)ss, (int)len);
    if (addr->is_unix && addr->perm != 0)
        umask(old);
    return lev;
}

/*
 * Is a TCP address free to listen on?  Sockets in an SO_REUSEPORT group let any later socket
 * with the option (of the same user) join, which would share the clients with, say, a second
 * shardproxy started by mistake.  So the first worker binds a plain socket first: that fails
 * as a plain listen would when anybody listens there, group or not.  Returns 0 or -1 with err.
 */
static int port_is_free(const struct sp_conf_addr *addr, const struct sockaddr_storage *ss,
                        socklen_t len, char *err, size_t errlen)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;

    if (fd < 0) {
        snprintf(err, errlen, "listen on %s failed: %s", addr->text, strerror(errno));
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* as a listener does */
    if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
        snprintf(err, errlen, "listen on %s failed: %s", addr->text, strerror(errno));
        rc = -1;
    }
    close(fd);
    return rc;
}

int sp_listener_open(struct sp_pool *pool, char *err, size_t errlen)
{
    const struct sp_conf_addr *addr = &pool->conf->listen;
    struct sockaddr_storage ss;
    socklen_t sslen;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    struct sp_listener *l;
    char what[128];
    struct stat sb;

    if (addr->is_unix && pool->proxy->follower)
        return 0; /* the first worker serves the pools on unix sockets */
    if (sp_addr_resolve(addr, &ss, &sslen, err, errlen) < 0)
        return -1;
    if (addr->is_unix) {
        if (unix_make_way(addr->host, &ss, sslen, err, errlen) < 0)
            return -1;
    } else {
        flags |= LEV_OPT_REUSEABLE;
        if (pool->proxy->shared_port) {
            if (!pool->proxy->follower && port_is_free(addr, &ss, sslen, err, errlen) < 0)
                return -1;
            flags |= LEV_OPT_REUSEABLE_PORT;
        }
    }
    if ((l = calloc(1, sizeof(*l))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pool->listener = l;
    l->lev = listen_bind(pool, &ss, sslen, flags);
    if (l->lev == NULL) {
        snprintf(err, errlen, "listen on %s failed: %s", addr->text, strerror(errno));
        sp_listener_close(pool);
        return -1;
    }
    /* nutcracker counts its listening sockets as connections too (monitoring compares). */
    SP_STAT_ADD(pool->proxy->gst->total_connections, 1);
    SP_STAT_ADD(pool->proxy->gst->curr_connections, 1);
    snprintf(what, sizeof(what), "pool '%s' (%s)", pool->conf->name, addr->text);
    if (sp_accept_guard_init(&l->guard, pool->proxy->base, l->lev, what) < 0) {
        snprintf(err, errlen, "out of memory");
        sp_listener_close(pool);
        return -1;
    }
    evconnlistener_set_error_cb(l->lev, pool_accept_error);
    if (addr->is_unix) {
        l->unix_path = strdup(addr->host);
        if (l->unix_path == NULL || lstat(addr->host, &sb) < 0) {
            snprintf(err, errlen, "listen on %s: %s", addr->text,
                     l->unix_path == NULL ? "out of memory" : strerror(errno));
            sp_listener_close(pool);
            return -1;
        }
        l->unix_dev = sb.st_dev;
        l->unix_ino = sb.st_ino;
    }
    return 0;
}

void sp_listener_close(struct sp_pool *pool)
{
    struct sp_listener *l = pool->listener;
    struct stat sb;

    if (l == NULL)
        return;
    pool->listener = NULL;
    sp_accept_guard_fini(&l->guard);
    if (l->lev != NULL) {
        evconnlistener_free(l->lev);
        SP_STAT_ADD(pool->proxy->gst->curr_connections, -1);
    }
    if (l->unix_path != NULL) {
        /* Only our own socket file: another process may have one there by now. */
        if (lstat(l->unix_path, &sb) == 0 && sb.st_dev == l->unix_dev &&
            sb.st_ino == l->unix_ino)
            unlink(l->unix_path);
        free(l->unix_path);
    }
    free(l);
}

void sp_listener_move(struct sp_pool *to, struct sp_pool *from)
{
    struct sp_listener *l = from->listener;

    from->listener = NULL;
    to->listener = l;
    if (l == NULL)
        return;
    evconnlistener_set_cb(l->lev, sp_client_accept, to);
    evconnlistener_set_error_cb(l->lev, pool_accept_error);
    snprintf(l->guard.what, sizeof(l->guard.what), "pool '%s' (%s)", to->conf->name,
             to->conf->listen.text);
}
