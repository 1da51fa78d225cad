"""`wireproof run` against targets that never answer, break off, or are not there: every check ends as
`error` (never a hang, never a pass), the run ends in bounded time, and an absent target is a usage error."""
from __future__ import annotations

import json
import math
import time

import pytest

from conformance.cli import main

from fakes import FakeServer, Silent, free_port, half_greeting

pytestmark = pytest.mark.timeout(120)

# One script, one probe, the property-based model, and a script that needs a discovered capability.
CHECKS = ["smtp.noop.reply-250", "smtp.command.bare-lf-not-line-end", "smtp.model.command-sequence",
          "smtp.pipelining.replies-in-order"]
TIMEOUT, READ_TIMEOUT, JOBS = 2.0, 0.5, 2
CLOSE_GRACE = 3.0  # the runner's bound on closing a check's sessions
CONNECT = 5.0  # the runner's connect timeout


def run_bound() -> float:
    """Discovery (connect + one read) plus every wave of checks at their timeout, plus closing."""
    waves = math.ceil(len(CHECKS) / JOBS)
    return CONNECT + READ_TIMEOUT + CLOSE_GRACE + waves * (TIMEOUT + CLOSE_GRACE)


def run_against(server: FakeServer, out) -> tuple[int, dict, float]:
    argv = ["run", server.url(rcpt="postmaster@fake.example"), "--quiet", "--out", str(out),
            "--timeout", str(TIMEOUT), "--read-timeout", str(READ_TIMEOUT), "--jobs", str(JOBS),
            "--max-examples", "3", "--seed", "1"]
    for check in CHECKS:
        argv += ["--select", check]
    started = time.monotonic()
    code = main(argv)
    elapsed = time.monotonic() - started
    return code, json.loads((out / "results.json").read_text()), elapsed


def test_silent_target_ends_every_check_as_error_within_a_bounded_time(tmp_path):
    with FakeServer(Silent()) as server:
        code, doc, elapsed = run_against(server, tmp_path)
    verdicts = {r["id"]: r["verdict"] for r in doc["results"]}
    assert verdicts == {check: "error" for check in CHECKS}
    assert code == 1
    assert not any(r.get("harness_bug") for r in doc["results"])
    assert elapsed < run_bound()
    assert "0.5 s" in doc["targets"][0]["discovery"]["smtp"]["problem"]
    reasons = {r["id"]: r["reason"] for r in doc["results"]}
    assert "capabilities unknown" in reasons["smtp.pipelining.replies-in-order"]
    assert "0.5 s" in reasons["smtp.noop.reply-250"]


def test_target_closing_in_the_middle_of_its_greeting_ends_every_check_as_error(tmp_path):
    with FakeServer(half_greeting()) as server:
        code, doc, elapsed = run_against(server, tmp_path)
    assert {r["id"]: r["verdict"] for r in doc["results"]} == {check: "error" for check in CHECKS}
    assert code == 1
    assert not any(r.get("harness_bug") for r in doc["results"])
    assert elapsed < run_bound()
    assert "closed" in doc["targets"][0]["discovery"]["smtp"]["problem"]
    noop = next(r for r in doc["results"] if r["id"] == "smtp.noop.reply-250")
    assert any(ev.get("text") == "220 fake.exa" for ev in noop["transcript"])  # the partial line is evidence


def test_nothing_listening_is_a_usage_error_with_one_line_on_stderr(capsys):
    port = free_port()
    code = main(["run", f"smtp://127.0.0.1:{port}", "--quiet", "--select", "smtp.noop.reply-250"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("wireproof: ") and f"127.0.0.1:{port}" in err
