# SPDX-License-Identifier: Apache-2.0
"""Pipelining, ordering, framing edge cases, big and binary values, back-pressure, stats."""

import hashlib
import os
import threading
import time
import unittest

import harness
from rawresp import RawClient, bulk, enc


def send_after_end(c, end):
    """Sends `end` (QUIT, a request that loses framing) and then more requests than one read
    takes, from a thread: the proxy reads none of them, so the send may block, then fail."""
    def send():
        try:
            c.send(end, *[enc(b"SET", b"after", b"y" * 1024)] * 256)
        except OSError:
            pass
    threading.Thread(target=send, daemon=True).start()


class PipelineTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_redis(extra_args=["--enable-debug-command", "yes"])
                         for _ in range(3)]
        self.proxy = self.start_proxy({"alpha": harness.pool(self.backends)})
        self.port = self.proxy.port("alpha")

    def owner(self, key):
        """Index of the backend holding key (after it was set through the proxy)."""
        where = [i for i, b in enumerate(self.backends) if b.client().exists(key)]
        self.assertEqual(len(where), 1, "key %r on backends %s" % (key, where))
        return where[0]

    def test_thousands_in_one_write(self):
        n = 5000
        reqs = []
        expect = []
        for i in range(n):
            reqs.append(enc(b"SET", b"k%d" % i, b"value-%d" % i))
            expect.append(b"+OK\r\n")
            reqs.append(enc(b"GET", b"k%d" % i))
            expect.append(bulk(b"value-%d" % i))
        reqs.append(enc(b"PING"))
        expect.append(b"+PONG\r\n")
        c = RawClient(self.port)
        c.send(*reqs)
        self.assertEqual(c.read_replies(len(expect)), expect)
        # Keys really are spread over the backends.
        counts = [b.client().dbsize() for b in self.backends]
        self.assertEqual(sum(counts), n)
        self.assertTrue(all(x > n // 10 for x in counts), counts)

    def test_one_byte_at_a_time(self):
        c = RawClient(self.port)
        data = (enc(b"SET", b"slow", b"a\r\nb") + enc(b"GET", b"slow") + b"PING\r\n" +
                enc(b"MGET", b"slow", b"nokey", b"slow") + enc(b"DEL", b"slow", b"nokey"))
        for i in range(len(data)):
            c.send(data[i:i + 1])
            time.sleep(0.0005)
        self.assertEqual(c.read_replies(5), [
            b"+OK\r\n", bulk(b"a\r\nb"), b"+PONG\r\n",
            b"*3\r\n" + bulk(b"a\r\nb") + bulk(None) + bulk(b"a\r\nb"), b":1\r\n"])

    def test_replies_stay_in_request_order(self):
        # Find keys on two different backends, stall one backend, and pipeline across both:
        # the fast backend's replies must wait for the slow one's.
        c = RawClient(self.port)
        keys = [hashlib.md5(b"order-%d" % i).hexdigest().encode() for i in range(40)]
        c.send(*[enc(b"SET", k, k) for k in keys])
        c.read_replies(len(keys))
        owners = {k: self.owner(k) for k in keys}
        slow = owners[keys[0]]
        fast_keys = [k for k in keys if owners[k] != slow][:5]
        self.assertTrue(fast_keys)
        blocker = RawClient(self.backends[slow].port)
        blocker.send(enc(b"DEBUG", b"SLEEP", b"0.5"))
        time.sleep(0.05)
        seq = [keys[0]] + fast_keys + [keys[0]]
        c.send(*[enc(b"GET", k) for k in seq])
        self.assertEqual(c.read_replies(len(seq)), [bulk(k) for k in seq])
        self.assertEqual(blocker.read_reply(), b"+OK\r\n")

    def test_many_clients_interleaved(self):
        clients = [RawClient(self.port) for _ in range(20)]
        for round_ in range(3):
            for i, c in enumerate(clients):
                c.send(*[enc(b"SET", b"c%d-%d" % (i, j), b"%d:%d" % (round_, j))
                         for j in range(50)])
                c.send(*[enc(b"GET", b"c%d-%d" % (i, j)) for j in range(50)])
            for i, c in enumerate(clients):
                self.assertEqual(c.read_replies(100),
                                 [b"+OK\r\n"] * 50 + [bulk(b"%d:%d" % (round_, j))
                                                      for j in range(50)])

    def test_binary_keys_and_values(self):
        c = RawClient(self.port)
        allbytes = bytes(range(256))
        keys = [b"", b"\x00", b"\r\n", b" sp ace ", allbytes, b"\xff" * 300, b"k" * 4096]
        for k in keys:
            v = allbytes[::-1] + k
            self.assertEqual(c.call(b"SET", k, v), b"+OK\r\n", k)
            self.assertEqual(c.call(b"GET", k), bulk(v), k)
            self.assertEqual(self.backends[self.owner(k)].client().get(k), v)

    def test_64_mib_value(self):
        big = os.urandom(1 << 16) * 1024  # 64 MiB
        c = RawClient(self.port, timeout=60)
        self.assertEqual(c.call(b"SET", b"big", big), b"+OK\r\n")
        self.assertEqual(c.call(b"STRLEN", b"big"), b":%d\r\n" % len(big))
        got = c.call(b"GET", b"big")
        self.assertEqual(len(got), len(bulk(big)))
        self.assertTrue(got == bulk(big), "64 MiB value came back different")

    def test_slow_reader_is_bounded(self):
        # A client pipelines far more reply bytes than it reads: the proxy must stop reading
        # it instead of buffering everything (about 512 MiB of replies here).
        value = b"x" * (512 * 1024)
        c = RawClient(self.port, timeout=60)
        self.assertEqual(c.call(b"SET", b"fat", value), b"+OK\r\n")
        before = harness.rss_kib(self.proxy.pid)
        n = 1000
        sender = threading.Thread(target=lambda: c.send(*[enc(b"GET", b"fat")] * n))
        sender.start()
        time.sleep(1.5)
        grown = harness.rss_kib(self.proxy.pid) - before
        self.assertLess(grown, 128 * 1024, "proxy grew by %d KiB for a slow reader" % grown)
        for i in range(n):
            self.assertEqual(c.read_reply(), bulk(value), "reply %d" % i)
        sender.join()

    def closing_slow_reader(self, finish):
        # A client pipelines more reply bytes than the stall limit (4 high watermarks), ends its
        # input (`finish`: QUIT, or a half-close), then reads slowly: the server connection
        # that stopped reading for it must read again once the client's output drained, also
        # while the client is closing, or the client and everyone sharing that connection hang.
        value = b"x" * (512 * 1024)
        c = RawClient(self.port, timeout=10)
        self.assertEqual(c.call(b"SET", b"fat", value), b"+OK\r\n")
        n = 80  # 40 MiB of replies: well over the 16 MiB stall limit
        c.send(*[enc(b"GET", b"fat")] * n)
        finish(c)
        time.sleep(0.5)  # let the proxy's output for it pile up (the stall is what is tested)
        fill = c._fill

        def slow_fill():  # the proxy finishes writing long before the client has read it all
            c.sock.settimeout(10)
            data = c.sock.recv(65536)
            if not data:
                raise EOFError("closed by the proxy with %d bytes read" % len(c.buf))
            c.buf += data
            time.sleep(0.001)
        c._fill = slow_fill
        for i in range(n):
            self.assertEqual(c.read_reply(), bulk(value), "reply %d" % i)
        c._fill = fill
        other = RawClient(self.port, timeout=10)
        self.assertEqual(other.call(b"GET", b"fat"), bulk(value))
        return c

    def test_quit_after_stalling_pipeline(self):
        c = self.closing_slow_reader(lambda c: c.send(enc(b"QUIT")))
        self.assertEqual(c.read_reply(), b"+OK\r\n")
        self.assertTrue(c.closed_by_peer())

    def test_quit_mid_pipeline_slow_reader(self):
        # Requests after QUIT are never read: closing the socket with them unread would send a
        # reset, which throws away replies the kernel has not delivered yet.
        c = self.closing_slow_reader(lambda c: send_after_end(c, enc(b"QUIT")))
        self.assertEqual(c.read_reply(), b"+OK\r\n")
        self.assertTrue(c.closed_by_peer())
        self.assertEqual(c.buf, b"")

    def test_protocol_error_mid_pipeline_slow_reader(self):
        c = self.closing_slow_reader(lambda c: send_after_end(c, b"*1\r\n$-5\r\n"))
        self.assertTrue(c.read_reply().startswith(b"-ERR Protocol error: "))
        self.assertTrue(c.closed_by_peer())
        self.assertEqual(c.buf, b"")

    def test_half_close_after_stalling_pipeline(self):
        c = self.closing_slow_reader(lambda c: c.sock.shutdown(harness.socket.SHUT_WR))
        self.assertTrue(c.closed_by_peer())
        self.assertEqual(c.buf, b"")

    def test_server_connections_and_preconnect(self):
        r = self.start_redis()
        p = self.start_proxy({"multi": harness.pool([r], server_connections=4, preconnect=True)})
        # preconnect opens one connection per server (in each worker) before any client shows up.
        harness.wait_until(lambda: p.stats()["multi"][r.address]["server_connections"]
                           == p.workers, 5, "preconnected server connection")
        clients = [RawClient(p.port("multi")) for _ in range(8)]
        for i, c in enumerate(clients):
            c.send(*[enc(b"INCR", b"ctr")] * 100, enc(b"SET", b"own%d" % i, b"%d" % i))
        for i, c in enumerate(clients):
            replies = c.read_replies(101)
            nums = [int(x[1:-2]) for x in replies[:100]]
            self.assertEqual(nums, sorted(nums), "client %d: INCR replies out of order" % i)
            self.assertEqual(replies[100], b"+OK\r\n")
        self.assertEqual(RawClient(p.port("multi")).call(b"GET", b"ctr"), bulk(b"800"))
        time.sleep(0.25)
        opened = p.stats()["multi"][r.address]["server_connections"]
        if p.workers == 1:
            self.assertEqual(opened, 4)
        else:  # 4 per worker at most; one of them has at least 4 of the 8 clients
            self.assertTrue(4 <= opened <= 4 * p.workers, opened)
        self.assertEqual(r.client().info("clients")["connected_clients"], opened + 1)

    def test_stats_after_known_traffic(self):
        c = RawClient(self.port)
        n = 300
        keys = [hashlib.md5(b"%d" % i).hexdigest().encode() for i in range(n)]  # well spread
        c.send(*[enc(b"SET", k, b"v") for k in keys])
        c.read_replies(n)
        c.send(enc(b"PING"), enc(b"NOSUCH"))
        c.read_replies(2)
        time.sleep(0.3)  # stats are aggregated every -i 100 ms
        st = self.proxy.stats()["alpha"]
        servers = [st[b.address] for b in self.backends]
        self.assertEqual(sum(s["requests"] for s in servers), n)
        self.assertEqual(sum(s["responses"] for s in servers), n)
        self.assertEqual(sum(s["request_bytes"] for s in servers),
                         sum(len(enc(b"SET", k, b"v")) for k in keys))
        self.assertEqual(sum(s["response_bytes"] for s in servers), 5 * n)
        self.assertEqual(st["client_connections"], 1)
        self.assertEqual(sum(s["server_connections"] for s in servers), 3)
        self.assertEqual(sum(s["in_queue"] + s["out_queue"] for s in servers), 0)
        self.assertEqual(st["fragments"], 0)
        self.assertEqual(st["forward_error"], 0)
        c.close()
        harness.wait_until(lambda: self.proxy.stats()["alpha"]["client_connections"] == 0, 5,
                           "client_connections back to 0")
        self.assertEqual(self.proxy.stats()["alpha"]["client_eof"], 1)


if __name__ == "__main__":
    unittest.main()
