# SPDX-License-Identifier: Apache-2.0
"""The stats server: nutcracker 0.5.0's JSON document, field for field and byte layout for byte
layout, compared with a real /usr/sbin/nutcracker on the same pools."""

import json
import os
import re
import socket
import time

import harness

# nutcracker 0.5.0's fields (nc_stats.h / `nutcracker -D`), in order; all integers in the JSON.
TOP_FIELDS = ["service", "source", "version", "uptime", "timestamp", "total_connections",
              "curr_connections"]
POOL_FIELDS = ["client_eof", "client_err", "client_connections", "server_ejects",
               "forward_error", "fragments"]
SERVER_FIELDS = ["server_eof", "server_err", "server_timedout", "server_connections",
                 "server_ejected_at", "requests", "request_bytes", "responses", "response_bytes",
                 "in_queue", "in_queue_bytes", "out_queue", "out_queue_bytes"]


def pools_with_listen(ports):
    """The same pools (names, servers, keys) for both proxies, listening on `ports`.  File order
    is not nutcracker's output order (it sorts pools by name length, then bytes)."""
    ports = iter(ports)
    return {
        "zeta": harness.pool(["127.0.0.1:%d:1" % p for p in (41001, 41002)],
                             listen_port=next(ports), redis=True),
        "alpha": harness.pool(["127.0.0.1:41003:1 zz", "127.0.0.1:41004:1 a",
                               "127.0.0.1:41005:2 bb"], listen_port=next(ports), redis=True,
                              hash="murmur", distribution="modula"),
        # a memcached pool (redis: false): the same fields
        "mid": harness.pool(["127.0.0.1:41006:1"], listen_port=next(ports)),
    }


def normalized(raw):
    """The document with every value that may legitimately differ replaced."""
    text = raw.decode()
    text = re.sub(r'"(source|version)":"[^"]*"', r'"\1":"X"', text)
    return re.sub(r'":\d+', '":0', text)


class StatsFormat(harness.TestCase):
    def start_both(self, interval=100):
        ours = self.start_proxy(pools_with_listen(harness.free_port() for _ in range(3)),
                                stats_interval=interval)
        theirs = self.start_nutcracker(pools_with_listen(harness.free_port() for _ in range(3)),
                                       stats_interval=interval)
        return ours, theirs

    def test_fields_and_types(self):
        p = self.start_proxy(pools_with_listen(harness.free_port() for _ in range(3)))
        before = int(time.time())
        doc = p.stats()
        self.assertEqual(list(doc)[:len(TOP_FIELDS)], TOP_FIELDS)
        self.assertEqual(doc["service"], "nutcracker")
        self.assertEqual(doc["source"], socket.gethostname())
        self.assertEqual(doc["version"], harness.package_version())
        for key in TOP_FIELDS[3:]:
            self.assertIsInstance(doc[key], int, key)
        self.assertGreaterEqual(doc["uptime"], 0)
        self.assertLessEqual(abs(doc["timestamp"] - before), 5)
        self.assertEqual(list(doc)[len(TOP_FIELDS):], ["mid", "zeta", "alpha"])
        for name, pool in p.pools.items():
            stats = doc[name]
            self.assertEqual(list(stats)[:len(POOL_FIELDS)], POOL_FIELDS, name)
            servers = [s.split()[-1] if " " in s else s.rsplit(":", 1)[0]
                       for s in pool["servers"]]
            self.assertEqual(sorted(list(stats)[len(POOL_FIELDS):]), sorted(servers), name)
            for field in POOL_FIELDS:
                self.assertIsInstance(stats[field], int)
                self.assertEqual(stats[field], 0)
            for server in servers:
                self.assertEqual(list(stats[server]), SERVER_FIELDS, server)
                for field in SERVER_FIELDS:
                    self.assertIsInstance(stats[server][field], int)

    def test_same_document_as_nutcracker(self):
        ours, theirs = self.start_both()
        a, b = ours.raw_stats(), theirs.raw_stats()
        self.assertTrue(a.endswith(b"}\n"), a[-20:])
        self.assertEqual(normalized(a), normalized(b))
        ja, jb = json.loads(a), json.loads(b)
        self.assertEqual(list(ja), list(jb))
        for pool in ours.pools:
            self.assertEqual(list(ja[pool]), list(jb[pool]), pool)
            for key, value in jb[pool].items():
                if isinstance(value, dict):
                    self.assertEqual(list(ja[pool][key]), list(value), key)
        self.assertEqual(ja["service"], jb["service"])

    def test_connection_counts_as_nutcracker(self):
        # Same pools and traffic through both; total/curr_connections count listening sockets,
        # clients and server connections alike (dashboards alert on these numbers).
        r1, r2 = self.start_redis(), self.start_redis()

        def pools():
            return {"a": harness.pool([r1, r2], preconnect=True), "b": harness.pool([r1])}

        counts = []
        ours = self.start_proxy(pools())
        for proxy in (ours, self.start_nutcracker(pools())):
            seen = []

            def top(doc):
                return doc["total_connections"], doc["curr_connections"]

            seen.append(top(proxy.wait_stats(lambda d: d["curr_connections"] >= 4)))
            clients = [proxy.redis_client("a") for _ in range(3)]
            for c in clients:
                for key in ("x", "y", "zz"):
                    c.get(key)
            seen.append(top(proxy.wait_stats(lambda d: d["a"]["client_connections"] == 3)))
            for c in clients:
                c.connection_pool.disconnect()
            seen.append(top(proxy.wait_stats(lambda d: d["a"]["client_connections"] == 0)))
            counts.append(seen)
        self.assertEqual(counts[1], [(4, 4), (7, 7), (7, 4)])
        # With N workers each has its own 2 listeners and 2 preconnected server connections.
        n = 4 * ours.workers
        self.assertEqual(counts[0], [(n, n), (n + 3, n + 3), (n + 3, n)])

    def test_snapshot_refreshed_every_interval(self):
        slow = self.start_proxy(pools_with_listen(harness.free_port() for _ in range(3)),
                                stats_interval=60000)
        fast = self.start_proxy(pools_with_listen(harness.free_port() for _ in range(3)),
                                stats_interval=100)
        first_slow, first_fast = slow.stats(), fast.stats()
        time.sleep(2.1)
        # Within one interval every reader gets the same snapshot, as with nutcracker.
        self.assertEqual(slow.stats()["timestamp"], first_slow["timestamp"])
        self.assertGreater(fast.stats()["timestamp"], first_fast["timestamp"])

    def test_many_readers_and_rude_clients(self):
        # A long interval: every reader must get the very same snapshot.
        p = self.start_proxy(pools_with_listen(harness.free_port() for _ in range(3)),
                             stats_interval=60000)
        expected = p.raw_stats()
        socks = [socket.create_connection((harness.HOST, p.stats_port)) for _ in range(50)]
        # Some clients hang up at once, some send junk first.
        for s in socks[:10]:
            s.close()
        for s in socks[10:20]:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        for s in socks[10:]:
            s.settimeout(10)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            self.assertEqual(data, expected)
        self.assertTrue(p.running())
        self.assertEqual(p.stop(), 0)


if __name__ == "__main__":
    harness.main()
