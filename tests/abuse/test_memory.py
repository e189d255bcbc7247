# SPDX-License-Identifier: Apache-2.0
"""Memory is given back: after bursts (huge multi-key commands, big values, deep pipelines, a
flood of local replies) the proxy returns close to its starting RSS once the clients are gone,
and also while idle clients stay connected."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402
from rawresp import RawClient, enc  # noqa: E402

SLACK_KIB = 12 * 1024  # over the starting RSS, once idle


class MemoryTest(harness.TestCase):
    def burst(self, port):
        c = RawClient(port, timeout=120)
        keys = [b"key:%d" % i for i in range(300000)]
        c.send(enc(b"MSET", *[x for k in keys[:20000] for x in (k, b"v" * 20)]))
        self.assertEqual(c.read_replies(1), [b"+OK\r\n"])
        c.send(enc(b"MGET", *keys))
        rep = c.read_replies(1)[0]
        self.assertTrue(rep.startswith(b"*300000\r\n"))
        big = b"x" * (48 << 20)
        c.send(enc(b"SET", b"big", big), enc(b"GET", b"big"))
        reps = c.read_replies(2)
        self.assertEqual(len(reps[1]), len(big) + 13)
        c.send(*([enc(b"GET", b"key:1")] * 200000))
        c.read_replies(200000)
        c.send(*([enc(b"PING")] * 200000))
        c.read_replies(200000)
        c.send(enc(b"DEL", b"big"))
        c.read_replies(1)
        c.close()

    def settle(self, pid, limit, seconds=8):
        deadline = time.monotonic() + seconds
        while True:
            rss = harness.rss_kib(pid)
            if rss <= limit or time.monotonic() > deadline:
                return rss
            time.sleep(0.25)

    def test_rss_returns_near_start(self):
        r1, r2 = self.start_redis(), self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([r1, r2])})
        idle = [socket.create_connection((harness.HOST, p.port("alpha"))) for _ in range(50)]
        start = harness.rss_kib(p.pid)
        for _ in range(2):
            self.burst(p.port("alpha"))
        peak = harness.rss_kib(p.pid)
        rss = self.settle(p.pid, start + SLACK_KIB)
        print("RSS start %d KiB, after bursts %d KiB, settled %d KiB" % (start, peak, rss))
        harness.assert_memory(self, rss, start + SLACK_KIB, "RSS once idle after bursts")
        for s in idle:  # the idle clients were never disturbed
            s.sendall(enc(b"PING"))
            self.assertEqual(s.recv(100), b"+PONG\r\n")
            s.close()


if __name__ == "__main__":
    harness.main()
