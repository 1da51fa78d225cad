"""The HTML report in a real browser (Debian's Chromium under Playwright): the matrix of a simulator run and
a real peer (aiosmtpd), filters that hide and show rows, a failing check opening its transcript, and the
baseline diff. Leaves a screenshot of the failure view in build/screenshots/ for people to look at."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.cli import main

pytestmark = pytest.mark.timeout(180)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
CHECKS = ["smtp.auth.in-transaction-503", "smtp.command.bare-lf-not-line-end", "smtp.noop.reply-250",
          "smtp.command.help", "smtp.rset.clears-transaction", "smtp.greeting.code-220"]
FAILING = "smtp.command.bare-lf-not-line-end"  # aiosmtpd executes a bare-LF line (its baseline says so)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is part of the [test] extra")
pytest.importorskip("aiosmtpd", reason="aiosmtpd is part of the [test] extra")
browser_missing = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                     reason="Debian's chromium is not installed (python -m conformance.peers install)")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    selection = sum((["--select", c] for c in CHECKS), [])
    assert main(["run", "sim", "--quiet", "--out", str(tmp / "sim"), "--seed", "3", *selection]) == 0
    baseline = tmp / "expect-all-pass.toml"  # a baseline the peer cannot meet: every check expected to pass
    baseline.write_text('schema = "wireproof.baseline/1"\ntarget = "aiosmtpd"\n\n[verdicts]\n'
                        + "".join(f'"{c}" = "pass"\n' for c in CHECKS), encoding="utf-8")
    assert main(["run", "peer:aiosmtpd", "--quiet", "--out", str(tmp / "peer"), "--seed", "3",
                 "--baseline", str(baseline), *selection]) == 1
    out = tmp / "report.html"
    assert main(["report", str(tmp / "sim" / "results.json"), str(tmp / "peer" / "results.json"), "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def page(report):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(report.as_uri())
        yield pg
        browser.close()


def detail_selector(column: int, check_id: str) -> str:
    return "section#r%d-%s" % (column, check_id.replace(".", "\\."))  # dots in an id need escaping in CSS


def visible_rows(page) -> list[str]:
    return page.eval_on_selector_all("tr.check:not([hidden]) td:first-child code", "els => els.map(e => e.textContent)")


@browser_missing
def test_the_matrix_shows_every_check_for_both_targets(page):
    assert page.locator("#checks thead th").all_text_contents()[-2:] == ["wireproof-simulator", "aiosmtpd"]
    assert sorted(visible_rows(page)) == sorted(CHECKS)
    assert page.locator("#shown").text_content() == f"{len(CHECKS)} of {len(CHECKS)} checks shown"


@browser_missing
def test_filters_by_verdict_level_protocol_and_text(page):
    page.uncheck("input[name=verdict][value=pass]")
    only_bad = visible_rows(page)
    assert FAILING in only_bad and "smtp.greeting.code-220" not in only_bad
    page.check("input[name=verdict][value=pass]")
    page.uncheck("input[name=level][value=MUST]")
    assert visible_rows(page) == ["smtp.command.help"]  # the one SHOULD-level check of the selection
    page.check("input[name=level][value=MUST]")
    page.fill("input[name=text]", "bare-lf")
    assert visible_rows(page) == [FAILING]
    page.fill("input[name=text]", "")
    page.select_option("select[name=protocol]", "smtp")
    assert len(visible_rows(page)) == len(CHECKS)


@browser_missing
def test_a_failing_check_opens_its_transcript_with_the_failing_exchange_marked(page):
    detail = page.locator(detail_selector(1, FAILING))
    assert not detail.is_visible()
    page.click(f"tr.check:has(code:text-is('{FAILING}')) a.v.fail")
    assert detail.is_visible()
    assert "Requirement:" in detail.inner_text() and "Reproduce:" in detail.inner_text()
    assert detail.locator(".transcript .hot").count() >= 2  # the request and the answer judged
    assert detail.locator(".transcript .tc").count() > 0 and detail.locator(".transcript .ts").count() > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    detail.screenshot(path=str(SHOTS / "report-failure-view.png"))
    assert (SHOTS / "report-failure-view.png").stat().st_size > 1000


@browser_missing
def test_the_baseline_diff_lists_the_peers_regressions(page):
    regressions = page.locator("table.regressions").inner_text()
    assert FAILING in regressions
    page.click(f"table.regressions a:text-is('{FAILING}')")
    assert page.locator(detail_selector(1, FAILING)).is_visible()


@browser_missing
def test_the_untested_requirements_open_from_the_coverage_section(page):
    untested = page.locator("details#untested-smtp")
    assert untested.count() == 1 and not untested.locator("table").is_visible()
    untested.locator("summary").click()
    assert untested.locator("table").is_visible()
    assert untested.locator("tr").count() > 10  # six checks leave most of RFC 5321 untested
