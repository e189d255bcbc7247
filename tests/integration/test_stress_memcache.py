# SPDX-License-Identifier: Apache-2.0
"""Seeded randomized stress of the data path with memcached pools (test_stress.py's engine).

The same workload shape as test_stress.py, in the memcached protocol: many raw-socket clients
owning disjoint keys pipeline random mixes of set (some with noreply), get, multi-get (split
across servers, merged in key order), incr, delete and mn, cut at random byte boundaries; some
read slowly with values of a few hundred KB (back-pressure, stalled server connections), some
disconnect abruptly, send quit or lose the framing mid-pipeline.  Half way through one memcached
is SIGKILLed and restarted on its port.  Every reply must match the client's model and come in
request order; afterwards the proxy still answers, the backends hold what the models say, the
stats are back to the listener and the server connections, and the proxy exits cleanly.

SP_STRESS_SEED=N replays a run's request streams, SP_STRESS_SECONDS sets the workload's length.
"""

import harness
import test_stress as engine
from rawmc import RawMc, storage
from test_stress import UNKNOWN, Mismatch, Op, SOCK_TIMEOUT

NOT_NUMERIC = b"CLIENT_ERROR cannot increment or decrement non-numeric value"


def parse(raw):
    """("items", [(key, data)]) for a retrieval reply, else ("line", the line without CRLF)."""
    if not (raw.startswith(b"VALUE ") or raw == b"END\r\n"):
        if not raw.endswith(b"\r\n") or raw.count(b"\n") != 1:
            raise Mismatch("not one line: %r" % raw[:80])
        return "line", raw[:-2]
    out, pos = [], 0
    while raw.startswith(b"VALUE ", pos):
        eol = raw.index(b"\r\n", pos)
        fields = raw[pos:eol].split(b" ")
        n = int(fields[3])
        out.append((fields[1], raw[eol + 2:eol + 2 + n]))
        if raw[eol + 2 + n:eol + 4 + n] != b"\r\n":
            raise Mismatch("item without CRLF")
        pos = eol + 4 + n
    if raw[pos:] != b"END\r\n":
        raise Mismatch("items not ended by END: %r" % raw[pos:pos + 40])
    return "items", out


def canonical_int(v):
    return isinstance(v, bytes) and v.isdigit() and len(v) <= 19 and (v == b"0" or v[:1] != b"0")


class OneOf(tuple):
    """A value memcached holds in one of these forms, which a read tells: incr writes a shorter
    result in place, padded with spaces, only when no one else holds the item at that moment."""

    def __eq__(self, other):
        return any(other == x for x in tuple.__iter__(self))

    __hash__ = tuple.__hash__


def after_incr(result, forms):
    """What an item holds after incr answered `result`, from its possible previous forms."""
    alts = set()
    for f in forms:
        alts.add(result)
        if len(result) <= len(f):
            alts.add(result.ljust(len(f)))
    return OneOf(sorted(alts)) if len(alts) > 1 else result


def mc_op(name, keys=(), values=(), noreply=False):
    """An Op whose raw bytes are memcached's."""
    if name == "SET":
        raw = storage(b"set", keys[0], values[0], noreply=noreply)
    elif name in ("GET", "MGET"):
        raw = b"get %s\r\n" % b" ".join(keys)
    elif name == "INCR":
        raw = b"incr %s 1\r\n" % keys[0]
    elif name == "DEL":
        raw = b"delete %s\r\n" % keys[0]
    else:
        raw = b"mn\r\n"
    op = Op(name, keys, values, raw=raw)
    op.noreply = noreply
    return op


class McModel(engine.Model):
    def check(self, op, raw):
        kind, payload = parse(raw)
        touches_victim = any(k in self.victim_keys for k in op.keys)
        if kind == "line" and payload.startswith(b"SERVER_ERROR") and op.name != "BAD":
            if not (touches_victim and op.read_after_kill and not op.sent_late):
                raise Mismatch("unexpected error")
            if len(payload) <= len(b"SERVER_ERROR "):
                raise Mismatch("error without a reason")
            if op.name in ("SET", "DEL", "INCR"):
                for k in op.keys:
                    self.val[k] = UNKNOWN
            return
        getattr(self, "mc_" + op.name)(op, kind, payload, op.sent_late)

    def apply_noreply(self, op):
        """A noreply set: no reply to check; it may be lost with the killed server."""
        k = op.keys[0]
        lost = k in self.victim_keys and not op.sent_late
        self.val[k] = UNKNOWN if lost else op.values[0]

    def mc_PING(self, op, kind, payload, learn):
        self.expect((kind, payload) == ("line", b"MN"))

    def mc_SET(self, op, kind, payload, learn):
        self.expect((kind, payload) == ("line", b"STORED"))
        k = op.keys[0]
        self.val[k] = op.values[0] if learn or self.get(k) is not UNKNOWN else UNKNOWN

    def mc_GET(self, op, kind, payload, learn):
        self.mc_MGET(op, kind, payload, learn)

    def mc_MGET(self, op, kind, payload, learn):
        self.expect(kind == "items", "not a retrieval reply")
        items = list(payload)
        for k in op.keys:
            cur = self.get(k)
            hit = items[0][1] if items and items[0][0] == k else None
            if cur is UNKNOWN:
                if hit is not None:
                    items.pop(0)
                if learn:
                    self.val[k] = hit
                continue
            self.expect(hit == cur, "value of %r: want %r" % (k, cur if cur is None else cur[:40]))
            if isinstance(cur, OneOf):
                self.val[k] = hit  # now known
            if hit is not None:
                items.pop(0)
        self.expect(items == [], "items for keys not asked, or out of order")

    def mc_INCR(self, op, kind, payload, learn):
        k = op.keys[0]
        cur = self.get(k)
        forms = list(tuple.__iter__(cur)) if isinstance(cur, OneOf) else [cur]
        number = forms[0].rstrip(b" ") if isinstance(forms[0], bytes) else None
        if cur is None:
            self.expect((kind, payload) == ("line", b"NOT_FOUND"))
        elif canonical_int(number) and all(f.rstrip(b" ") == number for f in forms):
            want = b"%d" % ((int(number) + 1) % (1 << 64))
            self.expect((kind, payload) == ("line", want), "want %r" % want)
            self.val[k] = after_incr(want, forms)
        else:
            # unknown, or bytes memcached reads with strtoull: a number or "non-numeric"
            ok = (NOT_NUMERIC,) + ((b"NOT_FOUND",) if cur is UNKNOWN else ())
            self.expect(kind == "line" and (payload.isdigit() or payload in ok),
                        "not an incr reply")
            if payload == b"NOT_FOUND":
                if cur is not UNKNOWN or learn:
                    self.val[k] = None
            elif payload.isdigit():
                self.val[k] = UNKNOWN if cur is UNKNOWN else after_incr(payload, forms)

    def mc_DEL(self, op, kind, payload, learn):
        k = op.keys[0]
        cur = self.get(k)
        if cur is UNKNOWN:
            self.expect((kind, payload) in (("line", b"DELETED"), ("line", b"NOT_FOUND")))
        else:
            self.expect((kind, payload) == ("line", b"DELETED" if cur is not None
                                            else b"NOT_FOUND"))
        if cur is not UNKNOWN or learn:
            self.val[k] = None  # an unknown key stays unknown: a restarted server lost it

    def mc_BAD(self, op, kind, payload, learn):
        self.expect(kind == "line" and payload.startswith(op.want_err),
                    "want %r" % op.want_err)


# Refused while the connection stays usable, with memcached's (or the proxy's) words.
SOFT_ERRORS = [
    (b"bogus x\r\n", b"ERROR"),
    (b"get\r\n", b"ERROR"),
    (b"incr k x\r\n", b"CLIENT_ERROR invalid numeric delta argument"),
    # (flush_all goes to every server now: its bad form is what may be sent among the others)
    (b"flush_all abc\r\n", b"CLIENT_ERROR invalid exptime argument"),
    (b"stats\r\n", b"SERVER_ERROR stats is not supported by the proxy"),
]
# Framing lost: an error, then the proxy closes the connection.
FATAL_ERRORS = [
    (b"bogus " + b"x" * 2100 + b"\r\n", b"CLIENT_ERROR line too long"),
    (b"set k 0 0 2000000000\r\n", b"SERVER_ERROR object too large for cache"),
]


class McConn(engine.Conn, RawMc):
    """test_stress's slow-reading connection, reading memcached replies."""


class McClient(engine.Client):
    model_class = McModel
    conn_class = McConn
    quit_reply = None  # memcached closes on quit without a word

    def op(self):
        r = self.rnd
        keys = self.sh.keys[self.idx][self.gen]
        name = r.choice(["SET", "SET", "SETNR", "GET", "GET", "GET", "INCR", "DEL", "MGET",
                         "MGET", "PING"])
        if self.slow and name in ("INCR", "PING", "DEL"):
            name = "GET"
        if name == "PING":
            return mc_op("PING")
        if name in ("SET", "SETNR"):
            # A noreply set is ordered before what follows on its connection only.  A client
            # here reconnects often; with --workers N its next connection may be another
            # worker's, whose server connection can overtake the set still in flight (as with
            # nutcracker and server_connections > 1).  So noreply only with one worker:
            # test_memcache checks it on one connection with any number.
            noreply = name == "SETNR" and harness.WORKERS == 1
            return mc_op("SET", [r.choice(keys)], [self.value()], noreply=noreply)
        if name != "MGET":
            return mc_op(name, [r.choice(keys)])
        return mc_op("MGET", [r.choice(keys) for _ in range(r.randrange(1, len(keys) + 1))])

    def flood(self):
        r = self.rnd
        keys = self.sh.keys[self.idx][self.gen]
        big = bytes([r.randrange(97, 123)]) * r.randrange(300 * 1024, 400 * 1024)
        ops = [mc_op("SET", [k], [big]) for k in keys]
        for _ in range(r.randrange(20, 60)):
            if r.random() < 0.3:
                ops.append(mc_op("MGET", [r.choice(keys) for _ in range(r.randrange(2, 4))]))
            else:
                ops.append(mc_op("GET", [r.choice(keys)]))
        return ops

    def soft_error(self):
        raw, err = self.rnd.choice(SOFT_ERRORS)
        bad = mc_op("BAD")
        bad.raw, bad.want_err = raw, err
        return bad

    def terminator(self, ending):
        if ending == "quit":
            return Op("QUIT", raw=b"quit\r\n")
        raw, err = self.rnd.choice(FATAL_ERRORS)
        term = mc_op("BAD")
        term.raw, term.want_err = raw, err
        return term

    @staticmethod
    def is_error(raw):
        return raw.startswith(b"SERVER_ERROR") or raw.startswith(b"CLIENT_ERROR") or \
            raw.startswith(b"ERROR")

    def reply(self, c, op):
        if getattr(op, "noreply", False):
            self.model.apply_noreply(op)  # nothing comes back: the next reply is the next op's
            return
        super().reply(c, op)


class McStressTest(harness.TestCase, engine.Workload):
    client_class = McClient

    def start_backend(self, **kw):
        # Room for every generation's big values: an evicted item would look like a lost write
        # (memcached reserves the memory only as items arrive).
        return self.start_memcached(extra_args=["-m", "4096"], **kw)

    @staticmethod
    def misses(port, key):
        c = RawMc(port, timeout=SOCK_TIMEOUT)
        try:
            return c.call(b"get %s\r\n" % key) == b"END\r\n"
        finally:
            c.close()

    @staticmethod
    def still_serves(port):
        c = RawMc(port)
        try:
            return c.call(b"mn\r\n") == b"MN\r\n"
        finally:
            c.close()

    @staticmethod
    def stored(backend, key):
        c = backend.client()
        try:
            return c.get(key)
        finally:
            c.close()

    def test_random_workload(self):
        try:
            self.run_workload()
        except AssertionError as e:
            stats = []
            for b in self.backends:
                try:
                    c = b.client()
                    st = c.stats()
                    stats.append((b.address, {k: st.get(k) for k in (b"evictions",
                                  b"curr_items", b"total_items", b"limit_maxbytes")}))
                    c.close()
                except Exception as x:  # noqa: BLE001 - diagnostics only
                    stats.append((b.address, repr(x)))
            raise AssertionError("%s\nbackend stats: %r" % (e, stats)) from None


if __name__ == "__main__":
    harness.main()
