# SPDX-License-Identifier: Apache-2.0
"""shardoracle migrate against real redis-servers (docs/resharding.md): keys of every type (with
and without TTL, binary, hash-tagged) on their owners in the migrate_from layout; after the move
every key is on its owner in the new layout, intact, the per-pair counts equal
`diff --migration`'s prediction, audit finds nothing misplaced and a second run moves nothing.
Adding a server (ketama), removing one, modula -> ketama.  A connection the test names
`shardproxy:<pool>:<plan>:<state>` stands for each proxy: the migrator refuses unless all are
armed for this plan.  Conflicts (the source's copy set aside), a dead target, --rate.  The keys
move with the non-blocking protocol of lib/move.h: moves in both directions at once while a
"proxy" (a thread here) moves keys the other way, a key locked elsewhere, a stale lock."""

import json
import subprocess
import time

import harness
import test_audit

LOCK = b"__shardproxy:moving:"   # lib/move.h: SP_MOVE_LOCK_PREFIX
ASIDE = b"__shardproxy:aside:"   # SP_MOVE_ASIDE_PREFIX


class MigrateBase(harness.TestCase):
    NSERVERS = 3

    def setUp(self):
        super().setUp()
        self.servers = [self.start_redis() for _ in range(self.NSERVERS)]
        self.clients = {s.address: s.client() for s in self.servers}
        self.proxies = []

    def write_conf(self, old, new, old_keys=None, **keys):
        """A pool on `new` migrating from `old` (server lists; `old_keys`: the source layout's
        own hash, distribution, hash_tag), and the source layout alone as a pool (for placing
        keys where they live now)."""
        keys.setdefault("hash", "md5")
        keys.setdefault("hash_tag", "{}")
        old_keys = old_keys or {}
        pool = harness.pool(new, **keys)
        pool["migrate_from"] = dict(old_keys, servers=["%s:1" % s.address for s in old])
        self.conf = harness.write_config(self.path("migrate.yml"), {"alpha": pool})
        self.old_conf = harness.write_config(self.path("old.yml"), {
            "alpha": harness.pool(old, **dict(keys, **old_keys))})
        self.old, self.new = old, new

    def oracle(self, cmd, *args, conf=None):
        argv = [harness.shardoracle_binary(), cmd, "-c", conf or self.conf] + list(args)
        return subprocess.run(argv, capture_output=True, timeout=300)

    def migrate(self, *args, code=0):
        res = self.oracle("migrate", "--pool", "alpha", "--json", *args)
        self.assertEqual(res.returncode, code, res.stderr.decode())
        return json.loads(res.stdout) if res.stdout else None

    def plan(self):
        return self.migrate("--dry-run")["plan"]

    def arm(self, state="armed", plan=None, servers=None):
        """One connection per server named as a proxy in `state` would name it."""
        name = "shardproxy:alpha:%s:%s" % (plan or self.plan(), state)
        for s in servers or {s.address: s for s in self.old + self.new}.values():
            c = s.client()
            c.client_setname(name)
            self.proxies.append(c)

    def keyfile(self, keys):
        path = self.path("keys.hex")
        with open(path, "w") as f:
            f.write("".join(k.hex() + "\n" for k in keys))
        return path

    def owners(self, keys, conf):
        res = subprocess.run([harness.shardoracle_binary(), "place", "-c", conf, "--hex",
                              self.keyfile(keys)], capture_output=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        return {bytes.fromhex(l.split("\t")[0]): l.split("\t")[1]
                for l in res.stdout.decode().splitlines()}

    def populate(self):
        """Every test key on its owner in the old layout; returns {key: snapshot}."""
        keys = test_audit.test_keys()
        old = self.owners([k for k, _, _ in keys], self.old_conf)
        for key, kind, ttl in keys:
            test_audit.write_key(self.clients[old[key]], key, kind, ttl)
        return {k: self.snapshot(self.clients[old[k]], k) for k, _, _ in keys}

    def snapshot(self, c, key):
        return test_audit.AuditBase.snapshot(self, c, key)

    def prediction(self, keys):
        """{(old address, new address): keys} from diff --migration --list."""
        res = self.oracle("diff", "--pool", "alpha", "--migration", "--hex",
                          "--list", self.keyfile(keys))
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        pairs = {}
        for line in res.stdout.decode().splitlines():
            _, a, b = line.split("\t")
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
        return pairs

    def where(self):
        out = {}
        for addr, c in self.clients.items():
            for k in c.scan_iter(count=1000):
                out.setdefault(k, []).append(addr)
        return out

    def check_moved(self, before, report):
        """Every key on its new owner only, intact; the report's pairs as predicted."""
        new = self.owners(list(before), self.conf)
        held = self.where()
        self.assertEqual(len(held), len(before))
        for key, (t, value, ttl) in before.items():
            self.assertEqual(held.get(key), [new[key]], key)
            got = self.snapshot(self.clients[new[key]], key)
            self.assertEqual(got[:2], (t, value), key)
            if ttl < 0:
                self.assertEqual(got[2], ttl, key)
            else:
                self.assertLessEqual(abs(got[2] - ttl), 1000, key)
        pairs = {(p["from_address"], p["to_address"]): p["to_move"] for p in report["pairs"]}
        self.assertEqual(pairs, self.prediction(list(before)))
        for p in report["pairs"]:
            self.assertEqual(p["moved"], p["to_move"], p)
        self.assertEqual((report["conflicts"], report["failed"], report["misplaced"]), (0, 0, 0))
        self.assertEqual(report["moved"], sum(pairs.values()))
        audit = self.oracle("audit", "--pool", "alpha")
        self.assertEqual(audit.returncode, 0, audit.stdout.decode() + audit.stderr.decode())
        again = self.migrate()
        self.assertEqual((again["to_move"], again["moved"]), (0, 0))
        return report


class Migrate(MigrateBase):
    def test_add_server_ketama(self):
        self.write_conf(self.servers[:2], self.servers, distribution="ketama")
        before = self.populate()
        self.arm()
        report = self.check_moved(before, self.migrate("--batch", "7"))
        new = self.servers[2].address
        self.assertTrue(report["moved"] > 0)
        self.assertTrue(all(p["to_address"] == new for p in report["pairs"]), report["pairs"])

    def test_remove_server(self):
        self.write_conf(self.servers, self.servers[:2], distribution="ketama")
        before = self.populate()
        self.arm()
        report = self.check_moved(before, self.migrate())
        gone = self.servers[2].address
        self.assertTrue(all(p["from_address"] == gone for p in report["pairs"]), report["pairs"])
        self.assertEqual(self.clients[gone].dbsize(), 0)

    def test_modula_to_ketama(self):
        self.write_conf(self.servers, self.servers, distribution="ketama",
                        old_keys={"distribution": "modula"})
        before = self.populate()
        self.arm()
        report = self.check_moved(before, self.migrate())
        self.assertGreater(report["moved"], len(before) / 2)

    def test_dry_run_moves_nothing(self):
        self.write_conf(self.servers[:2], self.servers, distribution="ketama")
        before = self.populate()
        report = self.migrate("--dry-run")   # no proxy needed: nothing moves
        self.assertEqual(report["moved"], 0)
        self.assertEqual({(p["from_address"], p["to_address"]): p["to_move"]
                          for p in report["pairs"]}, self.prediction(list(before)))
        self.assertEqual(self.clients[self.servers[2].address].dbsize(), 0)


class Refusals(MigrateBase):
    def setUp(self):
        super().setUp()
        self.write_conf(self.servers[:2], self.servers, distribution="ketama")
        self.before = self.populate()
        self.where_before = self.where()

    def refused(self, *want):
        res = self.oracle("migrate", "--pool", "alpha")
        self.assertEqual(res.returncode, 3, res.stdout.decode() + res.stderr.decode())
        err = res.stderr.decode()
        for w in want:
            self.assertIn(w, err)
        self.assertEqual(self.where(), self.where_before)   # nothing moved
        return err

    def test_no_proxy_armed(self):
        self.refused("no proxy is armed for plan %s" % self.plan(), "--no-proxies")
        report = self.migrate("--no-proxies")
        self.assertGreater(report["moved"], 0)

    def test_one_ready(self):
        self.arm()
        s = self.servers[2]
        self.arm("ready", servers=[s])
        name = "shardproxy:alpha:%s:ready" % self.plan()
        err = self.refused("server '%s': client 127.0.0.1:" % s.address,
                           "connection '%s': not armed yet" % name, "1 proxy connection(s)")
        self.assertEqual(len(err.splitlines()), 2, err)

    def test_one_steady_of_the_old_layout(self):
        self.arm()
        self.arm("steady", plan="0123456789abcdef", servers=[self.servers[0]])
        self.refused("connection 'shardproxy:alpha:0123456789abcdef:steady': follows another "
                     "plan")

    def test_armed_for_another_plan(self):
        self.arm()
        self.arm("armed", plan="fedcba9876543210", servers=[self.servers[1]])
        self.refused("'shardproxy:alpha:fedcba9876543210:armed': follows another plan")

    def test_other_pools_and_clients_are_ignored(self):
        self.arm()
        for name in ("shardproxy:beta:0123456789abcdef:wait", "someone-else", "shardproxy:x"):
            c = self.servers[0].client()
            c.client_setname(name)
            self.proxies.append(c)
        self.check_moved(self.before, self.migrate())


class Failures(MigrateBase):
    def test_conflict_keeps_the_new_owners_copy(self):
        self.write_conf(self.servers[:2], self.servers, distribution="ketama")
        before = self.populate()
        new = self.owners(list(before), self.conf)
        key = sorted(k for k in before if new[k] == self.servers[2].address)[0]
        target = self.clients[self.servers[2].address]
        target.set(key, b"the new owner's value")
        old = [a for a, c in self.clients.items() if a != self.servers[2].address and c.exists(key)]
        self.arm()
        report = self.migrate("--hex", code=1)
        self.assertEqual((report["conflicts"], report["failed"]), (1, 0))
        aside = ASIDE + key
        self.assertEqual(report["conflict_keys"], [{"key": key.hex(), "on": old[0],
                                                     "owner": self.servers[2].address,
                                                     "set_aside_as": aside.hex()}])
        self.assertEqual(target.get(key), b"the new owner's value")
        # The source's copy is kept under the set-aside name, never served.
        source = self.clients[old[0]]
        self.assertFalse(source.exists(key))
        self.assertEqual(self.snapshot(source, aside)[:2], before[key][:2])
        # Again: nothing to move, the set-aside copy reported (exit 1) until an operator acts.
        again = self.migrate("--hex", code=1)
        self.assertEqual((again["to_move"], again["moved"], again["conflicts"], again["set_aside"]),
                         (0, 0, 0, 1))
        self.assertEqual(again["set_aside_keys"], [{"key": key.hex(), "set_aside_as": aside.hex(),
                                                    "on": old[0]}])
        audit = self.oracle("audit", "--pool", "alpha")
        self.assertEqual(audit.returncode, 1)
        self.assertIn("1 set aside (conflicts)", audit.stdout.decode())

    def test_dead_target_stops_and_loses_nothing(self):
        self.write_conf(self.servers[:2], self.servers, distribution="ketama")
        before = self.populate()
        self.arm(servers=self.servers[:2])
        self.servers[2].stop()
        del self.clients[self.servers[2].address]
        res = self.oracle("migrate", "--pool", "alpha")
        self.assertEqual(res.returncode, 2)
        self.assertIn("server '%s': connection refused" % self.servers[2].address,
                      res.stderr.decode())
        self.assertEqual(sorted(self.where()), sorted(before))

    def test_rate_limits_keys_per_second(self):
        """--rate N: the bucket holds one second's worth, so moving `moved` keys takes at least
        (moved - N) / N seconds; a lower bound only (a slow machine takes longer), and every key
        went through the protocol (one RESTORE each, no MIGRATE)."""
        self.write_conf(self.servers, self.servers, distribution="ketama",
                        old_keys={"distribution": "modula"})
        self.populate()
        self.arm()
        for c in self.clients.values():
            c.config_resetstat()
        start = time.monotonic()
        report = self.migrate("--rate", "20", "--batch", "100")
        elapsed = time.monotonic() - start
        stats = [c.info("commandstats") for c in self.clients.values()]
        self.assertGreater(report["moved"], 40)
        self.assertGreaterEqual(elapsed, (report["moved"] - 20) / 20 * 0.95)
        self.assertEqual(sum(s.get("cmdstat_restore", {}).get("calls", 0) for s in stats),
                         report["moved"])
        self.assertEqual(sum(s.get("cmdstat_migrate", {}).get("calls", 0) for s in stats), 0)


if __name__ == "__main__":
    harness.main()
