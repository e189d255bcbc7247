#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Two shardproxy builds (or two ways of running one) side by side: does a change cost anything?

Not a test: prints a table and exits 0 unless something could not be run.

    bench/ab.py --a DIR --b DIR [--a-args "..."] [--b-args "..."] [--requests N] [--rounds R]
                [--tests set,get,setp,getp,mget]

A refactor that changes no behaviour should show ratios of 1.00 within the noise; a change meant
to be faster shows by how much.  Set-up as bench/proxy.py (two redis-server backends on
127.0.0.1, one pool fnv1a_64 + ketama, redis-benchmark with 50 clients over 100,000 random keys),
with proxy A (DIR/proxy/shardproxy, its plugins from DIR) and proxy B beside it on the same
backends.  Each round runs every test against A and B back to back, in alternating order; the
table shows medians over rounds of requests/s, p99 and the proxy's CPU time per request (its
threads' run time from schedstat, ns resolution), and B/A as the median of the per-round
ratios.  --a-args / --b-args pass extra daemon options (e.g. --b-args "--workers 2" with the
same DIR twice).
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "bench"))

import harness  # noqa: E402
from proxy import BenchError, run_benchmark, tests  # noqa: E402


def build(builddir):
    """(binary, plugin path) of a build tree."""
    builddir = os.path.abspath(builddir)
    binary = os.path.join(builddir, "proxy", "shardproxy")
    if not os.access(binary, os.X_OK):
        raise SystemExit("no shardproxy at %s" % binary)
    return binary, "%s/plugins/hash/.libs:%s/plugins/dist/.libs" % (builddir, builddir)


class Built(harness.ProxyBase):
    """A shardproxy of a given build tree."""
    label = "shardproxy"

    def __init__(self, binary, plugins, *args, **kw):
        self._binary = binary
        env = dict(os.environ, SHARDPROXY_PLUGIN_PATH=plugins)
        super().__init__(*args, env=env, **kw)

    program = property(lambda self: self._binary)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="build tree of proxy A")
    ap.add_argument("--b", required=True, help="build tree of proxy B")
    ap.add_argument("--a-args", default="")
    ap.add_argument("--b-args", default="")
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tests", default="set,get,setp,getp,mget")
    args = ap.parse_args()
    keys = {"set": 0, "get": 1, "setp": 2, "getp": 3, "mget": 4}
    chosen = [tests(args.requests)[keys[t]] for t in args.tests.split(",")]
    a_bin, a_plug = build(args.a)
    b_bin, b_plug = build(args.b)
    work = tempfile.mkdtemp(prefix="sp-ab-")
    procs = []
    results = {}
    try:
        backends = [harness.RedisServer(work) for _ in range(2)]
        procs += backends

        def conf():
            return {"alpha": harness.pool(backends, hash="fnv1a_64", distribution="ketama")}
        a = Built(a_bin, a_plug, work, conf(), args=shlex.split(args.a_args),
                  stats_interval=10000)
        procs.append(a)
        b = Built(b_bin, b_plug, work, conf(), args=shlex.split(args.b_args),
                  stats_interval=10000)
        procs.append(b)
        targets = {"A": a, "B": b}
        for r in range(args.rounds):
            for name, bargs, n in chosen:
                for t in ("A", "B") if r % 2 == 0 else ("B", "A"):
                    p = targets[t]
                    c0 = harness.cpu_seconds(p.pid)
                    rps, p99 = run_benchmark(p.port("alpha"), bargs, n)
                    cpu = (harness.cpu_seconds(p.pid) - c0) * 1e6 / n
                    p.check_running()
                    results.setdefault(name, {}).setdefault(t, []).append((rps, p99, cpu))
                    print("round %d %-10s %s %9.0f req/s p99 %6.3f ms cpu %.2f us/req"
                          % (r + 1, name, t, rps, p99, cpu), file=sys.stderr)
    except (BenchError, harness.HarnessError, subprocess.SubprocessError) as e:
        print("could not run: %s" % e)
        return 1
    finally:
        for p in reversed(procs):
            p.stop()
    med = statistics.median
    print("\nA: %s %s\nB: %s %s\n%d rounds, medians; B/A: median of per-round ratios"
          % (a_bin, args.a_args, b_bin, args.b_args, args.rounds))
    hdr = "%-10s %9s %9s %6s %8s %8s %8s %8s %6s" % (
        "test", "A req/s", "B req/s", "B/A", "A p99", "B p99", "A cpu", "B cpu", "B/A")
    print(hdr)
    print("-" * len(hdr))
    for name, per in results.items():
        ra, rb = per["A"], per["B"]
        print("%-10s %9.0f %9.0f %5.2fx %6.2fms %6.2fms %6.2fus %6.2fus %5.2fx" % (
            name, med(x[0] for x in ra), med(x[0] for x in rb),
            med(y[0] / x[0] for x, y in zip(ra, rb)),
            med(x[1] for x in ra), med(x[1] for x in rb),
            med(x[2] for x in ra), med(x[2] for x in rb),
            med(y[2] / x[2] for x, y in zip(ra, rb) if x[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
