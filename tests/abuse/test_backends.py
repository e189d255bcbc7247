# SPDX-License-Identifier: Apache-2.0
"""Bad backends: fake servers that send garbage, truncated, extra or missing replies, and real
ones that refuse the connection setup (AUTH, SELECT).  Each time the proxy lives, the clients of
that server get an error naming the problem, the clients of healthy servers get right answers in
bounded time, and a connection whose AUTH or SELECT failed never carries a request."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from fakes import FakeBackend  # noqa: E402
from rawresp import RawClient, enc  # noqa: E402


class Watch:
    """A client of the healthy server that keeps checking answers while a test runs."""

    def __init__(self, port, key):
        self.port, self.key = port, key
        self.errors, self.worst, self.rounds = [], 0.0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        c = RawClient(self.port, timeout=10)
        i = 0
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                c.send(enc(b"SET", self.key, b"%d" % i), enc(b"GET", self.key))
                reps = c.read_replies(2)
            except (OSError, EOFError) as e:
                self.errors.append(repr(e))
                return
            self.worst = max(self.worst, time.monotonic() - t)
            if reps != [b"+OK\r\n", b"$%d\r\n%d\r\n" % (len(b"%d" % i), i)]:
                self.errors.append("got %r" % reps)
                return
            self.rounds += 1
            i += 1

    def finish(self, test):
        # A few rounds at least, even when the test itself was quick (a loaded machine).
        deadline = time.monotonic() + 10
        while self.rounds < 3 and not self.errors and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stop.set()
        self.thread.join()
        test.assertEqual(self.errors, [])
        test.assertGreater(self.rounds, 1)
        test.assertLess(self.worst, 2.0, "a healthy server's client waited %.2fs" % self.worst)


class FakeBackendTest(harness.TestCase):
    def setup_pool(self, handler, timeout=2000):
        """A pool of one real redis and one fake; returns (proxy, fake, a key on the fake, a key
        on the real one), found through the proxy's own routing (shardoracle)."""
        good = self.start_redis()
        fake = FakeBackend(handler)
        self.addCleanup(fake.stop)
        p = self.start_proxy({"alpha": harness.pool([good, fake.address + ":1"], timeout=timeout)})
        # Varied keys: fnv1a_64 (nutcracker's) puts keys that differ only at the end together.
        keys = [b"%08x:key" % (i * 2654435761 % (1 << 32)) for i in range(64)]
        path = self.path("keys.hex")
        with open(path, "w") as f:
            f.write("".join(k.hex() + "\n" for k in keys))
        import subprocess
        out = subprocess.run([harness.shardoracle_binary(), "place", "-c", p.conf_path, "--pool",
                              "alpha", "--hex", path], stdout=subprocess.PIPE, text=True,
                             check=True).stdout
        where = {bytes.fromhex(l.split("\t")[0]): l.split("\t")[1] for l in out.splitlines()}
        self.assertIn(fake.address, where.values(), (fake.address, set(where.values())))
        on_fake = next(k for k in keys if where[k] == fake.address)
        on_good = next(k for k in keys if where[k] == good.address)
        return p, fake, on_fake, on_good

    def check(self, handler, expect_error, timeout=2000, rounds=5):
        p, fake, bad_key, good_key = self.setup_pool(handler, timeout)
        watch = Watch(p.port("alpha"), good_key)
        try:
            for _ in range(rounds):
                c = RawClient(p.port("alpha"), timeout=10)
                c.send(enc(b"GET", bad_key))
                rep = c.read_replies(1)[0]
                self.assertTrue(rep.startswith(b"-ERR " + expect_error),
                                "%r\n--- log ---\n%s" % (rep, p.log()))
                c.close()
        finally:
            watch.finish(self)
        p.check_running()
        return p, fake

    def test_garbage_reply(self):
        self.check(lambda conn, req: b"@@garbage\r\n", b"Protocol error from server")

    def test_truncated_reply_then_close(self):
        self.check(lambda conn, req: None if conn.sendall(b"$10\r\nabc") is None else None,
                   b"Connection closed by server")

    def test_extra_replies(self):
        # The first request gets its answer; the extra replies close the connection (the
        # proxy cannot tell whose they are), failing what was queued behind.
        p, fake, bad_key, good_key = self.setup_pool(
            lambda conn, req: b"$1\r\nx\r\n+EXTRA\r\n:1\r\n")
        watch = Watch(p.port("alpha"), good_key)
        try:
            for _ in range(5):
                c = RawClient(p.port("alpha"), timeout=10)
                c.send(enc(b"GET", bad_key))
                self.assertEqual(c.read_replies(1), [b"$1\r\nx\r\n"])
                c.close()
            harness.wait_until(lambda: "sent a reply nobody asked for" in p.log(), 5,
                               "the extra reply to be noticed")
        finally:
            watch.finish(self)

    def test_missing_reply_times_out(self):
        self.check(lambda conn, req: b"", b"Connection timed out", timeout=300, rounds=3)

    def test_endless_reply_line(self):
        """An error line that never ends: cut at the reply line limit, memory bounded."""
        p, fake = self.check(lambda conn, req: b"-" + b"x" * (3 << 20),
                             b"Protocol error from server", rounds=2)
        self.assertLess(harness.rss_kib(p.pid), 64 * 1024)


class SetupRefusedTest(harness.TestCase):
    """Clients dispatch on an error's code (its first word): a refused setup answers with the
    server's own code first, then the proxy's explanation."""

    def refused(self, r, step):
        """The end of the reply to a request on a connection whose setup `r` refused."""
        return (b" (shardproxy: server '%s' refused the connection setup (%s))\r\n"
                % (r.address.encode(), step))

    def test_select_beyond_databases(self):
        """redis_db the server does not have: SELECT fails, and no request may run on db 0."""
        r = self.start_redis(extra_args=["--databases", "4"])
        p = self.start_proxy({"alpha": harness.pool([r], redis_db=10)})
        c = RawClient(p.port("alpha"))
        for i in range(3):
            c.send(enc(b"SET", b"tenant-key", b"v"))
            rep = c.read_replies(1)[0]
            self.assertEqual(rep, b"-ERR DB index is out of range" + self.refused(r, b"SELECT"))
        self.assertEqual(r.client().dbsize(), 0)
        self.assertEqual(r.client(db=3).dbsize(), 0)
        self.assertIn("refused the connection setup (SELECT): ERR DB index is out of range",
                      p.log())

    def test_wrong_auth(self):
        r = self.start_redis(extra_args=["--requirepass", "right"])
        p = self.start_proxy({"alpha": harness.pool([r], redis_auth="wrong")})
        c = RawClient(p.port("alpha"))
        c.send(enc(b"AUTH", b"wrong"), enc(b"SET", b"k", b"v"))
        reps = c.read_replies(2)
        self.assertEqual(reps[0], b"+OK\r\n")
        # Redis 7's text; its code is what matters to clients.
        self.assertEqual(reps[1], b"-WRONGPASS invalid username-password pair or user is "
                         b"disabled." + self.refused(r, b"AUTH"))
        self.assertEqual(r.client(password="right").dbsize(), 0)

    def test_requirepass_without_redis_auth(self):
        """No redis_auth: the proxy sends no setup and the server answers the request itself."""
        r = self.start_redis(extra_args=["--requirepass", "pw"])
        p = self.start_proxy({"alpha": harness.pool([r])})
        c = RawClient(p.port("alpha"))
        self.assertTrue(c.call(b"GET", b"k").startswith(b"-NOAUTH "))
        self.assertTrue(c.call(b"SET", b"k", b"v").startswith(b"-NOAUTH "))
        self.assertEqual(r.client(password="pw").dbsize(), 0)

    def test_requirepass_without_redis_auth_refuses_select(self):
        """No redis_auth but a redis_db: the server refuses the SELECT with NOAUTH."""
        r = self.start_redis(extra_args=["--requirepass", "pw"])
        p = self.start_proxy({"alpha": harness.pool([r], redis_db=2)})
        c = RawClient(p.port("alpha"))
        rep = c.call(b"GET", b"k")
        self.assertTrue(rep.startswith(b"-NOAUTH "), rep)
        self.assertTrue(rep.endswith(self.refused(r, b"SELECT")), rep)

    def test_good_setup_still_pipelines(self):
        """With AUTH and SELECT accepted, the requests held meanwhile all go, in order."""
        r = self.start_redis(extra_args=["--requirepass", "pw"])
        p = self.start_proxy({"alpha": harness.pool([r], redis_auth="pw", redis_db=2)})
        c = RawClient(p.port("alpha"))
        c.send(enc(b"AUTH", b"pw"), *[enc(b"SET", b"k%d" % i, b"%d" % i) for i in range(200)],
               enc(b"GET", b"k199"))
        reps = c.read_replies(202)
        self.assertEqual(reps[0], b"+OK\r\n")
        self.assertEqual(set(reps[1:201]), {b"+OK\r\n"})
        self.assertEqual(reps[201], b"$3\r\n199\r\n")
        self.assertEqual(r.client(password="pw", db=2).dbsize(), 200)
        self.assertEqual(r.client(password="pw").dbsize(), 0)


if __name__ == "__main__":
    harness.main()
