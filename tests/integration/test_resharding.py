# SPDX-License-Identifier: Apache-2.0
"""Online resharding (issue #14) end to end: a Redis pool's servers change under a model-checked
load through two proxies, and no client sees anything wrong.

Each scenario: redis-servers named a, b (and c); N keys of every type (typedload: strings,
counters, hashes, lists, sets, zsets; a quarter with a TTL) preloaded into the first layout; TWO
shardproxies on that layout (each its own file, differing only in `listen:`; the first runs two
workers, the second one), the typed load
split over both (each client's rounds alternate between them, so a key written through one is
read through the other).  Then the whole rollout, as an operator does it:

  1. the migrating file (`servers:` the new layout, `migrate_from:` the old one) reloaded into
     proxy 1, 0.5 s later into proxy 2;
  2. `shardoracle migrate -c FILE --pool alpha --dry-run` polled while it refuses (exit 3: not
     every proxy armed) - or, where it has no --dry-run, migrate itself retried while it refuses;
  3. `shardoracle migrate -c FILE --pool alpha` moves the rest: exit 0;
  4. the final file (the new layout, no migrate_from) reloaded into proxy 1, 0.5 s later into
     proxy 2; the load goes on for a second, then stops.

and must end with: no nil read of an existing key, no wrong value, no lost write, no error, no
connection dropped (what the clients saw); every key read back through proxy 2 with its value,
its type, and its TTL (the same expiry time to the second); `shardoracle audit` exit 0; and,
directly on the servers, every live key on the server `shardoracle place` names in the new
layout and on no other, the keys whose server changed exactly those the oracle predicts (`place`
with each layout, and `diff --migration --list` on the migrating file where it exists).

Scenarios (each on fresh servers): a) add a server, a+b -> a+b+c (ketama); b) remove one,
a+b+c -> a+b (ketama); c) modula -> ketama on a+b (every key re-placed: about half move).

N is 100000 (SP_RESHARD_KEYS to change it): preloading, locating, reading back and placing 100k
keys take about 12 s on the 2-core test machine, leaving the migration itself (a third to a half
of the keys) most of a minute per scenario.

Interface this test assumes (issue #14's design, RESHARDING-DESIGN): `migrate_from:` in a pool
(a dict with `servers:` and optionally `distribution:`); a reload logs "reload: configuration
... in service" or "...; the running configuration stays"; `shardoracle migrate` exit codes 0
(everything moved), 1 (keys left), 2 (bad input, unreachable), 3 (refused: a proxy not armed);
`shardoracle diff -c FILE --pool P --migration --list --hex KEYFILE` prints key<TAB>old
host:port<TAB>new host:port for each key that moves, like `diff --list`."""

import os
import subprocess
import time

import harness
import typedload

os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", harness.build_plugin_path())

POOL = "alpha"
KEYS = int(os.environ.get("SP_RESHARD_KEYS", "100000"))
MIGRATE_REFUSED = 3       # shardoracle migrate: not every proxy of the plan is armed
ARM_TIMEOUT = 30.0        # proxies survey every 100 ms: armed well within a second
MIGRATE_TIMEOUT = 600.0
STAGGER = 0.5             # seconds between the two proxies' reloads


class Resharding(harness.TestCase):
    # --- set-up -----------------------------------------------------------------------------

    def entries(self, names):
        return ["%s:1 %s" % (self.servers[n].address, n) for n in names]

    def layout(self, names, distribution, source=None, source_distribution=None):
        """{POOL: pool dict} over servers `names`; migrating from `source` when given."""
        pool = harness.pool(self.entries(names), redis=True, hash="fnv1a_64",
                            distribution=distribution, timeout=5000)
        if source is not None:
            pool["migrate_from"] = {"servers": self.entries(source)}
            if source_distribution != distribution:
                pool["migrate_from"]["distribution"] = source_distribution
        return {POOL: pool}

    def roll(self, pools, what):
        """Reloads `pools` into proxy 1, then STAGGER s later into proxy 2, each checked to be
        in service; returns a copy of proxy 1's file (for the oracle)."""
        for i, p in enumerate(self.proxies):
            if i:
                time.sleep(STAGGER)
            offset = p.reload(harness.same_layout(pools, p))
            line = self.assert_waits(lambda: self.reload_outcome(p, offset),
                                     "%s: proxy %d logged no reload outcome" % (what, i + 1))
            if "stays" in line or "in service" not in line:
                self.fail("%s: proxy %d refused the file: %s\n--- file ---\n%s"
                          % (what, i + 1, line, harness.yaml.safe_dump(p.pools)))
        return harness.write_config(self.path(what.replace(" ", "-") + ".yml"),
                                    harness.same_layout(pools, self.proxies[0]))

    @staticmethod
    def reload_outcome(proxy, offset):
        """The log line (after `offset`) saying whether a reload was applied."""
        found = []

        def seen():
            found[:] = [line for line in proxy.log()[offset:].splitlines() if "reload" in line
                        and ("in service" in line or "configuration stays" in line)]
            return found
        harness.wait_until(seen, harness.START_TIMEOUT, "a reload outcome in the log",
                           proxy.check_running)
        return found[0]

    # --- shardoracle --------------------------------------------------------------------------

    def oracle(self, *args, timeout=120):
        return subprocess.run([harness.shardoracle_binary()] + [str(a) for a in args],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, text=True)

    def wait_armed(self, conf):
        """Polls `migrate --dry-run` (or migrate itself) until it stops refusing; returns
        (whether it was a dry run, its result)."""
        # --dry-run does not look at the proxies (it moves nothing): the real run refuses,
        # moving nothing, until every proxy is armed.
        dry = False
        argv = ["migrate", "-c", conf, "--pool", POOL]
        deadline = time.monotonic() + ARM_TIMEOUT
        while True:
            res = self.oracle(*argv, timeout=MIGRATE_TIMEOUT)
            if res.returncode != MIGRATE_REFUSED:
                return dry, res
            if time.monotonic() > deadline:
                self.fail("shardoracle %s still refuses after %gs (a proxy not armed):\n%s"
                          % (" ".join(argv), ARM_TIMEOUT, res.stderr[-3000:]))
            time.sleep(0.2)

    def migrate(self, conf):
        dry, res = self.wait_armed(conf)
        if dry and res.returncode == 0:
            res = self.oracle("migrate", "-c", conf, "--pool", POOL, timeout=MIGRATE_TIMEOUT)
        self.assertEqual(res.returncode, 0, "shardoracle migrate%s: exit %d\nstdout:\n%s\n"
                         "stderr:\n%s" % (" --dry-run" if dry and res.returncode else "",
                                          res.returncode, res.stdout[-3000:],
                                          res.stderr[-3000:]))
        return res

    def predicted_moves(self, conf, keys):
        """{key: (old address, new address)} from `diff --migration --list` on the migrating
        file, or None when this shardoracle has no --migration (said on stdout)."""
        probe = self.oracle("diff", "--help")
        if "--migration" not in probe.stdout + probe.stderr:
            print("shardoracle diff has no --migration: moves predicted with place only")
            return None
        lines = harness._oracle_lines(["diff", "-c", conf, "--pool", POOL, "--migration",
                                       "--list"], keys, self.tmpdir)
        return {f[0]: (f[1], f[2]) for f in lines}

    # --- the scenario -------------------------------------------------------------------------

    def reshard(self, old_names, new_names, old_dist="ketama", new_dist="ketama"):
        names = sorted(set(old_names) | set(new_names))
        self.servers = {n: self.start_redis() for n in names}
        clients = {n: s.client() for n, s in self.servers.items()}
        old = self.layout(old_names, old_dist)
        # A proxy of two workers beside one of one: the phases must hold between processes and
        # between one process's workers alike.
        self.proxies = self.start_proxies(old, args_each=[["--workers", "2"], ["--workers", "1"]])
        old_conf = harness.write_config(self.path("old.yml"), old)
        ports = [p.port(POOL) for p in self.proxies]
        load = typedload.TypedModelLoad(self, ports, KEYS, duration=MIGRATE_TIMEOUT)
        keys = load.keys
        placed_old = harness.oracle_place(old_conf, keys, self.tmpdir, pool=POOL)
        before = typedload.locate(clients, keys)
        astray = ["%r on %s, owner %s" % (k, before.get(k), placed_old[k][1]) for k in keys
                  if before.get(k) != [placed_old[k][1]]]
        self.assertEqual(astray[:10], [], "%d keys preloaded elsewhere than the oracle places "
                         "them in the old layout" % len(astray))

        load.start()
        self.assertTrue(load.running())
        harness.wait_until(lambda: load.counts["writes"] >= 200, 30, "the load's first writes")
        migrating = self.roll(self.layout(new_names, new_dist, old_names, old_dist),
                              "migrating file")
        self.migrate(migrating)
        self.assertEqual(load.problems(), [], "during the migration: " + load.summary())
        final = self.roll(self.layout(new_names, new_dist), "final file")
        time.sleep(1)
        self.assertTrue(load.running(), "the load ended early: raise its duration")
        load.stop()

        self.assertEqual(load.problems(), [], load.summary())
        self.assertEqual(load.read_back(ports[1]), [])
        self.assertEqual(load.ttl_problems(), [])
        self.assertEqual(load.type_problems(), [])
        audit = self.oracle("audit", "-c", final, "--pool", POOL)
        self.assertEqual(audit.returncode, 0, "audit: %s%s" % (audit.stdout, audit.stderr))

        live, dead = load.live_keys(), set(load.dead_keys())
        after = typedload.locate(clients, keys)
        placed_new = harness.oracle_place(final, keys, self.tmpdir, pool=POOL)
        misplaced = ["%r on %s, owner %s" % (k, after.get(k), placed_new[k][1]) for k in live
                     if after.get(k) != [placed_new[k][1]]]
        self.assertEqual(misplaced[:10], [], "%d live keys not (only) on their new owner"
                         % len(misplaced))
        self.assertEqual(sorted(k for k in dead if k in after)[:10], [], "deleted keys exist")
        moved = {k for k in live if before[k] != after[k]}
        predicted = {k for k in live if placed_old[k][0] != placed_new[k][0]}
        self.assertEqual(len(moved), len(predicted))
        self.assertEqual(moved, predicted)
        by_diff = self.predicted_moves(migrating, live)
        if by_diff is not None:
            self.assertEqual(set(by_diff), predicted, "diff --migration --list against place")
            self.assertEqual({k: (placed_old[k][0], placed_new[k][0]) for k in predicted},
                             by_diff)
        print("%s -> %s: %d keys, %d moved; %s" % ("+".join(old_names), "+".join(new_names),
                                                  len(keys), len(moved), load.summary()))
        for p in self.proxies:
            self.assert_stops_cleanly(p)

    def test_a_add_server(self):
        self.reshard(["a", "b"], ["a", "b", "c"])

    def test_b_remove_server(self):
        self.reshard(["a", "b", "c"], ["a", "b"])

    def test_c_modula_to_ketama(self):
        self.reshard(["a", "b"], ["a", "b"], old_dist="modula")


if __name__ == "__main__":
    harness.main()
