/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The one process-wide logger (see log.h for why it is not a context). */
struct sp_logger {
    int level;           /* read by every worker, changed by the main thread (SIGTTIN/SIGTTOU):
                            relaxed atomic loads and stores */
    int fd;              /* STDERR_FILENO or our file */
    char *path;          /* NULL: stderr */
    bool capture_stderr; /* keep fd 2 pointing at the file across reopens */
};

static struct sp_logger sp_logger = {SP_LOG_DEFAULT, STDERR_FILENO, NULL, false};

static int clamp_level(int level)
{
    if (level < SP_LOG_MIN)
        return SP_LOG_MIN;
    if (level > SP_LOG_MAX)
        return SP_LOG_MAX;
    return level;
}

static int open_log_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        snprintf(err, errlen, "opening log file '%s' failed: %s", path, strerror(errno));
    return fd;
}

int sp_log_init(int level, const char *path, char *err, size_t errlen)
{
    char *copy = NULL;
    int fd = STDERR_FILENO;

    if (path != NULL) {
        copy = strdup(path);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        fd = open_log_file(path, err, errlen);
        if (fd < 0) {
            free(copy);
            return -1;
        }
    }
    sp_log_deinit();
    sp_logger.level = clamp_level(level);
    sp_logger.fd = fd;
    sp_logger.path = copy;
    return 0;
}

void sp_log_deinit(void)
{
    if (sp_logger.fd != STDERR_FILENO)
        close(sp_logger.fd);
    free(sp_logger.path);
    sp_logger.path = NULL;
    sp_logger.fd = STDERR_FILENO;
    sp_logger.level = SP_LOG_DEFAULT;
    sp_logger.capture_stderr = false;
}

/* Points fd 2 at the log file; used by capture and by every reopen while captured. */
static int redirect_stderr(char *err, size_t errlen)
{
    if (dup2(sp_logger.fd, STDERR_FILENO) < 0) {
        snprintf(err, errlen, "redirecting stderr to '%s' failed: %s", sp_logger.path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int sp_log_reopen(char *err, size_t errlen)
{
    if (sp_logger.path == NULL)
        return 0;
    int fd = open_log_file(sp_logger.path, err, errlen);
    if (fd < 0)
        return -1;
    /* dup2 keeps the descriptor number, so sp_log_fd() callers and signal handlers stay valid. */
    if (dup3(fd, sp_logger.fd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "reopening log file '%s' failed: %s", sp_logger.path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    if (sp_logger.capture_stderr)
        return redirect_stderr(err, errlen);
    return 0;
}

int sp_log_capture_stderr(char *err, size_t errlen)
{
    if (sp_logger.path == NULL)
        return 0;
    if (redirect_stderr(err, errlen) < 0)
        return -1;
    sp_logger.capture_stderr = true;
    return 0;
}

int sp_log_level(void)
{
    return __atomic_load_n(&sp_logger.level, __ATOMIC_RELAXED);
}

/* Only the main thread changes the level: no other writer to race with. */
static int set_level(int level)
{
    __atomic_store_n(&sp_logger.level, clamp_level(level), __ATOMIC_RELAXED);
    return sp_log_level();
}

int sp_log_level_up(void)
{
    return set_level(sp_log_level() + 1);
}

int sp_log_level_down(void)
{
    return set_level(sp_log_level() - 1);
}

const char *sp_log_level_name(int level)
{
    switch (level) {
#define SP_LOG_NAME_(name, value) case value: return #name;
        SP_LOG_LEVELS(SP_LOG_NAME_)
#undef SP_LOG_NAME_
    default:
        return "?";
    }
}

bool sp_log_enabled(int level)
{
    return level <= sp_log_level();
}

int sp_log_fd(void)
{
    return sp_logger.fd;
}

/* Writes all of buf, retrying short writes and EINTR; errors are dropped (nowhere to report). */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* "[YYYY-MM-DD HH:MM:SS.mmm] " in local time, as nutcracker; returns the length written. */
static size_t format_timestamp(char *buf, size_t size)
{
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    if (localtime_r(&tv.tv_sec, &tm) == NULL)
        return 0;
    size_t n = strftime(buf, size, "[%Y-%m-%d %H:%M:%S", &tm);
    int m = snprintf(buf + n, size - n, ".%03ld] ", (long)(tv.tv_usec / 1000));
    return m < 0 ? n : n + (size_t)m;
}

static const char *base_name(const char *file)
{
    const char *slash = strrchr(file, '/');
    return slash != NULL ? slash + 1 : file;
}

void sp_log_write(const char *file, int line, const char *fmt, ...)
{
    char buf[SP_LOG_MAX_LEN];
    size_t cap = sizeof(buf) - 1; /* room for the newline */
    size_t len = format_timestamp(buf, cap);
    int n;
    va_list ap;

    n = snprintf(buf + len, cap - len, "%s:%d ", base_name(file), line);
    if (n > 0)
        len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;
    va_start(ap, fmt);
    n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n >= cap - len) {
        len = cap - 1;
        memcpy(buf + len - 3, "...", 3);
    } else if (n > 0) {
        len += (size_t)n;
    }
    buf[len++] = '\n';
    write_all(sp_logger.fd, buf, len);
}

void sp_log_safe(const char *msg)
{
    static const char prefix[] = "[.......................] ";
    char buf[512];
    size_t len = sizeof(prefix) - 1;
    size_t mlen = strlen(msg);

    memcpy(buf, prefix, len);
    if (mlen > sizeof(buf) - len - 1)
        mlen = sizeof(buf) - len - 1;
    memcpy(buf + len, msg, mlen);
    len += mlen;
    buf[len++] = '\n';
    write_all(sp_logger.fd, buf, len);
}

bool sp_log_limit_pass(struct sp_log_limit *l, uint64_t now_usec, unsigned interval_ms,
                       unsigned *dropped)
{
    if (now_usec < l->next_usec) {
        l->dropped++;
        return false;
    }
    *dropped = l->dropped;
    l->dropped = 0;
    l->next_usec = now_usec + (uint64_t)interval_ms * 1000;
    return true;
}
