"""The NNTP requirement catalogues parse; every NNTP check cites sections the catalogue of its RFC lists, at a level
one of them states; and the suite is as large as issue 5 asks."""
from __future__ import annotations

import importlib.resources
import tomllib

from conformance.model import Level
from conformance.registry import all_checks

FIELDS = {"id", "section", "level", "keyword", "statement", "testable"}
LEVELS = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"}
CATALOGUED = {"rfc3977", "rfc4642", "rfc4643"}  # NNTP, its STARTTLS and its AUTHINFO; RFC 5536 (articles) is cited only


def catalogues() -> dict[str, dict]:
    root = importlib.resources.files("scenarios") / "nntp" / "requirements"
    return {doc["rfc"]: doc for doc in (tomllib.loads(f.read_text(encoding="utf-8"))
                                        for f in root.iterdir() if f.name.endswith(".toml"))}


def nntp_checks():
    return [c for c in all_checks() if c.protocol == "nntp"]


def test_every_requirement_is_complete_and_its_id_unique():
    docs = catalogues()
    assert set(docs) == CATALOGUED
    seen = set()
    for rfc, doc in docs.items():
        assert doc["requirement"], rfc
        for req in doc["requirement"]:
            assert FIELDS <= set(req), req
            assert req["level"] in LEVELS and req["id"].startswith(rfc + ".") and req["id"] not in seen, req
            assert req["section"] and req["statement"].strip() and isinstance(req["testable"], bool), req
            seen.add(req["id"])


def test_every_nntp_check_cites_catalogued_sections_at_a_stated_level():
    docs = catalogues()
    for check in nntp_checks():
        levels = set()
        for ref in check.rfc:
            rfc, _, section = ref.partition("#")
            assert section, f"{check.id} cites {ref} without a section"
            if rfc not in docs:
                assert rfc == "rfc5536", f"{check.id} cites {rfc}, which has no catalogue"
                continue
            entries = [r for r in docs[rfc]["requirement"] if r["section"] == section]
            assert entries, f"{check.id} cites {ref}, not in {rfc}.toml"
            levels |= {Level.parse(r["level"]) for r in entries}
        if levels:
            assert check.level in levels, f"{check.id} is {check.level.value}, but its sections state {levels}"


def test_the_suite_has_at_least_50_checks_and_a_property_model():
    checks = nntp_checks()
    assert len(checks) >= 50
    assert any(c.id == "nntp.model.numbering" and "property" in c.tags for c in checks)
    assert {c.rfc[0].partition("#")[0] for c in checks} >= CATALOGUED
