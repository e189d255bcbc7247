# SPDX-License-Identifier: Apache-2.0
"""GET /metrics on the stats port: the same counters as the JSON under Prometheus names, parsed
with a real Prometheus text parser (python3-prometheus-client), per-server latency histograms,
and the plain-TCP JSON unchanged for everyone else."""

import json
import signal
import socket
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

import harness

# JSON field -> (metric family as the parser names it, type).  Counters' families lose "_total".
GLOBAL = {"total_connections": ("shardproxy_connections", "counter"),
          "curr_connections": ("shardproxy_open_connections", "gauge")}
POOL = {"client_eof": ("shardproxy_pool_client_eof", "counter"),
        "client_err": ("shardproxy_pool_client_errors", "counter"),
        "client_connections": ("shardproxy_pool_client_connections", "gauge"),
        "server_ejects": ("shardproxy_pool_server_ejects", "counter"),
        "forward_error": ("shardproxy_pool_forward_errors", "counter"),
        "fragments": ("shardproxy_pool_fragments", "counter")}
SERVER = {"server_eof": ("shardproxy_server_eof", "counter"),
          "server_err": ("shardproxy_server_errors", "counter"),
          "server_timedout": ("shardproxy_server_timeouts", "counter"),
          "server_connections": ("shardproxy_server_connections", "gauge"),
          "server_ejected_at": ("shardproxy_server_ejected_timestamp_seconds", "gauge"),
          "requests": ("shardproxy_server_requests", "counter"),
          "request_bytes": ("shardproxy_server_request_bytes", "counter"),
          "responses": ("shardproxy_server_responses", "counter"),
          "response_bytes": ("shardproxy_server_response_bytes", "counter"),
          "in_queue": ("shardproxy_server_in_queue_requests", "gauge"),
          "in_queue_bytes": ("shardproxy_server_in_queue_bytes", "gauge"),
          "out_queue": ("shardproxy_server_out_queue_requests", "gauge"),
          "out_queue_bytes": ("shardproxy_server_out_queue_bytes", "gauge")}
LATENCY = "shardproxy_server_request_duration_seconds"


def http(port, method="GET", path="/metrics"):
    """(status, headers, body) of one request."""
    req = urllib.request.Request("http://%s:%d%s" % (harness.HOST, port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def families(port):
    status, headers, body = http(port)
    assert status == 200, status
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8", headers
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def sample(fams, name, suffix="", **labels):
    """The value of the one sample of family `name` with exactly these labels."""
    want = name + suffix
    found = [s.value for s in fams[name].samples if s.name == want and s.labels == labels]
    assert len(found) == 1, "%s%r: %d samples" % (want, labels, len(found))
    return found[0]


class Metrics(harness.TestCase):
    def start(self, servers=2):
        self.redis = [self.start_redis() for _ in range(servers)]
        pools = {"alpha": harness.pool(self.redis, hash="fnv1a_64", distribution="ketama"),
                 "beta": harness.pool([self.redis[0], "127.0.0.1:1:1 gone"])}
        return self.start_proxy(pools, stats_interval=50)

    def test_same_counters_as_the_json(self):
        p = self.start()
        c = p.redis_client("alpha")
        for i in range(200):
            c.set("key:%d" % i, "v" * i)
            c.get("key:%d" % i)
        c.mget(["key:%d" % i for i in range(20)])
        c.connection_pool.disconnect()
        # Quiescent: the JSON snapshot has caught up with the traffic, then both are compared.
        doc = p.wait_stats(lambda d: d["alpha"]["client_connections"] == 0
                           and sum(d["alpha"][s.address]["responses"] for s in self.redis)
                           >= 400)
        doc = p.wait_stats(lambda d: d["uptime"] >= 0 and json.dumps(d["alpha"]) ==
                           json.dumps(doc["alpha"]))
        fams = families(p.stats_port)
        for field, (name, kind) in GLOBAL.items():
            self.assertEqual(fams[name].type, kind, name)
        self.assertEqual(sample(fams, "shardproxy_connections", "_total"),
                         doc["total_connections"])
        for pool in ("alpha", "beta"):
            for field, (name, kind) in POOL.items():
                self.assertEqual(fams[name].type, kind, name)
                self.assertEqual(sample(fams, name, "_total" if kind == "counter" else "",
                                        pool=pool), doc[pool][field], (pool, field))
        servers = [("alpha", s.address) for s in self.redis] + [("beta", self.redis[0].address),
                                                                 ("beta", "gone")]
        for pool, server in servers:
            for field, (name, kind) in SERVER.items():
                self.assertEqual(fams[name].type, kind, name)
                want = doc[pool][server][field]
                if field == "server_ejected_at":
                    want = want / 1e6
                got = sample(fams, name, "_total" if kind == "counter" else "", pool=pool,
                             server=server)
                self.assertEqual(got, want, (pool, server, field))
            # Every answered request is in the histogram, in the same order of magnitude.
            count = sample(fams, LATENCY, "_count", pool=pool, server=server)
            self.assertEqual(count, doc[pool][server]["responses"], (pool, server))
            self.assertEqual(sample(fams, LATENCY, "_bucket", pool=pool, server=server,
                                    le="+Inf"), count)
        self.assertGreaterEqual(sum(doc["alpha"][s.address]["requests"] for s in self.redis), 401)
        self.assertEqual(sample(fams, "shardproxy_info", version=harness.package_version(),
                                service="nutcracker", source=socket.gethostname()), 1)

    def test_latency_histogram_sees_a_slow_server(self):
        p = self.start(servers=1)
        c = p.redis_client("alpha")
        c.set("k", "v")
        # The server stops for 0.6 s while a request is in flight: that request took >= 0.4 s
        # (the proxy forwards it some time after sendall; on a loaded machine that gap was
        # seen at 4 ms, so the margin is generous).
        self.redis[0].send_signal(signal.SIGSTOP)
        try:
            sock = socket.create_connection((harness.HOST, p.port("alpha")))
            sock.sendall(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
            time.sleep(0.6)
        finally:
            self.redis[0].send_signal(signal.SIGCONT)
        sock.settimeout(10)
        self.assertEqual(sock.recv(100), b"$1\r\nv\r\n")
        sock.close()
        fams = families(p.stats_port)
        server = self.redis[0].address
        buckets = {s.labels["le"]: s.value for s in fams[LATENCY].samples
                   if s.name == LATENCY + "_bucket" and s.labels["server"] == server
                   and s.labels["pool"] == "alpha"}
        self.assertEqual(sorted(float(le) for le in buckets),
                         [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                          0.25, 0.5, 1, 2.5, 5, float("inf")])
        self.assertEqual(buckets["+Inf"], 2)
        values = [buckets[le] for le in sorted(buckets, key=float)]
        self.assertEqual(values, sorted(values), "buckets must be cumulative")
        self.assertEqual(buckets["0.25"], 1, buckets)   # the SET, not the stalled GET
        self.assertGreaterEqual(sample(fams, LATENCY, "_sum", pool="alpha", server=server), 0.4)

    def test_plain_readers_and_other_requests_get_the_json(self):
        p = self.start()
        plain = p.raw_stats()
        self.assertTrue(plain.startswith(b'{"service":"nutcracker", '), plain[:80])
        json.loads(plain)
        for path in ("/", "/stats", "/metrics/x"):
            with self.subTest(path=path):
                data = harness.read_stats(
                    p.stats_port, request=("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
                # Exactly what nutcracker sends any client: the bare document.
                self.assertTrue(data.startswith(b'{"service":"nutcracker"'), data[:80])
                json.loads(data)
        status, headers, body = http(p.stats_port, "HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertGreater(int(headers["Content-Length"]), 1000)
        status, headers, body = http(p.stats_port, "POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")

    def test_silent_clients_do_not_hold_up_readers(self):
        p = self.start()
        silent = [socket.create_connection((harness.HOST, p.stats_port)) for _ in range(30)]
        half = socket.create_connection((harness.HOST, p.stats_port))
        half.sendall(b"GET /metr")   # a request that stalls half way
        try:
            start = time.monotonic()
            for _ in range(5):
                json.loads(p.raw_stats())
                fams = families(p.stats_port)
                self.assertIn(LATENCY, fams)
            # Generous: readers are served while 31 connections sit idle (the linger is 5 s).
            self.assertLess(time.monotonic() - start, 4.5)
            # The silent ones got the JSON too, after the wait, as plain readers.
            silent[0].settimeout(10)
            self.assertTrue(silent[0].recv(20).startswith(b'{"service"'))
        finally:
            for s in silent + [half]:
                s.close()
        self.assertTrue(p.running())


if __name__ == "__main__":
    harness.main()
