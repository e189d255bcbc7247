# SPDX-License-Identifier: Apache-2.0
"""Slow readers: clients that send requests with big replies and never read them.  A shared server
connection stalls while one of them has too much unread (that bounds memory), but the damage is
bounded per server connection: however many slow readers take turns, the other clients on it wait
at most about the stall limit (the pool's timeout) in all."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402
from rawresp import RawClient, enc  # noqa: E402

LIMIT_MS = 3000
VALUE = b"v" * (1 << 20)


def slow_reader(port, n):
    s = socket.create_connection((harness.HOST, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(enc(b"GET", b"big") * n)
    return s


class SlowReaderTest(harness.TestCase):
    def test_many_slow_readers_bounded_per_connection(self):
        r = self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([r], timeout=LIMIT_MS)})
        r.client().set("big", VALUE)
        r.client().set("small", "s")
        other = RawClient(p.port("alpha"), timeout=30)
        readers = []
        worst = 0.0
        stop_at = time.monotonic() + 3 * LIMIT_MS / 1000.0 + 2
        for i in range(3):
            readers.append(slow_reader(p.port("alpha"), 24))  # 24 MiB: over the 16 that stall
        # The other client keeps asking; each answer must come within about the limit.
        while time.monotonic() < stop_at:
            t = time.monotonic()
            other.send(enc(b"GET", b"small"))
            self.assertEqual(other.read_replies(1), [b"$1\r\ns\r\n"])
            worst = max(worst, time.monotonic() - t)
            time.sleep(0.05)
        for s in readers:
            s.close()
        self.assertLess(worst, 2.0 * LIMIT_MS / 1000.0,
                        "another client waited %.2fs behind 3 slow readers" % worst)
        self.assertGreaterEqual(p.stats()["alpha"]["client_err"], 1)
        self.assertIn("slow readers held its oldest request up", p.log())


if __name__ == "__main__":
    harness.main()
