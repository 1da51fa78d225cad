"""report.html, rendered from one or more results.json documents; self-contained (no external assets)."""
from __future__ import annotations

from typing import Any

import jinja2

from conformance.wire.transcript import event_lines

RFC_URL = "https://www.rfc-editor.org/rfc/{num}#section-{section}"


def rfc_link(ref: str) -> str:
    num, _, section = ref.partition("#")
    return RFC_URL.format(num=num, section=section) if section else f"https://www.rfc-editor.org/rfc/{num}"


def transcript_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"t": ev["t"], "session": ev["session"], "dir": ev["dir"], "lines": event_lines(ev)} for ev in events]


_env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
_env.filters["rfc_link"] = rfc_link
_env.filters["transcript_rows"] = transcript_rows


def render(docs: list[dict[str, Any]]) -> str:
    return _env.get_template("report.html.j2").render(docs=docs)
