#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Where shardproxy's time goes: system calls per request and a CPU profile, under one load.

Not a test: prints tables.

    bench/proxy_profile.py [--builddir DIR] [--test get|set|getp16|setp16|mget] [--requests N]
                           [--seconds S] [--top N] [--save PATH]

Starts the same setup as bench/proxy.py (two redis backends, nutcracker and shardproxy, fnv1a_64 +
ketama, all on 127.0.0.1), then for the chosen redis-benchmark test (default GET, 50 clients):
  1. system calls per request of nutcracker and of shardproxy (`perf stat` on the
     raw_syscalls / syscalls tracepoints, counted over a known number of requests);
  2. `perf record -e cpu-clock --call-graph dwarf` of shardproxy for S seconds of that load, and a
     summary: kernel vs user share, the top leaf functions, and the user-space functions on the
     stack (inclusive: what the proxy was doing, system calls below it included).
This perf cannot read the ELF symbols of shardproxy and its plugins, so their addresses are
resolved with addr2line.  Frame pointers are omitted at -O2: hence DWARF call graphs.
"""

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import proxy as bench  # noqa: E402  (bench/proxy.py: Setup, redis-benchmark runs)

harness = bench.harness

SYSCALLS = ["read", "readv", "write", "writev", "epoll_wait", "epoll_ctl", "getpeername",
            "recvfrom", "sendto", "sendmsg", "ioctl"]


def test_args(name, requests):
    for label, args, n in bench.tests(requests):
        if label.lower().replace(" ", "").replace("-", "").startswith(name):
            return label, args, n
    raise bench.BenchError("unknown test %r (get, set, getp16, setp16, mget)" % name)


def perf_stat_syscalls(pid, port, args, n, workdir):
    """System calls per request of pid while redis-benchmark sends n requests to port."""
    out = os.path.join(workdir, "stat-%d.txt" % pid)
    events = ["raw_syscalls:sys_enter"] + ["syscalls:sys_enter_" + s for s in SYSCALLS]
    p = subprocess.Popen(["perf", "stat", "-x", ",", "-e", ",".join(events), "-p", str(pid),
                          "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        bench.run_benchmark(port, args, n)
        time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
    counts = {}
    with open(out) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) < 3 or "sys_enter" not in fields[2]:
                continue
            name = fields[2].split(":")[1]
            name = "all" if name == "sys_enter" else name[len("sys_enter_"):]
            try:
                counts[name] = int(fields[0]) / n
            except ValueError:
                raise bench.BenchError("perf stat could not count %s (%s): tracepoints needed"
                                       % (name, fields[0]))
    return counts


def perf_record(pid, port, args, seconds, workdir):
    data = os.path.join(workdir, "perf.data")
    load = subprocess.Popen(["redis-benchmark", "-h", harness.HOST, "-p", str(port), "-c",
                             str(bench.CLIENTS), "-n", "100000000", "-r", str(bench.KEYSPACE),
                             "-q"] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "--call-graph", "dwarf,16384",
                        "-p", str(pid), "-o", data, "--", "sleep", str(seconds)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    finally:
        load.kill()
        load.wait()
    return data


class Resolver:
    """Function names for perf script frames; addr2line for shardproxy and plugin objects."""

    def __init__(self, builddir):
        self.builddir = builddir
        self.cache = {}

    def ours(self, dso):
        return dso.startswith(self.builddir)

    def name(self, ip, sym, dso):
        if sym and not sym.startswith("[unknown]"):
            return sym.split("+")[0]
        if not self.ours(dso):
            return "?" + ip
        key = (dso, ip)
        if key not in self.cache:
            r = subprocess.run(["addr2line", "-f", "-e", dso, "0x" + ip],
                               capture_output=True, text=True).stdout.split("\n")
            self.cache[key] = r[0] if r and r[0] not in ("", "??") else "?" + ip
        return self.cache[key]


def summarize(data, builddir, top):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym,dso"],
                         capture_output=True, text=True).stdout
    samples, cur = [], []
    for line in out.split("\n"):
        if not line.strip():
            if cur:
                samples.append(cur)
                cur = []
            continue
        parts = line.split()
        cur.append((parts[0], " ".join(parts[1:-1]), parts[-1].strip("()")))
    if cur:
        samples.append(cur)
    if not samples:
        raise bench.BenchError("perf recorded no samples")
    res = Resolver(builddir)
    n = len(samples)
    kernel = sum(1 for s in samples if s[0][2].startswith("[kernel"))
    leaf = collections.Counter()
    incl = collections.Counter()
    for s in samples:
        ip, sym, dso = s[0]
        leaf["%s (%s)" % (res.name(ip, sym, dso), os.path.basename(dso))] += 1
        seen = set()
        for ip, sym, dso in s:
            if not dso.startswith("[kernel"):
                f = res.name(ip, sym, dso)
                if f not in seen and not f.startswith("?"):  # unresolved (stripped) frames
                    seen.add(f)
                    incl[f] += 1
    print("%d samples: kernel %.1f%%, user %.1f%%" % (n, 100.0 * kernel / n,
                                                     100.0 * (n - kernel) / n))
    by_object = collections.Counter(os.path.basename(s[0][2]) for s in samples)
    print("By object (self time): " + ", ".join("%s %.1f%%" % (o, 100.0 * c / n)
                                                for o, c in by_object.most_common(6)))
    print("\nTop leaf functions (self time):")
    for f, c in leaf.most_common(top):
        print("  %5.1f%%  %s" % (100.0 * c / n, f))
    print("\nUser-space functions on the stack (inclusive: system calls below them included):")
    for f, c in incl.most_common(top):
        print("  %5.1f%%  %s" % (100.0 * c / n, f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get("SP_BUILDDIR", bench.TOP))
    ap.add_argument("--test", default="get", help="get, set, getp16, setp16 or mget")
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--save", metavar="PATH", help="keep the perf.data file there")
    a = ap.parse_args()
    if shutil.which("perf") is None:
        raise bench.BenchError("perf not found")
    builddir = os.path.abspath(a.builddir)
    os.environ["SP_BUILDDIR"] = builddir
    os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", "%s/plugins/hash/.libs:%s/plugins/dist/.libs"
                          % (builddir, builddir))
    label, args, n = test_args(a.test.lower().replace(" ", "").replace("-", ""), a.requests)
    workdir = tempfile.mkdtemp(prefix="sp-prof-")
    setup = bench.Setup(workdir)
    try:
        # Keys for GET / MGET to find.
        bench.run_benchmark(setup.ports["shardproxy"], ["-t", "set"], a.requests)
        print("System calls per request, %s (%d requests, 50 clients)" % (label, n))
        names = ["all"] + SYSCALLS
        print("%-11s" % "proxy" + "".join("%12s" % s for s in names))
        for target in ("nutcracker", "shardproxy"):
            c = perf_stat_syscalls(setup.pids[target], setup.ports[target], args, n, workdir)
            print("%-11s" % target + "".join("%12.3f" % c.get(s, 0.0) for s in names))
        print("\nshardproxy profile, %s, %.0f s (perf record -e cpu-clock --call-graph dwarf)"
              % (label, a.seconds))
        data = perf_record(setup.pids["shardproxy"], setup.ports["shardproxy"], args, a.seconds,
                           workdir)
        setup.check()
        summarize(data, builddir, a.top)
        if a.save:
            shutil.copyfile(data, a.save)
    finally:
        setup.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (bench.BenchError, harness.HarnessError, subprocess.CalledProcessError) as e:
        print("bench/proxy_profile.py: %s" % e, file=sys.stderr)
        sys.exit(2)
