#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Worker threads: shardproxy --workers 1 vs --workers 2 vs nutcracker (and direct Redis), one run.

Not a test: prints tables and a scaling model, exits 0 unless something could not be run.

    bench/workers.py [--builddir DIR] [--quick] [--requests N] [--rounds R]

Same load as bench/proxy.py (two redis-server backends, one fnv1a_64 + ketama pool, redis-benchmark
with 50 clients: SET, GET, SET/GET -P 16, MGET of 10 keys), against four targets in a rotating
order each round: direct (the first backend), nutcracker, shardproxy --workers 1 and shardproxy
--workers 2.  For each: requests/s, and the proxy's CPU time per request (the run time of every
thread of the process, from schedstat: ns resolution, where /proc/PID/stat counts 10 ms ticks).

On a 2-core machine shared by the load generator, the backends and the proxy, a second worker
cannot add throughput: the cores are busy already.  What the run can show is that a worker costs
no more CPU per request than the single loop (target: within 5%), and from that CPU per request a
model: the requests/s one core carries (1 s / CPU per request), and what N workers carry on N
free cores if nothing else is the limit.  predixy, the other threaded proxy users compare, is not
packaged by Debian: it is not measured here (say so, do not guess).
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import proxy as pb  # noqa: E402  (bench/proxy.py: redis-benchmark runs, /proc readings)
from proxy import harness  # noqa: E402

TARGETS = ("direct", "nutcracker", "workers 1", "workers 2")


class Setup(pb.Setup):
    """Two backends; nutcracker, shardproxy --workers 1 and --workers 2 on the same pool (the
    processes kept, checked and stopped as bench/proxy.py's)."""

    def __init__(self, workdir):
        self.procs = []
        try:
            self.backends = [self._add(harness.RedisServer(workdir)) for _ in range(2)]
            conf = lambda: {"alpha": harness.pool(self.backends, hash="fnv1a_64",  # noqa: E731
                                                  distribution="ketama")}
            nc = self._add(harness.Nutcracker(workdir, conf(), stats_interval=10000))
            w1 = self._add(harness.Shardproxy(workdir, conf(), stats_interval=10000,
                                              args=["--workers", "1"]))
            w2 = self._add(harness.Shardproxy(workdir, conf(), stats_interval=10000,
                                              args=["--workers", "2"]))
        except BaseException:
            self.stop()
            raise
        self.ports = {"direct": self.backends[0].port, "nutcracker": nc.port("alpha"),
                      "workers 1": w1.port("alpha"), "workers 2": w2.port("alpha")}
        self.pids = {"direct": None, "nutcracker": nc.pid, "workers 1": w1.pid,
                     "workers 2": w2.pid}


def measure(setup, rounds, requests, log):
    """results[test][target] = [(requests/s, proxy CPU us per request or None)] per round."""
    results = {}
    for r in range(rounds):
        order = TARGETS[r % len(TARGETS):] + TARGETS[:r % len(TARGETS)]
        for name, args, n in pb.tests(requests):
            for target in order:
                pid = setup.pids[target]
                t0 = harness.cpu_seconds(pid) if pid else 0
                rps, _ = pb.run_benchmark(setup.ports[target], args, n)
                t1 = harness.cpu_seconds(pid) if pid else 0
                cpu = (t1 - t0) * 1e6 / n if pid else None
                setup.check()
                results.setdefault(name, {}).setdefault(target, []).append((rps, cpu))
                log("round %d %-10s %-10s %10.0f req/s  proxy cpu %s us/req"
                    % (r + 1, name, target, rps, "%.2f" % cpu if cpu is not None else "-"))
    return results


def report(results, rounds):
    med, ratio = pb.median, pb.ratio_median
    print()
    print("Throughput (requests/s, median of %d rounds; ratios: median of per-round ratios)"
          % rounds)
    hdr = "%-10s %10s %10s %10s %10s %8s %8s" % ("test", "direct", "nutcrackr", "workers 1",
                                                 "workers 2", "w2/w1", "w1/nc")
    print(hdr)
    print("-" * len(hdr))
    for name, per in results.items():
        rps = {t: [x[0] for x in per[t]] for t in per}
        print("%-10s %10.0f %10.0f %10.0f %10.0f %7.2fx %7.2fx" % (
            name, med(rps["direct"]), med(rps["nutcracker"]), med(rps["workers 1"]),
            med(rps["workers 2"]), ratio(rps["workers 2"], rps["workers 1"]),
            ratio(rps["workers 1"], rps["nutcracker"])))
    print()
    print("Proxy CPU per request (us, whole process; median of %d rounds)" % rounds)
    hdr = "%-10s %10s %10s %10s %8s %8s" % ("test", "nutcrackr", "workers 1", "workers 2",
                                            "w2/w1", "w1/nc")
    print(hdr)
    print("-" * len(hdr))
    worst = 0.0
    model = []
    for name, per in results.items():
        cpu = {t: [x[1] for x in per[t]] for t in per if t != "direct"}
        r21 = ratio(cpu["workers 2"], cpu["workers 1"])
        worst = max(worst, r21)
        print("%-10s %10.2f %10.2f %10.2f %7.2fx %7.2fx" % (
            name, med(cpu["nutcracker"]), med(cpu["workers 1"]), med(cpu["workers 2"]), r21,
            ratio(cpu["workers 1"], cpu["nutcracker"])))
        model.append((name, med(cpu["nutcracker"]), med(cpu["workers 2"])))
    print()
    print("Scaling model from the CPU per request above: one core carries 1e6 / (us per request)"
          " requests/s;\nN workers on N cores free of the load generator and the backends carry"
          " N times that\n(nutcracker: one core per process, whatever the machine has)")
    hdr = "%-10s %14s %14s %14s %14s" % ("test", "nutcracker", "1 worker", "4 workers",
                                         "8 workers")
    print(hdr)
    print("-" * len(hdr))
    for name, nc, w in model:
        per_core = 1e6 / w if w else float("nan")
        print("%-10s %12.0f/s %12.0f/s %12.0f/s %12.0f/s" % (
            name, 1e6 / nc if nc else float("nan"), per_core, 4 * per_core, 8 * per_core))
    print()
    print("%s  CPU per request with 2 workers within 5%% of 1 worker (worst test: %.2fx)"
          % ("PASS" if worst <= 1.05 else "MISS", worst))
    print("note: predixy is not packaged by Debian and is not measured here")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get("SP_BUILDDIR", pb.TOP))
    ap.add_argument("--quick", action="store_true", help="1 round of 20000 requests")
    ap.add_argument("--requests", type=int, default=None,
                    help="requests per unpipelined run (pipelined: 5x, MGET: /2; default 100000)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    a = ap.parse_args()
    requests = a.requests or (20000 if a.quick else 100000)
    rounds = a.rounds or (1 if a.quick else 3)
    pb.use_builddir(a.builddir)
    for path in (harness.shardproxy_binary(), harness.NUTCRACKER, harness.REDIS_SERVER):
        if not os.access(path, os.X_OK):
            raise pb.BenchError("%s not found or not executable" % path)
    workdir = tempfile.mkdtemp(prefix="sp-bench-")
    t_start = time.monotonic()

    def log(msg):
        print("[%6.1fs] %s" % (time.monotonic() - t_start, msg), flush=True)

    setup = Setup(workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        log("%d clients, %d rounds, %s" % (pb.CLIENTS, rounds, harness.shardproxy_binary()))
        report(measure(setup, rounds, requests, log), rounds)
    finally:
        setup.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (pb.BenchError, harness.HarnessError) as e:
        print("bench/workers.py: %s" % e, file=sys.stderr)
        sys.exit(2)
