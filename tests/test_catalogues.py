"""The requirement catalogues (scenarios/<protocol>/requirements/*.toml) parse, and the checks cite them.

The same assertions run for every protocol that has catalogues; what is particular to one protocol (the set of RFCs
it catalogues, which RFCs it may cite without a catalogue, whether a check's level must be one its sections state,
the size and shape of its suite) is data in the tables below or a test of its own at the end.
"""
from __future__ import annotations

import importlib.resources
import tomllib

import pytest

from conformance.model import Level
from conformance.registry import all_checks

FIELDS = {"id", "section", "level", "keyword", "statement", "testable"}
LEVELS = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"}
PROTOCOLS = sorted(p.name for p in importlib.resources.files("scenarios").iterdir()
                   if p.is_dir() and (p / "requirements").is_dir())

# The RFCs each protocol catalogues: exactly these ("=="), or at least these (">=").
CATALOGUED = {
    "imap": (">=", {"rfc3501", "rfc9051", "rfc2177", "rfc4315", "rfc6851", "rfc7888", "rfc2342", "rfc2971", "rfc5161",
                    "rfc3691", "rfc3348", "rfc6154", "rfc7162", "rfc5256", "rfc3516", "rfc2595", "rfc4959"}),
    "nntp": ("==", {"rfc3977", "rfc4642", "rfc4643"}),  # NNTP, its STARTTLS and AUTHINFO; RFC 5536 is cited only
    "pop3": ("==", {"rfc1939", "rfc2449", "rfc2595", "rfc5034"}),
    "webdav": (">=", {"rfc4918"}),
}
# Where a protocol lists them, the only RFCs its checks may cite that have no catalogue (elsewhere: any).
UNCATALOGUED_ALLOWED = {"imap": set(), "nntp": {"rfc5536"}}
# Protocols whose checks must each have a level that one of the cited sections states.
LEVEL_STATED = {"imap", "nntp"}
IMAP_BASE_RFCS = {"rfc3501", "rfc9051", "rfc2595"}  # IMAP itself and its STARTTLS


def catalogues(protocol: str) -> dict[str, dict]:
    root = importlib.resources.files("scenarios") / protocol / "requirements"
    return {doc["rfc"]: doc for doc in (tomllib.loads(f.read_text(encoding="utf-8"))
                                        for f in root.iterdir() if f.name.endswith(".toml"))}


def checks_of(protocol: str):
    return [c for c in all_checks() if c.protocol == protocol]


def test_the_table_names_only_protocols_with_catalogues():
    assert set(CATALOGUED) | set(UNCATALOGUED_ALLOWED) | LEVEL_STATED <= set(PROTOCOLS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_requirement_is_complete_and_its_id_unique(protocol):
    docs = catalogues(protocol)
    assert docs, protocol
    if protocol in CATALOGUED:
        how, rfcs = CATALOGUED[protocol]
        assert set(docs) == rfcs if how == "==" else set(docs) >= rfcs
    seen = set()
    for rfc, doc in docs.items():
        assert doc["requirement"], rfc
        for req in doc["requirement"]:
            assert FIELDS <= set(req), req
            assert req["level"] in LEVELS and req["id"].startswith(rfc + ".") and req["id"] not in seen, req
            assert req["section"] and req["statement"].strip() and isinstance(req["testable"], bool), req
            seen.add(req["id"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_check_cites_catalogued_sections(protocol):
    docs = catalogues(protocol)
    checks = checks_of(protocol)
    assert checks
    for check in checks:
        levels = set()
        for ref in check.rfc:
            rfc, _, section = ref.partition("#")
            assert section, f"{check.id} cites {ref} without a section"
            if rfc not in docs:
                allowed = UNCATALOGUED_ALLOWED.get(protocol)
                assert allowed is None or rfc in allowed, f"{check.id} cites {rfc}, which has no catalogue"
                continue
            entries = [r for r in docs[rfc]["requirement"] if r["section"] == section]
            assert entries, f"{check.id} cites {ref}, not in {rfc}.toml"
            levels |= {Level.parse(r["level"]) for r in entries}
        if protocol in LEVEL_STATED and levels:
            assert check.level in levels, f"{check.id} is {check.level.value}, but its sections state {levels}"


# --- particular to one protocol --------------------------------------------------------------------------------

def test_imap_extension_checks_are_tagged_and_need_their_capability():
    for check in checks_of("imap"):
        rfcs = {ref.partition("#")[0] for ref in check.rfc}
        extension = "extension" in check.tags
        if not rfcs & IMAP_BASE_RFCS:
            assert extension, f"{check.id} cites only extension RFCs but is not tagged extension"
        if extension:
            assert any(n.isupper() or "=" in n or "+" in n for n in check.needs), \
                f"{check.id} is an extension check but needs no capability"


def test_imap_suite_has_at_least_150_checks_with_base_and_extension_ones():
    checks = checks_of("imap")
    assert len(checks) >= 150
    assert sum("extension" in c.tags for c in checks) >= 30


def test_nntp_suite_has_at_least_50_checks_and_a_property_model():
    checks = checks_of("nntp")
    assert len(checks) >= 50
    assert any(c.id == "nntp.model.numbering" and "property" in c.tags for c in checks)
    assert {c.rfc[0].partition("#")[0] for c in checks} >= CATALOGUED["nntp"][1]


def test_webdav_rfc4918_checks_cover_every_method():
    """The RFC 4918 part of the suite has checks for each method and header it defines."""
    ids = {c.id for c in checks_of("webdav") if not c.id.startswith("webdav.exchange")}
    for group in ("options", "propfind", "proppatch", "mkcol", "put", "get", "head", "delete", "copy", "move", "lock",
                  "unlock", "if", "http", "auth", "path"):
        assert any(i.startswith(f"webdav.{group}.") for i in ids), group
    assert len(ids) >= 80
