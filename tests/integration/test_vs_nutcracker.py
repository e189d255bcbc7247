# SPDX-License-Identifier: Apache-2.0
"""Side by side with nutcracker 0.5.0: the same command stream, the same replies, byte for byte.

Debian's /usr/sbin/nutcracker and shardproxy run on the same one-pool config (fnv1a_64 + ketama,
hash_tag "{}", servers named s0..s2 so placement does not depend on the backends' ports), each in
front of its own three redis-server backends, all flushed before every test.  Each test sends the
same commands to both over raw sockets and compares the raw reply bytes, and at the end of a
stream checks that every backend s<i> of one proxy holds exactly the keys s<i> of the other holds.

Where shardproxy deliberately differs (docs/commands.md, docs/compat.md: nutcracker closes the
connection on unsupported commands, wrong arity it checks itself and protocol errors; shardproxy
answers an error and keeps the connection, answers QUIT with +OK, accepts inline commands, sums
EXISTS over servers, forwards a few more commands), each side is checked against its own
documented behaviour, on a fresh connection per case since nutcracker drops the connection.
Where shardproxy answers what Redis itself would answer, a separate reference redis-server
(flushed) gives the expected bytes.
"""

import random
import time

import harness
from rawresp import RawClient, enc

NSERVERS = 3
PONG = b"+PONG\r\n"


def arg_bytes(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, int):
        return b"%d" % a
    return a.encode()


def show(cmd):
    """A short printable form of a command for failure messages."""
    parts = [arg_bytes(a) for a in cmd]
    text = b" ".join(p if len(p) <= 40 else p[:37] + b"..." for p in parts[:8])
    return repr(text + (b" ..." if len(parts) > 8 else b""))


def short(data, limit=300):
    return repr(data if len(data) <= limit else data[:limit] + b"...(%d bytes)" % len(data))


# --- the command corpus ---------------------------------------------------------------------------

def binary_keys():
    """Keys that stress framing and hashing: empty, NUL, CRLF, high bytes, blanks, braces, long."""
    return [b"", b"\x00", b"\r\n", b"\n", b"a b c", b"\xff\xfe\xfd", b"{", b"}{", b"{}x",
            bytes(range(256)), b"k" * 2000, "caf\u00e9".encode(), b"$3\r\nGET\r\n", b"*1\r\n"]


def corpus(rng):
    """The command stream: every family nutcracker forwards.  Deterministic replies only: sets
    whose members are listed are intsets (Redis' hash tables order members by a per-process
    seed), random members are drawn from one-member collections, TTLs are whole seconds."""
    c = []
    add = c.append
    # strings
    add((b"SET", b"str:1", b"hello"))
    add((b"GET", b"str:1"))
    add((b"GET", b"str:missing"))
    add((b"APPEND", b"str:1", b" world"))
    add((b"STRLEN", b"str:1"))
    add((b"GETRANGE", b"str:1", 0, 4))
    add((b"GETRANGE", b"str:1", -5, -1))
    add((b"SETRANGE", b"str:1", 6, b"WORLD"))
    add((b"GET", b"str:1"))
    add((b"SETNX", b"str:1", b"x"))
    add((b"SETNX", b"str:2", b"x"))
    add((b"GETSET", b"str:2", b"y"))
    add((b"SET", b"str:2", b"z", b"NX"))
    add((b"SET", b"str:2", b"z", b"XX", b"GET"))
    add((b"SET", b"str:3", b"v", b"EX", 1000))
    add((b"TTL", b"str:3"))
    add((b"SETEX", b"str:4", 1000, b"v"))
    add((b"TTL", b"str:4"))
    add((b"PSETEX", b"str:5", 1000000, b"v"))
    add((b"PERSIST", b"str:5"))
    add((b"PTTL", b"str:5"))
    add((b"PTTL", b"str:missing"))
    add((b"GETEX", b"str:5", b"EX", 500))
    add((b"TTL", b"str:5"))
    add((b"GETEX", b"str:5", b"PERSIST"))
    add((b"TTL", b"str:5"))
    add((b"GETDEL", b"str:5"))
    add((b"GETDEL", b"str:5"))
    add((b"INCR", b"cnt"))
    add((b"INCRBY", b"cnt", 41))
    add((b"DECR", b"cnt"))
    add((b"DECRBY", b"cnt", 100))
    add((b"INCRBYFLOAT", b"cntf", b"1.5"))
    add((b"INCRBYFLOAT", b"cntf", b"-0.25e1"))
    add((b"INCR", b"str:1"))                         # ERR value is not an integer
    add((b"INCRBYFLOAT", b"str:1", b"1"))
    add((b"SET", b"str:1", b"v", b"EX", 0))           # ERR invalid expire time
    add((b"SET", b"str:1", b"v", b"BOGUS"))           # ERR syntax error
    # keys, expiry
    add((b"EXISTS", b"str:1"))
    add((b"EXISTS", b"str:missing"))
    add((b"TYPE", b"str:1"))
    add((b"TYPE", b"str:missing"))
    add((b"EXPIRE", b"str:1", 1000))
    add((b"TTL", b"str:1"))
    add((b"PEXPIRE", b"str:2", 1000000))
    add((b"PERSIST", b"str:2"))
    add((b"TTL", b"str:2"))
    add((b"EXPIREAT", b"str:2", 4102444800))
    add((b"PEXPIREAT", b"str:2", 4102444800000))
    add((b"PERSIST", b"str:2"))
    add((b"TTL", b"str:missing"))
    add((b"EXPIRE", b"str:missing", 10))
    add((b"TOUCH", b"str:1"))
    add((b"UNLINK", b"str:4"))
    add((b"DEL", b"str:4"))
    add((b"DUMP", b"str:1"))
    add((b"DUMP", b"str:missing"))
    add((b"COPY", b"{cp}src", b"{cp}dst"))
    add((b"SET", b"{cp}src", b"copied"))
    add((b"COPY", b"{cp}src", b"{cp}dst"))
    add((b"COPY", b"{cp}src", b"{cp}dst"))
    add((b"COPY", b"{cp}src", b"{cp}dst", b"REPLACE"))
    add((b"GET", b"{cp}dst"))
    # hashes (small: listpack keeps insertion order)
    add((b"HSET", b"h:1", b"f1", b"v1", b"f2", b"v2", b"f3", b"3"))
    add((b"HSET", b"h:1", b"f1", b"v1b"))
    add((b"HMSET", b"h:1", b"f4", b"v4", b"f5", b"v5"))
    add((b"HGET", b"h:1", b"f1"))
    add((b"HGET", b"h:1", b"nope"))
    add((b"HMGET", b"h:1", b"f1", b"nope", b"f2"))
    add((b"HGETALL", b"h:1"))
    add((b"HKEYS", b"h:1"))
    add((b"HVALS", b"h:1"))
    add((b"HLEN", b"h:1"))
    add((b"HEXISTS", b"h:1", b"f2"))
    add((b"HSTRLEN", b"h:1", b"f1"))
    add((b"HINCRBY", b"h:1", b"f3", 7))
    add((b"HINCRBYFLOAT", b"h:1", b"f3", b"0.5"))
    add((b"HINCRBY", b"h:1", b"f1", 1))               # ERR hash value is not an integer
    add((b"HSETNX", b"h:1", b"f1", b"x"))
    add((b"HSETNX", b"h:1", b"f9", b"x"))
    add((b"HDEL", b"h:1", b"f2", b"nope"))
    add((b"HSCAN", b"h:1", 0))
    add((b"HSCAN", b"h:1", 0, b"MATCH", b"f*", b"COUNT", 100))
    add((b"HSET", b"h:one", b"only", b"1"))
    add((b"HRANDFIELD", b"h:one"))
    add((b"HRANDFIELD", b"h:one", 1, b"WITHVALUES"))
    add((b"HGETALL", b"h:missing"))
    # lists
    add((b"RPUSH", b"l:1", b"a", b"b", b"c", b"d", b"e"))
    add((b"LPUSH", b"l:1", b"z", b"y"))
    add((b"LPUSHX", b"l:1", b"x"))
    add((b"RPUSHX", b"l:1", b"f"))
    add((b"LPUSHX", b"l:missing", b"x"))
    add((b"LRANGE", b"l:1", 0, -1))
    add((b"LLEN", b"l:1"))
    add((b"LINDEX", b"l:1", 2))
    add((b"LINDEX", b"l:1", 100))
    add((b"LSET", b"l:1", 0, b"X"))
    add((b"LSET", b"l:1", 100, b"X"))                 # ERR index out of range
    add((b"LINSERT", b"l:1", b"BEFORE", b"c", b"bc"))
    add((b"LINSERT", b"l:1", b"AFTER", b"nope", b"q"))
    add((b"LPOS", b"l:1", b"c"))
    add((b"LREM", b"l:1", 0, b"bc"))
    add((b"LTRIM", b"l:1", 1, -2))
    add((b"LRANGE", b"l:1", 0, -1))
    add((b"LPOP", b"l:1"))
    add((b"RPOP", b"l:1"))
    add((b"LPOP", b"l:1", 2))
    add((b"RPOPLPUSH", b"{lm}a", b"{lm}b"))
    add((b"RPUSH", b"{lm}a", b"1", b"2", b"3"))
    add((b"RPOPLPUSH", b"{lm}a", b"{lm}b"))
    add((b"LMOVE", b"{lm}a", b"{lm}b", b"LEFT", b"RIGHT"))
    add((b"LRANGE", b"{lm}b", 0, -1))
    add((b"RPUSH", b"l:num", 3, 1, 2, 10))
    add((b"SORT", b"l:num"))
    add((b"SORT", b"l:num", b"DESC", b"LIMIT", 0, 2))
    add((b"SORT", b"l:1", b"ALPHA"))
    # sets: listed sets hold integers only (intset: sorted, seed-independent)
    add((b"SADD", b"s:1", 5, 3, 1, 4, 2))
    add((b"SADD", b"s:1", 3, 6))
    add((b"SMEMBERS", b"s:1"))
    add((b"SCARD", b"s:1"))
    add((b"SISMEMBER", b"s:1", 3))
    add((b"SISMEMBER", b"s:1", 30))
    add((b"SMISMEMBER", b"s:1", 1, 30, 2))
    add((b"SREM", b"s:1", 6, 60))
    add((b"SSCAN", b"s:1", 0))
    add((b"SADD", b"{st}a", 1, 2, 3, 4))
    add((b"SADD", b"{st}b", 3, 4, 5))
    add((b"SINTER", b"{st}a", b"{st}b"))
    add((b"SUNION", b"{st}a", b"{st}b"))
    add((b"SDIFF", b"{st}a", b"{st}b"))
    add((b"SINTERSTORE", b"{st}i", b"{st}a", b"{st}b"))
    add((b"SUNIONSTORE", b"{st}u", b"{st}a", b"{st}b"))
    add((b"SDIFFSTORE", b"{st}d", b"{st}a", b"{st}b"))
    add((b"SMEMBERS", b"{st}u"))
    add((b"SMOVE", b"{st}a", b"{st}b", 1))
    add((b"SMEMBERS", b"{st}b"))
    add((b"SADD", b"s:str", b"alpha", b"beta", b"gamma"))
    add((b"SCARD", b"s:str"))
    add((b"SMISMEMBER", b"s:str", b"beta", b"delta"))
    add((b"SADD", b"s:one", b"only"))
    add((b"SRANDMEMBER", b"s:one"))
    add((b"SRANDMEMBER", b"s:one", 5))
    add((b"SPOP", b"s:one"))
    add((b"SPOP", b"s:one"))
    # sorted sets
    add((b"ZADD", b"z:1", 1, b"a", 2, b"b", 3, b"c", b"2.5", b"bb"))
    add((b"ZADD", b"z:1", b"NX", 10, b"a", 4, b"d"))
    add((b"ZADD", b"z:1", b"XX", b"CH", b"1.5", b"a"))
    add((b"ZADD", b"z:1", b"INCR", 1, b"d"))
    add((b"ZRANGE", b"z:1", 0, -1, b"WITHSCORES"))
    add((b"ZRANGE", b"z:1", b"(1", b"+inf", b"BYSCORE", b"LIMIT", 0, 2))
    add((b"ZREVRANGE", b"z:1", 0, 1))
    add((b"ZRANGEBYSCORE", b"z:1", b"-inf", b"(3", b"WITHSCORES"))
    add((b"ZREVRANGEBYSCORE", b"z:1", b"+inf", 2))
    add((b"ZCARD", b"z:1"))
    add((b"ZCOUNT", b"z:1", 2, 3))
    add((b"ZSCORE", b"z:1", b"bb"))
    add((b"ZMSCORE", b"z:1", b"a", b"nope"))
    add((b"ZRANK", b"z:1", b"c"))
    add((b"ZREVRANK", b"z:1", b"c"))
    add((b"ZINCRBY", b"z:1", b"0.125", b"a"))
    add((b"ZREM", b"z:1", b"bb", b"nope"))
    add((b"ZSCAN", b"z:1", 0))
    add((b"ZADD", b"z:lex", 0, b"a", 0, b"b", 0, b"c", 0, b"d"))
    add((b"ZRANGEBYLEX", b"z:lex", b"[b", b"+"))
    add((b"ZREVRANGEBYLEX", b"z:lex", b"+", b"(b"))
    add((b"ZLEXCOUNT", b"z:lex", b"-", b"+"))
    add((b"ZREMRANGEBYLEX", b"z:lex", b"[a", b"[a"))
    add((b"ZREMRANGEBYRANK", b"z:1", 0, 0))
    add((b"ZREMRANGEBYSCORE", b"z:1", 100, 200))
    add((b"ZPOPMIN", b"z:1"))
    add((b"ZPOPMAX", b"z:1", 2))
    add((b"ZADD", b"{zs}a", 1, b"x", 2, b"y"))
    add((b"ZADD", b"{zs}b", 10, b"y", 20, b"z"))
    add((b"ZUNIONSTORE", b"{zs}u", 2, b"{zs}a", b"{zs}b"))
    add((b"ZINTERSTORE", b"{zs}i", 2, b"{zs}a", b"{zs}b", b"WEIGHTS", 2, 3))
    add((b"ZDIFFSTORE", b"{zs}d", 2, b"{zs}a", b"{zs}b"))
    add((b"ZRANGESTORE", b"{zs}r", b"{zs}u", 0, 1))
    add((b"ZRANGE", b"{zs}u", 0, -1, b"WITHSCORES"))
    add((b"ZUNION", 2, b"{zs}a", b"{zs}b"))           # routed by argv[1] on both
    add((b"ZINTER", 2, b"{zs}a", b"{zs}b"))
    add((b"ZDIFF", 2, b"{zs}a", b"{zs}b"))
    add((b"ZADD", b"z:one", 1, b"only"))
    add((b"ZRANDMEMBER", b"z:one"))
    add((b"ZRANDMEMBER", b"z:one", 1, b"WITHSCORES"))
    # hyperloglog
    add((b"PFADD", b"{hll}a", b"x", b"y", b"z"))
    add((b"PFADD", b"{hll}a", b"x"))
    add((b"PFADD", b"{hll}b", b"z", b"w"))
    add((b"PFCOUNT", b"{hll}a"))
    add((b"PFCOUNT", b"{hll}a", b"{hll}b"))
    add((b"PFMERGE", b"{hll}m", b"{hll}a", b"{hll}b"))
    add((b"PFCOUNT", b"{hll}m"))
    add((b"PFCOUNT", b"str:1"))                       # WRONGTYPE (not an HLL)
    # geo
    add((b"GEOADD", b"{g}1", b"13.361389", b"38.115556", b"Palermo",
         b"15.087269", b"37.502669", b"Catania"))
    add((b"GEOADD", b"{g}1", b"NX", b"12.5", b"41.9", b"Rome"))
    add((b"GEODIST", b"{g}1", b"Palermo", b"Catania", b"km"))
    add((b"GEOHASH", b"{g}1", b"Palermo", b"nope"))
    add((b"GEOPOS", b"{g}1", b"Catania", b"nope"))
    add((b"GEORADIUS", b"{g}1", 15, 37, 200, b"km", b"WITHDIST", b"ASC"))
    add((b"GEORADIUSBYMEMBER", b"{g}1", b"Palermo", 300, b"km", b"ASC"))
    add((b"GEOSEARCH", b"{g}1", b"FROMLONLAT", 15, 37, b"BYRADIUS", 200, b"km", b"ASC",
         b"WITHCOORD"))
    add((b"GEOSEARCHSTORE", b"{g}2", b"{g}1", b"FROMMEMBER", b"Palermo", b"BYBOX", 800, 800,
         b"km", b"ASC"))
    add((b"ZRANGE", b"{g}2", 0, -1))
    add((b"GEOADD", b"{g}1", 200, 100, b"bad"))       # ERR invalid longitude,latitude pair
    # bits
    add((b"SETBIT", b"bits", 7, 1))
    add((b"SETBIT", b"bits", 100, 1))
    add((b"SETBIT", b"bits", 7, 0))
    add((b"GETBIT", b"bits", 100))
    add((b"GETBIT", b"bits", 100000))
    add((b"BITCOUNT", b"bits"))
    add((b"BITCOUNT", b"bits", 0, 5))
    add((b"BITCOUNT", b"bits", 0, 99, b"BIT"))
    add((b"BITPOS", b"bits", 1))
    add((b"BITPOS", b"bits", 0, 2))
    add((b"BITFIELD", b"bf", b"SET", b"u8", 0, 200, b"INCRBY", b"u8", 0, 100,
         b"OVERFLOW", b"SAT", b"INCRBY", b"u8", 8, 300, b"GET", b"i16", 0))
    add((b"SETBIT", b"bits", -1, 1))                  # ERR bit offset is not an integer ...
    # scripts: routed by their first key; keys of one script share a hash tag
    script = b"return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}"
    add((b"EVAL", script, 1, b"{ev}k", b"arg"))
    add((b"EVAL", b"redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[2])",
         2, b"{ev}a", b"{ev}b", b"x"))
    add((b"EVAL", b"return redis.call('MGET', KEYS[1], KEYS[2])", 2, b"{ev}a", b"{ev}k"))
    add((b"EVALSHA", b"deadbeef" * 5, 1, b"{ev}k"))     # NOSCRIPT
    add((b"EVAL", b"return redis.call('NOSUCH')", 1, b"{ev}k"))
    add((b"EVAL", b"return 1 +", 1, b"{ev}k"))         # compile error
    add((b"EVAL", b"return {1, 'two', {3}, true, false}", 1, b"ev:x"))
    # wrong type, errors from Redis forwarded as is
    add((b"LPUSH", b"str:1", b"x"))
    add((b"GET", b"l:num"))
    add((b"HGET", b"s:1", b"f"))
    add((b"ZADD", b"h:1", 1, b"m"))
    add((b"SADD", b"z:lex", b"m"))
    add((b"SET", b"k"))                               # arity errors nutcracker forwards
    add((b"HSET", b"h:1", b"f"))
    add((b"ZADD", b"z:1", 1))
    add((b"LPUSH", b"l:1"))
    add((b"SET", b"str:1", b"v", b"EX"))
    add((b"ZADD", b"z:1", b"NX", b"XX", 1, b"a"))
    # the same commands in other letter cases
    add((b"get", b"str:1"))
    add((b"sEt", b"case", b"1"))
    add((b"hGeTaLl", b"h:1"))
    # multi-key commands across servers
    keys = [b"mk:%d" % i for i in range(40)]
    add(tuple([b"MSET"] + [x for k in keys[:30] for x in (k, b"val-" + k)]))
    add(tuple([b"MGET"] + keys))
    add(tuple([b"MGET"] + keys[5:15] + keys[5:7] + [b"mk:missing"]))
    add((b"MGET", keys[0]))
    add(tuple([b"DEL"] + keys[10:20] + [b"mk:missing"]))
    add(tuple([b"MGET"] + keys[:25]))
    add(tuple([b"TOUCH"] + keys[:25]))
    add(tuple([b"UNLINK"] + keys[20:25]))
    add((b"DEL", keys[0]))
    add(tuple([b"MSET"] + [x for k in keys[30:] for x in (k, b"")]))  # empty values
    add(tuple([b"MGET"] + keys[25:]))
    add(tuple([b"EXISTS"] + [b"{ex}%d" % i for i in range(3)]))      # one server: comparable
    add(tuple([b"MSET", b"{ex}0", b"a", b"{ex}2", b"b"]))
    add(tuple([b"EXISTS"] + [b"{ex}%d" % i for i in range(3)] + [b"{ex}0"]))
    add(tuple([b"MGET"] + [b"str:1", b"l:num", b"h:1", b"cnt"]))      # wrong-type keys: nil
    # binary keys and values, the empty key
    values = [b"", b"\x00", b"\r\n", b"$-1\r\n", b"-ERR x\r\n", bytes(range(256)),
              bytes(rng.getrandbits(8) for _ in range(5000)), b"v" * 70000]
    bkeys = binary_keys()
    for i, k in enumerate(bkeys):
        v = values[i % len(values)]
        add((b"SET", k, v))
        add((b"GET", k))
        add((b"STRLEN", k))
        add((b"APPEND", k, b"\xff"))
        add((b"GETRANGE", k, 0, 3))
    add(tuple([b"MGET"] + bkeys))
    add(tuple([b"MSET"] + [x for k in bkeys for x in (k, k + b"!")]))
    add(tuple([b"MGET"] + bkeys + [b"nope"]))
    add((b"HSET", b"", b"", b"", b"\x00", b"\r\n"))
    add((b"HGETALL", b""))
    add((b"SADD", b"\r\n", b""))
    add((b"SMISMEMBER", b"\r\n", b"", b"x"))
    add(tuple([b"DEL"] + bkeys[:7]))
    add(tuple([b"MGET"] + bkeys))
    add((b"SET", b"big", bytes(rng.getrandbits(8) for _ in range(1 << 20))))
    add((b"GET", b"big"))
    add((b"STRLEN", b"big"))
    # answered by the proxies themselves, identically
    add((b"PING",))
    add((b"ping",))
    add((b"AUTH", b"secret"))                          # no redis_auth: both refuse the same way
    return c


# --- the test ------------------------------------------------------------------------------------

class VsNutcracker(harness.ClassPeersTestCase):
    """Peers are started once for the class (7 redis-servers, 2 proxies); each test starts from
    flushed backends."""

    @classmethod
    def start_peers(cls):
        cls.sp_backends = [cls._start(harness.RedisServer(cls.workdir)) for _ in range(NSERVERS)]
        cls.nc_backends = [cls._start(harness.RedisServer(cls.workdir)) for _ in range(NSERVERS)]
        cls.reference = cls._start(harness.RedisServer(cls.workdir))
        cls.sp = cls._start(harness.Shardproxy(cls.workdir, cls.pools(cls.sp_backends)))
        cls.nc = cls._start(harness.Nutcracker(cls.workdir, cls.pools(cls.nc_backends)))

    @staticmethod
    def pools(backends):
        servers = ["%s:1 s%d" % (b.address, i) for i, b in enumerate(backends)]
        return {"alpha": harness.pool(servers, hash="fnv1a_64", distribution="ketama",
                                      hash_tag="{}", redis=True)}

    def setUp(self):
        super().setUp()
        for p in self.procs:
            p.check_running()
        for b in self.sp_backends + self.nc_backends + [self.reference]:
            c = RawClient(b.port)
            self.assertEqual(c.call(b"FLUSHALL"), b"+OK\r\n")
            self.assertEqual(c.call(b"SCRIPT", b"FLUSH"), b"+OK\r\n")
            c.close()

    # --- helpers ----------------------------------------------------------------------------

    def clients(self):
        a = RawClient(self.sp.port("alpha"), timeout=30)
        b = RawClient(self.nc.port("alpha"), timeout=30)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        return a, b

    def compare(self, cmds, pipelined):
        """Sends cmds to both proxies (one by one, or all in one write) and compares every
        reply; returns the number of replies compared."""
        sp, nc = self.clients()
        if pipelined:
            payload = b"".join(enc(*c) for c in cmds)
            sp.send(payload)
            nc.send(payload)
            pairs = [(sp.read_reply(), nc.read_reply()) for _ in cmds]
        else:
            pairs = []
            for c in cmds:
                pairs.append((sp.call(*c), nc.call(*c)))
        diffs = ["%s:\n  shardproxy %s\n  nutcracker %s" % (show(c), short(a), short(b))
                 for c, (a, b) in zip(cmds, pairs) if a != b]
        self.assertEqual(diffs, [], "%d of %d replies differ:\n%s"
                         % (len(diffs), len(cmds), "\n".join(diffs[:10])))
        self.assertEqual(sp.call(b"PING"), PONG)
        self.assertEqual(nc.call(b"PING"), PONG)
        return len(pairs)

    def keys_by_server(self, backends):
        out = []
        for b in backends:
            c = b.client()
            out.append(sorted(c.scan_iter(count=1000)))
            c.close()
        return out

    def assert_same_placement(self):
        sp_keys = self.keys_by_server(self.sp_backends)
        nc_keys = self.keys_by_server(self.nc_backends)
        self.assertEqual([len(k) for k in sp_keys], [len(k) for k in nc_keys],
                         "keys per server (shardproxy vs nutcracker)")
        self.assertEqual(sp_keys, nc_keys)
        self.assertTrue(all(sp_keys), "every server should hold some keys: %r"
                        % [len(k) for k in sp_keys])

    def reference_reply(self, data):
        """What Redis itself answers to the raw bytes `data` (flushed reference server)."""
        c = RawClient(self.reference.port)
        try:
            c.send(data)
            return c.read_reply()
        finally:
            c.close()

    def nutcracker_closes(self, data):
        """Sends raw bytes on a fresh nutcracker connection; asserts it is closed without a
        reply, as nutcracker does for what it cannot parse or forward."""
        c = RawClient(self.nc.port("alpha"), timeout=10)
        try:
            c.send(data)
            closed = c.closed_by_peer(timeout=5)
            self.assertTrue(closed, "nutcracker kept the connection after %r (got %s)"
                            % (data[:80], short(bytes(c.buf))))
            self.assertEqual(bytes(c.buf), b"", "nutcracker replied to %r" % data[:80])
        finally:
            c.close()

    def nutcracker_waits(self, data):
        """Sends raw bytes on a fresh nutcracker connection; asserts it neither replies nor
        closes within a second (it waits for the rest of a request it cannot frame)."""
        c = RawClient(self.nc.port("alpha"), timeout=10)
        try:
            c.send(data)
            self.assertFalse(c.closed_by_peer(timeout=1), "nutcracker closed after %r" % data)
            self.assertEqual(bytes(c.buf), b"", "nutcracker replied to %r" % data)
        finally:
            c.close()

    def shardproxy_answers(self, data, nreplies=1, keeps_open=True):
        """Sends raw bytes on a fresh shardproxy connection; returns its replies after checking
        that the connection still serves PING (keeps_open) or is closed after them."""
        c = RawClient(self.sp.port("alpha"), timeout=10)
        try:
            c.send(data)
            replies = c.read_replies(nreplies)
            if keeps_open:
                self.assertEqual(c.call(b"PING"), PONG,
                                 "shardproxy connection unusable after %r" % data[:80])
            else:
                self.assertTrue(c.closed_by_peer(timeout=5),
                                "shardproxy kept the connection after %r" % data[:80])
                self.assertEqual(bytes(c.buf), b"", "extra bytes after the replies")
            return replies
        finally:
            c.close()

    # --- the stream, compared byte for byte ------------------------------------------------------

    def test_corpus_one_by_one(self):
        cmds = corpus(random.Random(20261125))
        self.assertGreater(self.compare(cmds, pipelined=False), 300)
        self.assert_same_placement()

    def test_corpus_pipelined(self):
        cmds = corpus(random.Random(7))
        self.assertGreater(self.compare(cmds, pipelined=True), 300)
        self.assert_same_placement()

    def test_pipelined_batches_of_mixed_sizes(self):
        rng = random.Random(99)
        cmds = []
        for i in range(2000):
            k = b"p:%d" % rng.randrange(300)
            op = rng.randrange(7)
            if op == 0:
                cmds.append((b"SET", k, bytes(rng.getrandbits(8) for _ in range(rng.randrange(
                    0, 3000)))))
            elif op == 1:
                cmds.append((b"GET", k))
            elif op == 2:
                cmds.append((b"INCR", k + b":n"))
            elif op == 3:
                cmds.append(tuple([b"MGET"] + [b"p:%d" % rng.randrange(300)
                                               for _ in range(rng.randrange(1, 12))]))
            elif op == 4:
                cmds.append((b"RPUSH", k + b":l", b"%d" % i))
            elif op == 5:
                cmds.append((b"PING",))  # answered by the proxy, between forwarded requests
            else:
                cmds.append((b"DEL", k, b"p:%d" % rng.randrange(300)))
        for start in range(0, len(cmds), 500):
            self.compare(cmds[start:start + 500], pipelined=True)
        self.assert_same_placement()

    def test_large_multikey_requests(self):
        rng = random.Random(5)
        keys = [b"lk:%d" % i for i in range(1000)]
        big = {k: bytes(rng.getrandbits(8) for _ in range(rng.choice((10, 1000, 150000))))
               for k in keys[:20]}
        cmds = [tuple([b"MSET"] + [x for k in keys[100:] for x in (k, k)]),
                tuple([b"MSET"] + [x for k, v in big.items() for x in (k, v)]),
                tuple([b"MSET", b"lk:dup", b"1", b"lk:0", b"x", b"lk:dup", b"2"]),
                (b"GET", b"lk:dup"),
                tuple([b"MGET"] + keys + keys[:50] + [b"lk:none"]),
                tuple([b"MGET"] + list(big) * 3),
                tuple([b"EXISTS"] + [b"{lk}"] * 5),
                tuple([b"DEL", b"lk:1", b"lk:1", b"lk:2", b"lk:500", b"lk:500"]),
                tuple([b"TOUCH"] + keys[:300]),
                tuple([b"UNLINK"] + keys[::3]),
                tuple([b"DEL"] + keys[1::3]),
                tuple([b"MGET"] + keys)]
        self.compare(cmds, pipelined=False)
        self.compare(cmds[:3] + cmds[4:6], pipelined=True)
        self.assert_same_placement()

    def test_requests_arriving_in_small_pieces(self):
        """Requests cut at every possible place (resumable parsing on both sides)."""
        rng = random.Random(11)
        cmds = [(b"SET", b"frag:%d" % i, b"v" * i) for i in range(30)]
        cmds += [tuple([b"MGET"] + [b"frag:%d" % i for i in range(30)]),
                 tuple([b"DEL"] + [b"frag:%d" % i for i in range(0, 30, 2)]),
                 (b"HSET", b"frag:h", b"f", b"\r\n" * 50), (b"HGETALL", b"frag:h")]
        payload = b"".join(enc(*c) for c in cmds)
        sp, nc = self.clients()
        pos = 0
        while pos < len(payload):
            n = rng.randrange(1, 12)
            for c in (sp, nc):
                c.send(payload[pos:pos + n])
            pos += n
            if rng.randrange(8) == 0:
                time.sleep(0.002)  # let each piece be read on its own
        for cmd in cmds:
            a, b = sp.read_reply(), nc.read_reply()
            self.assertEqual(a, b, show(cmd))
        self.assertEqual(sp.call(b"PING"), nc.call(b"PING"))

    def test_dump_restore(self):
        sp, nc = self.clients()
        for c in (sp, nc):
            c.call(b"RPUSH", b"dr:src", b"a", b"\x00", b"c")
        payload = sp.call(b"DUMP", b"dr:src")
        self.assertEqual(payload, nc.call(b"DUMP", b"dr:src"))
        self.assertTrue(payload.startswith(b"$"), payload)
        raw = payload[payload.index(b"\r\n") + 2:-2]
        for cmd in [(b"RESTORE", b"dr:dst", 0, raw), (b"RESTORE", b"dr:dst", 0, raw),
                    (b"RESTORE", b"dr:dst", 0, raw, b"REPLACE"), (b"LRANGE", b"dr:dst", 0, -1),
                    (b"RESTORE", b"dr:bad", 0, b"garbage")]:
            self.assertEqual(sp.call(*cmd), nc.call(*cmd), show(cmd))

    # --- deliberate differences: each side's own documented behaviour --------------------------

    def test_exists_across_servers(self):
        """nutcracker forwards EXISTS whole to its first key's server; shardproxy sums over all
        servers (the answer Redis would give for one keyspace)."""
        keys = [b"ex:%d" % i for i in range(30)]
        sp, nc = self.clients()
        mset = [b"MSET"] + [x for k in keys for x in (k, b"1")]
        self.assertEqual(sp.call(*mset), nc.call(*mset))
        query = keys + [keys[0], b"ex:missing"]
        self.assertEqual(sp.call(b"EXISTS", *query), b":%d\r\n" % (len(keys) + 1))
        first = [b for b in self.nc_backends if b.client().exists(keys[0])]
        self.assertEqual(len(first), 1)
        on_first = sum(first[0].client().exists(k) for k in query)
        self.assertLess(on_first, len(query) - 1, "keys should span servers")
        self.assertEqual(nc.call(b"EXISTS", *query), b":%d\r\n" % on_first)

    def test_quit(self):
        self.assertEqual(self.shardproxy_answers(enc(b"QUIT"), keeps_open=False), [b"+OK\r\n"])
        self.nutcracker_closes(enc(b"QUIT"))

    def test_requests_nutcracker_drops_and_shardproxy_answers_like_redis(self):
        """Extensions and arity errors: shardproxy's reply is what Redis answers."""
        cases = [
            enc(b"GET"), enc(b"GET", b"a", b"b"), enc(b"MGET"), enc(b"DEL"),
            enc(b"MSET", b"a", b"1", b"b"), enc(b"EXISTS"), enc(b"PING", b"a", b"b"),
            enc(b"PING", b"hello"), enc(b"PING", b""), enc(b"ECHO", b"\x00\r\n"),
            enc(b"SELECT", b"0"), enc(b"SELECT", b"0", b"1"),
            enc(b"EXPIRETIME", b"k"), enc(b"PEXPIRETIME", b"k"), enc(b"SUBSTR", b"k", 0, 1),
            enc(b"BITFIELD_RO", b"k", b"GET", b"u8", 0), enc(b"SORT_RO", b"k"),
            enc(b"GEORADIUS_RO", b"g", 0, 0, 1, b"km"),
            enc(b"GEORADIUSBYMEMBER_RO", b"g", b"m", 1, b"km"),
            enc(b"EVAL_RO", b"return KEYS[1]", 1, b"k"),
            enc(b"EVALSHA_RO", b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db", 1, b"k"),
            enc(b"COMMAND", b"INFO", b"GET"), enc(b"COMMAND", b"COUNT"),
            # Redis 7 options nutcracker's fixed arity does not allow
            enc(b"EXPIRE", b"k", 10, b"NX"), enc(b"PEXPIRE", b"k", 10, b"XX"),
            enc(b"EXPIREAT", b"k", 4102444800, b"GT"), enc(b"PEXPIREAT", b"k", 1, b"LT"),
            # arity errors nutcracker checks itself
            enc(b"TTL", b"a", b"b"), enc(b"INCR", b"a", b"b"), enc(b"GETSET", b"a"),
            enc(b"HGET", b"h"), enc(b"SETEX", b"k", 1), enc(b"LINSERT", b"l", b"BEFORE", b"a"),
            b"PING\r\n", b"GET foo\r\n", b"SET foo bar\n",
        ]
        for data in cases:
            with self.subTest(request=data[:60]):
                want = self.reference_reply(data)
                self.assertEqual(self.shardproxy_answers(data), [want])
                self.nutcracker_closes(data)

    def test_refused_commands(self):
        """Commands nutcracker does not forward: it closes; shardproxy answers -ERR and keeps
        the connection (docs/commands.md, "Refused")."""
        cases = [(b"KEYS", b"*"), (b"SCAN", 0), (b"FLUSHALL",), (b"INFO",), (b"CONFIG", b"GET",
                 b"save"), (b"MULTI",), (b"EXEC",), (b"WATCH", b"a"), (b"BITOP", b"AND", b"d",
                 b"a", b"b"), (b"BLPOP", b"l", 0), (b"SUBSCRIBE", b"c"), (b"PUBLISH", b"c", b"m"),
                 (b"RENAME", b"a", b"b"), (b"MSETNX", b"a", b"1"), (b"XADD", b"s", b"*", b"a", 1),
                 (b"SCRIPT", b"LOAD", b"return 1"), (b"OBJECT", b"ENCODING", b"k"),
                 (b"RANDOMKEY",), (b"DBSIZE",), (b"HELLO", 3), (b"CLIENT", b"LIST")]
        for cmd in cases:
            with self.subTest(command=cmd[0]):
                data = enc(*cmd)
                got = self.shardproxy_answers(data)[0]
                prefix = b"-ERR %s is not supported by the proxy: " % cmd[0]
                self.assertTrue(got.startswith(prefix) and got.count(b"\r\n") == 1,
                                "%s: %s" % (show(cmd), short(got)))
                self.nutcracker_closes(data)
        for cmd in [(b"NOSUCHCOMMAND",), (b"FOO", b"bar"), (b"\x00\xff",)]:
            with self.subTest(command=cmd[0]):
                data = enc(*cmd)
                got = self.shardproxy_answers(data)[0]
                self.assertTrue(got.startswith(b"-ERR unknown command"), short(got))
                self.nutcracker_closes(data)

    def test_auth_with_user_without_redis_auth(self):
        data = enc(b"AUTH", b"user", b"pass")
        self.assertEqual(self.shardproxy_answers(data),
                         [b"-ERR Client sent AUTH, but no password is set\r\n"])
        self.nutcracker_closes(data)

    def test_eval_without_keys(self):
        for cmd in [(b"EVAL", b"return 1", 0), (b"EVALSHA", b"a" * 40, 0),
                    (b"EVAL", b"return 1", b"x", b"k")]:
            with self.subTest(command=show(cmd)):
                data = enc(*cmd)
                got = self.shardproxy_answers(data)[0]
                self.assertTrue(got.startswith(b"-ERR "), short(got))
                self.nutcracker_closes(data)

    def test_protocol_errors(self):
        """Lost framing: both close; shardproxy first answers what came before and a protocol
        error, like Redis (nutcracker sends nothing)."""
        cases = [
            (b"*1\r\n$4\r\nPING\r\n*x\r\n", [PONG]),
            (b"*2\r\n$3\r\nGET\r\n$-1\r\n", []),
            (b"*2\r\n$3\r\nGET\r\n$2\r\nabc\r\n", []),
            (b"*2\r\n$3\r\nGET\r\n:1\r\n", []),
            (b"*1\r\n$99999999999999999999\r\n", None),  # nutcracker waits for more bytes
        ]
        for data, before in cases:
            with self.subTest(request=data):
                got = self.shardproxy_answers(data, nreplies=len(before or []) + 1,
                                              keeps_open=False)
                self.assertEqual(got[:-1], before or [])
                self.assertTrue(got[-1].startswith(b"-ERR Protocol error"), short(got[-1]))
                if before is not None:
                    self.nutcracker_closes(data)
                else:
                    self.nutcracker_waits(data)

    def test_nothing_sent_for_empty_multibulk(self):
        """*0 and *-1 are no requests for Redis (no reply); shardproxy agrees, nutcracker drops
        the connection."""
        for data in (b"*0\r\n", b"*-1\r\n"):
            with self.subTest(request=data):
                self.assertEqual(self.shardproxy_answers(data + enc(b"PING"), nreplies=1),
                                 [PONG])
                self.nutcracker_closes(data)


if __name__ == "__main__":
    harness.main()
