"""Baselines: the verdicts expected of one target, checked in, so CI fails only when something got worse.

Comparison, per check:
    same verdict as expected                      as expected
    now `pass`, expected something else            newly passing (listed; never fails the gate)
    any other difference                           regression (fails the gate)
    not in the baseline, and fail/warn/error       regression (a new check that does not pass)
    not in the baseline, and pass/skip             new (listed)
    in the baseline but not run this time          not run (listed; a partial selection is allowed)
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .model import Verdict
from .wire.transcript import printable

SCHEMA = "wireproof.baseline/1"
VALID = {v.value for v in Verdict}


@dataclass
class Comparison:
    regressions: list[dict[str, str]] = field(default_factory=list)
    newly_passing: list[dict[str, str]] = field(default_factory=list)
    new: list[dict[str, str]] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    as_expected: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"regressions": self.regressions, "newly_passing": self.newly_passing, "new": self.new,
                "not_run": self.not_run, "as_expected": self.as_expected}


def load(path: str | Path) -> dict[str, str]:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"baseline {path} does not exist; create it with --write-baseline {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"baseline {path} is not valid TOML ({exc}); regenerate it with --write-baseline") from None
    if doc.get("schema") != SCHEMA:
        raise UsageError(f"baseline {path} lacks schema = \"{SCHEMA}\"; regenerate it with --write-baseline")
    verdicts = doc.get("verdicts") or {}
    for check_id, verdict in verdicts.items():
        if verdict not in VALID:
            raise UsageError(f"baseline {path}: {check_id} = {verdict!r}; verdicts are {', '.join(sorted(VALID))}")
    return dict(verdicts)


def compare(expected: dict[str, str], results: list[dict[str, Any]]) -> Comparison:
    cmp = Comparison()
    seen = set()
    for r in results:
        cid, actual = r["id"], r["verdict"]
        seen.add(cid)
        want = expected.get(cid)
        row = {"id": cid, "expected": want or "", "actual": actual, "reason": r.get("reason", "")}
        if want is None:
            (cmp.regressions if actual in ("fail", "warn", "error") else cmp.new).append(row)
        elif want == actual:
            cmp.as_expected += 1
        elif actual == "pass":
            cmp.newly_passing.append(row)
        else:
            cmp.regressions.append(row)
    cmp.not_run = sorted(set(expected) - seen)
    return cmp


def render(results: list[dict[str, Any]], target: str) -> str:
    lines = [
        "# wireproof baseline: the verdicts expected of one target.",
        f"# Target: {target}. Regenerate with --write-baseline; explain every fail/warn in docs/peer-results.md.",
        f'schema = "{SCHEMA}"',
        f'target = "{_escape(target)}"',
        "",
        "[verdicts]",
    ]
    for r in sorted(results, key=lambda r: r["id"]):
        reason = printable(" ".join(r.get("reason", "").split()))[:110]
        note = f"  # {reason}" if r["verdict"] != "pass" and reason else ""
        lines.append(f'"{r["id"]}" = "{r["verdict"]}"{note}')
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')

