"""Scripted checks run end to end through `conformance.runner.execute` against fake SMTP servers."""
from __future__ import annotations

import asyncio
import textwrap

import pytest

from conformance.context import Capabilities, RunOptions
from conformance.model import Check, Result, Verdict
from conformance.registry import _script_checks
from conformance.runner import execute
from conformance.wire.transcript import decode_octets

from fakes import CLOSE, FakeServer, SmtpFake

pytestmark = pytest.mark.timeout(60)

PRELUDE = """
prelude
S: 220
C: EHLO ${helo}
S: 250
"""


class _Text:
    """Stands in for an importlib resource, so the registry builds checks from a string."""

    def __init__(self, text: str) -> None:
        self.name = "test.wire"
        self.text = text

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


def checks_from(text: str) -> dict[str, Check]:
    return {c.id: c for c in _script_checks("smtp", _Text(text))}


def with_prelude(body: str) -> str:
    """The SMTP prelude (greeting, EHLO), then the check blocks in `body` (dedented)."""
    return PRELUDE + textwrap.dedent(body)


def run(check: Check, server: FakeServer, read_timeout: float = 1.0, **params: str) -> Result:
    options = RunOptions(check_timeout=5.0, read_timeout=read_timeout, connect_timeout=2.0)
    return asyncio.run(execute(check, server.target(**params), {"smtp": Capabilities("smtp")}, options, 30.0))


def one(text: str) -> Check:
    (check,) = checks_from(text).values()
    return check


NOOP_MUST = one(with_prelude("""
check smtp.t.noop
rfc: rfc5321#4.1.1.9
requirement: NOOP is answered with 250.
C: NOOP
MUST S: 250
"""))

NOOP_SHOULD = one(with_prelude("""
check smtp.t.noop-should
rfc: rfc5321#4.1.1.9
requirement: NOOP with an argument is answered with 250.
C: NOOP hello
SHOULD S: 250
"""))


def test_marked_step_that_matches_passes():
    with FakeServer(SmtpFake()) as server:
        r = run(NOOP_MUST, server)
    assert r.verdict is Verdict.PASS, r.reason
    assert not r.harness_bug


def test_marked_must_step_that_misses_fails_with_expected_and_observed():
    with FakeServer(SmtpFake({"NOOP": "502 5.5.1 not here"})) as server:
        r = run(NOOP_MUST, server)
    assert r.verdict is Verdict.FAIL
    assert r.expected == "S: 250"
    assert r.observed == "502 5.5.1 not here"
    assert "line" in r.reason and "502" in r.reason


def test_marked_should_step_that_misses_warns():
    with FakeServer(SmtpFake({"NOOP": "501 no arguments please"})) as server:
        r = run(NOOP_SHOULD, server)
    assert r.verdict is Verdict.WARN
    assert "501" in r.observed


def test_unmarked_setup_step_that_misses_is_an_error_not_a_failure():
    with FakeServer(SmtpFake({"EHLO": "554 go away"})) as server:
        r = run(NOOP_MUST, server)
    assert r.verdict is Verdict.ERROR
    assert r.reason.startswith("could not set up")
    assert not r.harness_bug


CLOSED = one(with_prelude("""
check smtp.t.quit-closes
rfc: rfc5321#4.1.1.10
requirement: After 221 the server closes.
C: QUIT
S: 221
MUST closed
"""))


def test_closed_passes_when_the_server_closes():
    with FakeServer(SmtpFake()) as server:
        r = run(CLOSED, server)
    assert r.verdict is Verdict.PASS, r.reason


def test_closed_fails_when_the_server_stays_open():
    with FakeServer(SmtpFake(close_after_quit=False)) as server:
        r = run(CLOSED, server, read_timeout=0.5)
    assert r.verdict is Verdict.FAIL
    assert r.observed == "the connection stayed open"


def test_closed_fails_when_the_server_sends_more_before_closing():
    with FakeServer(SmtpFake({"QUIT": "221 bye\n250 one more thing"})) as server:
        r = run(CLOSED, server)
    assert r.verdict is Verdict.FAIL
    assert "one more thing" in r.observed


SILENT = one(with_prelude("""
check smtp.t.silent
rfc: rfc2920#3.2
requirement: The server waits for the end of the line.
C= NOOP
MUST silent 0.3
"""))


def test_silent_passes_when_the_server_says_nothing():
    with FakeServer(SmtpFake()) as server:  # the fake waits for a whole line, so it says nothing
        r = run(SILENT, server)
    assert r.verdict is Verdict.PASS, r.reason


def test_silent_fails_when_the_server_speaks():
    with FakeServer(SmtpFake({"EHLO": "250 fake.example\n250 early"})) as server:
        r = run(SILENT, server)
    assert r.verdict is Verdict.FAIL
    assert "250 early" in r.observed


def test_script_steps_go_to_the_session_they_name():
    check = one(with_prelude("""
    check smtp.t.two-sessions
    rfc: rfc5321#4.1.4
    requirement: A second session is independent of the first.
    C: MAIL FROM:<a@example.org>
    S: 250
    session b
    S: 220
    C: RCPT TO:<b@example.org>
    MUST S: 503
    session a
    C: RCPT TO:<b@example.org>
    MUST S: 250
    """))
    server_fake = SmtpFake({"RCPT": ["503 first", "250 second"]})
    with FakeServer(server_fake) as server:
        r = run(check, server)
        assert server.connections == 2
    assert r.verdict is Verdict.PASS, r.reason
    assert {ev["session"] for ev in r.transcript if ev["dir"] in "cs"} == {"a", "b"}
    b_lines = [decode_octets(ev) for ev in r.transcript if ev["dir"] == "c" and ev["session"] == "b"]
    assert b_lines == [b"RCPT TO:<b@example.org>\r\n"]


def test_captured_variable_is_reused_in_a_later_client_line():
    check = one(with_prelude("""
    check smtp.t.capture
    rfc: rfc5321#4.1.1.9
    requirement: A captured token can be sent back.
    C: NOOP
    S: 250 token={tok:[a-z0-9]+} ...
    C: VRFY ${tok}
    MUST S: 252
    """))
    fake = SmtpFake({"NOOP": "250 token=q7x2 ok"})
    with FakeServer(fake) as server:
        r = run(check, server)
    assert r.verdict is Verdict.PASS, r.reason
    assert b"VRFY q7x2" in fake.commands


def test_set_variable_and_target_variables_reach_the_wire():
    check = one(with_prelude("""
    check smtp.t.set
    rfc: rfc5321#4.1.1.2
    requirement: Variables expand in client lines.
    set who = <${sender}>
    C: MAIL FROM:${who}
    MUST S: 250
    """))
    fake = SmtpFake()
    with FakeServer(fake) as server:
        r = run(check, server, sender="me@example.net")
    assert r.verdict is Verdict.PASS, r.reason
    assert b"MAIL FROM:<me@example.net>" in fake.commands


def test_has_looks_through_every_line_of_the_last_reply_including_the_preludes():
    checks = checks_from(with_prelude("""
    check smtp.t.has
    rfc: rfc1870#4
    requirement: SIZE is advertised.
    MUST has: SIZE {limit:\\d+}

    check smtp.t.lacks
    rfc: rfc1870#4
    requirement: FOO is not advertised.
    MUST lacks: FOO
    """))
    fake = SmtpFake({"EHLO": "250-fake.example\n250-SIZE 1000\n250 FOO"})
    with FakeServer(fake) as server:
        has = run(checks["smtp.t.has"], server)
        lacks = run(checks["smtp.t.lacks"], server)
    assert has.verdict is Verdict.PASS, has.reason
    assert lacks.verdict is Verdict.FAIL
    assert "250 FOO" in lacks.observed


def test_comments_go_into_the_transcript_before_their_step():
    check = one(with_prelude("""
    check smtp.t.comment
    rfc: rfc5321#4.1.1.9
    requirement: NOOP is answered with 250.
    # NOOP proves the server is alive.
    C: NOOP
    MUST S: 250
    """))
    with FakeServer(SmtpFake()) as server:
        r = run(check, server)
    comments = [i for i, ev in enumerate(r.transcript) if ev["dir"] == "#"]
    assert [r.transcript[i]["note"] for i in comments] == ["NOOP proves the server is alive."]
    following = r.transcript[comments[0] + 1]
    assert following["dir"] == "c" and decode_octets(following) == b"NOOP\r\n"


def test_server_closing_before_a_marked_reply_is_an_error():
    with FakeServer(SmtpFake({"NOOP": CLOSE})) as server:
        r = run(NOOP_MUST, server)
    assert r.verdict is Verdict.ERROR
    assert "closed" in r.reason
    assert not r.harness_bug


def test_undefined_target_variable_skips_with_a_hint():
    check = one(with_prelude("""
    check smtp.t.rcpt
    rfc: rfc5321#4.1.1.3
    requirement: RCPT is accepted.
    C: MAIL FROM:<${sender}>
    S: 250
    C: RCPT TO:<${rcpt}>
    MUST S: 250
    """))
    with FakeServer(SmtpFake()) as server:
        r = run(check, server)
    assert r.verdict is Verdict.SKIP
    assert "${rcpt}" in r.reason and "?rcpt=" in r.reason
