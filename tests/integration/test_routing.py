# SPDX-License-Identifier: Apache-2.0
"""Routing: keys SET through shardproxy land on exactly the backend nutcracker 0.5.0 chose.

Golden data: tests/data/placement/<case>.{yml,tsv} (observed on the real nutcracker binary).
The configs name fixed ports; here every distinct server address of every case is backed by a
redis-server on a free port, and each server keeps its original *name* (explicit, else the
"host:port" / "host" nutcracker would derive), so placement is unchanged.  All 105 cases run as
105 pools of one shardproxy; the backends are shared and flushed between cases.
"""

import os
import unittest

import yaml

import harness

DATA = os.environ.get("SP_TEST_DATA") or os.path.join(os.path.dirname(__file__), "..", "data")
KETAMA_PORT = 11211


def read_keys(path):
    with open(path) as f:
        return [bytes.fromhex(line.strip()) for line in f.read().split("\n")[:500]]


def read_tsv(path):
    """key bytes -> server address as written in the config."""
    with open(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() != ""]
    header, rows = rows[0], rows[1:]
    assert header[:2] == ["key_hex", "server"], header
    return [(bytes.fromhex(r[0]), r[1]) for r in rows]


def parse_server(entry):
    """"host:port:weight [name]" -> (address, weight, name nutcracker uses)."""
    spec, _, name = entry.partition(" ")
    host, port, weight = spec.rsplit(":", 2)
    if not name:
        name = host if int(port) == KETAMA_PORT else "%s:%s" % (host, port)
    return "%s:%s" % (host, port), weight, name


def remap_pool(conf, backends, listen_port):
    """The case's pool with each server moved to its backend, under its original name."""
    pool = dict(conf)
    pool["listen"] = "%s:%d" % (harness.HOST, listen_port)
    servers = []
    for entry in conf["servers"]:
        addr, weight, name = parse_server(entry)
        servers.append("%s:%s %s" % (backends[addr].address, weight, name))
    pool["servers"] = servers
    return pool


def scan_all(client):
    return set(client.scan_iter(count=1000))


def case_names(directory):
    return sorted(f[:-4] for f in os.listdir(directory) if f.endswith(".yml"))


class RoutingTest(harness.TestCase):
    def test_every_placement_case(self):
        pdir = os.path.join(DATA, "placement")
        keys = read_keys(os.path.join(DATA, "placement_keys.hex"))
        cases = case_names(pdir)
        self.assertEqual(len(cases), 105, "expected 105 placement cases in %s" % pdir)
        confs = {}
        addresses = set()
        for case in cases:
            with open(os.path.join(pdir, case + ".yml")) as f:
                confs[case] = yaml.safe_load(f)["alpha"]
            addresses.update(parse_server(s)[0] for s in confs[case]["servers"])
        backends = {addr: self.start_redis() for addr in sorted(addresses)}
        clients = {addr: b.client() for addr, b in backends.items()}
        pools = {case: remap_pool(confs[case], backends, harness.free_port()) for case in cases}
        proxy = self.start_proxy(pools)

        for case in cases:
            expected = read_tsv(os.path.join(pdir, case + ".tsv"))
            self.assertEqual([k for k, _ in expected], keys, "%s: key list differs" % case)
            pipe = proxy.redis_client(case).pipeline(transaction=False)
            for key in keys:
                pipe.set(key, b"v:" + key)
            replies = pipe.execute(raise_on_error=False)
            self.assertEqual(replies, [True] * len(keys), "%s: SET replies" % case)
            where = {}
            for addr, client in clients.items():
                for key in scan_all(client):
                    self.assertNotIn(key, where, "%s: key %r on two backends" % (case, key))
                    where[key] = addr
            wrong = [(k, srv, where.get(k)) for k, srv in expected if where.get(k) != srv]
            self.assertEqual(wrong[:5], [], "%s: %d of %d keys misplaced (key, want, got)"
                             % (case, len(wrong), len(keys)))
            self.assertEqual(len(where), len(set(keys)), case)
            for client in clients.values():
                client.flushall()


if __name__ == "__main__":
    unittest.main()
