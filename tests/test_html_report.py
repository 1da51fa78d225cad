"""report.html: the matrix of checks × targets, the failure view with the exchange the verdict rests on, the
baseline diff (regressions first) and the untested requirements — from results.json documents."""
from __future__ import annotations

import copy
import re

from reports import html
from reports.view import build, ref_label, ref_link


def result(check_id: str, verdict: str, *, rfc=("rfc1939#5",), level="MUST", events=None, observations=None,
           target="alpha", **extra) -> dict:
    return {"id": check_id, "protocol": check_id.split(".")[0], "target": target, "verdict": verdict,
            "level": level, "rfc": list(rfc), "requirement": f"requirement of {check_id}", "kind": "script",
            "reason": f"reason of {check_id}", "duration_s": 0.01, "transcript": events or [],
            "observations": observations or [], "reproduce": f"wireproof run sim --select {check_id}", **extra}


def ev(t, direction, text):
    return {"t": t, "session": "a", "dir": direction, "text": text} if direction in "cs" else \
        {"t": t, "session": "a", "dir": direction, "note": text}


NOOP_EVENTS = [ev(0.0, "*", "connected"), ev(0.001, "s", "+OK ready\r\n"), ev(0.002, "#", "why NOOP"),
               ev(0.003, "c", "NOOP\r\n"), ev(0.004, "s", "-ERR no\r\n"), ev(0.005, "c", "QUIT\r\n"),
               ev(0.006, "s", "+OK bye\r\n")]


def doc(target: str, results: list[dict], **extra) -> dict:
    return {"schema": "wireproof.results/1", "tool": {"name": "wireproof", "version": "0.1.0"},
            "run": {"started": "2026-11-27T10:00:00+00:00", "duration_s": 1.0, "seed": 7, "argv": ["wireproof", "run"]},
            "targets": [{"name": target, "software": f"{target} 1.0", "endpoints": {"pop3": "pop3://127.0.0.1:110"}}],
            "summary": {}, "results": [dict(r, target=target) for r in results], **extra}


def failing_noop() -> dict:
    return result("pop3.noop.ok", "fail", events=NOOP_EVENTS,
                  observations=[{"what": "greeting", "held": True, "expected": "+OK", "observed": "+OK ready",
                                 "event": 2},
                                {"what": "NOOP is answered +OK", "held": False, "expected": "+OK",
                                 "observed": "-ERR no", "event": 5}],
                  expected="+OK", observed="-ERR no")


def test_the_failure_view_marks_the_request_and_answer_the_verdict_rests_on():
    report = build([doc("alpha", [failing_noop()])])
    (detail,) = report.details
    hot = [(line.who, line.text) for line in detail.lines if line.hot]
    assert hot == [("C", "NOOP"), ("S", "-ERR no")]
    assert detail.failed["what"] == "NOOP is answered +OK"
    page = html.render([doc("alpha", [failing_noop()])])
    section = page[page.index('id="r0-pop3.noop.ok"'):]
    section = section[:section.index("</section>")]
    assert "requirement of pop3.noop.ok" in section and "wireproof run sim --select pop3.noop.ok" in section
    assert "<pre>+OK</pre>" in section and "<pre>-ERR no</pre>" in section
    assert section.count('class="tc hot"') == 1 and section.count('class="ts hot"') == 1
    assert 'class="tk"' in section and "why NOOP" in section  # the script's comment annotates the transcript


def test_a_passing_check_has_no_marked_exchange():
    report = build([doc("alpha", [result("pop3.noop.ok", "pass", events=NOOP_EVENTS)])])
    assert not any(line.hot for line in report.details[0].lines)


def test_an_error_without_assertions_marks_the_last_request():
    report = build([doc("alpha", [result("pop3.noop.ok", "error", events=NOOP_EVENTS[:5])])])
    assert [line.text for line in report.details[0].lines if line.hot] == ["NOOP", "-ERR no"]


def test_the_matrix_has_a_column_per_target_and_says_where_a_check_did_not_run():
    a = doc("alpha", [failing_noop(), result("pop3.stat.format", "pass", rfc=("rfc1939#5",))])
    b = doc("beta", [result("pop3.noop.ok", "pass")])
    report = build([a, b])
    assert [c.target for c in report.columns] == ["alpha", "beta"]
    rows = {row.id: row for g in report.groups for row in g.rows}
    assert [c.verdict for c in rows["pop3.noop.ok"].cells] == ["fail", "pass"]
    assert rows["pop3.stat.format"].cells[1] is None
    assert rows["pop3.noop.ok"].verdicts == "fail pass"  # the verdict filter matches a row by any of its cells
    page = html.render([a, b])
    assert 'href="#r0-pop3.noop.ok"' in page and 'href="#r1-pop3.noop.ok"' in page and "not run" in page


def test_checks_are_grouped_by_protocol_and_rfc_section_in_section_order():
    report = build([doc("alpha", [result("pop3.a.x", "pass", rfc=("rfc1939#10",)),
                                  result("pop3.b.x", "pass", rfc=("rfc1939#5",)),
                                  result("smtp.c.x", "pass", rfc=("rfc5321#4.1.1.1",))])])
    assert [(g.protocol, g.title) for g in report.groups] == [
        ("pop3", "RFC 1939 §5"), ("pop3", "RFC 1939 §10"), ("smtp", "RFC 5321 §4.1")]


def test_summary_counts_verdicts_and_separates_must_from_should():
    report = build([doc("alpha", [failing_noop(), result("pop3.x.y", "warn", level="SHOULD"),
                                  result("pop3.x.z", "pass", level="SHOULD")])])
    (col, (tally,)), = report.summaries
    assert tally.counts["fail"] == 1 and tally.counts["warn"] == 1 and tally.total == 3
    assert tally.by_level["MUST"]["fail"] == 1 and tally.by_level["SHOULD"] == {
        "fail": 0, "error": 0, "warn": 1, "skip": 0, "pass": 1}


def test_the_baseline_diff_lists_regressions_before_newly_passing():
    d = doc("alpha", [failing_noop(), result("pop3.stat.format", "pass")],
            baseline={"file": "tests/baselines/x.toml", "as_expected": 0,
                      "regressions": [{"id": "pop3.noop.ok", "expected": "pass", "actual": "fail"}],
                      "newly_passing": [{"id": "pop3.stat.format", "expected": "fail"}], "new": []})
    page = html.render([d])
    assert page.index('class="regressions"') < page.index('class="newly-passing"')
    assert re.search(r'<a href="#r0-pop3.noop.ok">pop3.noop.ok</a></td>\s*<td>pass</td>', page)


def test_untested_requirements_of_the_protocols_run_are_listed():
    report = build([doc("alpha", [result("pop3.noop.ok", "pass", rfc=("rfc1939#5",))])])
    (cov,) = report.coverage
    assert cov.protocol == "pop3" and cov.n_covered > 0 and cov.untested
    assert all(q.section != "5" or q.rfc != "rfc1939" for q in cov.untested)
    assert any(q.rfc == "rfc2449" for q in cov.untested)  # no check of this run cites RFC 2449
    page = html.render([doc("alpha", [result("pop3.noop.ok", "pass", rfc=("rfc1939#5",))])])
    assert 'id="untested-pop3"' in page
    covered = page[page.index('id="covered-pop3"'):]
    assert "<code>pop3.noop.ok</code>" in covered[:covered.index("</details>")]  # which check covers what


def test_references_link_to_rfc_sections_and_open_specifications():
    assert ref_link("rfc5321#4.5.2") == "https://www.rfc-editor.org/rfc/rfc5321#section-4.5.2"
    assert ref_label("rfc5321#4.5.2") == "RFC 5321 §4.5.2"
    assert ref_link("rfc5321#appendix-C") == "https://www.rfc-editor.org/rfc/rfc5321#appendix-C"
    assert ref_link("ms-xwdsearch#2.2.1").startswith("https://learn.microsoft.com/")
    assert ref_label("ms-xwdsearch") == "[MS-XWDSEARCH]"
    assert ref_link("ms-wdvse#3.2.5.1").startswith("https://learn.microsoft.com/en-us/openspecs/windows_protocols/")
    assert ref_link("ms-exchsdk#search") == "" and ref_label("ms-exchsdk#search") == "[Exchange 2003 SDK] §search"
    page = html.render([doc("alpha", [result("webdav.x.y", "pass", rfc=("ms-exchsdk#search",))])])
    assert "<span>[Exchange 2003 SDK] §search</span>" in page  # no link to an address that may not exist


def test_server_text_in_every_field_is_escaped():
    nasty = failing_noop()
    nasty["observed"] = "<img src=x onerror=alert(1)>"
    nasty["transcript"] = copy.deepcopy(NOOP_EVENTS) + [ev(0.007, "s", "<b>bold</b>\r\n")]
    page = html.render([doc("alpha", [nasty])])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page
