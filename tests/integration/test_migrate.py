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
import os
import random
import re
import subprocess
import threading
import time

import harness
import test_audit

LOCK = b"__shardproxy:moving:"   # lib/move.h: SP_MOVE_LOCK_PREFIX
ASIDE = b"__shardproxy:aside:"   # SP_MOVE_ASIDE_PREFIX


def move_scripts():
    """{"TAKE": lua, "FINISH": ..., "ASIDE": ..., "RELEASE": ...}: the SP_MOVE_* macros of
    lib/move.h, read from the source so that the test's mover speaks exactly the protocol."""
    with open(os.path.join(os.environ.get("SP_SRCDIR", "."), "lib", "move.h")) as f:
        text = f.read()
    out = {}
    for name in ("TAKE", "FINISH", "ASIDE", "RELEASE"):
        body = re.search(r"#define SP_MOVE_%s\s*\\\n((?:.*\\\n)*.*\n)" % name, text).group(1)
        out[name] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
    return out


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


class Protocol(MigrateBase):
    """The non-blocking move protocol (lib/move.h) against other movers."""
    NSERVERS = 2

    def proxy_move(self, scripts, src, dst, key, token):
        """Moves `key` from `src` to `dst` as an armed proxy does (TAKE, RESTORE, FINISH);
        True when this call moved it."""
        taken = src.eval(scripts["TAKE"], 2, key, LOCK + key, token, 10000)
        if not isinstance(taken, list):
            return False   # 0: not there any more, -1: another mover has it
        dump, pttl = taken
        try:
            dst.restore(key, pttl if pttl > 0 else 0, dump)
        except Exception:
            src.eval(scripts["RELEASE"], 1, LOCK + key, token)
            raise
        self.assertEqual(src.eval(scripts["FINISH"], 2, key, LOCK + key, token), 1)
        return True

    def test_both_directions_while_a_proxy_moves_keys(self):
        """modula -> ketama on the same two servers moves keys both ways; while the migrator
        runs, a thread moves keys the other way with the same protocol, as a proxy would.  The
        run ends (MIGRATE would deadlock: each server blocked on the other), every key ends on
        its owner once, intact."""
        self.write_conf(self.servers, self.servers, distribution="ketama",
                        old_keys={"distribution": "modula"})
        keys = [b"k:%d" % i for i in range(4000)]
        old = self.owners(keys, self.old_conf)
        new = self.owners(keys, self.conf)
        for i, k in enumerate(keys):
            self.clients[old[k]].set(k, b"v:" + k, px=600000 if i % 3 == 0 else None)
        a, b = (s.address for s in self.servers)
        # The migrator scans a first (moving a -> b): the "proxy" moves b -> a meanwhile.
        opposite = [k for k in keys if old[k] == b and new[k] == a]
        self.assertTrue(opposite and any(old[k] == a and new[k] == b for k in keys))
        scripts = move_scripts()
        stop, moved_by_proxy, errors = threading.Event(), [0], []

        def proxy():
            src, dst = self.servers[1].client(), self.servers[0].client()
            rnd, n = random.Random(14), 0
            try:
                while not stop.is_set():
                    n += 1
                    k = rnd.choice(opposite)
                    if self.proxy_move(scripts, src, dst, k, "proxy:%d" % n):
                        moved_by_proxy[0] += 1
            except Exception as e:   # reported by the test, not lost in the thread
                errors.append(repr(e))

        self.arm()
        t = threading.Thread(target=proxy)
        t.start()
        try:
            res = self.oracle("migrate", "--pool", "alpha", "--json", "--batch", "10",
                              "--rate", "5000")   # ~1 s: time for the proxy to interleave
        finally:
            stop.set()
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        report = json.loads(res.stdout)
        self.assertGreater(moved_by_proxy[0], 0)
        self.assertGreater(report["moved"], 0)
        self.assertEqual((report["conflicts"], report["failed"]), (0, 0))
        for p in report["pairs"]:
            self.assertEqual(p["moved"] + p["nokey"], p["to_move"], p)
        held = self.where()
        self.assertEqual(sorted(held), sorted(keys))   # nothing lost, no lock or aside key left
        for k in keys:
            self.assertEqual(held[k], [new[k]], k)
            self.assertEqual(self.clients[new[k]].get(k), b"v:" + k)
        self.assertEqual(self.migrate()["to_move"], 0)

    def setup_one_key(self):
        """Servers a -> a+b (ketama): one key that moves from a to b, and a few that move too."""
        self.write_conf(self.servers[:1], self.servers, distribution="ketama")
        keys = [b"p:%d" % i for i in range(50)]
        new = self.owners(keys, self.conf)
        src, dst = (self.clients[s.address] for s in self.servers)
        for k in keys:
            src.set(k, b"v:" + k)
        moving = sorted(k for k in keys if new[k] == self.servers[1].address)
        self.assertGreater(len(moving), 2)
        self.arm()
        return src, dst, moving

    def test_key_locked_elsewhere_is_retried_then_reported(self):
        src, dst, moving = self.setup_one_key()
        key = moving[0]
        src.set(LOCK + key, b"a proxy's token", px=60000)
        start = time.monotonic()
        report = self.migrate("--hex", code=1)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)   # waited ~1 s for it
        self.assertEqual((report["moved"], report["failed"], report["conflicts"]),
                         (len(moving) - 1, 1, 0))
        (failed,) = report["failed_keys"]
        self.assertEqual(failed["key"], key.hex())
        self.assertIn("in flight elsewhere", failed["error"])
        # Untouched: the key on its source, the other mover's lock as it was.
        self.assertEqual(src.get(key), b"v:" + key)
        self.assertFalse(dst.exists(key))
        self.assertEqual(src.get(LOCK + key), b"a proxy's token")
        self.assertGreater(src.pttl(LOCK + key), 50000)

    def test_stale_lock_is_waited_out(self):
        """A mover that died left its lock: it expires (short PX here) and the key moves."""
        src, dst, moving = self.setup_one_key()
        key = moving[0]
        src.set(LOCK + key, b"a dead mover's token", px=300)
        report = self.migrate()
        self.assertEqual((report["moved"], report["failed"]), (len(moving), 0))
        self.assertEqual(dst.get(key), b"v:" + key)
        self.assertFalse(src.exists(key))
        self.assertFalse(src.exists(LOCK + key))

    def test_locks_and_set_aside_copies_are_not_moved(self):
        """Scans skip the protocol's keys: a lock is not a key to place, a set-aside copy is
        counted and listed, not moved."""
        src, dst, moving = self.setup_one_key()
        src.set(ASIDE + b"gone", b"x")
        src.set(LOCK + b"elsewhere", b"t", px=60000)
        report = self.migrate(code=1)
        self.assertEqual((report["moved"], report["failed"], report["set_aside"]),
                         (len(moving), 0, 1))
        self.assertEqual(report["set_aside_keys"][0]["key"], "gone")
        self.assertEqual(src.get(ASIDE + b"gone"), b"x")
        self.assertTrue(src.exists(LOCK + b"elsewhere"))

    def test_target_lost_mid_run_stops_releasing_locks(self):
        """The target dies while keys move: exit 2 naming it; the locks this run held are
        released and every key not reported moved is still on the source."""
        self.write_conf(self.servers[:1], self.servers, distribution="ketama")
        keys = [b"t:%d" % i for i in range(3000)]
        src = self.clients[self.servers[0].address]
        pipe = src.pipeline(transaction=False)
        for k in keys:
            pipe.set(k, b"v")
        pipe.execute()
        self.arm(servers=self.servers[:1])
        argv = [harness.shardoracle_binary(), "migrate", "-c", self.conf, "--pool", "alpha",
                "--json", "--no-proxies", "--rate", "1000", "--batch", "20"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5)
        self.servers[1].stop()
        out, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 2, err.decode())
        self.assertIn("the target server '%s' cannot be reached" % self.servers[1].address,
                      err.decode())
        report = json.loads(out)
        self.assertGreater(report["moved"], 0)
        left = [k for k in src.scan_iter(count=1000)]
        self.assertFalse([k for k in left if k.startswith(LOCK)])
        self.assertEqual(len(left), len(keys) - report["moved"])


if __name__ == "__main__":
    harness.main()
