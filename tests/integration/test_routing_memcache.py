# SPDX-License-Identifier: Apache-2.0
"""Routing of memcached pools: keys set through shardproxy land on exactly the memcached server
nutcracker 0.5.0 chose (redis: false; the port-11211 naming rule included).

Golden data: tests/data/memcache/<case>.{yml,tsv}, observed on the real nutcracker binary with
memcached 1.6 backends (see its README).  As in test_routing.py, every distinct server address of
every case is backed by a memcached on a free port under the server's original name, and all
38 cases run as 38 pools of one shardproxy; backends are flushed between cases.
"""

import os

import yaml

import harness
from test_routing import DATA, case_names, parse_server, read_tsv, remap_pool


def read_keys(path):
    with open(path) as f:
        return [bytes.fromhex(line.strip()) for line in f if line.strip()]


class MemcacheRoutingTest(harness.TestCase):
    def test_every_memcache_placement_case(self):
        mdir = os.path.join(DATA, "memcache")
        keys = read_keys(os.path.join(mdir, "keys.hex"))
        self.assertEqual(len(keys), 300)
        cases = case_names(mdir)
        self.assertEqual(len(cases), 38, "expected 38 memcache placement cases in %s" % mdir)
        confs = {}
        addresses = set()
        for case in cases:
            with open(os.path.join(mdir, case + ".yml")) as f:
                confs[case] = yaml.safe_load(f)["alpha"]
            self.assertIs(confs[case].get("redis", False), False, case)
            addresses.update(parse_server(s)[0] for s in confs[case]["servers"])
        backends = {addr: self.start_memcached() for addr in sorted(addresses)}
        clients = {addr: b.client() for addr, b in backends.items()}
        pools = {case: remap_pool(confs[case], backends, harness.free_port()) for case in cases}
        proxy = self.start_proxy(pools)

        for case in cases:
            expected = read_tsv(os.path.join(mdir, case + ".tsv"))
            self.assertEqual([k for k, _ in expected], keys, "%s: key list differs" % case)
            raw = proxy.raw_mc(case)
            raw.send(b"".join(b"set %s 0 0 %d\r\n%s\r\n" % (k, len(k) + 2, b"v:" + k)
                              for k in keys))
            self.assertEqual(raw.read_replies(len(keys)), [b"STORED\r\n"] * len(keys), case)
            raw.close()
            where = {}
            for addr, client in clients.items():
                for i in range(0, len(keys), 100):
                    for key, val in client.get_many(keys[i:i + 100]).items():
                        self.assertNotIn(key, where, "%s: key %r on two backends" % (case, key))
                        self.assertEqual(val, b"v:" + key)
                        where[key] = addr
            wrong = [(k, srv, where.get(k)) for k, srv in expected if where.get(k) != srv]
            self.assertEqual(wrong[:5], [], "%s: %d of %d keys misplaced (key, want, got)"
                             % (case, len(wrong), len(keys)))
            for client in clients.values():
                client.flush_all()


if __name__ == "__main__":
    harness.main()
