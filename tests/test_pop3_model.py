"""The POP3 maildrop model, run on the wire against a small POP3 server with a real maildrop: it must pass a
correct server and catch a broken one with a short, reproducible conversation. The side channel that fills
the maildrop is replaced by putting the messages straight into the fake's store."""
from __future__ import annotations

import asyncio

import pytest
from fakes import FakeServer
from pop3_fake import FakeMaildrop, Pop3Fake

from conformance.context import Capabilities, RunOptions
from conformance.model import Verdict
from conformance.registry import all_checks
from conformance.target import Account, from_urls
from conformance.runner import execute
from scenarios.pop3 import model


def run_model(server: FakeServer, drop: FakeMaildrop, monkeypatch, seed: int = 1234, examples: int = 25):
    async def fill(ctx, account, messages):
        for m in messages:
            drop.add(m)

    monkeypatch.setattr(model, "fill", fill)
    check = next(c for c in all_checks() if c.id == "pop3.model.maildrop")
    target = from_urls([server.url("pop3"), "imap://127.0.0.1:9"])
    target.accounts = [Account("bob", "pw", "bob@fake.example")]
    target.pop3_fill = "imap"
    caps = {"pop3": Capabilities("pop3", keywords={"CAPA", "TOP", "UIDL", "USER"})}
    options = RunOptions(seed=seed, max_examples=examples, property_budget_s=60, read_timeout=2)
    return asyncio.run(execute(check, target, caps, options, budget=120))


def test_model_passes_a_server_that_keeps_its_maildrop(monkeypatch):
    drop = FakeMaildrop()
    with FakeServer(Pop3Fake(drop)) as server:
        result = run_model(server, drop, monkeypatch)
    assert result.verdict is Verdict.PASS, (result.reason, result.observed)
    assert "commands" in result.reason and result.seed == 1234


@pytest.mark.parametrize("bug, symptom", [
    ("drop-commits", "a new session does not find exactly the messages"),
    ("rset-ignored", "not marked as deleted"),
    ("stat-counts-all", "STAT"),
    ("no-stuffing", "RETR"),  # an unstuffed "." line ends the response early: the stream falls out of step
])
def test_model_catches_a_maildrop_bug_with_a_short_reproducible_conversation(bug, symptom, monkeypatch):
    drop = FakeMaildrop()
    with FakeServer(Pop3Fake(drop, bug=bug)) as server:
        first = run_model(server, drop, monkeypatch, seed=7)
        again = run_model(server, drop, monkeypatch, seed=7)
    assert first.verdict is Verdict.FAIL, first.reason
    assert symptom in first.reason
    assert first.reason == again.reason  # the same seed finds and shrinks to the same conversation
