"""Reading a dot-terminated data block (POP3 multi-line responses, NNTP multi-line data blocks).

RFC 1939 section 3 and RFC 3977 section 3.1.1 frame a block the same way: lines up to one that is a lone ".",
a leading "." stuffed onto any line that starts with one. The harness reads it here, once, and keeps what it
saw wrong as problems rather than failing: a check decides what a bare LF or a missing terminator means.
(The simulator frames its side in simulator/framing.py; the harness never shares code with what it judges.)
"""
from __future__ import annotations

from typing import Protocol

from .session import Session


class DataResponse(Protocol):
    raw: list[bytes]  # every line as received, the status line first
    data: list[bytes]  # the block's lines, un-stuffed, without line ends or the terminator
    problems: list[str]


class DotBlockViews:
    """The views of a response with a dot-terminated data block (mixed into the NNTP and POP3 `Response`
    dataclasses, which differ only in their status line and provide `raw`, `data`, `multiline` and `head`)."""

    raw: list[bytes]
    data: list[bytes]
    multiline: bool
    head: str

    @property
    def lines(self) -> list[str]:
        """The data lines as text (for scripts and evidence)."""
        return [line.decode("utf-8", "backslashreplace") for line in self.data]

    @property
    def content(self) -> bytes:
        """The data block as the client ends up with it: unstuffed, CRLF after each line."""
        return b"".join(line + b"\r\n" for line in self.data)

    def __str__(self) -> str:
        return self.head if not self.multiline else f"{self.head} (+{len(self.data)} lines)"

    def show(self, limit: int = 40) -> str:
        lines = [raw.decode("utf-8", "backslashreplace").rstrip("\r\n") for raw in self.raw]
        if len(lines) > limit:
            lines = lines[:limit - 1] + [f"... ({len(lines) - limit + 1} more lines)"]
        return "\n".join(lines)


async def read_dot_block(wire: Session, response: DataResponse, timeout: float | None, max_lines: int) -> None:
    """Read data lines up to the lone "." into `response`; `timeout` bounds each line, `max_lines` the block."""
    while True:
        raw = await wire.read_line(timeout)
        response.raw.append(raw)
        if not raw.endswith(b"\r\n"):
            response.problems.append(f"data line {len(response.raw) - 1} ends with a bare LF: {raw[:80]!r}")
        line = raw[:-2] if raw.endswith(b"\r\n") else raw.rstrip(b"\n")
        if line == b".":
            return
        # A line starting with the termination octet loses that octet (a lone "." has ended the block above).
        response.data.append(line[1:] if line.startswith(b".") else line)
        if len(response.data) > max_lines:
            response.problems.append(f"more than {max_lines} data lines without the terminating line")
            return
