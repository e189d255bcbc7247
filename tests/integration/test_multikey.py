# SPDX-License-Identifier: Apache-2.0
"""Multi-key commands: split per server, merged in key order; one-server requests go as is."""

import hashlib
import os
import time
import unittest

import harness
from rawresp import RawClient, bulk, enc


class MultiKeyTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_redis() for _ in range(3)]
        self.proxy = self.start_proxy({"alpha": harness.pool(self.backends, hash_tag="{}")})
        self.c = RawClient(self.proxy.port("alpha"), timeout=60)

    def where(self, key):
        return [i for i, b in enumerate(self.backends) if b.client().exists(key)]

    def stats(self):
        time.sleep(0.25)  # the stats snapshot is refreshed every -i 100 ms
        return self.proxy.stats()["alpha"]

    def test_mget_across_servers_with_large_values(self):
        # Digest-like names spread well (fnv1a over "mk-1", "mk-2", ... clusters).
        keys = [hashlib.md5(b"%d" % i).hexdigest().encode() for i in range(60)]
        values = {k: os.urandom(100 * 1024) + k for k in keys[::2]}  # odd keys stay missing
        for k, v in values.items():
            self.assertEqual(self.c.call(b"SET", k, v), b"+OK\r\n")
        spread = {self.where(k)[0] for k in values}
        self.assertEqual(spread, {0, 1, 2}, "keys should cover every backend")
        query = keys + [keys[0], b"nope"]  # a repeated key and a missing one
        got = self.c.call(b"MGET", *query)
        want = b"*%d\r\n" % len(query) + b"".join(bulk(values.get(k)) for k in query)
        self.assertTrue(got == want, "MGET reply differs (len %d vs %d)" % (len(got), len(want)))
        self.assertGreaterEqual(self.stats()["fragments"], 3)

    def test_inline_split(self):
        keys = [hashlib.md5(b"in%d" % i).hexdigest().encode() for i in range(20)]
        self.c.send(b"MSET " + b" ".join(k + b" v" + k[:3] for k in keys) + b"\r\n")
        self.assertEqual(self.c.read_reply(), b"+OK\r\n")
        self.assertEqual(len({self.where(k)[0] for k in keys}), 3)
        self.c.send(b"MGET " + b" ".join(keys) + b" missing\r\n")
        self.assertEqual(self.c.read_reply(), b"*21\r\n" + b"".join(bulk(b"v" + k[:3])
                                                                   for k in keys) + bulk(None))
        self.c.send(b"DEL " + b" ".join(keys) + b"\r\n")
        self.assertEqual(self.c.read_reply(), b":20\r\n")

    def test_sum_commands(self):
        keys = [b"sum-%d" % i for i in range(12)]
        self.c.send(*[enc(b"SET", k, b"1") for k in keys])
        self.c.read_replies(len(keys))
        self.assertEqual(self.c.call(b"EXISTS", *(keys + [keys[0], b"none"])), b":13\r\n")
        self.assertEqual(self.c.call(b"TOUCH", *keys[:6]), b":6\r\n")
        self.assertEqual(self.c.call(b"DEL", *(keys[:4] + [b"none"])), b":4\r\n")
        self.assertEqual(self.c.call(b"UNLINK", *keys), b":8\r\n")
        self.assertEqual(sum(b.client().dbsize() for b in self.backends), 0)

    def test_mset_lands_on_each_owner(self):
        pairs = [(b"ms-%d" % i, os.urandom(64 * 1024)) for i in range(20)]
        args = [x for kv in pairs for x in kv]
        self.assertEqual(self.c.call(b"MSET", *args), b"+OK\r\n")
        for k, v in pairs:
            owners = self.where(k)
            self.assertEqual(len(owners), 1, k)
            self.assertEqual(self.backends[owners[0]].client().get(k), v)
            # ... and it is where a single-key SET would have put it
            self.assertEqual(self.c.call(b"SET", k, b"x"), b"+OK\r\n")
            self.assertEqual(self.where(k), owners)
        self.assertEqual(self.c.call(b"MSET", b"a", b"1", b"b"),
                         b"-ERR wrong number of arguments for 'mset' command\r\n")

    def test_one_server_is_forwarded_as_is(self):
        keys = [b"{tag}-%d" % i for i in range(10)]
        base = self.stats()["fragments"]
        self.assertEqual(self.c.call(b"MSET", *[x for k in keys for x in (k, k)]), b"+OK\r\n")
        self.assertEqual(self.c.call(b"MGET", *keys),
                         b"*10\r\n" + b"".join(bulk(k) for k in keys))
        self.assertEqual(self.c.call(b"DEL", *keys), b":10\r\n")
        self.assertEqual(self.stats()["fragments"], base, "a one-server request was split")

    def test_eval_routed_by_first_key(self):
        for i in range(10):
            k = b"ev-%d" % i
            self.assertEqual(self.c.call(b"SET", k, b"val%d" % i), b"+OK\r\n")
            self.assertEqual(self.c.call(b"EVAL", b"return redis.call('get', KEYS[1])", 1, k),
                             bulk(b"val%d" % i))
            self.assertEqual(self.c.call(b"EVALSHA", b"0" * 40, 1, k)[:9], b"-NOSCRIPT")

    def test_part_failure_names_the_error(self):
        keys = [b"pf-%d" % i for i in range(30)]
        self.c.send(*[enc(b"SET", k, k) for k in keys])
        self.c.read_replies(len(keys))
        victim = self.where(keys[0])[0]
        self.backends[victim].stop()
        self.assertEqual(self.c.call(b"MGET", *keys), b"-ERR Connection refused\r\n")
        self.assertEqual(self.c.call(b"MSET", *[x for k in keys for x in (k, k)]),
                         b"-ERR Connection refused\r\n")
        self.assertEqual(self.c.call(b"DEL", *keys), b"-ERR Connection refused\r\n")
        self.assertEqual(self.c.call(b"PING"), b"+PONG\r\n")  # still connected
        # The refused (re)connections count as errors of that server, as in nutcracker.
        self.assertGreaterEqual(self.stats()[self.backends[victim].address]["server_err"], 3)


if __name__ == "__main__":
    unittest.main()
