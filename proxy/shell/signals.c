/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "report/log.h"

enum sp_sig_action {
    SIG_ACT_LOG,       /* log only */
    SIG_ACT_REOPEN,    /* reopen the log file */
    SIG_ACT_LEVEL_UP,
    SIG_ACT_LEVEL_DOWN,
    SIG_ACT_EXIT,      /* leave the event loop */
    SIG_ACT_RELOAD,    /* the caller's reload callback */
    SIG_ACT_IGNORE,    /* SIG_IGN, never delivered */
    SIG_ACT_FATAL,     /* sigaction handler, re-raise */
};

/* The one list of signals we handle: number, name, action, what the log says. */
#define SP_SIGNAL_LIST(X) \
    X(SIGHUP,  REOPEN,         ", reopening log file") \
    X(SIGTTIN, LEVEL_UP,       ", up logging level") \
    X(SIGTTOU, LEVEL_DOWN,     ", down logging level") \
    X(SIGUSR1, RELOAD,         ", reloading the configuration") \
    X(SIGUSR2, LOG,            "") \
    X(SIGINT,  EXIT,           ", exiting") \
    X(SIGTERM, EXIT,           ", exiting") \
    X(SIGPIPE, IGNORE,         "") \
    X(SIGSEGV, FATAL,          ", core dumping") \
    X(SIGBUS,  FATAL,          ", core dumping") \
    X(SIGFPE,  FATAL,          ", core dumping") \
    X(SIGILL,  FATAL,          ", core dumping") \
    X(SIGABRT, FATAL,          ", core dumping")

struct sp_signal_def {
    int signo;
    const char *name;
    enum sp_sig_action action;
    const char *what;
};

static const struct sp_signal_def signal_defs[] = {
#define SP_SIGNAL_DEF_(sig, act, what) {sig, #sig, SIG_ACT_##act, what},
    SP_SIGNAL_LIST(SP_SIGNAL_DEF_)
#undef SP_SIGNAL_DEF_
};

#define NSIGNAL_DEFS (sizeof(signal_defs) / sizeof(signal_defs[0]))

struct sp_signal_slot {
    struct sp_signals *owner;
    const struct sp_signal_def *def;
    struct event *ev;
};

struct sp_signals {
    struct event_base *base;
    int exit_signal;
    void (*reload)(void *ctx);
    void *reload_ctx;
    struct sp_signal_slot slots[NSIGNAL_DEFS];
};

const char *sp_signal_name(int signo)
{
    for (size_t i = 0; i < NSIGNAL_DEFS; i++)
        if (signal_defs[i].signo == signo)
            return signal_defs[i].name;
    return "?";
}

/* Formats a non-negative int into buf without stdio (async-signal-safe); returns buf. */
static char *format_int(int value, char *buf, size_t size)
{
    char *p = buf + size - 1;
    unsigned v = value < 0 ? 0u : (unsigned)value;

    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && p > buf);
    return p;
}

static void append(char *buf, size_t size, size_t *len, const char *s)
{
    while (*s != '\0' && *len + 1 < size)
        buf[(*len)++] = *s++;
    buf[*len] = '\0';
}

/* Runs in signal context: only async-signal-safe calls below. */
static void fatal_handler(int signo)
{
    int saved = errno;
    char num[16];
    char msg[128];
    size_t len = 0;
    const char *what = "";

    for (size_t i = 0; i < NSIGNAL_DEFS; i++)
        if (signal_defs[i].signo == signo)
            what = signal_defs[i].what;
    msg[0] = '\0';
    append(msg, sizeof(msg), &len, "signal ");
    append(msg, sizeof(msg), &len, format_int(signo, num, sizeof(num)));
    append(msg, sizeof(msg), &len, " (");
    append(msg, sizeof(msg), &len, sp_signal_name(signo));
    append(msg, sizeof(msg), &len, ") received");
    append(msg, sizeof(msg), &len, what);
    sp_log_safe(msg);
    /* SA_RESETHAND restored the default action; the re-raised signal is delivered when this
     * handler returns (or at once for a fault, which re-executes the faulting instruction). */
    errno = saved;
    raise(signo);
}

static void on_signal(evutil_socket_t signo, short events, void *arg)
{
    struct sp_signal_slot *slot = arg;
    const struct sp_signal_def *def = slot->def;
    char err[256];

    /* Always written, whatever the level: an operator sending a signal wants to see it. */
    sp_log_always("signal %d (%s) received%s", (int)signo, def->name, def->what);
    switch (def->action) {
    case SIG_ACT_REOPEN:
        if (sp_log_reopen(err, sizeof(err)) < 0)
            sp_log_error("%s", err);
        break;
    case SIG_ACT_LEVEL_UP:
    case SIG_ACT_LEVEL_DOWN:
        if (def->action == SIG_ACT_LEVEL_UP)
            sp_log_level_up();
        else
            sp_log_level_down();
        sp_log_always("log level is now %d (%s)", sp_log_level(),
                      sp_log_level_name(sp_log_level()));
        break;
    case SIG_ACT_EXIT:
        slot->owner->exit_signal = (int)signo;
        event_base_loopbreak(slot->owner->base);
        break;
    case SIG_ACT_RELOAD:
        if (slot->owner->reload != NULL)
            slot->owner->reload(slot->owner->reload_ctx);
        break;
    case SIG_ACT_LOG:
    case SIG_ACT_IGNORE:
    case SIG_ACT_FATAL:
        break;
    }
}

static int install_plain(const struct sp_signal_def *def, char *err, size_t errlen)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    if (def->action == SIG_ACT_IGNORE) {
        sa.sa_handler = SIG_IGN;
    } else {
        sa.sa_handler = fatal_handler;
        sa.sa_flags = SA_RESETHAND;
    }
    if (sigaction(def->signo, &sa, NULL) < 0) {
        snprintf(err, errlen, "sigaction(%s) failed: %s", def->name, strerror(errno));
        return -1;
    }
    return 0;
}

struct sp_signals *sp_signals_new(struct event_base *base, void (*reload)(void *ctx),
                                  void *reload_ctx, char *err, size_t errlen)
{
    struct sp_signals *sigs = calloc(1, sizeof(*sigs));
    if (sigs == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sigs->base = base;
    sigs->reload = reload;
    sigs->reload_ctx = reload_ctx;
    for (size_t i = 0; i < NSIGNAL_DEFS; i++) {
        const struct sp_signal_def *def = &signal_defs[i];
        struct sp_signal_slot *slot = &sigs->slots[i];

        slot->owner = sigs;
        slot->def = def;
        if (def->action == SIG_ACT_IGNORE || def->action == SIG_ACT_FATAL) {
            if (install_plain(def, err, errlen) < 0)
                goto err;
            continue;
        }
        slot->ev = evsignal_new(base, def->signo, on_signal, slot);
        if (slot->ev == NULL || evsignal_add(slot->ev, NULL) < 0) {
            snprintf(err, errlen, "installing a handler for %s failed", def->name);
            goto err;
        }
    }
    return sigs;
err:
    sp_signals_free(sigs);
    return NULL;
}

void sp_signals_free(struct sp_signals *sigs)
{
    if (sigs == NULL)
        return;
    for (size_t i = 0; i < NSIGNAL_DEFS; i++)
        if (sigs->slots[i].ev != NULL)
            event_free(sigs->slots[i].ev);
    free(sigs);
}

int sp_signals_exit_signal(const struct sp_signals *sigs)
{
    return sigs->exit_signal;
}
