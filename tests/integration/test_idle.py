# SPDX-License-Identifier: Apache-2.0
"""Idle client connections: what they cost, and that clients sharing parser state stay apart.

An idle client holds no buffers and no parser; both are lent while it has work (client.c).
These tests check the memory figure (loosely: RSS is coarse) and that requests cut across reads
by many clients at once, including framing errors, never mix."""

import resource
import socket
import time
import unittest

import harness
from rawresp import RawClient, bulk, enc


class IdleTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_redis() for _ in range(2)]
        self.proxy = self.start_proxy({"alpha": harness.pool(self.backends)})
        self.port = self.proxy.port("alpha")

    def test_idle_connections_are_small(self):
        with open(harness.shardproxy_binary(), "rb") as f:
            if b"__asan_init" in f.read():
                self.skipTest("AddressSanitizer build: its redzones and quarantine are the RSS")
        n = 2000
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < n + 200:
            self.skipTest("RLIMIT_NOFILE hard limit %d" % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 200), hard))
        # Server connections exist (with --workers N, in every worker: a worker's first
        # request also sets up its own caches, which is no idle client's cost).
        for _ in range(8 * self.proxy.workers):
            warm = self.proxy.redis_client("alpha")
            warm.set("idle", "v")
            warm.close()
        # ... and the caches hold as many requests as a batch below has in flight (100 at once,
        # in each worker): what they keep is the proxy's, not the idle clients'.
        warm = [socket.create_connection((harness.HOST, self.port), timeout=20)
                for _ in range(100 * self.proxy.workers)]
        for s in warm:
            s.sendall(enc(b"GET", b"idle"))
        for s in warm:
            self.assertEqual(s.recv(64), bulk(b"v"))
            s.close()
        time.sleep(0.1)
        before = harness.rss_kib(self.proxy.pid)
        socks = []
        try:
            for _ in range(n):
                socks.append(socket.create_connection((harness.HOST, self.port), timeout=20))
            time.sleep(0.3)
            connected = (harness.rss_kib(self.proxy.pid) - before) * 1024 / n
            for i in range(0, n, 100):  # one request each, a batch at a time, then idle again
                for s in socks[i:i + 100]:
                    s.sendall(enc(b"GET", b"idle"))
                for s in socks[i:i + 100]:
                    self.assertEqual(s.recv(64), bulk(b"v"))
            used = (harness.rss_kib(self.proxy.pid) - before) * 1024 / n
        finally:
            for s in socks:
                s.close()
        # About 0.26 KB each (the connection with its event, and libevent's per-fd entry); a
        # buffer or parser kept per idle client would be well over these.
        self.assertLess(connected, 450, "%d bytes per idle client" % connected)
        self.assertLess(used, 600, "%d bytes per idle client after a request" % used)

    def test_partial_requests_of_many_clients_interleave(self):
        clients = [RawClient(self.port) for _ in range(8)]
        reqs = [enc(b"SET", b"part-%d" % i, b"value-%d-" % i + b"x" * (i * 300)) +
                enc(b"MGET", b"part-%d" % i, b"nokey", b"part-%d" % i) +
                b"GET part-%d\r\n" % i
                for i in range(len(clients))]
        # Every client sends its requests a slice at a time, the clients taking turns, so
        # each read stops inside some other client's request.
        longest = max(len(r) for r in reqs)
        step = 7
        for off in range(0, longest, step):
            for c, r in zip(clients, reqs):
                if off < len(r):
                    c.send(r[off:off + step])
            time.sleep(0.001)
        for i, c in enumerate(clients):
            v = bulk(b"value-%d-" % i + b"x" * (i * 300))
            self.assertEqual(c.read_replies(3),
                             [b"+OK\r\n", b"*3\r\n" + v + bulk(None) + v, v], "client %d" % i)

    def test_framing_error_offset_counts_the_whole_stream(self):
        # Another client's traffic between the requests must not move this client's offset.
        a, b = RawClient(self.port), RawClient(self.port)
        first = enc(b"SET", b"off", b"1")
        a.send(first)
        self.assertEqual(a.read_reply(), b"+OK\r\n")
        b.send(enc(b"GET", b"off") * 3)
        self.assertEqual(b.read_replies(3), [bulk(b"1")] * 3)
        a.send(b"*1\r\n$x\r\n")
        self.assertEqual(a.read_reply(),
                         b"-ERR Protocol error: invalid bulk length at byte %d\r\n"
                         % (len(first) + 4))


if __name__ == "__main__":
    unittest.main()
