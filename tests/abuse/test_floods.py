# SPDX-License-Identifier: Apache-2.0
"""Floods of requests the proxy answers itself (PING, ECHO, errors, NOAUTH) obey back-pressure:
a client that pipelines them and never reads is paused at the high watermark like any other,
so the proxy's memory stays bounded and other clients are served meanwhile."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402
from rawresp import RawClient, enc  # noqa: E402

# What a flooding client may cost: about two watermarks (4 MiB each) plus socket buffers; far
# below the hundreds of MB that an unbounded local-reply queue took.
MAX_GROWTH_KIB = 48 * 1024


class FloodTest(harness.TestCase):
    def flood(self, proxy, port, request, count, seconds=6.0, pong=b"+PONG\r\n"):
        """Sends `count` copies of `request` without reading a byte; returns the RSS growth
        (KiB) and checks that another client is served meanwhile."""
        base = harness.rss_kib(proxy.pid)
        s = socket.create_connection((harness.HOST, port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        payload = request * 10000
        sent, deadline = 0, time.monotonic() + seconds
        while sent < count and time.monotonic() < deadline:
            try:
                sent += s.send(payload) // len(request)
            except BlockingIOError:
                time.sleep(0.01)  # the proxy stopped reading: the point of the test
        other = RawClient(port, timeout=5)
        other.send(enc(b"PING"))
        self.assertEqual(other.read_replies(1), [pong])
        other.close()
        peak = harness.rss_kib(proxy.pid)
        s.close()
        print("%d requests sent, RSS grew %d KiB" % (sent, peak - base))
        return peak - base, sent

    def test_ping_flood_never_read(self):
        r = self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([r])})
        growth, sent = self.flood(p, p.port("alpha"), enc(b"PING"), 1000000)
        harness.assert_memory(self, growth, MAX_GROWTH_KIB, "RSS growth after %d PINGs" % sent)

    def test_echo_flood_never_read(self):
        r = self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([r])})
        growth, sent = self.flood(p, p.port("alpha"), enc(b"ECHO", b"x" * 200), 300000)
        harness.assert_memory(self, growth, MAX_GROWTH_KIB, "RSS growth after %d ECHOs" % sent)

    def test_noauth_flood_never_read(self):
        r = self.start_redis(extra_args=["--requirepass", "pw"])
        p = self.start_proxy({"alpha": harness.pool([r], redis_auth="pw")})
        growth, sent = self.flood(p, p.port("alpha"), enc(b"GET", b"k"), 1000000,
                                  pong=b"-NOAUTH Authentication required\r\n")
        harness.assert_memory(self, growth, MAX_GROWTH_KIB, "RSS growth after %d NOAUTHs" % sent)

    def test_local_replies_behind_an_unanswered_request(self):
        """Local replies queued behind a request whose server is stopped count too."""
        r = self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([r])})
        c = RawClient(p.port("alpha"))
        base = harness.rss_kib(p.pid)
        os.kill(r.pid, signal.SIGSTOP)
        try:
            c.send(enc(b"GET", b"k"))  # waits on the stopped server: the PONGs queue behind it
            c.sock.setblocking(False)
            payload, sent, deadline = enc(b"PING") * 10000, 0, time.monotonic() + 4
            while sent < 1000000 and time.monotonic() < deadline:
                try:
                    sent += c.sock.send(payload) // 14
                except BlockingIOError:
                    time.sleep(0.01)
            growth = harness.rss_kib(p.pid) - base
        finally:
            os.kill(r.pid, signal.SIGCONT)
        harness.assert_memory(self, growth, MAX_GROWTH_KIB, "RSS growth after %d PINGs" % sent)
        c.close()


if __name__ == "__main__":
    harness.main()
