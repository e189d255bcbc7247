# SPDX-License-Identifier: Apache-2.0
"""Scale-out as examples/deploy/ describes it: two shardproxy instances reading the same pools
behind a real HAProxy (the example's haproxy.cfg, on ports picked here).  Load runs through
HAProxy; one instance is killed; clients reconnect through HAProxy to the other, and every key
is found where it was - on the same backend, with its value - because identical configs place
keys identically."""

import os
import random
import shutil
import signal
import threading
import time

import redis
import yaml

import harness

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
EXAMPLE = os.path.join(os.environ.get("SP_SRCDIR", "."), "examples", "deploy")


class ScaleOut(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not os.access(HAPROXY, os.X_OK):
            self.fail("haproxy is not installed (Debian/RHEL package haproxy; scripts/install-deps)")

    def start_instances(self):
        """Three named redis backends, and two shardproxy instances on the example's pool."""
        with open(os.path.join(EXAMPLE, "shardproxy.yml")) as f:
            example = yaml.safe_load(f)
        self.backends = {}
        servers = []
        for entry in example["alpha"]["servers"]:
            name = entry.split()[1]
            r = self.start_redis()
            self.backends[name] = r
            servers.append("%s:1 %s" % (r.address, name))
        instances = []
        for _ in range(2):
            pool = dict(example["alpha"], servers=servers,
                        listen="%s:%d" % (harness.HOST, harness.free_port()))
            instances.append(self.start_proxy({"alpha": pool}))
        return instances

    def start_haproxy(self, instances):
        """The example's haproxy.cfg with this test's ports; returns the frontend port."""
        front = harness.free_port()
        with open(os.path.join(EXAMPLE, "haproxy.cfg")) as f:
            cfg = f.read()
        cfg = cfg.replace("127.0.0.1:6000", "%s:%d" % (harness.HOST, front))
        cfg = cfg.replace("127.0.0.1:22121", "%s:%d" % (harness.HOST, instances[0].port("alpha")))
        cfg = cfg.replace("127.0.0.1:22131", "%s:%d" % (harness.HOST, instances[1].port("alpha")))
        self.assertEqual(cfg.count(harness.HOST + ":"), 3, "the example's addresses changed?")
        path = self.path("haproxy.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        self.haproxy = self._started(harness.Server("haproxy", [HAPROXY, "-f", path, "-db"],
                                                    self.tmpdir, front))
        return front

    def client(self, port):
        return redis.Redis(host=harness.HOST, port=port, socket_timeout=5)

    def where(self, key):
        """The backends holding `key` (looked up directly, not through any proxy)."""
        return [name for name, r in self.backends.items() if r.client().exists(key)]

    def test_kill_one_instance_under_load(self):
        instances = self.start_instances()
        front = self.start_haproxy(instances)
        c = self.client(front)
        harness.wait_until(lambda: self.ping(c), 20, "haproxy to reach a shardproxy")
        keys = ["user:%d" % i for i in range(600)]
        for k in keys:
            c.set(k, "v-" + k)
        placed = {k: self.where(k) for k in keys}
        for k, where in placed.items():
            self.assertEqual(len(where), 1, (k, where))
        self.assertEqual(len(set(w[0] for w in placed.values())), 3, "keys on every backend")

        # Load through haproxy from several clients, each reconnecting when its connection dies.
        stop = threading.Event()
        stats = {"ok": 0, "reconnects": 0, "wrong": []}
        lock = threading.Lock()

        def worker(seed):
            rnd = random.Random(seed)
            cl = self.client(front)
            while not stop.is_set():
                k = rnd.choice(keys)
                try:
                    v = cl.get(k)
                except (redis.ConnectionError, redis.TimeoutError):
                    with lock:
                        stats["reconnects"] += 1
                    cl = self.client(front)  # a new connection, through haproxy again
                    time.sleep(0.02)
                    continue
                with lock:
                    stats["ok"] += 1
                    if v != ("v-" + k).encode():
                        stats["wrong"].append((k, v))
            cl.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        try:
            harness.wait_until(lambda: stats["ok"] > 300, 30, "load through haproxy")
            # The instance with clients on it: haproxy may have sent them all to one (its health
            # check marks an instance down for a while on a loaded machine).  Counted as
            # haproxy's established connections to each (/proc: live, where a stats snapshot
            # is up to an interval old and also counts health checks that come and go).
            def clients(p):
                return len(harness.tcp_connections(self.haproxy.pid, p.port("alpha")))
            harness.wait_until(lambda: sum(clients(p) for p in instances) >= len(threads), 10,
                               "haproxy to hold the load's connections")
            victim = max(instances, key=clients)
            survivor = instances[1] if victim is instances[0] else instances[0]
            self.assertGreater(clients(victim), 0)
            victim.stop(signal.SIGKILL)
            before = stats["ok"]
            # Clients of the dead instance reconnect to the live one and go on: every connection
            # of the load is the survivor's now.  (A client whose connection died while idle in
            # redis-py's pool reconnects silently, so `reconnects` may stay 0.)
            harness.wait_until(lambda: stats["ok"] > before + 1000, 60,
                               "load to go on after one instance died (%r)" % stats)
            harness.wait_until(lambda: clients(survivor) >= len(threads), 10,
                               "the load's connections all on the survivor")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(stats["wrong"], [])
        # Every key is found where it was: through haproxy (now the survivor only), with its
        # value, and still on the very backend it was written to.
        c = self.client(front)
        for k in keys:
            self.assertEqual(c.get(k), ("v-" + k).encode(), k)
        self.assertEqual({k: self.where(k) for k in keys}, placed)
        # New writes through the survivor land where the killed one would have put them.
        for k in keys[:50]:
            c.set(k, "w-" + k)
            self.assertEqual(self.where(k), placed[k], k)
        self.assertTrue(survivor.running())

    @staticmethod
    def ping(c):
        try:
            return c.ping()
        except redis.RedisError:
            return False


if __name__ == "__main__":
    harness.main()
