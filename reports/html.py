"""report.html, rendered from one or more results.json documents; self-contained (no external assets)."""
from __future__ import annotations

from typing import Any

import jinja2

from conformance.wire.transcript import decode_octets

RFC_URL = "https://www.rfc-editor.org/rfc/{num}#section-{section}"


def rfc_link(ref: str) -> str:
    num, _, section = ref.partition("#")
    return RFC_URL.format(num=num, section=section) if section else f"https://www.rfc-editor.org/rfc/{num}"


def transcript_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for ev in events:
        if ev["dir"] in ("*", "#"):
            rows.append({"t": ev["t"], "session": ev["session"], "dir": ev["dir"], "lines": [ev["note"]]})
            continue
        text = decode_octets(ev).decode("utf-8", "backslashreplace")
        parts = [p.replace("\r", "\\r").replace("\n", "\\n") for p in text.split("\r\n")]
        if parts[-1] == "":
            parts.pop()
        else:
            parts[-1] += "  [no CRLF]"
        if "elided" in ev:
            parts.append(f"[{ev['elided']['octets']} octets elided]")
        rows.append({"t": ev["t"], "session": ev["session"], "dir": ev["dir"], "lines": parts})
    return rows


_env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
_env.filters["rfc_link"] = rfc_link
_env.filters["transcript_rows"] = transcript_rows


def render(docs: list[dict[str, Any]]) -> str:
    return _env.get_template("report.html.j2").render(docs=docs)
