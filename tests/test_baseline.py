"""Baselines: comparing a run with expected verdicts, and the baseline file itself."""
from __future__ import annotations

import pytest

from conformance import baseline
from conformance.errors import UsageError


def results(**verdicts: str) -> list[dict]:
    return [{"id": cid.replace("_", "."), "verdict": v, "reason": f"because {v}"} for cid, v in verdicts.items()]


def ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


@pytest.mark.parametrize("verdict", ["pass", "fail", "warn", "skip", "error"])
def test_same_verdict_is_as_expected(verdict):
    cmp = baseline.compare({"smtp.a": verdict}, results(smtp_a=verdict))
    assert cmp.as_expected == 1
    assert not (cmp.regressions or cmp.newly_passing or cmp.new or cmp.not_run)


@pytest.mark.parametrize("was", ["fail", "warn", "skip", "error"])
def test_now_passing_is_newly_passing_not_a_regression(was):
    cmp = baseline.compare({"smtp.a": was}, results(smtp_a="pass"))
    assert ids(cmp.newly_passing) == ["smtp.a"]
    assert cmp.newly_passing[0] | {"reason": ""} == {"id": "smtp.a", "expected": was, "actual": "pass", "reason": ""}
    assert cmp.regressions == []


@pytest.mark.parametrize("was, now", [("pass", "skip"), ("pass", "fail"), ("warn", "fail"), ("fail", "error"),
                                      ("skip", "fail"), ("error", "warn")])
def test_any_other_change_is_a_regression(was, now):
    cmp = baseline.compare({"smtp.a": was}, results(smtp_a=now))
    assert cmp.regressions == [{"id": "smtp.a", "expected": was, "actual": now, "reason": f"because {now}"}]
    assert cmp.as_expected == 0


@pytest.mark.parametrize("verdict", ["fail", "warn", "error"])
def test_new_check_that_does_not_pass_is_a_regression(verdict):
    cmp = baseline.compare({}, results(smtp_new=verdict))
    assert cmp.regressions == [{"id": "smtp.new", "expected": "", "actual": verdict, "reason": f"because {verdict}"}]


@pytest.mark.parametrize("verdict", ["pass", "skip"])
def test_new_check_that_passes_or_skips_is_listed_as_new(verdict):
    cmp = baseline.compare({}, results(smtp_new=verdict))
    assert ids(cmp.new) == ["smtp.new"]
    assert cmp.regressions == []


def test_checks_in_the_baseline_that_did_not_run_are_listed_sorted():
    cmp = baseline.compare({"smtp.z": "pass", "smtp.a": "fail", "smtp.run": "pass"}, results(smtp_run="pass"))
    assert cmp.not_run == ["smtp.a", "smtp.z"]
    assert cmp.regressions == []


def test_comparison_serialises_every_list():
    cmp = baseline.compare({"smtp.a": "fail", "smtp.gone": "pass"},
                           results(smtp_a="pass", smtp_b="error", smtp_c="skip"))
    assert cmp.to_json() == {
        "regressions": [{"id": "smtp.b", "expected": "", "actual": "error", "reason": "because error"}],
        "newly_passing": [{"id": "smtp.a", "expected": "fail", "actual": "pass", "reason": "because pass"}],
        "new": [{"id": "smtp.c", "expected": "", "actual": "skip", "reason": "because skip"}],
        "not_run": ["smtp.gone"], "as_expected": 0}


# --- the file ---------------------------------------------------------------------------------------------


def test_render_then_load_round_trips(tmp_path):
    rs = results(smtp_b="fail", smtp_a="pass", smtp_c="warn", smtp_d="skip", smtp_e="error")
    rs[0]["reason"] = 'a reason with "quotes", a # hash and\nnewlines'
    path = tmp_path / "baseline.toml"
    path.write_text(baseline.render(rs, 'target "quoted" \\ name'), encoding="utf-8")
    assert baseline.load(path) == {r["id"]: r["verdict"] for r in rs}
    text = path.read_text(encoding="utf-8")
    assert text.index('"smtp.a"') < text.index('"smtp.b"')  # sorted by id, so diffs stay small


def test_render_then_load_round_trips_reasons_with_control_characters(tmp_path):
    rs = results(smtp_a="fail")
    rs[0]["reason"] = "line 14: S: 250, but got 500 bad\x00command\x07\x1b[0m"
    path = tmp_path / "baseline.toml"
    path.write_text(baseline.render(rs, "t"), encoding="utf-8")
    assert baseline.load(path) == {"smtp.a": "fail"}


def load_error(tmp_path, text: str | None) -> str:
    path = tmp_path / "baseline.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        baseline.load(path)
    assert info.value.exit_code == 2
    return str(info.value)


def test_load_missing_file_says_how_to_create_it(tmp_path):
    assert "does not exist; create it with --write-baseline" in load_error(tmp_path, None)


def test_load_bad_toml_says_to_regenerate(tmp_path):
    message = load_error(tmp_path, 'schema = "wireproof.baseline/1"\n[verdicts\n')
    assert "not valid TOML" in message and "--write-baseline" in message


@pytest.mark.parametrize("text", ['[verdicts]\n"smtp.a" = "pass"\n', 'schema = "wireproof.baseline/2"\n'])
def test_load_wrong_or_missing_schema_says_to_regenerate(tmp_path, text):
    message = load_error(tmp_path, text)
    assert 'lacks schema = "wireproof.baseline/1"' in message and "--write-baseline" in message


def test_load_unknown_verdict_names_the_check_and_the_valid_verdicts(tmp_path):
    message = load_error(tmp_path, 'schema = "wireproof.baseline/1"\n[verdicts]\n"smtp.a" = "passed"\n')
    assert "smtp.a = 'passed'" in message
    assert "error, fail, pass, skip, warn" in message
