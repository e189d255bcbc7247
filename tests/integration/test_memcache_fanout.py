# SPDX-License-Identifier: Apache-2.0
"""version, flush_all and verbosity through a memcached pool: sent to every server, one answer.

Two real memcached backends behind one pool, checked directly on each backend (flush_all must
empty both), a reference memcached for the answers to bad arguments, and a fake memcached
(tests/abuse/fakes.py) that answers another version than the real ones, to see the lowest win
and what each server was sent.
"""

import os
import signal
import sys

import harness
from rawmc import replies_to, storage, value

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "abuse"))

from fakes import FakeBackend  # noqa: E402

NKEYS = 100


class FanoutCase(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_memcached() for _ in range(2)]
        self.proxy = self.pool_of(self.backends)

    def pool_of(self, servers):
        return self.start_proxy({"alpha": harness.pool(servers, timeout=2000)})

    def raw(self, server=None, proxy=None):
        c = server.raw() if server is not None else (proxy or self.proxy).raw_mc("alpha")
        self.addCleanup(c.close)
        return c

    def server_version(self, server):
        reply = self.raw(server).call(b"version\r\n")
        self.assertTrue(reply.startswith(b"VERSION "), reply)
        return reply

    def fill(self, proxy=None):
        """Stores NKEYS keys through the proxy; returns them, checking both servers got some."""
        raw = self.raw(proxy=proxy)
        # varied keys: fnv1a_64 keeps keys that differ only at the end together
        keys = [b"fan:%08x" % (i * 2654435761 % (1 << 32)) for i in range(NKEYS)]
        for k in keys:
            self.assertEqual(raw.call(storage(b"set", k, b"v")), b"STORED\r\n")
        for b in self.backends:
            self.assertTrue(self.held(b, keys), "server %s holds none of the keys" % b.address)
        return keys

    def held(self, server, keys):
        c = server.client()
        try:
            return c.get_many(keys)
        finally:
            c.close()


class VersionTest(FanoutCase):
    def test_version_is_the_servers(self):
        want = self.server_version(self.backends[0])
        self.assertEqual(self.server_version(self.backends[1]), want)  # the same binary
        self.assertNotEqual(want, b"VERSION %s\r\n" % harness.package_version().encode())
        raw = self.raw()
        self.assertEqual(raw.call(b"version\r\n"), want)
        self.assertEqual(raw.call(b"version ignored words\r\n"), want)  # as memcached

    def test_one_server_down_then_none(self):
        want = self.server_version(self.backends[0])
        self.backends[1].stop(signal.SIGKILL)
        raw = self.raw()
        self.assertEqual(raw.call(b"version\r\n"), want)
        self.backends[0].stop(signal.SIGKILL)
        reply = raw.call(b"version\r\n")
        self.assertTrue(reply.startswith(b"SERVER_ERROR ") and len(reply) > 16, reply)
        self.assertEqual(raw.call(b"mn\r\n"), b"MN\r\n")  # the connection goes on

    def test_pipelined_in_order(self):
        raw = self.raw()
        version = self.server_version(self.backends[0])
        raw.send(storage(b"set", b"a", b"1"), b"get a\r\nversion\r\nflush_all\r\nget a\r\n",
                 b"verbosity 0 noreply\r\nversion\r\nmn\r\n")
        self.assertEqual(raw.read_replies(7), [
            b"STORED\r\n", value(b"a", b"1") + b"END\r\n", version, b"OK\r\n", b"END\r\n",
            version, b"MN\r\n"])


class FlushAllTest(FanoutCase):
    def test_flush_all_empties_every_server(self):
        keys = self.fill()
        self.assertEqual(self.raw().call(b"flush_all\r\n"), b"OK\r\n")
        for b in self.backends:
            self.assertEqual(self.held(b, keys), {}, b.address)
        # a web framework's cache.clear(): pymemcache's flush_all
        self.fill()
        c = self.proxy.memcache_client("alpha")
        self.addCleanup(c.close)
        self.assertTrue(c.flush_all())
        for b in self.backends:
            self.assertEqual(self.held(b, keys), {}, b.address)

    def test_delay_and_noreply(self):
        keys = self.fill()
        before = [self.held(b, keys) for b in self.backends]
        raw = self.raw()
        # a delay far off: nothing is flushed yet, and noreply answers nothing
        raw.send(b"flush_all 100 noreply\r\n", b"mn\r\n")
        self.assertEqual(raw.read_reply(), b"MN\r\n")
        self.assertEqual([self.held(b, keys) for b in self.backends], before)
        # one second: both servers are emptied when it is up
        raw.send(b"flush_all 1 noreply\r\n", b"mn\r\n")
        self.assertEqual(raw.read_reply(), b"MN\r\n")
        harness.wait_until(lambda: not any(self.held(b, keys) for b in self.backends), 10,
                           "both servers flushed after the delay")

    def test_one_server_down(self):
        keys = self.fill()
        self.backends[1].stop(signal.SIGKILL)
        reply = self.raw().call(b"flush_all\r\n")
        self.assertTrue(reply.startswith(b"SERVER_ERROR ") and len(reply) > 16, reply)
        self.assertEqual(self.held(self.backends[0], keys), {})  # the live one did flush
        raw = self.raw()
        raw.send(b"flush_all noreply\r\n", b"mn\r\n")  # noreply: not even the failure
        self.assertEqual(raw.read_reply(), b"MN\r\n")

    def test_a_server_refusing_it(self):
        refusing = self.start_memcached(extra_args=["-F"])  # flush_all disabled
        self.backends = [self.backends[0], refusing]
        proxy = self.pool_of(self.backends)
        keys = self.fill(proxy)
        want = self.raw(refusing).call(b"flush_all\r\n")
        self.assertEqual(want, b"CLIENT_ERROR flush_all not allowed\r\n")
        self.assertEqual(self.raw(proxy=proxy).call(b"flush_all\r\n"), want)
        self.assertEqual(self.held(self.backends[0], keys), {})
        self.assertTrue(self.held(refusing, keys))

    def test_verbosity(self):
        raw = self.raw()
        self.assertEqual(raw.call(b"verbosity 0\r\n"), b"OK\r\n")
        raw.send(b"verbosity 0 noreply\r\n", b"mn\r\n")
        self.assertEqual(raw.read_reply(), b"MN\r\n")

    BAD = [
        b"flush_all abc\r\n", b"flush_all 5x\r\n", b"flush_all noreply abc\r\n",
        b"flush_all abc noreply\r\n", b"flush_all 1 2 3\r\n", b"verbosity\r\n",
        b"verbosity abc\r\n", b"verbosity -1\r\n", b"verbosity noreply\r\n",
        b"verbosity 1 2 3\r\n", b"flush_all  abc  \n",
    ]

    def test_bad_arguments_answered_as_memcached(self):
        keys = self.fill()
        ref = self.start_memcached()
        got, want = replies_to(b"".join(self.BAD), self.raw(), self.raw(ref))
        self.assertGreater(len(want), 5)
        self.assertEqual(got, want)
        for b in self.backends:
            self.assertTrue(self.held(b, keys), "nothing was forwarded")


class FakeServerTest(harness.TestCase):
    """A real memcached and a fake one that answers VERSION <its version> and OK."""

    def start(self, version):
        fake = FakeBackend(lambda conn, words: b"VERSION %s\r\n" % version
                           if words[:1] == [b"version"] else b"OK\r\n", framing="line")
        self.addCleanup(fake.stop)
        real = self.start_memcached()
        proxy = self.start_proxy({"alpha": harness.pool([real, "%s:1" % fake.address])})
        raw = proxy.raw_mc("alpha")
        self.addCleanup(raw.close)
        direct = real.raw()
        self.addCleanup(direct.close)
        return fake, raw, direct.call(b"version\r\n")

    def test_lowest_version_wins(self):
        fake, raw, _ = self.start(b"1.4.0")
        self.assertEqual(raw.call(b"version\r\n"), b"VERSION 1.4.0\r\n")
        self.assertEqual(fake.requests, [[b"version"]])

    def test_versions_compare_by_number(self):
        # "1.6.100" is lower than any real 1.6.x byte by byte, higher by number
        fake, raw, real = self.start(b"1.6.100")
        self.assertTrue(real.startswith(b"VERSION 1.6."), real)
        self.assertEqual(raw.call(b"version x\r\n"), real)

    def test_what_each_server_is_sent(self):
        fake, raw, _ = self.start(b"1.6.0")
        raw.send(b"flush_all 100 noreply\r\n", b"flush_all\r\n", b"verbosity 0 2\r\n",
                 b"flush_all -1 7\n")
        self.assertEqual(raw.read_replies(3), [b"OK\r\n"] * 3)
        self.assertEqual(fake.requests, [[b"flush_all", b"100"], [b"flush_all"],
                                         [b"verbosity", b"0"], [b"flush_all", b"-1"]])


if __name__ == "__main__":
    harness.main()
