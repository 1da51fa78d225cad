"""The WebDAV requirement catalogue parses, and every WebDAV check that cites RFC 4918 cites a section it lists."""
from __future__ import annotations

import importlib.resources
import tomllib

from conformance.registry import all_checks

FIELDS = {"id", "section", "level", "keyword", "statement", "testable"}
LEVELS = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"}


def catalogues() -> dict[str, dict]:
    root = importlib.resources.files("scenarios") / "webdav" / "requirements"
    return {doc["rfc"]: doc for doc in (tomllib.loads(f.read_text(encoding="utf-8"))
                                        for f in root.iterdir() if f.name.endswith(".toml"))}


def test_every_requirement_is_complete_and_its_id_unique():
    docs = catalogues()
    assert "rfc4918" in docs
    seen = set()
    for rfc, doc in docs.items():
        assert doc["requirement"], rfc
        for req in doc["requirement"]:
            assert FIELDS <= set(req), req
            assert req["level"] in LEVELS and req["id"].startswith(rfc + ".") and req["id"] not in seen, req
            assert isinstance(req["testable"], bool), req
            seen.add(req["id"])


def test_every_webdav_check_cites_a_catalogued_section():
    sections = {rfc: {r["section"] for r in doc["requirement"]} for rfc, doc in catalogues().items()}
    checks = [c for c in all_checks() if c.protocol == "webdav"]
    assert checks
    for check in checks:
        for ref in check.rfc:
            rfc, _, section = ref.partition("#")
            assert rfc not in sections or section in sections[rfc], f"{check.id} cites {ref}, not in {rfc}.toml"


def test_rfc4918_checks_cover_every_method():
    """The RFC 4918 part of the suite has checks for each method and header it defines."""
    ids = {c.id for c in all_checks() if c.protocol == "webdav" and not c.id.startswith("webdav.exchange")}
    for group in ("options", "propfind", "proppatch", "mkcol", "put", "get", "head", "delete", "copy", "move", "lock",
                  "unlock", "if", "http", "auth", "path"):
        assert any(i.startswith(f"webdav.{group}.") for i in ids), group
    assert len(ids) >= 80
