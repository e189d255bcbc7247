/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running as a daemon (-d) and the pid file (-p).
 */
#ifndef SP_DAEMON_H
#define SP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Detaches from the terminal the classic way: fork (the parent exits 0), setsid, fork again (so
 * the daemon can never reacquire a controlling terminal), chdir("/"), umask(0022), and stdin,
 * stdout and stderr to /dev/null.  argv is not touched, so `pgrep -f` still finds the daemon.
 * Returns 0 in the daemon; the original process and the intermediate child never return.
 * Returns -1 with err set if a step fails (in whichever process it failed).
 */
int sp_daemonize(char *err, size_t errlen);

/*
 * Writes `pid` and a newline to `path` (0644), atomically: into "path.PID.tmp", then renamed
 * over `path`, so readers never see it empty.  Returns 0, or -1 with err set naming the file
 * (`path` is then unchanged and the temporary file removed).
 */
int sp_pidfile_write(const char *path, pid_t pid, char *err, size_t errlen);

/*
 * Removes `path` if it still holds `pid` (another instance may have taken it over since).
 * Returns 1 when removed, 0 when the file is missing or names another process (left
 * unchanged), -1 with err set when it cannot be read or unlinked.
 */
int sp_pidfile_remove(const char *path, pid_t pid, char *err, size_t errlen);

#endif /* SP_DAEMON_H */
