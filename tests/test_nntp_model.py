"""The NNTP numbering model, run on the wire against the simulator's NNTP server: it must pass the server as it
is and catch a planted navigation bug with a short conversation that the same seed finds again.

The simulator keeps its articles from one example to the next, as a real news server does (nothing can be
deleted), so these runs also prove that the model is replay-safe: hypothesis can shrink a failure found
against a server whose group keeps growing, instead of giving up with "inconsistent data generation".
"""
from __future__ import annotations

import asyncio

import pytest

from conformance.context import Capabilities, RunOptions
from conformance.model import Verdict
from conformance.registry import all_checks
from conformance.runner import execute
from conformance.target import from_urls
from simulator import Simulator
from simulator.servers import nntp as server

GROUP = "wireproof.test"


def run_model(sim: Simulator, seed: int, examples: int = 20):
    check = next(c for c in all_checks() if c.id == "nntp.model.numbering")
    target = from_urls([f"nntp://{sim.address('nntp')[0]}:{sim.address('nntp')[1]}"])
    target.nntp_groups, target.nntp_post = [GROUP], True
    caps = {"nntp": Capabilities("nntp", keywords={"VERSION", "READER", "POST", "OVER", "HDR"})}
    options = RunOptions(seed=seed, max_examples=examples, property_budget_s=60, read_timeout=2)
    return asyncio.run(execute(check, target, caps, options, budget=120))


@pytest.mark.parametrize("seed", [1, 7])
def test_model_passes_the_simulator_and_leaves_only_its_own_articles(seed):
    with Simulator() as sim:
        result = run_model(sim, seed)
    assert result.verdict is Verdict.PASS, (result.reason, result.observed)
    assert "conversations" in result.reason and result.seed == seed


async def _next_skips_one(self, forward: bool) -> None:
    """NEXT goes two articles on when it can: the article right after the current one is never shown."""
    info = await self._refresh()
    if info is None or self.machine.pointer is None or not forward:
        return await ORIGINAL_STEP(self, forward)
    later = [n for n, _ in info.articles if n > self.machine.pointer]
    if len(later) < 2:
        return await ORIGINAL_STEP(self, forward)
    self.machine.point(later[1])
    raw = await self._article(info.url, later[1])
    self.machine.respond(223, f"{later[1]} {self._message_id(raw)} retrieved")


async def _message_id_moves_pointer(self, args):
    """ARTICLE/STAT by message-id make that article the current one (RFC 3977 6.2.1.2 says they must not)."""
    found = await ORIGINAL_RESOLVE(self, args)
    if found is not None and args and args[0].startswith("<") and self.info is not None \
            and found[1].casefold() == self.info.url.casefold():
        self.machine.point(found[2])
    return found


async def _group_high_stale(self, args):
    """GROUP reports the high water mark it had when the session first selected the group."""
    if len(args) == 1 and getattr(self, "_stale", None) is not None:
        count, low, high = self._stale
        info = await self._group_info(args[0])
        self.info = info
        self.machine.select(args[0], low if count else None)
        return self.machine.respond(211, f"{count} {low} {high} {args[0]}")
    await ORIGINAL_GROUP(self, args)
    reply_info = self.info
    if reply_info is not None:
        self._stale = self._water(reply_info)


ORIGINAL_STEP = server.NntpSession._step
ORIGINAL_RESOLVE = server.NntpSession._resolve
ORIGINAL_GROUP = server.NntpSession.req_group
BUGS = {"next-skips": ("_step", _next_skips_one, "the nearest existing article is"),
        "message-id-moves-pointer": ("_resolve", _message_id_moves_pointer, " went to "),
        "group-high-stale": ("req_group", _group_high_stale, "GROUP reports")}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_model_catches_a_planted_bug_with_a_reproducible_conversation(bug, monkeypatch):
    name, replacement, symptom = BUGS[bug]
    monkeypatch.setattr(server.NntpSession, name, replacement)
    runs = []
    for _ in range(2):
        with Simulator() as sim:
            runs.append(run_model(sim, seed=3))
    first, again = runs
    assert first.verdict is Verdict.FAIL, (first.reason, first.observed)
    assert symptom in first.reason, first.reason
    assert "Falsifying example (seed 3)" in first.observed
    assert again.verdict is Verdict.FAIL and again.reason == first.reason  # the same seed, the same minimal failure

