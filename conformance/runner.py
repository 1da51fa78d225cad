"""Running a selection of checks against one target: discovery, concurrency, timeouts, verdicts."""
from __future__ import annotations

import asyncio
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from .context import Capabilities, CheckContext, RunOptions
from .discovery import DISCOVERERS, unmet_need
from .model import Check, Result, Skip, Undecided, Verdict, Violation, grade
from .target import Target
from .wire.session import WireError
from .wire.transcript import Transcript


@dataclass
class TargetRun:
    target: Target
    caps: dict[str, Capabilities] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


async def execute(check: Check, target: Target, caps: dict[str, Capabilities], options: RunOptions,
                  budget: float) -> Result:
    """Run one check to exactly one verdict; nothing it does can escape as an exception."""
    started = time.monotonic()
    transcript = Transcript()
    result = Result(check=check, target=target.name, verdict=Verdict.ERROR)
    ctx = None
    try:
        cap = caps.get(check.protocol) or Capabilities(check.protocol, problem=f"no {check.protocol} endpoint")
        if target.endpoint(check.protocol) is None:
            raise Skip(f"the target has no {check.protocol} endpoint")
        for need in sorted(check.needs):
            unmet = unmet_need(need, check.protocol, target, cap)
            if unmet:
                verdict, reason = unmet
                if verdict == "skip":
                    raise Skip(reason)
                raise Undecided(reason)
        limit = min(check.timeout or options.check_timeout, budget)
        if limit <= 0:
            raise Undecided("the run's time limit was reached before this check could start")
        ctx = CheckContext(check, target, caps, options, transcript)
        try:
            async with asyncio.timeout(limit):
                await check.run(ctx)
        except TimeoutError:
            raise Undecided(f"the check did not finish within its {limit:g} s limit") from None
        if not any(o["held"] for o in ctx.observations):
            result.harness_bug = True
            raise Undecided("the check ended without observing its requirement (a bug in the check)")
        result.verdict = Verdict.PASS
        last = ctx.observations[-1]
        result.reason = last["what"]
        result.expected, result.observed = last["expected"], last["observed"]
    except Violation as exc:
        result.verdict = grade(check.level)
        result.reason, result.expected, result.observed = str(exc), exc.expected, exc.observed
    except Skip as exc:
        result.verdict = Verdict.SKIP
        result.reason = str(exc)
    except Undecided as exc:
        result.verdict = Verdict.ERROR
        result.reason, result.expected, result.observed = str(exc), exc.expected, exc.observed
    except WireError as exc:
        result.verdict = Verdict.ERROR
        result.reason = str(exc)
    except Exception as exc:  # a bug in the harness or the check, reported as such (exit 3)
        result.verdict = Verdict.ERROR
        result.harness_bug = True
        result.reason = f"harness error: {type(exc).__name__}: {exc}"
        result.observed = traceback.format_exc(limit=8)
    finally:
        if ctx is not None:
            try:
                await asyncio.wait_for(ctx.close_all(), 3.0)
            except Exception:  # closing is best effort; the verdict is already decided
                pass
            result.observations = ctx.observations
            result.seed = ctx.seed
        result.transcript = transcript.events
        result.duration_s = time.monotonic() - started
    return result


async def run_target(target: Target, checks: list[Check], options: RunOptions, *, jobs: int = 4,
                     run_timeout: float = 1800.0,
                     on_result: Callable[[Result], None] | None = None) -> TargetRun:
    run = TargetRun(target=target, started=time.time())
    deadline = time.monotonic() + run_timeout
    for protocol in sorted({c.protocol for c in checks}):
        if target.endpoint(protocol) is not None and protocol in DISCOVERERS:
            run.caps[protocol] = await DISCOVERERS[protocol](target, options)

    sem = asyncio.Semaphore(max(1, jobs))
    results: dict[str, Result] = {}

    async def one(check: Check) -> None:
        async with sem:
            result = await execute(check, target, run.caps, options, deadline - time.monotonic())
        results[check.id] = result
        if on_result:
            on_result(result)

    shared = [c for c in checks if not c.exclusive]
    await asyncio.gather(*(one(c) for c in shared))
    for check in (c for c in checks if c.exclusive):  # alone, after the rest: they measure the server itself
        await one(check)
    run.results = [results[c.id] for c in checks]
    run.finished = time.time()
    return run
