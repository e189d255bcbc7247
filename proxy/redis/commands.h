/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis command table: what the proxy knows about every command it forwards, answers itself
 * or refuses.  SP_COMMAND_LIST is the ONE list; the enum, the table and the lookup are generated
 * from it, so adding a command is one line.  docs/commands.md describes the routing in prose.
 */
#ifndef SP_COMMANDS_H
#define SP_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

/* How the proxy handles a command. */
enum sp_cmd_route {
    SP_ROUTE_KEY,      /* forwarded whole to the server of argv[first_key] (further keys, as in
                          SDIFF or RPOPLPUSH, are the client's business: nutcracker semantics) */
    SP_ROUTE_MGET,     /* split per key; the array replies merged in the clients' key order */
    SP_ROUTE_SUM,      /* split per key (DEL UNLINK EXISTS TOUCH); integer replies summed */
    SP_ROUTE_MSET,     /* split per key/value pair; +OK only if every part answered +OK */
    SP_ROUTE_EVAL,     /* EVAL-like: argv[2] is numkeys, keys are argv[3 .. 2+numkeys]; routed by
                          argv[3]; numkeys 0 is refused (nutcracker closes the connection) */
    SP_ROUTE_KEYLESS,  /* no key, forwarded to one server (COMMAND, LOLWUT) */
    SP_ROUTE_LOCAL,    /* answered by the proxy (PING QUIT AUTH SELECT ECHO) */
    SP_ROUTE_REJECT,   /* refused with an error reply naming `reason` */
};

/* sp_command.flags */
#define SP_CMD_EXT 0x1u  /* accepted by shardproxy but refused by nutcracker 0.5.0 */
#define SP_CMD_RO 0x2u   /* reads only (Redis' "readonly" flag): a replica may answer it */

/* Why a command is refused (the text after "-ERR <name> is not supported by the proxy: "). */
#define SP_WHY_TX       "transactions cannot span servers"
#define SP_WHY_PUBSUB   "pub/sub needs a dedicated connection to one server"
#define SP_WHY_BLOCKING "blocking commands would stall every client sharing the server connection"
#define SP_WHY_KEYSPACE "it works on the whole keyspace, which is spread over several servers"
#define SP_WHY_ADMIN    "server administration must be sent to each server directly"
#define SP_WHY_CONN     "connection state belongs to the proxy"
#define SP_WHY_CROSSKEY "its keys may live on different servers"
#define SP_WHY_SCRIPT   "script and function management must be sent to each server directly"
#define SP_WHY_STREAM   "streams are not supported (nutcracker 0.5.0 refuses them too)"

/*
 * X(NAME, arity, first_key, last_key, key_step, ROUTE, flags, reason)
 *   arity:     Redis arity, counting the command name; negative = at least -arity
 *   first_key: argv index of the first key, 0 = none; last_key: index of the last key, -1 = the
 *              last argument, -2 = the one before it; key_step: distance between keys
 *   (from Redis 7's COMMAND, except where nutcracker routes differently: EVAL-like commands use
 *   argv[3]; ZDIFF ZINTER ZUNION route by argv[1], the numkeys argument, as nutcracker does)
 * Keep the list sorted by name (byte order): the lookup is a binary search and a test checks it.
 */
#define SP_COMMAND_LIST(X) \
    X(ACL,                   -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(APPEND,                 3, 1,  1, 1, KEY,    0,         NULL) \
    X(ASKING,                 1, 0,  0, 0, REJECT, 0,         SP_WHY_CONN) \
    X(AUTH,                  -2, 0,  0, 0, LOCAL,  0,         NULL) \
    X(BGREWRITEAOF,           1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(BGSAVE,                -1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(BITCOUNT,              -2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(BITFIELD,              -2, 1,  1, 1, KEY,    0,         NULL) \
    X(BITFIELD_RO,           -2, 1,  1, 1, KEY,    SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(BITOP,                 -4, 2, -1, 1, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(BITPOS,                -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(BLMOVE,                 6, 1,  2, 1, REJECT, 0,         SP_WHY_BLOCKING) \
    X(BLMPOP,                -5, 0,  0, 0, REJECT, 0,         SP_WHY_BLOCKING) \
    X(BLPOP,                 -3, 1, -2, 1, REJECT, 0,         SP_WHY_BLOCKING) \
    X(BRPOP,                 -3, 1, -2, 1, REJECT, 0,         SP_WHY_BLOCKING) \
    X(BRPOPLPUSH,             4, 1,  2, 1, REJECT, 0,         SP_WHY_BLOCKING) \
    X(BZMPOP,                -5, 0,  0, 0, REJECT, 0,         SP_WHY_BLOCKING) \
    X(BZPOPMAX,              -3, 1, -2, 1, REJECT, 0,         SP_WHY_BLOCKING) \
    X(BZPOPMIN,              -3, 1, -2, 1, REJECT, 0,         SP_WHY_BLOCKING) \
    X(CLIENT,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_CONN) \
    X(CLUSTER,               -2, 0,  0, 0, REJECT, 0,         SP_WHY_CONN) \
    X(COMMAND,               -1, 0,  0, 0, KEYLESS, 0,        NULL) \
    X(CONFIG,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(COPY,                  -3, 1,  2, 1, KEY,    0,         NULL) \
    X(DBSIZE,                 1, 0,  0, 0, REJECT, 0,         SP_WHY_KEYSPACE) \
    X(DEBUG,                 -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(DECR,                   2, 1,  1, 1, KEY,    0,         NULL) \
    X(DECRBY,                 3, 1,  1, 1, KEY,    0,         NULL) \
    X(DEL,                   -2, 1, -1, 1, SUM,    0,         NULL) \
    X(DISCARD,                1, 0,  0, 0, REJECT, 0,         SP_WHY_TX) \
    X(DUMP,                   2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ECHO,                   2, 0,  0, 0, LOCAL,  SP_CMD_EXT, NULL) \
    X(EVAL,                  -3, 3,  3, 1, EVAL,   0,         NULL) \
    X(EVALSHA,               -3, 3,  3, 1, EVAL,   0,         NULL) \
    X(EVALSHA_RO,            -3, 3,  3, 1, EVAL,   SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(EVAL_RO,               -3, 3,  3, 1, EVAL,   SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(EXEC,                   1, 0,  0, 0, REJECT, 0,         SP_WHY_TX) \
    X(EXISTS,                -2, 1, -1, 1, SUM,    SP_CMD_RO, NULL) \
    X(EXPIRE,                -3, 1,  1, 1, KEY,    0,         NULL) \
    X(EXPIREAT,              -3, 1,  1, 1, KEY,    0,         NULL) \
    X(EXPIRETIME,             2, 1,  1, 1, KEY,    SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(FAILOVER,              -1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(FCALL,                 -3, 0,  0, 0, REJECT, 0,         SP_WHY_SCRIPT) \
    X(FCALL_RO,              -3, 0,  0, 0, REJECT, 0,         SP_WHY_SCRIPT) \
    X(FLUSHALL,              -1, 0,  0, 0, REJECT, 0,         SP_WHY_KEYSPACE) \
    X(FLUSHDB,               -1, 0,  0, 0, REJECT, 0,         SP_WHY_KEYSPACE) \
    X(FUNCTION,              -2, 0,  0, 0, REJECT, 0,         SP_WHY_SCRIPT) \
    X(GEOADD,                -5, 1,  1, 1, KEY,    0,         NULL) \
    X(GEODIST,               -4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(GEOHASH,               -2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(GEOPOS,                -2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(GEORADIUS,             -6, 1,  1, 1, KEY,    0,         NULL) \
    X(GEORADIUSBYMEMBER,     -5, 1,  1, 1, KEY,    0,         NULL) \
    X(GEORADIUSBYMEMBER_RO,  -5, 1,  1, 1, KEY,    SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(GEORADIUS_RO,          -6, 1,  1, 1, KEY,    SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(GEOSEARCH,             -7, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(GEOSEARCHSTORE,        -8, 1,  2, 1, KEY,    0,         NULL) \
    X(GET,                    2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(GETBIT,                 3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(GETDEL,                 2, 1,  1, 1, KEY,    0,         NULL) \
    X(GETEX,                 -2, 1,  1, 1, KEY,    0,         NULL) \
    X(GETRANGE,               4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(GETSET,                 3, 1,  1, 1, KEY,    0,         NULL) \
    X(HDEL,                  -3, 1,  1, 1, KEY,    0,         NULL) \
    X(HELLO,                 -1, 0,  0, 0, REJECT, 0,         SP_WHY_CONN) \
    X(HEXISTS,                3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HGET,                   3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HGETALL,                2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HINCRBY,                4, 1,  1, 1, KEY,    0,         NULL) \
    X(HINCRBYFLOAT,           4, 1,  1, 1, KEY,    0,         NULL) \
    X(HKEYS,                  2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HLEN,                   2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HMGET,                 -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HMSET,                 -4, 1,  1, 1, KEY,    0,         NULL) \
    X(HRANDFIELD,            -2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HSCAN,                 -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HSET,                  -4, 1,  1, 1, KEY,    0,         NULL) \
    X(HSETNX,                 4, 1,  1, 1, KEY,    0,         NULL) \
    X(HSTRLEN,                3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(HVALS,                  2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(INCR,                   2, 1,  1, 1, KEY,    0,         NULL) \
    X(INCRBY,                 3, 1,  1, 1, KEY,    0,         NULL) \
    X(INCRBYFLOAT,            3, 1,  1, 1, KEY,    0,         NULL) \
    X(INFO,                  -1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(KEYS,                   2, 0,  0, 0, REJECT, 0,         SP_WHY_KEYSPACE) \
    X(LASTSAVE,               1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(LATENCY,               -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(LCS,                   -3, 1,  2, 1, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(LINDEX,                 3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(LINSERT,                5, 1,  1, 1, KEY,    0,         NULL) \
    X(LLEN,                   2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(LMOVE,                  5, 1,  2, 1, KEY,    0,         NULL) \
    X(LMPOP,                 -4, 0,  0, 0, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(LOLWUT,                -1, 0,  0, 0, KEYLESS, 0,        NULL) \
    X(LPOP,                  -2, 1,  1, 1, KEY,    0,         NULL) \
    X(LPOS,                  -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(LPUSH,                 -3, 1,  1, 1, KEY,    0,         NULL) \
    X(LPUSHX,                -3, 1,  1, 1, KEY,    0,         NULL) \
    X(LRANGE,                 4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(LREM,                   4, 1,  1, 1, KEY,    0,         NULL) \
    X(LSET,                   4, 1,  1, 1, KEY,    0,         NULL) \
    X(LTRIM,                  4, 1,  1, 1, KEY,    0,         NULL) \
    X(MEMORY,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(MGET,                  -2, 1, -1, 1, MGET,   SP_CMD_RO, NULL) \
    X(MIGRATE,               -6, 3,  3, 1, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(MODULE,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(MONITOR,                1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(MOVE,                   3, 1,  1, 1, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(MSET,                  -3, 1, -1, 2, MSET,   0,         NULL) \
    X(MSETNX,                -3, 1, -1, 2, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(MULTI,                  1, 0,  0, 0, REJECT, 0,         SP_WHY_TX) \
    X(OBJECT,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(PERSIST,                2, 1,  1, 1, KEY,    0,         NULL) \
    X(PEXPIRE,               -3, 1,  1, 1, KEY,    0,         NULL) \
    X(PEXPIREAT,             -3, 1,  1, 1, KEY,    0,         NULL) \
    X(PEXPIRETIME,            2, 1,  1, 1, KEY,    SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(PFADD,                 -2, 1,  1, 1, KEY,    0,         NULL) \
    X(PFCOUNT,               -2, 1, -1, 1, KEY,    SP_CMD_RO, NULL) \
    X(PFDEBUG,                3, 2,  2, 1, REJECT, 0,         SP_WHY_ADMIN) \
    X(PFMERGE,               -2, 1, -1, 1, KEY,    0,         NULL) \
    X(PFSELFTEST,             1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(PING,                  -1, 0,  0, 0, LOCAL,  0,         NULL) \
    X(PSETEX,                 4, 1,  1, 1, KEY,    0,         NULL) \
    X(PSUBSCRIBE,            -2, 0,  0, 0, REJECT, 0,         SP_WHY_PUBSUB) \
    X(PSYNC,                 -3, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(PTTL,                   2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(PUBLISH,                3, 0,  0, 0, REJECT, 0,         SP_WHY_PUBSUB) \
    X(PUBSUB,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_PUBSUB) \
    X(PUNSUBSCRIBE,          -1, 0,  0, 0, REJECT, 0,         SP_WHY_PUBSUB) \
    X(QUIT,                  -1, 0,  0, 0, LOCAL,  0,         NULL) \
    X(RANDOMKEY,              1, 0,  0, 0, REJECT, 0,         SP_WHY_KEYSPACE) \
    X(READONLY,               1, 0,  0, 0, REJECT, 0,         SP_WHY_CONN) \
    X(READWRITE,              1, 0,  0, 0, REJECT, 0,         SP_WHY_CONN) \
    X(RENAME,                 3, 1,  2, 1, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(RENAMENX,               3, 1,  2, 1, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(REPLCONF,              -1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(REPLICAOF,              3, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(RESET,                  1, 0,  0, 0, REJECT, 0,         SP_WHY_CONN) \
    X(RESTORE,               -4, 1,  1, 1, KEY,    0,         NULL) \
    X(ROLE,                   1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(RPOP,                  -2, 1,  1, 1, KEY,    0,         NULL) \
    X(RPOPLPUSH,              3, 1,  2, 1, KEY,    0,         NULL) \
    X(RPUSH,                 -3, 1,  1, 1, KEY,    0,         NULL) \
    X(RPUSHX,                -3, 1,  1, 1, KEY,    0,         NULL) \
    X(SADD,                  -3, 1,  1, 1, KEY,    0,         NULL) \
    X(SAVE,                   1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(SCAN,                  -2, 0,  0, 0, REJECT, 0,         SP_WHY_KEYSPACE) \
    X(SCARD,                  2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SCRIPT,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_SCRIPT) \
    X(SDIFF,                 -2, 1, -1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SDIFFSTORE,            -3, 1, -1, 1, KEY,    0,         NULL) \
    X(SELECT,                 2, 0,  0, 0, LOCAL,  SP_CMD_EXT, NULL) \
    X(SET,                   -3, 1,  1, 1, KEY,    0,         NULL) \
    X(SETBIT,                 4, 1,  1, 1, KEY,    0,         NULL) \
    X(SETEX,                  4, 1,  1, 1, KEY,    0,         NULL) \
    X(SETNX,                  3, 1,  1, 1, KEY,    0,         NULL) \
    X(SETRANGE,               4, 1,  1, 1, KEY,    0,         NULL) \
    X(SHUTDOWN,              -1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(SINTER,                -2, 1, -1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SINTERCARD,            -3, 0,  0, 0, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(SINTERSTORE,           -3, 1, -1, 1, KEY,    0,         NULL) \
    X(SISMEMBER,              3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SLAVEOF,                3, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(SLOWLOG,               -2, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(SMEMBERS,               2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SMISMEMBER,            -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SMOVE,                  4, 1,  2, 1, KEY,    0,         NULL) \
    X(SORT,                  -2, 1,  1, 1, KEY,    0,         NULL) \
    X(SORT_RO,               -2, 1,  1, 1, KEY,    SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(SPOP,                  -2, 1,  1, 1, KEY,    0,         NULL) \
    X(SPUBLISH,               3, 1,  1, 1, REJECT, 0,         SP_WHY_PUBSUB) \
    X(SRANDMEMBER,           -2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SREM,                  -3, 1,  1, 1, KEY,    0,         NULL) \
    X(SSCAN,                 -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SSUBSCRIBE,            -2, 1, -1, 1, REJECT, 0,         SP_WHY_PUBSUB) \
    X(STRLEN,                 2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SUBSCRIBE,             -2, 0,  0, 0, REJECT, 0,         SP_WHY_PUBSUB) \
    X(SUBSTR,                 4, 1,  1, 1, KEY,    SP_CMD_EXT | SP_CMD_RO, NULL) \
    X(SUNION,                -2, 1, -1, 1, KEY,    SP_CMD_RO, NULL) \
    X(SUNIONSTORE,           -3, 1, -1, 1, KEY,    0,         NULL) \
    X(SUNSUBSCRIBE,          -1, 1, -1, 1, REJECT, 0,         SP_WHY_PUBSUB) \
    X(SWAPDB,                 3, 0,  0, 0, REJECT, 0,         SP_WHY_KEYSPACE) \
    X(SYNC,                   1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(TIME,                   1, 0,  0, 0, REJECT, 0,         SP_WHY_ADMIN) \
    X(TOUCH,                 -2, 1, -1, 1, SUM,    SP_CMD_RO, NULL) \
    X(TTL,                    2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(TYPE,                   2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(UNLINK,                -2, 1, -1, 1, SUM,    0,         NULL) \
    X(UNSUBSCRIBE,           -1, 0,  0, 0, REJECT, 0,         SP_WHY_PUBSUB) \
    X(UNWATCH,                1, 0,  0, 0, REJECT, 0,         SP_WHY_TX) \
    X(WAIT,                   3, 0,  0, 0, REJECT, 0,         SP_WHY_BLOCKING) \
    X(WATCH,                 -2, 1, -1, 1, REJECT, 0,         SP_WHY_TX) \
    X(XACK,                  -4, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XADD,                  -5, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XAUTOCLAIM,            -6, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XCLAIM,                -6, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XDEL,                  -3, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XGROUP,                -2, 0,  0, 0, REJECT, 0,         SP_WHY_STREAM) \
    X(XINFO,                 -2, 0,  0, 0, REJECT, 0,         SP_WHY_STREAM) \
    X(XLEN,                   2, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XPENDING,              -3, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XRANGE,                -4, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XREAD,                 -4, 0,  0, 0, REJECT, 0,         SP_WHY_STREAM) \
    X(XREADGROUP,            -7, 0,  0, 0, REJECT, 0,         SP_WHY_STREAM) \
    X(XREVRANGE,             -4, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XSETID,                -3, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(XTRIM,                 -4, 1,  1, 1, REJECT, 0,         SP_WHY_STREAM) \
    X(ZADD,                  -4, 1,  1, 1, KEY,    0,         NULL) \
    X(ZCARD,                  2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZCOUNT,                 4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZDIFF,                 -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZDIFFSTORE,            -4, 1,  1, 1, KEY,    0,         NULL) \
    X(ZINCRBY,                4, 1,  1, 1, KEY,    0,         NULL) \
    X(ZINTER,                -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZINTERCARD,            -3, 0,  0, 0, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(ZINTERSTORE,           -4, 1,  1, 1, KEY,    0,         NULL) \
    X(ZLEXCOUNT,              4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZMPOP,                 -4, 0,  0, 0, REJECT, 0,         SP_WHY_CROSSKEY) \
    X(ZMSCORE,               -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZPOPMAX,               -2, 1,  1, 1, KEY,    0,         NULL) \
    X(ZPOPMIN,               -2, 1,  1, 1, KEY,    0,         NULL) \
    X(ZRANDMEMBER,           -2, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZRANGE,                -4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZRANGEBYLEX,           -4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZRANGEBYSCORE,         -4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZRANGESTORE,           -5, 1,  2, 1, KEY,    0,         NULL) \
    X(ZRANK,                  3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZREM,                  -3, 1,  1, 1, KEY,    0,         NULL) \
    X(ZREMRANGEBYLEX,         4, 1,  1, 1, KEY,    0,         NULL) \
    X(ZREMRANGEBYRANK,        4, 1,  1, 1, KEY,    0,         NULL) \
    X(ZREMRANGEBYSCORE,       4, 1,  1, 1, KEY,    0,         NULL) \
    X(ZREVRANGE,             -4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZREVRANGEBYLEX,        -4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZREVRANGEBYSCORE,      -4, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZREVRANK,               3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZSCAN,                 -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZSCORE,                 3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZUNION,                -3, 1,  1, 1, KEY,    SP_CMD_RO, NULL) \
    X(ZUNIONSTORE,           -4, 1,  1, 1, KEY,    0,         NULL) \
    /* end of list */

/* One identifier per command: SP_CMD_GET, SP_CMD_PING, ... in list order. */
enum sp_cmd_id {
#define SP_CMD_ENUM_(name, arity, first, last, step, route, flags, reason) SP_CMD_##name,
    SP_COMMAND_LIST(SP_CMD_ENUM_)
#undef SP_CMD_ENUM_
    SP_CMD_COUNT_
};

/* A command table entry.  Entries are static and live forever. */
struct sp_command {
    const char *name;          /* upper case, NUL-terminated */
    uint8_t name_len;
    enum sp_cmd_id id;
    enum sp_cmd_route route;
    int16_t arity;
    int8_t first_key;
    int8_t last_key;
    int8_t key_step;
    unsigned flags;            /* SP_CMD_EXT, SP_CMD_RO */
    const char *reason;        /* SP_ROUTE_REJECT: why; else NULL */
};

/* Longest command name in the table; longer names are unknown without further work. */
#define SP_COMMAND_NAME_MAX 24

/*
 * Finds a command by name, case-insensitively (binary bytes allowed; no NUL needed).
 * Returns the entry, or NULL for an unknown command.  Pure and thread-safe.
 */
const struct sp_command *sp_command_lookup(const void *name, size_t len);

/*
 * Returns 1 if name (len bytes, any case) is this command's name, else 0.  Cheaper than a lookup
 * when the caller has a likely candidate (pipelines repeat commands).
 */
int sp_command_is(const struct sp_command *cmd, const void *name, size_t len);

/* The entry for an id (id < SP_CMD_COUNT_), or NULL when out of range. */
const struct sp_command *sp_command_get(enum sp_cmd_id id);

/* Number of entries; sp_command_get(0 .. count-1) walks the table in name order. */
size_t sp_command_count(void);

/* Returns 1 if argc (counting the command name) satisfies the command's arity, else 0. */
int sp_command_arity_ok(const struct sp_command *cmd, size_t argc);

/*
 * The key positions of a request of argc arguments: sets *first, *last (inclusive argv indexes)
 * and *step.  For SP_ROUTE_EVAL pass the parsed numkeys (ignored otherwise).
 * Returns the number of keys (0 for commands without keys; then the outputs are 0), or -1 when
 * the arguments cannot hold the keys (arity not met, numkeys < 0 or beyond argc, or MSET-like
 * key/value pairs incomplete).  Outputs are unchanged on -1.
 */
long sp_command_keys(const struct sp_command *cmd, size_t argc, long long numkeys,
                     size_t *first, size_t *last, size_t *step);

/* Route name for logs and docs: "key", "mget", "sum", "mset", "eval", "keyless", "local",
   "reject". */
const char *sp_command_route_name(enum sp_cmd_route route);

#endif /* SP_COMMANDS_H */
