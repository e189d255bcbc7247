# SPDX-License-Identifier: Apache-2.0
"""The typed model load itself (typedload.TypedModelLoad), against a plain proxy: the
resharding test trusts it to see every nil read, wrong value, lost write, lost TTL and changed
type, so it is checked here on both sides:

* clean: two proxies over the same two redis-servers, the load split over both ports; nothing to
  report, every type read and written, and the TTLs read back as preloaded (to the second);
* it can fail: values, a TTL and a type changed (or a key deleted) directly on a server, behind
  the load's back, are each reported - by the clients as they read, and by read_back(),
  ttl_problems() and type_problems() at the end."""

import os
import re

import harness
import typedload

os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", harness.build_plugin_path())


class TypedLoad(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.servers = {"a": self.start_redis(), "b": self.start_redis()}
        self.pools = {"alpha": harness.pool(["%s:1 %s" % (s.address, n)
                                             for n, s in self.servers.items()],
                                            redis=True, hash="fnv1a_64", distribution="ketama")}
        self.clients = {n: s.client() for n, s in self.servers.items()}

    def test_clean_through_two_proxies(self):
        p1, p2 = self.start_proxies(self.pools)
        keys = typedload.typed_keys(3000)
        load = typedload.TypedModelLoad(self, [p1.port("alpha"), p2.port("alpha")], keys,
                                        rate=150, duration=30)
        where = typedload.locate(self.clients, keys)
        self.assertEqual(sorted(where), sorted(keys), "every key preloaded")
        self.assertEqual([k for k, at in where.items() if len(at) != 1], [])
        self.assertGreater(min(sum(at == ["a"] for at in where.values()),
                               sum(at == ["b"] for at in where.values())), len(keys) // 4,
                           "keys spread over both servers")
        load.start()
        harness.wait_until(lambda: load.counts["writes"] >= 1500, 30, "1500 writes")
        load.stop()
        self.assertEqual(load.problems(), [], load.summary())
        self.assertEqual(load.read_back(p2.port("alpha")), [])
        self.assertEqual(load.ttl_problems() + load.type_problems(), [])
        self.assertEqual(load.read_back(p1.port("alpha")), [])
        with_ttl = [k for k in keys if load.model[k].expire_ms is not None]
        self.assertGreater(len(with_ttl), len(keys) // 8)
        self.assertGreater(len(load.dead_keys()), 0, "some keys deleted: %s" % load.summary())
        self.assertGreater(sum(all(s[1] for s in load.model[k].states) for k in with_ttl),
                           len(with_ttl) // 2, "TTLs checked on most keys that have one")
        self.assert_stops_cleanly(p1)
        self.assert_stops_cleanly(p2)

    def tamper(self, key, *command):
        """Runs `command` directly on the server that held `key` after the preload."""
        [label] = self.where[key]
        self.clients[label].execute_command(*command)

    def test_changes_behind_its_back_are_reported(self):
        p = self.start_proxy(self.pools)
        keys = typedload.typed_keys(600)
        load = typedload.TypedModelLoad(self, p.port("alpha"), keys, rate=200, duration=20,
                                        read_share=1.0, ttl_share=1.0)
        self.where = typedload.locate(self.clients, keys)
        strings = [k for k in keys if typedload.key_type(k) == "str"]
        changed, deleted = strings[:20], strings[20:40]
        for k in changed:
            self.tamper(k, "SET", k, b"tampered", "KEEPTTL")
        for k in deleted:
            self.tamper(k, "DEL", k)
        [hashed, other] = [k for k in keys if typedload.key_type(k) == "hash"][:2]
        self.tamper(hashed, "HSET", hashed, "f0", "tampered")
        [persisted, retyped] = [k for k in keys if typedload.key_type(k) == "list"][:2]
        self.tamper(persisted, "PERSIST", persisted)
        self.tamper(retyped, "DEL", retyped)
        self.tamper(retyped, "SET", retyped, "was a list", "PXAT", load.expire_ms)
        self.tamper(other, "PEXPIRE", other, 7200 * 1000)

        load.start()  # reads only: each key read about twice a second
        harness.wait_until(lambda: load.counts["reads"] >= 3000, 30, "3000 reads")
        load.stop()
        self.assertGreater(load.counts["wrong"], 0, load.summary())
        self.assertGreater(load.counts["nil"], 0, load.summary())
        self.assertGreater(load.counts["error"], 0, "WRONGTYPE on the retyped key: %s"
                           % load.summary())
        self.assertEqual(load.counts["lost"] + load.counts["dropped"], 0, load.problems())
        said = "\n".join(load.problems())
        self.assertIn("WRONGTYPE", said)

        back = load.read_back()
        self.assertEqual(len(back), 2, back)  # keys missing; keys with another value
        self.assertRegex(back[0], r"^%d keys missing" % len(deleted))
        self.assertRegex(back[1], r"^%d keys with another value" % (len(changed) + 2))
        self.assertIn(repr(hashed), back[1])
        ttl = load.ttl_problems()
        self.assertEqual(len(ttl), 2, ttl)
        self.assertRegex(ttl[0], r"^1 keys lost their TTL, e.g. %s$" % re.escape(repr(persisted)))
        self.assertRegex(ttl[1], r"^1 keys' TTL changed, e.g. %s expires \+36\d\d\d\d\d ms off$"
                         % re.escape(repr(other)))
        types = load.type_problems()
        self.assertEqual(len(types), 1, types)
        self.assertRegex(types[0], r"^%d keys of another type" % (len(deleted) + 1))
        self.assertIn("%r is b'string'" % retyped, types[0])


if __name__ == "__main__":
    harness.main()
