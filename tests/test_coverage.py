"""Requirement coverage: catalogues load, a requirement is covered exactly when a check cites its section,
and `wireproof coverage` reports the figures and the untested requirements."""
from __future__ import annotations

import json

import pytest

from conformance.cli import main
from conformance.coverage import CatalogueError, _load, catalogues, cover, tally
from conformance.registry import all_checks

CAT = """
rfc = "rfc9999"
title = "Test Protocol"
[[requirement]]
id = "rfc9999.a"
section = "4.1"
level = "MUST"
keyword = "MUST"
statement = "A."
testable = true
[[requirement]]
id = "rfc9999.b"
section = "4.2"
level = "SHOULD"
keyword = "SHOULD"
statement = "B."
testable = true
[[requirement]]
id = "rfc9999.c"
section = "5"
level = "MUST"
keyword = "MUST"
statement = "Not observable."
testable = false
"""


def test_a_requirement_is_covered_by_the_checks_citing_its_section_only():
    cat = _load("x", "rfc9999.toml", CAT)
    covered = cover([cat], [("x.one", ["rfc9999#4.1"]), ("x.two", ["rfc9999#4.1", "rfc1#4.2"]),
                            ("x.three", ["rfc9999#4"])])
    assert {c.requirement.id: c.checks for c in covered} == {"rfc9999.a": ["x.one", "x.two"], "rfc9999.b": []}
    (t,) = tally([cat], covered)
    assert (t.catalogued, t.covered, t.untested) == (2, 1, 1)  # the untestable requirement is not counted


@pytest.mark.parametrize("broken", ["rfc = \"rfc1\"\n[[requirement]]\nid = \"rfc1.a\"\n",
                                    CAT.replace('level = "SHOULD"', 'level = "OUGHT"'), "not toml ["])
def test_a_malformed_catalogue_is_reported_as_a_suite_bug(broken):
    with pytest.raises(CatalogueError):
        _load("x", "bad.toml", broken)


def test_every_shipped_catalogue_loads_and_every_protocol_of_the_suite_has_one():
    cats = catalogues()
    assert {c.protocol for c in cats} >= {"smtp", "pop3", "imap"}
    assert all(c.requirements for c in cats)
    assert len({r.id for c in cats for r in c.requirements}) == sum(len(c.requirements) for c in cats)


def test_coverage_command_prints_per_rfc_figures_and_lists_untested(capsys):
    assert main(["coverage", "--protocol", "pop3", "--list", "untested"]) == 0
    out = capsys.readouterr().out
    assert "pop3     rfc1939" in out and "testable requirements covered" in out
    cats = catalogues(["pop3"])
    untested = [c for c in cover(cats, ((k.id, k.rfc) for k in all_checks())) if not c.checks]
    for c in untested:
        assert c.requirement.id in out


def test_coverage_json_names_the_checks_of_each_requirement(capsys):
    assert main(["coverage", "--protocol", "smtp", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ids = {c.id for c in all_checks()}
    assert doc["rfcs"] and all(r["protocol"] == "smtp" for r in doc["rfcs"])
    assert all(set(r["checks"]) <= ids for r in doc["requirements"])
    assert any(r["checks"] for r in doc["requirements"]) and any(not r["checks"] for r in doc["requirements"])


def test_coverage_of_an_unknown_protocol_is_a_usage_error(capsys):
    assert main(["coverage", "--protocol", "gopher"]) == 2
    assert "unknown protocol 'gopher'" in capsys.readouterr().err
