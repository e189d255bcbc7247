#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Proxy CPU for huge MGETs: 100k and 1M keys, trickled in 64 KiB pieces as a real client sends
them, and how long another client's GETs waited meanwhile.

Not a test: prints figures and exits 0 unless something could not be run (the test,
tests/abuse/test_huge_multikey.py, asserts only that the CPU grows linearly with the keys).

    bench/huge_mget.py [--builddir DIR] [--rounds R]

Two redis-server backends and shardproxy on one pool over them, on 127.0.0.1, stopped by PID
at the end.  Proxy CPU is its threads' run time (/proc/PID/task/*/schedstat); medians of R
rounds (default 3).
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "bench"))

import harness  # noqa: E402
from proxy import use_builddir  # noqa: E402
from rawresp import RawClient, enc  # noqa: E402


def mget_cpu(proxy, port, n):
    """Proxy CPU seconds for one trickled n-key MGET, and another client's worst wait."""
    req = enc(b"MGET", *[b"k:%d" % i for i in range(n)])
    c, probe = RawClient(port, timeout=120), RawClient(port, timeout=60)
    stop, worst = threading.Event(), [0.0]

    def watch():
        while not stop.is_set():
            t = time.monotonic()
            probe.call(b"GET", b"probe")
            worst[0] = max(worst[0], time.monotonic() - t)
            time.sleep(0.01)
    t = threading.Thread(target=watch)
    t.start()
    cpu0 = harness.cpu_seconds(proxy.pid)
    c.trickle(req)
    rep = c.read_replies(1)[0]
    cpu = harness.cpu_seconds(proxy.pid) - cpu0
    stop.set()
    t.join()
    c.close()
    probe.close()
    if not rep.startswith(b"*%d\r\n" % n):
        raise SystemExit("unexpected reply to the %d-key MGET: %r" % (n, rep[:60]))
    return cpu, worst[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.environ.get("SP_BUILDDIR", TOP))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    use_builddir(args.builddir)
    with tempfile.TemporaryDirectory(prefix="sp-bench-") as workdir:
        procs = []
        try:
            backends = [harness.RedisServer(workdir) for _ in range(2)]
            procs += backends
            proxy = harness.Shardproxy(workdir, {"alpha": harness.pool(backends)})
            procs.append(proxy)
            port = proxy.port("alpha")
            RawClient(port).call(b"SET", b"probe", b"p")
            print("%9s  %14s  %22s" % ("keys", "proxy CPU (s)", "other client's wait (s)"))
            for n in (100000, 1000000):
                runs = [mget_cpu(proxy, port, n) for _ in range(args.rounds)]
                print("%9d  %14.3f  %22.3f" % (n, statistics.median(r[0] for r in runs),
                                               statistics.median(r[1] for r in runs)))
        finally:
            for p in reversed(procs):
                p.stop()


if __name__ == "__main__":
    main()
