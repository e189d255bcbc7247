# SPDX-License-Identifier: Apache-2.0
"""Integration-test harness for shardproxy: real redis-server / memcached / nutcracker peers.

Run tests with Debian's /usr/bin/python3 (python3-redis, python3-yaml, python3-pymemcache).  Everything listens on
127.0.0.1 only, on free ports picked here, and every process started is stopped by PID when the
test ends - also when it fails or raises - through unittest's addCleanup (or the context managers).

Environment (set by `make check`, see tests/local.mk):
  SP_BUILDDIR             build tree; the daemon is $SP_BUILDDIR/proxy/shardproxy
  SHARDPROXY_PLUGIN_PATH  build-tree plugin directories (read by the daemon itself)
  SP_SRCDIR, SP_TEST_DATA source tree and golden data

Typical use:

    import harness

    class T(harness.TestCase):
        def test_get(self):
            r = self.start_redis()
            p = self.start_proxy({"alpha": harness.pool([r])})
            c = p.redis_client("alpha")
            c.set("k", "v")
            self.assertEqual(r.client().get("k"), b"v")
            stats = p.wait_stats(lambda s: s["alpha"][r.address]["requests"] >= 1)

    if __name__ == "__main__":
        harness.main()

Sentinel (failover tests): 2 shards x (master + replica) and 3 Sentinels that know each other from
the start, ready in well under a second:

    topo = self.start_sentinels()                 # SentinelTopology; down_sentinels=(0,), ...
    pool = harness.pool(["%s:1 %s" % (topo.master_address(n), n) for n in topo.names],
                        sentinels=topo.sentinel_addresses())
    watch = topo.watch()                          # records every Sentinel's events, with times
    old = topo.kill_master("shard2")              # SIGKILL; or topo.failover("shard2")
    t, sentinel_port, new = watch.wait_switch("shard2")
    topo.wait_switched("shard2", old)             # every live Sentinel agrees, new one is master
    topo.sentinels[0].pause()                     # SIGSTOP (resume(), stop())
    old = topo.kill_master_in_sync("shard1")      # SIGKILL once the replica has every write

A steady load with every reply checked against a model, the oracle's answers, and hot reload
(test_failover.py, test_reload.py):

    load = harness.ModelLoad(self, p.port("alpha"), keys).start()   # LINDEX / RPUSH, paced
    ...; load.stop()
    self.assertEqual(load.problems() + load.read_back(), [])      # drops, wrong answers, errors
    harness.oracle_place(conf, keys, self.tmpdir)                 # {key: (address, name)}
    harness.oracle_moved(old, new, keys, self.tmpdir)             # {key: (old addr, new addr)}
    offset = p.reload(new_pools)                                  # swap the -c file, SIGUSR1
    p.wait_log_line(offset, ["reload", "alpha"])
    harness.tcp_connections(p.pid, backend.port)                  # local ports: kept or not

Keys of every type under a model-checked load (resharding: values, types and TTLs must survive
a move), through two proxies on one layout: typedload.py (TypedModelLoad, locate), and

    p1, p2 = self.start_proxies({"alpha": harness.pool(servers)})
    p.reload(harness.same_layout(new_pools, p))                   # for p in (p1, p2)
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

HOST = "127.0.0.1"  # the only address tests ever use
NUTCRACKER = os.environ.get("SP_TEST_NUTCRACKER", "/usr/sbin/nutcracker")  # set: to try the skips
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
MEMCACHED = shutil.which("memcached") or "/usr/bin/memcached"

START_TIMEOUT = float(os.environ.get("SP_TEST_START_TIMEOUT", "20"))
STOP_TIMEOUT = 10.0

_used_ports = set()


class HarnessError(Exception):
    """A peer could not be started or stopped; the message says which and why."""


def read_pid_file(path, timeout=START_TIMEOUT):
    """Waits for `path` to hold a pid; returns it."""
    def ready():
        try:
            with open(path) as f:
                return f.read().strip().isdigit()
        except FileNotFoundError:
            return False
    wait_until(ready, timeout, "pid file %s" % path)
    with open(path) as f:
        return int(f.read())


def builddir():
    """The build tree ($SP_BUILDDIR, else the current directory)."""
    return os.environ.get("SP_BUILDDIR", os.getcwd())


def package_version():
    """PACKAGE_VERSION from the build tree's config.h (what -V and the stats must say)."""
    with open(os.path.join(builddir(), "config.h")) as f:
        m = re.search(r'#define PACKAGE_VERSION "([^"]+)"', f.read())
    if m is None:
        raise HarnessError("PACKAGE_VERSION not found in %s/config.h" % builddir())
    return m.group(1)


def shardproxy_binary():
    return os.path.join(builddir(), "proxy", "shardproxy")


def shardoracle_binary():
    return os.path.join(builddir(), "oracle", "shardoracle")


def build_plugin_path():
    """The build tree's plugin directories, as `make check` puts them in
    $SHARDPROXY_PLUGIN_PATH (for a test file run alone with only SP_BUILDDIR set)."""
    return "%s:%s" % (os.path.join(builddir(), "plugins", "hash", ".libs"),
                      os.path.join(builddir(), "plugins", "dist", ".libs"))


def _ephemeral_range():
    """The kernel's range for bind(0) and outgoing connections (ports never handed out here)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A TCP port on 127.0.0.1 that is free now and not handed out before by this process.

    Ports come from below the kernel's ephemeral range, at random: a port bound with port 0 (by
    a peer, a fake backend or another test process running in parallel under make -j) or used
    for an outgoing connection can then never be one a test has picked and not bound yet."""
    low, _ = _ephemeral_range()
    rng = random.Random((os.getpid() << 20) ^ time.monotonic_ns())
    for _ in range(1000):
        port = rng.randrange(10000, max(low, 10001))
        if port in _used_ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise HarnessError("no free port found on %s" % HOST)


def port_open(port, host=HOST):
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _proc_net_address(host, port):
    """host:port (IPv4) as /proc/net/tcp spells it: little-endian hex address, hex port."""
    return "%s:%04X" % ("".join("%02X" % int(b) for b in reversed(host.split("."))), port)


def port_listening(port, host=HOST):
    """True when a socket is in LISTEN state on host:port (IPv4), read from /proc/net/tcp so
    the check itself opens no connection: probing a proxy's pool port with connect() would
    count a client connection and a client_eof in its stats."""
    want = _proc_net_address(host, port)
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":  # 0A: TCP_LISTEN
                    return True
    except OSError:
        return port_open(port, host)
    return False


def tcp_connections(pid, port, host=HOST):
    """The local ports of process pid's established TCP connections to host:port, read from
    /proc (nothing is opened): the same set before and after an event means the process kept
    those connections (a closed and reopened one has another local port)."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    want = _proc_net_address(host, port)
    ports = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[2] == want and fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_until(predicate, timeout, what, check=None):
    """Polls predicate() until true; raises HarnessError naming `what` on timeout.  check(),
    if given, runs each round and may raise (e.g. the process died)."""
    deadline = time.monotonic() + timeout
    while True:
        if check is not None:
            check()
        if predicate():
            return
        if time.monotonic() > deadline:
            raise HarnessError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(0.02)


def cpu_seconds(pid):
    """CPU time of process pid so far: its threads' run time in ns from schedstat (/proc/PID/stat
    counts 10 ms ticks, too coarse for a request that takes a few)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total / 1e9


def rss_kib(pid):
    """VmRSS of pid in KiB (/proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise HarnessError("no VmRSS for pid %d" % pid)


_sanitized = None


def sanitizer_build():
    """True when the daemon under test is built with AddressSanitizer or ThreadSanitizer: their
    allocators keep freed memory in a quarantine and their shadow memory counts in the RSS, so
    RSS figures mean nothing there (the behaviour around them is still checked)."""
    global _sanitized
    if _sanitized is None:
        with open(shardproxy_binary(), "rb") as f:
            binary = f.read()
        _sanitized = b"__asan_init" in binary or b"__tsan_init" in binary
    return _sanitized


def assert_memory(test, value_kib, limit_kib, what):
    """test.assertLessEqual(value, limit) on a memory figure, except in a sanitizer build, where
    the figure is printed instead (with the reason it is not checked)."""
    if sanitizer_build():
        print("%s: %d KiB (limit %d KiB) not checked: sanitizer build, whose quarantine "
              "and shadow memory are the RSS" % (what, value_kib, limit_kib))
        return
    test.assertLessEqual(value_kib, limit_kib, "%s: %d KiB, limit %d KiB"
                         % (what, value_kib, limit_kib))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still "exists": reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def kill_pid(pid, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
    """Sends sig to pid and waits for it to go away; SIGKILL after `timeout`.  True when it
    went away after `sig` (False: it needed SIGKILL or was already gone)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    wait_until(lambda: not pid_alive(pid), timeout, "pid %d to die after SIGKILL" % pid)
    return False


class Process:
    """A child process started by the harness, with its output captured in a file."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.workdir = workdir
        self.output_path = os.path.join(workdir, name + ".out")
        self._out = open(self.output_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, cwd=workdir, env=env)
        self.pid = self.proc.pid
        self.returncode = None

    def output(self):
        """Everything the process wrote to stdout and stderr so far."""
        with open(self.output_path, "r", errors="replace") as f:
            return f.read()

    def running(self):
        return self.proc.poll() is None

    def check_running(self):
        """Raises HarnessError (with its output) when the process has exited."""
        rc = self.proc.poll()
        if rc is not None:
            raise HarnessError("%s exited with status %s: %s\n%s"
                               % (self.name, rc, " ".join(self.argv), self.output()))

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for exit; returns the status (negative: killed by that signal)."""
        self.returncode = self.proc.wait(timeout=timeout)
        self._out.close()
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Stops the process by PID (sig, then SIGKILL after timeout); returns its status.
        Safe to call more than once."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self.returncode = self.proc.returncode
        if not self._out.closed:
            self._out.close()
        return self.returncode


class Server(Process):
    """A backend server on 127.0.0.1:port, waited for until it accepts connections."""

    def __init__(self, name, argv, workdir, port):
        self.port = port
        super().__init__("%s-%d" % (name, port), argv, workdir)
        try:
            wait_until(lambda: port_open(port), START_TIMEOUT, "%s on port %d" % (name, port),
                       self.check_running)
        except BaseException:
            self.stop(signal.SIGKILL)  # not handed to the caller: nobody else would stop it
            raise

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)


class RedisServer(Server):
    """redis-server on 127.0.0.1:port, no persistence, data dir under workdir."""

    def __init__(self, workdir, port=None, extra_args=()):
        port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-%d-" % port, dir=workdir)
        argv = [REDIS_SERVER, "--port", port, "--bind", HOST, "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"] + list(extra_args)
        super().__init__("redis", argv, workdir, port)

    def client(self, **kw):
        import redis
        return redis.Redis(host=HOST, port=self.port, socket_timeout=10, **kw)


class RedisReplica(RedisServer):
    """redis-server replicating `master` (a RedisServer), waited for until the link is up."""

    def __init__(self, workdir, master, port=None, extra_args=()):
        super().__init__(workdir, port, ["--replicaof", HOST, master.port] + list(extra_args))
        try:
            wait_until(lambda: self.client().info("replication").get("master_link_status") ==
                       "up", START_TIMEOUT, "replica %s to sync with %s"
                       % (self.address, master.address), self.check_running)
        except BaseException:
            self.stop(signal.SIGKILL)
            raise


class RedisSentinel(Server):
    """redis-sentinel on 127.0.0.1:port watching `masters` ({name: (master, [replicas])}, the
    servers as RedisServer objects).  Its config file is written into its own directory (a
    Sentinel rewrites it).  `myid` (40 hex digits) and `peers` ([(port, myid)] of the other
    Sentinels) let the Sentinels know each other at once instead of after their first hello
    messages (2 s); the replicas are made known the same way."""

    def __init__(self, workdir, masters, port=None, quorum=2, down_after_ms=400,
                 failover_timeout_ms=4000, myid=None, peers=(), password=None, users=(),
                 reconfig_script=None):
        port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="sentinel-%d-" % port, dir=workdir)
        lines = ["port %d" % port, "bind %s" % HOST, "daemonize no", "dir %s" % self.dir,
                 "protected-mode no"]
        if myid:
            lines.append("sentinel myid %s" % myid)
        if password:
            # Clients AUTH with it; the Sentinels use it with each other too.
            lines += ["requirepass %s" % password, "sentinel sentinel-pass %s" % password]
        lines += ["user %s" % u for u in users]
        for name, (master, replicas) in masters.items():
            lines += ["sentinel monitor %s %s %d %d" % (name, HOST, master.port, quorum),
                      "sentinel down-after-milliseconds %s %d" % (name, down_after_ms),
                      "sentinel failover-timeout %s %d" % (name, failover_timeout_ms),
                      "sentinel parallel-syncs %s 1" % name]
            if reconfig_script:
                lines.append("sentinel client-reconfig-script %s %s" % (name, reconfig_script))
            lines += ["sentinel known-replica %s %s %d" % (name, HOST, r.port) for r in replicas]
            lines += ["sentinel known-sentinel %s %s %d %s" % (name, HOST, p, i)
                      for p, i in peers]
        self.conf_path = os.path.join(self.dir, "sentinel.conf")
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.password = password
        self.paused = False
        super().__init__("sentinel", [REDIS_SENTINEL, self.conf_path], workdir, port)

    def client(self, **kw):
        import redis
        if self.password and "password" not in kw:
            kw["password"] = self.password
        return redis.Redis(host=HOST, port=self.port, socket_timeout=10, **kw)

    def pause(self):
        """SIGSTOP: the sockets stay open, nothing answers."""
        self.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.send_signal(signal.SIGCONT)
        self.paused = False

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        if self.paused and self.proc.poll() is None:
            self.resume()  # a stopped process would not act on SIGTERM
        return super().stop(sig, timeout)


class SentinelTopology:
    """`shards` x (master + replica) watched by `sentinels` Sentinels (quorum 2), on 127.0.0.1:
    the set-up of the failover tests.  Masters are named shard1, shard2, ... (`names` to choose).
    Every process is started through `test` (a harness.TestCase, or anything with its tmpdir,
    _started and addCleanup), so it is stopped when the test ends.  Failovers are fast:
    down-after-milliseconds 400, failover-timeout 4000 by default.  `reconfig_script`: each
    Sentinel runs it after a failover (client-reconfig-script), as deployments without native
    Sentinel support do.

        topo = SentinelTopology(self)
        topo.master_address("shard1")       # "127.0.0.1:PORT", as the Sentinels say
        old = topo.kill_master("shard2")    # SIGKILL
        new = topo.wait_switched("shard2", old)
    """

    def __init__(self, test, shards=2, sentinels=3, names=None, down_after_ms=400,
                 failover_timeout_ms=4000, password=None, users=(), down_sentinels=(),
                 reconfig_script=None):
        import binascii
        self.test = test
        self.names = list(names or ["shard%d" % (i + 1) for i in range(shards)])
        self.masters = {}
        self.replicas = {}
        self.servers = {}  # address -> RedisServer, every data server ever started here
        # Any of them may become a master: none waits 5 s for more replicas before a full sync.
        fast_sync = ["--repl-diskless-sync-delay", "0"]
        for name in self.names:
            m = test._started(RedisServer(test.tmpdir, extra_args=fast_sync))
            r = test._started(RedisReplica(test.tmpdir, m, extra_args=fast_sync))
            self.masters[name], self.replicas[name] = m, [r]
            self.servers[m.address] = m
            self.servers[r.address] = r
        ports = [free_port() for _ in range(sentinels)]
        ids = [binascii.hexlify(os.urandom(20)).decode() for _ in range(sentinels)]
        watched = {n: (self.masters[n], self.replicas[n]) for n in self.names}
        self.password = password
        self.sentinels = []
        self.sentinel_ports = ports
        for i, port in enumerate(ports):
            if i in down_sentinels:
                self.sentinels.append(None)
                continue
            peers = [(p, ids[j]) for j, p in enumerate(ports) if j != i]
            self.sentinels.append(test._started(RedisSentinel(
                test.tmpdir, watched, port=port, down_after_ms=down_after_ms,
                failover_timeout_ms=failover_timeout_ms, myid=ids[i], peers=peers,
                password=password, users=users, reconfig_script=reconfig_script)))
        self.wait_ready()

    def sentinel_addresses(self):
        """"127.0.0.1:PORT" of every Sentinel, also of those not started (down_sentinels)."""
        return ["%s:%d" % (HOST, p) for p in self.sentinel_ports]

    def live_sentinels(self):
        return [s for s in self.sentinels if s is not None and s.running() and not s.paused]

    def wait_ready(self, timeout=START_TIMEOUT):
        """Waits until every live Sentinel sees each master up, its replica, and the other
        Sentinels: a failover can then be agreed at once."""
        others = len(self.sentinels) - 1

        def ready():
            import redis
            try:
                return self._ready(others)
            except redis.exceptions.ConnectionError:
                return False  # a Sentinel still starting up (or busy): ask again
        wait_until(ready, timeout, "the Sentinels to see every master, replica and Sentinel")

    def _ready(self, others):
        for s in self.live_sentinels():
            for name in self.names:
                info = s.client().execute_command("SENTINEL", "MASTER", name)
                info = dict(zip(info[::2], info[1::2]))
                if (info[b"flags"] != b"master" or int(info[b"num-slaves"]) < 1 or
                        int(info[b"num-other-sentinels"]) < others):
                    return False
        return True

    def master_address(self, name, sentinel=None):
        """Where the Sentinel (default: the first live one) says master `name` is."""
        s = sentinel or self.live_sentinels()[0]
        host, port = s.client().execute_command("SENTINEL", "get-master-addr-by-name", name)
        return "%s:%s" % (host.decode(), port.decode())

    def server(self, address):
        """The RedisServer at "host:port"."""
        return self.servers[address]

    def kill_master(self, name):
        """SIGKILLs the current master of `name`; returns its address."""
        addr = self.master_address(name)
        self.servers[addr].stop(signal.SIGKILL)
        return addr

    def kill_master_in_sync(self, name, timeout=START_TIMEOUT):
        """SIGKILLs the current master of `name` once its replicas hold every write it has
        acknowledged; returns its address.  Redis replicates asynchronously, so a plain SIGKILL
        may lose the last acknowledged writes; here writes are paused on the master first
        (CLIENT PAUSE WRITE: they wait unanswered and die with it, reads go on), so a test may
        demand that every acknowledged write survives the failover."""
        addr = self.master_address(name)
        master = self.servers[addr].client()
        master.execute_command("CLIENT", "PAUSE", 600000, "WRITE")

        def synced():
            info = master.info("replication")
            links = [v for k, v in info.items() if re.match(r"slave\d+$", k)]
            return all(self.servers["%s:%s" % (r["ip"], r["port"])].client().info(
                "replication")["slave_repl_offset"] == info["master_repl_offset"] for r in links)
        wait_until(synced, timeout, "the replicas of %s (%s) to catch up" % (name, addr))
        self.servers[addr].stop(signal.SIGKILL)
        return addr

    def failover(self, name):
        """A manual failover (SENTINEL FAILOVER) through the first live Sentinel."""
        self.live_sentinels()[0].client().execute_command("SENTINEL", "FAILOVER", name)

    def wait_switched(self, name, old, timeout=30):
        """Waits until every live Sentinel gives master `name` an address other than `old` and
        that server says it is a master; returns the new address."""
        def moved():
            addrs = {self.master_address(name, s) for s in self.live_sentinels()}
            if len(addrs) != 1 or old in addrs:
                return False
            new = addrs.pop()
            return self.servers[new].client().execute_command("ROLE")[0] == b"master"
        wait_until(moved, timeout, "Sentinels to fail %s over from %s" % (name, old))
        return self.master_address(name)

    def watch(self):
        """An EventWatcher subscribed to every live Sentinel (stopped with the test)."""
        w = EventWatcher(self.live_sentinels())
        self.test.addCleanup(w.stop)
        return w


class EventWatcher:
    """Records the Sentinels' +switch-master (and down) events as (time.time(), sentinel port,
    channel, payload), one thread per Sentinel."""

    CHANNELS = ("+switch-master", "+sdown", "-sdown", "+odown", "-odown")

    def __init__(self, sentinels):
        import threading
        self.events = []
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = []
        for s in sentinels:
            ps = s.client().pubsub(ignore_subscribe_messages=True)
            ps.subscribe(*self.CHANNELS)
            t = threading.Thread(target=self._run, args=(s.port, ps), daemon=True)
            t.start()
            self.threads.append(t)

    def _run(self, port, ps):
        while not self.stopping:
            try:
                msg = ps.get_message(timeout=0.05)
            except Exception:  # the Sentinel went away
                return
            if msg and msg["type"] == "message":
                with self.lock:
                    self.events.append((time.time(), port, msg["channel"].decode(),
                                        msg["data"].decode()))
        ps.close()

    def switches(self, name):
        """[(time, sentinel port, new "host:port")] of +switch-master events of master `name`."""
        out = []
        with self.lock:
            for t, port, channel, data in self.events:
                f = data.split()
                if channel == "+switch-master" and f[0] == name:
                    out.append((t, port, "%s:%s" % (f[3], f[4])))
        return out

    def wait_switch(self, name, timeout=30):
        """Waits for the first +switch-master of `name`; returns (time, port, new address)."""
        wait_until(lambda: self.switches(name), timeout, "+switch-master of %s" % name)
        return self.switches(name)[0]

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(timeout=5)


class Memcached(Server):
    """memcached on 127.0.0.1:port (TCP only)."""

    def __init__(self, workdir, port=None, extra_args=()):
        port = port or free_port()
        argv = [MEMCACHED, "-l", HOST, "-p", port, "-U", "0"]
        if os.geteuid() == 0:
            argv += ["-u", "root"]  # memcached refuses to run as root without it
        super().__init__("memcached", argv + list(extra_args), workdir, port)

    def client(self, **kw):
        """A pymemcache client talking to this memcached directly (Debian's python3-pymemcache)."""
        return memcache_client(self.port, **kw)

    def raw(self):
        from rawmc import RawMc
        return RawMc(self.port)


def memcache_client(port, **kw):
    """pymemcache.Client on 127.0.0.1:port that waits for every reply unless told otherwise."""
    from pymemcache.client.base import Client
    kw.setdefault("default_noreply", False)
    kw.setdefault("timeout", 10)
    kw.setdefault("connect_timeout", 10)
    return Client((HOST, port), **kw)


def pool(servers, listen_port=None, **keys):
    """A pool's config dict: listen on a free 127.0.0.1 port, the given servers.  `servers`
    holds RedisServer/Memcached objects (weight 1) or ready strings ("127.0.0.1:6379:1 name").
    Other keys (hash, distribution, redis, timeout, ...) are passed through; `redis` defaults to
    true when any server is a RedisServer."""
    entries = []
    is_redis = False
    for s in servers:
        if isinstance(s, Server):
            is_redis = is_redis or isinstance(s, RedisServer)
            entries.append("%s:1" % s.address)
        else:
            entries.append(str(s))
    conf = {"listen": "%s:%d" % (HOST, listen_port or free_port())}
    if is_redis:
        conf["redis"] = True
    conf.update(keys)
    conf["servers"] = entries
    return conf


def write_config(path, pools):
    """Writes {pool name: pool dict} as YAML to path; returns path."""
    with open(path, "w") as f:
        yaml.safe_dump(pools, f, default_flow_style=False, sort_keys=False)
    return path


def same_layout(pools, proxy):
    """A copy of `pools` ({name: pool dict}) in which each pool the proxy already has keeps the
    proxy's listen address: one layout reloaded into several proxies (TestCase.start_proxies)."""
    return {name: dict(conf, listen=proxy.pools[name]["listen"]) if name in proxy.pools else conf
            for name, conf in pools.items()}


def listen_port_of(pool_conf):
    """The TCP port a pool listens on, or None for a unix socket."""
    listen = pool_conf["listen"].split()[0]
    if listen.startswith("/"):
        return None
    return int(listen.rsplit(":", 1)[1])


def read_stats(port, timeout=10, request=b""):
    """Connects to a stats port, sends `request` (nothing: a plain reader), reads until the
    server closes, returns the raw bytes."""
    chunks = []
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        if request:
            s.sendall(request)
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def fetch_stats(port, timeout=10):
    """The stats JSON document of the proxy whose stats server is on `port`, parsed."""
    return json.loads(read_stats(port, timeout).decode("utf-8"))


class ProxyBase(Process):
    """Common code for shardproxy and nutcracker: same flags, same config, same stats."""

    program = None  # set by subclasses
    label = None

    def __init__(self, workdir, pools, args=(), stats_interval=100, log_level=None,
                 wait_for_pools=True, env=None, conf_path=None):
        self.pools = pools
        self.stats_port = free_port()
        tag = "%s-%d" % (self.label, self.stats_port)
        self.conf_path = conf_path or write_config(os.path.join(workdir, tag + ".yml"), pools)
        self.log_path = os.path.join(workdir, tag + ".log")
        argv = [self.program, "-c", self.conf_path, "-s", self.stats_port, "-a", HOST,
                "-i", stats_interval, "-o", self.log_path]
        if log_level is not None:
            argv += ["-v", log_level]
        argv += list(args)
        super().__init__(tag, argv, workdir, env=env)
        try:
            self.wait_ready(wait_for_pools)
        except BaseException:
            self.stop(signal.SIGKILL)
            raise

    def check_running(self):
        rc = self.proc.poll()
        if rc is not None:
            raise HarnessError("%s exited with status %s: %s\n--- output ---\n%s\n--- log ---\n%s"
                               % (self.name, rc, " ".join(self.argv), self.output(), self.log()))

    def wait_ready(self, wait_for_pools=True):
        """Waits until the stats port (and, with wait_for_pools, every pool's TCP port)
        accepts connections."""
        ports = [self.stats_port]
        if wait_for_pools:
            ports += [p for p in (listen_port_of(c) for c in self.pools.values()) if p]
        for port in ports:
            wait_until(lambda: port_listening(port), START_TIMEOUT,
                       "%s to listen on port %d" % (self.name, port), self.check_running)

    def log(self):
        """The log file's contents so far ("" when it does not exist)."""
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for_log(self, text, timeout=START_TIMEOUT):
        """Waits until `text` appears in the log; returns the log."""
        wait_until(lambda: text in self.log(), timeout, "%r in %s" % (text, self.log_path))
        return self.log()

    def reload(self, pools=None, text=None):
        """Swaps the -c file for `pools` (a {name: pool dict}, then also self.pools) or for raw
        `text` (a broken file), atomically, as an operator does, and sends SIGUSR1.  Returns the
        log's length before the signal: what wait_log_line reads from."""
        offset = len(self.log())
        tmp = self.conf_path + ".new"
        if text is None:
            write_config(tmp, pools)
            self.pools = pools
        else:
            with open(tmp, "w") as f:
                f.write(text)
        os.replace(tmp, self.conf_path)
        self.send_signal(signal.SIGUSR1)
        return offset

    def wait_log_line(self, offset, needles, timeout=START_TIMEOUT):
        """Waits for a log line written after `offset` (a length of the log) that contains
        every string of `needles`, case-insensitively; returns that line."""
        needles = [n.lower() for n in needles]
        found = []

        def seen():
            found[:] = [line for line in self.log()[offset:].splitlines()
                        if all(n in line.lower() for n in needles)]
            return found
        try:
            wait_until(seen, timeout, "a log line with %s" % " and ".join(map(repr, needles)),
                       self.check_running)
        except HarnessError as e:
            raise HarnessError("%s; the log since:\n%s" % (e, self.log()[offset:][-3000:]))
        return found[0]

    def port(self, pool_name):
        return listen_port_of(self.pools[pool_name])

    def redis_client(self, pool_name, **kw):
        import redis
        return redis.Redis(host=HOST, port=self.port(pool_name), socket_timeout=10, **kw)

    def memcache_client(self, pool_name, **kw):
        return memcache_client(self.port(pool_name), **kw)

    def raw_mc(self, pool_name):
        """A byte-exact memcached client (rawmc.RawMc) on the pool's port."""
        from rawmc import RawMc
        return RawMc(self.port(pool_name))

    def raw_stats(self):
        return read_stats(self.stats_port)

    def stats(self):
        return fetch_stats(self.stats_port)

    def wait_stats(self, predicate, timeout=START_TIMEOUT):
        """Polls the stats until predicate(doc) is true and returns that doc.  The document is a
        snapshot refreshed every stats interval (-i, 100 msec by default here), so counters
        lag behind the traffic that moved them; on timeout the last document is in the error."""
        last = {}

        def check():
            last["doc"] = self.stats()
            return predicate(last["doc"])
        try:
            wait_until(check, timeout, "stats of %s to match" % self.name, self.check_running)
        except HarnessError as e:
            raise HarnessError("%s; last stats: %s" % (e, json.dumps(last.get("doc"))))
        return last["doc"]


# The integration suite runs with `--workers 1` (the default) and again with SP_TEST_WORKERS=2
# (scripts/test): every shardproxy a test starts gets `--workers N` unless the test chose its own.
WORKERS = int(os.environ.get("SP_TEST_WORKERS") or 1)


class Shardproxy(ProxyBase):
    program = property(lambda self: shardproxy_binary())
    label = "shardproxy"

    def __init__(self, workdir, pools, args=(), **kw):
        args = [str(a) for a in args]
        if WORKERS > 1 and not any(a.startswith("--workers") for a in args):
            args += ["--workers", str(WORKERS)]
        self._races_checked = False
        # How many event loops it runs: each has its own listeners and server connections.
        self.workers = 1
        for i, a in enumerate(args):
            if a.startswith("--workers"):
                n = a.split("=", 1)[1] if "=" in a else args[i + 1]
                self.workers = os.cpu_count() if n == "auto" else int(n)
        super().__init__(workdir, pools, args=args, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """As Process.stop; and a data race ThreadSanitizer reported at any time (a build with
        --enable-tsan: scripts/test's thread pass) fails the test that stops the proxy, whether
        or not it asserts on the exit status (a cleanup that raises is an error)."""
        rc = super().stop(sig, timeout)
        if not self._races_checked:
            self._races_checked = True
            text = self.output()
            if "WARNING: ThreadSanitizer" in text:
                raise HarnessError("%s: ThreadSanitizer reported:\n%s" % (self.name, text[-8000:]))
        return rc


class Nutcracker(ProxyBase):
    program = NUTCRACKER
    label = "nutcracker"

    def __init__(self, *args, **kw):
        require_nutcracker()
        super().__init__(*args, **kw)


def run_shardproxy(args, timeout=30, cwd=None, env=None):
    """Runs the daemon to completion (for -h, -V, -t, bad options); returns CompletedProcess
    with text stdout/stderr."""
    return subprocess.run([shardproxy_binary()] + [str(a) for a in args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True)


NUTCRACKER_MISSING = ("%s is not installed (Debian: apt-get install nutcracker; it is not "
                      "packaged for CentOS/RHEL), so the comparison with nutcracker is skipped"
                      % NUTCRACKER)


def require_nutcracker():
    """Skips the calling test, saying why, where nutcracker 0.5.0 is not installed (every RHEL
    machine).  Everything that runs nutcracker goes through here."""
    if not os.access(NUTCRACKER, os.X_OK):
        raise unittest.SkipTest(NUTCRACKER_MISSING)


def run_nutcracker(args, timeout=30, cwd=None):
    require_nutcracker()
    return subprocess.run([NUTCRACKER] + [str(a) for a in args], cwd=cwd,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True)


# --- shardoracle, asked about keys -------------------------------------------------------------

def _oracle_lines(args, keys, workdir):
    """Runs `shardoracle ARGS --hex KEYFILE` on `keys` (bytes); returns its stdout lines, with
    each line's first field (the key, hex) decoded."""
    fd, keyfile = tempfile.mkstemp(prefix="keys-", suffix=".hex", dir=workdir)
    with os.fdopen(fd, "w") as f:
        f.write("".join(k.hex() + "\n" for k in keys))
    res = subprocess.run([shardoracle_binary()] + list(args) + ["--hex", keyfile],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    os.unlink(keyfile)
    if res.returncode not in (0, 1):
        raise HarnessError("shardoracle %s: %s" % (" ".join(args), res.stderr.decode()))
    out = []
    for line in res.stdout.decode().splitlines():
        fields = line.split("\t")
        out.append([bytes.fromhex(fields[0])] + fields[1:])
    return out


def oracle_place(conf, keys, workdir, pool=None):
    """{key: (address, server name or None)}: where `shardoracle place` puts each key."""
    args = ["place", "-c", conf] + (["--pool", pool] if pool else [])
    return {f[0]: (f[1], f[2] if len(f) > 2 else None)
            for f in _oracle_lines(args, keys, workdir)}


def oracle_moved(old, new, keys, workdir, pool=None):
    """{key: (old address, new address)} of the keys that `shardoracle diff --list` says change
    server from config `old` to config `new`."""
    args = ["diff", "-c", old, "--to", new, "--list"] + (["--pool", pool] if pool else [])
    return {f[0]: (f[1], f[2]) for f in _oracle_lines(args, keys, workdir)}


# --- a steady load through the proxy, every reply checked against a model ------------------------

def spread_keys(prefix, n):
    """n distinct keys b"PREFIX:HEX", the variable part a digest: hashes such as fnv1a_64 cluster
    keys that differ only in their last bytes (k:1, k:2, ...), which can put nearly all of a
    small key set on one server of two."""
    import hashlib
    return [b"%s:%s" % (prefix.encode(), hashlib.sha1(b"%d" % i).hexdigest()[:12].encode())
            for i in range(n)]


class ReplyError(str):
    """An error reply's text (without the '-')."""


def parse_reply(raw):
    """A raw RESP reply -> None (nil), bytes (bulk or status), int, or ReplyError; an array is
    returned raw (bytes starting with "*": a wrong answer wherever a model expects a value)."""
    kind, eol = raw[:1], raw.index(b"\r\n")
    body = raw[1:eol]
    if kind == b"$":
        return None if int(body) < 0 else raw[eol + 2:eol + 2 + int(body)]
    if kind == b":":
        return int(body)
    if kind == b"-":
        return ReplyError(body.decode(errors="replace"))
    if kind == b"+":
        return body
    return raw


class KeyModel:
    """What a key of a ModelLoad may hold: the newest acknowledged value (the list's last
    element), values whose write got no acknowledgement (they may or may not have happened), and
    every acknowledged value in order."""

    def __init__(self, first):
        self.newest = first
        self.doubt = set()
        self.acked = [first]


class LoadEvent:
    """One thing a load client saw: what (`failure`, `wrong`, `dropped`, `acked`), when
    (time.time()), on which key, and the details (the reply, the expected value, why)."""

    def __init__(self, what, key, op, detail=None, expected=None):
        self.what, self.key, self.op = what, key, op
        self.detail, self.expected = detail, expected
        self.time = time.time()

    def __repr__(self):
        return "%.3f %s %s %r: %r%s" % (self.time, self.what, self.op, self.key, self.detail,
                                       "" if self.expected is None else
                                       " (expected %r)" % (self.expected,))


class _LoadClient:
    """One client of a ModelLoad, in its own thread: its own keys, paced rounds of `depth`
    requests (1: unpipelined) mixing LINDEX key -1 and RPUSH key unique-value, each reply
    checked against the model as it arrives (a pipeline's replies come back in order)."""

    def __init__(self, load, idx, keys, depth, rate):
        import threading
        self.load, self.idx, self.keys, self.depth = load, idx, keys, depth
        self.period = depth / rate
        self.rng = random.Random(idx)
        self.seq = 0
        self.conn = None
        self.thread = threading.Thread(target=self.run, daemon=True, name="load-%d" % idx)

    def run(self):
        t_next = time.monotonic()
        while not self.load.stopping.is_set():
            self.round_trip([self.next_op() for _ in range(self.depth)])
            t_next += self.period
            delay = t_next - time.monotonic()
            if delay > 0:
                self.load.stopping.wait(delay)
            elif delay < -1:
                t_next = time.monotonic()  # fell behind (a stall): no burst to catch up
        if self.conn is not None:
            self.conn.close()

    def next_op(self):
        """(key, None) for a read, (key, value) for a write of a value never written before."""
        key = self.rng.choice(self.keys)
        if self.rng.random() < self.load.read_share:
            return key, None
        self.seq += 1
        return key, b"v%d:%d" % (self.idx, self.seq)

    def round_trip(self, ops):
        from rawresp import RawClient, enc
        try:
            if self.conn is None:
                self.conn = RawClient(self.load.port, timeout=self.load.timeout)
        except OSError as e:
            self.unanswered(ops, "connect: %s" % e)
            return
        answered = 0
        try:
            self.conn.send(*(enc(b"LINDEX", k, b"-1") if v is None else enc(b"RPUSH", k, v)
                             for k, v in ops))
            for key, value in ops:
                reply = parse_reply(self.conn.read_reply())
                answered += 1
                self.check(key, value, reply)
        except socket.timeout:
            self.lose_connection(ops[answered:], "no reply within %gs" % self.load.timeout)
        except (EOFError, OSError) as e:
            # The proxy closed (or reset) a client connection: that is a drop.
            self.load.record(LoadEvent("dropped", None, None, str(e)))
            self.lose_connection(ops[answered:], "connection lost: %s" % e)

    def lose_connection(self, ops, why):
        self.conn.close()
        self.conn = None
        self.unanswered(ops, why)

    def unanswered(self, ops, why):
        for key, value in ops:
            self.fail(key, value, why)

    def fail(self, key, value, why):
        if value is not None:
            self.load.model[key].doubt.add(value)
        self.load.record(LoadEvent("failure", key, "read" if value is None else "write", why))

    def check(self, key, value, reply):
        m = self.load.model[key]
        if isinstance(reply, ReplyError):
            return self.fail(key, value, str(reply))
        if value is None:
            if reply == m.newest:
                return
            if reply in m.doubt:  # that write did happen after all
                m.newest = reply
                m.doubt.discard(reply)
                return
            return self.load.record(LoadEvent("wrong", key, "read", reply, m.newest))
        if isinstance(reply, int):
            m.newest = value
            m.acked.append(value)
            return self.load.record(LoadEvent("acked", key, "write", value))
        self.load.record(LoadEvent("wrong", key, "write", reply, "an integer"))


class ModelLoad:
    """A steady read/write load through a proxy's pool, every reply checked against a model.

    Each key gets one element first (RPUSH key p:KEY, pipelined, before the load starts); each
    of `clients` clients owns every clients-th key and sends `rate` requests/s: half (read_share)
    LINDEX key -1, which must answer the newest acknowledged element, the rest RPUSH key with a
    value never written before, which must be acknowledged with an integer.  The first
    `pipelined` clients send `depth` requests per round trip, the others one.  Per key, a value
    whose write got an error or no reply is in doubt: a read may find it (it did happen) but a
    read of anything else, or of nil, is a wrong answer.

    What the clients saw is in `events` (LoadEvent: failure, wrong, dropped, acked); `problems()`
    summarises what a test forbids, `read_back()` and `backend_problems()` check the end state.

        load = harness.ModelLoad(self, proxy.port("alpha"), [b"k:%d" % i for i in range(300)])
        load.start(); ...; load.stop()
        self.assertEqual(load.problems(), [])
    """

    def __init__(self, test, port, keys, clients=4, pipelined=2, depth=8, rate=60,
                 read_share=0.5, timeout=15.0):
        import threading
        self.port, self.keys = port, list(keys)
        self.read_share, self.timeout = read_share, timeout
        self.model = {k: KeyModel(b"p:" + k) for k in self.keys}
        self.events = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.clients = [_LoadClient(self, i, self.keys[i::clients],
                                    depth if i < pipelined else 1, rate)
                        for i in range(clients)]
        self._preload()
        test.addCleanup(self.stop)

    def _preload(self):
        from rawresp import RawClient, enc
        c = RawClient(self.port, timeout=60)
        for i in range(0, len(self.keys), 500):
            chunk = self.keys[i:i + 500]
            c.send(*(enc(b"RPUSH", k, self.model[k].newest) for k in chunk))
            for k in chunk:
                reply = parse_reply(c.read_reply())
                if reply != 1:
                    c.close()
                    raise HarnessError("preloading %r through port %d: %r (keys must be new)"
                                       % (k, self.port, reply))
        c.close()

    def record(self, event):
        with self.lock:
            self.events.append(event)

    def start(self):
        for c in self.clients:
            c.thread.start()
        return self

    def stop(self):
        """Stops the clients and waits for them (each finishes its round trip first)."""
        self.stopping.set()
        for c in self.clients:
            if c.thread.ident is not None:
                c.thread.join(timeout=self.timeout + 10)

    def seen(self, what, since=0.0, keys=None):
        """The events of kind `what` at or after `since`, on `keys` (a set; None: all)."""
        with self.lock:
            return [e for e in self.events if e.what == what and e.time >= since and
                    (keys is None or e.key in keys)]

    def wait_acked(self, keys, since, count, timeout=START_TIMEOUT):
        """Waits until `count` writes to `keys` were acknowledged at or after `since`; returns
        whether they were (False after `timeout`: the caller reports it with the rest)."""
        try:
            wait_until(lambda: len(self.seen("acked", since, keys)) >= count, timeout,
                       "%d acknowledged writes" % count)
            return True
        except HarnessError:
            return False

    def problems(self, allowed_failure=lambda event: False):
        """Everything a test forbids, summarised (an empty list when all is well): connections
        the proxy closed, wrong answers, and failed requests (errors, timeouts) except those
        allowed_failure(event) accepts."""
        out = []
        for what, events in (("client connections dropped", self.seen("dropped")),
                             ("wrong answers", self.seen("wrong")),
                             ("failed requests", [e for e in self.seen("failure")
                                                  if not allowed_failure(e)])):
            if events:
                out.append("%d %s, e.g. %s" % (len(events), what,
                                               "; ".join(map(repr, events[:5]))))
        return out

    def read_back(self):
        """Reads every key once more through the proxy (the load stopped); returns the keys
        whose answer is neither the newest acknowledged value nor one in doubt, as problems."""
        from rawresp import RawClient, enc
        c = RawClient(self.port, timeout=60)
        c.send(*(enc(b"LINDEX", k, b"-1") for k in self.keys))
        bad = []
        for k in self.keys:
            r = parse_reply(c.read_reply())
            m = self.model[k]
            if r != m.newest and r not in m.doubt:
                bad.append("%r read back as %r (expected %r)" % (k, r, m.newest))
        c.close()
        return ["%d keys read back wrong, e.g. %s" % (len(bad), "; ".join(bad[:5]))] if bad else []

    def backend_problems(self, home, servers):
        """Checks the backends (the load stopped): every acknowledged value of each key is in
        its list on server home[key], and the key exists on no other of `servers` ({label:
        redis client}; home maps each key to a label).  Returns the problems found."""
        missing, elsewhere = [], []
        for label, client in servers.items():
            mine = [k for k in self.keys if home[k] == label]
            others = [k for k in self.keys if home[k] != label]
            pipe = client.pipeline(transaction=False)
            for k in mine:
                pipe.lrange(k, 0, -1)
            for k in others:
                pipe.exists(k)
            replies = pipe.execute()
            for k, stored in zip(mine, replies[:len(mine)]):
                stored = set(stored)
                lost = [v for v in self.model[k].acked if v not in stored]
                if lost:
                    missing.append("%r on %s lacks %r" % (k, label, lost[:3]))
            elsewhere += ["%r (home %s) exists on %s" % (k, home[k], label)
                          for k, there in zip(others, replies[len(mine):]) if there]
        out = []
        if missing:
            out.append("%d keys lack acknowledged writes, e.g. %s"
                       % (len(missing), "; ".join(missing[:5])))
        if elsewhere:
            out.append("%d keys are stored on another shard than their own, e.g. %s"
                       % (len(elsewhere), "; ".join(elsewhere[:5])))
        return out


class TestCase(unittest.TestCase):
    """unittest.TestCase with a private temp dir and peers that are stopped (by PID) and
    cleaned up when the test ends, whatever the outcome."""

    def setUp(self):
        super().setUp()
        self.tmpdir = tempfile.mkdtemp(prefix="sp-it-")
        self.addCleanup(self._remove_tmpdir)

    def _remove_tmpdir(self):
        if os.environ.get("SP_TEST_KEEP"):
            print("kept %s" % self.tmpdir)
            return
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def _started(self, proc):
        self.addCleanup(proc.stop)
        return proc

    def start_redis(self, **kw):
        return self._started(RedisServer(self.tmpdir, **kw))

    def start_sentinels(self, **kw):
        """A SentinelTopology (2 shards x master + replica, 3 Sentinels by default)."""
        return SentinelTopology(self, **kw)

    def start_memcached(self, **kw):
        return self._started(Memcached(self.tmpdir, **kw))

    def start_proxy(self, pools, **kw):
        """Starts shardproxy on `pools` ({name: pool(...)}); see ProxyBase for keywords."""
        return self._started(Shardproxy(self.tmpdir, pools, **kw))

    def start_proxies(self, pools, n=2, args_each=None, **kw):
        """n shardproxies on the same pools: the first on `pools` as given, each other one on a
        copy listening on free ports of its own (two proxies cannot listen on one port, so each
        has its own file, which differs only in `listen:`).  Reload them on one new layout with
        p.reload(same_layout(new_pools, p)) for each.  `args_each`: each proxy's own args."""
        out = []
        for i in range(n):
            if args_each is not None:
                kw["args"] = args_each[i]
            own = pools if i == 0 else {name: dict(conf, listen="%s:%d" % (HOST, free_port()))
                                        for name, conf in pools.items()}
            out.append(self.start_proxy(own, **kw))
        return out

    def start_nutcracker(self, pools, **kw):
        return self._started(Nutcracker(self.tmpdir, pools, **kw))

    def assert_waits(self, wait, what):
        """Returns wait() (a harness wait, raising HarnessError on timeout), failing the test
        instead of erring when it times out: the awaited behaviour is what is under test."""
        try:
            return wait()
        except HarnessError as e:
            why = str(e)
        self.fail("%s: %s" % (what, why))

    def assert_stops_cleanly(self, proxy):
        """Stops a proxy with SIGTERM and asserts that it exits 0: a sanitizer build reports a
        leak or a memory error found at exit (after reloads, failovers) that way."""
        rc = proxy.stop()
        self.assertEqual(rc, 0, "%s exited with status %s:\n%s" % (proxy.name, rc,
                                                                   proxy.output()[-3000:]))

    def stop_pid_on_cleanup(self, pid):
        """For processes the harness did not start itself (a daemon's grandchild)."""
        self.addCleanup(lambda: kill_pid(pid, signal.SIGKILL) if pid_alive(pid) else None)

    def stop_matching_on_cleanup(self, pattern):
        """Kills (by PID) every process whose command line contains `pattern` - something unique
        to this test, such as its temp dir - when the test ends: a daemon that failed before
        the test learnt its pid must not outlive the test."""
        def stop():
            found = subprocess.run(["pgrep", "-f", pattern], stdout=subprocess.PIPE, text=True)
            for pid in found.stdout.split():
                if int(pid) != os.getpid():
                    kill_pid(int(pid), signal.SIGKILL)
        self.addCleanup(stop)

    def path(self, name):
        return os.path.join(self.tmpdir, name)


class ClassPeersTestCase(TestCase):
    """A TestCase whose peers are started once for the whole class: a subclass defines the
    classmethod start_peers() and starts each peer through cls._start(proc) (its temp dir is
    cls.workdir).  They are stopped by PID when the class is done; a shardproxy that does not
    exit cleanly on SIGTERM (status, sanitizer report) fails the class."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="sp-%s-" % cls.__name__.lower())
        cls.procs = []
        try:
            cls.start_peers()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_peers(cls):
        raise NotImplementedError

    @classmethod
    def tearDownClass(cls):
        problem = None
        for p in reversed(cls.procs):
            rc = p.stop()
            # A sanitizer build reports leaks and UB at exit: a clean SIGTERM exit is part of it.
            if isinstance(p, Shardproxy) and (rc != 0 or "Sanitizer" in p.output()
                                              or "runtime error" in p.output()):
                problem = "shardproxy exited with status %s on SIGTERM:\n%s" % (rc, p.output())
        shutil.rmtree(cls.workdir, ignore_errors=True)
        if problem is not None:
            raise AssertionError(problem)

    @classmethod
    def _start(cls, proc):
        cls.procs.append(proc)
        return proc


def main():
    """unittest.main(): exits 0 when every test passed, 1 otherwise, and 77 (automake's SKIP)
    when every test was skipped (e.g. nutcracker is not installed); the log says why."""
    import sys
    result = unittest.main(verbosity=2, exit=False).result
    # A class skipped in setUpClass counts as one skip and no test run.
    if result.skipped and len(result.skipped) >= result.testsRun and result.wasSuccessful():
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() else 1)
