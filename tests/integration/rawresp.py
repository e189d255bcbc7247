# SPDX-License-Identifier: Apache-2.0
"""Byte-exact RESP over a raw socket, for tests that compare replies byte for byte.

    c = RawClient(port)
    c.send(enc(b"SET", b"k", b"v"), enc(b"GET", b"k"))
    assert c.read_replies(2) == [b"+OK\r\n", b"$1\r\nv\r\n"]
"""

import socket
import time

HOST = "127.0.0.1"


def enc(*args):
    """One multibulk request from bytes/str/int arguments."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n" % len(a))
        out.append(a)
        out.append(b"\r\n")
    return b"".join(out)


class RawClient:
    def __init__(self, port, timeout=20, host=HOST):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    def send(self, *chunks):
        self.sock.sendall(b"".join(chunks))

    def trickle(self, data, piece=1 << 16, halfway=None):
        """Sends data in pieces of `piece` bytes (a huge request as it arrives from a real
        client), calling halfway() once half of it is sent."""
        half = len(data) // 2 // piece * piece
        for i in range(0, len(data), piece):
            if i == half and halfway is not None:
                halfway()
            self.sock.sendall(data[i:i + piece])

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("connection closed by the proxy; unread: %r" % bytes(self.buf[:200]))
        self.buf += data

    def _line_end(self, start):
        while True:
            i = self.buf.find(b"\r\n", start)
            if i >= 0:
                return i
            self._fill()

    def _reply_end(self, pos):
        """Offset just past the reply starting at pos (reads more as needed)."""
        while len(self.buf) <= pos:
            self._fill()
        kind = self.buf[pos:pos + 1]
        eol = self._line_end(pos)
        if kind in (b"+", b"-", b":"):
            return eol + 2
        n = int(self.buf[pos + 1:eol])
        if kind == b"$":
            if n < 0:
                return eol + 2
            end = eol + 2 + n + 2
            while len(self.buf) < end:
                self._fill()
            return end
        if kind == b"*":
            p = eol + 2
            for _ in range(max(n, 0)):
                p = self._reply_end(p)
            return p
        raise ValueError("not a RESP reply at %d: %r" % (pos, bytes(self.buf[pos:pos + 50])))

    def read_reply(self):
        """The next whole reply, as its raw bytes."""
        end = self._reply_end(0)
        out = bytes(self.buf[:end])
        del self.buf[:end]
        return out

    def read_replies(self, n):
        return [self.read_reply() for _ in range(n)]

    def call(self, *args):
        self.send(enc(*args))
        return self.read_reply()

    def closed_by_peer(self, timeout=5):
        """True when the peer closes the connection within timeout (data before it is kept)."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.2)
        try:
            while time.monotonic() < deadline:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    return True
                if not data:
                    return True
                self.buf += data
            return False
        finally:
            self.sock.settimeout(20)


def bulk(value):
    """The RESP encoding of a bulk reply (None: the null bulk)."""
    if value is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(value), value)
