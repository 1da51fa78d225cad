"""results.json: the one canonical record of a run. Every other format is rendered from it.

The schema is versioned (`schema` = "wireproof.results/1") and described by
reports/schema/results-v1.json; readers must refuse documents of a major version they do not know.
"""
from __future__ import annotations

import json
import platform
import shlex
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .model import Verdict
from .runner import TargetRun

SCHEMA = "wireproof.results/1"
VERDICTS = [v.value for v in Verdict]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def counts(results: list[dict[str, Any]]) -> dict[str, int]:
    c = Counter(r["verdict"] for r in results)
    return {v: c.get(v, 0) for v in VERDICTS} | {"total": len(results)}


EXTENSION_TAG = "extension"  # a check of a protocol extension (it also names the capability in its needs)


def is_extension(result: dict[str, Any]) -> bool:
    return EXTENSION_TAG in (result.get("tags") or [])


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for the whole run and per protocol; per protocol also by level and split into base-protocol and
    extension checks (a check is an extension check when it carries the `extension` tag)."""
    by_protocol: dict[str, Any] = {}
    for proto in sorted({r["protocol"] for r in results}):
        rs = [r for r in results if r["protocol"] == proto]
        by_protocol[proto] = counts(rs) | {
            "by_level": {lvl: counts([r for r in rs if r["level"] == lvl]) for lvl in ("MUST", "SHOULD", "MAY")
                         if any(r["level"] == lvl for r in rs)},
            "base": counts([r for r in rs if not is_extension(r)]),
            "extension": counts([r for r in rs if is_extension(r)])}
    return {"all": counts(results), "by_protocol": by_protocol}


def reproduce_command(check_id: str, target_args: list[str], seed: int | None) -> str:
    parts = ["wireproof", "run", *target_args, "--select", check_id]
    if seed is not None:
        parts += ["--seed", str(seed)]
    return shlex.join(parts)


def build(runs: list[TargetRun], *, argv: list[str], seed: int, target_args: dict[str, list[str]],
          options: dict[str, Any]) -> dict[str, Any]:
    results = []
    targets = []
    for run in runs:
        desc = run.target.describe()
        desc["discovery"] = {proto: {"greeting": cap.greeting, "keywords": sorted(cap.keywords),
                                     "params": cap.params, "problem": cap.problem, "transcript": cap.transcript}
                             for proto, cap in run.caps.items()}
        desc["started"], desc["finished"] = _iso(run.started), _iso(run.finished)
        targets.append(desc)
        for r in run.results:
            doc = r.to_json()
            doc["reproduce"] = reproduce_command(r.check.id, target_args.get(run.target.name, [run.target.name]),
                                                 r.seed)
            results.append(doc)
    started = min((r.started for r in runs), default=0.0)
    finished = max((r.finished for r in runs), default=0.0)
    return {
        "schema": SCHEMA,
        "tool": {"name": "wireproof", "version": __version__, "python": platform.python_version()},
        "run": {"started": _iso(started), "finished": _iso(finished), "duration_s": round(finished - started, 3),
                "argv": argv, "seed": seed, "options": options},
        "targets": targets,
        "summary": summarize(results),
        "results": results,
    }


def write(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load(path: str | Path) -> dict[str, Any]:
    from .errors import UsageError

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"results file {path} does not exist; pass the results.json a run wrote") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"results file {path} is not JSON ({exc}); pass the results.json a run wrote") from None
    schema = doc.get("schema", "") if isinstance(doc, dict) else ""
    if not schema.startswith("wireproof.results/"):
        raise UsageError(f"{path} is not a wireproof results file (no 'schema' field)")
    if schema.split("/")[1] != "1":
        raise UsageError(f"{path} has schema {schema}; this wireproof reads wireproof.results/1")
    return doc
