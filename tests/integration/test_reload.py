# SPDX-License-Identifier: Apache-2.0
"""Hot reload (issue #8): SIGUSR1 re-reads the -c file and applies it in place.

Every test runs a steady read/write load, every reply checked against a model
(harness.ModelLoad), through a pool that no reload changes ("steady"); its clients must stay
connected and get only right answers, its connections to its servers must stay open (same local
ports), and its stats must carry on counting, whatever happens to the other pools.

* Server changes in one pool ("mover": add a server, remove one, change a weight, the hash, the
  distribution), one reload each: a client of that pool stays connected; the keys written after
  the reload are where `shardoracle place` says for the new file, and the keys that changed server
  are exactly `shardoracle diff --list` (a fixed key set routed before and after, found on the
  backends); connections to servers that remain are kept; their counters go on and new servers
  appear in the stats.
* Pool changes: a new pool answers; a removed pool stops listening, its idle client is closed and
  its client with a reply in flight (the backend stopped with SIGSTOP) gets that reply, then EOF;
  a pool whose listen port changed closes its clients and old port and answers on the new one.
* Broken files (a YAML error; an unknown hash in a file that also drops the steady pool) change
  nothing, and the log says why on a line with "reload" and the error; a good file then applies.

The reload is done when the log has a line naming the pool and the word "reload" (the wording is
the proxy's).  Against a proxy without hot reload every test fails waiting for that line."""

import os
import signal

import harness
from rawresp import RawClient, bulk, enc

os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", harness.build_plugin_path())

STEADY_KEYS = harness.spread_keys("steady", 300)
MOVER_KEYS = harness.spread_keys("m", 600)


def servers_of(pool):
    """{server name: address} of a pool dict (an unnamed server is named after its address, as
    in the stats)."""
    out = {}
    for entry in pool["servers"]:
        fields = entry.split()
        addr = fields[0].rsplit(":", 1)[0]
        out[fields[1] if len(fields) > 1 else addr] = addr
    return out


class Reload(harness.TestCase):
    # --- the steady pool and its load -----------------------------------------------------------

    def start_steady(self):
        """Two backends and the pool over them, named s0 and s1."""
        self.steady_backends = {"s%d" % i: self.start_redis() for i in range(2)}
        return harness.pool(["%s:1 %s" % (b.address, n) for n, b in
                             self.steady_backends.items()], redis=True)

    def start_load(self, proxy):
        self.load = harness.ModelLoad(self, proxy.port("steady"), STEADY_KEYS).start()
        self.assertTrue(self.load.wait_acked(set(STEADY_KEYS), 0, 20), "no steady state")
        self.steady_conns = self.connections(proxy, self.steady_backends.values())
        self.assertTrue(all(self.steady_conns.values()), self.steady_conns)

    def assert_steady(self, proxy, when):
        """The load saw nothing wrong so far, the proxy kept its connections to the steady
        pool's servers, and the pool's stats still count the load's clients (carried over, not
        started again from 0)."""
        self.assertEqual(self.load.problems(), [], "steady pool, %s" % when)
        if not self.load.stopping.is_set():
            clients = len(self.load.clients)
            self.assert_waits(lambda: proxy.wait_stats(
                lambda d: d.get("steady", {}).get("client_connections", 0) >= clients,
                timeout=10), "%s: the steady pool's %d clients in the stats" % (when, clients))
        now = self.connections(proxy, self.steady_backends.values())
        for addr, ports in self.steady_conns.items():
            self.assertTrue(ports <= now[addr], "%s: connections to %s %s closed (now %s)"
                            % (when, addr, sorted(ports - now[addr]), sorted(now[addr])))

    def finish_load(self, proxy):
        self.load.stop()
        self.assert_steady(proxy, "at the end")
        placed = harness.oracle_place(proxy.conf_path, STEADY_KEYS, self.tmpdir, pool="steady")
        problems = self.load.read_back() + self.load.backend_problems(
            {k: name for k, (_, name) in placed.items()},
            {n: b.client() for n, b in self.steady_backends.items()})
        self.assertEqual(problems, [], "\n".join(problems))
        self.assert_stops_cleanly(proxy)

    # --- helpers --------------------------------------------------------------------------------

    def connections(self, proxy, backends):
        """{backend address: local ports of the proxy's connections to it}."""
        return {b.address: harness.tcp_connections(proxy.pid, b.port) for b in backends}

    def reload(self, proxy, pools, pool, what):
        """Reloads `pools` and waits for the log line saying pool `pool` was reloaded; returns
        a copy of the new file (for the oracle)."""
        offset = proxy.reload(pools)
        self.assert_waits(lambda: proxy.wait_log_line(offset, ["reload", pool]),
                          "%s: no reload logged for pool '%s'" % (what, pool))
        return harness.write_config(self.path("conf-%d.yml" % offset), pools)

    def route(self, client, backends, keys, what):
        """Flushes `backends`, SETs every key through `client` (a RawClient on a pool) and
        returns {key: address of the backend that holds it}."""
        for b in backends:
            b.client().flushall()
        try:
            client.send(*(enc(b"SET", k, k) for k in keys))
            replies = client.read_replies(len(keys))
        except (EOFError, OSError) as e:
            self.fail("%s: the pool's client lost its connection: %s" % (what, e))
        self.assertEqual(set(replies), {b"+OK\r\n"}, what)
        where, wanted = {}, set(keys)
        for b in backends:
            for k in b.client().scan_iter(count=1000):
                if k not in wanted:
                    continue  # another client's
                self.assertNotIn(k, where, "%s: %r on two backends" % (what, k))
                where[k] = b.address
        self.assertEqual(len(where), len(keys), what)
        return where

    def assert_placed(self, where, conf, pool, what):
        placed = harness.oracle_place(conf, list(where), self.tmpdir, pool=pool)
        wrong = {k: (a, placed[k][0]) for k, a in where.items() if a != placed[k][0]}
        self.assertEqual(wrong, {}, "%s: keys (found at, placed at) not where `shardoracle "
                         "place` puts them (%d of %d)" % (what, len(wrong), len(where)))

    def server_requests(self, proxy, pool, predicate, what):
        """{server: requests} of `pool` in the first stats document where predicate(that) is
        true; fails the test with the last document otherwise."""
        def counts(doc):
            return {s: v["requests"] for s, v in doc.get(pool, {}).items()
                    if isinstance(v, dict)}
        return counts(self.assert_waits(
            lambda: proxy.wait_stats(lambda d: predicate(counts(d)), timeout=10),
            "%s: stats of pool '%s'" % (what, pool)))

    # --- the tests ------------------------------------------------------------------------------

    def test_server_changes_under_load(self):
        steady = self.start_steady()
        backends = [self.start_redis() for _ in range(4)]
        port = harness.free_port()

        def mover(spec, hash="fnv1a_64", distribution="ketama"):
            """spec: [(backend index, weight)]; backend i is named node-a, node-b, ..."""
            return harness.pool(["%s:%d %s" % (backends[i].address, w, "node-" + "abcd"[i])
                                 for i, w in spec], listen_port=port, redis=True, hash=hash,
                                distribution=distribution)
        steps = [("add a server", mover([(0, 1), (1, 1), (2, 1), (3, 1)])),
                 ("remove a server", mover([(0, 1), (2, 1), (3, 1)])),
                 ("change a weight", mover([(0, 1), (2, 2), (3, 1)])),
                 ("change the hash", mover([(0, 1), (2, 2), (3, 1)], hash="murmur")),
                 ("change the distribution", mover([(0, 1), (2, 2), (3, 1)], hash="murmur",
                                                   distribution="modula"))]
        pools = {"steady": steady, "mover": mover([(0, 1), (1, 1), (2, 1)])}
        proxy = self.start_proxy(pools)
        self.start_load(proxy)
        # Writes go on through the pool that changes too, so that reloads find requests in
        # flight there: each must be acknowledged (only writes: a key that changes server is
        # not found on the new one, as placement wants).
        writes = harness.ModelLoad(self, port, harness.spread_keys("w", 100), clients=2,
                                   pipelined=1, read_share=0.0).start()
        old_conf = harness.write_config(self.path("conf-start.yml"), pools)
        client = RawClient(proxy.port("mover"))
        self.addCleanup(client.close)
        before = self.route(client, backends, MOVER_KEYS, "at start")
        self.assert_placed(before, old_conf, "mover", "at start")
        by_addr = {b.address: b for b in backends}
        for what, new in steps:
            old_servers, new_servers = servers_of(pools["mover"]), servers_of(new)
            remaining = [by_addr[a] for n, a in old_servers.items() if new_servers.get(n) == a]
            counts = self.server_requests(proxy, "mover", lambda c: c, what)
            steady_counts = self.server_requests(proxy, "steady", lambda c: c, what)
            conns = self.connections(proxy, remaining)
            pools = {"steady": steady, "mover": new}
            new_conf = self.reload(proxy, pools, "mover", what)

            after = self.route(client, backends, MOVER_KEYS, what)
            self.assert_placed(after, new_conf, "mover", what)
            moved = {k: (before[k], after[k]) for k in MOVER_KEYS if before[k] != after[k]}
            plan = harness.oracle_moved(old_conf, new_conf, MOVER_KEYS, self.tmpdir,
                                        pool="mover")
            self.assertTrue(moved, "%s: no key moved" % what)
            self.assertEqual(moved, plan, "%s: keys that moved (%d) are not `shardoracle diff "
                             "--list`'s (%d)" % (what, len(moved), len(plan)))

            # Servers that remain keep their connections and their counters; new ones appear.
            now = self.connections(proxy, remaining)
            for addr, ports in conns.items():
                self.assertTrue(ports and ports <= now[addr], "%s: the proxy's connections to "
                                "%s were %s, now %s" % (what, addr, sorted(ports),
                                                        sorted(now[addr])))
            name_of = {a: n for n, a in new_servers.items()}
            want = {n: counts.get(n, 0) for n in new_servers}
            for addr in after.values():
                want[name_of[addr]] += 1
            self.server_requests(proxy, "mover", lambda c: all(
                c.get(s, -1) >= n for s, n in want.items()), "%s: counters %s" % (what, want))
            self.server_requests(proxy, "steady", lambda c: all(
                c.get(s, -1) >= n for s, n in steady_counts.items()), what)
            self.assert_steady(proxy, what)
            self.assertEqual(writes.problems(), [], "writes through the pool, %s" % what)
            before, old_conf = after, new_conf
        writes.stop()
        self.assertEqual(writes.problems(), [], "writes through the pool")
        self.finish_load(proxy)

    def test_pool_changes_under_load(self):
        steady = self.start_steady()
        fresh_backends = [self.start_redis() for _ in range(2)]
        doomed_backend = self.start_redis()
        shifty_backend = self.start_redis()
        pools = {"steady": steady,
                 "doomed": harness.pool([doomed_backend]),
                 "shifty": harness.pool([shifty_backend])}
        proxy = self.start_proxy(pools)
        self.start_load(proxy)

        # A new pool starts listening and answers.
        pools = dict(pools, fresh=harness.pool(fresh_backends, hash="murmur"))
        conf = self.reload(proxy, pools, "fresh", "add a pool")
        harness.wait_until(lambda: harness.port_listening(proxy.port("fresh")), 10,
                           "the new pool to listen")
        fresh = RawClient(proxy.port("fresh"))
        self.addCleanup(fresh.close)
        where = self.route(fresh, fresh_backends, MOVER_KEYS[:200], "add a pool")
        self.assert_placed(where, conf, "fresh", "add a pool")
        self.server_requests(proxy, "fresh", lambda c: sum(c.values()) >= 200,
                             "add a pool: its servers in the stats")
        self.assert_steady(proxy, "add a pool")

        # A removed pool stops listening; its clients get the replies in flight, then EOF.
        doomed_backend.client().set(b"in-flight", b"answered")
        idle, busy = RawClient(proxy.port("doomed")), RawClient(proxy.port("doomed"))
        self.addCleanup(idle.close)
        self.addCleanup(busy.close)
        for c in (idle, busy):
            self.assertEqual(c.call(b"GET", b"in-flight"), bulk(b"answered"))
        doomed_backend.send_signal(signal.SIGSTOP)
        self.addCleanup(doomed_backend.send_signal, signal.SIGCONT)
        busy.send(enc(b"GET", b"in-flight"))
        self.server_requests(proxy, "doomed", lambda c: sum(c.values()) >= 3,
                             "the request in flight forwarded")
        doomed_port = proxy.port("doomed")
        pools = {n: p for n, p in pools.items() if n != "doomed"}
        self.reload(proxy, pools, "doomed", "remove a pool")
        harness.wait_until(lambda: not harness.port_listening(doomed_port), 10,
                           "the removed pool's listener to close")
        self.assertTrue(idle.closed_by_peer(10), "the removed pool's idle client stays open")
        self.assertFalse(busy.closed_by_peer(0.5), "closed before its reply in flight")
        doomed_backend.send_signal(signal.SIGCONT)
        try:
            self.assertEqual(busy.read_reply(), bulk(b"answered"))
        except EOFError as e:
            self.fail("the reply in flight was not delivered: %s" % e)
        self.assertTrue(busy.closed_by_peer(10), "the removed pool's client stays open")
        self.assert_steady(proxy, "remove a pool")

        # A pool whose listen port changes closes the old port and its clients, and answers on
        # the new one.
        old = RawClient(proxy.port("shifty"))
        self.addCleanup(old.close)
        self.assertEqual(old.call(b"SET", b"shifty", b"1"), b"+OK\r\n")
        old_port, new_port = proxy.port("shifty"), harness.free_port()
        pools = dict(pools, shifty=dict(pools["shifty"], listen="%s:%d" % (harness.HOST,
                                                                           new_port)))
        self.reload(proxy, pools, "shifty", "change a listen port")
        harness.wait_until(lambda: harness.port_listening(new_port), 10, "the new port")
        harness.wait_until(lambda: not harness.port_listening(old_port), 10,
                           "the old port to close")
        self.assertTrue(old.closed_by_peer(10), "a client of the old port stays open")
        new = RawClient(new_port)
        self.addCleanup(new.close)
        self.assertEqual(new.call(b"GET", b"shifty"), bulk(b"1"))
        self.assert_steady(proxy, "change a listen port")
        self.finish_load(proxy)

    def test_removed_pool_lets_go_of_its_clients(self):
        """A removed pool's clients are closed by the proxy, not when they next write: idle ones
        at once, one with a reply in flight once that reply is written.  They send nothing and
        keep their sockets open; the proxy says when the last is gone (nutcracker's
        test_pool_add_del counts the proxy's sockets after such a reload)."""
        kept_backend, doomed_backend = self.start_redis(), self.start_redis()
        pools = {"kept": harness.pool([kept_backend]), "doomed": harness.pool([doomed_backend])}
        proxy = self.start_proxy(pools)
        doomed_backend.client().set(b"in-flight", b"answered")
        silent = RawClient(proxy.port("doomed"))  # never sends anything
        idle, busy = RawClient(proxy.port("doomed")), RawClient(proxy.port("doomed"))
        for c in (silent, idle, busy):
            self.addCleanup(c.close)
        for c in (idle, busy):
            self.assertEqual(c.call(b"GET", b"in-flight"), bulk(b"answered"))
        doomed_backend.send_signal(signal.SIGSTOP)
        self.addCleanup(doomed_backend.send_signal, signal.SIGCONT)
        busy.send(enc(b"GET", b"in-flight"))
        self.server_requests(proxy, "doomed", lambda c: sum(c.values()) >= 3,
                             "the request in flight forwarded")
        offset = proxy.reload({"kept": pools["kept"]})
        self.assert_waits(lambda: proxy.wait_log_line(offset, ["reload", "doomed"]),
                          "no reload logged for pool 'doomed'")
        # 5 s bounds a hang; closing them takes no waiting.
        self.assertTrue(silent.closed_by_peer(5), "a silent client of the removed pool stays open")
        self.assertTrue(idle.closed_by_peer(5), "an idle client of the removed pool stays open")
        self.assertFalse(busy.closed_by_peer(0.5), "closed before its reply in flight")
        doomed_backend.send_signal(signal.SIGCONT)
        self.assertEqual(busy.read_reply(), bulk(b"answered"))
        self.assertTrue(busy.closed_by_peer(5), "the busy client of the removed pool stays open")
        self.assert_waits(lambda: proxy.wait_log_line(
            offset, ["doomed", "every client of the removed pool is gone"], timeout=5),
            "the proxy keeps the removed pool's clients until they write or close")
        kept = RawClient(proxy.port("kept"))
        self.addCleanup(kept.close)
        self.assertEqual(kept.call(b"SET", b"k", b"v"), b"+OK\r\n")

    def test_broken_config_changes_nothing(self):
        steady = self.start_steady()
        backends = [self.start_redis() for _ in range(4)]
        good = harness.pool(backends[:3], hash="fnv1a_64", distribution="ketama")
        pools = {"steady": steady, "mover": good}
        proxy = self.start_proxy(pools)
        self.start_load(proxy)
        good_conf = harness.write_config(self.path("good.yml"), pools)
        client = RawClient(proxy.port("mover"))
        self.addCleanup(client.close)
        before = self.route(client, backends, MOVER_KEYS, "at start")
        self.assert_placed(before, good_conf, "mover", "at start")

        unknown_hash = harness.write_config(self.path("bad.yml"), {
            "mover": dict(good, hash="fnv2", servers=good["servers"] + ["%s:1"
                                                                        % backends[3].address]),
        })
        with open(unknown_hash) as f:
            unknown_hash = f.read()
        with open(good_conf) as f:
            tab = f.read().replace("  hash:", "\thash:", 1)
        for what, text in (("a YAML error", tab),
                           ("an unknown hash, and the steady pool gone", unknown_hash)):
            counts = self.server_requests(proxy, "mover", lambda c: c, what)
            offset = proxy.reload(text=text)
            check = harness.run_shardproxy(["-t", "-c", proxy.conf_path])
            self.assertEqual(check.returncode, 1, check.stderr)
            error = check.stderr.splitlines()[0].split("shardproxy: ", 1)[1].split(" (")[0]
            self.assert_waits(lambda: proxy.wait_log_line(offset, ["reload", error]),
                              "%s: the log does not say why the reload failed" % what)
            self.assertTrue(harness.port_listening(proxy.port("steady")), what)
            after = self.route(client, backends, MOVER_KEYS, what)
            self.assertEqual(after, before, "%s: placement changed" % what)
            self.server_requests(proxy, "mover", lambda c: all(
                c.get(s, -1) >= n for s, n in counts.items()) and len(c) == 3, what)
            self.assert_steady(proxy, what)

        pools = {"steady": steady, "mover": dict(good, servers=good["servers"] +
                                                  ["%s:1" % backends[3].address])}
        new_conf = self.reload(proxy, pools, "mover", "a good file again")
        after = self.route(client, backends, MOVER_KEYS, "a good file again")
        self.assert_placed(after, new_conf, "mover", "a good file again")
        moved = {k: (before[k], after[k]) for k in MOVER_KEYS if before[k] != after[k]}
        self.assertEqual(moved, harness.oracle_moved(good_conf, new_conf, MOVER_KEYS,
                                                     self.tmpdir, pool="mover"))
        self.assertTrue(moved)
        self.assert_steady(proxy, "a good file again")
        self.finish_load(proxy)


if __name__ == "__main__":
    harness.main()
