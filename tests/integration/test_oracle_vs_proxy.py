# SPDX-License-Identifier: Apache-2.0
"""shardoracle's prediction is what the proxy does: keys SET through shardproxy before and after a
config change (add, reweight, rename, modula growth, a Sentinel failover of an unnamed and of a
named server, a plugin distribution) land on real redis-servers exactly where `shardoracle diff`
/ `whatif` say, and the set of keys that changed server is exactly `--list`'s migration plan."""

import os
import subprocess

import harness

DATA = os.environ.get("SP_TEST_DATA") or os.path.join(os.path.dirname(__file__), "..", "data")
NBACKENDS = 5


def test_keys():
    """Binary keys from the golden set plus plain ones, as bytes."""
    with open(os.path.join(DATA, "placement_keys.hex")) as f:
        golden = [bytes.fromhex(line.strip()) for line in f.read().split("\n")[:500]]
    return list(dict.fromkeys(golden + [b"user:%d" % i for i in range(1000)]))


def servers(backends, spec):
    """spec: [(backend index, weight, name or None)] -> nutcracker server lines."""
    return ["%s:%d%s" % (backends[i].address, w, " " + n if n else "") for i, w, n in spec]


class OracleVsProxy(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_redis() for _ in range(NBACKENDS)]
        self.clients = [b.client() for b in self.backends]
        self.keys = test_keys()
        self.keyfile = os.path.join(self.tmpdir, "keys.hex")
        with open(self.keyfile, "w") as f:
            f.write("".join(k.hex() + "\n" for k in self.keys))

    def scenarios(self):
        """name -> (old pool, new pool, oracle arguments after -c OLD, failover map old->new)."""
        b = self.backends
        s = lambda spec: servers(b, spec)  # noqa: E731
        unnamed3 = [(0, 1, None), (1, 1, None), (2, 1, None)]
        named3 = [(0, 1, "a"), (1, 1, "b"), (2, 1, "c")]
        out = {}

        def add(name, old, new, args, failover=None):
            old["redis"] = new["redis"] = True
            out[name] = (old, new, args, failover or {})

        ketama = dict(hash="fnv1a_64", distribution="ketama")
        add("ketama_add", harness.pool(s(unnamed3), **ketama),
            harness.pool(s(unnamed3 + [(3, 1, None)]), **ketama), ["diff"])
        add("ketama_reweight", harness.pool(s(named3), hash="md5", distribution="ketama"),
            harness.pool(s([(0, 1, "a"), (1, 2, "b"), (2, 1, "c")]), hash="md5",
                         distribution="ketama"), ["diff"])
        add("ketama_rename", harness.pool(s(named3), **ketama),
            harness.pool(s([(0, 1, "a"), (1, 1, "b"), (2, 1, "d")]), **ketama), ["diff"])
        add("modula_add", harness.pool(s(unnamed3), hash="murmur", distribution="modula"),
            harness.pool(s(unnamed3 + [(3, 1, None)]), hash="murmur", distribution="modula"),
            ["diff"])
        add("rendezvous_add", harness.pool(s(named3), hash="xxhash", distribution="rendezvous"),
            harness.pool(s(named3 + [(3, 1, "e")]), hash="xxhash", distribution="rendezvous"),
            ["diff"])
        # Sentinel promotes the replica of server 1, now at backend 4.
        add("failover_unnamed", harness.pool(s(unnamed3), **ketama),
            harness.pool(s([(0, 1, None), (4, 1, None), (2, 1, None)]), **ketama),
            ["whatif", "--failover", "%s=%s" % (b[1].address, b[4].address)],
            {b[1].address: b[4].address})
        add("failover_named", harness.pool(s(named3), **ketama),
            harness.pool(s([(0, 1, "a"), (4, 1, "b"), (2, 1, "c")]), **ketama),
            ["whatif", "--failover", "b=%s" % b[4].address], {b[1].address: b[4].address})
        return out

    def observe(self, proxy, pool):
        """Sets every key through `pool`; returns key -> address of the backend holding it."""
        for c in self.clients:
            c.flushall()
        client = proxy.redis_client(pool)
        pipe = client.pipeline(transaction=False)
        for k in self.keys:
            pipe.set(k, b"v")
        self.assertTrue(all(r is True for r in pipe.execute()), pool)
        where = {}
        for backend, c in zip(self.backends, self.clients):
            for k in c.scan_iter(count=1000):
                self.assertNotIn(k, where, "%s: key %r on two backends" % (pool, k))
                where[k] = backend.address
        self.assertEqual(len(where), len(self.keys), pool)
        return where

    def oracle(self, args, conf, pool, to=None):
        cmd = [harness.shardoracle_binary(), args[0], "-c", conf,
               "--pool", pool] + (["--to", to] if to else []) + args[1:] + \
            ["--list", "--hex", self.keyfile]
        res = subprocess.run(cmd, capture_output=True, timeout=120)
        self.assertIn(res.returncode, (0, 1), res.stderr.decode())
        return {tuple(line.split("\t")) for line in res.stdout.decode().splitlines()}

    def test_moved_keys_equal_the_oracle_plan(self):
        scen = self.scenarios()
        pools = {}
        for name, (old, new, _, _) in scen.items():
            pools[name + "_old"], pools[name + "_new"] = old, new
        proxy = self.start_proxy(pools)
        old_conf = os.path.join(self.tmpdir, "old.yml")
        new_conf = os.path.join(self.tmpdir, "new.yml")
        for name, (old, new, args, failover) in scen.items():
            with self.subTest(change=name):
                before = self.observe(proxy, name + "_old")
                after = self.observe(proxy, name + "_new")
                # Keys whose logical server changed (a failed-over server is the same server).
                moved = {(k.hex(), before[k], after[k]) for k in self.keys
                         if failover.get(before[k], before[k]) != after[k]}
                harness.write_config(old_conf, {name: old})
                harness.write_config(new_conf, {name: new})
                plan = self.oracle(args, old_conf, name,
                                   to=new_conf if args[0] == "diff" else None)
                self.assertEqual(plan, moved, "%s: %d predicted, %d observed"
                                 % (name, len(plan), len(moved)))
                if name == "failover_named":
                    self.assertEqual(moved, set())
                else:
                    self.assertGreater(len(moved), 0, name)  # the change did something


if __name__ == "__main__":
    harness.main()
