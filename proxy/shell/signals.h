/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signals.  Ordinary ones go through libevent (evsignal), so their work runs in the event loop
 * where anything may be done:
 *   SIGHUP           reopen the log file (logrotate)
 *   SIGTTIN/SIGTTOU  raise/lower the log level by one
 *   SIGUSR1          reload the configuration (the caller's callback, in the loop)
 *   SIGUSR2          logged only (nutcracker reserves it)
 *   SIGINT/SIGTERM   leave the event loop, so main cleans up (pid file) and exits 0
 *   SIGPIPE          ignored (a write to a closed socket is an ordinary error)
 * Fatal ones (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) have a plain sigaction handler: it
 * writes "signal N (NAME) received, core dumping" with sp_log_safe and re-raises with the
 * default action, so the process dies of that signal (and dumps core if enabled).
 */
#ifndef SP_SIGNALS_H
#define SP_SIGNALS_H

#include <stddef.h>

struct event_base;
struct sp_signals;

/*
 * Installs all of the above; the loop of `base` is left (event_base_loopbreak) on SIGINT and
 * SIGTERM, and `reload(reload_ctx)` runs on SIGUSR1 (may be NULL: logged only).  Returns the
 * handle, or NULL with err set (nothing left installed).
 */
struct sp_signals *sp_signals_new(struct event_base *base, void (*reload)(void *ctx),
                                  void *reload_ctx, char *err, size_t errlen);

/*
 * Removes the libevent handlers (fatal handlers and SIGPIPE's SIG_IGN stay: they are harmless
 * and protect the shutdown itself).  NULL is a no-op.
 */
void sp_signals_free(struct sp_signals *sigs);

/* The signal that ended the loop (SIGINT or SIGTERM), 0 if none yet. */
int sp_signals_exit_signal(const struct sp_signals *sigs);

/* "SIGHUP" for SIGHUP, "?" for signals this module does not know. */
const char *sp_signal_name(int signo);

#endif /* SP_SIGNALS_H */
