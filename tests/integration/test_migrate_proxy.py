# SPDX-License-Identifier: Apache-2.0
"""The proxy's half of online resharding (issue #14, docs/resharding.md), one proxy at a time.

Real redis-servers on 127.0.0.1; a pool whose keys move from `migrate_from` (2 servers) to
`servers` (3 servers, the same two plus one):

* Every connection to a Redis server is named: `shardproxy:<pool>:<id>:steady` in a pool that
  does not migrate; a migrating proxy alone arms itself (`...:armed` on every server of both
  layouts).
* Armed: a key whose owner changes is moved on first use, whatever the command (read, write,
  multi-key), with its type, value and TTL; a new key is written where it belongs now; keys that
  do not move stay; a key on both servers is served from the new one (the old copy is set aside
  under `__shardproxy:aside:<key>`, lib/move.h).
* With a connection named as a proxy on the old file (steady, source layout) on a server, the
  proxy waits: keys are served from their old owner and nothing moves; once that connection
  goes, the proxy arms and moves.
* `-t` says what the migration moves.

Against a proxy without the migration half, the armed tests find the moving keys missing (nil)
and the reload is refused (unknown key `migrate_from`)."""

import os
import re
import time

import harness
from rawresp import RawClient

os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", harness.build_plugin_path())

POOL = "alpha"
NAME = re.compile(rb"name=(shardproxy:[^ ]*)")


def layout(servers, **keys):
    """A pool dict over RedisServer objects, each named s<port> (names keep ring positions)."""
    return harness.pool(["%s:1 s%d" % (s.address, int(s.port)) for s in servers], redis=True,
                        hash="fnv1a_64", distribution="ketama", **keys)


def names_on(server):
    """The shardproxy connection names a server has (CLIENT LIST), as a list of str."""
    out = server.client().execute_command("CLIENT", "LIST")
    if isinstance(out, bytes):
        out = out.decode()
    return [m.group(1).decode() for m in NAME.finditer(out.encode())]


class MigrateProxy(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.servers = [self.start_redis() for _ in range(3)]
        self.old = layout(self.servers[:2])
        self.new = layout(self.servers)
        self.new["migrate_from"] = {"servers": self.old["servers"]}
        self.keys = harness.spread_keys("mg", 300)

    def owners(self, pool_dict):
        """{key: RedisServer} for a layout, as shardoracle places them."""
        conf = harness.write_config(self.path("place-%d.yml" % id(pool_dict)), {POOL: pool_dict})
        by_addr = {s.address: s for s in self.servers}
        return {k: by_addr[a] for k, (a, _) in
                harness.oracle_place(conf, self.keys, self.tmpdir).items()}

    def seed(self, owners):
        """Every key on its old owner, of a type by its index, some with a TTL."""
        for i, k in enumerate(self.keys):
            c = owners[k].client()
            kind = i % 4
            if kind == 0:
                c.set(k, b"v:" + k)
            elif kind == 1:
                c.hset(k, "f", b"h:" + k)
            elif kind == 2:
                c.rpush(k, b"l1", b"l2:" + k)
            else:
                c.sadd(k, b"m:" + k)
            if i % 3 == 0:
                c.expire(k, 3600)

    def wait_state(self, proxy, state):
        proxy.wait_for_log("-> %s" % state)

    def test_steady_pool_names_its_connections(self):
        p = self.start_proxy({POOL: self.old})
        c = p.redis_client(POOL)
        for k in self.keys[:20]:
            c.set(k, b"1")
        for s in self.servers[:2]:
            names = names_on(s)
            self.assertTrue(names, "no named connection on %s" % s.address)
            for n in names:
                self.assertRegex(n, r"^shardproxy:alpha:[0-9a-f]{16}:steady$")
        self.assert_stops_cleanly(p)

    def test_armed_moves_keys_on_use(self):
        old_owner, new_owner = self.owners(self.old), self.owners(self.new)
        moving = [k for k in self.keys if old_owner[k] is not new_owner[k]]
        staying = [k for k in self.keys if old_owner[k] is new_owner[k]]
        self.assertTrue(moving and staying, "the key set must have keys that move and stay")
        self.seed(old_owner)
        p = self.start_proxy({POOL: self.new})
        self.wait_state(p, "armed")
        for s in self.servers:
            self.assertIn("armed", " ".join(names_on(s)), s.address)
        c = p.redis_client(POOL)
        for i, k in enumerate(self.keys):
            kind = i % 4
            if kind == 0:
                self.assertEqual(c.get(k), b"v:" + k)
            elif kind == 1:
                self.assertEqual(c.hget(k, "f"), b"h:" + k)
            elif kind == 2:
                self.assertEqual(c.lindex(k, -1), b"l2:" + k)
            else:
                self.assertEqual(c.sismember(k, b"m:" + k), True)
        for i, k in enumerate(self.keys):
            self.assertEqual(new_owner[k].client().exists(k), 1, (k, "not on its new owner"))
            if old_owner[k] is not new_owner[k]:
                self.assertEqual(old_owner[k].client().exists(k), 0, (k, "left on the old one"))
            ttl = new_owner[k].client().ttl(k)
            if i % 3 == 0:
                self.assertTrue(3590 <= ttl <= 3600, (k, ttl))
            else:
                self.assertEqual(ttl, -1, k)
        # New keys go where they belong now; multi-key commands move what they touch.
        c.set(b"fresh", b"1")
        self.assertEqual(self.owners_of([b"fresh"])[b"fresh"].client().get(b"fresh"), b"1")
        self.assert_stops_cleanly(p)

    def owners_of(self, keys):
        saved = self.keys
        self.keys = keys
        try:
            return self.owners(self.new)
        finally:
            self.keys = saved

    def test_multikey_moves(self):
        old_owner, new_owner = self.owners(self.old), self.owners(self.new)
        for k in self.keys:
            old_owner[k].client().set(k, b"v:" + k)
        p = self.start_proxy({POOL: self.new})
        self.wait_state(p, "armed")
        c = p.redis_client(POOL)
        self.assertEqual(c.mget(self.keys[:50]), [b"v:" + k for k in self.keys[:50]])
        self.assertEqual(c.delete(*self.keys[50:100]), 50)
        self.assertEqual(c.exists(*self.keys[100:150]), 50)
        for k in self.keys[:50] + self.keys[100:150]:
            self.assertEqual(new_owner[k].client().get(k), b"v:" + k, k)
        for k in self.keys[50:100]:
            for s in self.servers:
                self.assertEqual(s.client().exists(k), 0, (k, s.address))
        self.assert_stops_cleanly(p)

    def test_conflict_new_copy_wins(self):
        old_owner, new_owner = self.owners(self.old), self.owners(self.new)
        k = next(k for k in self.keys if old_owner[k] is not new_owner[k])
        old_owner[k].client().set(k, b"old")
        new_owner[k].client().set(k, b"new")
        p = self.start_proxy({POOL: self.new})
        self.wait_state(p, "armed")
        self.assertEqual(p.redis_client(POOL).get(k), b"new")
        self.assertEqual(old_owner[k].client().get(k), None, "the old copy is not served")
        self.assertEqual(old_owner[k].client().get(b"__shardproxy:aside:" + k), b"old",
                         "the old copy is set aside, not lost")
        self.assertEqual(new_owner[k].client().get(k), b"new")
        self.assert_stops_cleanly(p)

    def test_waits_for_a_proxy_on_the_old_file(self):
        old_owner, new_owner = self.owners(self.old), self.owners(self.new)
        for k in self.keys:
            old_owner[k].client().set(k, b"v:" + k)
        # A proxy on the old file, seen by its connection name on the servers.
        steady = self.start_proxy({POOL: self.old})
        steady.redis_client(POOL).get(self.keys[0])
        old_name = next(n for n in names_on(self.servers[0]) + names_on(self.servers[1])
                        if n.endswith(":steady"))
        self.assert_stops_cleanly(steady)
        fake = RawClient(self.servers[0].port)
        self.assertEqual(fake.call(b"CLIENT", b"SETNAME", old_name.encode()), b"+OK\r\n")
        p = self.start_proxy({POOL: self.new})
        self.wait_state(p, "wait")
        c = p.redis_client(POOL)
        moving = [k for k in self.keys if old_owner[k] is not new_owner[k]]
        for k in moving[:30]:
            self.assertEqual(c.get(k), b"v:" + k)
            self.assertEqual(old_owner[k].client().exists(k), 1, "moved while a proxy waits")
        self.assertEqual(c.mget(moving[:10]), [b"v:" + k for k in moving[:10]])
        self.assertNotIn("-> armed", p.log())
        fake.close()
        self.wait_state(p, "armed")
        for k in moving[:30]:
            self.assertEqual(c.get(k), b"v:" + k)
            self.assertEqual(new_owner[k].client().get(k), b"v:" + k)
            self.assertEqual(old_owner[k].client().exists(k), 0)
        self.assert_stops_cleanly(p)

    def test_config_check_note(self):
        conf = harness.write_config(self.path("m.yml"), {POOL: self.new})
        r = harness.run_shardproxy(["-t", "-c", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pool 'alpha': migrating from 2 servers", r.stderr)


if __name__ == "__main__":
    harness.main()
