/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's log: nutcracker's levels (0..11) and line format, to stderr or a file.
 *
 *   [2026-11-25 20:00:00.123] main.c:123 message
 *
 * One logger per process, not a context passed around: the signal handlers (SIGHUP reopens the
 * file, SIGTTIN/SIGTTOU change the level, fatal signals write their last words) must reach it,
 * and every module logs without threading a pointer through each call.  This is the only
 * process-wide mutable state in the daemon.
 *
 * Messages longer than SP_LOG_MAX_LEN are truncated (ending in "..."), each line is written
 * with a single write(2) so concurrent writers (e.g. logrotate's copytruncate) never see half
 * a line.
 */
#ifndef SP_LOG_H
#define SP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Levels as nutcracker's nc_log.h: 0 is the quietest, 11 the chattiest. */
#define SP_LOG_LEVELS(X) \
    X(EMERG,  0)  \
    X(ALERT,  1)  \
    X(CRIT,   2)  \
    X(ERR,    3)  \
    X(WARN,   4)  \
    X(NOTICE, 5)  \
    X(INFO,   6)  \
    X(DEBUG,  7)  \
    X(VERB,   8)  \
    X(VVERB,  9)  \
    X(VVVERB, 10) \
    X(PVERB,  11)

enum sp_log_level {
#define SP_LOG_ENUM_(name, value) SP_LOG_##name = value,
    SP_LOG_LEVELS(SP_LOG_ENUM_)
#undef SP_LOG_ENUM_
};

#define SP_LOG_MIN SP_LOG_EMERG
#define SP_LOG_MAX SP_LOG_PVERB
#define SP_LOG_DEFAULT SP_LOG_NOTICE
#define SP_LOG_MAX_LEN 2048 /* bytes per line, including the prefix */

/*
 * Starts logging at `level` (clamped to SP_LOG_MIN..SP_LOG_MAX) to `path`, or to stderr when
 * `path` is NULL.  The file is opened for appending (created 0644).  May be called again to
 * switch destination (the previous file is closed).  Returns 0, or -1 with err set and the
 * previous destination unchanged.
 */
int sp_log_init(int level, const char *path, char *err, size_t errlen);

/* Closes the log file (if any) and goes back to stderr at the default level. */
void sp_log_deinit(void);

/*
 * Reopens the log file by name (after logrotate renamed it), keeping the same descriptor
 * number.  A no-op returning 0 when logging to stderr.  Returns -1 with err set when the file
 * cannot be opened; logging then continues to the old file.
 */
int sp_log_reopen(char *err, size_t errlen);

/*
 * Makes stderr (fd 2) point to the log file, now and after every reopen, so that messages the
 * program does not write itself (sanitizers, libc aborts) land in the log of a daemon.  A no-op
 * when logging to stderr.  Returns 0 or -1 with err set.
 */
int sp_log_capture_stderr(char *err, size_t errlen);

/* Current level; raise/lower by one within SP_LOG_MIN..SP_LOG_MAX, returning the new level. */
int sp_log_level(void);
int sp_log_level_up(void);
int sp_log_level_down(void);

/* Name of a level ("NOTICE"), "?" when out of range. */
const char *sp_log_level_name(int level);

/* True when a message at `level` would be written. */
bool sp_log_enabled(int level);

/* Writes one line (prefix, message, newline) regardless of the level.  Use the macros. */
void sp_log_write(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Async-signal-safe: writes "[.......................] " + msg + "\n" with one write(2) and no
 * allocation, locking or formatting of the time (nutcracker marks such lines the same way).
 */
void sp_log_safe(const char *msg);

/* The descriptor log lines go to (2 when logging to stderr). */
int sp_log_fd(void);

#define sp_log(level, ...) do { \
        if (sp_log_enabled(level)) sp_log_write(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

/* Always written, whatever the level (start and stop banners, -t results). */
/*
 * A message that can come in floods (accept failures, refused connections): at most one line
 * per interval; the next line says how many were dropped meanwhile.  One per message source.
 */
struct sp_log_limit {
    uint64_t next_usec;    /* monotonic usec before which lines are dropped */
    unsigned dropped;      /* lines dropped since the last one written */
};

/*
 * Whether a line may be written now (`now_usec` monotonic, e.g. the loop's clock): true at most
 * once per `interval_ms`; *dropped then gets how many were dropped before it (and the count
 * starts over).
 */
bool sp_log_limit_pass(struct sp_log_limit *l, uint64_t now_usec, unsigned interval_ms,
                       unsigned *dropped);

#define sp_log_always(...) sp_log_write(__FILE__, __LINE__, __VA_ARGS__)
#define sp_log_error(...) sp_log(SP_LOG_ERR, __VA_ARGS__)
#define sp_log_warn(...) sp_log(SP_LOG_WARN, __VA_ARGS__)
#define sp_log_notice(...) sp_log(SP_LOG_NOTICE, __VA_ARGS__)
#define sp_log_info(...) sp_log(SP_LOG_INFO, __VA_ARGS__)
#define sp_log_debug(...) sp_log(SP_LOG_DEBUG, __VA_ARGS__)
#define sp_log_verb(...) sp_log(SP_LOG_VERB, __VA_ARGS__)

#endif /* SP_LOG_H */
