# SPDX-License-Identifier: Apache-2.0
"""Inline commands: the proxy reads them exactly as Redis does and forwards RESP it built itself.

Before, inline lines went to Redis as raw text, which Redis parses differently (quotes, \\xNN
escapes, a NUL hides the line end): one client could wedge the shared server connection, break
other clients' pipelines, or store a key on a server that does not own it.
"""

import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from rawresp import RawClient, enc  # noqa: E402

HOST = harness.HOST


def one_reply(port, line, timeout=5):
    """Sends one raw line on a fresh connection; returns the first reply (or b"" on close)."""
    c = RawClient(port, timeout=timeout)
    try:
        c.send(line)
        try:
            return c.read_replies(1)[0]
        except EOFError:
            return b""
    finally:
        c.close()


def random_line(rng):
    alphabet = [b"a", b"b", b"x", b"7", b"f", b"'", b'"', b"\\", b" ", b"\t", b"\x0b", b"\x0c",
                b"\r", b"\\x", b"\\x4", b"\\x41", b'\\"', b"\\'", b"\\n", b"\xc3\xa9", b"\xff"]
    return b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))


class InlineTest(harness.TestCase):
    def test_inline_reads_as_redis_reads(self):
        """The same inline lines sent to Redis directly and through the proxy: same replies,
        same stored values (random lines of quotes, escapes and blanks; seed printed)."""
        direct, behind = self.start_redis(), self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([behind])})
        seed = int(os.environ.get("SP_TEST_SEED", random.randrange(1 << 30)))
        print("inline seed %d (rerun with SP_TEST_SEED=%d)" % (seed, seed))
        rng = random.Random(seed)
        for i in range(400):
            line = b"RPUSH L" + (b" " if rng.random() < 0.8 else b"") + random_line(rng)
            want = one_reply(direct.port, line + b"\r\n")
            got = one_reply(p.port("alpha"), line + b"\r\n")
            ctx = "line %d %r: direct %r, proxy %r" % (i, line, want, got)
            if want.startswith(b"-ERR Protocol error: unbalanced quotes"):
                self.assertTrue(got.startswith(b"-ERR Protocol error: unbalanced quotes"), ctx)
            else:
                self.assertEqual(got, want, ctx)
        self.assertEqual(behind.client().lrange("L", 0, -1), direct.client().lrange("L", 0, -1))

    def test_escaped_key_is_stored_where_it_is_routed(self):
        r1, r2 = self.start_redis(), self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([r1, r2])})
        keys = [b"v%d" % i for i in range(40)]
        c = RawClient(p.port("alpha"))
        for k in keys:
            escaped = b"".join(b"\\x%02x" % b for b in k)
            c.send(b'SET "' + escaped + b'" x\r\n')
            self.assertEqual(c.read_replies(1), [b"+OK\r\n"])
        # Each key sits on the server the proxy routes the plain key to (a GET finds it), and
        # on no other.
        for k in keys:
            c.send(enc(b"GET", k))
            self.assertEqual(c.read_replies(1), [b"$1\r\nx\r\n"], k)
        on1 = set(r1.client().keys("*"))
        on2 = set(r2.client().keys("*"))
        self.assertEqual(on1 | on2, set(keys))
        self.assertFalse(on1 & on2)

    def _watch_other_client(self, port, stop, errors, latencies):
        c = RawClient(port, timeout=10)
        i = 0
        while not stop.is_set():
            k = b"other:%d" % (i % 50)
            t = time.monotonic()
            try:
                c.send(enc(b"SET", k, b"%d" % i), enc(b"GET", k))
                reps = c.read_replies(2)
            except (OSError, EOFError) as e:
                errors.append("other client: %r" % e)
                return
            latencies.append(time.monotonic() - t)
            if reps != [b"+OK\r\n", b"$%d\r\n%d\r\n" % (len(b"%d" % i), i)]:
                errors.append("other client got %r" % reps)
                return
            i += 1
        c.close()

    def test_hostile_lines_do_not_touch_other_clients(self):
        """NUL bytes (Redis would wait for ever for the line's end: the shared connection
        wedged), unbalanced quotes (Redis closes the shared connection), overlong lines: the
        offender gets an error and is closed; a client pipelining on the same server
        connection meanwhile gets every right answer in time, and nothing is ejected."""
        r1, r2 = self.start_redis(), self.start_redis()
        p = self.start_proxy({"alpha": harness.pool([r1, r2], timeout=2000,
                                                    auto_eject_hosts=True,
                                                    server_failure_limit=1)})
        stop, errors, latencies = threading.Event(), [], []
        t = threading.Thread(target=self._watch_other_client,
                             args=(p.port("alpha"), stop, errors, latencies))
        t.start()
        try:
            hostile = [b"GET fo\x00o\r\n", b"\x00GET foo\r\n", b'GET "foo\r\n',
                       b"SET a\"b c\"d 1\r\n", b"MGET a b 'c\r\n", b"GET " + b"k" * 70000 + b"\r\n"]
            for line in hostile * 5:
                c = RawClient(p.port("alpha"), timeout=5)
                c.send(line + b"PING\r\n")
                reply = c.read_replies(1)[0]
                self.assertTrue(reply.startswith(b"-ERR Protocol error"), (line[:40], reply))
                with self.assertRaises(EOFError):  # closed after the error, as Redis does
                    c.read_replies(1)
                c.close()
            time.sleep(0.5)
        finally:
            stop.set()
            t.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(latencies), 20)
        self.assertLess(max(latencies), 1.5, "another client waited %.2fs" % max(latencies))
        self.assertEqual(p.stats()["alpha"]["server_ejects"], 0)


if __name__ == "__main__":
    harness.main()
