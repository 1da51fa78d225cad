"""The one framing layer every protocol of the simulator uses: lines, exact octet counts, dot-stuffing.

`InputBuffer` is a bounded receive buffer. Protocol machines feed it whatever arrived on the wire and take
complete units out of it:

    line()        one line, ended by CRLF only (a bare CR or LF stays inside the line, for the protocol
                  to judge); a line longer than the limit is discarded up to its CRLF and reported once
                  as `TooLong`, so an overlong line gets exactly one reply and its tail is never read as
                  another command
    exactly(n)    n octets (BDAT chunks, IMAP literals)
    mark() / rollback() / commit()   tentative parsing: a parser that finds its unit incomplete puts
                  back what it took

`DotReader` reads dot-stuffed text (SMTP DATA, NNTP POST) up to the line holding a single dot, removes the
transparency dots (RFC 5321 4.5.2), and keeps reading but stops storing once the size limit is passed.
`dot_stuff` does the reverse for multi-line responses (POP3, NNTP).
"""
from __future__ import annotations

from dataclasses import dataclass, field

CRLF = b"\r\n"


@dataclass(frozen=True)
class TooLong:
    """A line longer than the limit arrived; `length` octets were discarded up to its CRLF. `head` keeps
    its first octets, so a protocol can still name the command (an IMAP tag) in its refusal."""

    length: int
    head: bytes = field(default=b"", compare=False)


class InputBuffer:
    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._pos = 0  # what has been taken, not yet compacted away
        self._mark: int | None = None
        self._discarding: int | None = None  # octets swallowed so far of an overlong line
        self._discarded_head = b""

    def feed(self, data: bytes) -> None:
        self._buf += data

    def __len__(self) -> int:
        return len(self._buf) - self._pos

    def clear(self) -> int:
        """Drop everything pending (STARTTLS: plaintext sent after the command must not be acted upon)."""
        dropped = len(self) + (self._discarding or 0)
        self._buf.clear()
        self._pos = 0
        self._mark = None
        self._discarding = None
        return dropped

    def line(self) -> bytes | TooLong | None:
        """The next line without its CRLF; TooLong for an overlong one; None until a line is complete."""
        while True:
            end = self._buf.find(CRLF, self._pos)
            if self._discarding is not None:
                if end < 0:
                    keep = 1 if self._buf.endswith(b"\r") else 0  # a CR may be the start of the CRLF
                    self._discarding += len(self) - keep
                    self._pos = len(self._buf) - keep
                    self._compact()
                    return None
                length = self._discarding + end - self._pos
                self._pos = end + 2
                self._discarding = None
                self._compact()
                return TooLong(length, self._discarded_head)
            if end < 0:
                if len(self) > self.max_line:
                    self._discarding = 0  # no CRLF yet and already too long: swallow up to the CRLF
                    self._discarded_head = bytes(self._buf[self._pos:self._pos + 64])
                    continue
                return None
            line = bytes(self._buf[self._pos:end])
            self._pos = end + 2
            self._compact()
            return TooLong(len(line), line[:64]) if len(line) + 2 > self.max_line else line

    def exactly(self, n: int) -> bytes | None:
        if len(self) < n:
            return None
        data = bytes(self._buf[self._pos:self._pos + n])
        self._pos += n
        self._compact()
        return data

    def take_available(self, limit: int) -> bytes:
        """Up to `limit` octets of whatever is pending (streaming a large BDAT chunk)."""
        n = min(limit, len(self))
        data = bytes(self._buf[self._pos:self._pos + n])
        self._pos += n
        self._compact()
        return data

    def mark(self) -> None:
        self._mark = self._pos

    def rollback(self) -> None:
        if self._mark is not None:
            self._pos = self._mark
        self._mark = None

    def commit(self) -> None:
        self._mark = None
        self._compact()

    def _compact(self) -> None:
        # Compacting under a mark would move the octets a rollback has to return to.
        if self._mark is None and self._pos > 65536:
            del self._buf[:self._pos]
            self._pos = 0


class DotReader:
    """Mail text after DATA (or an NNTP article): lines until "." alone, transparency dots removed.

    `feed_line` takes each line the InputBuffer produced (without CRLF). The size counts the text as it
    will be stored, CRLFs included; past `max_size`, lines are still consumed (the client is sending
    them anyway) but not kept, and `overflow` says so. Lines past `max_line` and bare CR or LF inside a
    line are remembered, for the protocol to refuse the message with the right reply."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.size = 0
        self.overflow = False
        self.too_long_line = False
        self.bare_cr_lf = False
        self.done = False
        self._parts: list[bytes] = []

    def feed_line(self, line: bytes | TooLong) -> None:
        if self.done:
            raise ValueError("the text has already ended; nothing more belongs to it")
        if isinstance(line, TooLong):
            self.too_long_line = True
            return
        if line == b".":
            self.done = True
            return
        if line.startswith(b"."):
            line = line[1:]  # RFC 5321 4.5.2: a leading dot with more characters after it is deleted
        if b"\r" in line or b"\n" in line:
            self.bare_cr_lf = True
        self.size += len(line) + 2
        if self.size > self.max_size:
            self.overflow = True
            self._parts.clear()
            return
        self._parts.append(line)

    def text(self) -> bytes:
        return b"".join(part + CRLF for part in self._parts)


def dot_stuff(text: bytes) -> bytes:
    """Text as a multi-line response: CRLF line ends, leading dots doubled, then the "." line."""
    if not text:
        return b".\r\n"
    lines = text.split(CRLF)
    if lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + line if line.startswith(b".") else line) + CRLF for line in lines) + b".\r\n"
