/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Forks; the parent leaves at once with status 0 (without atexit handlers: they belong to the
 * child now).  Returns 0 in the child, -1 with err set when fork fails. */
static int fork_and_leave(char *err, size_t errlen)
{
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork() failed: %s", strerror(errno));
        return -1;
    }
    if (pid > 0)
        _exit(0);
    return 0;
}

static int stdio_to_devnull(char *err, size_t errlen)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) {
        snprintf(err, errlen, "open(\"/dev/null\") failed: %s", strerror(errno));
        return -1;
    }
    for (int target = STDIN_FILENO; target <= STDERR_FILENO; target++) {
        if (fd != target && dup2(fd, target) < 0) {
            snprintf(err, errlen, "dup2(/dev/null, %d) failed: %s", target, strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (fd > STDERR_FILENO)
        close(fd);
    return 0;
}

int sp_daemonize(char *err, size_t errlen)
{
    if (fork_and_leave(err, errlen) < 0)
        return -1;
    if (setsid() < 0) {
        snprintf(err, errlen, "setsid() failed: %s", strerror(errno));
        return -1;
    }
    if (fork_and_leave(err, errlen) < 0)
        return -1;
    if (chdir("/") < 0) {
        snprintf(err, errlen, "chdir(\"/\") failed: %s", strerror(errno));
        return -1;
    }
    /* 0022 rather than nutcracker's 0: files we create (log, pid, unix sockets with no "perm")
     * must not become world-writable. */
    umask(0022);
    return stdio_to_devnull(err, errlen);
}

int sp_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
    char buf[32];
    char *tmp = NULL;
    int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);

    /* Written aside and renamed into place, so a reader never sees an empty or partial file. */
    if (asprintf(&tmp, "%s.%ld.tmp", path, (long)pid) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "opening pid file '%s' failed: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    ssize_t n = write(fd, buf, (size_t)len);
    const char *why = n < 0 ? strerror(errno) : n != len ? "short write" : NULL;
    if (close(fd) < 0 && why == NULL)
        why = strerror(errno);
    if (why == NULL && rename(tmp, path) < 0)
        why = strerror(errno);
    if (why != NULL) {
        snprintf(err, errlen, "writing pid file '%s' failed: %s", path, why);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int sp_pidfile_remove(const char *path, pid_t pid, char *err, size_t errlen)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "opening pid file '%s' failed: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "reading pid file '%s' failed: %s", path, strerror(errno));
        return -1;
    }
    buf[n] = '\0';
    char *end;
    long held = strtol(buf, &end, 10);
    if (end == buf || (*end != '\n' && *end != '\0') || held != (long)pid)
        return 0;
    if (unlink(path) < 0) {
        snprintf(err, errlen, "unlink of pid file '%s' failed: %s", path, strerror(errno));
        return -1;
    }
    return 1;
}
