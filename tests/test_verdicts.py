"""`conformance.runner.execute` turns whatever a check does into exactly one verdict."""
from __future__ import annotations

import asyncio
import time

import pytest

from conformance.context import Capabilities, RunOptions
from conformance.model import Check, Kind, Level, Result, Verdict
from conformance.runner import execute
from conformance.target import from_urls
from conformance.wire.transcript import decode_octets

from fakes import FakeServer, SmtpFake, free_port

pytestmark = pytest.mark.timeout(60)


def make_check(run, *, level: Level = Level.MUST, needs=(), timeout: float | None = None) -> Check:
    return Check(id="smtp.test.hand-made", protocol="smtp", rfc=("rfc5321#4.1.1.9",), level=level,
                 requirement="A hand-made requirement.", kind=Kind.PROBE, run=run, needs=frozenset(needs),
                 timeout=timeout)


def execute_now(check: Check, *, target=None, caps=None, check_timeout: float = 5.0, budget: float = 30.0) -> Result:
    target = target or from_urls([f"smtp://127.0.0.1:{free_port()}"])
    caps = {"smtp": Capabilities("smtp")} if caps is None else caps
    options = RunOptions(check_timeout=check_timeout, read_timeout=1.0, connect_timeout=2.0)
    return asyncio.run(execute(check, target, caps, options, budget))


def test_check_that_observes_and_holds_passes():
    async def run(ctx):
        ctx.expect(True, "it held", "x", "x")

    r = execute_now(make_check(run))
    assert r.verdict is Verdict.PASS
    assert r.reason == "it held"


def test_check_that_asserts_nothing_is_an_error_flagged_as_a_harness_bug():
    async def run(ctx):
        pass

    r = execute_now(make_check(run))
    assert r.verdict is Verdict.ERROR
    assert r.harness_bug
    assert "without observing its requirement" in r.reason


def test_exception_in_check_code_is_an_error_naming_the_exception():
    async def run(ctx):
        raise ZeroDivisionError("oops in the check")

    r = execute_now(make_check(run))
    assert r.verdict is Verdict.ERROR
    assert r.harness_bug
    assert "ZeroDivisionError" in r.reason and "oops in the check" in r.reason
    assert "Traceback" in r.observed


def test_skip_raised_by_the_check_is_a_skip_with_its_reason():
    async def run(ctx):
        ctx.skip("the server does not do this")

    r = execute_now(make_check(run))
    assert r.verdict is Verdict.SKIP
    assert r.reason == "the server does not do this"
    assert not r.harness_bug


@pytest.mark.parametrize("level, verdict", [(Level.MUST, Verdict.FAIL), (Level.SHOULD, Verdict.WARN),
                                            (Level.MAY, Verdict.WARN)])
def test_violation_is_graded_by_level_and_carries_expected_and_observed(level, verdict):
    async def run(ctx):
        ctx.expect(True, "first held")
        ctx.expect(False, "NOOP is answered 250", "250", "500 what\r\nsecond line")

    r = execute_now(make_check(run, level=level))
    assert r.verdict is verdict
    assert r.expected == "250"
    assert r.observed == "500 what\r\nsecond line"
    assert r.reason == "NOOP is answered 250, but got 500 what"
    assert [o["held"] for o in r.observations] == [True, False]


def test_failed_setup_is_an_error_carrying_expected_and_observed():
    async def run(ctx):
        ctx.setup(False, "EHLO is accepted", "250", "554 no")

    r = execute_now(make_check(run))
    assert r.verdict is Verdict.ERROR
    assert not r.harness_bug
    assert r.reason == "could not set up: EHLO is accepted, but got 554 no"
    assert (r.expected, r.observed) == ("250", "554 no")


def test_unmet_capability_need_skips_naming_the_capability():
    ran = []

    async def run(ctx):
        ran.append(1)

    caps = {"smtp": Capabilities("smtp", keywords={"PIPELINING", "AUTH=LOGIN"})}
    r = execute_now(make_check(run, needs=["CHUNKING"]), caps=caps)
    assert r.verdict is Verdict.SKIP
    assert "CHUNKING" in r.reason
    r = execute_now(make_check(run, needs=["AUTH=PLAIN"]), caps=caps)
    assert r.verdict is Verdict.SKIP
    assert "AUTH PLAIN" in r.reason and "LOGIN" in r.reason
    assert not ran


def test_unmet_target_need_skips_saying_what_to_configure():
    async def run(ctx):
        raise AssertionError("must not run")

    r = execute_now(make_check(run, needs=["account"]))
    assert r.verdict is Verdict.SKIP
    assert "user:pass@" in r.reason


def test_need_with_failed_discovery_is_an_error_not_a_skip():
    async def run(ctx):
        raise AssertionError("must not run")

    caps = {"smtp": Capabilities("smtp", problem="the server greeted with 554")}
    r = execute_now(make_check(run, needs=["CHUNKING"]), caps=caps)
    assert r.verdict is Verdict.ERROR
    assert "capabilities unknown" in r.reason and "554" in r.reason and "CHUNKING" in r.reason


def test_check_without_needs_runs_despite_failed_discovery():
    async def run(ctx):
        ctx.expect(True, "ran")

    r = execute_now(make_check(run), caps={"smtp": Capabilities("smtp", problem="greeted with 554")})
    assert r.verdict is Verdict.PASS


def test_check_that_overruns_its_timeout_is_an_error_within_about_the_timeout():
    async def run(ctx):
        await asyncio.sleep(60)

    started = time.monotonic()
    r = execute_now(make_check(run, timeout=0.3))
    elapsed = time.monotonic() - started
    assert r.verdict is Verdict.ERROR
    assert "0.3 s" in r.reason
    assert elapsed < 10  # bounded: far from the 60 s the check wanted


def test_run_budget_caps_the_check_timeout():
    async def run(ctx):
        await asyncio.sleep(60)

    r = execute_now(make_check(run), check_timeout=30, budget=0.2)
    assert r.verdict is Verdict.ERROR
    assert "0.2 s" in r.reason


def test_spent_run_budget_is_an_error_before_the_check_starts():
    async def run(ctx):
        raise AssertionError("must not run")

    r = execute_now(make_check(run), budget=0)
    assert r.verdict is Verdict.ERROR
    assert "time limit" in r.reason


def test_target_without_the_protocol_skips():
    async def run(ctx):
        raise AssertionError("must not run")

    r = execute_now(make_check(run), target=from_urls([f"pop3://127.0.0.1:{free_port()}"]))
    assert r.verdict is Verdict.SKIP
    assert "no smtp endpoint" in r.reason


def test_connection_refused_during_a_check_is_an_error_not_a_harness_bug():
    async def run(ctx):
        await ctx.smtp()

    r = execute_now(make_check(run))
    assert r.verdict is Verdict.ERROR
    assert not r.harness_bug
    assert "connect to 127.0.0.1" in r.reason


def test_transcript_records_both_directions_and_sessions_are_closed():
    async def run(ctx):
        client = await ctx.smtp()
        reply = await client.cmd("NOOP")
        ctx.expect(reply.code == 250, "NOOP is answered 250", "250", str(reply))

    with FakeServer(SmtpFake()) as server:
        r = execute_now(make_check(run), target=server.target())
    assert r.verdict is Verdict.PASS, r.reason
    wire = [(ev["dir"], decode_octets(ev)) for ev in r.transcript if ev["dir"] in "cs"]
    assert wire[0] == ("s", b"220 fake.example ESMTP wireproof-fake\r\n")
    assert ("c", b"NOOP\r\n") in wire
    assert wire[-1] == ("s", b"250 2.0.0 ok\r\n")
    assert r.transcript[-1] == {**r.transcript[-1], "dir": "*", "note": "client closed the connection"}
    assert r.duration_s > 0
