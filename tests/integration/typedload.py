# SPDX-License-Identifier: Apache-2.0
"""A model-checked load over keys of every Redis type, for tests that move keys (resharding).

    load = TypedModelLoad(test, [proxy1.port("alpha"), proxy2.port("alpha")], 100000)
    load.start()                        # paced clients, stop by themselves after `duration` s
    ...; load.stop()
    self.assertEqual(load.problems(), [])                  # what the clients saw
    self.assertEqual(load.read_back(port), [])              # every key: value and type, TTL read
    self.assertEqual(load.ttl_problems() + load.type_problems(), [])

Keys are b"t:<type>:<digest>" (type: str, ctr, hash, list, set, zset; a digest so that hashes
spread them), a quarter of them with a TTL (PEXPIREAT an absolute time about an hour ahead: a
move must keep it, to the second).  They are preloaded through ports[0], pipelined.

Each client owns every clients-th key (a key is only ever written by one client, so the order of
its writes is the order of their replies) and sends `rate` requests/s in rounds of `depth`
requests (the first `pipelined` clients; the others one at a time), each round through the next
of `ports` in turn: with two proxies, a key written through one is read through the other.
A round mixes, by the key's type:
    reads   GET (str, ctr), HGET, LINDEX key -1, SISMEMBER, ZSCORE
    writes  SET, APPEND (str); INCR, SET (ctr); HSET; RPUSH; SADD; ZADD; and DEL (any type)
Every reply is checked against the key's model: the set of states (value, has a TTL) the key may
be in.  An acknowledged write leaves the states its reply allows; a write that got an error or no
reply leaves every state before or after it (it may or may not have happened); a read must match
one state and narrows the set to those it matches.  What does not fit is counted:
    nil     a read answered nil (or 0 from SISMEMBER) for a key, field or member that exists
    wrong   a read answered another value
    lost    a write's reply shows an acknowledged write missing (RPUSH's length, INCR's value...)
    error   an error reply (WRONGTYPE, a move that failed...) or no reply at all
    dropped the proxy closed the connection
"""

import hashlib
import random
import socket
import threading
import time

import harness
from rawresp import RawClient, enc

TYPES = ("str", "ctr", "hash", "list", "set", "zset")
REDIS_TYPE = {"str": b"string", "ctr": b"string", "hash": b"hash", "list": b"list",
              "set": b"set", "zset": b"zset"}
FIELDS = [b"f%d" % i for i in range(4)]   # a hash's fields and a zset's members: bounded sizes
MAX_STATES = 64                           # a key in that much doubt is no longer narrowed
TTL_SLACK_MS = 1000                       # a kept TTL: the same expiry time, to the second


def typed_keys(n, prefix="t"):
    """n distinct keys, types in turn: b"PREFIX:TYPE:DIGEST"."""
    return [b"%s:%s:%s" % (prefix.encode(), TYPES[i % len(TYPES)].encode(),
                           hashlib.sha1(b"%d" % i).hexdigest()[:12].encode()) for i in range(n)]


def key_type(key):
    """The type name (TYPES) a key of typed_keys() holds."""
    return key.split(b":")[1].decode()


def decode(raw):
    """A raw RESP reply -> None (nil), bytes, int, harness.ReplyError, or a list of these."""
    return _decode(raw, 0)[0]


def _decode(raw, pos):
    eol = raw.index(b"\r\n", pos)
    kind, body = raw[pos:pos + 1], raw[pos + 1:eol]
    if kind == b"$":
        n = int(body)
        if n < 0:
            return None, eol + 2
        return raw[eol + 2:eol + 2 + n], eol + 4 + n
    if kind == b":":
        return int(body), eol + 2
    if kind == b"-":
        return harness.ReplyError(body.decode(errors="replace")), eol + 2
    if kind == b"+":
        return bytes(body), eol + 2
    if kind == b"*":
        n = int(body)
        if n < 0:
            return None, eol + 2
        out, pos = [], eol + 2
        for _ in range(n):
            v, pos = _decode(raw, pos)
            out.append(v)
        return out, pos
    raise ValueError("not a RESP reply: %r" % raw[pos:pos + 50])


# --- values: each type's state is immutable (a set of states holds them) ------------------------

def initial_value(ktype, key):
    tag = key.rsplit(b":", 1)[1]
    if ktype == "str":
        return b"s:" + tag
    if ktype == "ctr":
        return b"100"
    if ktype == "hash":
        return tuple((f, b"%s:%s" % (f, tag)) for f in FIELDS)
    if ktype == "list":
        return (b"l0:" + tag, b"l1:" + tag)
    if ktype == "set":
        return frozenset((b"m0:" + tag, b"m1:" + tag))
    return tuple((f, i) for i, f in enumerate(FIELDS))  # zset: (member, integer score)


def preload_command(ktype, key, value):
    """The one command that creates `key` holding `value`."""
    if ktype in ("str", "ctr"):
        return enc(b"SET", key, value)
    if ktype == "hash":
        return enc(b"HSET", key, *[x for fv in value for x in fv])
    if ktype == "list":
        return enc(b"RPUSH", key, *value)
    if ktype == "set":
        return enc(b"SADD", key, *sorted(value))
    return enc(b"ZADD", key, *[x for m, s in value for x in (s, m)])


def full_read(ktype, key):
    """The command that reads a key's whole value (read_back)."""
    if ktype in ("str", "ctr"):
        return enc(b"GET", key)
    if ktype == "hash":
        return enc(b"HGETALL", key)
    if ktype == "list":
        return enc(b"LRANGE", key, 0, -1)
    if ktype == "set":
        return enc(b"SMEMBERS", key)
    return enc(b"ZRANGE", key, 0, -1, b"WITHSCORES")


def from_full_read(ktype, reply):
    """A full_read reply -> the value as a state holds it (None: no such key)."""
    if ktype in ("str", "ctr"):
        return reply
    if not isinstance(reply, list):
        return reply  # an error: compares unequal to every state
    if not reply:
        return None
    if ktype == "hash":
        return tuple(sorted(zip(reply[::2], reply[1::2])))
    if ktype == "list":
        return tuple(reply)
    if ktype == "set":
        return frozenset(reply)
    return tuple(sorted((m, int(float(s))) for m, s in zip(reply[::2], reply[1::2])))


class Op:
    """One request and how it changes a state: step(state) -> (new state, expected reply).
    `read` ops leave the state as it is; `probe` is the field or member a read looks at."""

    def __init__(self, args, step, read=False, probe=None):
        self.args, self.step, self.read, self.probe = args, step, read, probe

    def encode(self):
        return enc(*self.args)

    def __str__(self):
        return " ".join(repr(a) if isinstance(a, bytes) else str(a) for a in self.args)


def _dict_set(items, k, v):
    d = dict(items)
    new = k not in d
    d[k] = v
    return tuple(sorted(d.items())), new


def make_op(ktype, key, rng, fresh, states, read):
    """A request on `key` (a read when `read`), its values never used before (fresh())."""
    some = next(iter(states))[0]  # one possible value, to pick fields/members that exist
    if rng.random() < 0.03 and not read:
        return Op((b"DEL", key), lambda s: ((None, False), 1 if s[0] is not None else 0))
    if ktype in ("str", "ctr"):
        if read:
            return Op((b"GET", key), lambda s: (s, s[0]), True)
        if ktype == "ctr" and rng.random() < 0.8:
            return Op((b"INCR", key), lambda s: (
                (b"%d" % (int(s[0] or b"0") + 1), s[1]), int(s[0] or b"0") + 1))
        v = fresh()
        if ktype == "ctr":
            v = b"%d" % (1000 + int(v.split(b":")[-1]))
        if ktype == "str" and rng.random() < 0.6:
            return Op((b"APPEND", key, v), lambda s: (
                ((s[0] or b"") + v, s[1]), len((s[0] or b"") + v)))
        return Op((b"SET", key, v), lambda s: ((v, False), b"OK"))  # SET clears a TTL
    if ktype == "hash":
        f = rng.choice(FIELDS)
        if read:
            return Op((b"HGET", key, f), lambda s: (s, dict(s[0] or ()).get(f)), True, f)
        v = fresh()
        def hset(s):
            items, new = _dict_set(s[0] or (), f, v)
            return (items, s[1]), int(new)
        return Op((b"HSET", key, f, v), hset)
    if ktype == "list":
        if read:
            return Op((b"LINDEX", key, b"-1"), lambda s: (s, s[0][-1] if s[0] else None), True)
        v = fresh()
        return Op((b"RPUSH", key, v), lambda s: (((s[0] or ()) + (v,), s[1]),
                                                 len(s[0] or ()) + 1))
    if ktype == "set":
        if read:
            members = sorted(some or ())
            m = rng.choice(members) if members and rng.random() < 0.8 else b"never"
            return Op((b"SISMEMBER", key, m), lambda s: (s, int(m in (s[0] or ()))), True, m)
        m = fresh()
        return Op((b"SADD", key, m), lambda s: (((s[0] or frozenset()) | {m}, s[1]),
                                                int(m not in (s[0] or ()))))
    m = rng.choice(FIELDS)  # zset
    if read:
        def zscore(s):
            score = dict(s[0] or ()).get(m)
            return s, None if score is None else b"%d" % score
        return Op((b"ZSCORE", key, m), zscore, True, m)
    score = int(fresh().split(b":")[-1])
    def zadd(s):
        items, new = _dict_set(s[0] or (), m, score)
        return (items, s[1]), int(new)
    return Op((b"ZADD", key, score, m), zadd)


def _exists(state, op):
    """Whether what a read looks at (the key; its field or member) exists in `state`."""
    value = state[0]
    if value is None:
        return False
    if op.probe is None:
        return True
    if isinstance(value, frozenset):
        return op.probe in value
    return op.probe in dict(value)


# --- the model of one key, and the clients -------------------------------------------------------

class TypedKey:
    """A key's type, the states it may be in (value, has a TTL), and its TTL's expiry time."""

    __slots__ = ("ktype", "states", "expire_ms")

    def __init__(self, ktype, value, expire_ms):
        self.ktype = ktype
        self.states = {(value, expire_ms is not None)}
        self.expire_ms = expire_ms


class _TypedClient:
    """One client thread: its own keys, paced rounds, each round through the next port."""

    def __init__(self, load, idx, keys, depth, rate):
        self.load, self.idx, self.keys, self.depth = load, idx, keys, depth
        self.period = depth / rate
        self.rng = random.Random(idx)
        self.seq = 0
        self.conns = {}
        self.turn = idx
        self.thread = threading.Thread(target=self.run, daemon=True, name="typed-%d" % idx)

    def fresh(self):
        self.seq += 1
        return b"w%d:%d" % (self.idx, self.seq)

    def run(self):
        t_next = time.monotonic()
        while not self.load.stopping.is_set() and time.monotonic() < self.load.deadline:
            port = self.load.ports[self.turn % len(self.load.ports)]
            self.turn += 1
            ops = []
            for _ in range(self.depth):
                key = self.rng.choice(self.keys)
                m = self.load.model[key]
                ops.append((key, make_op(m.ktype, key, self.rng, self.fresh, m.states,
                                         self.rng.random() < self.load.read_share)))
            self.round_trip(port, ops)
            t_next += self.period
            delay = t_next - time.monotonic()
            if delay > 0:
                self.load.stopping.wait(delay)
            elif delay < -1:
                t_next = time.monotonic()  # fell behind (a stall): no burst to catch up
        for c in self.conns.values():
            c.close()

    def round_trip(self, port, ops):
        answered = 0
        try:
            conn = self.conns.get(port)
            if conn is None:
                conn = self.conns[port] = RawClient(port, timeout=self.load.timeout)
            conn.send(*(op.encode() for _, op in ops))
            for key, op in ops:
                reply = decode(conn.read_reply())
                answered += 1
                self.load.check(key, op, reply)
        except socket.timeout:
            self.lose(port, ops[answered:], "no reply within %gs" % self.load.timeout)
        except (EOFError, OSError) as e:
            if port in self.conns:
                self.load.count("dropped", None, None, "port %d: %s" % (port, e))
            self.lose(port, ops[answered:], "port %d: %s" % (port, e))

    def lose(self, port, ops, why):
        conn = self.conns.pop(port, None)
        if conn is not None:
            conn.close()
        for key, op in ops:
            self.load.failed(key, op, why)


class TypedModelLoad:
    """The load described in this module's docstring: `keys` (a count: typed_keys(keys), or a
    list of typed_keys-style keys) preloaded through ports[0] (a quarter with a TTL), then
    `clients` clients at `rate` requests/s each, `read_share` reads, for at most `duration`
    seconds after start().  `timeout`: a reply not there by then is a failure."""

    KINDS = ("nil", "wrong", "lost", "error", "dropped")

    def __init__(self, test, ports, keys, clients=6, pipelined=3, depth=8, rate=100,
                 read_share=0.5, duration=120.0, timeout=15.0, ttl_share=0.25, seed=1):
        self.ports = [ports] if isinstance(ports, int) else list(ports)
        self.keys = typed_keys(keys) if isinstance(keys, int) else list(keys)
        self.read_share, self.duration, self.timeout = read_share, duration, timeout
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.deadline = float("inf")
        self.events = {k: [] for k in self.KINDS}
        self.counts = {k: 0 for k in self.KINDS + ("reads", "writes")}
        rng = random.Random(seed)
        self.expire_ms = int(time.time() * 1000) + 3600 * 1000
        self.model = {}
        for k in self.keys:
            t = key_type(k)
            self.model[k] = TypedKey(t, initial_value(t, k),
                                     self.expire_ms if rng.random() < ttl_share else None)
        self.clients = [_TypedClient(self, i, self.keys[i::clients],
                                     depth if i < pipelined else 1, rate)
                        for i in range(clients)]
        self.last_read = None  # read_back's findings: {key: (type, value, pttl)}
        self._preload()
        test.addCleanup(self.stop)

    def _preload(self):
        c = RawClient(self.ports[0], timeout=60)
        try:
            for i in range(0, len(self.keys), 2000):
                chunk = self.keys[i:i + 2000]
                reqs = []
                for k in chunk:
                    m = self.model[k]
                    reqs.append(preload_command(m.ktype, k, next(iter(m.states))[0]))
                    if m.expire_ms is not None:
                        reqs.append(enc(b"PEXPIREAT", k, m.expire_ms))
                c.send(*reqs)
                for k in chunk:
                    first = decode(c.read_reply())
                    ttl = decode(c.read_reply()) if self.model[k].expire_ms is not None else 1
                    if isinstance(first, harness.ReplyError) or first == 0 or ttl != 1:
                        raise harness.HarnessError(
                            "preloading %r through port %d: %r, %r (keys must be new)"
                            % (k, self.ports[0], first, ttl))
        finally:
            c.close()

    # --- what the clients saw ---------------------------------------------------------------

    def count(self, kind, key, op, detail):
        with self.lock:
            self.counts[kind] += 1
            if len(self.events[kind]) < 20:
                self.events[kind].append("%.3f %s: %s" % (time.time(), op or key, detail))

    def failed(self, key, op, why):
        """No usable reply: a write may or may not have happened."""
        self.count("error", key, op, why)
        if not op.read:
            m = self.model[key]
            if len(m.states) < MAX_STATES:
                m.states |= {op.step(s)[0] for s in m.states}

    def check(self, key, op, reply):
        if isinstance(reply, harness.ReplyError):
            return self.failed(key, op, reply)
        m = self.model[key]
        with self.lock:
            self.counts["reads" if op.read else "writes"] += 1
        outcomes = [(s, op.step(s)) for s in m.states]
        fits = {new for _, (new, expected) in outcomes if expected == reply}
        if fits:
            m.states = fits
            return
        expected = sorted({repr(e) for _, (_, e) in outcomes})
        if not op.read:
            kind = "lost"
        elif reply in (None, 0) and all(_exists(s, op) for s in m.states):
            kind = "nil"
        else:
            kind = "wrong"
        self.count(kind, key, op, "%r (expected %s)" % (reply, " or ".join(expected)))
        if len(m.states) < MAX_STATES:  # go on from whatever it may be now
            m.states = {new for _, (new, _) in outcomes} | (m.states if op.read else set())

    def start(self):
        self.deadline = time.monotonic() + self.duration
        for c in self.clients:
            c.thread.start()
        return self

    def stop(self):
        """Stops the clients and waits for them (each finishes its round trip first)."""
        self.stopping.set()
        for c in self.clients:
            if c.thread.ident is not None:
                c.thread.join(timeout=self.timeout + 10)

    def running(self):
        return any(c.thread.is_alive() for c in self.clients)

    def problems(self):
        """What the clients saw that a test forbids, summarised ([] when all is well)."""
        with self.lock:
            return ["%d %s, e.g. %s" % (self.counts[k], k, "; ".join(self.events[k][:5]))
                    for k in self.KINDS if self.counts[k]]

    # --- the end state ----------------------------------------------------------------------

    def read_back(self, port=None, keys=None):
        """Reads every key (of `keys`; default all) through `port` (default ports[0]), the
        load stopped: its type, whole value and PTTL.  Returns the keys whose value fits no
        state of the model, as problems; ttl_problems() and type_problems() use what it read."""
        keys = self.keys if keys is None else keys
        c = RawClient(port or self.ports[0], timeout=60)
        found = {}
        try:
            for i in range(0, len(keys), 2000):
                chunk = keys[i:i + 2000]
                c.send(*(enc(b"TYPE", k) + full_read(self.model[k].ktype, k) + enc(b"PTTL", k)
                         for k in chunk))
                now = time.time() * 1000
                for k in chunk:
                    t, v, ttl = (decode(c.read_reply()) for _ in range(3))
                    found[k] = (t, from_full_read(self.model[k].ktype, v), ttl, now)
        finally:
            c.close()
        self.last_read = found
        missing, other = [], []
        for k, (t, v, ttl, _) in found.items():
            values = {s[0] for s in self.model[k].states}
            if v in values:
                continue
            (missing if v is None else other).append(
                "%r read back as %r (expected %s)" % (k, v, " or ".join(map(repr, values))))
        out = []
        for what, bad in (("keys missing", missing), ("keys with another value", other)):
            if bad:
                out.append("%d %s, e.g. %s" % (len(bad), what, "; ".join(bad[:5])))
        return out

    def _read(self):
        if self.last_read is None:
            self.read_back()
        return self.last_read

    def ttl_problems(self):
        """Keys (read back) whose TTL is not what the model says: a key that had one, and must
        still have it, without it or with another expiry time (more than TTL_SLACK_MS off); a
        key that had none with one.  Keys whose TTL is in doubt (a write that may have cleared
        it failed) are not checked."""
        lost, moved, gained = [], [], []
        for k, (_, v, ttl, now) in self._read().items():
            m = self.model[k]
            has = {s[1] for s in m.states}
            if len(has) != 1 or v is None or not isinstance(ttl, int):
                continue
            if has == {True}:
                if ttl < 0:
                    lost.append(repr(k))
                elif abs(now + ttl - m.expire_ms) > TTL_SLACK_MS:
                    moved.append("%r expires %+d ms off" % (k, now + ttl - m.expire_ms))
            elif ttl >= 0:
                gained.append("%r (PTTL %d)" % (k, ttl))
        out = []
        for what, bad in (("keys lost their TTL", lost), ("keys' TTL changed", moved),
                          ("keys got a TTL", gained)):
            if bad:
                out.append("%d %s, e.g. %s" % (len(bad), what, "; ".join(bad[:5])))
        return out

    def type_problems(self):
        """Keys (read back) of another type than theirs (b"none" where the model says the key
        does not exist)."""
        bad = []
        for k, (t, _, _, _) in self._read().items():
            m = self.model[k]
            want = {REDIS_TYPE[m.ktype] if s[0] is not None else b"none" for s in m.states}
            if t not in want:
                bad.append("%r is %r (expected %s)" % (k, t, " or ".join(map(repr, want))))
        return ["%d keys of another type, e.g. %s" % (len(bad), "; ".join(bad[:5]))] if bad else []

    def live_keys(self):
        """The keys that exist now according to the model (existence not in doubt)."""
        return [k for k in self.keys if all(s[0] is not None for s in self.model[k].states)]

    def dead_keys(self):
        """The keys that do not exist now according to the model (deleted, not written since)."""
        return [k for k in self.keys if all(s[0] is None for s in self.model[k].states)]

    def summary(self):
        """One line: requests and the counts, for a log or a bench table."""
        with self.lock:
            return ", ".join("%s %d" % (k, self.counts[k]) for k in ("reads", "writes") +
                             self.KINDS)


def locate(servers, keys=None):
    """{key: [labels of the servers that hold it]} from a SCAN of each server ({label: redis
    client}); with `keys`, only those keys (others, e.g. another test's, are left out)."""
    want = None if keys is None else set(keys)
    where = {}
    for label, client in servers.items():
        for k in client.scan_iter(count=5000):
            if want is None or k in want:
                where.setdefault(k, []).append(label)
    return where
