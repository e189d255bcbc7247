# SPDX-License-Identifier: Apache-2.0
"""AUTH, redis_auth and redis_db: replies compared byte for byte with the real nutcracker."""

import time
import unittest

import harness
from rawresp import RawClient, bulk, enc

PASSWORD = b"s3cret pass"


class AuthTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.open = self.start_redis()
        self.locked = self.start_redis(extra_args=["--requirepass", PASSWORD.decode()])
        self.pools = {
            "plain": harness.pool([self.open]),
            "auth": harness.pool([self.locked], redis_auth=PASSWORD.decode()),
            "db": harness.pool([self.open], redis_db=3),
        }

    def replies(self, port, requests):
        c = RawClient(port)
        c.send(*requests)
        return c.read_replies(len(requests))

    def test_same_replies_as_nutcracker(self):
        sp = self.start_proxy(self.pools)
        nc_pools = {name: dict(conf, listen="%s:%d" % (harness.HOST, harness.free_port()))
                    for name, conf in self.pools.items()}
        nc = self.start_nutcracker(nc_pools)
        scripts = {
            "plain": [enc(b"AUTH", b"x"), enc(b"SET", b"k", b"v"), enc(b"GET", b"k")],
            "auth": [enc(b"GET", b"k"), enc(b"PING"), enc(b"AUTH", b"wrong"),
                     enc(b"GET", b"k"), enc(b"AUTH", PASSWORD), enc(b"SET", b"k", b"v"),
                     enc(b"GET", b"k"), enc(b"AUTH", b"wrong"), enc(b"GET", b"k")],
        }
        for pool, reqs in scripts.items():
            got = self.replies(sp.port(pool), reqs)
            want = self.replies(nc.port(pool), reqs)
            self.assertEqual(got, want, pool)
        # The texts themselves (so a change on both sides is noticed too).
        self.assertEqual(self.replies(sp.port("plain"), [enc(b"AUTH", b"x")]),
                         [b"-ERR Client sent AUTH, but no password is set\r\n"])
        self.assertEqual(self.replies(sp.port("auth"), [enc(b"GET", b"k"), enc(b"AUTH", b"no")]),
                         [b"-NOAUTH Authentication required\r\n", b"-ERR invalid password\r\n"])

    def test_proxy_authenticates_server_connections(self):
        sp = self.start_proxy(self.pools)
        c = RawClient(sp.port("auth"))
        self.assertEqual(c.call(b"AUTH", PASSWORD), b"+OK\r\n")
        c.send(*[enc(b"SET", b"a%d" % i, b"%d" % i) for i in range(100)])
        self.assertEqual(c.read_replies(100), [b"+OK\r\n"] * 100)
        self.assertEqual(self.locked.client(password=PASSWORD.decode()).get("a7"), b"7")
        # The swallowed AUTH reply is not counted as a response to a client request.
        time.sleep(0.25)
        self.assertEqual(sp.stats()["auth"][self.locked.address]["responses"], 100)
        # QUIT works before AUTH.
        q = RawClient(sp.port("auth"))
        self.assertEqual(q.call(b"QUIT"), b"+OK\r\n")

    def test_long_password(self):
        password = "p" * 299 + "!"
        locked = self.start_redis(extra_args=["--requirepass", password])
        sp = self.start_proxy({"long": harness.pool([locked], redis_auth=password)})
        c = RawClient(sp.port("long"))
        self.assertEqual(c.call(b"AUTH", password[:-1] + "?"), b"-ERR invalid password\r\n")
        self.assertEqual(c.call(b"AUTH", password), b"+OK\r\n")
        self.assertEqual(c.call(b"SET", b"k", b"v"), b"+OK\r\n")
        self.assertEqual(c.call(b"AUTH", b"default", password), b"+OK\r\n")

    def test_redis_db(self):
        sp = self.start_proxy(self.pools)
        c = RawClient(sp.port("db"))
        self.assertEqual(c.call(b"SET", b"dbkey", b"in3"), b"+OK\r\n")
        self.assertEqual(self.open.client(db=3).get("dbkey"), b"in3")
        self.assertIsNone(self.open.client(db=0).get("dbkey"))
        self.assertEqual(c.call(b"SELECT", b"3"), b"+OK\r\n")
        self.assertEqual(c.call(b"SELECT", b"0"),
                         b"-ERR SELECT 0 is not supported by the proxy: pool 'db' serves db 3 "
                         b"(redis_db)\r\n")
        self.assertEqual(c.call(b"SELECT", b"x"),
                         b"-ERR value is not an integer or out of range\r\n")
        self.assertEqual(c.call(b"GET", b"dbkey"), bulk(b"in3"))
        p = RawClient(sp.port("plain"))
        self.assertEqual(p.call(b"SELECT", b"0"), b"+OK\r\n")
        self.assertEqual(p.call(b"GET", b"dbkey"), bulk(None))


if __name__ == "__main__":
    unittest.main()
