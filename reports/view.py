"""What report.html shows, computed from results.json documents: columns (one per target run), checks
grouped by protocol and RFC section with a verdict per column, one detail view per result, summaries,
baseline differences and requirement coverage. No HTML here; templates/report.html.j2 lays it out."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conformance.coverage import Requirement, catalogues, cover, tally
from conformance.wire.transcript import event_lines

VERDICTS = ("fail", "error", "warn", "skip", "pass")  # worst first
LEVELS = ("MUST", "SHOULD", "MAY")
RFC_URL = "https://www.rfc-editor.org/rfc/{num}"
MS_URLS = {  # Microsoft Open Specifications by family; the Exchange 2003 SDK has no stable public address
    "ms-x": "https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/{spec}/",
    "ms-wdv": "https://learn.microsoft.com/en-us/openspecs/windows_protocols/{spec}/",
}
MS_NAMES = {"ms-exchsdk": "Exchange 2003 SDK"}


def ref_link(ref: str) -> str:
    """The public text of an RFC section (rfc5321#4.5.2) or of a Microsoft Open Specification; "" when the
    source has no stable public address."""
    doc, _, section = ref.partition("#")
    if doc.startswith("ms-"):
        return next((url.format(spec=doc) for prefix, url in MS_URLS.items() if doc.startswith(prefix)), "")
    url = RFC_URL.format(num=doc)
    if section.startswith("appendix-"):  # rfc-editor.org anchors appendices as #appendix-C
        return f"{url}#{section}"
    return f"{url}#section-{section}" if section else url


def ref_label(ref: str) -> str:
    doc, _, section = ref.partition("#")
    name = doc.upper().replace("RFC", "RFC ", 1) if doc.startswith("rfc") else f"[{MS_NAMES.get(doc, doc.upper())}]"
    return f"{name} §{section}" if section else name


@dataclass
class Column:
    index: int
    target: str
    software: str
    endpoints: dict[str, str]
    run: dict[str, Any]
    tool: dict[str, Any]


@dataclass
class Line:
    t: float
    session: str
    who: str  # C, S, *, #
    css: str
    text: str
    hot: bool  # part of the exchange the verdict was decided on


@dataclass
class Detail:
    anchor: str
    column: Column
    result: dict[str, Any]
    lines: list[Line]
    failed: dict[str, Any] | None  # the assertion that did not hold


@dataclass
class Cell:
    verdict: str
    anchor: str
    reason: str


@dataclass
class Row:
    id: str
    protocol: str
    level: str
    rfc: list[str]
    requirement: str
    kind: str
    cells: list[Cell | None]

    @property
    def verdicts(self) -> str:
        return " ".join(sorted({c.verdict for c in self.cells if c}))

    @property
    def text(self) -> str:
        reasons = " ".join(c.reason for c in self.cells if c)
        return f"{self.id} {' '.join(self.rfc)} {self.requirement} {reasons}".lower()


@dataclass
class Group:
    protocol: str
    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class VerdictCounts:
    protocol: str
    counts: dict[str, int]
    by_level: dict[str, dict[str, int]]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Diff:
    column: Column
    file: str
    as_expected: int
    regressions: list[dict[str, str]]
    newly_passing: list[dict[str, str]]


@dataclass
class ProtocolCoverage:
    protocol: str
    rfcs: list[Any]
    untested: list[Requirement]
    covered: list[tuple[Requirement, list[str]]]

    @property
    def catalogued(self) -> int:
        return sum(r.catalogued for r in self.rfcs)

    @property
    def n_covered(self) -> int:
        return sum(r.covered for r in self.rfcs)


@dataclass
class Report:
    columns: list[Column]
    groups: list[Group]
    details: list[Detail]
    summaries: list[tuple[Column, list[VerdictCounts]]]
    problems: list[Detail]  # fail, error and warn results, worst first
    diffs: list[Diff]
    coverage: list[ProtocolCoverage]
    protocols: list[str]
    total: int


def anchor_for(column: int, check_id: str) -> str:
    return f"r{column}-{check_id}"


def transcript_lines(result: dict[str, Any]) -> tuple[list[Line], dict[str, Any] | None]:
    """Display lines; the exchange that decided a non-pass verdict is marked hot: from the last client
    event before the failed assertion was recorded (the request) up to that point (the answer)."""
    events = result.get("transcript") or []
    failed = next((o for o in result.get("observations") or [] if not o.get("held")), None)
    hot = range(0)
    if result["verdict"] in ("fail", "warn", "error") and events:
        end = failed.get("event") if failed and isinstance(failed.get("event"), int) else len(events)
        end = max(0, min(end, len(events)))
        start = next((i for i in range(end - 1, -1, -1) if events[i]["dir"] == "c"), max(0, end - 1))
        hot = range(start, end)
    out = []
    for i, ev in enumerate(events):
        who = {"c": "C", "s": "S", "*": "*", "#": "#"}[ev["dir"]]
        css = {"c": "tc", "s": "ts", "*": "tn", "#": "tk"}[ev["dir"]]
        for text in event_lines(ev):
            out.append(Line(ev["t"], ev["session"], who, css, text, i in hot))
    return out, failed


def _group_title(ref: str) -> str:
    doc, _, section = ref.partition("#")
    top = ".".join(section.split(".")[:2])
    return ref_label(f"{doc}#{top}" if top else doc)


def _section_key(ref: str) -> tuple:
    doc, _, section = ref.partition("#")
    num = int(re.sub(r"\D", "", doc) or 0)
    parts = tuple(int(p) if p.isdigit() else 0 for p in section.split(".")) if section else ()
    return (not doc.startswith("rfc"), num, parts)


def build(docs: list[dict[str, Any]]) -> Report:
    columns: list[Column] = []
    by_target: list[dict[str, dict[str, Any]]] = []
    first_column: list[int] = []  # per document: the column of its (first) target, which a baseline compares
    for doc in docs:
        first_column.append(len(columns))
        for t in doc.get("targets") or [{"name": "target"}]:
            columns.append(Column(len(columns), t["name"], t.get("software", ""), t.get("endpoints", {}),
                                  doc.get("run", {}), doc.get("tool", {})))
            by_target.append({r["id"]: r for r in doc["results"] if r.get("target", t["name"]) == t["name"]})
    info: dict[str, dict[str, Any]] = {}
    for results in by_target:
        for r in results.values():
            info.setdefault(r["id"], r)

    details, problems, groups = [], [], {}
    for check_id in sorted(info, key=lambda i: (info[i]["protocol"], _section_key(info[i]["rfc"][0]), i)):
        r0 = info[check_id]
        cells: list[Cell | None] = []
        for col, results in zip(columns, by_target):
            r = results.get(check_id)
            if r is None:
                cells.append(None)
                continue
            anchor = anchor_for(col.index, check_id)
            cells.append(Cell(r["verdict"], anchor, r.get("reason", "")))
            lines, failed = transcript_lines(r)
            detail = Detail(anchor, col, r, lines, failed)
            details.append(detail)
            if r["verdict"] in ("fail", "error", "warn"):
                problems.append(detail)
        key = (r0["protocol"], _group_title(r0["rfc"][0]))
        group = groups.setdefault(key, Group(r0["protocol"], key[1]))
        group.rows.append(Row(check_id, r0["protocol"], r0["level"], list(r0["rfc"]), r0["requirement"],
                              r0.get("kind", ""), cells))
    problems.sort(key=lambda d: (VERDICTS.index(d.result["verdict"]), d.result["id"], d.column.index))

    summaries = []
    for col, results in zip(columns, by_target):
        tallies: dict[str, VerdictCounts] = {}
        for r in results.values():
            t = tallies.setdefault(r["protocol"], VerdictCounts(r["protocol"], dict.fromkeys(VERDICTS, 0),
                                                         {lv: dict.fromkeys(VERDICTS, 0) for lv in LEVELS}))
            t.counts[r["verdict"]] += 1
            t.by_level.setdefault(r["level"], dict.fromkeys(VERDICTS, 0))[r["verdict"]] += 1
        summaries.append((col, [tallies[p] for p in sorted(tallies)]))

    diffs = [Diff(columns[i], base.get("file", ""), base.get("as_expected", 0), base.get("regressions", []),
                  base.get("newly_passing", []))
             for doc, i in zip(docs, first_column) if (base := doc.get("baseline"))]

    protocols = sorted({r["protocol"] for r in info.values()})
    return Report(columns, [groups[k] for k in groups], details, summaries, problems, diffs,
                  coverage_of(protocols, info.values()), protocols, len(info))


def coverage_of(protocols: list[str], results) -> list[ProtocolCoverage]:
    """Coverage of the catalogues of the protocols that were run, by the checks that were run."""
    cats = catalogues(protocols)
    covered = cover(cats, ((r["id"], r["rfc"]) for r in results))
    out = []
    for proto in protocols:
        mine = [c for c in covered if c.requirement.protocol == proto]
        rfcs = tally([c for c in cats if c.protocol == proto], mine)
        if rfcs:
            out.append(ProtocolCoverage(proto, rfcs, [c.requirement for c in mine if not c.checks],
                                        [(c.requirement, c.checks) for c in mine if c.checks]))
    return out
