"""The IMAP requirement catalogues parse; every IMAP check cites sections its RFCs' catalogues list, at a level one of
them states; and checks of extensions are marked as such (tag `extension`, the capability in `needs`)."""
from __future__ import annotations

import importlib.resources
import tomllib

from conformance.model import Level
from conformance.registry import all_checks

FIELDS = {"id", "section", "level", "keyword", "statement", "testable"}
LEVELS = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"}
BASE_RFCS = {"rfc3501", "rfc9051", "rfc2595"}  # IMAP itself and its STARTTLS


def catalogues() -> dict[str, dict]:
    root = importlib.resources.files("scenarios") / "imap" / "requirements"
    return {doc["rfc"]: doc for doc in (tomllib.loads(f.read_text(encoding="utf-8"))
                                        for f in root.iterdir() if f.name.endswith(".toml"))}


def imap_checks():
    return [c for c in all_checks() if c.protocol == "imap"]


def test_every_requirement_is_complete_and_its_id_unique():
    docs = catalogues()
    assert {"rfc3501", "rfc9051", "rfc2177", "rfc4315", "rfc6851", "rfc7888", "rfc2342", "rfc2971", "rfc5161",
            "rfc3691", "rfc3348", "rfc6154", "rfc7162", "rfc5256", "rfc3516", "rfc2595", "rfc4959"} <= set(docs)
    seen = set()
    for rfc, doc in docs.items():
        for req in doc["requirement"]:
            assert FIELDS <= set(req), req
            assert req["level"] in LEVELS and req["id"].startswith(rfc + ".") and req["id"] not in seen, req
            seen.add(req["id"])


def test_every_imap_check_cites_catalogued_sections_at_a_stated_level():
    docs = catalogues()
    for check in imap_checks():
        levels = set()
        for ref in check.rfc:
            rfc, _, section = ref.partition("#")
            assert rfc in docs, f"{check.id} cites {rfc}, which has no catalogue"
            entries = [r for r in docs[rfc]["requirement"] if r["section"] == section]
            assert entries, f"{check.id} cites {ref}, not in {rfc}.toml"
            levels |= {Level.parse(r["level"]) for r in entries}
        assert check.level in levels, f"{check.id} is {check.level.value}, but its sections state {levels}"


def test_extension_checks_are_tagged_and_need_their_capability():
    for check in imap_checks():
        rfcs = {ref.partition("#")[0] for ref in check.rfc}
        extension = "extension" in check.tags
        if not rfcs & BASE_RFCS:
            assert extension, f"{check.id} cites only extension RFCs but is not tagged extension"
        if extension:
            assert any(n.isupper() or "=" in n or "+" in n for n in check.needs), \
                f"{check.id} is an extension check but needs no capability"


def test_the_suite_has_at_least_150_checks_with_base_and_extension_ones():
    checks = imap_checks()
    assert len(checks) >= 150
    assert sum("extension" in c.tags for c in checks) >= 30
