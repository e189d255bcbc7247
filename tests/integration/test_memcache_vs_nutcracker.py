# SPDX-License-Identifier: Apache-2.0
"""memcached pools side by side with nutcracker 0.5.0: the same command stream, the same replies.

Debian's /usr/sbin/nutcracker and shardproxy run on the same one-pool memcached config (fnv1a_64 +
ketama, servers named s0..s2 so placement does not depend on the backends' ports), each in front
of its own three memcached backends.  Each test sends the same stream to both over raw sockets
and compares the replies byte for byte, then checks that every backend s<i> of one proxy holds
exactly what s<i> of the other holds.  cas uniques match too: each side's backends see the same
stores in the same order.

Differences are only where docs/compat.md lists them, each checked against its side's
documented behaviour: a multi-get spanning servers is answered in the client's key order by
shardproxy (nutcracker: grouped by server), and what nutcracker closes the connection on
(unknown commands, gat/gats, delete KEY 0, bad fields, keys over 250 bytes, flush_all,
verbosity, ...) shardproxy answers as memcached does, on a connection that stays open.
"""

import random

import harness
from rawmc import RawMc, storage

NSERVERS = 3


def items(reply):
    """The VALUE items of a retrieval reply, as a sorted list of raw items."""
    out, pos = [], 0
    while reply.startswith(b"VALUE ", pos):
        eol = reply.index(b"\r\n", pos)
        n = int(reply[pos:eol].split(b" ")[3])
        out.append(reply[pos:eol + 2 + n + 2])
        pos = eol + 2 + n + 2
    assert reply[pos:] == b"END\r\n", reply[pos:pos + 80]
    return sorted(out)


def item_keys(reply):
    keys, pos = [], 0
    while reply.startswith(b"VALUE ", pos):
        eol = reply.index(b"\r\n", pos)
        fields = reply[pos:eol].split(b" ")
        keys.append(fields[1])
        pos = eol + 2 + int(fields[3]) + 2
    return keys


def stream(rng):
    """(request, kind): kind "same" = byte-identical replies, "multi" = a multi-get (same
    items; shardproxy's in key order)."""
    keys = [b"k%d" % i for i in range(40)] + [b"{tag}x", b"caf\xc3\xa9", b"x" * 250]
    out = []
    add = out.append
    for k in keys:
        add((storage(b"set", k, b"v:" + k, flags=rng.randrange(1 << 16)), "same"))
    for k in keys[:10]:
        add((storage(b"add", k, b"no"), "same"))
        add((storage(b"add", k + b":new", b"yes"), "same"))
        add((storage(b"replace", k, b"r:" + k), "same"))
        add((storage(b"append", k, b"+a"), "same"))
        add((storage(b"prepend", k, b"p+"), "same"))
        add((b"get %s\r\n" % k, "same"))
        add((b"gets %s\r\n" % k, "same"))
    add((storage(b"replace", b"missing", b"x"), "same"))
    add((storage(b"cas", b"k1", b"c", cas=999999), "same"))
    add((storage(b"cas", b"missing", b"c", cas=1), "same"))
    add((storage(b"set", b"num", b"41"), "same"))
    add((b"incr num 1\r\n", "same"))
    add((b"decr num 100\r\n", "same"))
    add((b"incr missing 1\r\n", "same"))
    add((b"incr k2 1\r\n", "same"))
    add((b"touch k3 1000\r\n", "same"))
    add((b"touch missing 1000\r\n", "same"))
    add((b"delete k4\r\n", "same"))
    add((b"delete k4\r\n", "same"))
    add((storage(b"set", b"k5", b"quiet", noreply=True), "none"))
    add((b"delete k6 noreply\r\n", "none"))
    add((b"incr num 5 noreply\r\n", "none"))
    add((b"get k5 num k6\r\n", "multi"))
    add((storage(b"set", b"bin", bytes(range(256)) + b"\r\nEND\r\n"), "same"))
    add((b"get bin\r\n", "same"))
    for _ in range(20):
        ks = [rng.choice(keys + [b"absent%d" % rng.randrange(5)])
              for _ in range(rng.randrange(1, 12))]
        add((b"get %s\r\n" % b" ".join(ks), "multi"))
        add((b"gets %s\r\n" % b" ".join(ks), "multi"))
    return out


class MemcacheVsNutcracker(harness.ClassPeersTestCase):
    @classmethod
    def start_peers(cls):
        cls.sp_backends = [cls._start(harness.Memcached(cls.workdir)) for _ in range(NSERVERS)]
        cls.nc_backends = [cls._start(harness.Memcached(cls.workdir)) for _ in range(NSERVERS)]
        cls.reference = cls._start(harness.Memcached(cls.workdir))
        cls.sp = cls._start(harness.Shardproxy(cls.workdir, cls.pools(cls.sp_backends)))
        cls.nc = cls._start(harness.Nutcracker(cls.workdir, cls.pools(cls.nc_backends)))

    @staticmethod
    def pools(backends):
        servers = ["%s:1 s%d" % (b.address, i) for i, b in enumerate(backends)]
        return {"alpha": harness.pool(servers, hash="fnv1a_64", distribution="ketama",
                                      redis=False)}

    def setUp(self):
        super().setUp()
        for p in self.procs:
            p.check_running()
        # Fresh memcached processes would reset the cas counters too; flushing keeps them in
        # step as long as both sides saw the same stream, which every test sends.
        for b in self.sp_backends + self.nc_backends + [self.reference]:
            c = b.raw()
            self.assertEqual(c.call(b"flush_all\r\n"), b"OK\r\n")
            c.close()

    def clients(self):
        a = RawMc(self.sp.port("alpha"), timeout=30)
        b = RawMc(self.nc.port("alpha"), timeout=30)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        return a, b

    def check_pair(self, req, kind, got_sp, got_nc):
        if kind == "same":
            self.assertEqual(got_sp, got_nc, req)
            return
        self.assertEqual(items(got_sp), items(got_nc), req)
        asked = req.rstrip(b"\r\n").split(b" ")[1:]
        hits = item_keys(got_sp)
        self.assertEqual(hits, [k for k in asked if k in set(hits)], "key order: %r" % req)

    def run_stream(self, reqs, pipelined):
        sp, nc = self.clients()
        if pipelined:
            payload = b"".join(r for r, _ in reqs) + b"get k0\r\n"
            sp.send(payload)
            nc.send(payload)
        for req, kind in reqs:
            if kind == "none":
                if not pipelined:
                    sp.send(req)
                    nc.send(req)
                continue
            if pipelined:
                self.check_pair(req, kind, sp.read_reply(), nc.read_reply())
            else:
                self.check_pair(req, kind, sp.call(req), nc.call(req))
        if pipelined:
            self.assertEqual(sp.read_reply(), nc.read_reply())
        self.assert_same_contents([r for r, _ in reqs])

    def assert_same_contents(self, reqs):
        keys = sorted({r.split(b" ")[1].split(b"\r\n")[0] for r in reqs})
        held = []
        for i in range(NSERVERS):
            a, b = self.sp_backends[i].client(), self.nc_backends[i].client()
            held.append(a.get_many(keys))
            self.assertEqual(held[-1], b.get_many(keys), "server s%d" % i)
            a.close()
            b.close()
        self.assertTrue(all(held), "every server should hold some keys")

    def test_stream_one_by_one(self):
        self.run_stream(stream(random.Random(1)), pipelined=False)

    def test_stream_pipelined(self):
        self.run_stream(stream(random.Random(2)), pipelined=True)

    def test_version_is_the_backends(self):
        # nutcracker forwards it to one server; shardproxy asks every server for the lowest.
        # The backends run the same memcached, so both answer its version.
        sp, nc = self.clients()
        direct = self.sp_backends[0].raw()
        self.addCleanup(direct.close)
        want = direct.call(b"version\r\n")
        self.assertTrue(want.startswith(b"VERSION 1."), want)
        self.assertEqual(sp.call(b"version\r\n"), want)
        self.assertEqual(nc.call(b"version\r\n"), want)

    # Measured on nutcracker 0.5.0: it closes the connection without a word.  shardproxy answers
    # what memcached answers (the reference memcached says it) and keeps the connection.
    CLOSED_BY_NUTCRACKER = [
        b"bogus\r\n", b"\r\n", b"GET a\r\n", b"get\r\n", b"gat 10 a\r\n", b"gats 10 a\r\n",
        b"cas a 0 0 1\r\nx\r\n", b"delete a 0\r\n", b"set a -1 0 1\r\nx\r\n",
        b"set a 0 0 x\r\nx\r\n", b"set a 0 0 1\r\nxyz\r\n", b"set a 0 0 1\nx\r\n",
        b"get " + b"k" * 251 + b"\r\n", b"mg a v\r\n", b"mn\r\n",
        b"flush_all\r\n", b"flush_all 0 noreply\r\n", b"verbosity 0\r\n", b"flush_all x\r\n",
    ]

    def test_what_nutcracker_closes_on(self):
        for req in self.CLOSED_BY_NUTCRACKER:
            nc = RawMc(self.nc.port("alpha"), timeout=10)
            nc.send(req)
            self.assertTrue(nc.closed_by_peer(timeout=5), "nutcracker kept %r" % req)
            self.assertEqual(bytes(nc.buf), b"", "nutcracker answered %r" % req)
            nc.close()
            sp = RawMc(self.sp.port("alpha"), timeout=10)
            ref = self.reference.raw()
            sp.send(req + b"mn\r\n")
            ref.send(req + b"mn\r\n")
            want = ref.replies_until_mn()
            got = [sp.read_reply() for _ in want]
            self.assertEqual(got, want, req)
            sp.close()
            ref.close()


if __name__ == "__main__":
    harness.main()
