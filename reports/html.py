"""report.html, rendered from one or more results.json documents: one self-contained file (styles and the
small filter script inline; no fonts, scripts or styles fetched from anywhere)."""
from __future__ import annotations

from typing import Any

import jinja2
import markupsafe

from .view import build, ref_label, ref_link

_env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
_env.filters["ref_link"] = ref_link
_env.filters["ref_label"] = ref_label


def ref_html(ref: str) -> markupsafe.Markup:
    """A reference as a link to its text, or as plain text when it has no public address."""
    link, label = ref_link(ref), ref_label(ref)
    if link:
        return markupsafe.Markup('<a href="{}">{}</a>').format(link, label)
    return markupsafe.Markup("<span>{}</span>").format(label)


_env.filters["ref_html"] = ref_html


def render(docs: list[dict[str, Any]]) -> str:
    return _env.get_template("report.html.j2").render(r=build(docs))
