# SPDX-License-Identifier: Apache-2.0
"""A Sentinel pool under failover (issue #8): shardproxy follows Redis Sentinel in the data path.

2 shards x (master + replica) watched by 3 Sentinels on 127.0.0.1 (harness.SentinelTopology), one
pool over the two masters (named after them, `sentinels:` set, auto_eject_hosts on with a failure
limit of 1, which a Sentinel pool must not apply), and a steady read/write load through it from
several clients, pipelined and not, every reply checked against a model (harness.ModelLoad).

* A master killed (its replica holding every acknowledged write first: CLIENT PAUSE WRITE, so a
  write Redis itself lost cannot pass for one the proxy lost), then a Sentinel killed and the
  other shard's master killed: no client connection dropped, no wrong answer (nil for a key that
  exists, or the value of another write), no failed request on the shard that was not failing,
  every acknowledged write on the current master of the shard shardoracle places its key on and
  the key on no other shard, writes acknowledged on the failed shard after the switch, every key
  read back right; the stats give each server's current address and failover count.
* Started with one Sentinel down and the file's address stale (the master failed over before
  the proxy started): writes through the proxy land on the current master.
* A manual SENTINEL FAILOVER (the old master alive, made a replica): no write is answered
  READONLY, and the writes after the switch are on the new master.
* `-t` on a Sentinel config says that auto_eject_hosts is not applied.

Against a proxy that does not follow Sentinel the first test fails on the wrong answers that
ejection causes (reads answered nil, writes on the other shard) and the others on writes that
never reach the new master (READONLY from the old one)."""

import os
import re
import signal
import time

import redis

import harness

os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", harness.build_plugin_path())

POOL = "ha"
# nutcracker 0.5.0's server fields: a Sentinel pool's servers keep them beside "address" and
# "failovers".
NUTCRACKER_SERVER_FIELDS = ["server_eof", "server_err", "server_timedout", "server_connections",
                            "server_ejected_at", "requests", "request_bytes", "responses",
                            "response_bytes", "in_queue", "in_queue_bytes", "out_queue",
                            "out_queue_bytes"]
ACKS_AFTER_SWITCH = 20  # writes on the failed shard that must succeed after the switch
# Requests for the failing shard may fail from the kill until the switch, and a little after: the
# proxy hears of it about when the test's own subscriber does, and a client thread may note an
# error late on a busy machine.  Not a speed target: that is bench/failover.py's.
SWITCH_SLACK = 1.0


def ha_pool(topo, addresses=None):
    """The pool over the topology's masters: each server named after its Sentinel master, at
    addresses[name] (default: where the Sentinels say it is now)."""
    addresses = addresses or {n: topo.master_address(n) for n in topo.names}
    return harness.pool(["%s:1 %s" % (addresses[n], n) for n in topo.names],
                        redis=True, hash="fnv1a_64", distribution="ketama", timeout=3000,
                        auto_eject_hosts=True, server_failure_limit=1, server_retry_timeout=500,
                        sentinels=topo.sentinel_addresses())


class FakeTopology:
    """Names and addresses only, for a config that is checked, not run."""

    def __init__(self, names, sentinels):
        self.names, self.sentinels = names, sentinels

    def master_address(self, name):
        return "127.0.0.1:%d" % (4500 + self.names.index(name))

    def sentinel_addresses(self):
        return self.sentinels


class Failover(harness.TestCase):
    def home(self, proxy, keys):
        """key -> the Sentinel master name (shard) shardoracle places it on."""
        placed = harness.oracle_place(proxy.conf_path, keys, self.tmpdir, pool=POOL)
        return {k: name for k, (_, name) in placed.items()}

    def masters(self, topo):
        """{shard: client of its current master}, as the live Sentinels say."""
        return {n: topo.server(topo.master_address(n)).client() for n in topo.names}

    def server_stats(self, proxy, predicate, what):
        """The pool's per-server stats once predicate(those stats) holds; fails the test with
        the last document otherwise."""
        return self.assert_waits(lambda: proxy.wait_stats(lambda d: predicate(d.get(POOL, {})),
                                                          timeout=10), "stats: " + what)[POOL]

    def assert_server_stats(self, proxy, addresses, failovers):
        """Each server's stats say its current address and how often it failed over, next to
        nutcracker's fields."""
        def match(pool):
            return all(pool.get(n, {}).get("address") == a for n, a in addresses.items())
        pool = self.server_stats(proxy, match, "servers at %s" % addresses)
        for name in addresses:
            s = pool[name]
            self.assertIsInstance(s["address"], str)
            self.assertEqual(s.get("failovers"), failovers[name], (name, s))
            for field in NUTCRACKER_SERVER_FIELDS:
                self.assertIsInstance(s.get(field), int, (name, field, s))

    def fail_over_under_load(self, topo, load, home, shard, watch):
        """Kills the master of `shard` under the load and waits until writes to its keys are
        acknowledged again; returns (pause time, +switch-master time, new address) and the
        problems seen (a list of strings, empty when all went well)."""
        keys = {k for k, s in home.items() if s == shard}
        problems = []
        if not load.wait_acked(keys, time.time(), 10):
            problems.append("no steady state before the kill: writes to %s not acknowledged"
                            % shard)
        t_pause = time.time()
        old = topo.kill_master_in_sync(shard)
        t_switch, _, new = watch.wait_switch(shard)
        self.assertEqual(topo.wait_switched(shard, old), new)
        if not load.wait_acked(keys, t_switch, ACKS_AFTER_SWITCH, timeout=15):
            problems.append("fewer than %d writes to %s acknowledged within 15 s of "
                            "+switch-master (%d)" % (ACKS_AFTER_SWITCH, shard,
                                                     len(load.seen("acked", t_switch, keys))))
        first = load.seen("acked", t_switch, keys)
        if first:
            print("%s: +switch-master %.0f ms after the kill; the first write to it acknowledged "
                  "%.0f ms after that" % (shard, (t_switch - t_pause) * 1000,
                                         (first[0].time - t_switch) * 1000))
        time.sleep(0.5)  # the load goes on a little after the switch
        return (t_pause, t_switch, new), problems

    def check(self, load, home, topo, outage, problems):
        """Stops the load and asserts that nothing the test forbids happened, on the backends
        too.  outage: (shard, from, to), when requests for that shard may fail."""
        shard, start, end = outage
        load.stop()
        problems = problems + load.problems(
            lambda e: home[e.key] == shard and start <= e.time <= end)
        problems += load.backend_problems(home, self.masters(topo))
        problems += load.read_back()
        self.assertEqual(problems, [], "\n".join(problems))

    def test_kill_master_then_a_sentinel_and_the_other_master(self):
        topo = self.start_sentinels()
        proxy = self.start_proxy({POOL: ha_pool(topo)})
        keys = harness.spread_keys("fo", 400)
        home = self.home(proxy, keys)
        self.assertEqual(set(home.values()), set(topo.names), "both shards get keys")
        load = harness.ModelLoad(self, proxy.port(POOL), keys, clients=6, pipelined=3).start()
        watch = topo.watch()
        shard1 = topo.master_address("shard1")
        (t_pause, t_switch, new2), problems = self.fail_over_under_load(topo, load, home,
                                                                        "shard2", watch)
        self.check(load, home, topo, ("shard2", t_pause, t_switch + SWITCH_SLACK), problems)
        self.assert_server_stats(proxy, {"shard1": shard1, "shard2": new2},
                                 {"shard1": 0, "shard2": 1})

        # A new load (new keys: the model starts afresh); a Sentinel dies; the other shard fails
        # over, followed through the remaining two Sentinels.
        keys = harness.spread_keys("fo2", 400)
        home = self.home(proxy, keys)
        load = harness.ModelLoad(self, proxy.port(POOL), keys, clients=6, pipelined=3).start()
        topo.sentinels[0].stop(signal.SIGKILL)
        (t_pause, t_switch, new1), problems = self.fail_over_under_load(topo, load, home,
                                                                        "shard1", watch)
        self.check(load, home, topo, ("shard1", t_pause, t_switch + SWITCH_SLACK), problems)
        self.assert_server_stats(proxy, {"shard1": new1, "shard2": new2},
                                 {"shard1": 1, "shard2": 1})
        self.assert_stops_cleanly(proxy)

    def test_start_with_a_sentinel_down_and_a_stale_address(self):
        topo = self.start_sentinels(down_sentinels=(0,))
        stale = topo.master_address("shard1")
        topo.failover("shard1")
        current = topo.wait_switched("shard1", stale)
        def demoted():
            try:
                return topo.server(stale).client().execute_command("ROLE")[0] == b"slave"
            except redis.exceptions.ConnectionError:
                return False  # Redis drops its clients as it turns into a replica: ask again
        harness.wait_until(demoted, 30, "the old master %s to become a replica" % stale)
        addresses = {"shard1": stale, "shard2": topo.master_address("shard2")}
        proxy = self.start_proxy({POOL: ha_pool(topo, addresses)})
        keys = harness.spread_keys("st", 200)
        home = self.home(proxy, keys)
        client = proxy.redis_client(POOL)
        # The first write may race the Sentinels' first answers; it must then fail (the stale
        # address is a replica now), never land anywhere else, and the proxy must catch up.
        refused = []

        def first_write():
            try:
                return client.set(b"st:first", b"1")
            except Exception as e:  # READONLY, or another error: reported below
                refused.append(str(e))
                return False
        deadline = time.monotonic() + 10
        while not first_write():
            if time.monotonic() > deadline:
                self.fail("no write through the proxy acknowledged in 10 s: %d refused, the "
                          "last: %s" % (len(refused), refused[-1]))
            time.sleep(0.02)
        if refused:
            print("%d writes refused before the proxy found the masters, e.g. %s"
                  % (len(refused), refused[0]))
        pipe = client.pipeline(transaction=False)
        for k in keys:
            pipe.set(k, k)
        self.assertEqual(pipe.execute(), [True] * len(keys))
        masters = self.masters(topo)
        self.assertEqual(topo.master_address("shard1"), current)
        for k in keys:
            self.assertEqual(masters[home[k]].get(k), k, (k, home[k]))
            other = [n for n in topo.names if n != home[k]][0]
            self.assertEqual(masters[other].exists(k), 0, (k, other))
        pool = self.server_stats(proxy, lambda p: p.get("shard1", {}).get("address") ==
                                 current, "shard1 at %s" % current)
        self.assertEqual(pool["shard2"]["address"], addresses["shard2"])
        self.assert_stops_cleanly(proxy)

    def test_manual_failover_no_readonly(self):
        topo = self.start_sentinels()
        proxy = self.start_proxy({POOL: ha_pool(topo)})
        keys = harness.spread_keys("mf", 300)
        home = self.home(proxy, keys)
        # Writes only: a manual failover loses what the old master acknowledged after the
        # promotion (Sentinel's doing), so reads of those keys are not checked here.
        load = harness.ModelLoad(self, proxy.port(POOL), keys, clients=4, pipelined=2,
                                 read_share=0.0).start()
        shard1 = {k for k, s in home.items() if s == "shard1"}
        self.assertTrue(load.wait_acked(shard1, time.time(), 10), "no steady state")
        old = topo.master_address("shard1")
        t_failover = time.time()
        topo.failover("shard1")
        new = topo.wait_switched("shard1", old)
        harness.wait_until(lambda: topo.server(old).client().execute_command("ROLE")[0] ==
                           b"slave", 30, "the old master %s to become a replica" % old)
        t_replica = time.time()
        reached = load.wait_acked(shard1, t_replica, ACKS_AFTER_SWITCH, timeout=15)
        time.sleep(0.5)
        load.stop()
        readonly = [e for e in load.seen("failure") if "READONLY" in str(e.detail)]
        self.assertEqual(readonly, [], "writes answered READONLY: the proxy wrote to the old "
                         "master after it became a replica")
        problems = load.problems(lambda e: home[e.key] == "shard1" and
                                 t_failover <= e.time <= t_replica + SWITCH_SLACK)
        if not reached:
            problems.append("fewer than %d writes to shard1 acknowledged within 15 s of the old "
                            "master becoming a replica" % ACKS_AFTER_SWITCH)
        masters = self.masters(topo)
        for e in load.seen("acked", t_replica):
            there = masters[home[e.key]].lrange(e.key, 0, -1)
            if e.detail not in there:
                problems.append("%r acknowledged after the switch, not on %s's master %s"
                                % (e, home[e.key], topo.master_address(home[e.key])))
        self.assertEqual(problems, [], "\n".join(problems[:20]))
        self.assertEqual(topo.master_address("shard1"), new)
        self.assert_stops_cleanly(proxy)

    def test_config_check(self):
        # -t reads the file only: nothing needs to listen at these addresses.
        topo = FakeTopology(["shard1", "shard2"], ["127.0.0.1:%d" % harness.free_port()
                                                   for _ in range(3)])
        conf = harness.write_config(self.path("ha.yml"), {POOL: ha_pool(topo)})
        r = harness.run_shardproxy(["-t", "-c", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pool '%s': follows 3 Sentinel(s) for master(s) shard1, shard2" % POOL,
                      r.stderr)
        self.assertIn("auto_eject_hosts (true here) is not applied in a Sentinel pool",
                      r.stderr)
        self.assertTrue(re.search(r"configuration file '%s' syntax is ok" % re.escape(conf),
                                  r.stderr), r.stderr)


if __name__ == "__main__":
    harness.main()
