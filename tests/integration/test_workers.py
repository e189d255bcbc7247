# SPDX-License-Identifier: Apache-2.0
"""--workers N: N event loops in one process, each with its own listening socket per TCP pool (one
SO_REUSEPORT group), its own server connections and its own counters, summed in one stats JSON;
ejection decided once for the process, so every worker routes a key to the same server.

Real redis-servers on 127.0.0.1.  Many client connections spread over the workers (the kernel
picks a worker per connection); each test checks that both workers served (every worker opens
its own connection to a server it forwards to, so the summed server_connections tells) and that
placement is nutcracker's (golden data, tests/data/placement).  What needs one decision for the
whole process is decided by the first worker: ejection, Sentinel switches, migration phases.
"""

import os
import signal
import socket
import subprocess
import unittest

import yaml

import harness
import test_routing

PLACEMENT = os.path.join(test_routing.DATA, "placement")
CONNECTIONS = 32  # all on one worker of two: 2 ** -31
RETRY_MS = 5000   # server_retry_timeout of the ejection under load


def read_text(path):
    with open(path) as f:
        return f.read()


def threads(pid):
    """The daemon's workers: the main thread and those it named sp-worker-N (not the threads a
    sanitizer's runtime may add)."""
    names = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            names.append(read_text("/proc/%d/task/%s/comm" % (pid, tid)).strip())
        except FileNotFoundError:
            pass
    return 1 + sum(1 for n in names if n.startswith("sp-worker-"))


class Workers(harness.TestCase):
    def golden_pool(self, case):
        """The placement case's pool on fresh redis-servers (under the case's server names),
        with its expected owner of each key."""
        with open(os.path.join(PLACEMENT, case + ".yml")) as f:
            conf = yaml.safe_load(f)["alpha"]
        backends = {}
        for entry in conf["servers"]:
            addr = test_routing.parse_server(entry)[0]
            backends[addr] = self.start_redis()
        expected = test_routing.read_tsv(os.path.join(PLACEMENT, case + ".tsv"))
        return (test_routing.remap_pool(conf, backends, harness.free_port()), backends,
                dict(expected))

    def set_through(self, proxy, pool, keys):
        clients = [proxy.redis_client(pool) for _ in range(CONNECTIONS)]
        for i, key in enumerate(keys):
            self.assertTrue(clients[i % CONNECTIONS].set(key, b"v:" + key), key)
        for i, key in enumerate(keys):
            self.assertEqual(clients[(i + 7) % CONNECTIONS].get(key), b"v:" + key, key)
        return clients

    def assert_placed(self, backends, expected, keys):
        where = {}
        for addr, server in backends.items():
            for key in server.client().scan_iter(count=1000):
                self.assertNotIn(key, where, "key %r on two servers" % key)
                where[key] = addr
        wrong = [(k, expected[k], where.get(k)) for k in keys if where.get(k) != expected[k]]
        self.assertEqual(wrong[:5], [], "%d of %d keys misplaced (key, want, got)"
                         % (len(wrong), len(keys)))

    def assert_both_workers_served(self, proxy, pool, servers):
        """Each worker has its own connection to every server it forwarded to."""
        doc = proxy.wait_stats(lambda d: all(d[pool][s]["server_connections"] == 2
                                             for s in servers))
        return doc

    def test_keys_land_where_nutcracker_puts_them(self):
        keys = test_routing.read_keys(os.path.join(test_routing.DATA, "placement_keys.hex"))
        pools, expected, backends = {}, {}, {}
        for case in ("c_md5_ketama", "e_murmur_modula"):
            pools[case], backends[case], expected[case] = self.golden_pool(case)
        proxy = self.start_proxy(pools, args=["--workers", "2"])
        harness.wait_until(lambda: threads(proxy.proc.pid) == 2, 10, "2 named threads")
        for case in pools:
            with self.subTest(case=case):
                clients = self.set_through(proxy, case, keys)
                self.assert_placed(backends[case], expected[case], keys)
                names = [test_routing.parse_server(s)[2] for s in pools[case]["servers"]]
                self.assert_both_workers_served(proxy, case, names)
                # One JSON for the process: every request counted once, by the worker that
                # served it (a SET and a GET per key).
                doc = proxy.wait_stats(lambda d: sum(d[case][n]["responses"] for n in names)
                                       == 2 * len(keys))
                self.assertEqual(sum(doc[case][n]["requests"] for n in names), 2 * len(keys))
                self.assertEqual(doc[case]["client_connections"], CONNECTIONS)
        self.assert_stops_cleanly(proxy)

    def test_stats_have_the_single_worker_fields(self):
        r = [self.start_redis() for _ in range(2)]
        # md5: short keys like these spread evenly (fnv1a_64 + ketama put all 400 on one of two
        # servers on some pairs of ports, and that server then has no connection to count).
        pools = {"alpha": harness.pool(r, hash="md5", distribution="ketama")}
        one = self.start_proxy(pools)
        two = self.start_proxy({"alpha": dict(pools["alpha"], listen="%s:%d" % (
            harness.HOST, harness.free_port()))}, args=["--workers", "2"])
        keys = [b"k%d" % i for i in range(400)]
        clients = [self.set_through(p, "alpha", keys) for p in (one, two)]
        docs = [p.wait_stats(lambda d: sum(d["alpha"][s.address]["responses"] for s in r) == 800)
                for p in (one, two)]
        self.assertTrue(all(docs[0]["alpha"][s.address]["requests"] > 0 for s in r), docs[0])
        self.assertEqual(sorted(docs[0]), sorted(docs[1]))
        for s in r:
            self.assertEqual(sorted(docs[0]["alpha"][s.address]), sorted(docs[1]["alpha"][s.address]))
            for field in ("requests", "responses", "request_bytes", "response_bytes"):
                self.assertEqual(docs[0]["alpha"][s.address][field],
                                 docs[1]["alpha"][s.address][field], field)
        # Gauges add up too: 32 clients, and one connection per worker per server.
        self.assertEqual(docs[1]["alpha"]["client_connections"], CONNECTIONS)
        self.assertEqual([docs[1]["alpha"][s.address]["server_connections"] for s in r], [2, 2])
        metrics = harness.read_stats(two.stats_port,
                                     request=b"GET /metrics HTTP/1.0\r\n\r\n").decode()
        self.assertIn('shardproxy_pool_client_connections{pool="alpha"} %d' % CONNECTIONS, metrics)

    def test_reload_reaches_every_worker(self):
        r = [self.start_redis() for _ in range(3)]
        alpha = harness.pool(r[:2], hash="fnv1a_64", distribution="ketama")
        proxy = self.start_proxy({"alpha": alpha}, args=["--workers", "2"])
        keys = [b"r%d" % i for i in range(200)]
        self.set_through(proxy, "alpha", keys)
        # A new pool on a new port: both workers listen on it, both forward to its server.
        beta = harness.pool(r[2:], hash="fnv1a_64", distribution="ketama")
        offset = proxy.reload({"alpha": alpha, "beta": beta})
        proxy.wait_log_line(offset, ["reload", "in service"])
        self.set_through(proxy, "beta", keys)
        self.assert_both_workers_served(proxy, "beta", [r[2].address])
        self.assertEqual(r[2].client().dbsize(), len(keys))
        # The old pool kept its clients' connections and its counters across the reload.
        doc = proxy.stats()
        self.assertEqual(sum(doc["alpha"][s.address]["requests"] for s in r[:2]), 2 * len(keys))
        # A config that cannot be served is refused by every worker; the running one stays.
        offset = proxy.reload({"alpha": alpha, "gamma": dict(beta, listen=alpha["listen"])})
        line = proxy.wait_log_line(offset, ["reload:", "stays"])
        self.assertIn("the running configuration stays", line)
        import redis
        still = redis.Redis(host=harness.HOST, port=harness.listen_port_of(beta), socket_timeout=10)
        self.assertEqual(still.get(keys[0]), b"v:" + keys[0])
        still.close()
        # The pool removed: no worker listens on its port any more.
        offset = proxy.reload({"alpha": alpha})
        proxy.wait_log_line(offset, ["reload", "in service"])
        harness.wait_until(lambda: not harness.port_listening(harness.listen_port_of(beta)), 10,
                           "beta's port to close in both workers")
        for worker in ("(worker 0)", "(worker 1)"):  # each says it of its own clients
            proxy.wait_log_line(offset, ["'beta'", "every client of the removed pool", worker])
        self.assertEqual(proxy.redis_client("alpha").get(keys[1]), b"v:" + keys[1])
        self.assert_stops_cleanly(proxy)

    def test_an_ejection_reaches_every_worker_at_once(self):
        # Only one worker ever talks to the server that fails, so only it sees the failure; the
        # other must route that server's keys elsewhere from the same moment on, without one
        # failed request of its own (each worker deciding alone, its first request would fail).
        r = [self.start_redis() for _ in range(3)]
        ports = [int(s.port) for s in r]
        pools = {"alpha": harness.pool(r, hash="fnv1a_64", distribution="ketama",
                                       auto_eject_hosts=True, server_failure_limit=1,
                                       server_retry_timeout=1500)}
        proxy = self.start_proxy(pools, args=["--workers", "2"])
        # A key of each server: ask the proxy which one a key reached.
        owner = {}
        first = proxy.redis_client("alpha")
        for i in range(5000):
            if len(owner) == 3:
                break
            key = b"e%d" % i
            first.set(key, b"1")
            home = [s for s in r if s.client().get(key) is not None]
            owner.setdefault(home[0].port, key)
        victim = r[1]
        self.assertEqual(len(owner), 3, owner)
        key = owner[victim.port]
        clients = [proxy.redis_client("alpha") for _ in range(CONNECTIONS)]
        for c in clients:  # every connection open (on both workers) before the failure
            c.ping()
        victim.stop(signal.SIGKILL)
        # The worker of `first`, the only one connected to the victim, sees the connection close.
        proxy.wait_stats(lambda d: d["alpha"]["server_ejects"] == 1)
        for i, c in enumerate(clients):
            self.assertTrue(c.set(key, b"after %d" % i), i)
        survivors = [s for s in r if s is not victim]
        values = [s.client().get(key) for s in survivors]
        self.assertEqual(sum(v is not None for v in values), 1, values)
        self.assertIn(b"after %d" % (CONNECTIONS - 1), values)
        doc = proxy.stats()
        self.assertEqual(doc["alpha"]["server_ejects"], 1)
        self.assertEqual(doc["alpha"]["forward_error"], 0)
        # Back on its port after the retry time: every worker routes its keys to it again.
        back = self.start_redis(port=ports[1])
        offset = len(proxy.log())
        harness.wait_until(lambda: (clients[0].get(b"poke"), "3 of 3 servers live" in
                                    proxy.log()[offset:])[1], 10, "the server back in")
        for i, c in enumerate(clients):
            self.assertTrue(c.set(key, b"back %d" % i), i)
        self.assertEqual(back.client().get(key), b"back %d" % (CONNECTIONS - 1))
        self.assertEqual([s.client().get(key) for s in survivors], values)
        self.assert_stops_cleanly(proxy)

    def test_ejection_and_return_under_load(self):
        """The same under load: 16 connections over both workers INCR the failing server's
        keys without a pause.  Once the ejection is decided no request fails and each key
        lives on one fallback server only; once the server is back, no worker writes to the
        fallbacks any more (their values stand still while the load goes on)."""
        import threading
        import time
        r = [self.start_redis() for _ in range(3)]
        victim, survivors = r[1], [r[0], r[2]]
        pools = {"alpha": harness.pool(r, hash="md5", distribution="ketama",
                                       auto_eject_hosts=True, server_failure_limit=1,
                                       server_retry_timeout=RETRY_MS)}
        proxy = self.start_proxy(pools, args=["--workers", "2"])
        keys = harness.spread_keys("load", 300)
        placed = harness.oracle_place(proxy.conf_path, keys, self.tmpdir, pool="alpha")
        keys = [k for k in keys if placed[k][0] == victim.address]
        self.assertGreater(len(keys), 30)
        stop, errors, done = threading.Event(), [], [0]

        def load(seed):
            import random
            import redis
            rnd = random.Random(seed)
            c = proxy.redis_client("alpha")
            while not stop.is_set():
                try:
                    c.incr(rnd.choice(keys))
                    done[0] += 1
                except redis.RedisError:
                    errors.append(time.monotonic())
                    c = proxy.redis_client("alpha")
                    time.sleep(0.01)

        threads = [threading.Thread(target=load, args=(i,)) for i in range(CONNECTIONS // 2)]
        for t in threads:
            t.start()
        try:
            harness.wait_until(lambda: done[0] > 500, 20, "the load")
            self.assert_both_workers_served(proxy, "alpha", [victim.address])
            victim.stop(signal.SIGKILL)
            proxy.wait_stats(lambda d: d["alpha"]["server_ejects"] >= 1)
            ejected = time.monotonic()
            at = done[0]
            harness.wait_until(lambda: done[0] > at + 500, 20, "the load on the fallbacks")
            where = {k: [s for s in survivors if s.client().exists(k)] for k in keys}
            self.assertEqual([k for k in keys if len(where[k]) != 1], [],
                             "keys on both fallbacks, or none")
            # Until the retry time, when the dead server is tried again (and its requests fail,
            # as nutcracker's do), from half a second after the ejection was seen.
            late = [round(t - ejected, 3) for t in errors
                    if ejected + 0.5 < t < ejected + RETRY_MS / 1000.0 - 0.5]
            self.assertEqual(late, [], "requests failed after the ejection (s after it)")
            offset = len(proxy.log())
            back = self.start_redis(port=int(victim.port))
            proxy.wait_log_line(offset, ["3 of 3 servers live"])
            time.sleep(0.5)  # what was routed to the fallbacks before has run

            def fallbacks():
                return {k: where[k][0].client().get(k) for k in keys}
            before, at = fallbacks(), done[0]
            harness.wait_until(lambda: done[0] > at + 1000, 20, "the load on the server back")
            self.assertEqual(fallbacks(), before, "a worker still writes to the fallbacks")
            self.assertGreater(sum(int(back.client().get(k) or 0) for k in keys), 500)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assert_stops_cleanly(proxy)

    def test_a_sentinel_switch_reaches_every_worker(self):
        # The leader alone follows Sentinel; every worker's connections must follow the switch.
        # A follower left at the dead address would hold its requests until failover_hold ran
        # out (the master never comes back there) and then fail them.
        topo = self.start_sentinels()
        pool = harness.pool(["%s:1 %s" % (topo.master_address(n), n) for n in topo.names],
                            redis=True, hash="fnv1a_64", distribution="ketama", timeout=3000,
                            sentinels=topo.sentinel_addresses(), failover_hold=8000)
        proxy = self.start_proxy({"ha": pool}, args=["--workers", "2"])
        keys = harness.spread_keys("sw", 200)
        home = {k: name for k, (_, name) in
                harness.oracle_place(proxy.conf_path, keys, self.tmpdir, pool="ha").items()}
        key = next(k for k in keys if home[k] == "shard2")
        clients = [proxy.redis_client("ha") for _ in range(CONNECTIONS)]
        for i, c in enumerate(clients):
            self.assertTrue(c.set(key, b"before %d" % i))
        offset = len(proxy.log())
        old = topo.kill_master_in_sync("shard2")
        new = topo.wait_switched("shard2", old)
        for i, c in enumerate(clients):
            self.assertTrue(c.set(key, b"after %d" % i), i)
        self.assertEqual(topo.server(new).client().get(key), b"after %d" % (CONNECTIONS - 1))
        doc = proxy.wait_stats(lambda d: d["ha"]["shard2"]["responses"] >= 2 * CONNECTIONS)
        self.assertEqual(doc["ha"]["shard2"]["failovers"], 1, "counted once for the process")
        self.assertEqual(doc["ha"]["shard2"]["hold_expired"], 0)
        self.assertEqual(doc["ha"]["shard2"]["server_connections"], 2, "one per worker")
        moved = [line for line in proxy.log()[offset:].splitlines()
                 if "server 'shard2' (master 'shard2') is at %s now" % new in line]
        self.assertEqual(len(moved), 1, "one log line for the process: %s" % moved)
        self.assert_stops_cleanly(proxy)

    def test_replica_reads_in_every_worker(self):
        # The replica to read from is the leader's Sentinel client's choice, told to every
        # worker: reads through connections on both workers are answered while the master is
        # down (a follower without it would hold them for failover_hold, then fail them).
        topo = self.start_sentinels(down_after_ms=20000)  # no failover during the test
        pool = harness.pool(["%s:1 %s" % (topo.master_address(n), n) for n in topo.names],
                            redis=True, hash="fnv1a_64", distribution="ketama", timeout=3000,
                            sentinels=topo.sentinel_addresses(), failover_hold=1000,
                            failover_replica_reads=True)
        proxy = self.start_proxy({"ha": pool}, args=["--workers", "2"], log_level=6)
        keys = harness.spread_keys("rr", 200)
        home = {k: name for k, (_, name) in
                harness.oracle_place(proxy.conf_path, keys, self.tmpdir, pool="ha").items()}
        key = next(k for k in keys if home[k] == "shard2")
        self.assertTrue(proxy.redis_client("ha").set(key, b"two"))
        master = topo.server(topo.master_address("shard2"))
        replica = topo.replicas["shard2"][0].client()
        harness.wait_until(lambda: replica.get(key) == b"two", 10, "the replica to have the key")
        proxy.wait_for_log("server 'shard2' (Sentinel master 'shard2' at %s): replica for reads"
                           % master.address)
        clients = [proxy.redis_client("ha") for _ in range(CONNECTIONS)]
        for c in clients:
            c.ping()
        master.stop(signal.SIGKILL)
        for i, c in enumerate(clients):
            self.assertEqual(c.get(key), b"two", i)
        doc = proxy.wait_stats(lambda d: d["ha"]["shard2"]["replica_reads"] >= CONNECTIONS)
        self.assertEqual(doc["ha"]["shard2"]["hold_expired"], 0)
        self.assert_stops_cleanly(proxy)

    def test_migration_phases_are_one_decision(self):
        """A migrating pool: the leader's survey decides each phase once (one log line each) and
        every worker takes it; clients of both workers then find every key, moved to its new
        owner by whichever worker met it first."""
        r = [self.start_redis() for _ in range(3)]
        old = harness.pool(r[:2], hash="md5", distribution="ketama")  # fnv1a_64 clusters m0..m399
        proxy = self.start_proxy({"alpha": old}, args=["--workers", "2"])
        keys = [b"m%d" % i for i in range(400)]
        clients = self.set_through(proxy, "alpha", keys)
        final = dict(old, servers=harness.pool(r)["servers"])
        offset = proxy.reload({"alpha": dict(final, migrate_from={"servers": old["servers"]})})
        proxy.wait_log_line(offset, ["reload", "in service"])
        proxy.wait_log_line(offset, ["migration", "-> armed"])
        for i, key in enumerate(keys):
            self.assertEqual(clients[(i + 3) % CONNECTIONS].get(key), b"v:" + key, key)
        # Each change said once (the followers' would repeat it), the last one armed.
        phases = [line.split("migration ", 1)[1].split(" (")[0]
                  for line in proxy.log()[offset:].splitlines() if "migration" in line]
        self.assertEqual(len(phases), len(set(phases)), phases)
        self.assertTrue(phases[-1].endswith("ready -> armed"), phases)
        placed = harness.oracle_place(harness.write_config(self.path("final.yml"),
                                                           {"alpha": final}),
                                      keys, self.tmpdir, pool="alpha")
        backends = {s.address: s for s in r}
        self.assert_placed(backends, {k: placed[k][0] for k in keys}, keys)
        self.assertGreater(sum(1 for k in keys if placed[k][0] == r[2].address), 50)
        self.assert_both_workers_served(proxy, "alpha", [r[2].address])
        # Each worker's connections carry the phase (the leader told it), none still waiting.
        names = [c["name"] for s in r for c in s.client().client_list() if c["name"]]
        self.assertEqual(sorted(set(n.rsplit(":", 1)[1] for n in names)), ["armed"], names)
        self.assert_stops_cleanly(proxy)

    def test_unix_socket_pool_is_served_too(self):
        r = self.start_redis()
        sock = self.path("alpha.sock")
        pools = {"alpha": harness.pool([r], listen=sock + " 0600"),
                 "beta": harness.pool([r])}
        proxy = self.start_proxy(pools, args=["--workers", "2"])
        harness.wait_until(lambda: os.path.exists(sock), 10, "the unix socket")
        import redis
        c = redis.Redis(unix_socket_path=sock, socket_timeout=10)
        self.assertTrue(c.set("u", "1"))
        self.assertEqual(proxy.redis_client("beta").get("u"), b"1")
        self.assert_stops_cleanly(proxy)
        self.assertFalse(os.path.exists(sock))

    def test_a_port_someone_else_listens_on_is_refused(self):
        # Even a listener in an SO_REUSEPORT group of its own: the workers must not join it.
        r = self.start_redis()
        for reuseport in (False, True):
            with self.subTest(reuseport=reuseport):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if reuseport:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                s.bind((harness.HOST, 0))
                s.listen(5)
                port = s.getsockname()[1]
                path = harness.write_config(self.path("busy.yml"),
                                            {"p": harness.pool([r], listen_port=port)})
                got = harness.run_shardproxy(["-c", path, "--workers", "2",
                                              "-s", harness.free_port(), "-a", harness.HOST])
                s.close()
                self.assertEqual(got.returncode, 1, got.stderr)
                self.assertIn("listen on 127.0.0.1:%d failed: Address already in use" % port,
                              got.stderr)

    def test_daemon_auto_workers_and_signals(self):
        r = self.start_redis()
        port = harness.free_port()
        conf = harness.write_config(self.path("d.yml"), {"alpha": harness.pool([r], listen_port=port)})
        pid_file, log_file = self.path("d.pid"), self.path("d.log")
        self.stop_matching_on_cleanup(conf)
        got = harness.run_shardproxy(["-d", "-c", conf, "-p", pid_file, "-o", log_file,
                                      "--workers", "auto", "-s", harness.free_port(),
                                      "-a", harness.HOST])
        self.assertEqual(got.returncode, 0, got.stderr)
        pid = harness.read_pid_file(pid_file)
        cpus = min(os.cpu_count(), 64)
        # The threads start after the fork: the daemon has them all.
        harness.wait_until(lambda: threads(pid) == cpus, 10, "%d threads" % cpus)
        harness.wait_until(lambda: harness.port_listening(port), 10, "the pool's port")
        import redis
        c = redis.Redis(host=harness.HOST, port=port, socket_timeout=10)
        self.assertTrue(c.set("d", "1"))
        # SIGUSR1 (a reload) and SIGTTIN (log level) go to the main thread and work.
        os.kill(pid, signal.SIGTTIN)
        harness.wait_until(lambda: "log level" in read_text(log_file), 10,
                           "SIGTTIN's line")
        self.assertTrue(harness.kill_pid(pid, signal.SIGTERM))
        self.assertFalse(os.path.exists(pid_file))
        with open(log_file) as f:
            text = f.read()
        self.assertIn("%d workers: each with its own event loop" % cpus if cpus > 1 else
                      "started on pid", text)
        self.assertIn("exiting on SIGTERM with status 0", text)
        self.assertNotIn("ThreadSanitizer", text)   # a --enable-tsan build: its stderr is the log


if __name__ == "__main__":
    unittest.main()
