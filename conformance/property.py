"""Running hypothesis state machines as checks.

Hypothesis rules are synchronous, so a machine runs on a worker thread with an event loop of its own,
and drives real sessions through `Driver.call` (the same async clients every other check uses). The
target comes in through the driver, so one machine runs against the simulator and any real server.

Budget: `max_examples` conversations, `steps` commands each, and a wall-clock budget after which steps
stop talking to the server (they become no-ops, so hypothesis's replays stay deterministic). A failure is shrunk by hypothesis to a minimal conversation; the transcript kept is that
minimal conversation's, and `--seed` replays the same search.
"""
from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.errors import Flaky
from hypothesis.reporting import with_reporter
from hypothesis.stateful import run_state_machine_as_test

from .model import Undecided, Violation
from .wire.session import Session, WireError
from .wire.transcript import Transcript


HEADINGS = re.compile(r"^(Falsifying example|Failing test case|Trying example)\b")


class ModelViolation(AssertionError):
    """The server's reply is not one the model allows in this state."""

    def __init__(self, message: str, expected: str, observed: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.observed = observed


class Driver:
    """What a machine uses to talk to the target: sessions on a private loop, one transcript per example."""

    def __init__(self, ctx, budget_s: float) -> None:
        self.ctx = ctx
        self.loop = asyncio.new_event_loop()
        self.deadline = time.monotonic() + budget_s
        self.transcript = Transcript()
        self.sessions: list[Session] = []
        self.broken: WireError | None = None
        self.examples = 0
        self.commands = 0
        self.failure: ModelViolation | None = None
        self.failing = False  # once a failure is seen, shrinking must be able to replay it past the budget
        self.cancelled = False  # the check timed out on the asyncio side: stop talking to the server

    def call(self, coro):
        return self.loop.run_until_complete(coro)

    def new_example(self) -> None:
        """Start a conversation (a fresh transcript; sessions of the previous one are closed)."""
        self.close_sessions()
        self.transcript = Transcript()
        if self.active():
            self.examples += 1

    def active(self) -> bool:
        """Whether steps should still talk to the server. When the budget is spent or a connection broke,
        steps become no-ops instead of raising, so hypothesis sees the same draws on every replay."""
        if self.broken is not None or self.cancelled:
            return False
        return self.failing or time.monotonic() < self.deadline

    def open(self, protocol: str, label: str) -> Session:
        ep = self.ctx.endpoint(protocol)
        opts = self.ctx.options
        session = self.call(Session.open(ep.host, ep.port, transcript=self.transcript, label=label,
                                         tls=self.ctx.tls_context() if ep.implicit_tls else None,
                                         connect_timeout=opts.connect_timeout, read_timeout=opts.read_timeout))
        self.sessions.append(session)
        return session

    def close_sessions(self) -> None:
        for s in self.sessions:
            try:
                self.call(s.close())
            except Exception:  # closing at the end of an example; nothing to judge here
                pass
        self.sessions = []

    def violate(self, message: str, expected: str, observed: str) -> None:
        self.failing = True
        raise ModelViolation(message, expected, observed)

    def guard(self, fn: Callable[[], Any]) -> Any:
        """Run a step; a connection that breaks (timeout, reset) stops the search, judged as `error`."""
        try:
            return fn()
        except WireError as exc:
            self.broken = exc
            return None


async def check_machine(ctx, make_machine: Callable[[Driver], Any], *, steps: int = 25, min_examples: int = 0,
                        budget_s: float | None = None) -> None:
    """Run a state machine as the body of a check. Hypothesis runs on a worker thread; when the check's
    timeout cancels us, the driver is told to stop, so the thread winds down instead of running on.
    `min_examples` raises the run's --max-examples for this check (never lowers it); `budget_s` replaces the
    run's wall-clock budget for it (a check that needs more gives itself a matching timeout)."""
    driver = Driver(ctx, budget_s if budget_s is not None else ctx.options.property_budget_s)
    try:
        await asyncio.to_thread(run_machine, ctx, driver, make_machine, steps, min_examples)
    except asyncio.CancelledError:
        driver.cancelled = True
        raise


def run_machine(ctx, driver: Driver, make_machine: Callable[[Driver], Any], steps: int,
                min_examples: int = 0) -> None:
    """Run the machine (blocking) and turn its outcome into ctx verdicts."""
    opts = ctx.options
    ctx.seed = opts.seed
    report: list[str] = []

    def factory():
        return make_machine(driver)

    factory._hypothesis_internal_use_seed = opts.seed  # what @hypothesis.seed sets; replayed by --seed
    config = settings(max_examples=max(opts.max_examples, min_examples), stateful_step_count=steps, deadline=None,
                      database=None,
                      suppress_health_check=list(HealthCheck), verbosity=Verbosity.normal,
                      phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False, print_blob=False)
    try:
        with with_reporter(report.append):
            run_state_machine_as_test(factory, settings=config)
    except ModelViolation as exc:
        driver.failure = exc
        # Recent hypothesis versions attach the falsifying program to the exception instead of reporting it.
        report += [line for line in getattr(exc, "__notes__", []) if line not in report]
    except Flaky as exc:
        raise Undecided(f"the server did not answer the same conversation the same way twice: {exc}") from None
    finally:
        driver.close_sessions()
        ctx.transcript.events[:] = driver.transcript.events
        driver.loop.close()
    if driver.failure is not None:
        # Hypothesis words its own heading differently across versions; ours stays the same.
        steps = [line for line in report if line.strip() and not HEADINGS.match(line)]
        program = f"Falsifying example (seed {opts.seed}), as hypothesis replays it:\n" + "\n".join(steps)
        raise Violation(f"minimal failing conversation: {driver.failure}", driver.failure.expected,
                        f"{driver.failure.observed}\n\n{program}".strip())
    if driver.broken is not None:
        raise Undecided(f"after {driver.commands} commands in {driver.examples} conversations the connection "
                        f"broke, so the search stopped: {driver.broken}")
    ctx.expect(driver.commands > 0, f"{driver.examples} conversations, {driver.commands} commands: every reply "
               "was one the model allows", "replies allowed by the model",
               f"{driver.examples} conversations, {driver.commands} commands")
