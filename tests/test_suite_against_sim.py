"""The whole suite against the embedded simulator: the reference passes every check of every protocol."""
from __future__ import annotations

import json
from collections import Counter

from conformance.cli import main


# Checks that cannot apply to the reference because it takes the better of two allowed ways: the simulator answers
# PROPFIND Depth infinity, so what a server that refuses it must say (403 with DAV:propfind-finite-depth) is never
# asked of it.
SIM_SKIPS = {("webdav.propfind.finite-depth-condition", "skip")}


def test_wireproof_run_without_a_target_passes_every_check_on_the_simulator(tmp_path, capsys):
    code = main(["run", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "results.json").read_text())
    verdicts = Counter(r["verdict"] for r in doc["results"])
    not_passing = [(r["id"], r["verdict"], r["reason"]) for r in doc["results"]
                   if r["verdict"] != "pass" and (r["id"], r["verdict"]) not in SIM_SKIPS]
    assert not not_passing, f"{verdicts}\n{not_passing}\n{out}"
    assert code == 0
    protocols = Counter(r["protocol"] for r in doc["results"])
    assert protocols["smtp"] >= 70 and protocols["pop3"] >= 35 and protocols["imap"] >= 150
    assert protocols["nntp"] >= 100
    assert protocols["webdav"] >= 100
    assert doc["targets"][0]["name"] == "wireproof-simulator"
    # checks needing an extension's capability count as extension checks: Exchange's WebDAV methods, NNTP's
    # AUTHINFO and STARTTLS (RFC 4643, 4642)
    by = doc["summary"]["by_protocol"]
    assert by["webdav"]["extension"]["total"] == sum(r["id"].startswith("webdav.exchange.") for r in doc["results"])
    assert by["nntp"]["extension"]["total"] == sum(r["id"].split(".")[1] in ("authinfo", "starttls")
                                                   for r in doc["results"] if r["protocol"] == "nntp")
