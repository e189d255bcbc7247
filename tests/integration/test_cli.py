# SPDX-License-Identifier: Apache-2.0
"""The command line, signals, log, daemon mode and pid file of shardproxy, compared with
nutcracker 0.5.0 (/usr/sbin/nutcracker) where the two must agree."""

import os
import re
import resource
import signal
import socket
import struct
import subprocess
import time

import harness

MBUF_RANGE = "mbuf chunk size must be between 512 and 16777216 bytes"  # nutcracker's words

# Fatal-signal tests must not leave core files around.
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def option_lines(text):
    """{"-v": "  -v, --verbose=N        : set logging level"} from a usage text: each option
    line up to its "(default" part, which legitimately differs (paths, program name)."""
    lines = {}
    for line in text.splitlines():
        m = re.match(r"  (-\w), --", line)
        if m:
            lines[m.group(1)] = line.split(" (default")[0]
    return lines


class Base(harness.TestCase):
    def config(self, pools=None, name="conf.yml"):
        """Writes a valid config (one redis pool, nothing needs to run) and returns its path."""
        if pools is None:
            pools = {"alpha": harness.pool(["127.0.0.1:%d:1" % harness.free_port()],
                                           hash="fnv1a_64", distribution="ketama", redis=True)}
        return harness.write_config(self.path(name), pools)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def start(self, *args, **kw):
        return self.start_proxy(self.pools(), args=args, **kw)

    def pools(self):
        return {"alpha": harness.pool(["127.0.0.1:%d:1" % harness.free_port()], redis=True)}

    def assert_usage_error(self, args, message):
        r = harness.run_shardproxy(args)
        self.assertEqual(r.returncode, 1, "%s: exit status %d\n%s" % (args, r.returncode, r.stderr))
        self.assertIn("shardproxy: " + message, r.stderr, args)
        self.assertIn("Usage: shardproxy", r.stderr, args)
        return r


class HelpVersion(Base):
    def test_help_lists_every_option_like_nutcracker(self):
        r = harness.run_shardproxy(["-h"])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")
        self.assertTrue(r.stderr.startswith("This is shardproxy-%s\n" % harness.package_version()),
                        r.stderr)
        self.assertIn("Usage: shardproxy [-?hVdDt] [-v verbosity level] [-o output file]\n",
                      r.stderr)
        ours = option_lines(r.stderr)
        theirs = option_lines(harness.run_nutcracker(["-h"]).stderr)
        self.assertEqual(len(theirs), 13, "nutcracker's help changed?")
        for opt, line in theirs.items():
            self.assertEqual(ours.get(opt), line, "option %s" % opt)
        self.assertIn("      --plugin-dir=S     : ", r.stderr)
        self.assertIn("(default: 22222)", r.stderr)
        self.assertIn("(default: 0.0.0.0)", r.stderr)
        self.assertIn("(default: 30000 msec)", r.stderr)
        self.assertIn("(default: 16384 bytes)", r.stderr)
        self.assertIn("(default: conf/nutcracker.yml)", r.stderr)
        self.assertIn("(default: 5, min: 0, max: 11)", r.stderr)
        long_help = harness.run_shardproxy(["--help"])
        self.assertEqual((long_help.returncode, long_help.stderr), (0, r.stderr))

    def test_version(self):
        for flag in ("-V", "--version"):
            r = harness.run_shardproxy([flag])
            self.assertEqual(r.returncode, 0)
            lines = r.stderr.splitlines()
            self.assertEqual(lines[0], "This is shardproxy-%s" % harness.package_version())
            self.assertTrue(lines[1].startswith("async event backend: "), lines)
            self.assertNotIn("Usage", r.stderr)

    def test_describe_stats_is_nutcracker_text(self):
        ours = harness.run_shardproxy(["-D"])
        theirs = harness.run_nutcracker(["-D"])
        self.assertEqual(ours.returncode, 0)
        body = lambda text: text[text.index("pool stats:"):]
        self.assertEqual(body(ours.stderr), body(theirs.stderr))
        self.assertEqual(harness.run_shardproxy(["--describe-stats"]).stderr, ours.stderr)


class TestConf(Base):
    def expect_invalid(self, conf, reason, nutcracker_agrees=True):
        r = harness.run_shardproxy(["-t", "-c", conf])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("shardproxy: configuration file '%s' syntax is invalid\n" % conf, r.stderr)
        self.assertIn(reason, r.stderr)
        if nutcracker_agrees:
            n = harness.run_nutcracker(["-t", "-c", conf])
            self.assertEqual(n.returncode, r.returncode, n.stderr)
        return r

    def test_ok(self):
        conf = self.config()
        for flag in ("-t", "--test-conf"):
            r = harness.run_shardproxy([flag, "-c", conf])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr,
                             "shardproxy: configuration file '%s' syntax is ok\n" % conf)
        n = harness.run_nutcracker(["-t", "-c", conf])
        self.assertEqual(n.returncode, 0, n.stderr)

    def test_sentinel_pool_notes(self):
        # A Sentinel pool: -t names the masters it follows and says that ejection does not apply
        # there; an unnamed server is refused with the reason.  nutcracker knows no such keys.
        sentinels = ["127.0.0.1:%d" % harness.free_port() for _ in range(2)]
        pool = harness.pool(["127.0.0.1:4500:1 127.0.0.1:4500", "127.0.0.1:4501:1 g2"],
                            redis=True, auto_eject_hosts=True, sentinels=sentinels,
                            sentinel_masters={"127.0.0.1:4500": "g1"})
        conf = self.config({"ha": pool, "plain": harness.pool(["127.0.0.1:4502:1"], redis=True)})
        r = harness.run_shardproxy(["-t", "-c", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr,
                         "shardproxy: pool 'ha': follows 2 Sentinel(s) for master(s) g2, g1; "
                         "auto_eject_hosts (true here) is not applied in a Sentinel pool; "
                         "requests wait up to 5000 ms for a failover (failover_hold)\n"
                         "shardproxy: configuration file '%s' syntax is ok\n" % conf)
        self.assertNotEqual(harness.run_nutcracker(["-t", "-c", conf]).returncode, 0)
        pool["servers"].append("127.0.0.1:4503:1")
        r = self.expect_invalid(self.config({"ha": pool}, name="unnamed.yml"),
                                "server '127.0.0.1:4503' has no name: in a Sentinel pool every "
                                "server needs one")

    def test_yaml_syntax_error(self):
        conf = self.write("bad.yml", "alpha:\n  listen: 127.0.0.1:1\n  servers: [\n")
        r = self.expect_invalid(conf, conf)
        self.assertRegex(r.stderr, re.escape(conf) + r":\d+")

    def test_unknown_hash_names_the_key(self):
        pools = {"alpha": harness.pool(["127.0.0.1:7000:1"], hash="fnv2", redis=True)}
        conf = self.config(pools)
        r = self.expect_invalid(conf, "'hash'")
        self.assertIn("fnv2", r.stderr)

    def test_missing_file(self):
        conf = self.path("nope.yml")
        self.expect_invalid(conf, conf)

    def test_default_conf_file(self):
        # No -c: conf/nutcracker.yml relative to the working directory, as nutcracker.
        os.makedirs(self.path("conf"))
        self.config(name="conf/nutcracker.yml")
        r = harness.run_shardproxy(["-t"], cwd=self.tmpdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("'conf/nutcracker.yml' syntax is ok", r.stderr)

    def plugin_env(self, **extra):
        """The environment without the build tree's plugin path and without any installed
        plugin directory (`make install` then `make check` must not find the installed ones)."""
        env = {k: v for k, v in os.environ.items() if k != "SHARDPROXY_PLUGIN_PATH"}
        env["SHARDPROXY_SYSTEM_PLUGIN_DIR"] = ""
        env.update(extra)
        return env

    def build_plugin_dir(self, kind):
        plugin_path = os.environ["SHARDPROXY_PLUGIN_PATH"].split(":")
        return [d for d in plugin_path if d.rstrip("/").endswith(kind + "/.libs")][0]

    def test_plugin_dir(self):
        conf = self.config()
        env = self.plugin_env()
        missing = self.path("no-such-dir")
        r = harness.run_shardproxy(["-t", "-c", conf, "--plugin-dir", missing], env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s: plugin directory (from the command line) does not exist" % missing,
                      r.stderr)
        # The hash plugins alone: the config's distribution (ketama) is then unknown.
        hash_dir = self.build_plugin_dir("hash")
        r = harness.run_shardproxy(["-t", "-c", conf, "--plugin-dir=" + hash_dir], env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("ketama", r.stderr)
        # The installed directory completes the search path (here: the build tree's dist plugins
        # stand in for it).
        env = self.plugin_env(SHARDPROXY_SYSTEM_PLUGIN_DIR=self.build_plugin_dir("dist"))
        r = harness.run_shardproxy(["-t", "-c", conf, "--plugin-dir=" + hash_dir], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_plugin_path_directory_must_exist(self):
        missing = self.path("gone")
        env = self.plugin_env(SHARDPROXY_PLUGIN_PATH=missing)
        r = harness.run_shardproxy(["-t", "-c", self.config()], env=env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s: plugin directory (from $SHARDPROXY_PLUGIN_PATH) does not exist"
                      % missing, r.stderr)

    def test_stray_library_in_plugin_dir_is_skipped_with_a_warning(self):
        import shutil
        plugins = self.path("plugins")
        os.makedirs(plugins)
        for kind in ("hash", "dist"):
            for name in os.listdir(self.build_plugin_dir(kind)):
                if name.endswith(".so"):
                    shutil.copy(os.path.join(self.build_plugin_dir(kind), name), plugins)
        bad = os.environ["SP_TEST_BAD_PLUGINS"]
        shutil.copy(os.path.join(bad, "not_a_plugin.so"), os.path.join(plugins, "libfoo.so"))
        with open(os.path.join(plugins, "README.so"), "w") as f:
            f.write("not even a shared object\n")
        conf = self.config()
        r = harness.run_shardproxy(["-t", "-c", conf, "--plugin-dir", plugins],
                                   env=self.plugin_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("libfoo.so", "README.so"):
            self.assertIn("%s: not a shardproxy plugin (no 'shardproxy_plugin' symbol), skipped"
                          % os.path.join(plugins, name), r.stderr)
        self.assertIn("syntax is ok", r.stderr)
        # A broken shardproxy plugin is no stray file: the start fails, naming it.
        shutil.copy(os.path.join(bad, "wrong_major.so"), plugins)
        r = harness.run_shardproxy(["-t", "-c", conf, "--plugin-dir", plugins],
                                   env=self.plugin_env())
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(os.path.join(plugins, "wrong_major.so") + ": plugin ABI major version",
                      r.stderr)


class BadOptions(Base):
    def test_bad_values_name_the_option(self):
        cases = [
            (["-v", "abc"], "option -v requires a number"),
            (["-v", "12"], "option -v value 12 is not a level between 0 and 11"),
            (["--verbose=-1"], "option -v requires a number"),
            (["-s", "0"], "option -s value 0 is not a valid port"),
            (["-s", "70000"], "option -s value 70000 is not a valid port"),
            (["--stats-port=22x"], "option -s requires a number"),
            (["-i", "0"], "option -i value 0 is not a positive number of msec"),
            (["-i", "99999999999"], "option -i value 99999999999 is not"),
            (["-m", "511"], "option -m value 511 is out of range: " + MBUF_RANGE),
            (["-m", "16777217"], "option -m value 16777217 is out of range: " + MBUF_RANGE),
            (["-m", ""], "option -m requires a number"),
            (["-a", ""], "option -a requires a non-empty address"),
            (["-x"], "invalid option -- 'x'"),
            (["-?"], "invalid option -- '?'"),
            (["--bogus"], "unrecognized option '--bogus'"),
            (["-c"], "option -c requires a file name"),
            (["-o"], "option -o requires a file name"),
            (["-p"], "option -p requires a file name"),
            (["-s"], "option -s requires a number"),
            (["-a"], "option -a requires a string"),
            (["--plugin-dir"], "option --plugin-dir requires a directory name"),
            (["--workers"], "option --workers requires a number of workers, or auto"),
            (["--workers", "0"], "option --workers value 0 is out of range: between 1 and 64"),
            (["--workers=65"], "option --workers value 65 is out of range: between 1 and 64"),
            (["--workers", "two"], "option --workers requires a number, got 'two'"),
            (["-t", "extra"], "unexpected argument 'extra'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(args, message)

    def test_nutcracker_rejects_the_same(self):
        # Where nutcracker refuses a value, we refuse it too (with exit status 1).
        for args in (["-v", "abc"], ["-s", "70000"], ["-m", "511"], ["-x"], ["-c"]):
            with self.subTest(args=args):
                self.assertEqual(harness.run_nutcracker(args).returncode, 1)
                self.assertEqual(harness.run_shardproxy(args).returncode, 1)

    def test_range_limits_accepted(self):
        conf = self.config()
        for args in (["-v", "0"], ["-v", "11"], ["-m", "512"], ["-m", "16777216"],
                     ["-s", "65535"], ["-i", "1"], ["--workers", "1"], ["--workers", "64"],
                     ["--workers", "auto"]):
            with self.subTest(args=args):
                r = harness.run_shardproxy(["-t", "-c", conf] + args)
                self.assertEqual(r.returncode, 0, r.stderr)


class Running(Base):
    def test_sigterm_and_sigint_exit_cleanly(self):
        for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
            with self.subTest(signal=name):
                p = self.start()
                p.send_signal(sig)
                self.assertEqual(p.wait(), 0, p.log())
                log = p.log()
                self.assertIn("signal %d (%s) received, exiting" % (sig, name), log)
                self.assertIn("done, exiting on %s with status 0" % name, log)

    def test_log_line_format(self):
        p = self.start()
        p.stop()
        first = p.log().splitlines()[0]
        self.assertRegex(first, r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] [a-z_]+\.c:\d+ ")
        self.assertIn("shardproxy-%s" % harness.package_version(), p.log())
        self.assertIn("started on pid %d" % p.pid, p.log())

    def test_ttin_ttou_change_level(self):
        p = self.start(log_level=5)
        p.send_signal(signal.SIGTTIN)
        p.wait_for_log("log level is now 6 (INFO)")
        for _ in range(3):
            p.send_signal(signal.SIGTTOU)
            time.sleep(0.05)
        log = p.wait_for_log("log level is now 3 (ERR)")
        self.assertIn("signal 21 (SIGTTIN) received, up logging level", log)
        self.assertIn("signal 22 (SIGTTOU) received, down logging level", log)
        # The level bounds hold.
        q = self.start(log_level=11)
        q.send_signal(signal.SIGTTIN)
        q.wait_for_log("log level is now 11 (PVERB)")

    def test_level_change_filters_messages(self):
        """A VERB (8) message - a stats reader resetting its connection - is dropped at level 7
        and written after one SIGTTIN."""
        def rude_reader():
            s = socket.create_connection((harness.HOST, p.stats_port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST

        p = self.start(log_level=7)
        rude_reader()
        p.stats()  # served after the rude reader: its connection has been dealt with
        time.sleep(0.2)
        self.assertNotIn("stats client connection failed", p.log())
        p.send_signal(signal.SIGTTIN)
        p.wait_for_log("log level is now 8 (VERB)")
        rude_reader()
        p.wait_for_log("stats client connection failed")

    def test_sighup_reopens_log_after_rename(self):
        p = self.start()
        p.wait_for_log("started on pid")
        rotated = p.log_path + ".1"
        os.rename(p.log_path, rotated)
        p.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: os.path.exists(p.log_path), 10, "a new log file")
        with open(rotated) as f:
            self.assertIn("signal 1 (SIGHUP) received, reopening log file", f.read())
        p.send_signal(signal.SIGUSR1)
        p.wait_for_log("signal 10 (SIGUSR1) received")
        with open(rotated) as f:
            self.assertNotIn("SIGUSR1", f.read())

    def test_fatal_signals_die_with_that_signal(self):
        for sig, name in ((signal.SIGSEGV, "SIGSEGV"), (signal.SIGABRT, "SIGABRT"),
                          (signal.SIGBUS, "SIGBUS"), (signal.SIGFPE, "SIGFPE")):
            with self.subTest(signal=name):
                p = self.start()
                p.wait_for_log("started on pid")
                p.send_signal(sig)
                self.assertEqual(p.wait(), -sig, p.log())
                self.assertIn("signal %d (%s) received, core dumping" % (sig, name), p.log())

    def test_sigpipe_ignored(self):
        p = self.start()
        p.send_signal(signal.SIGPIPE)
        time.sleep(0.2)
        self.assertTrue(p.running())
        p.stats()
        self.assertEqual(p.stop(), 0)

    def test_stats_port_in_use(self):
        p = self.start()
        conf = self.config()
        r = harness.run_shardproxy(["-c", conf, "-a", harness.HOST, "-s", p.stats_port],
                                   timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("127.0.0.1:%d" % p.stats_port, r.stderr)
        self.assertIn("Address already in use", r.stderr)

    def test_unwritable_log_file(self):
        conf = self.config()
        bad = self.path("no-dir/x.log")
        r = harness.run_shardproxy(["-c", conf, "-a", harness.HOST, "-s", harness.free_port(),
                                    "-o", bad])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("opening log file '%s' failed" % bad, r.stderr)

    def test_unwritable_pid_file(self):
        conf = self.config()
        bad = self.path("no-dir/sp.pid")
        r = harness.run_shardproxy(["-c", conf, "-a", harness.HOST, "-s", harness.free_port(),
                                    "-p", bad])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("opening pid file '%s' failed: No such file or directory" % bad, r.stderr)
        self.assertEqual(os.listdir(self.tmpdir), ["conf.yml"])

    def test_pid_file_without_daemon(self):
        pid_file = self.path("sp.pid")
        p = self.start("-p", pid_file)
        harness.wait_until(lambda: os.path.exists(pid_file), 10, "the pid file")
        with open(pid_file) as f:
            self.assertEqual(f.read(), "%d\n" % p.pid)
        self.assertEqual(p.stop(), 0)
        self.assertFalse(os.path.exists(pid_file))

    def test_pid_file_of_another_process_is_left_alone(self):
        pid_file = self.path("sp.pid")
        p = self.start("-p", pid_file)
        harness.wait_until(lambda: os.path.exists(pid_file), 10, "the pid file")
        with open(pid_file, "w") as f:
            f.write("1\n")
        self.assertEqual(p.stop(), 0)
        with open(pid_file) as f:
            self.assertEqual(f.read(), "1\n")


class Daemon(Base):
    def test_daemonize_with_pid_file(self):
        conf = self.config()
        pid_file = self.path("sp.pid")
        log_file = self.path("sp.log")
        stats_port = harness.free_port()
        self.stop_matching_on_cleanup(conf)
        # Relative -p / -o must still work after the daemon's chdir("/").
        r = harness.run_shardproxy(["-d", "-c", conf, "-p", "sp.pid", "-o", "sp.log",
                                    "-a", harness.HOST, "-s", stats_port], cwd=self.tmpdir)
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = harness.read_pid_file(pid_file)
        self.assertTrue(harness.pid_alive(pid))
        # argv is intact: pgrep -f finds the daemon by its command line.
        found = subprocess.run(["pgrep", "-f", "shardproxy -d -c %s" % conf],
                               stdout=subprocess.PIPE, text=True)
        self.assertEqual(found.stdout.split(), [str(pid)])
        self.assertEqual(os.readlink("/proc/%d/cwd" % pid), "/")
        self.assertEqual(os.readlink("/proc/%d/fd/0" % pid), "/dev/null")
        self.assertEqual(os.readlink("/proc/%d/fd/1" % pid), "/dev/null")
        self.assertEqual(os.readlink("/proc/%d/fd/2" % pid), log_file)  # -o: stderr to the log
        self.assertNotEqual(os.getsid(pid), os.getsid(0))
        self.assertNotEqual(os.getsid(pid), pid)  # second fork: not a session leader
        harness.wait_until(lambda: harness.port_open(stats_port), 10, "the stats port")
        self.assertIn("service", harness.fetch_stats(stats_port))
        # After logrotate's rename + SIGHUP, the log and stderr both move to the new file.
        os.rename(log_file, log_file + ".1")
        os.kill(pid, signal.SIGHUP)
        harness.wait_until(lambda: os.path.exists(log_file), 10, "the reopened log")
        harness.wait_until(lambda: os.readlink("/proc/%d/fd/2" % pid) == log_file, 10,
                           "stderr to follow the reopened log")
        self.assertTrue(harness.kill_pid(pid, signal.SIGTERM))
        self.assertFalse(os.path.exists(pid_file))
        with open(log_file + ".1") as f:
            self.assertIn("started on pid %d" % pid, f.read())
        with open(log_file) as f:
            self.assertIn("signal 15 (SIGTERM) received, exiting", f.read())

    def test_daemonize_without_output(self):
        conf = self.config()
        pid_file = self.path("sp.pid")
        self.stop_matching_on_cleanup(conf)
        r = harness.run_shardproxy(["-d", "-c", conf, "-p", pid_file, "-a", harness.HOST,
                                    "-s", harness.free_port()])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        pid = harness.read_pid_file(pid_file)
        self.assertEqual(os.readlink("/proc/%d/fd/2" % pid), "/dev/null")
        self.assertTrue(harness.kill_pid(pid, signal.SIGINT))
        self.assertFalse(os.path.exists(pid_file))

    def test_port_in_use_reported_before_detaching(self):
        busy = self.start()
        pid_file = self.path("sp.pid")
        conf = self.config()
        self.stop_matching_on_cleanup(self.tmpdir)  # should the daemon start after all
        r = harness.run_shardproxy(["-d", "-c", conf, "-p", pid_file, "-a", harness.HOST,
                                    "-s", busy.stats_port])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("127.0.0.1:%d" % busy.stats_port, r.stderr)
        self.assertIn("Address already in use", r.stderr)
        self.assertFalse(os.path.exists(pid_file))
        # A pool's listen port in use, likewise.
        pool_port = busy.port("alpha")
        conf = self.config({"alpha": harness.pool(["127.0.0.1:1:1"], listen_port=pool_port,
                                                  redis=True)}, name="busy.yml")
        r = harness.run_shardproxy(["-d", "-c", conf, "-a", harness.HOST,
                                    "-s", harness.free_port()])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(str(pool_port), r.stderr)

    def test_config_error_reported_before_detaching(self):
        conf = self.write("bad.yml", "alpha: [\n")
        self.stop_matching_on_cleanup(conf)
        r = harness.run_shardproxy(["-d", "-c", conf, "-a", harness.HOST,
                                    "-s", harness.free_port()])
        self.assertEqual(r.returncode, 1)
        self.assertIn(conf, r.stderr)


if __name__ == "__main__":
    harness.main()
