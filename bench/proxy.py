#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Proxy throughput, CPU and memory: direct Redis vs nutcracker vs shardproxy in one run.

Not a test: prints a table (and PASS/MISS per target from the performance issue, informational)
and exits 0 unless something could not be run.

    bench/proxy.py [--builddir DIR] [--quick] [--requests N] [--rounds R] [--idle N]

What runs (everything on 127.0.0.1, on free ports, stopped by PID at the end):
  * two redis-server backends; nutcracker (/usr/sbin/nutcracker) and shardproxy each get the
    same one-pool config over them: fnv1a_64 + ketama, redis: true.  "direct" is redis-benchmark
    against the first backend itself.
  * redis-benchmark, 50 clients, random keys (-r 100000, so keys spread over both backends):
    SET, GET, SET -P 16, GET -P 16, and MGET of 10 random keys (a custom command).
  * each round runs every test against the three targets, in a rotating order (the 2-core machine
    is noisy and the load generator competes with the proxy); the table shows medians over rounds,
    and ratios are the median of the per-round ratios (both sides measured back to back).
  * the proxy's CPU time per request: utime+stime of the proxy (/proc/PID/stat) before and after
    each run, divided by the requests of that run.
  * memory: VmRSS (/proc/PID/status) of each proxy with N idle client connections (default
    10,000), both just connected and after one GET each (the state a pooled client idles in);
    measured on a freshly started pair of proxies in each round (a proxy that served traffic
    before keeps freed heap in its RSS).

Proxies are started with `-i 10000` (stats aggregation every 10 s) so that both pay the same small
stats cost.  The shardproxy binary is $SP_BUILDDIR/proxy/shardproxy (or --builddir); its plugins
are taken from the build tree unless SHARDPROXY_PLUGIN_PATH is set.
"""

import argparse
import csv
import io
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import harness  # noqa: E402  (the integration tests' harness: ports, peers, stop by PID)

CLIENTS = 50
KEYSPACE = 100000
MGET_KEYS = 10
PIPELINE = 16
NOFILE = 65536
TARGETS_ORDER = ("direct", "nutcracker", "shardproxy")


class BenchError(Exception):
    """The benchmark could not run; the message says what is missing."""


# --- /proc readings -----------------------------------------------------------------------------

def cpu_split(pid):
    """(utime, stime) of pid, in clock ticks (fields 14 and 15 of /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()  # the command name may contain blanks
    return int(fields[11]), int(fields[12])


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


TICK = 1.0 / os.sysconf("SC_CLK_TCK")


# --- redis-benchmark ----------------------------------------------------------------------------

def tests(requests):
    """(name, redis-benchmark arguments, number of requests) for each test."""
    mget = ["MGET"] + ["key:__rand_int__"] * MGET_KEYS
    n, np_ = requests, requests * 5  # pipelined runs are ~5x faster: same wall time
    return [
        ("SET", ["-t", "set"], n),
        ("GET", ["-t", "get"], n),
        ("SET -P %d" % PIPELINE, ["-t", "set", "-P", str(PIPELINE)], np_),
        ("GET -P %d" % PIPELINE, ["-t", "get", "-P", str(PIPELINE)], np_),
        ("MGET x%d" % MGET_KEYS, mget, max(requests // 2, 1000)),
    ]


def run_benchmark(port, args, n):
    """Runs redis-benchmark against 127.0.0.1:port; returns (requests/s, p99 ms)."""
    argv = ["redis-benchmark", "-h", harness.HOST, "-p", str(port), "-c", str(CLIENTS),
            "-n", str(n), "-r", str(KEYSPACE), "--csv"] + args
    res = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=600, text=True)
    rows = [r for r in csv.reader(io.StringIO(res.stdout)) if r and r[0] != "test"]
    if res.returncode != 0 or len(rows) != 1:
        raise BenchError("redis-benchmark failed (status %d): %s\nstdout: %s\nstderr: %s"
                         % (res.returncode, " ".join(argv), res.stdout, res.stderr[-2000:]))
    row = rows[0]
    return float(row[1]), float(row[6])


# --- idle connections -----------------------------------------------------------------------------

def raise_nofile():
    """Raises RLIMIT_NOFILE (inherited by the proxies started afterwards); returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (NOFILE, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
            return want
        except (ValueError, OSError):
            continue
    return soft


def idle_rss(proxy_pid, port, nconn, nservers):
    """VmRSS (KiB) of the proxy: before, with nconn idle connections, and after one GET on each.
    Connects in batches so the listen backlog never overflows (a dropped SYN costs a 1 s retry)."""
    base_fds = open_fds(proxy_pid)
    before = harness.rss_kib(proxy_pid)
    socks = []
    try:
        batch = 256
        while len(socks) < nconn:
            for _ in range(min(batch, nconn - len(socks))):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.settimeout(30)
                s.connect((harness.HOST, port))
                socks.append(s)
            harness.wait_until(lambda: open_fds(proxy_pid) >= base_fds + len(socks), 30,
                               "the proxy to accept %d connections" % len(socks))
        time.sleep(0.5)
        connected = harness.rss_kib(proxy_pid)
        req = b"*2\r\n$3\r\nGET\r\n$4\r\nidle\r\n"
        for i in range(0, len(socks), batch):
            part = socks[i:i + batch]
            for s in part:
                s.sendall(req)
            for s in part:
                if s.recv(64) != b"$-1\r\n":
                    raise BenchError("unexpected reply to GET idle on an idle connection")
        time.sleep(0.5)
        used = harness.rss_kib(proxy_pid)
    finally:
        for s in socks:
            s.close()
    # The next measurement must start from a proxy that has seen every close (the GETs may
    # have opened one connection per backend).
    harness.wait_until(lambda: open_fds(proxy_pid) <= base_fds + nservers, 60,
                       "the proxy to close the %d idle connections" % len(socks))
    return before, connected, used


# --- the run ------------------------------------------------------------------------------------

class Setup:
    """Two redis backends, nutcracker and shardproxy in front of them; stop() by PID."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []
        try:
            self.backends = [self._add(harness.RedisServer(workdir)) for _ in range(2)]
            self.nutcracker, self.shardproxy = self.start_proxies()
        except BaseException:
            self.stop()
            raise
        self.ports = {"direct": self.backends[0].port,
                      "nutcracker": self.nutcracker.port("alpha"),
                      "shardproxy": self.shardproxy.port("alpha")}
        self.pids = {"direct": None, "nutcracker": self.nutcracker.pid,
                     "shardproxy": self.shardproxy.pid}

    def start_proxies(self):
        """A new (nutcracker, shardproxy) pair on the backends, same config, own listen ports."""
        def conf():
            return {"alpha": harness.pool(self.backends, hash="fnv1a_64", distribution="ketama")}
        nc = self._add(harness.Nutcracker(self.workdir, conf(), stats_interval=10000))
        sp = self._add(harness.Shardproxy(self.workdir, conf(), stats_interval=10000))
        return nc, sp

    def _add(self, proc):
        self.procs.append(proc)
        return proc

    def check(self):
        for p in self.procs:
            if p.returncode is None:
                p.check_running()

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


def use_builddir(builddir):
    """Points the harness (shardproxy binary, plugins) at a build tree; relative paths are made
    absolute, the processes the harness starts run elsewhere."""
    builddir = os.path.abspath(builddir)
    os.environ["SP_BUILDDIR"] = builddir
    os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", "%s/plugins/hash/.libs:%s/plugins/dist/.libs"
                          % (builddir, builddir))


def children_cpu():
    """User+system seconds of the waited-for children (the redis-benchmark runs)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(setup, rounds, requests, log):
    """results[test][target] = list of (rps, p99, proxy cpu, redis-benchmark cpu, backends cpu,
    proxy system cpu, backends system cpu), one per round; cpu in usec per request (proxy: None
    for direct)."""
    results = {}
    backends = [b.pid for b in setup.backends]
    for r in range(rounds):
        order = TARGETS_ORDER[r % 3:] + TARGETS_ORDER[:r % 3]
        for name, args, n in tests(requests):
            for target in order:
                pid = setup.pids[target]
                t0 = cpu_split(pid) if pid else (0, 0)
                r0 = [cpu_split(b) for b in backends]
                c0 = children_cpu()
                rps, p99 = run_benchmark(setup.ports[target], args, n)
                t1 = cpu_split(pid) if pid else (0, 0)
                r1 = [cpu_split(b) for b in backends]
                per_req = TICK * 1e6 / n
                cpu = (sum(t1) - sum(t0)) * per_req if pid else None
                cpu_sys = (t1[1] - t0[1]) * per_req if pid else None
                bench = (children_cpu() - c0) * 1e6 / n
                redis = sum(sum(b) - sum(a) for a, b in zip(r0, r1)) * per_req
                redis_sys = sum(b[1] - a[1] for a, b in zip(r0, r1)) * per_req
                setup.check()
                results.setdefault(name, {}).setdefault(target, []).append(
                    (rps, p99, cpu, bench, redis, cpu_sys, redis_sys))
                log("round %d %-10s %-10s %10.0f req/s  p99 %6.3f ms  cpu us/req: proxy %s "
                    "redis-benchmark %.2f redis %.2f"
                    % (r + 1, name, target, rps, p99, "%.2f" % cpu if cpu is not None else "-",
                       bench, redis))
    return results


def median(values):
    return statistics.median(values) if values else float("nan")


def ratio_median(a, b):
    """Median of the per-round ratios a[i] / b[i]."""
    return median([x / y for x, y in zip(a, b) if y])


def report(results, rss, rounds, nconn):
    """Prints the tables; returns a list of (target description, measured, PASS/MISS)."""
    out = []
    print()
    print("Throughput (requests/s, median of %d rounds; ratios: median of per-round ratios)"
          % rounds)
    hdr = "%-10s %10s %10s %10s %8s %8s %8s %8s %8s" % (
        "test", "direct", "nutcrackr", "shardprxy", "nc/dir", "sp/dir", "sp/nc",
        "p99 nc", "p99 sp")
    print(hdr)
    print("-" * len(hdr))
    for name, per in results.items():
        rps = {t: [x[0] for x in per[t]] for t in per}
        p99 = {t: [x[1] for x in per[t]] for t in per}
        print("%-10s %10.0f %10.0f %10.0f %7.2fx %7.2fx %7.2fx %6.2fms %6.2fms" % (
            name, median(rps["direct"]), median(rps["nutcracker"]), median(rps["shardproxy"]),
            ratio_median(rps["nutcracker"], rps["direct"]),
            ratio_median(rps["shardproxy"], rps["direct"]),
            ratio_median(rps["shardproxy"], rps["nutcracker"]),
            median(p99["nutcracker"]), median(p99["shardproxy"])))
    print()
    print("Proxy CPU time per request (utime+stime / requests, median of %d rounds)" % rounds)
    hdr = "%-10s %12s %12s %8s" % ("test", "nutcracker", "shardproxy", "sp/nc")
    print(hdr)
    print("-" * len(hdr))
    cpu_ratio = {}
    for name, per in results.items():
        nc = [x[2] for x in per["nutcracker"]]
        sp = [x[2] for x in per["shardproxy"]]
        cpu_ratio[name] = ratio_median(sp, nc)
        print("%-10s %9.2f us %9.2f us %7.2fx" % (name, median(nc), median(sp), cpu_ratio[name]))
    print()
    print("CPU time per request of every process (us, median of %d rounds): the 2 cores are "
          "shared, so throughput ~ 2 s / (sum of these)" % rounds)
    hdr = "%-10s %-10s %8s %8s %8s %8s" % ("test", "target", "bench", "proxy", "redis", "total")
    print(hdr)
    print("-" * len(hdr))
    for name, per in results.items():
        for t in TARGETS_ORDER:
            b = median([x[3] for x in per[t]])
            p = median([x[2] for x in per[t]]) if t != "direct" else 0.0
            rd = median([x[4] for x in per[t]])
            print("%-10s %-10s %8.2f %8.2f %8.2f %8.2f" % (name, t, b, p, rd, b + p + rd))
    print()
    print("Kernel and user CPU per request (us, median of %d rounds).  'redis direct' is what "
          "Redis itself\npays the kernel per request when clients talk to it directly: the same "
          "one read and one write\nper client request that any proxy pays on its client side "
          "(on loopback, the sender's write\nalso runs the receiver's TCP input)" % rounds)
    hdr = "%-10s %8s %8s %8s %8s %13s" % ("test", "nc user", "nc sys", "sp user", "sp sys",
                                          "redis direct")
    print(hdr)
    print("-" * len(hdr))
    for name, per in results.items():
        row = []
        for t in ("nutcracker", "shardproxy"):
            total = median([x[2] for x in per[t]])
            sys_ = median([x[5] for x in per[t]])
            row += [total - sys_, sys_]
        row.append(median([x[6] for x in per["direct"]]))
        print("%-10s %8.2f %8.2f %8.2f %8.2f %9.2f sys" % tuple([name] + row))
    med = {}
    if rss is not None:
        print()
        print("Proxy memory, VmRSS with %d idle client connections (median of %d rounds, fresh "
              "proxies)" % (nconn, len(rss["nutcracker"])))
        hdr = "%-12s %12s %14s %14s %12s %12s" % ("proxy", "no clients", "connected",
                                                  "after 1 GET", "KB/client", "after GET")
        print(hdr)
        print("-" * len(hdr))
        for target in ("nutcracker", "shardproxy"):
            b, c, u = (median([x[i] for x in rss[target]]) for i in range(3))
            med[target] = (b, c, u)
            print("%-12s %8.1f MiB %10.1f MiB %10.1f MiB %9.2f KB %9.2f KB" % (
                target, b / 1024, c / 1024, u / 1024, (c - b) * 1.024 / nconn,
                (u - b) * 1.024 / nconn))

    def target(desc, value, ok):
        out.append((desc, value, "PASS" if ok else "MISS"))

    for name in ("SET", "GET"):
        r = ratio_median([x[0] for x in results[name]["shardproxy"]],
                         [x[0] for x in results[name]["direct"]])
        target("%s unpipelined >= 1.0x direct" % name, "%.2fx" % r, r >= 1.0)
    for name in ("SET -P %d" % PIPELINE, "GET -P %d" % PIPELINE):
        r = ratio_median([x[0] for x in results[name]["shardproxy"]],
                         [x[0] for x in results[name]["direct"]])
        target("%s >= 0.8x direct" % name, "%.2fx" % r, r >= 0.8)
    name = "MGET x%d" % MGET_KEYS
    r = ratio_median([x[0] for x in results[name]["shardproxy"]],
                     [x[0] for x in results[name]["nutcracker"]])
    target("%s >= 1.5x nutcracker" % name, "%.2fx" % r, r >= 1.5)
    for name, r in cpu_ratio.items():
        target("CPU/request %s <= 0.6x nutcracker" % name, "%.2fx" % r, r <= 0.6)
    for i, what in ((1, "connected"), (2, "after 1 GET")) if med else ():
        sp, nc = med["shardproxy"][i], med["nutcracker"][i]
        target("RSS %dk idle (%s) <= nutcracker" % (nconn // 1000, what),
               "%.1f vs %.1f MiB" % (sp / 1024, nc / 1024), sp <= nc)
    print()
    print("Targets (informational)")
    for desc, value, status in out:
        print("  %-4s %-42s %s" % (status, desc, value))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get("SP_BUILDDIR", TOP),
                    help="build tree holding proxy/shardproxy and plugins (default: $SP_BUILDDIR "
                         "or the source tree)")
    ap.add_argument("--quick", action="store_true",
                    help="short run: 1 round, 20000 requests, 2000 idle connections")
    ap.add_argument("--requests", type=int, default=None,
                    help="requests per unpipelined run (pipelined: 5x, MGET: /2; default 100000)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    ap.add_argument("--idle", type=int, default=None,
                    help="idle client connections for the RSS figure (default 10000)")
    ap.add_argument("--no-rss", action="store_true", help="skip the idle-connection RSS figure")
    a = ap.parse_args()
    requests = a.requests or (20000 if a.quick else 100000)
    rounds = a.rounds or (1 if a.quick else 3)
    nconn = a.idle or (2000 if a.quick else 10000)

    use_builddir(a.builddir)
    for path in (harness.shardproxy_binary(), harness.NUTCRACKER, harness.REDIS_SERVER):
        if not os.access(path, os.X_OK):
            raise BenchError("%s not found or not executable" % path)
    limit = raise_nofile()
    if not a.no_rss and limit < nconn + 100:
        raise BenchError("RLIMIT_NOFILE is %d, too low for %d connections" % (limit, nconn))

    workdir = tempfile.mkdtemp(prefix="sp-bench-")
    t_start = time.monotonic()

    def log(msg):
        print("[%6.1fs] %s" % (time.monotonic() - t_start, msg), flush=True)

    setup = Setup(workdir)
    # SIGTERM/SIGINT: stop the peers (finally below) instead of leaving them running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        log("backends %s, nutcracker pid %d, shardproxy pid %d (%s), %d clients, %d rounds"
            % (" ".join(b.address for b in setup.backends), setup.nutcracker.pid,
               setup.shardproxy.pid, harness.shardproxy_binary(), CLIENTS, rounds))
        rss = {"nutcracker": [], "shardproxy": []}
        results = measure(setup, rounds, requests, log)
        if not a.no_rss:
            # Fresh proxies for each figure: a proxy that served the benchmark (or an earlier
            # round of idle connections) keeps freed heap in its RSS.
            for r in range(rounds):
                pair = dict(zip(("nutcracker", "shardproxy"), setup.start_proxies()))
                for target in (("nutcracker", "shardproxy") if r % 2 == 0
                               else ("shardproxy", "nutcracker")):
                    p = pair[target]
                    got = idle_rss(p.pid, p.port("alpha"), nconn, len(setup.backends))
                    rss[target].append(got)
                    log("round %d RSS %-10s %d KiB, %d idle: %d KiB, after a GET each: %d KiB"
                        % (r + 1, target, got[0], nconn, got[1], got[2]))
                    p.check_running()
                for p in pair.values():
                    p.stop()
        else:
            rss = None
        report(results, rss, rounds, nconn)
    finally:
        setup.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, harness.HarnessError) as e:
        print("bench/proxy.py: %s" % e, file=sys.stderr)
        sys.exit(2)
