#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Online resharding (issue #14): what a migration costs, against what it is compared with in
the same run.

Not a test: prints a table and exits 0 unless something could not be run.

    bench/reshard.py [--builddir DIR] [--keys N] [--value-size BYTES] [--requests N]
                     [--clients C] [--cpu-requests N] [--cpu-rounds R]
                     [--full-rate KEYS_PER_S] [--cpu-only]

Set-up (127.0.0.1, free ports, everything stopped by PID at the end): three redis-servers a, b,
c; one shardproxy pool, fnv1a_64 + ketama, on a+b; N keys (default 100000) "key:%012d" (what
redis-benchmark -r N asks for), string values of --value-size bytes (default 100), preloaded
through the proxy.  The migration adds c: the proxy is reloaded with a file whose `servers:` are
a+b+c and `migrate_from:` a+b, and `shardoracle migrate -c FILE --pool bench` is started (and
restarted while it refuses, exit 3, until the proxy is armed).

  (i)   migration rate: `shardoracle migrate --rate FULL` (default 1000000: no real limit) on a
        fresh copy of the data, keys/s and MB/s of values moved, against a plain copy of the
        same keys done here: pipelined DUMP + PTTL from the old owner, RESTORE on the new one,
        DEL on the old, 1000 keys a round trip;
  (ii)  redis-benchmark through the proxy (C clients, default 50; SET and GET, --requests each,
        default 200000, random keys of the N): requests/s and p99, before the migration and
        while `shardoracle migrate` runs at its default rate; targets: p99 at most 2x,
        throughput at least 0.8x;
  (iii) proxy CPU per request (threads' run time, harness.cpu_seconds) for keys that do not
        move (GETs pipelined 32 deep, --cpu-requests per proxy, default 200000), with the pool
        armed before the migrator starts (the proxy's own cost) and while it runs, against a
        second shardproxy on a+b that does not migrate, measured in --cpu-rounds (default 10)
        alternating rounds in the same seconds (median ratio); target: within 5 %.

(ii) and (iii) say whether the migration was still running when they ended: a default rate so
fast that it was over before them measures nothing.
"""

import argparse
import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

sys.path.insert(0, os.path.join(TOP, "bench"))

import harness  # noqa: E402  (ports, peers, stop by PID, cpu_seconds, the oracle)
from failover import Stage  # noqa: E402  (a scratch directory, processes stopped by PID)
from rawresp import RawClient, enc  # noqa: E402

POOL = "bench"
MIGRATE_REFUSED = 3  # shardoracle migrate: a proxy of the plan is not armed yet
ARM_TIMEOUT = 30.0


class BenchError(Exception):
    """The benchmark could not run; the message says what is missing."""


# --- data and layouts ---------------------------------------------------------------------------

def layout(servers, names, port, source=None, name=POOL):
    pool = {"listen": "%s:%d" % (harness.HOST, port), "redis": True, "hash": "fnv1a_64",
            "distribution": "ketama", "timeout": 5000,
            "servers": ["%s:1 %s" % (servers[n].address, n) for n in names]}
    if source:
        pool["migrate_from"] = {"servers": ["%s:1 %s" % (servers[n].address, n)
                                            for n in source]}
    return {name: pool}


def preload(servers, port, keys, value):
    for s in servers.values():
        s.client().flushall()
    c = RawClient(port, timeout=60)
    for i in range(0, len(keys), 2000):
        chunk = keys[i:i + 2000]
        c.send(*(enc(b"SET", k, value) for k in chunk))
        for _ in chunk:
            if c.read_reply() != b"+OK\r\n":
                raise BenchError("preload through the proxy failed")
    c.close()


def plain_copy(servers, moves):
    """DUMP + PTTL on the old owner, RESTORE on the new one, DEL on the old: `moves` is
    {(old name, new name): [keys]}.  Returns (seconds, payload bytes)."""
    conns = {n: RawClient(s.port, timeout=60) for n, s in servers.items()}
    t0, payload = time.monotonic(), 0
    for (src, dst), keys in moves.items():
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            conns[src].send(*(enc(b"DUMP", k) + enc(b"PTTL", k) for k in chunk))
            dumps = []
            for _ in chunk:
                d, ttl = conns[src].read_reply(), conns[src].read_reply()
                body = d[d.index(b"\r\n") + 2:-2]
                payload += len(body)
                dumps.append((body, max(int(ttl[1:-2]), 0)))
            conns[dst].send(*(enc(b"RESTORE", k, ttl, body) for k, (body, ttl) in
                              zip(chunk, dumps)))
            if any(conns[dst].read_reply() != b"+OK\r\n" for _ in chunk):
                raise BenchError("RESTORE failed on %s" % dst)
            conns[src].send(*(enc(b"DEL", k) for k in chunk))
            conns[src].read_replies(len(chunk))
    elapsed = time.monotonic() - t0
    for c in conns.values():
        c.close()
    return elapsed, payload


# --- the proxy, shardoracle, redis-benchmark ------------------------------------------------------

def oracle_argv(conf, *extra):
    return [harness.shardoracle_binary(), "migrate", "-c", conf, "--pool", POOL] + list(extra)


def start_migrate(conf, *extra):
    """Starts shardoracle migrate, again while it refuses (exit 3: the proxy is not armed);
    returns (Popen, start time) of the run that did not refuse."""
    deadline = time.monotonic() + ARM_TIMEOUT
    while True:
        t0 = time.monotonic()
        proc = subprocess.Popen(oracle_argv(conf, *extra), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            return proc, t0  # moving keys
        if proc.returncode != MIGRATE_REFUSED:
            return proc, t0
        if time.monotonic() > deadline:
            raise BenchError("shardoracle migrate still refuses after %gs: %s"
                             % (ARM_TIMEOUT, proc.stderr.read()[-2000:]))
        time.sleep(0.2)


def finish_migrate(proc, t0, timeout=1800):
    out, err = proc.communicate(timeout=timeout)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        raise BenchError("shardoracle migrate: exit %d\n%s%s" % (proc.returncode, out[-2000:],
                                                                   err[-2000:]))
    return elapsed


def reload(proxy, pools):
    offset = proxy.reload(pools)
    line = proxy.wait_log_line(offset, ["reload: "])
    if "in service" not in line:
        for line in proxy.log()[offset:].splitlines():
            if "configuration stays" in line:
                raise BenchError("the proxy refused the migrating file: %s" % line)
        proxy.wait_log_line(offset, ["in service"])


def redis_benchmark(port, args):
    """{test: (requests/s, p99 ms)} of one redis-benchmark run through the proxy."""
    argv = ["redis-benchmark", "-h", harness.HOST, "-p", str(port), "-c", str(args.clients),
            "-n", str(args.requests), "-r", str(args.keys), "-d", str(args.value_size),
            "-t", "set,get", "--csv"]
    res = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=900, text=True)
    rows = [r for r in csv.reader(io.StringIO(res.stdout)) if r and r[0] != "test"]
    if res.returncode != 0 or len(rows) != 2:
        raise BenchError("redis-benchmark failed (status %d): %s\n%s%s"
                         % (res.returncode, " ".join(argv), res.stdout, res.stderr[-2000:]))
    return {r[0]: (float(r[1]), float(r[6])) for r in rows}


def audit(conf):
    """shardoracle audit's exit status on `conf` (0: no key misplaced)."""
    return subprocess.run([harness.shardoracle_binary(), "audit", "-c", conf, "--pool", POOL],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def cpu_per_request(proxy, port, keys, n, c=None):
    """Proxy CPU microseconds per GET of `keys` (pipelined 32 deep, n requests)."""
    own = c is None
    c = c or RawClient(port, timeout=60)
    reqs = [enc(b"GET", k) for k in keys]
    before = harness.cpu_seconds(proxy.pid)
    done = 0
    while done < n:
        batch = [reqs[(done + i) % len(reqs)] for i in range(32)]
        c.send(*batch)
        for _ in batch:
            if not c.read_reply().startswith(b"$"):
                raise BenchError("a GET of a key that does not move failed")
        done += len(batch)
    used = harness.cpu_seconds(proxy.pid) - before
    if own:
        c.close()
    return used / done * 1e6


def cpu_ratio(ref, armed, keys, n, rounds):
    """Proxy CPU per GET of `keys` on `armed` against `ref` (the same servers, no migration),
    measured in alternating rounds of n/rounds requests (a quiet moment favours neither):
    (median of the per-round ratios, median us of ref, median us of armed)."""
    cr, ca = RawClient(ref[1], timeout=60), RawClient(armed[1], timeout=60)
    per = max(n // rounds, 3200)
    ratios, us_ref, us_armed = [], [], []
    cpu_per_request(ref[0], ref[1], keys, 3200, cr)  # warm both: first connections, caches
    cpu_per_request(armed[0], armed[1], keys, 3200, ca)
    for i in range(rounds):
        if i % 2 == 0:
            r = cpu_per_request(ref[0], ref[1], keys, per, cr)
            a = cpu_per_request(armed[0], armed[1], keys, per, ca)
        else:
            a = cpu_per_request(armed[0], armed[1], keys, per, ca)
            r = cpu_per_request(ref[0], ref[1], keys, per, cr)
        ratios.append(a / r)
        us_ref.append(r)
        us_armed.append(a)
    cr.close()
    ca.close()
    return statistics.median(ratios), statistics.median(us_ref), statistics.median(us_armed)


# --- the run -------------------------------------------------------------------------------------

def run(args, stage, out):
    servers = {n: stage._started(harness.RedisServer(stage.tmpdir)) for n in "abc"}
    port = harness.free_port()
    old, final = layout(servers, "ab", port), layout(servers, "abc", port)
    migrating = layout(servers, "abc", port, source="ab")
    old_conf = harness.write_config(stage.path("old.yml"), old)
    new_conf = harness.write_config(stage.path("new.yml"), final)
    keys = [b"key:%012d" % i for i in range(args.keys)]
    value = b"v" * args.value_size
    was = harness.oracle_place(old_conf, keys, stage.tmpdir, pool=POOL)
    now = harness.oracle_place(new_conf, keys, stage.tmpdir, pool=POOL)
    moves = {}
    for k in keys:
        if was[k][1] != now[k][1]:
            moves.setdefault((was[k][1], now[k][1]), []).append(k)
    moving = sum(len(v) for v in moves.values())
    stay = [k for k in keys if was[k][1] == now[k][1]]
    out["moving"] = moving

    proxy = stage._started(harness.Shardproxy(stage.tmpdir, old))
    preload(servers, port, keys, value)
    print("before the migration: redis-benchmark, CPU per request ...", file=sys.stderr)
    if not args.cpu_only:
        out["before"] = redis_benchmark(port, args)
    out["cpu_before"] = cpu_per_request(proxy, port, stay, args.cpu_requests)

    if not args.cpu_only:
        print("plain DUMP/RESTORE copy of %d keys ..." % moving, file=sys.stderr)
        out["plain"] = plain_copy(servers, moves)
        out["plain_audit"] = audit(new_conf)
        preload(servers, port, keys, value)  # back to the old layout

    print("migration at the default rate, under redis-benchmark ...", file=sys.stderr)
    reload(proxy, migrating)
    conf = proxy.conf_path
    # The proxy's own cost of a migration, apart from the migrator's load on the machine: armed,
    # before the migrator starts (nothing is moved by the GETs of keys that stay).
    proxy.wait_for_log("-> armed")
    # Against a proxy of the same build on the same servers, not migrating (another pool name:
    # the survey and the migrator look at this pool's proxies only), in alternating rounds.
    ref_port = harness.free_port()
    ref = stage._started(harness.Shardproxy(stage.tmpdir, layout(servers, "ab", ref_port,
                                                                 name="reference")))
    out["cpu_armed"] = cpu_ratio((ref, ref_port), (proxy, port), stay, args.cpu_requests,
                                 args.cpu_rounds)
    proc, t0 = start_migrate(conf)
    # The CPU sample first: it is short, so it falls inside the migration.
    # A quarter of the requests: unloaded, the default rate moves these keys in about 3 s.
    out["cpu_during"] = cpu_ratio((ref, ref_port), (proxy, port), stay, args.cpu_requests // 4,
                                  args.cpu_rounds)
    out["cpu_overlap"] = proc.poll() is None
    ref.stop()
    if not args.cpu_only:
        out["during"] = redis_benchmark(port, args)
        out["during_overlap"] = proc.poll() is None
    out["default_rate_s"] = finish_migrate(proc, t0)
    proxy.stop()
    if args.cpu_only:
        return

    print("migration at --rate %d, no load ..." % args.full_rate, file=sys.stderr)
    proxy = stage._started(harness.Shardproxy(stage.tmpdir, old))
    preload(servers, port, keys, value)
    reload(proxy, migrating)
    proc, t0 = start_migrate(proxy.conf_path, "--rate", str(args.full_rate))
    out["migrate_s"] = finish_migrate(proc, t0)
    out["audit"] = audit(new_conf)
    proxy.stop()


def verdict(ok):
    return "PASS" if ok else "MISS"


def report(args, out):
    mb = args.value_size / 1e6
    moving = out.get("moving", 0)
    print("\nresharding a+b -> a+b+c: %d keys of %d bytes, %d move (%d clients, %d requests "
          "per test)" % (args.keys, args.value_size, moving, args.clients, args.requests))
    print("\n(i) moving the keys")
    print("| %-42s | %8s | %9s | %7s |" % ("", "seconds", "keys/s", "MB/s"))
    print("|%s|%s|%s|%s|" % ("-" * 44, "-" * 10, "-" * 11, "-" * 9))
    rows = []
    if "plain" in out:
        rows.append(("plain DUMP/RESTORE/DEL (pipelined 1000)", out["plain"][0]))
    if "migrate_s" in out:
        rows.append(("shardoracle migrate --rate %d" % args.full_rate, out["migrate_s"]))
    if "default_rate_s" in out:
        rows.append(("shardoracle migrate, default rate, loaded", out["default_rate_s"]))
    for label, secs in rows:
        print("| %-42s | %8.2f | %9.0f | %7.2f |" % (label, secs, moving / secs,
                                                      moving * mb / secs))
    if "plain" in out:
        print("plain copy: %.1f MB of DUMP payloads; audit after it: exit %d"
              % (out["plain"][1] / 1e6, out["plain_audit"]))
    if "plain" in out and "migrate_s" in out:
        print("migrate / plain copy: %.2fx the keys/s; audit after it: exit %d"
              % (out["plain"][0] / out["migrate_s"], out["audit"]))
    if "before" in out:
        print("\n(ii) through the proxy: before the migration%s"
              % (" / during it (default rate)" if "during" in out else ""))
        for test, (rps, p99) in out["before"].items():
            if "during" not in out:
                print("  %-4s %9.0f requests/s  p99 %.2f ms" % (test, rps, p99))
                continue
            drps, dp99 = out["during"][test]
            print("  %-4s %9.0f -> %9.0f requests/s (%.2fx, target >= 0.8x: %s)   p99 %.2f -> "
                  "%.2f ms (%.2fx, target <= 2x: %s)"
                  % (test, rps, drps, drps / rps, verdict(drps >= 0.8 * rps), p99, dp99,
                     dp99 / p99, verdict(dp99 <= 2 * p99)))
        if "during" in out and not out["during_overlap"]:
            print("  (the migration ended before redis-benchmark did: its last test is partly "
                  "after it)")
    if "cpu_before" in out:
        print("\n(iii) proxy CPU per GET of a key that does not move, before the migration: "
              "%.2f us" % out["cpu_before"])
    for key, when in (("cpu_armed", "the pool armed (migrate_from), the migrator not running"),
                      ("cpu_during", "while the migrator runs at its default rate")):
        if key not in out:
            continue
        r, ref, armed = out[key]
        print("(iii) %s: %.2f us against %.2f us of a proxy on the same servers not migrating "
              "(median of %d alternating rounds): %.3fx, target within 5 %%: %s%s"
              % (when, armed, ref, args.cpu_rounds, r, verdict(r <= 1.05),
                 " (the migration had ended)" if key == "cpu_during" and not out["cpu_overlap"]
                 else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--builddir", default=os.environ.get("SP_BUILDDIR") or TOP)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--requests", type=int, default=200000, help="per redis-benchmark test")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--cpu-requests", type=int, default=200000, help="per proxy, in (iii)")
    ap.add_argument("--cpu-rounds", type=int, default=10)
    ap.add_argument("--cpu-only", action="store_true", help="(iii) only: no (i), no (ii)")
    ap.add_argument("--full-rate", type=int, default=1000000, help="--rate of migrate in (i)")
    args = ap.parse_args()
    binary = os.path.join(args.builddir, "proxy", "shardproxy")
    if not os.access(binary, os.X_OK):
        raise SystemExit("no shardproxy at %s (build it, or --builddir)" % binary)
    os.environ["SP_BUILDDIR"] = args.builddir  # for harness helpers
    os.environ.setdefault("SHARDPROXY_PLUGIN_PATH", harness.build_plugin_path())
    for tool in (harness.REDIS_SERVER, shutil.which("redis-benchmark")):
        if not tool or not os.access(tool, os.X_OK):
            raise SystemExit("missing %s (scripts/install-deps)" % tool)
    stage, out, failed = Stage("sp-reshard-"), {}, None
    try:
        run(args, stage, out)
    except (BenchError, harness.HarnessError, subprocess.SubprocessError) as e:
        failed = str(e)
    finally:
        stage.close()
    report(args, out)
    if failed:
        print("\ncould not run to the end: %s" % failed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
