"""The POP3 requirement catalogues parse, and every POP3 check cites a section the catalogue of its RFC lists."""
from __future__ import annotations

import importlib.resources
import tomllib

from conformance.registry import all_checks

FIELDS = {"id", "section", "level", "keyword", "statement", "testable"}
LEVELS = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"}


def catalogues() -> dict[str, dict]:
    root = importlib.resources.files("scenarios") / "pop3" / "requirements"
    return {doc["rfc"]: doc for doc in (tomllib.loads(f.read_text(encoding="utf-8"))
                                        for f in root.iterdir() if f.name.endswith(".toml"))}


def test_every_requirement_is_complete_and_its_id_unique():
    docs = catalogues()
    assert set(docs) == {"rfc1939", "rfc2449", "rfc2595", "rfc5034"}
    seen = set()
    for rfc, doc in docs.items():
        for req in doc["requirement"]:
            assert FIELDS <= set(req), req
            assert req["level"] in LEVELS and req["id"].startswith(rfc + ".") and req["id"] not in seen, req
            seen.add(req["id"])


def test_every_pop3_check_cites_a_catalogued_section():
    sections = {rfc: {r["section"] for r in doc["requirement"]} for rfc, doc in catalogues().items()}
    for check in (c for c in all_checks() if c.protocol == "pop3"):
        for ref in check.rfc:
            rfc, _, section = ref.partition("#")
            assert rfc not in sections or section in sections[rfc], f"{check.id} cites {ref}, not in {rfc}.toml"
