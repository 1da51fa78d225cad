"""`wireproof coverage`: per RFC, how many catalogued testable requirements some check covers, and which not."""
from __future__ import annotations

import json

from .coverage import CatalogueError, catalogues, cover, tally
from .errors import UsageError
from .registry import all_checks


def cmd_coverage(args) -> int:
    checks = all_checks()
    known = sorted({c.protocol for c in checks})
    for proto in args.protocol or []:
        if proto not in known:
            raise UsageError(f"unknown protocol {proto!r}; the suite has {', '.join(known)}")
    try:
        cats = catalogues(args.protocol)
    except CatalogueError as exc:
        print(f"wireproof: the suite itself is broken: {exc}")
        return 3
    covered = cover(cats, ((c.id, c.rfc) for c in checks))
    tallies = tally(cats, covered)
    if args.json:
        print(json.dumps({
            "rfcs": [t.__dict__ | {"untested": t.untested} for t in tallies],
            "requirements": [{"id": c.requirement.id, "protocol": c.requirement.protocol, "rfc": c.requirement.rfc,
                              "section": c.requirement.section, "level": c.requirement.level,
                              "statement": c.requirement.statement, "checks": c.checks} for c in covered],
        }, indent=1))
        return 0
    print(f"{'protocol':8} {'rfc':9} {'testable':>8} {'covered':>8} {'untested':>8}  title")
    for t in tallies:
        print(f"{t.protocol:8} {t.rfc:9} {t.catalogued:8} {t.covered:8} {t.untested:8}  {t.title}")
    for proto in sorted({t.protocol for t in tallies}):
        mine = [t for t in tallies if t.protocol == proto]
        n, k = sum(t.catalogued for t in mine), sum(t.covered for t in mine)
        print(f"{proto}: {k} of {n} testable requirements covered ({100 * k / n if n else 0:.0f}%), {n - k} untested")
    if args.show:
        print()
        for c in covered:
            if args.show == "untested" and c.checks or args.show == "covered" and not c.checks:
                continue
            r = c.requirement
            print(f"{r.id:45} {r.rfc} §{r.section:9} {r.level:10} {r.statement}")
            if c.checks:
                print(f"    covered by: {', '.join(c.checks)}")
    print("(a requirement is covered when a check cites its RFC section)")
    return 0
