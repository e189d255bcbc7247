#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""One master failover under load: today's script-and-restart setup vs shardproxy's native
Sentinel pool, side by side (issue #8's table).

Not a test: prints the table and exits 0 unless something could not be run.

    bench/failover.py [--builddir DIR] [--modes script-unnamed,script-named,native-nohold,native]
                      [--rounds R] [--keys N] [--clients C] [--rate OPS] [--settle S]

Each mode, on a fresh set-up (everything on 127.0.0.1, free ports, stopped by PID at the end):
  * 2 shards x (master + replica), 3 Sentinels (quorum 2, down-after-milliseconds 400,
    failover-timeout 4000): harness.SentinelTopology;
  * one shardproxy pool over the two masters: fnv1a_64 + ketama, timeout 1000, and
    auto_eject_hosts true with server_failure_limit 1 and server_retry_timeout 2000 (a common
    nutcracker production setting; a Sentinel pool does not apply it);
      script-unnamed  servers "host:port:1": their ring names are their addresses;
      script-named    servers "host:port:1 shardN";
          both with a Sentinel client-reconfig-script that seds the new master's address into
          the YAML and restarts the proxy (-d, pid file), one restart per Sentinel that runs it;
      native-nohold   servers "host:port:1 shardN" and `sentinels:` (shardproxy follows the
          Sentinels itself), `failover_hold: 0`: a request for the dead master fails at once;
      native          the same with `failover_hold` at its default (5000 ms): requests that never
          reached the dead master wait for the switch (issue #15);
  * 20k keys (lists, preloaded through the proxy: each key's shard is where its preload landed),
    then C clients (default 20) at OPS requests/s in total (default 1000), each client owning
    its own keys: half LINDEX key -1 (read the newest element), half RPUSH key unique-value;
    every reply is checked against a model of the acknowledged writes;
  * after 2 s, SIGKILL of the master of shard2; the load goes on until S seconds (default 5)
    after the last +switch-master / proxy restart; then each key is read once more through the
    proxy, and both shards' current masters are searched for every acknowledged write.

Rows: proxy restarts; client connections dropped (the proxy closed them); reads answered nil for
keys that exist; reads answered another value; acknowledged writes found on the wrong shard;
acknowledged writes found nowhere; keys the proxy answers nil for after recovery (it looks on a
shard that does not have them) and keys it answers with an older value (the newest went to the
wrong shard); first good write on the failed shard (acknowledged, and found on its new master)
relative to the first +switch-master (negative: before it); requests failed on shard1 (the one
that did not fail) and on shard2; latency (p50 / p99 / max) of shard2's requests sent between the
kill and the switch, and p99 of shard1's.  Targets for native: 0 / 0 / 0 / 0 / 0, <= 15 ms, 0,
and 0 failed on shard2 (the kill lands between requests: a request written to the dying master
may still fail, as it may have run); held requests' p99 about the outage.
"""

import argparse
import fcntl
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import harness  # noqa: E402  (ports, peers, Sentinel topology, stop by PID)
from rawresp import RawClient, enc  # noqa: E402

MODES = ("script-unnamed", "script-named", "native-nohold", "native")
FAILED = "shard2"
REQUEST_TIMEOUT = 2.0  # a client gives up on a reply (the pool timeout is 1 s) ...
HOLD_TIMEOUT = 10.0    # ... or, where the proxy holds requests over the failover, later


class BenchError(Exception):
    """The benchmark could not run; the message says what is missing."""


class Stage:
    """What harness.SentinelTopology needs from a test case: a scratch directory, and processes
    stopped (by PID) at the end."""

    def __init__(self, prefix="sp-failover-"):
        self.tmpdir = tempfile.mkdtemp(prefix=prefix)
        self.cleanups = []

    def _started(self, proc):
        self.cleanups.append(proc.stop)
        return proc

    def addCleanup(self, fn, *args):
        self.cleanups.append(lambda: fn(*args))

    def path(self, name):
        return os.path.join(self.tmpdir, name)

    def close(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # keep stopping the rest
                print("cleanup: %s" % e, file=sys.stderr)
        if os.environ.get("SP_TEST_KEEP"):
            print("kept %s" % self.tmpdir, file=sys.stderr)
        else:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


# --- the proxy, started and restarted the way a reconfig script does --------------------------

RESTART_SCRIPT = """#!/bin/sh
# Sentinel client-reconfig-script: <master> <role> <state> <from-ip> <from-port> <to-ip> <to-port>
# (or "start"): writes the new address into the YAML and restarts the proxy, as deployments
# without native Sentinel support do.  Serialised: every Sentinel runs it.
exec 9>>"{dir}/restart.lock"
flock 9
[ -e "{dir}/stopped" ] && exit 0   # the benchmark is over: a late Sentinel restarts nothing
if [ "$1" != start ]; then
    sed -i "s/ $4:$5:/ $6:$7:/" "{conf}"
    pid=$(cat "{pidfile}" 2>/dev/null)
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        # gone, or a zombie nobody reaped yet (its sockets are closed either way)
        while [ -n "$(awk '$3 != "Z"' "/proc/$pid/stat" 2>/dev/null)" ]; do sleep 0.005; done
    fi
    echo "$(date +%s.%N) $*" >> "{dir}/restarts.log"
fi
# The daemon must not inherit the lock (fd 9); the lock is held until its pid file says it is up.
SHARDPROXY_PLUGIN_PATH="{plugins}" "{binary}" -d -c "{conf}" -p "{pidfile}" -o "{log}" \\
    -s {stats_port} -a 127.0.0.1 -i 10000 9>&- || exit 2
n=0
while [ ! -s "{pidfile}" ] && [ $n -lt 2000 ]; do sleep 0.005; n=$((n + 1)); done
exit 0
"""


class ScriptProxy:
    """shardproxy daemonized by RESTART_SCRIPT, now and on every restart a Sentinel makes."""

    def __init__(self, stage, conf_path, binary, plugins):
        self.stage = stage
        self.conf_path = conf_path
        self.pidfile = stage.path("proxy.pid")
        self.script = stage.path("reconfig.sh")
        with open(self.script, "w") as f:
            f.write(RESTART_SCRIPT.format(dir=stage.tmpdir, conf=conf_path, pidfile=self.pidfile,
                                          plugins=plugins, binary=binary,
                                          log=stage.path("proxy.log"),
                                          stats_port=harness.free_port()))
        os.chmod(self.script, os.stat(self.script).st_mode | stat.S_IXUSR)
        stage.addCleanup(self.stop)

    def start(self, port):
        subprocess.run([self.script, "start"], check=True, timeout=30)
        harness.wait_until(lambda: harness.port_listening(port), harness.START_TIMEOUT,
                           "the proxy to listen on %d" % port)

    def restarts(self):
        try:
            with open(os.path.join(self.stage.tmpdir, "restarts.log")) as f:
                return [float(line.split()[0]) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def stop(self):
        """Stops the proxy for good: under the scripts' lock, so no restart is half done, and
        marked so that no script run later (by a Sentinel being stopped) starts another."""
        with open(os.path.join(self.stage.tmpdir, "restart.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            open(os.path.join(self.stage.tmpdir, "stopped"), "w").close()
            try:
                with open(self.pidfile) as f:
                    pid = int(f.read())
            except (FileNotFoundError, ValueError):
                return
            harness.kill_pid(pid)


# --- the load: clients and the model of what they wrote ---------------------------------------

def decode(raw):
    """A reply's raw bytes -> None (nil), bytes (bulk), int, or ("err", text)."""
    kind, body = raw[:1], raw[1:raw.index(b"\r\n")]
    if kind == b"$":
        n = int(body)
        return None if n < 0 else raw[raw.index(b"\r\n") + 2:][:n]
    if kind == b":":
        return int(body)
    if kind == b"-":
        return ("err", body.decode(errors="replace"))
    return body


class Counts:
    """Per-shard tallies of one client thread (merged at the end)."""

    def __init__(self):
        self.nil_reads = 0
        self.wrong_reads = 0
        self.failed = {}          # shard -> requests that failed (error, timeout, connection)
        self.requests = 0
        self.dropped = 0          # connections the proxy closed
        self.acked = []           # (key, value, ack time)
        self.latency = []         # (shard, sent at, seconds to the reply or failure)


class Client(threading.Thread):
    """One client: its own keys, a paced mix of reads and writes, every reply checked against
    the model (the newest acknowledged value of each key, plus values whose write failed and
    so may or may not have happened)."""

    def __init__(self, idx, port, keys, home, model, rate, stop, timeout):
        super().__init__(daemon=True)
        self.timeout = timeout
        self.idx, self.port, self.keys, self.home = idx, port, keys, home
        self.model = model        # key -> [newest acknowledged value, set(values in doubt)]
        self.interval = 1.0 / rate
        self.stop_event = stop
        self.c = Counts()
        self.conn = None
        self.rng = random.Random(idx)

    def connect(self):
        while not self.stop_event.is_set():
            try:
                self.conn = RawClient(self.port, timeout=self.timeout)
                return True
            except OSError:
                time.sleep(0.01)
        return False

    def request(self, *args):
        """The decoded reply, or ("fail", why) when there was none."""
        if self.conn is None and not self.connect():
            return ("fail", "stopped")
        try:
            self.conn.send(enc(*args))
            return decode(self.conn.read_reply())
        except socket.timeout:
            why = "timeout"
        except (EOFError, ConnectionError) as e:
            self.c.dropped += 1
            why = str(e)
        self.conn.close()
        self.conn = None
        return ("fail", why)

    def run(self):
        seq = 0
        t_next = time.monotonic()
        while not self.stop_event.is_set():
            key = self.rng.choice(self.keys)
            shard = self.home[key]
            newest, doubt = self.model[key]
            self.c.requests += 1
            t0 = time.time()
            if self.rng.random() < 0.5:
                r = self.request(b"LINDEX", key, b"-1")
                self.c.latency.append((shard, t0, time.time() - t0))
                if isinstance(r, tuple):
                    self.c.failed[shard] = self.c.failed.get(shard, 0) + 1
                elif r is None:
                    self.c.nil_reads += 1
                elif r != newest and r not in doubt:
                    self.c.wrong_reads += 1
                elif r in doubt:  # that write did happen after all
                    self.model[key] = [r, set()]
            else:
                seq += 1
                value = b"w:%d:%d" % (self.idx, seq)
                r = self.request(b"RPUSH", key, value)
                self.c.latency.append((shard, t0, time.time() - t0))
                if isinstance(r, int):
                    self.model[key] = [value, set()]
                    self.c.acked.append((key, value, time.time()))
                else:
                    doubt.add(value)
                    self.c.failed[shard] = self.c.failed.get(shard, 0) + 1
            t_next += self.interval
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1:
                t_next = time.monotonic()  # fell behind (a stall): no burst to catch up
        if self.conn is not None:
            self.conn.close()


# --- one run ------------------------------------------------------------------------------------

def pool_conf(topo, mode, port):
    servers = []
    for name in topo.names:
        addr = topo.master_address(name)
        servers.append("%s:1" % addr if mode == "script-unnamed" else "%s:1 %s" % (addr, name))
    conf = {"listen": "%s:%d" % (harness.HOST, port), "hash": "fnv1a_64",
            "distribution": "ketama", "redis": True, "timeout": 1000, "auto_eject_hosts": True,
            "server_failure_limit": 1, "server_retry_timeout": 2000}
    if mode.startswith("native"):
        conf["sentinels"] = topo.sentinel_addresses()
    if mode == "native-nohold":
        conf["failover_hold"] = 0
    conf["servers"] = servers
    return {"bench": conf}


def preload(port, keys):
    """One RPUSH per key through the proxy (pipelined)."""
    c = RawClient(port, timeout=30)
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        c.send(*(enc(b"RPUSH", k, b"p:" + k) for k in chunk))
        for raw in (c.read_reply() for _ in chunk):
            if not raw.startswith(b":"):
                raise BenchError("preload failed: %r" % raw)
    c.close()


def home_shards(topo, keys):
    """key -> the shard whose master holds it after the preload."""
    home = {}
    for name in topo.names:
        r = topo.server(topo.master_address(name)).client()
        pipe = r.pipeline(transaction=False)
        for k in keys:
            pipe.exists(k)
        for k, there in zip(keys, pipe.execute()):
            if there:
                home[k] = name
    if len(home) != len(keys):
        raise BenchError("%d keys are on no master after the preload" % (len(keys) - len(home)))
    return home


def contents(topo, keys):
    """shard -> {key: set of list elements} on that shard's current master."""
    out = {}
    for name in topo.names:
        r = topo.server(topo.master_address(name)).client()
        pipe = r.pipeline(transaction=False)
        for k in keys:
            pipe.lrange(k, 0, -1)
        out[name] = {k: set(v) for k, v in zip(keys, pipe.execute())}
    return out


def run_mode(mode, args, binary, plugins):
    stage = Stage()
    try:
        return measure(stage, mode, args, binary, plugins)
    finally:
        stage.close()


def measure(stage, mode, args, binary, plugins):
    script = mode.startswith("script")
    conf = stage.path("bench.yml")
    proxy = ScriptProxy(stage, conf, binary, plugins)  # the script must exist for the Sentinels
    topo = harness.SentinelTopology(stage, reconfig_script=proxy.script if script else None)
    port = harness.free_port()
    harness.write_config(conf, pool_conf(topo, mode, port))
    proxy.start(port)
    keys = [b"k:%d" % i for i in range(args.keys)]
    preload(port, keys)
    home = home_shards(topo, keys)
    model = {k: [b"p:" + k, set()] for k in keys}
    stop = threading.Event()
    timeout = HOLD_TIMEOUT if mode == "native" else REQUEST_TIMEOUT
    clients = [Client(i, port, keys[i::args.clients], home, model, args.rate / args.clients,
                      stop, timeout) for i in range(args.clients)]
    watch = topo.watch()
    for c in clients:
        c.start()
    time.sleep(2)
    old = topo.kill_master(FAILED)
    t_kill = time.time()
    t_switch, _, new = watch.wait_switch(FAILED)
    topo.wait_switched(FAILED, old)
    if script:  # one restart per Sentinel running the script
        harness.wait_until(lambda: len(proxy.restarts()) >= len(topo.sentinels), 30,
                           "every Sentinel's restart of the proxy")
    last = max([t_switch] + proxy.restarts())
    time.sleep(max(0.0, last + args.settle - time.time()))
    stop.set()
    for c in clients:
        c.join(timeout=10)

    after = RawClient(port, timeout=30)  # each key once more, through the proxy
    after.send(*(enc(b"LINDEX", k, b"-1") for k in keys))
    unreachable = stale = 0
    for k in keys:
        r = decode(after.read_reply())
        if r is None:
            unreachable += 1  # every key exists: the proxy looks on a shard that does not have it
        elif r != model[k][0] and r not in model[k][1]:
            stale += 1
    after.close()

    where = contents(topo, keys)
    acked = [a for c in clients for a in c.c.acked]
    wrong_shard = lost = 0
    first_good = None
    for key, value, t in acked:
        if value in where[home[key]][key]:
            # (acknowledgements in flight when the master died arrive just after the kill)
            if home[key] == FAILED and t > t_kill + 0.1 and (first_good is None or t < first_good):
                first_good = t
        elif any(value in where[s][key] for s in topo.names if s != home[key]):
            wrong_shard += 1
        else:
            lost += 1
    lat = [x for c in clients for x in c.c.latency]
    outage = sorted(d for shard, t, d in lat if shard == FAILED and t_kill <= t <= t_switch)
    other = sorted(d for shard, t, d in lat if shard != FAILED)
    failed = {}
    for c in clients:
        for shard, n in c.c.failed.items():
            failed[shard] = failed.get(shard, 0) + n
    return {
        "restarts": len(proxy.restarts()),
        "dropped": sum(c.c.dropped for c in clients),
        "nil_reads": sum(c.c.nil_reads for c in clients),
        "wrong_reads": sum(c.c.wrong_reads for c in clients),
        "wrong_shard": wrong_shard,
        "lost": lost,
        "unreachable_pct": 100.0 * unreachable / len(keys),
        "stale_pct": 100.0 * stale / len(keys),
        "first_good_ms": None if first_good is None else (first_good - t_switch) * 1000,
        "failed_other": failed.get("shard1", 0),
        "failed_failing": failed.get(FAILED, 0),
        "requests": sum(c.c.requests for c in clients),
        "switch_after_kill_ms": (t_switch - t_kill) * 1000,
        "outage_requests": len(outage),
        "outage_p50_ms": pct(outage, 50),
        "outage_p99_ms": pct(outage, 99),
        "outage_max_ms": outage[-1] * 1000 if outage else None,
        "other_p99_ms": pct(other, 99),
        "new_master": new,
    }


def pct(sorted_secs, p):
    """The p-th percentile of sorted durations, in ms (None when there are none)."""
    if not sorted_secs:
        return None
    return sorted_secs[min(len(sorted_secs) - 1, int(len(sorted_secs) * p / 100))] * 1000


# --- the table ----------------------------------------------------------------------------------

ROWS = (
    ("restarts", "proxy restarts", "%d"),
    ("dropped", "client connections dropped", "%d"),
    ("nil_reads", "reads answered nil for keys that exist", "%d"),
    ("wrong_reads", "reads answered another value", "%d"),
    ("wrong_shard", "acknowledged writes stored on the wrong shard", "%d"),
    ("lost", "acknowledged writes found nowhere", "%d"),
    ("unreachable_pct", "keys no longer reachable after recovery (read nil)", "%.1f %%"),
    ("stale_pct", "keys read with an older value after recovery", "%.1f %%"),
    ("first_good_ms", "+switch-master -> first good write on the failed shard", "%.0f ms"),
    ("failed_other", "requests failed on the shard that did not fail", "%d"),
    ("failed_failing", "requests failed on the failed shard", "%d"),
    ("requests", "requests sent", "%d"),
    ("switch_after_kill_ms", "kill -> first +switch-master (Sentinel's own time)", "%.0f ms"),
    ("outage_requests", "requests to the failed shard sent during the outage", "%d"),
    ("outage_p50_ms", "... their latency p50 (to reply or error)", "%.0f ms"),
    ("outage_p99_ms", "... p99", "%.0f ms"),
    ("outage_max_ms", "... max", "%.0f ms"),
    ("other_p99_ms", "latency p99 on the shard that did not fail", "%.1f ms"),
)


def cell(runs, key, fmt):
    """The runs' values of one row: one value, or "a / b / ..." per round."""
    vals = [r[key] for r in runs]
    return " / ".join("never" if v is None else fmt % v for v in vals)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--builddir", default=os.environ.get("SP_BUILDDIR") or TOP)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--keys", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--rate", type=float, default=1000, help="requests/s, all clients together")
    ap.add_argument("--settle", type=float, default=5, help="seconds of load after the failover")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in MODES:
            raise SystemExit("unknown mode %r (expected some of %s)" % (m, ", ".join(MODES)))
    binary = os.path.join(args.builddir, "proxy", "shardproxy")
    if not os.access(binary, os.X_OK):
        raise SystemExit("no shardproxy at %s (build it, or --builddir)" % binary)
    os.environ["SP_BUILDDIR"] = args.builddir  # for harness helpers
    plugins = os.environ.get("SHARDPROXY_PLUGIN_PATH") or "%s:%s" % (
        os.path.join(args.builddir, "plugins", "hash", ".libs"),
        os.path.join(args.builddir, "plugins", "dist", ".libs"))
    for tool in (harness.REDIS_SERVER, harness.REDIS_SENTINEL, shutil.which("flock")):
        if not tool or not os.access(tool, os.X_OK):
            raise SystemExit("missing %s (scripts/install-deps)" % tool)

    results = {m: [] for m in modes}
    for rnd in range(args.rounds):
        for m in modes:
            print("round %d: %s ..." % (rnd + 1, m), file=sys.stderr, flush=True)
            try:
                results[m].append(run_mode(m, args, binary, plugins))
            except (BenchError, harness.HarnessError) as e:
                raise SystemExit("%s: %s" % (m, e))

    print("\nper failover (%d keys, %d clients at %g requests/s, master of %s killed; %d round%s)"
          % (args.keys, args.clients, args.rate, FAILED, args.rounds,
             "" if args.rounds == 1 else "s"))
    width = max(len(r[1]) for r in ROWS)
    cols = [max(len(m), max(len(cell(results[m], k, f)) for k, _, f in ROWS)) for m in modes]
    print("| %-*s | %s |" % (width, "", " | ".join("%-*s" % (w, m) for w, m in zip(cols, modes))))
    print("|%s|%s|" % ("-" * (width + 2), "|".join("-" * (w + 2) for w in cols)))
    for key, label, fmt in ROWS:
        print("| %-*s | %s |" % (width, label, " | ".join(
            "%-*s" % (w, cell(results[m], key, fmt)) for w, m in zip(cols, modes))))
    if "native" in results:
        runs = results["native"]
        if any(r["first_good_ms"] is None for r in runs):
            print("\nnative: no write reached the new master of %s: this build does not follow "
                  "Sentinel yet (the data path's side of a failover is not in)" % FAILED)
        else:
            worst = max(r["first_good_ms"] for r in runs)
            zero = all(r[k] == 0 for r in runs for k in ("restarts", "dropped", "nil_reads",
                                                       "wrong_reads", "wrong_shard",
                                                       "failed_other", "failed_failing"))
            print("\nnative targets: 0 restarts/drops/wrong answers/wrong-shard writes/failures "
                  "on either shard: %s; first good write <= 15 ms after +switch-master: %s "
                  "(%.0f ms)" % ("PASS" if zero else "MISS", "PASS" if worst <= 15 else "MISS",
                                 worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
