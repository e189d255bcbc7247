#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""memcached pools: direct memcached vs nutcracker vs shardproxy, throughput and proxy CPU.

Not a test: prints a table (and PASS/MISS per target from issue #9, informational) and exits 0
unless something could not be run.

    bench/memcache.py [--builddir DIR] [--quick] [--requests N] [--rounds R]

What runs (everything on 127.0.0.1, on free ports, stopped by PID at the end):
  * two memcached backends; nutcracker (/usr/sbin/nutcracker) and shardproxy each get the same
    one-pool config over them: fnv1a_64 + ketama, redis: false.  "direct" is the first backend.
  * the load generator bench/mcload.c (compiled here with cc and libevent; memtier_benchmark is
    not in Debian and memaslap neither pipelines nor sends fixed multi-gets): 50 connections,
    keys key:<random below 10000> (spread over both backends, all present: the keys are set
    first), 32-byte values: set, get, set and get with 16 requests in flight per connection, and
    get of 10 keys (multi-get; the proxies split it per server).
  * each round runs every test against the three targets, in a rotating order; medians over
    rounds, and ratios as the median of the per-round ratios (both sides back to back).
  * the proxy's CPU time per request: utime+stime from /proc/PID/stat before and after each run,
    divided by the requests of that run; the same for the backends and the load generator, since
    the 2 cores are shared and throughput is about 2 s / (sum of the three).
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import proxy as redisbench  # noqa: E402  (bench/proxy.py: the Redis bench's helpers)
from proxy import (TICK, TARGETS_ORDER, BenchError, children_cpu, cpu_split, median,  # noqa: E402
                   ratio_median)

CONNS = 50
KEYSPACE = 10000
PIPELINE = 16
MGET_KEYS = 10


def build_mcload(workdir):
    """Compiles bench/mcload.c into workdir; returns the binary's path."""
    out = os.path.join(workdir, "mcload")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libevent"],
                           stdout=subprocess.PIPE, text=True)
    if flags.returncode != 0:
        raise BenchError("pkg-config cannot find libevent (install libevent-dev)")
    cc = subprocess.run(["cc", "-O2", "-o", out, os.path.join(HERE, "mcload.c")] +
                        flags.stdout.split(), stderr=subprocess.PIPE, text=True)
    if cc.returncode != 0:
        raise BenchError("cannot build bench/mcload.c:\n%s" % cc.stderr)
    return out


def tests(requests):
    """(name, mcload args, requests); pipelined runs do 5x the requests (they are faster)."""
    return [
        ("set", ["-t", "set"], requests),
        ("get", ["-t", "get"], requests),
        ("set P16", ["-t", "set", "-P", str(PIPELINE)], 5 * requests),
        ("get P16", ["-t", "get", "-P", str(PIPELINE)], 5 * requests),
        ("mget10", ["-t", "mget", "-m", str(MGET_KEYS)], requests // 2),
    ]


def run_load(mcload, port, args, n):
    """Runs mcload; returns requests per second."""
    res = subprocess.run([mcload, "-p", str(port), "-c", str(CONNS), "-k", str(KEYSPACE),
                          "-n", str(n)] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=600)
    if res.returncode != 0:
        raise BenchError("mcload %s on port %d failed: %s" % (" ".join(args), port, res.stderr))
    return float(res.stdout.split()[5])


class Setup(redisbench.Setup):
    """Two memcached backends, nutcracker and shardproxy in front of them; stop() by PID (the
    Redis bench's Setup, with memcached backends)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []
        try:
            self.backends = [self._add(harness.Memcached(workdir)) for _ in range(2)]
            nc, sp = self.start_proxies()
        except BaseException:
            self.stop()
            raise
        self.ports = {"direct": self.backends[0].port, "nutcracker": nc.port("alpha"),
                      "shardproxy": sp.port("alpha")}
        self.pids = {"direct": None, "nutcracker": nc.pid, "shardproxy": sp.pid}


def measure(setup, mcload, rounds, requests, log):
    """results[test][target] = [(rps, proxy us/req or None, load us/req, backends us/req,
    proxy system us/req or None, backends system us/req)], one per round."""
    results = {}
    backends = [b.pid for b in setup.backends]
    for r in range(rounds):
        order = TARGETS_ORDER[r % 3:] + TARGETS_ORDER[:r % 3]
        for name, args, n in tests(requests):
            for target in order:
                pid = setup.pids[target]
                t0 = cpu_split(pid) if pid else (0, 0)
                b0 = [cpu_split(b) for b in backends]
                c0 = children_cpu()
                rps = run_load(mcload, setup.ports[target], args, n)
                t1 = cpu_split(pid) if pid else (0, 0)
                b1 = [cpu_split(b) for b in backends]
                per_req = TICK * 1e6 / n
                cpu = (sum(t1) - sum(t0)) * per_req if pid else None
                cpu_sys = (t1[1] - t0[1]) * per_req if pid else None
                back = sum(sum(y) - sum(x) for x, y in zip(b0, b1)) * per_req
                back_sys = sum(y[1] - x[1] for x, y in zip(b0, b1)) * per_req
                load = (children_cpu() - c0) * 1e6 / n
                setup.check()
                results.setdefault(name, {}).setdefault(target, []).append(
                    (rps, cpu, load, back, cpu_sys, back_sys))
                log("round %d %-8s %-10s %10.0f req/s  cpu us/req: proxy %s mcload %.2f "
                    "memcached %.2f" % (r + 1, name, target, rps,
                                        "%.2f" % cpu if cpu is not None else "-", load, back))
    return results


def report(results, rounds):
    out = []
    print()
    print("Throughput (requests/s, median of %d rounds; ratios: median of per-round ratios)"
          % rounds)
    hdr = "%-8s %10s %10s %10s %7s %7s %7s" % ("test", "direct", "nutcrackr", "shardprxy",
                                              "nc/dir", "sp/dir", "sp/nc")
    print(hdr)
    print("-" * len(hdr))
    for name in results:
        rps = {t: [x[0] for x in results[name][t]] for t in TARGETS_ORDER}
        print("%-8s %10.0f %10.0f %10.0f %7.2f %7.2f %7.2f" % (
            name, median(rps["direct"]), median(rps["nutcracker"]), median(rps["shardproxy"]),
            ratio_median(rps["nutcracker"], rps["direct"]),
            ratio_median(rps["shardproxy"], rps["direct"]),
            ratio_median(rps["shardproxy"], rps["nutcracker"])))
    print()
    print("CPU per request, usec (median): proxy, and what the load generator and the two "
          "memcached spent")
    hdr = "%-8s %9s %9s %7s | %11s %11s %11s" % ("test", "nutcrackr", "shardprxy", "sp/nc",
                                                 "mcload(sp)", "memcd(dir)", "memcd(sp)")
    print(hdr)
    print("-" * len(hdr))
    for name in results:
        nc = [x[1] for x in results[name]["nutcracker"]]
        sp = [x[1] for x in results[name]["shardproxy"]]
        print("%-8s %9.2f %9.2f %7.2f | %11.2f %11.2f %11.2f" % (
            name, median(nc), median(sp), ratio_median(sp, nc),
            median([x[2] for x in results[name]["shardproxy"]]),
            median([x[3] for x in results[name]["direct"]]),
            median([x[3] for x in results[name]["shardproxy"]])))

    print()
    print("Kernel (system) and user CPU per request, usec (median): the proxies, and the system "
          "time memcached pays direct (one client-side read + write: a proxy's floor)")
    hdr = "%-8s %8s %8s %8s %8s %11s" % ("test", "nc user", "nc sys", "sp user", "sp sys",
                                        "memcd sys")
    print(hdr)
    print("-" * len(hdr))
    for name in results:
        def part(target, i):
            return median([x[i] for x in results[name][target]])
        print("%-8s %8.2f %8.2f %8.2f %8.2f %11.2f" % (
            name, part("nutcracker", 1) - part("nutcracker", 4), part("nutcracker", 4),
            part("shardproxy", 1) - part("shardproxy", 4), part("shardproxy", 4),
            part("direct", 5)))

    def target(desc, value, ok):
        out.append((desc, value, "PASS" if ok else "MISS"))

    def cpu_ratio(name):
        return ratio_median([x[1] for x in results[name]["shardproxy"]],
                            [x[1] for x in results[name]["nutcracker"]])
    for name in ("get", "set"):
        v = cpu_ratio(name)
        target("CPU/request %s unpipelined <= 0.7x nutcracker" % name, "%.2fx" % v, v <= 0.7)
    for name in ("get P16", "set P16"):
        v = cpu_ratio(name)
        target("CPU/request %s <= 0.35x nutcracker" % name, "%.2fx" % v, v <= 0.35)
    v = ratio_median([x[0] for x in results["mget10"]["shardproxy"]],
                     [x[0] for x in results["mget10"]["nutcracker"]])
    target("mget10 throughput >= 1.3x nutcracker", "%.2fx" % v, v >= 1.3)
    print()
    print("Targets (issue #9; informational)")
    for desc, value, verdict in out:
        print("  %-48s %8s  %s" % (desc, value, verdict))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get("SP_BUILDDIR", TOP))
    ap.add_argument("--quick", action="store_true", help="one short round (noisy)")
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.quick:
        args.requests, args.rounds = 20000, 1
    redisbench.use_builddir(args.builddir)
    for need in (harness.NUTCRACKER, harness.MEMCACHED, harness.shardproxy_binary()):
        if not os.path.exists(need):
            raise BenchError("%s not found" % need)
    workdir = tempfile.mkdtemp(prefix="sp-mcbench-")
    mcload = build_mcload(workdir)
    setup = Setup(workdir)
    try:
        for port in (setup.backends[0].port, setup.backends[1].port):
            run_load(mcload, port, ["-t", "set", "-P", "16", "-s", "7"], KEYSPACE * 4)
        results = measure(setup, mcload, args.rounds, args.requests,
                          lambda m: print(m, file=sys.stderr, flush=True))
    finally:
        setup.stop()
    report(results, args.rounds)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("bench/memcache.py: %s" % e, file=sys.stderr)
        sys.exit(1)
