# SPDX-License-Identifier: Apache-2.0
"""The Sentinel client (proxy/sentinel) against real redis-sentinel: 2 shards x (master + replica)
watched by 3 Sentinels on 127.0.0.1 (harness.SentinelTopology), driven by
tests/integration/sentinel_driver, which prints each callback with its time.

Cases: start with all up; the YAML's address already failed over; one Sentinel down at start;
a killed master's switch reported within milliseconds of the Sentinels' own +switch-master; one
Sentinel killed, then the other shard failed over; SENTINEL FAILOVER; a Sentinel that does not
know a master; a SIGSTOPped Sentinel; AUTH (password, ACL user, wrong password); a
partitioned Sentinel with an old view (a fake one) that must never flip a master back; and each
master's replica for reads: reported, never the new master nor a dead old one after a failover,
and learnt through SENTINEL SLAVES from a Sentinel that refuses SENTINEL REPLICAS."""

import os
import signal
import socketserver
import subprocess
import threading
import time

import harness

# Fast enough for tests, slow enough for a loaded 2-core machine.
DRIVER_OPTS = ["--interval", "200", "--timeout", "600", "--backoff-min", "50",
               "--backoff-max", "400"]


def driver_binary():
    return os.path.join(harness.builddir(), "tests", "integration", "sentinel_driver")


class Driver(harness.Process):
    """sentinel_driver on a one-pool config; its stdout lines parsed."""

    def __init__(self, test, sentinels, servers, name="ha", extra_args=(), **keys):
        pool = {"listen": "%s:%d" % (harness.HOST, harness.free_port()), "redis": True,
                "sentinels": list(sentinels)}
        pool.update(keys)
        pool["servers"] = list(servers)
        conf = harness.write_config(test.path("%s.yml" % name), {name: pool})
        self.log_path = test.path("%s.log" % name)
        super().__init__("driver-" + name, [driver_binary(), "-c", conf, "-o", self.log_path,
                                            "-v", "6"] + DRIVER_OPTS + list(extra_args),
                         test.tmpdir)
        test.addCleanup(self.finish)
        harness.wait_until(lambda: "ready" in self.output(), harness.START_TIMEOUT,
                           "the driver to start", self.check_running)

    def finish(self):
        """Stops it with SIGTERM: it must exit 0 (sanitizer builds check the teardown)."""
        if self.running():
            rc = self.stop()
            if rc != 0:
                raise harness.HarnessError("driver exited %s:\n%s" % (rc, self.output()))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def masters(self, server=None):
        """[(time, server, master, "host:port", why, epoch, sentinel)] of `master` lines."""
        out = []
        for line in self.output().splitlines():
            f = line.split()
            if len(f) == 8 and f[1] == "master" and (server is None or f[2] == server):
                out.append((float(f[0]), f[2], f[3], f[4], f[5], int(f[6].split("=")[1]),
                            f[7].split("=")[1]))
        return out

    def states(self, server):
        return [(float(f[0]), f[4]) for f in (l.split() for l in self.output().splitlines())
                if len(f) == 6 and f[1] == "state" and f[2] == server]

    def replicas(self, server):
        """[(time, "host:port" or "none")] of `replica` lines."""
        return [(float(f[0]), f[4]) for f in (l.split() for l in self.output().splitlines())
                if len(f) == 5 and f[1] == "replica" and f[2] == server]

    def wait_replica(self, server, address, timeout=30):
        """Waits until the latest replica line of `server` says `address` ("none" too)."""
        def seen():
            r = self.replicas(server)
            return r and r[-1][1] == address
        harness.wait_until(seen, timeout, "the driver to report replica %s of %s\n%s"
                           % (address, server, self.output()), self.check_running)

    def wait_master(self, server, address, timeout=30):
        """Waits for a master line putting `server` at `address`; returns it."""
        def seen():
            return [m for m in self.masters(server) if m[3] == address]
        harness.wait_until(seen, timeout, "the driver to report %s at %s\n%s"
                           % (server, address, self.output()), self.check_running)
        return seen()[0]

    def wait_log(self, text, timeout=30):
        harness.wait_until(lambda: text in self.log(), timeout, "%r in the driver's log:\n%s"
                           % (text, self.log()), self.check_running)


class FakeSentinel(socketserver.ThreadingTCPServer):
    """A partitioned Sentinel: it answers at once, always with the old view (`view`: {master:
    ("host", port, epoch)}), and never publishes an event.  `replicas`: {master: [entry]}, each
    entry a flat [key, value, ...] list, answered to SENTINEL SLAVES, and to SENTINEL REPLICAS
    unless `refuse_replicas` (then an error, as Redis < 5 answers)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, view, replicas=None, refuse_replicas=False):
        self.view = view
        self.replicas = replicas or {}
        self.refuse_replicas = refuse_replicas
        self.commands = []  # every command received, lowercased
        super().__init__((harness.HOST, harness.free_port()), FakeSentinelHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "%s:%d" % self.server_address

    def stop(self):
        self.shutdown()
        self.server_close()


def bulk(s):
    s = s.encode() if isinstance(s, str) else s
    return b"$%d\r\n%s\r\n" % (len(s), s)


class FakeSentinelHandler(socketserver.StreamRequestHandler):
    def read_command(self):
        line = self.rfile.readline()
        if not line.startswith(b"*"):
            return None
        args = []
        for _ in range(int(line[1:])):
            n = int(self.rfile.readline()[1:])
            args.append(self.rfile.read(n + 2)[:-2].decode())
        return args

    def handle(self):
        view = self.server.view
        while True:
            args = self.read_command()
            if not args:
                return
            cmd = [a.lower() for a in args[:2]]
            self.server.commands.append(cmd)
            if cmd == ["sentinel", "replicas"] and self.server.refuse_replicas:
                out = b"-ERR Unknown sentinel subcommand 'replicas'\r\n"
            elif cmd in (["sentinel", "replicas"], ["sentinel", "slaves"]) and args[2] in view:
                entries = self.server.replicas.get(args[2], [])
                out = b"*%d\r\n" % len(entries) + b"".join(
                    b"*%d\r\n" % len(e) + b"".join(bulk(f) for f in e) for e in entries)
            elif cmd[0] == "subscribe":
                out = b"".join(b"*3\r\n" + bulk("subscribe") + bulk(c) + b":%d\r\n" % (i + 1)
                               for i, c in enumerate(args[1:]))
            elif cmd[0] == "ping":
                out = b"*2\r\n" + bulk("pong") + bulk("")
            elif cmd == ["sentinel", "get-master-addr-by-name"] and args[2] in view:
                host, port, _ = view[args[2]]
                out = b"*2\r\n" + bulk(host) + bulk(str(port))
            elif cmd == ["sentinel", "master"] and args[2] in view:
                host, port, epoch = view[args[2]]
                fields = ["name", args[2], "ip", host, "port", str(port), "flags", "master",
                          "config-epoch", str(epoch)]
                out = b"*%d\r\n" % len(fields) + b"".join(bulk(f) for f in fields)
            elif cmd[0] == "sentinel":
                out = b"*-1\r\n" if cmd[1] == "get-master-addr-by-name" else \
                    b"-ERR No such master with that name\r\n"
            else:
                out = b"+OK\r\n"
            self.wfile.write(out)


class SentinelClient(harness.TestCase):
    def named(self, topo, names=None):
        """Server lines naming each master after itself, at its current address."""
        return ["%s:1 %s" % (topo.master_address(n), n) for n in (names or topo.names)]

    def assert_first(self, driver, topo):
        for name in topo.names:
            m = driver.wait_master(name, topo.master_address(name))
            self.assertEqual(m[4], "first", m)

    def test_all_up(self):
        topo = self.start_sentinels()
        d = Driver(self, topo.sentinel_addresses(), self.named(topo))
        self.assert_first(d, topo)
        time.sleep(1)  # five query rounds: nothing more to report
        self.assertEqual(len(d.masters()), 2, d.output())
        quiet = [l for l in d.log().splitlines() if "replica for reads" not in l]
        self.assertNotIn("Sentinel 127.0.0.1",
                         "\n".join(quiet).replace("(first answer from Sentinel", ""))

    def test_yaml_address_already_failed_over(self):
        topo = self.start_sentinels()
        old = topo.master_address("shard1")
        topo.failover("shard1")
        new = topo.wait_switched("shard1", old)
        d = Driver(self, topo.sentinel_addresses(),
                   ["%s:1 shard1" % old, "%s:1 shard2" % topo.master_address("shard2")])
        m = d.wait_master("shard1", new)
        self.assertEqual(m[4], "first")
        self.assertGreater(m[5], 0, "a failed-over master has a config epoch above 0")
        self.assert_first(d, topo)

    def test_one_sentinel_down_at_start(self):
        topo = self.start_sentinels(down_sentinels=(0,))
        d = Driver(self, topo.sentinel_addresses(), self.named(topo))
        self.assert_first(d, topo)
        d.wait_log("Sentinel %s: Connection refused" % topo.sentinel_addresses()[0])
        # ... and it keeps trying (quietly) with backoff, not giving up.
        d.wait_log("Sentinel %s: Connection refused; reconnecting in 400 ms"
                   % topo.sentinel_addresses()[0])

    def assert_moved(self, m):
        # A +switch-master, or a query answer with the new config epoch: during the failover's
        # last phase the leader answers with the promoted master before announcing the switch.
        self.assertIn(m[4], ("switch", "newer"), m)

    def test_killed_master_switch_reported_at_once(self):
        topo = self.start_sentinels()
        # No periodic rounds: the switch must come from the event itself, or from a round that
        # the master's +sdown/+odown triggered (which may catch the failover's last phase and
        # report the promoted replica as "newer" before the event).
        d = Driver(self, topo.sentinel_addresses(), self.named(topo),
                   extra_args=["--interval", "600000"])
        self.assert_first(d, topo)
        watch = topo.watch()
        old = topo.kill_master("shard2")
        t_sentinel, _, new = watch.wait_switch("shard2")
        m = d.wait_master("shard2", new)
        self.assert_moved(m)
        lag_ms = (m[0] - t_sentinel) * 1000
        print("+switch-master seen by a test subscriber -> reported by the client: %.1f ms"
              % lag_ms)
        self.assertLess(lag_ms, 250, "the switch must be reported as the event arrives")
        self.assertNotEqual(new, old)
        self.assertEqual(len(d.masters("shard1")), 1, "the other shard did not move")
        # The Sentinels saw the master down before; the client said so, then up at the new one.
        states = [s for _, s in d.states("shard2")]
        self.assertIn("odown", states, d.output())
        self.assertEqual(states[-1], "up", d.output())
        self.assertEqual(topo.wait_switched("shard2", old), new)

    def test_one_sentinel_killed_then_other_shard_fails_over(self):
        topo = self.start_sentinels()
        d = Driver(self, topo.sentinel_addresses(), self.named(topo))
        self.assert_first(d, topo)
        topo.sentinels[0].stop(signal.SIGKILL)
        d.wait_log("Sentinel %s: closed the connection" % topo.sentinel_addresses()[0])
        old = topo.kill_master("shard1")
        new = topo.wait_switched("shard1", old)
        m = d.wait_master("shard1", new)
        self.assert_moved(m)
        self.assertNotEqual(m[6], topo.sentinel_addresses()[0])

    def test_manual_failover(self):
        topo = self.start_sentinels()
        d = Driver(self, topo.sentinel_addresses(), self.named(topo))
        self.assert_first(d, topo)
        old = topo.master_address("shard1")
        replica = topo.replicas["shard1"][0].address
        topo.failover("shard1")
        self.assert_moved(d.wait_master("shard1", replica))
        self.assertEqual(topo.wait_switched("shard1", old), replica)

    def test_sentinel_that_does_not_know_a_master(self):
        topo = self.start_sentinels(shards=1)
        servers = self.named(topo) + ["127.0.0.1:%d:1 nosuch" % harness.free_port()]
        d = Driver(self, topo.sentinel_addresses(), servers)
        self.assert_first(d, topo)
        d.wait_log("does not know master 'nosuch'")
        d.wait_log("Sentinel(s) that answered knows master 'nosuch'; using")
        time.sleep(0.5)  # rounds go on: logged once per Sentinel, not per round
        self.assertEqual(d.log().count("does not know master 'nosuch'"), 3, d.log())
        self.assertEqual(d.log().count("knows master 'nosuch'"), 1, d.log())
        self.assertEqual(d.masters("nosuch"), [])
        d.check_running()

    def test_stopped_sentinel_is_timed_out(self):
        topo = self.start_sentinels()
        stopped = topo.sentinels[0]
        stopped.pause()
        start = time.time()
        d = Driver(self, topo.sentinel_addresses(), self.named(topo))
        self.assert_first(d, topo)  # a majority answered: no need to wait for the stopped one
        print("decided with one Sentinel stopped after %.0f ms" % ((time.time() - start) * 1000))
        d.wait_log("Sentinel %s: no answer within 600 ms" % topo.sentinel_addresses()[0])
        old = topo.kill_master("shard2")
        new = topo.wait_switched("shard2", old)
        self.assert_moved(d.wait_master("shard2", new))
        stopped.resume()
        d.wait_log("Sentinel %s answers again" % topo.sentinel_addresses()[0])

    def test_auth(self):
        users = ["proxy on >proxypw ~* &* +@all"]
        topo = self.start_sentinels(shards=1, password="s3cret", users=users)
        d = Driver(self, topo.sentinel_addresses(), self.named(topo), name="pw",
                   sentinel_auth="s3cret")
        self.assert_first(d, topo)
        u = Driver(self, topo.sentinel_addresses(), self.named(topo), name="user",
                   sentinel_user="proxy", sentinel_auth="proxypw")
        self.assert_first(u, topo)
        bad = Driver(self, topo.sentinel_addresses(), self.named(topo), name="bad",
                     sentinel_auth="wrong")
        bad.wait_log("AUTH refused: WRONGPASS")
        none = Driver(self, topo.sentinel_addresses(), self.named(topo), name="none")
        none.wait_log("NOAUTH Authentication required. (set sentinel_auth / sentinel_user)")
        self.assertEqual(bad.masters() + none.masters(), [])

    def test_partitioned_sentinel_never_flips_a_master_back(self):
        topo = self.start_sentinels()
        old = topo.master_address("shard1")
        topo.failover("shard1")
        new = topo.wait_switched("shard1", old)
        host, port = old.rsplit(":", 1)
        fake = FakeSentinel({"shard1": (host, int(port), 0)})  # before the failover
        self.addCleanup(fake.stop)
        # The fake answers first (listed first, no work to do); the majority's newer epoch wins.
        sentinels = [fake.address] + topo.sentinel_addresses()[:2]
        d = Driver(self, sentinels, ["%s:1 shard1" % old])
        m = d.wait_master("shard1", new)
        self.assertEqual(m[4], "first", d.output())
        time.sleep(1.5)  # seven query rounds with the fake still saying `old`
        self.assertEqual([x[3] for x in d.masters("shard1")], [new], d.output())
        d.wait_log("Sentinel %s says master 'shard1' is at %s (config epoch 0)" % (fake.address,
                                                                                   old))
        # Now a real failover back: the fake keeps its view, the switch is followed.
        topo.failover("shard1")
        back = topo.wait_switched("shard1", new)
        self.assert_moved(d.wait_master("shard1", back))


class Replicas(harness.TestCase):
    """The replica for reads each master has (sp_sentinel_replica), as the driver reports it."""

    def test_each_master_reports_its_replica(self):
        topo = self.start_sentinels()
        d = Driver(self, topo.sentinel_addresses(), ["%s:1 %s" % (topo.master_address(n), n)
                                                     for n in topo.names])
        for name in topo.names:
            d.wait_replica(name, topo.replicas[name][0].address)
        time.sleep(1)  # five query rounds: the choice holds
        for name in topo.names:
            self.assertEqual({r for _, r in d.replicas(name)},
                             {topo.replicas[name][0].address}, d.output())
        self.assertEqual(d.log().count("replica for reads"), 2, d.log())

    def test_after_a_failover_never_the_new_master_nor_the_dead_one(self):
        topo = self.start_sentinels()
        d = Driver(self, topo.sentinel_addresses(), ["%s:1 %s" % (topo.master_address(n), n)
                                                     for n in topo.names])
        replica = topo.replicas["shard2"][0].address
        d.wait_replica("shard2", replica)
        old = topo.kill_master("shard2")
        new = topo.wait_switched("shard2", old)
        self.assertEqual(new, replica)
        switched = d.wait_master("shard2", new)
        # One replica per shard: none is left until the old master is back as a replica.
        d.wait_replica("shard2", "none")
        after = [r for t, r in d.replicas("shard2") if t >= switched[0]]
        self.assertLessEqual(set(after), {"none"}, d.output())
        # Before, its replica was the one to read from while the master was down (or none,
        # from a Sentinel that saw it report the master role it is being promoted to).
        before = [r for t, r in d.replicas("shard2") if t < switched[0]]
        self.assertEqual(before[0], replica, d.output())
        self.assertLessEqual(set(before), {replica, "none"}, d.output())
        time.sleep(1)  # five query rounds with the old master dead: still none
        self.assertEqual(d.replicas("shard2")[-1][1], "none", d.output())
        self.assertNotIn(old, {r for _, r in d.replicas("shard2")}, d.output())
        # The old master comes back: Sentinel turns it into a replica of the new one (once it
        # has reported the master role for 8 s: until then it is unfit, it may be empty).
        back = self.start_redis(port=int(old.rsplit(":", 1)[1]),
                                extra_args=["--repl-diskless-sync-delay", "0"])
        d.wait_replica("shard2", old, timeout=90)
        self.assertEqual(back.client().execute_command("ROLE")[0], b"slave",
                         "reported only once it is a replica")
        self.assertNotIn(new, {r for t, r in d.replicas("shard2") if t >= switched[0]},
                         d.output())
        self.assertEqual({r for _, r in d.replicas("shard1")},
                         {topo.replicas["shard1"][0].address}, "the other shard did not move")

    def test_sentinel_refusing_replicas_is_asked_slaves(self):
        def entry(host, port, flags, offset):
            return ["name", "%s:%d" % (host, port), "ip", host, "port", str(port),
                    "flags", flags, "role-reported", "slave", "master-link-status", "err",
                    "slave-repl-offset", str(offset)]
        master = ("10.255.0.1", 6379, 3)
        listed = [entry("10.255.0.2", 6379, "slave", 100),
                  entry("10.255.0.3", 6379, "slave", 250),
                  entry("10.255.0.4", 6379, "slave,s_down", 900),
                  entry("10.255.0.5", 6379, "slave,disconnected", 800),
                  ["ip", "10.255.0.6"],                       # malformed: no port
                  entry("10.255.0.1", 6379, "slave", 999)]    # the master itself
        fake = FakeSentinel({"m1": master}, {"m1": listed}, refuse_replicas=True)
        self.addCleanup(fake.stop)
        d = Driver(self, [fake.address], ["10.255.0.1:6379:1 m1"])
        d.wait_master("m1", "10.255.0.1:6379")
        d.wait_replica("m1", "10.255.0.3:6379")  # the freshest fit one
        d.wait_log("Sentinel %s refuses SENTINEL REPLICAS (ERR Unknown sentinel subcommand "
                   "'replicas'): asking SENTINEL SLAVES" % fake.address)
        d.wait_log("SENTINEL REPLICAS m1: 0 replica(s) beyond the first 16 and 1 malformed one(s) "
                   "ignored")
        time.sleep(0.5)  # more rounds: SLAVES from now on, and nothing logged again
        self.assertEqual(d.log().count("refuses SENTINEL REPLICAS"), 1, d.log())
        self.assertEqual(d.log().count("malformed"), 1, d.log())
        asked = [c[1] for c in fake.commands if c[0] == "sentinel" and
                 c[1] in ("replicas", "slaves")]
        self.assertEqual(asked[0], "replicas")
        self.assertGreater(asked.count("slaves"), 2, asked)
        self.assertEqual(asked.count("replicas"), 1, asked)
        self.assertEqual([r for _, r in d.replicas("m1")], ["10.255.0.3:6379"], d.output())


class MoveToSentinelPool(harness.TestCase):
    """A nutcracker pool of unnamed servers converted to a Sentinel pool (each server named after
    its address, mapped to its master in sentinel_masters) moves no key: `shardoracle diff` says
    0, and the proxy on the new file finds every key the proxy on the old one wrote, where the
    oracle says."""

    def convert(self, topo, distribution):
        seed = harness.pool(["%s:1" % topo.master_address(n) for n in topo.names], redis=True,
                            hash="fnv1a_64", distribution=distribution)
        ha = dict(seed, listen="%s:%d" % (harness.HOST, harness.free_port()),
                  sentinels=topo.sentinel_addresses(),
                  sentinel_masters={topo.master_address(n): n for n in topo.names},
                  servers=["%s:1 %s" % (topo.master_address(n), topo.master_address(n))
                           for n in topo.names])
        return seed, ha

    def test_no_key_moves(self):
        topo = self.start_sentinels()
        keys = [b"user:%d" % i for i in range(2000)]
        keyfile = self.path("keys.txt")
        with open(keyfile, "wb") as f:
            f.write(b"".join(k + b"\n" for k in keys))
        for dist in ("ketama", "modula"):
            for s in topo.masters.values():
                s.client().flushall()
            seed, ha = self.convert(topo, dist)
            old = harness.write_config(self.path("seed-%s.yml" % dist), {"p": seed})
            new = harness.write_config(self.path("ha-%s.yml" % dist), {"p": ha})
            self.assertEqual(harness.run_shardproxy(["-t", "-c", new]).returncode, 0)
            diff = subprocess.run([harness.shardoracle_binary(), "diff", "-c", old, "--to", new,
                                   "--list", keyfile], stdout=subprocess.PIPE, text=True,
                                  check=True)
            self.assertEqual(diff.stdout, "", "keys that would move (%s)" % dist)
            p1 = self.start_proxy({"p": seed})
            c = p1.redis_client("p")
            pipe = c.pipeline(transaction=False)
            for k in keys:
                pipe.set(k, k)
            pipe.execute()
            p1.stop()
            p2 = self.start_proxy({"p": ha}, conf_path=new)
            self.assertEqual(p2.redis_client("p").mget(keys), keys, dist)
            place = subprocess.run([harness.shardoracle_binary(), "place", "-c", new, keyfile],
                                   stdout=subprocess.PIPE, text=True, check=True).stdout
            for line in place.splitlines():
                key, addr = line.split("\t")[:2]
                self.assertEqual(topo.server(addr).client().get(key), key.encode(), (dist, key))
            p2.stop()


if __name__ == "__main__":
    harness.main()
