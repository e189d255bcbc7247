/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memcached command table: what the proxy knows about every text and meta command it
 * forwards, answers itself or refuses.  SP_MC_COMMAND_LIST is the ONE list; the enum, the table
 * and the lookup are generated from it, so adding a command is one line.
 * docs/commands-memcached.md describes the routing in prose (a unit test keeps them in step).
 */
#ifndef SP_MC_COMMANDS_H
#define SP_MC_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

/* What a command looks like on the wire, which decides how it is framed, checked and routed. */
enum sp_mc_kind {
    SP_MC_STORE,     /* <cmd> <key> <flags> <exptime> <bytes> [noreply] + data block */
    SP_MC_CAS,       /* cas <key> <flags> <exptime> <bytes> <cas unique> [noreply] + data block */
    SP_MC_GET,       /* <cmd> <key>+: split per server, merged in key order with one END */
    SP_MC_GAT,       /* <cmd> <exptime> <key>*: as GET, each fragment keeps the exptime */
    SP_MC_DELETE,    /* delete <key> [0] [noreply] */
    SP_MC_ARITH,     /* incr|decr <key> <delta> [noreply] */
    SP_MC_TOUCH,     /* touch <key> <exptime> [noreply] */
    SP_MC_META,      /* mg|md|ma|me <key> <flags>*: forwarded by key */
    SP_MC_META_SET,  /* ms <key> <datalen> <flags>* + data block */
    SP_MC_NOOP,      /* mn: answered by the proxy once every earlier reply is out */
    SP_MC_VERSION,   /* sent to every server: the lowest of their versions (mc_fanout.h) */
    SP_MC_ALL,       /* flush_all, verbosity: sent to every server; OK once all said OK */
    SP_MC_QUIT,      /* closes the connection, no reply (as memcached) */
    SP_MC_REFUSE,    /* no key to route by: refused with SERVER_ERROR naming `reason` */
};

/* Why a command is refused (the text after "SERVER_ERROR <name> is not supported by the proxy: "). */
#define SP_MC_WHY_ALL   "it acts on every server; send it to each server directly"
#define SP_MC_WHY_STATS "statistics are per server; ask each server, or the proxy's stats port"
#define SP_MC_WHY_CONN  "it changes the connection, which the proxy shares between clients"

/*
 * X(name, KIND, min_args, max_args, reason)
 *   args count the tokens after the command name; max_args -1 = no limit.  Lower case, as
 *   memcached (command names are case-sensitive).  Keep the list sorted by name (byte order):
 *   the lookup is a binary search and a test checks it.
 */
#define SP_MC_COMMAND_LIST(X) \
    X(add,            STORE,    4,  5, NULL) \
    X(append,         STORE,    4,  5, NULL) \
    X(cache_memlimit, REFUSE,   0, -1, SP_MC_WHY_ALL) \
    X(cas,            CAS,      5,  6, NULL) \
    X(decr,           ARITH,    2,  3, NULL) \
    X(delete,         DELETE,   1,  3, NULL) \
    X(flush_all,      ALL,      0,  2, NULL) \
    X(gat,            GAT,      1, -1, NULL) \
    X(gats,           GAT,      1, -1, NULL) \
    X(get,            GET,      1, -1, NULL) \
    X(gets,           GET,      1, -1, NULL) \
    X(incr,           ARITH,    2,  3, NULL) \
    X(lru,            REFUSE,   0, -1, SP_MC_WHY_ALL) \
    X(lru_crawler,    REFUSE,   0, -1, SP_MC_WHY_ALL) \
    X(ma,             META,     1, -1, NULL) \
    X(md,             META,     1, -1, NULL) \
    X(me,             META,     0, -1, NULL) \
    X(mg,             META,     1, -1, NULL) \
    X(misbehave,      REFUSE,   0, -1, SP_MC_WHY_ALL) \
    X(mn,             NOOP,     0, -1, NULL) \
    X(ms,             META_SET, 1, -1, NULL) \
    X(prepend,        STORE,    4,  5, NULL) \
    X(quit,           QUIT,     0, -1, NULL) \
    X(replace,        STORE,    4,  5, NULL) \
    X(set,            STORE,    4,  5, NULL) \
    X(shutdown,       REFUSE,   0, -1, SP_MC_WHY_ALL) \
    X(slabs,          REFUSE,   0, -1, SP_MC_WHY_ALL) \
    X(stats,          REFUSE,   0, -1, SP_MC_WHY_STATS) \
    X(touch,          TOUCH,    2,  3, NULL) \
    X(verbosity,      ALL,      1,  2, NULL) \
    X(version,        VERSION,  0, -1, NULL) \
    X(watch,          REFUSE,   0, -1, SP_MC_WHY_CONN)
    /* end of list */

/* One identifier per command: SP_MC_CMD_get, SP_MC_CMD_set, ... in list order. */
enum sp_mc_cmd_id {
#define SP_MC_ENUM_(name, kind, min, max, why) SP_MC_CMD_##name,
    SP_MC_COMMAND_LIST(SP_MC_ENUM_)
#undef SP_MC_ENUM_
    SP_MC_CMD_COUNT_
};

/* A command table entry.  Entries are static and live forever. */
struct sp_mc_command {
    const char *name;
    uint8_t name_len;
    enum sp_mc_cmd_id id;
    enum sp_mc_kind kind;
    int16_t min_args;
    int16_t max_args;          /* -1: any number */
    const char *reason;        /* SP_MC_REFUSE: why; else NULL */
};

/* Longest command name in the table. */
#define SP_MC_NAME_MAX 14

/* Finds a command by its exact (case-sensitive) name.  Returns the entry, or NULL. */
const struct sp_mc_command *sp_mc_command_lookup(const void *name, size_t len);

/* The entry for an id, or NULL when out of range. */
const struct sp_mc_command *sp_mc_command_get(unsigned id);

/* Number of entries; sp_mc_command_get(0 .. count-1) walks the table in name order. */
size_t sp_mc_command_count(void);

/* Does a command carry a data block after its line (storage commands, ms)? */
int sp_mc_kind_has_data(enum sp_mc_kind kind);

/* Kind name for logs, docs and tests: "store", "cas", "get", ... */
const char *sp_mc_kind_name(enum sp_mc_kind kind);

#endif /* SP_MC_COMMANDS_H */
