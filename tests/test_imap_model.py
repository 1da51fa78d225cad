"""The IMAP multi-session model, run on the wire against a small IMAP server (tests/imap_fake.py): it must pass
a correct server and catch each planted bug with a short conversation that the same seed finds again."""
from __future__ import annotations

import asyncio
import re

import pytest
from fakes import FakeServer
from imap_fake import FakeStore, ImapFake

from conformance.context import Capabilities, RunOptions
from conformance.model import Verdict
from conformance.registry import all_checks
from conformance.runner import execute
from conformance.target import Account, from_urls
from scenarios.imap import model


def run_model(fake: ImapFake, monkeypatch, seed: int = 1234, examples: int = 20):
    monkeypatch.setattr(model, "MIN_EXAMPLES", examples)
    check = next(c for c in all_checks() if c.id == "imap.model.multi-session")
    with FakeServer(fake) as server:
        target = from_urls([server.url("imap")])
        target.accounts = [Account("alice", "pw")]
        caps = {"imap": Capabilities("imap", keywords={"IMAP4REV1"}, params={"prefix": "", "delimiter": "."})}
        options = RunOptions(seed=seed, max_examples=examples, property_budget_s=60, read_timeout=2)
        return asyncio.run(execute(check, target, caps, options, budget=120))


def test_model_passes_a_server_that_keeps_its_mailboxes(monkeypatch):
    store = FakeStore()
    result = run_model(ImapFake(store), monkeypatch)
    assert result.verdict is Verdict.PASS, (result.reason, result.observed)
    assert result.seed == 1234
    assert set(store.mailboxes) == {"INBOX"}  # its scratch mailboxes are gone


@pytest.mark.parametrize("bug, seed, symptom", [
    ("uid-reuse", 7, "UIDs are not reused"),
    ("expunge-during-fetch", 1, "EXPUNGE sent while answering"),
    ("exists-shrinks", 7, "EXISTS 1 shrinks"),
    ("plus-flags-replaces", 7, "FETCH FLAGS of UID"),
])
def test_model_catches_a_planted_bug_with_a_reproducible_conversation(bug, seed, symptom, monkeypatch):
    first = run_model(ImapFake(FakeStore(), bug=bug), monkeypatch, seed=seed)
    assert first.verdict is Verdict.FAIL, (first.reason, first.observed)
    assert symptom in first.reason, first.reason
    assert "Falsifying example" in first.observed and first.seed == seed


def test_the_seed_finds_and_shrinks_to_the_same_conversation_again(monkeypatch):
    runs = [run_model(ImapFake(FakeStore(), bug="exists-shrinks"), monkeypatch, seed=7) for _ in range(2)]
    assert runs[0].verdict is Verdict.FAIL and runs[0].reason == runs[1].reason
    program = lambda r: re.sub(r"wireproof-[0-9a-f]+", "wireproof-*",  # noqa: E731  (a new token each run)
                               r.observed[r.observed.index("Falsifying example"):])
    assert program(runs[0]) == program(runs[1])
