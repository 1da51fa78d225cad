"""junit.xml, report.html and results.json, rendered from a real run against a fake SMTP server."""
from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from conformance.cli import main
from reports import html, junit

from fakes import FakeServer, SmtpFake

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[1]
JUNIT_XSD = Path(__file__).parent / "data" / "junit-10.xsd"
RESULTS_SCHEMA = ROOT / "reports" / "schema" / "results-v1.json"

# One check per verdict, against a server whose replies carry control characters, non-UTF-8 octets and HTML.
EXPECTED = {
    "smtp.greeting.code-220": "pass",
    "smtp.command.unknown-not-2xx": "pass",
    "smtp.noop.reply-250": "fail",
    "smtp.command.unknown-500": "warn",
    "smtp.bdat.single-chunk": "skip",
    "smtp.noop.keeps-transaction": "error",
}
NASTY_NOOP = b"500 bad\x01\x08\x1b[0m \xff\xfe noop\r\n"


def run_cli(fake: SmtpFake, out: Path, checks, *extra: str) -> int:
    with FakeServer(fake) as server:
        argv = ["run", server.url(rcpt="postmaster@fake.example"), "--quiet", "--out", str(out), "--seed", "7", *extra]
        for check in checks:
            argv += ["--select", check]
        return main(argv)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    fake = SmtpFake({"NOOP": NASTY_NOOP, "MAIL": "451 4.3.0 try later", "*": "502 5.5.1 not implemented"},
                    greeting="220 fake.example <script>alert(1)</script> ESMTP")
    assert run_cli(fake, out, EXPECTED) == 1
    return out


@pytest.fixture(scope="module")
def doc(run_dir) -> dict:
    return json.loads((run_dir / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def test_the_run_produced_one_result_per_verdict(doc):
    assert {r["id"]: r["verdict"] for r in doc["results"]} == EXPECTED


# --- JUnit ---------------------------------------------------------------------------------------------


def test_junit_validates_against_the_jenkins_schema(run_dir, schema):
    schema.validate(str(run_dir / "junit.xml"))


def test_junit_has_one_testsuite_per_protocol_and_one_testcase_per_check(doc):
    two = copy.deepcopy(doc)
    extra = copy.deepcopy(two["results"][0]) | {"protocol": "pop3", "id": "pop3.greeting.ok"}
    two["results"].append(extra)
    root = ET.fromstring(junit.render(two))
    assert [s.get("name") for s in root.findall("testsuite")] == ["pop3", "smtp"]
    smtp = root.find("testsuite[@name='smtp']")
    assert sorted(c.get("name") for c in smtp.findall("testcase")) == sorted(EXPECTED)
    assert [c.get("name") for c in root.find("testsuite[@name='pop3']")] == ["pop3.greeting.ok"]


def test_junit_counts_match_the_verdicts(run_dir):
    root = ET.parse(run_dir / "junit.xml").getroot()
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("6", "1", "1", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "1", "1")


def test_junit_element_per_verdict(run_dir):
    cases = {c.get("name"): c for c in ET.parse(run_dir / "junit.xml").getroot().iter("testcase")}
    markers = {name: [child.tag for child in case if child.tag != "system-out"] for name, case in cases.items()}
    assert markers == {cid: {"fail": ["failure"], "error": ["error"], "skip": ["skipped"]}.get(v, [])
                       for cid, v in EXPECTED.items()}
    assert "warning:" in cases["smtp.command.unknown-500"].find("system-out").text
    assert "rfc5321#4.1.1.9" in cases["smtp.noop.reply-250"].find("failure").get("message")


def test_junit_strict_run_reports_warn_as_failure(doc):
    strict = copy.deepcopy(doc)
    strict["run"]["options"]["strict"] = True
    cases = {c.get("name"): c for c in ET.fromstring(junit.render(strict)).iter("testcase")}
    assert cases["smtp.command.unknown-500"].find("failure").get("type") == "warn"


def test_junit_control_characters_from_the_transcript_do_not_break_the_xml(run_dir, doc):
    raw = (run_dir / "junit.xml").read_text(encoding="utf-8")
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", raw)
    case = next(c for c in ET.fromstring(raw).iter("testcase") if c.get("name") == "smtp.noop.reply-250")
    assert "bad" in case.find("failure").get("message")
    assert "\\xff\\xfe noop" in case.find("system-out").text  # non-UTF-8 octets shown as escapes


def test_junit_survives_every_c0_control_character(doc, schema):
    nasty = copy.deepcopy(doc)
    every = "".join(map(chr, range(32))) + "\x7f"
    for r in nasty["results"]:
        r["reason"] += every
        r["observed"] += every
        r["transcript"].append({"t": 0.0, "session": "a", "dir": "s", "text": every})
    root = ET.fromstring(junit.render(nasty))
    root.attrib.pop("skipped", None)
    schema.validate(root)


def test_junit_is_well_formed_when_a_server_sends_xml_noncharacters(tmp_path):
    fake = SmtpFake({"NOOP": b"250 ok \xef\xbf\xbe\xef\xbf\xbf\r\n"})
    assert run_cli(fake, tmp_path, ["smtp.noop.reply-250"]) == 0
    ET.parse(tmp_path / "junit.xml")


# --- HTML (the report's structure is tested in tests/test_html_report.py) -------------------------------


def test_html_report_names_every_check_and_every_verdict(run_dir):
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    for check_id, verdict in EXPECTED.items():
        assert f'class="v {verdict}" href="#r0-{check_id}"' in page


def test_html_report_is_self_contained(run_dir):
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"@import|url\(", page, re.I)
    urls = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", page, re.I)
    external = [u for u in urls if not u.startswith("#")]
    assert external, "expected RFC links"
    assert all(u.startswith("https://www.rfc-editor.org/") for u in external), external


def test_html_report_escapes_server_text_and_shows_raw_octets_as_escapes(run_dir):
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\xff\\xfe noop" in page


def test_report_command_renders_the_same_outputs_from_results_json(run_dir, tmp_path):
    out_html, out_xml = tmp_path / "r.html", tmp_path / "j.xml"
    assert main(["report", str(run_dir / "results.json"), "-o", str(out_html), "--junit", str(out_xml)]) == 0
    assert out_html.read_text(encoding="utf-8") == (run_dir / "report.html").read_text(encoding="utf-8")
    assert out_xml.read_text(encoding="utf-8") == (run_dir / "junit.xml").read_text(encoding="utf-8")


# --- results.json ------------------------------------------------------------------------------------------


def test_results_json_validates_against_its_published_schema(doc):
    import jsonschema

    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
