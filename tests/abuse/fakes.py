# SPDX-License-Identifier: Apache-2.0
"""Fake backends for the abuse suite: a TCP server on 127.0.0.1 whose replies a test scripts.

    fake = FakeBackend(lambda conn, request: b"+OK\\r\\n")     # one reply per request
    ...
    fake.stop()

The handler gets each RESP request the proxy sends (as a list of bytes arguments) and returns
the bytes to answer with (b"" answers nothing; None closes the connection); the CLIENT SETNAME
that names each connection is answered +OK by the fake itself.  Requests are framed
with a strict multibulk reader, so a test also sees exactly what the proxy forwarded.  A fake
memcached (framing="line") gets each CRLF-ended command line instead, split on spaces (keyless
commands only: data blocks are not framed).
"""

import os
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402

HOST = "127.0.0.1"


class FakeBackend:
    def __init__(self, handler, port=None, framing="resp"):
        self.handler = handler
        self._take = {"resp": _take_request, "line": _take_line}[framing]
        self.requests = []          # every request received, in order (lists of bytes)
        self.connections = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A port from the harness: bind(0) could take one another test has picked (harness).
        self._sock.bind((HOST, port or harness.free_port()))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._stopping = False
        self._conns = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def _accept(self):
        while not self._stopping:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = bytearray()
        try:
            while True:
                req = self._take(buf)
                if req is None:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                    continue
                if self._take is _take_request and [a.upper() for a in req[:2]] == [
                        b"CLIENT", b"SETNAME"]:
                    # shardproxy names every connection first (docs/resharding.md): answered
                    # as Redis does, and kept out of what the test scripts and counts.
                    conn.sendall(b"+OK\r\n")
                    continue
                with self._lock:
                    self.requests.append(req)
                out = self.handler(conn, req)
                if out is None:
                    conn.close()
                    return
                if out:
                    conn.sendall(out)
        except OSError:
            return

    def stop(self):
        self._stopping = True
        # shutdown() wakes the thread blocked in accept(); a bare close() would not, and the
        # thread would go on accepting on whatever socket gets the descriptor number next.
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join(5)
        self._sock.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.close()
                except OSError:
                    pass


def _take_line(buf):
    """Removes one CRLF-ended line from the head of buf, as its space-separated words; None when
    incomplete."""
    eol = buf.find(b"\r\n")
    if eol < 0:
        return None
    words = bytes(buf[:eol]).split()
    del buf[:eol + 2]
    return words


def _take_request(buf):
    """Removes one multibulk request from the head of buf; None when incomplete."""
    if not buf:
        return None
    if buf[:1] != b"*":
        raise AssertionError("the proxy forwarded a non-RESP request: %r" % bytes(buf[:80]))
    pos = 0
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        return None
    n = int(buf[1:eol])
    pos = eol + 2
    args = []
    for _ in range(n):
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        if buf[pos:pos + 1] != b"$":
            raise AssertionError("bad bulk header in %r" % bytes(buf[:80]))
        ln = int(buf[pos + 1:eol])
        start = eol + 2
        if len(buf) < start + ln + 2:
            return None
        if buf[start + ln:start + ln + 2] != b"\r\n":
            raise AssertionError("bulk not followed by CRLF in %r" % bytes(buf[:80]))
        args.append(bytes(buf[start:start + ln]))
        pos = start + ln + 2
    del buf[:pos]
    return args
