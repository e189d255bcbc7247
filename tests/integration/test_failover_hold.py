# SPDX-License-Identifier: Apache-2.0
"""A failover costs clients latency, not errors (issue #15): `failover_hold` in a Sentinel pool.

2 shards x (master + replica) watched by 3 Sentinels on 127.0.0.1 (harness.SentinelTopology).

* A master killed under a model-checked load (harness.ModelLoad): requests for its shard that
  never reached it wait in the proxy and are sent to the new master after +switch-master, so the
  only failures are requests the dead master had been sent already (they may have run: never
  retried); none on the other shard, no dropped client, no wrong answer, everything read back.
* With the Sentinels stopped (no failover comes) a held request fails after failover_hold with a
  reason that says so, and the stats count it.
* The master restarted at its own address (no failover): held requests go to it.
* A request written to the master before it died gets the error at once, not a hold; one sent
  after waits.
* failover_replica_reads: while a master is down (no failover yet), reads are answered by its
  replica (a GET, an MGET spanning both shards), writes still wait; stats count the reads.
  Without it the same read waits and fails with the hold.
* failover_hold: 0 keeps the old behaviour (an error at once); -t refuses the keys outside a
  Sentinel pool.

Against a proxy without the hold every request for the failed shard between the kill and the
switch fails ("Connection refused"), which the first test counts."""

import os
import re
import signal
import threading
import time

import harness
from rawresp import RawClient, enc

os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", harness.build_plugin_path())

POOL = "ha"
# Failures a request written to the dead master may get (the proxy cannot know whether it ran).
WRITTEN_FAILURE = re.compile(r"closed by server|reset by peer|may or may not have been executed")


def hold_pool(topo, hold, **keys):
    """The pool over the topology's masters, each server named after its Sentinel master."""
    return harness.pool(["%s:1 %s" % (topo.master_address(n), n) for n in topo.names],
                        redis=True, hash="fnv1a_64", distribution="ketama", timeout=3000,
                        sentinels=topo.sentinel_addresses(), failover_hold=hold, **keys)


def parse(reply):
    return harness.parse_reply(reply)


class SentinelsPaused:
    """`with SentinelsPaused(topo, "shard2") as master:` - every Sentinel stopped (SIGSTOP: no
    failover comes) and the shard's master killed; the Sentinels resume at the end."""

    def __init__(self, topo, shard, kill=True):
        self.topo, self.kill = topo, kill
        self.master = topo.server(topo.master_address(shard))

    def __enter__(self):
        for s in self.topo.live_sentinels():
            s.pause()
        if self.kill:
            self.master.stop(signal.SIGKILL)
        return self.master

    def __exit__(self, *exc):
        for s in self.topo.sentinels:
            if s is not None and s.paused:
                s.resume()
        return False


class FailoverHold(harness.TestCase):
    def home(self, proxy, keys):
        placed = harness.oracle_place(proxy.conf_path, keys, self.tmpdir, pool=POOL)
        return {k: name for k, (_, name) in placed.items()}

    def key_on(self, proxy, shard, prefix):
        keys = harness.spread_keys(prefix, 50)
        home = self.home(proxy, keys)
        return next(k for k in keys if home[k] == shard)

    def server_stats(self, proxy, shard):
        return proxy.stats()[POOL][shard]

    def async_request(self, proxy, *args):
        """Sends one request through the proxy in a thread; returns (thread, result list): the
        reply (or the exception) and when it came."""
        out = []

        def run():
            c = RawClient(proxy.port(POOL), timeout=60)
            try:
                c.send(enc(*args))
                out.append((parse(c.read_reply()), time.time()))
            except Exception as e:  # reported by the caller's assertion
                out.append((e, time.time()))
            finally:
                c.close()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, out

    def test_kill_master_under_load_no_errors(self):
        topo = self.start_sentinels()
        proxy = self.start_proxy({POOL: hold_pool(topo, 30000)})
        keys = harness.spread_keys("fh", 400)
        home = self.home(proxy, keys)
        self.assertEqual(set(home.values()), set(topo.names), "both shards get keys")
        load = harness.ModelLoad(self, proxy.port(POOL), keys, clients=6, pipelined=3,
                                 timeout=60).start()
        watch = topo.watch()
        shard2 = {k for k, s in home.items() if s == "shard2"}
        self.assertTrue(load.wait_acked(shard2, time.time(), 10), "no steady state")
        t_pause = time.time()
        old = topo.kill_master_in_sync("shard2")
        t_kill = time.time()
        t_switch, _, new = watch.wait_switch("shard2")
        self.assertEqual(topo.wait_switched("shard2", old), new)
        self.assertTrue(load.wait_acked(shard2, t_switch, 20, timeout=15),
                        "writes to shard2 acknowledged after the switch")
        time.sleep(0.5)
        load.stop()
        print("+switch-master %.0f ms after the kill" % ((t_switch - t_kill) * 1000))

        # Only requests written before the kill may fail (CLIENT PAUSE WRITE held writes on the
        # master unanswered until it died): by their reason, and by when they failed.
        def written(e):
            return (home[e.key] == "shard2" and t_pause <= e.time <= t_kill + 1.0 and
                    WRITTEN_FAILURE.search(str(e.detail)) is not None)
        problems = load.problems(written)
        problems += load.backend_problems(home, {n: topo.server(topo.master_address(n)).client()
                                                 for n in topo.names})
        problems += load.read_back()
        self.assertEqual(problems, [], "\n".join(problems))
        st = self.server_stats(proxy, "shard2")
        self.assertGreater(st["held"], 0, st)
        self.assertEqual(st["hold_expired"], 0, st)
        self.assertEqual(self.server_stats(proxy, "shard1")["held"], 0)
        # Requests that waited were answered after the switch, in the order they were sent.
        failed_written = [e for e in load.seen("failure") if written(e)]
        print("%d requests held; %d written to the dead master failed"
              % (st["held"], len(failed_written)))
        self.assert_stops_cleanly(proxy)

    def test_hold_expires_without_failover(self):
        topo = self.start_sentinels()
        proxy = self.start_proxy({POOL: hold_pool(topo, 400)})
        key = self.key_on(proxy, "shard2", "ex")
        c = proxy.redis_client(POOL)
        self.assertTrue(c.set(key, b"1"))
        with SentinelsPaused(topo, "shard2"):
            t0 = time.time()
            with self.assertRaises(Exception) as cm:
                c.get(key)
            waited = time.time() - t0
            self.assertIn("failover_hold", str(cm.exception))
            self.assertGreaterEqual(waited, 0.3, "failed before failover_hold ran out")
            st = proxy.wait_stats(lambda d: d[POOL]["shard2"]["hold_expired"] >= 1)[POOL]
            self.assertGreaterEqual(st["shard2"]["held"], 1, st)
            # The other shard is not held up.
            other = self.key_on(proxy, "shard1", "ok")
            self.assertTrue(c.set(other, b"2"))
            self.assertEqual(c.get(other), b"2")
        self.assert_stops_cleanly(proxy)

    def test_master_back_at_its_address(self):
        topo = self.start_sentinels()
        proxy = self.start_proxy({POOL: hold_pool(topo, 30000)})
        key = self.key_on(proxy, "shard2", "back")
        c = proxy.redis_client(POOL)
        self.assertTrue(c.set(key, b"before"))
        with SentinelsPaused(topo, "shard2") as master:
            t, out = self.async_request(proxy, b"SET", key, b"after")
            time.sleep(0.5)
            self.assertEqual(out, [], "the request waits while the master is down")
            back = self._started(harness.RedisServer(self.tmpdir, port=master.port))
            t.join(30)
            self.assertEqual(len(out), 1, "no reply within 30 s of the master's return")
            self.assertEqual(out[0][0], b"OK")
            self.assertEqual(back.client().get(key), b"after")
        self.assertGreaterEqual(self.server_stats(proxy, "shard2")["held"], 1)
        self.assert_stops_cleanly(proxy)

    def test_written_request_fails_later_one_waits(self):
        topo = self.start_sentinels()
        proxy = self.start_proxy({POOL: hold_pool(topo, 30000)})
        key = self.key_on(proxy, "shard2", "wr")
        old = topo.master_address("shard2")
        c = proxy.redis_client(POOL)
        self.assertTrue(c.set(key, b"v"))
        replica = topo.replicas["shard2"][0].client()
        harness.wait_until(lambda: replica.get(key) == b"v", 10, "the replica to have the key")
        watch = topo.watch()
        topo.server(old).send_signal(signal.SIGSTOP)
        t1, written = self.async_request(proxy, b"GET", key)  # reaches the stopped master
        time.sleep(0.3)
        topo.server(old).stop(signal.SIGKILL)
        t1.join(10)
        self.assertEqual(len(written), 1, "the written request is answered at once")
        self.assertIsInstance(written[0][0], harness.ReplyError, written)
        self.assertRegex(str(written[0][0]), WRITTEN_FAILURE)
        t2, later = self.async_request(proxy, b"GET", key)  # never reaches the dead master
        t_switch, _, new = watch.wait_switch("shard2")
        t2.join(30)
        self.assertEqual(len(later), 1, "no reply within 30 s of the switch")
        self.assertEqual(later[0][0], b"v", "held, then answered by the new master")
        self.assertGreaterEqual(later[0][1], t_switch - 0.5)
        self.assert_stops_cleanly(proxy)

    def test_no_hold_fails_at_once(self):
        topo = self.start_sentinels()
        proxy = self.start_proxy({POOL: hold_pool(topo, 0)})
        key = self.key_on(proxy, "shard2", "nh")
        c = proxy.redis_client(POOL)
        self.assertTrue(c.set(key, b"v"))
        with SentinelsPaused(topo, "shard2"):
            with self.assertRaises(Exception) as cm:
                c.get(key)
            self.assertNotIn("failover_hold", str(cm.exception))
            self.assertEqual(self.server_stats(proxy, "shard2")["held"], 0)
        self.assert_stops_cleanly(proxy)

    def replica_setup(self, replica_reads):
        """A slow failover (down-after 20 s: none comes during the test), a key on each shard
        written through the proxy and replicated; returns (proxy, shard1 key, shard2 key)."""
        topo = self.start_sentinels(down_after_ms=20000)
        proxy = self.start_proxy({POOL: hold_pool(topo, 1000,
                                                  failover_replica_reads=replica_reads)},
                                 log_level=6)
        k1, k2 = self.key_on(proxy, "shard1", "r1"), self.key_on(proxy, "shard2", "r2")
        c = proxy.redis_client(POOL)
        self.assertTrue(c.set(k1, b"one"))
        self.assertTrue(c.set(k2, b"two"))
        master = topo.server(topo.master_address("shard2"))
        replica = topo.replicas["shard2"][0].client()
        harness.wait_until(lambda: replica.get(k2) == b"two", 10, "shard2's replica to have %r"
                           % k2)
        if replica_reads:
            proxy.wait_for_log("server 'shard2' (Sentinel master 'shard2' at %s): replica for "
                               "reads" % master.address)
        master.stop(signal.SIGKILL)
        return proxy, c, k1, k2

    def test_replica_reads_while_master_down(self):
        proxy, c, k1, k2 = self.replica_setup(True)
        self.assertEqual(c.get(k2), b"two", "read from shard2's replica")
        self.assertEqual(c.mget([k1, k2]), [b"one", b"two"])
        with self.assertRaises(Exception) as cm:
            c.set(k2, b"three")  # writes wait for the master, then fail with the hold
        self.assertIn("failover_hold", str(cm.exception))
        st = self.server_stats(proxy, "shard2")
        self.assertGreaterEqual(st["replica_reads"], 2, st)
        self.assertEqual(self.server_stats(proxy, "shard1")["replica_reads"], 0)
        self.assertIn("reads go to replica", proxy.log())
        self.assert_stops_cleanly(proxy)

    def test_no_replica_reads_by_default(self):
        proxy, c, k1, k2 = self.replica_setup(False)
        with self.assertRaises(Exception) as cm:
            c.get(k2)
        self.assertIn("failover_hold", str(cm.exception))
        self.assertEqual(self.server_stats(proxy, "shard2")["replica_reads"], 0)
        self.assert_stops_cleanly(proxy)

    def test_config_check(self):
        ok = harness.pool(["127.0.0.1:%d:1 a" % harness.free_port()], redis=True,
                          sentinels=["127.0.0.1:%d" % harness.free_port()], failover_hold=2500)
        conf = harness.write_config(self.path("ok.yml"), {POOL: ok})
        r = harness.run_shardproxy(["-t", "-c", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("requests wait up to 2500 ms for a failover (failover_hold)", r.stderr)
        plain = harness.pool(["127.0.0.1:%d:1 a" % harness.free_port()], redis=True,
                             failover_hold=1000)
        conf = harness.write_config(self.path("plain.yml"), {POOL: plain})
        r = harness.run_shardproxy(["-t", "-c", conf])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("key 'failover_hold': only valid in a Sentinel pool", r.stderr)
        bad = harness.pool(["127.0.0.1:%d:1 a" % harness.free_port()], redis=True,
                           sentinels=["127.0.0.1:%d" % harness.free_port()], failover_hold=-5)
        conf = harness.write_config(self.path("bad.yml"), {POOL: bad})
        r = harness.run_shardproxy(["-t", "-c", conf])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("key 'failover_hold'", r.stderr)


if __name__ == "__main__":
    harness.main()
