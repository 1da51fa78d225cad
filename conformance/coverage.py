"""Requirement coverage: the catalogues of testable requirements kept in scenarios/<protocol>/requirements/
and which checks cover each.

A check covers the requirements catalogued under a section it cites (`rfc5321#4.5.2` covers every
requirement of RFC 5321 section 4.5.2). Coverage is therefore by section: a requirement counts as tested
when some check exercises its section, and as untested when no check cites that section at all. The
untested list is the one that matters; "covered" never claims more than "a check looks at this section".
"""
from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass, field
from typing import Iterable

LEVELS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY")


class CatalogueError(Exception):
    """A catalogue file is malformed (a bug in the suite, not in the target)."""


@dataclass(frozen=True)
class Requirement:
    id: str
    protocol: str
    rfc: str
    section: str
    level: str
    statement: str
    testable: bool
    note: str = ""


@dataclass
class Catalogue:
    protocol: str
    rfc: str
    title: str
    requirements: list[Requirement] = field(default_factory=list)


@dataclass
class Covered:
    requirement: Requirement
    checks: list[str]


def catalogues(protocols: Iterable[str] | None = None) -> list[Catalogue]:
    """Every catalogue shipped in scenarios/, ordered by protocol and RFC."""
    wanted = set(protocols) if protocols is not None else None
    root = importlib.resources.files("scenarios")
    out: list[Catalogue] = []
    for proto_dir in sorted(root.iterdir(), key=lambda p: p.name):
        if not proto_dir.is_dir() or (wanted is not None and proto_dir.name not in wanted):
            continue
        reqdir = proto_dir / "requirements"
        if not reqdir.is_dir():
            continue
        for f in sorted(reqdir.iterdir(), key=lambda p: p.name):
            if f.name.endswith(".toml"):
                out.append(_load(proto_dir.name, f.name, f.read_text(encoding="utf-8")))
    return out


def _load(protocol: str, name: str, text: str) -> Catalogue:
    where = f"scenarios/{protocol}/requirements/{name}"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{where}: not valid TOML ({exc})") from None
    rfc = doc.get("rfc")
    if not isinstance(rfc, str) or not rfc:
        raise CatalogueError(f"{where}: no `rfc = \"...\"` at the top")
    cat = Catalogue(protocol, rfc, str(doc.get("title", "")))
    for raw in doc.get("requirement", []):
        missing = {"id", "section", "level", "statement", "testable"} - set(raw)
        if missing:
            raise CatalogueError(f"{where}: requirement {raw.get('id', '?')} lacks {', '.join(sorted(missing))}")
        if raw["level"] not in LEVELS:
            raise CatalogueError(f"{where}: requirement {raw['id']} has level {raw['level']!r}")
        cat.requirements.append(Requirement(raw["id"], protocol, rfc, str(raw["section"]), raw["level"],
                                            raw["statement"], bool(raw["testable"]), raw.get("note", "")))
    return cat


def cover(cats: Iterable[Catalogue], checks: Iterable[tuple[str, Iterable[str]]]) -> list[Covered]:
    """For each testable requirement, the ids of the checks citing its section. `checks` are
    (check id, its RFC references) pairs — from the registry or from a results.json."""
    by_section: dict[tuple[str, str], list[str]] = {}
    for check_id, refs in checks:
        for ref in refs:
            rfc, _, section = ref.partition("#")
            ids = by_section.setdefault((rfc, section), [])
            if check_id not in ids:
                ids.append(check_id)
    return [Covered(req, sorted(by_section.get((req.rfc, req.section), [])))
            for cat in cats for req in cat.requirements if req.testable]


@dataclass
class Tally:
    protocol: str
    rfc: str
    title: str
    catalogued: int  # testable requirements
    covered: int

    @property
    def untested(self) -> int:
        return self.catalogued - self.covered


def tally(cats: list[Catalogue], covered: list[Covered]) -> list[Tally]:
    out = []
    for cat in cats:
        mine = [c for c in covered if c.requirement.rfc == cat.rfc and c.requirement.protocol == cat.protocol]
        out.append(Tally(cat.protocol, cat.rfc, cat.title, len(mine), sum(1 for c in mine if c.checks)))
    return out
