# SPDX-License-Identifier: Apache-2.0
"""Huge multi-key commands: a 1M-key MGET trickled in, and several 250k-key MGETs at once.  Keys
are located in one pass over the request (they were looked up from the start of the buffer each,
which made a 1M-key MGET stall the whole proxy for seconds): the proxy answers them right, its
CPU time grows linearly with the keys, and another client is answered meanwhile.  How fast is
bench/huge_mget.py's business (times depend on the machine and its load)."""

import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402
from rawresp import RawClient, enc  # noqa: E402

# 10 times the keys may cost at most this many times the proxy CPU: linear gives 10-12 (a fixed
# cost per request adds a little to the small one); the old lookup from the start of the buffer
# took 0.75 s for 1M keys where one pass takes 0.15 s, a quadratic part that grows 100-fold: about
# 35.  Wide, so that a loaded machine cannot fail it.
LINEAR_RATIO_MAX = 30


class Latency:
    """Another client's GETs, timed, while a test runs."""

    def __init__(self, port):
        self.c = RawClient(port, timeout=60)
        self.worst, self.n, self.errors = 0.0, 0, []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            self.c.send(enc(b"GET", b"probe"))
            rep = self.c.read_replies(1)
            if rep != [b"$1\r\np\r\n"]:
                self.errors.append(rep)
            self.worst = max(self.worst, time.monotonic() - t)
            self.n += 1
            time.sleep(0.01)

    def finish(self):
        self.stop.set()
        self.t.join()
        return self.worst


class HugeMultiKeyTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.servers = [self.start_redis(), self.start_redis()]
        self.p = self.start_proxy({"alpha": harness.pool(self.servers, timeout=60000)})
        for s in self.servers:
            s.client().set("probe", "p")

    def mget_cpu(self, n, prefix, halfway=None):
        """Trickles an n-key MGET of missing keys in, checks its reply, returns the proxy CPU it
        took."""
        req = enc(b"MGET", *[b"%s:%d" % (prefix, i) for i in range(n)])
        c = RawClient(self.p.port("alpha"), timeout=120)
        cpu0 = harness.cpu_seconds(self.p.pid)
        c.trickle(req, halfway=halfway)
        rep = c.read_replies(1)[0]
        cpu = harness.cpu_seconds(self.p.pid) - cpu0
        c.close()
        self.assertTrue(rep.startswith(b"*%d\r\n" % n))
        self.assertEqual(len(rep), len(b"*%d\r\n" % n) + 5 * n)  # every key missing: $-1
        return cpu

    def test_million_keys_trickled(self):
        watch = Latency(self.p.port("alpha"))
        probe = RawClient(self.p.port("alpha"), timeout=60)
        small = statistics.median(self.mget_cpu(100000, b"s%d" % i) for i in range(3))
        # Another client is answered while half of the huge request is still to come.
        big = self.mget_cpu(1000000, b"k", halfway=lambda: self.assertEqual(
            probe.call(b"GET", b"probe"), b"$1\r\np\r\n"))
        worst = watch.finish()
        print("proxy CPU: 100k-key MGET %.3fs, 1M-key MGET %.3fs (x%.1f); another client "
              "waited at most %.3fs" % (small, big, big / small, worst))
        self.assertEqual(watch.errors, [])
        self.assertLess(big, LINEAR_RATIO_MAX * small,
                        "10x the keys took %.1fx the proxy CPU (%.3fs, %.3fs): not linear"
                        % (big / small, small, big))

    def test_concurrent_quarter_million(self):
        n, k = 250000, 8
        keys = [b"q:%d" % i for i in range(n)]
        self.servers[0].client().set(keys[0], "x")
        self.servers[1].client().set(keys[0], "x")
        req = enc(b"MGET", *keys)
        replies = [None] * k

        def one(i):
            c = RawClient(self.p.port("alpha"), timeout=120)
            c.send(req)
            replies[i] = c.read_replies(1)[0]
        watch = Latency(self.p.port("alpha"))
        threads = [threading.Thread(target=one, args=(i,)) for i in range(k)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        took = time.monotonic() - t0
        worst = watch.finish()
        print("%d x %d-key MGETs: %.2fs, another client waited at most %.3fs" % (k, n, took, worst))
        for r in replies:
            self.assertIsNotNone(r)  # not answered within the joins' 120 s: a hang
            self.assertTrue(r.startswith(b"*%d\r\n$1\r\nx\r\n$-1\r\n" % n))
        self.assertEqual(watch.errors, [])


if __name__ == "__main__":
    harness.main()
