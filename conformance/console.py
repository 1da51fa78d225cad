"""What a run prints: a progress bar on a terminal, one plain line per check elsewhere (CI logs), and a
summary at the end of every run."""
from __future__ import annotations

import os
import sys

from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rich.markup import escape

from .model import Result
from .wire.transcript import printable

STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim", "error": "magenta"}
EXIT_MEANING = {0: "as expected", 1: "conformance failures or regressions", 2: "usage or setup error",
                3: "the harness itself broke"}


def safe(text: str) -> str:
    """Server text inside rich markup: no control characters, no markup of its own."""
    return escape(printable(text))


class Console:
    def __init__(self, quiet: bool = False) -> None:
        self.out = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True)
        self.interactive = self.out.is_terminal and not os.environ.get("CI")
        self.quiet = quiet
        self.progress: Progress | None = None
        self.task = None
        self.done = 0
        self.total = 0

    def start(self, target, total: int, seed: int) -> None:
        self.total = total
        endpoints = ", ".join(ep.url() for ep in target.endpoints.values())
        self.out.print(f"wireproof: {total} checks against {target.name} ({endpoints}); seed {seed}")
        if self.interactive and not self.quiet:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=self.out, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("checks", total=total)

    def result(self, r: Result) -> None:
        self.done += 1
        v = r.verdict.value
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=r.check.id)
            if v in ("fail", "error"):
                self.progress.console.print(f"[{STYLE[v]}]{v:5}[/] {r.check.id}  {safe(r.reason)}", markup=True)
        elif not self.quiet:
            width = len(str(self.total))
            self.out.print(f"[{self.done:{width}}/{self.total}] {v:5} {r.check.id} ({r.duration_s:.2f}s)"
                           + (f"  {printable(r.reason)}" if v not in ("pass",) and r.reason else ""), markup=False)

    def summary(self, doc, comparison, code: int, out_dir: str | None) -> None:
        if self.progress is not None:
            self.progress.stop()
        table = Table(title="wireproof summary", title_justify="left")
        table.add_column("protocol")
        for v in ("pass", "fail", "warn", "skip", "error"):
            table.add_column(v, justify="right", style=STYLE[v])
        table.add_column("total", justify="right")
        table.add_column("base", justify="right")  # base-protocol checks: passed/run
        table.add_column("extension", justify="right")  # extension checks: passed/run
        for proto, c in doc["summary"]["by_protocol"].items():
            split = [f"{part['pass']}/{part['total']}" if (part := c.get(key)) else "" for key in ("base", "extension")]
            table.add_row(proto, *(str(c[v]) for v in ("pass", "fail", "warn", "skip", "error")), str(c["total"]),
                          *split)
        self.out.print(table)
        problems = [r for r in doc["results"] if r["verdict"] in ("fail", "error", "warn")]
        for r in problems[:40]:
            self.out.print(f"  [{STYLE[r['verdict']]}]{r['verdict']:5}[/] {r['id']} ({r['level']}, "
                           f"{' '.join(r['rfc'])}): {safe(r['reason'])}", markup=True, highlight=False)
        if len(problems) > 40:
            self.out.print(f"  ... and {len(problems) - 40} more in results.json")
        if comparison is not None:
            self.out.print(f"baseline: {comparison.as_expected} as expected, {len(comparison.regressions)} "
                           f"regressions, {len(comparison.newly_passing)} newly passing, {len(comparison.new)} new")
            for row in comparison.regressions:
                self.out.print(f"  regression {row['id']}: expected {row['expected'] or '(not in baseline)'}, "
                               f"got {row['actual']} — {printable(row['reason'])}", markup=False)
            for row in comparison.newly_passing:
                self.out.print(f"  newly passing {row['id']} (was {row['expected']}): update the baseline",
                               markup=False)
        if out_dir:
            self.out.print(f"wrote {out_dir}/results.json, junit.xml, report.html", markup=False)
        self.out.print(f"exit {code}: {EXIT_MEANING.get(code, '')}", markup=False)
