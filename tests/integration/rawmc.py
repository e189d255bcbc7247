# SPDX-License-Identifier: Apache-2.0
"""Byte-exact memcached text protocol over a raw socket, for tests that compare replies byte for
byte (the RESP client's socket handling, memcached's reply framing).

    c = RawMc(port)
    c.send(b"set k 0 0 1\\r\\nv\\r\\n", b"get k\\r\\n")
    assert c.read_replies(2) == [b"STORED\\r\\n", b"VALUE k 0 1\\r\\nv\\r\\nEND\\r\\n"]
"""

from rawresp import RawClient

ONE_LINE_ERRORS = (b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR")


def first_word(line):
    return bytes(line.split(b" ", 1)[0])


class RawMc(RawClient):
    """A raw client whose replies are memcached's: one line, VALUE items and END, or VA + data."""

    def _line_end(self, start):
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                return i - 1 if i > start and self.buf[i - 1:i] == b"\r" else i
            self._fill()

    def _after_line(self, start):
        eol = self._line_end(start)
        return eol, eol + (2 if self.buf[eol:eol + 1] == b"\r" else 1)

    def _data_end(self, start, n):
        end = start + n + 2
        while len(self.buf) < end:
            self._fill()
        return end

    def _reply_end(self, pos):
        eol, nxt = self._after_line(pos)
        word = first_word(self.buf[pos:eol])
        if word == b"VA":
            return self._data_end(nxt, int(self.buf[pos:eol].split(b" ")[1]))
        if word not in (b"VALUE", b"END"):
            return nxt
        p = pos
        while True:
            eol, nxt = self._after_line(p)
            line = bytes(self.buf[p:eol])
            word = first_word(line)
            if word == b"VALUE":
                p = self._data_end(nxt, int(line.split(b" ")[3]))
                continue
            return nxt  # END, or an error that ends the items

    def call(self, request):
        self.send(request)
        return self.read_reply()

    def replies_until_mn(self):
        """Every reply up to and including the next MN (a stream sent with "mn" at its end)."""
        out = []
        while not out or out[-1] != b"MN\r\n":
            out.append(self.read_reply())
        return out


def replies_to(stream, *clients):
    """Sends `stream` with "mn" behind it to every client (pipelined); returns each one's
    replies, the MN included."""
    for c in clients:
        c.send(stream + b"mn\r\n")
    return [c.replies_until_mn() for c in clients]


def value(key, data, flags=0, cas=None):
    """The VALUE item memcached sends for key (bytes)."""
    head = b"VALUE %s %d %d" % (key, flags, len(data))
    if cas is not None:
        head += b" %d" % cas
    return head + b"\r\n" + data + b"\r\n"


def storage(cmd, key, data, flags=0, exptime=0, noreply=False, cas=None):
    """A storage request: line and data block."""
    line = b"%s %s %d %d %d" % (cmd, key, flags, exptime, len(data))
    if cas is not None:
        line += b" %d" % cas
    if noreply:
        line += b" noreply"
    return line + b"\r\n" + data + b"\r\n"
