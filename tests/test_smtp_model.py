"""The RFC 5321 command-sequence model, and the property-based check that holds servers to it.

The model is checked as a table (every state and command), and the whole machine is run on the wire
against a small stateful fake server: it must pass a correct server and catch a broken one with a
short, reproducible conversation.
"""
from __future__ import annotations

import asyncio

import pytest
from fakes import FakeServer

from conformance.context import Capabilities, RunOptions
from conformance.model import Verdict
from conformance.registry import all_checks
from conformance.runner import execute
from scenarios.smtp.model import State, transition

COMMANDS = ["EHLO", "HELO", "NOOP", "RSET", "VRFY", "MAIL", "RCPT", "DATA", "QUIT", "BAD-MAIL", "JUNK"]
CODES = [220, 221, 250, 251, 252, 354, 421, 450, 500, 501, 502, 503, 504, 550, 554]
OPEN = [s for s in State if s is not State.CLOSED]


@pytest.mark.parametrize("state", OPEN)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_state_and_command_has_a_transition_and_421_always_closes(state, command):
    for code in CODES:
        allowed, after, why = transition(state, command, code)
        assert isinstance(after, State) and why
    assert transition(state, command, 421)[:2] == (True, State.CLOSED)


@pytest.mark.parametrize("state", OPEN)
def test_noop_and_vrfy_never_change_the_state(state):
    for code in (c for c in CODES if c != 421):  # 421 ends the session from any state
        assert transition(state, "NOOP", code)[1] is state
        assert transition(state, "VRFY", code)[1] is state


@pytest.mark.parametrize("state", [State.GREETED, State.READY])
def test_rcpt_without_mail_allows_only_503(state):
    allowed = {code for code in CODES if transition(state, "RCPT", code)[0]}
    assert allowed == {503, 421}


def test_rset_and_ehlo_end_the_transaction():
    for state in (State.MAIL, State.RCPT):
        assert transition(state, "RSET", 250) == (True, State.READY, transition(state, "RSET", 250)[2])
        assert transition(state, "EHLO", 250)[:2] == (True, State.READY)


def test_data_needs_a_recipient():
    for state in (State.GREETED, State.READY, State.MAIL):
        assert {c for c in CODES if transition(state, "DATA", c)[0]} == {503, 554, 421}
    assert transition(State.RCPT, "DATA", 354)[0]
    assert not transition(State.RCPT, "DATA", 503)[0]


def test_second_mail_may_be_refused_or_start_afresh():
    assert transition(State.RCPT, "MAIL", 503)[:2] == (True, State.RCPT)
    assert transition(State.RCPT, "MAIL", 250)[:2] == (True, State.MAIL)
    assert not transition(State.RCPT, "MAIL", 550)[0]


# --- on the wire ----------------------------------------------------------------------------------------


class StatefulSmtp:
    """A tiny SMTP server that keeps the command sequence; `bug` switches on one deliberate mistake."""

    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state = "greeted"

        def say(text: str) -> None:
            writer.write(text.encode() + b"\r\n")

        say("220 stateful.example ESMTP")
        while line := await reader.readline():
            verb = line.split(b" ", 1)[0].strip().upper().decode("ascii", "replace")
            if verb in ("EHLO", "HELO"):
                state = "ready"
                say("250 stateful.example")
            elif verb == "MAIL":
                ok = line.upper().startswith(b"MAIL FROM:<")
                if not ok:
                    say("501 syntax")
                elif state in ("mail", "rcpt"):
                    say("503 nested MAIL")
                else:
                    state = "mail"
                    say("250 ok")
            elif verb == "RCPT":
                if state in ("mail", "rcpt") or self.bug == "rcpt-without-mail":
                    state = "rcpt" if state in ("mail", "rcpt") else state
                    say("250 ok")
                else:
                    say("503 need MAIL")
            elif verb == "DATA":
                if state != "rcpt":
                    say("503 need RCPT")
                    continue
                say("354 go on")
                while await reader.readline() not in (b".\r\n", b""):
                    pass
                state = "ready"
                say("250 queued")
            elif verb == "RSET":
                if self.bug != "rset-keeps-transaction" and state in ("mail", "rcpt"):
                    state = "ready"
                say("250 reset")
            elif verb == "NOOP":
                say("250 ok")
            elif verb == "VRFY":
                say("252 cannot verify")
            elif verb == "QUIT":
                say("221 bye")
                await writer.drain()
                return
            else:
                say("500 unknown")
            await writer.drain()


def run_model(server: FakeServer, seed: int = 1234, examples: int = 40):
    check = next(c for c in all_checks() if c.id == "smtp.model.command-sequence")
    target = server.target(rcpt="alice@stateful.example")
    caps = {"smtp": Capabilities("smtp")}
    options = RunOptions(seed=seed, max_examples=examples, property_budget_s=60, read_timeout=2)
    return asyncio.run(execute(check, target, caps, options, budget=120))


def test_model_passes_a_server_that_keeps_the_sequence():
    with FakeServer(StatefulSmtp()) as server:
        result = run_model(server)
    assert result.verdict is Verdict.PASS, result.reason
    assert "commands" in result.reason and result.seed == 1234


@pytest.mark.parametrize("bug, symptom", [
    ("rcpt-without-mail", "RCPT"),
    ("rset-keeps-transaction", "state ready"),
])
def test_model_catches_a_sequence_bug_with_a_short_reproducible_conversation(bug, symptom):
    with FakeServer(StatefulSmtp(bug)) as server:
        first = run_model(server, seed=99)
        again = run_model(server, seed=99)
    assert first.verdict is Verdict.FAIL
    assert symptom in first.reason
    assert first.reason == again.reason  # the same seed finds and shrinks to the same conversation
    sent = [e for e in first.transcript if e["dir"] == "c"]
    assert 0 < len(sent) <= 8, "the failing conversation is shrunk to a handful of commands"
