"""The suites against real servers nobody here wrote, gated by their checked-in baselines: SMTP against Exim and
aiosmtpd, POP3 and IMAP against Dovecot (IMAP twice: plain, and with every session upgraded by STARTTLS), NNTP
against INN, WebDAV against Apache mod_dav and WsgiDAV.

Every fail and warn in these baselines is explained, with the RFC text, in docs/peer-results.md.
A run that differs from its baseline is either a regression of the harness or a change in the peer;
both need a human to look.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conformance.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "reports/schema/results-v1.json").read_text())


# (peer, protocol, baseline, the fewest checks the run must have, sessions upgraded with STARTTLS)
RUNS = [("exim", "smtp", "exim", 70, False), ("aiosmtpd", "smtp", "aiosmtpd", 70, False),
        ("dovecot", "pop3", "dovecot", 35, False), ("dovecot", "imap", "dovecot-imap", 150, False),
        ("dovecot", "imap", "dovecot-imap-starttls", 150, True), ("inn", "nntp", "inn", 100, False),
        ("apache-dav", "webdav", "apache-dav", 100, False), ("wsgidav", "webdav", "wsgidav", 100, False)]


@pytest.mark.peer
@pytest.mark.parametrize("peer, protocol, name, at_least, starttls", RUNS, ids=[r[2] + "-" + r[1] for r in RUNS])
def test_suite_matches_the_peer_baseline(peer, protocol, name, at_least, starttls, tmp_path, capsys):
    baseline = ROOT / "tests" / "baselines" / f"{name}.toml"
    common = ["--protocol", protocol, "--out", str(tmp_path), "--baseline", str(baseline), "--quiet"]
    if not starttls:
        code = main(["run", f"peer:{peer}", *common])
    else:
        # The peer's profile, with its plain endpoint replaced by the same port requiring STARTTLS.
        from conformance.peers import start_peer

        with start_peer(peer) as running:  # its own work directory: the peer's users cannot enter tmp_path
            url = f"{running.endpoints[protocol]}?starttls=require"
            code = main(["run", "--profile", str(running.profile_path), url, *common])
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "results.json").read_text())
    # A regression shows its evidence here (a property check's minimal conversation is in `observed`), so a
    # CI log alone says what the peer did.
    regressed = {r["id"] for r in doc.get("baseline", {}).get("regressions", [])}
    evidence = "\n".join(f"--- {r['id']} ({r['verdict']}, seed {r.get('seed')}):\n{r.get('observed', '')[:4000]}"
                         for r in doc["results"] if r["id"] in regressed)
    assert code == 0, f"regressions against {baseline.name}:\n{out}\n{evidence}"
    jsonschema.validate(doc, SCHEMA)
    assert not doc["baseline"]["regressions"]
    assert len(doc["results"]) >= at_least
    for name in ("junit.xml", "report.html"):
        assert (tmp_path / name).stat().st_size > 0


def test_every_fail_and_warn_in_a_baseline_is_explained():
    """docs/peer-results.md names every check a baseline expects to fail or warn."""
    import tomllib

    doc = (ROOT / "docs" / "peer-results.md").read_text()
    for path in (ROOT / "tests" / "baselines").glob("*.toml"):
        verdicts = tomllib.loads(path.read_text())["verdicts"]
        for check_id, verdict in verdicts.items():
            if verdict in ("fail", "warn", "error"):
                assert f"`{check_id}`" in doc, f"{path.name}: {check_id} is {verdict} but not explained"
