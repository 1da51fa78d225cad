"""The transcript: every byte in both directions, with timestamps, per session.

Events are plain dicts so they go straight into results.json:

    {"t": 0.0123, "session": "a", "dir": "c", "text": "EHLO x\\r\\n"}      client → server
    {"t": 0.0150, "session": "a", "dir": "s", "b64": "..."}               server → client (not UTF-8)
    {"t": 0.0151, "session": "a", "dir": "*", "note": "TLS established"}  what happened on the connection
    {"t": 0.0152, "session": "a", "dir": "#", "note": "RSET ends ..."}     a script's comment on its next step

Bytes that are valid UTF-8 are stored as text, anything else as base64, so the exact octets can always be
recovered (the pcap export and the HTML view rely on that). Very large chunks are elided in the middle.
"""
from __future__ import annotations

import base64
import re
import time
from typing import Any

MAX_CHUNK = 16 * 1024  # octets kept per event; bulk DATA beyond that is elided in the middle


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Server text made safe for a terminal, a CI log or a TOML comment: control characters (ESC
    sequences included) are shown as \\xNN instead of acting on the reader's screen."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def encode_octets(data: bytes) -> dict[str, Any]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(data).decode("ascii")}


def decode_octets(event: dict[str, Any]) -> bytes:
    if "text" in event:
        return event["text"].encode("utf-8")
    if "b64" in event:
        return base64.b64decode(event["b64"])
    return b""


class Transcript:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._t0 = clock()
        self.events: list[dict[str, Any]] = []

    def _stamp(self) -> float:
        return round(self._clock() - self._t0, 6)

    def record(self, session: str, direction: str, data: bytes) -> None:
        event: dict[str, Any] = {"t": self._stamp(), "session": session, "dir": direction}
        if len(data) > MAX_CHUNK:
            half = MAX_CHUNK // 2
            event.update(encode_octets(data[:half] + data[-half:]))
            event["len"] = len(data)
            event["elided"] = {"at": half, "octets": len(data) - MAX_CHUNK}
        else:
            event.update(encode_octets(data))
        self.events.append(event)

    def note(self, session: str, text: str) -> None:
        self.events.append({"t": self._stamp(), "session": session, "dir": "*", "note": text})

    def comment(self, session: str, text: str) -> None:
        """A script's explanation of the step that follows: teaching material, not traffic."""
        self.events.append({"t": self._stamp(), "session": session, "dir": "#", "note": text})

    def render(self, limit: int | None = None) -> str:
        """A human-readable form: `C:`/`S:` lines, CR and LF shown as escapes where they are unusual."""
        out = []
        for ev in self.events[-limit:] if limit else self.events:
            out.append(render_event(ev))
        return "\n".join(out)


def event_lines(ev: dict[str, Any]) -> list[str]:
    """An event as display lines. CRLF ends a line; a bare CR or LF is shown as an escape, because it
    is exactly what matters; a chunk without a final CRLF says so."""
    if ev["dir"] in ("*", "#"):
        return [ev["note"]]
    text = decode_octets(ev).decode("utf-8", "backslashreplace")
    lines = [part.replace("\r", "\\r").replace("\n", "\\n") for part in text.split("\r\n")]
    if lines[-1] == "":
        lines.pop()
    else:
        lines[-1] += "  [no CRLF]"
    if "elided" in ev:
        lines.append(f"[{ev['elided']['octets']} octets elided]")
    return lines


def render_event(ev: dict[str, Any]) -> str:
    who = {"c": "C", "s": "S", "*": "*", "#": "#"}[ev["dir"]]
    prefix = f"{ev['t']:9.4f} {ev['session']} {who}:"
    return "\n".join(f"{prefix} {line}" for line in event_lines(ev))
