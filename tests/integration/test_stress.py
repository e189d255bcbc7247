# SPDX-License-Identifier: Apache-2.0
"""Seeded randomized stress of the data path against real redis-servers.

Many raw-socket clients, each owning disjoint keys (so the expected reply of every request is
known from a per-client model), pipeline random mixes of SET/GET/INCR/DEL/MGET/MSET/EXISTS/PING
cut at random byte boundaries; some read slowly with values of a few hundred KB (back-pressure
and server connections stalled by a client's output), some disconnect abruptly with requests in
flight, some send QUIT or a malformed request mid-pipeline.  Half way through, one backend is
SIGKILLed and restarted on the same port.  Every reply of every client must match its model and
come in request order; afterwards the proxy must still answer and its stats must be back to the
listener and the server connections.

The seed is printed; SP_STRESS_SEED=N replays a run's request streams (timing still differs),
SP_STRESS_SECONDS sets the length of the workload phase.
"""

import os
import random
import socket
import subprocess
import sys
import threading
import time

import harness
from rawresp import RawClient, bulk, enc

SEED = int(os.environ.get("SP_STRESS_SEED") or random.SystemRandom().randrange(1 << 31))
SECONDS = float(os.environ.get("SP_STRESS_SECONDS", "18"))
NCLIENTS = 40
NSLOW = 4                  # clients with big values that read slowly
RSS_SLACK_KIB = 12 * 1024  # over the starting RSS once the load is over and the proxy quiet
NBACKENDS = 3
KEYS_PER_GEN = 8           # a client's keys; a new set after each abrupt disconnect
NGENS = 64
SOCK_TIMEOUT = 30.0        # a reply this late is a hang


class Unknown:
    """A value the model lost track of (the backend holding it was killed, or a write's reply
    was an error): any well-formed reply is accepted until a request sent after the backend
    came back tells it again."""

    def __repr__(self):
        return "UNKNOWN"


UNKNOWN = Unknown()


class Mismatch(AssertionError):
    pass


NOT_INT = b"ERR value is not an integer or out of range"


def parse(raw):
    """A raw RESP reply as (type byte, payload): payload is bytes for + - : $ (None: nil) and a
    list of parsed elements for * (None: nil array)."""
    def one(pos):
        kind = raw[pos:pos + 1]
        eol = raw.index(b"\r\n", pos)
        line = raw[pos + 1:eol]
        if kind in (b"+", b"-", b":"):
            return (kind, line), eol + 2
        n = int(line)
        if kind == b"$":
            if n < 0:
                return (kind, None), eol + 2
            return (kind, raw[eol + 2:eol + 2 + n]), eol + 4 + n
        if kind == b"*":
            if n < 0:
                return (kind, None), eol + 2
            items, p = [], eol + 2
            for _ in range(n):
                item, p = one(p)
                items.append(item)
            return (kind, items), p
        raise Mismatch("not RESP: %r" % raw[:80])
    value, end = one(0)
    if end != len(raw):
        raise Mismatch("trailing bytes in reply %r" % raw[:80])
    return value


def is_int(v):
    if not isinstance(v, bytes) or not v or len(v) > 19:
        return False
    s = v[1:] if v[:1] == b"-" else v
    return s.isdigit() and (s == b"0" or s[:1] != b"0") and v != b"-0"


class Op:
    """One request: its bytes, the keys it touches, and the values it writes."""

    def __init__(self, name, keys=(), values=(), raw=None):
        self.name = name
        self.keys = list(keys)
        self.values = list(values)
        if raw is not None:
            self.raw = raw
        elif name == "MSET":
            args = [x for kv in zip(self.keys, self.values) for x in kv]
            self.raw = enc(b"MSET", *args)
        else:
            self.raw = enc(name.encode(), *(self.keys + self.values))
        self.sent_late = False    # sent after the killed backend was known back
        self.read_after_kill = False

    def __repr__(self):
        short = [v[:20] + (b"..." if len(v) > 20 else b"") for v in self.values]
        return "%s %r %r" % (self.name, self.keys, short)


class Model:
    """One client's view of its keys: bytes, None (absent) or UNKNOWN."""

    def __init__(self, victim_keys):
        self.val = {}
        self.victim_keys = victim_keys

    def get(self, k):
        return self.val.get(k)

    def forget_victim(self):
        for k in list(self.val) + list(self.victim_keys):
            if k in self.victim_keys:
                self.val[k] = UNKNOWN

    def check(self, op, raw):
        """Checks `raw` against the model and applies op; raises Mismatch."""
        kind, payload = parse(raw)
        touches_victim = any(k in self.victim_keys for k in op.keys)
        if kind == b"-" and op.name != "BAD" and not (op.name == "INCR" and payload == NOT_INT):
            # Only requests for the killed backend's keys, answered after the kill and sent
            # before it was back, may fail; with a reason.
            if not (touches_victim and op.read_after_kill and not op.sent_late):
                raise Mismatch("unexpected error")
            if not payload.startswith(b"ERR ") or len(payload) <= 4:
                raise Mismatch("error without a reason")
            if op.name in ("SET", "MSET", "DEL", "INCR"):
                for k in op.keys:
                    self.val[k] = UNKNOWN
            return
        learn = op.sent_late
        getattr(self, "check_" + op.name)(op, kind, payload, learn)

    def expect(self, cond, what="wrong reply"):
        if not cond:
            raise Mismatch(what)

    def check_PING(self, op, kind, payload, learn):
        self.expect((kind, payload) == (b"+", b"PONG"))

    def check_SET(self, op, kind, payload, learn):
        self.expect((kind, payload) == (b"+", b"OK"))
        k = op.keys[0]
        self.val[k] = op.values[0] if learn or self.get(k) is not UNKNOWN else UNKNOWN

    def check_MSET(self, op, kind, payload, learn):
        self.expect((kind, payload) == (b"+", b"OK"))
        for k, v in zip(op.keys, op.values):
            if self.get(k) is not UNKNOWN or learn:
                self.val[k] = v

    def check_bulk(self, k, kind, payload, learn):
        self.expect(kind == b"$", "not a bulk reply")
        cur = self.get(k)
        if cur is UNKNOWN:
            if learn:
                self.val[k] = payload
        else:
            self.expect(payload == cur, "value of %r: want %r" % (k, cur if cur is None
                                                                   else cur[:40]))

    def check_GET(self, op, kind, payload, learn):
        self.check_bulk(op.keys[0], kind, payload, learn)

    def check_MGET(self, op, kind, payload, learn):
        self.expect(kind == b"*" and payload is not None and len(payload) == len(op.keys),
                    "not an array of %d" % len(op.keys))
        for k, (ekind, epayload) in zip(op.keys, payload):
            self.check_bulk(k, ekind, epayload, learn)

    def check_INCR(self, op, kind, payload, learn):
        k = op.keys[0]
        cur = self.get(k)
        if cur is UNKNOWN:
            self.expect(kind == b":" or (kind, payload) == (b"-", NOT_INT))
            if kind == b":" and learn:
                self.val[k] = payload
            return
        if cur is None or is_int(cur):
            n = int(cur or b"0") + 1
            self.expect((kind, payload) == (b":", b"%d" % n), "want :%d" % n)
            self.val[k] = b"%d" % n
        else:
            self.expect((kind, payload) == (b"-", NOT_INT))

    def count(self, op, kind, payload):
        self.expect(kind == b":", "not an integer reply")
        cur = [self.get(k) for k in op.keys]
        if UNKNOWN not in cur:
            want = sum(v is not None for v in cur)
            self.expect(int(payload) == want, "want :%d" % want)
        return int(payload)

    def check_DEL(self, op, kind, payload, learn):
        self.count(op, kind, payload)
        for k in op.keys:
            if self.get(k) is not UNKNOWN or learn:
                self.val[k] = None

    def check_EXISTS(self, op, kind, payload, learn):
        self.count(op, kind, payload)

    def check_BAD(self, op, kind, payload, learn):
        self.expect(kind == b"-" and payload.startswith(op.want_err), "want -%s" % op.want_err)


# Requests the proxy refuses while the connection stays usable, with the error it must give.
SOFT_ERRORS = [
    (enc(b"NOSUCHCMD", b"x"), b"ERR unknown command 'NOSUCHCMD'"),
    (enc(b"GET"), b"ERR wrong number of arguments for 'get' command"),
    (enc(b"MGET"), b"ERR wrong number of arguments for 'mget' command"),
]
# Requests whose framing is lost: an error, then the proxy closes the connection.
FATAL_ERRORS = [
    b"*2\r\n$3\r\nGET\r\n$x\r\n",
    b"*x\r\n",
    b"*1\r\n$-5\r\n",
]


class Shared:
    """What the clients and the conductor share."""

    def __init__(self, port, keys, owner, victim, end):
        self.port = port
        self.keys = keys            # keys[client][gen] -> list of keys
        self.owner = owner          # key -> backend index
        self.victim = victim
        self.end = end
        self.kill_started = threading.Event()
        self.victim_back = threading.Event()
        self.failures = []
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "sessions": 0, "abrupt": 0, "quit": 0, "fatal": 0,
                       "victim_errors": 0, "big_batches": 0}

    def add(self, what, n=1):
        with self.lock:
            self.counts[what] += n


class Conn(RawClient):
    """A raw client that can read slowly and tells how the connection ended."""

    def __init__(self, port, slow):
        super().__init__(port, timeout=SOCK_TIMEOUT)
        self.slow = slow

    def _fill(self):
        data = self.sock.recv(65536 if self.slow else 1 << 20)
        if not data:
            raise EOFError("connection closed by the proxy")
        self.buf += data
        if self.slow:
            time.sleep(0.002)

    def closed(self):
        """True when the proxy closed the connection and sent nothing more."""
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return not self.buf
        return not data and not self.buf


class Client(threading.Thread):
    """One RESP client's sessions.  The protocol lives in the class attributes and the methods
    op(), flood(), soft_error(), terminator() and is_error() (test_stress_memcache.py overrides
    them; the engine is the same)."""

    model_class = None          # set below: Model
    conn_class = None           # set below: Conn
    quit_reply = b"+OK\r\n"     # what QUIT is answered with (None: nothing, just the close)

    def __init__(self, shared, idx):
        super().__init__(name="client-%d" % idx, daemon=True)
        self.sh = shared
        self.idx = idx
        self.slow = idx < NSLOW
        self.rnd = random.Random(SEED * 1009 + idx)
        self.gen = 0
        self.model = None
        self.history = []           # the last requests, for the failure message
        self.where = ""
        self.batch_bytes = 0
        self.new_gen(0)

    def new_gen(self, gen):
        self.gen = gen
        keys = self.sh.keys[self.idx][gen]
        self.model = self.model_class({k for k in keys if self.sh.owner[k] == self.sh.victim})
        if self.sh.kill_started.is_set():
            self.model.forget_victim()  # requests of an abandoned session may still land
        self.killed_seen = self.sh.kill_started.is_set()

    # ---- request generation ----

    def value(self):
        r = self.rnd
        if self.slow and r.random() < 0.7:
            return bytes([r.randrange(97, 123)]) * r.randrange(200 * 1024, 400 * 1024)
        if r.random() < 0.3:
            return b"%d" % r.randrange(-1000, 1000)
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 40)))

    def op(self):
        r = self.rnd
        keys = self.sh.keys[self.idx][self.gen]
        name = r.choice(["SET", "SET", "GET", "GET", "GET", "INCR", "DEL", "MGET", "MGET",
                         "MSET", "EXISTS", "PING"])
        if self.slow and name in ("INCR", "EXISTS", "PING", "DEL"):
            name = "GET"  # mostly big replies
        if name == "PING":
            return Op("PING")
        if name in ("GET", "INCR"):
            return Op(name, [r.choice(keys)])
        if name == "SET":
            return Op(name, [r.choice(keys)], [self.value()])
        n = r.randrange(1, len(keys) + 1)
        if name in ("DEL", "EXISTS"):
            return Op(name, r.sample(keys, n))
        ks = [r.choice(keys) for _ in range(n)]
        if name == "MSET":
            return Op(name, ks, [self.value() for _ in ks])
        return Op(name, ks)

    def flood(self):
        """Big values on every key, then far more reply bytes than a server connection may
        hold for one client (4 high watermarks, 16 MiB) before it stops reading."""
        r = self.rnd
        keys = self.sh.keys[self.idx][self.gen]
        big = bytes([r.randrange(97, 123)]) * r.randrange(300 * 1024, 400 * 1024)
        ops = [Op("SET", [k], [big]) for k in keys]
        for _ in range(r.randrange(20, 60)):
            if r.random() < 0.3:
                ops.append(Op("MGET", [r.choice(keys) for _ in range(r.randrange(2, 4))]))
            else:
                ops.append(Op("GET", [r.choice(keys)]))
        return ops

    def depth(self):
        r = self.rnd
        if self.slow:  # up to ~30 MiB of replies: over the 16 MiB that stalls a server
            return r.randrange(1, 100)
        return r.choice([1, 2, r.randrange(1, 20), r.randrange(1, 200)])

    # ---- one session: a connection from open to close ----

    def session(self):
        r = self.rnd
        c = self.conn_class(self.sh.port, self.slow)
        self.sh.add("sessions")
        try:
            for _ in range(r.randrange(1, 6)):
                ending = r.choices(["none", "abrupt", "quit", "fatal"],
                                   [55, 15, 15, 15] if self.slow else [85, 5, 5, 5])[0]
                if ending == "abrupt" and self.gen + 1 == NGENS:
                    ending = "none"  # no fresh keys left to move to
                if not self.batch(c, ending) or time.monotonic() > self.sh.end:
                    return
        finally:
            c.close()

    def batch(self, c, ending):
        """Sends a pipeline and checks its replies; False when the connection is over."""
        r = self.rnd
        if self.slow and r.random() < 0.5:
            ops = self.flood()
        else:
            ops = [self.op() for _ in range(self.depth())]
        if r.random() < 0.1:
            bad = self.soft_error()
            ops.insert(r.randrange(len(ops) + 1), bad)
        cut = None                  # replies up to here; nothing after it is executed
        if ending in ("quit", "fatal"):
            cut = r.randrange(len(ops) + 1)
            ops.insert(cut, self.terminator(ending))
        stream = b"".join(op.raw for op in ops)
        bounds = sorted(r.sample(range(1, len(stream)), min(len(stream) - 1,
                                                           r.randrange(0, 12))))
        chunks = [stream[a:b] for a, b in zip([0] + bounds, bounds + [len(stream)])]
        late = self.sh.victim_back.is_set()
        for op in ops:
            op.sent_late = late
        sender = threading.Thread(target=self.send, daemon=True,
                                  args=(c, chunks, ending != "none", r.random()))
        sender.start()
        try:
            if self.slow and r.random() < 0.5:
                time.sleep(r.uniform(0.1, 0.4))  # not reading: server connections stall
            nread = len(ops) if cut is None else cut + 1
            if ending == "quit" and self.quit_reply is None:
                nread -= 1
            if ending == "abrupt":
                nread = r.randrange(len(ops) + 1)
            for i in range(nread):
                self.where = "batch of %d ending %s at %s, reading reply %d of %d" % (
                    len(ops), ending, cut, i, nread)
                self.reply(c, ops[i])
            if self.batch_bytes > 16 << 20:
                self.sh.add("big_batches")  # how often a server connection may have stalled
            self.batch_bytes = 0
            if ending == "abrupt":
                self.abandon(c, sender)
                return False
            if cut is not None:
                self.sh.add(ending)
                if not c.closed():
                    raise Mismatch("connection still open after %s" % ops[cut].name)
                return False
            return True
        finally:
            sender.join(SOCK_TIMEOUT)

    def soft_error(self):
        """A request refused while the connection stays usable."""
        raw, err = self.rnd.choice(SOFT_ERRORS)
        bad = Op("BAD", raw=raw)
        bad.want_err = err
        return bad

    def terminator(self, ending):
        """The request that ends a session: "quit", or "fatal" (framing lost)."""
        if ending == "quit":
            return Op("QUIT", raw=enc(b"QUIT"))
        term = Op("BAD", raw=self.rnd.choice(FATAL_ERRORS))
        term.want_err = b"ERR Protocol error: "
        return term

    @staticmethod
    def is_error(raw):
        return raw.startswith(b"-")

    def send(self, c, chunks, may_fail, seed):
        r = random.Random(seed)  # not self.rnd: the streams stay the same on a replay
        try:
            for ch in chunks:
                c.sock.sendall(ch)
                if r.random() < 0.05:
                    time.sleep(0.001)
        except OSError:
            if not may_fail:
                raise

    def reply(self, c, op):
        raw = c.read_reply()
        self.sh.add("requests")
        if self.sh.kill_started.is_set():
            op.read_after_kill = True
            if not self.killed_seen:
                self.killed_seen = True
                self.model.forget_victim()
        self.history.append((op, raw))
        self.batch_bytes += len(raw)
        del self.history[:-5]
        if op.name == "QUIT":
            if raw != self.quit_reply:
                raise Mismatch("QUIT answered %r" % raw[:80])
            return
        try:
            self.model.check(op, raw)
        except Mismatch as e:
            raise Mismatch("%s: %s; reply %r (sent late %s, read after kill %s, victim keys %r)"
                           % (op, e, raw[:200], op.sent_late, op.read_after_kill,
                              [k for k in op.keys if k in self.model.victim_keys])) from None
        if self.is_error(raw) and op.name != "BAD":
            self.sh.add("victim_errors")

    def abandon(self, c, sender):
        """Closes with requests in flight, by RST or FIN; the keys are left to the past."""
        self.sh.add("abrupt")
        if sender.is_alive():
            # The sender may be blocked on a proxy that stopped reading: wake it (FIN).
            c.sock.shutdown(socket.SHUT_RDWR)
        elif self.rnd.random() < 0.5:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00"
                              b"\x00\x00\x00\x00")  # close sends RST
        c.sock.close()
        self.new_gen(self.gen + 1)

    def run(self):
        try:
            while time.monotonic() < self.sh.end:
                self.session()
        except Exception as e:  # noqa: BLE001 - reported by the test
            recent = "\n".join("    %r -> %r" % (op, raw[:100]) for op, raw in self.history)
            self.sh.end = 0  # the others stop at their next session: fail fast
            with self.sh.lock:
                self.sh.failures.append("client %d (gen %d, slow=%s, %s): %s: %s\n"
                                        "  last replies:\n%s"
                                        % (self.idx, self.gen, self.slow, self.where,
                                           type(e).__name__, e, recent))


Client.model_class = Model
Client.conn_class = Conn


def placement(conf_path, pool, keys, workdir):
    """key -> "host:port" from shardoracle (the proxy's own placement code)."""
    path = os.path.join(workdir, "stress-keys.hex")
    with open(path, "w") as f:
        f.write("".join(k.hex() + "\n" for k in keys))
    out = subprocess.run([harness.shardoracle_binary(), "place", "-c", conf_path, "--pool", pool, "--hex", path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True,
                         timeout=60)
    where = {}
    for line in out.stdout.splitlines():
        fields = line.split("\t")
        where[bytes.fromhex(fields[0])] = fields[1]
    return where


class Workload:
    """The seeded workload (a TestCase mixin): NBACKENDS backends behind one pool, the clients,
    a backend killed and restarted half way, then every model checked against the backends and
    the proxy's stats and exit.  The protocol is in the hooks (RESP here; memcached in
    test_stress_memcache.py)."""

    client_class = Client

    def start_backend(self, **kw):
        return self.start_redis(**kw)

    @staticmethod
    def misses(port, key):
        """Does the pool answer a read of (absent) `key`, as a miss?"""
        c = RawClient(port, timeout=SOCK_TIMEOUT)
        try:
            return c.call(b"GET", key) == bulk(None)
        finally:
            c.close()

    @staticmethod
    def still_serves(port):
        c = RawClient(port)
        try:
            return c.call(b"PING") == b"+PONG\r\n"
        finally:
            c.close()

    @staticmethod
    def stored(backend, key):
        return backend.client().get(key)

    def run_workload(self):
        print("\nstress seed %d (replay: SP_STRESS_SEED=%d)" % (SEED, SEED), file=sys.stderr)
        rnd = random.Random(SEED)
        backends = self.backends = [self.start_backend() for _ in range(NBACKENDS)]
        p = self.start_proxy({"alpha": harness.pool(backends, hash="fnv1a_64",
                                                    distribution="ketama")})
        keys = [[[b"s%d:c%d:g%d:k%d" % (SEED, i, g, j) for j in range(KEYS_PER_GEN)]
                 for g in range(NGENS)] for i in range(NCLIENTS)]
        flat = [k for per in keys for gen in per for k in gen]
        addr = {b.address: i for i, b in enumerate(backends)}
        where = placement(p.conf_path, "alpha", flat, self.tmpdir)
        owner = {k: addr[where[k]] for k in flat}
        victim = rnd.randrange(NBACKENDS)
        rss_start = harness.rss_kib(p.pid)
        start = time.monotonic()
        sh = Shared(p.port("alpha"), keys, owner, victim, start + SECONDS)
        clients = [self.client_class(sh, i) for i in range(NCLIENTS)]
        for c in clients:
            c.start()

        # Half way: SIGKILL one backend, restart it on the same port, wait until it answers
        # through the proxy again.
        time.sleep(SECONDS / 2)
        port = backends[victim].port
        sh.kill_started.set()
        backends[victim].stop(harness.signal.SIGKILL)
        backends[victim] = self.start_backend(port=port)
        probe = next(k for k in (b"probe%d" % i for i in range(10000))
                     if placement(p.conf_path, "alpha", [k], self.tmpdir)[k]
                     == backends[victim].address)
        harness.wait_until(lambda: self.misses(sh.port, probe), 20,
                           "the restarted backend to answer through the proxy")
        sh.victim_back.set()

        for c in clients:
            c.join(max(1.0, sh.end - time.monotonic()) + 2 * SOCK_TIMEOUT)
        hung = [c.idx for c in clients if c.is_alive()]
        print("stress: %.1fs, %s" % (time.monotonic() - start, sh.counts), file=sys.stderr)
        p.check_running()
        if sh.failures:
            self.fail("seed %d: %d clients failed:\n%s" % (SEED, len(sh.failures),
                                                           "\n".join(sh.failures)))
        self.assertEqual(hung, [], "seed %d: clients still waiting" % SEED)
        self.assertGreater(sh.counts["requests"], 1000)

        # The proxy still serves, routes as the oracle says, and its counters are back.
        self.assertTrue(self.still_serves(sh.port))
        for cl in clients:
            for k, v in cl.model.val.items():
                if v is not UNKNOWN:
                    self.assertEqual(self.stored(backends[owner[k]], k), v,
                                     "seed %d: key %r" % (SEED, k))

        def settled(doc):
            pool = doc["alpha"]
            servers = [pool[b.address] for b in backends]
            return (pool["client_connections"] == 0 and
                    doc["curr_connections"] == p.workers + sum(s["server_connections"]
                                                                for s in servers)
                    and all(s["in_queue"] == 0 and s["out_queue"] == 0 for s in servers))
        harness.wait_until(lambda: settled(p.stats()), 10, "stats to settle (seed %d)" % SEED)
        # Once quiet, the memory the faulty load took is given back (nearly all of it).
        deadline = time.monotonic() + 10
        while (harness.rss_kib(p.pid) > rss_start + RSS_SLACK_KIB and
               time.monotonic() < deadline and not harness.sanitizer_build()):
            time.sleep(0.2)
        harness.assert_memory(self, harness.rss_kib(p.pid), rss_start + RSS_SLACK_KIB,
                              "RSS once quiet after the load (seed %d)" % SEED)
        # A clean exit (under the sanitizers: no leak, no bad access at teardown either).
        self.assertEqual(p.stop(), 0, "seed %d\n%s" % (SEED, p.output()[-3000:]))


class StressTest(harness.TestCase, Workload):
    def test_random_workload(self):
        self.run_workload()

    def test_shutdown_under_load(self):
        # SIGTERM while clients have requests in flight, are paused by back-pressure, wait on a
        # server connection's output or stall one with theirs: a clean exit (under the
        # sanitizers, also free of leaks and bad accesses).
        print("\nstress seed %d (replay: SP_STRESS_SEED=%d)" % (SEED, SEED), file=sys.stderr)
        rnd = random.Random(SEED + 1)
        backends = [self.start_redis() for _ in range(NBACKENDS)]
        p = self.start_proxy({"alpha": harness.pool(backends, hash="fnv1a_64",
                                                    distribution="ketama")})
        port = p.port("alpha")
        big = b"b" * (512 * 1024)
        setup = RawClient(port)
        setup.send(*[enc(b"SET", b"big%d" % i, big) for i in range(8)])
        self.assertEqual(setup.read_replies(8), [b"+OK\r\n"] * 8)
        stop = threading.Event()
        socks = []

        def load(i):
            c = RawClient(port, timeout=SOCK_TIMEOUT)
            socks.append(c)
            r = random.Random(rnd.random())
            try:
                while not stop.is_set():
                    keys = [b"big%d" % r.randrange(8) for _ in range(r.randrange(1, 8))]
                    if i % 3 == 0:   # never reads: its output stalls server connections
                        c.send(*[enc(b"GET", k) for k in keys] * 10)
                        continue
                    if i % 3 == 1:   # big writes: server connections' output over the mark
                        c.send(*[enc(b"SET", b"w%d-%d" % (i, j), big) for j in range(8)])
                    c.send(enc(b"MGET", *keys), enc(b"DEL", b"x%d" % i, b"y%d" % i))
                    c.read_replies(10 if i % 3 == 1 else 2)
            except (OSError, EOFError):
                pass
        threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(18)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        p.send_signal(harness.signal.SIGTERM)
        status = p.wait(timeout=20)
        stop.set()
        for c in socks:
            c.close()
        for t in threads:
            t.join(SOCK_TIMEOUT)
        self.assertEqual(status, 0, "seed %d\n%s\n%s" % (SEED, p.output(), p.log()[-3000:]))


if __name__ == "__main__":
    harness.main()
