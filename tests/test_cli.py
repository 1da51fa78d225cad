"""`wireproof` end to end, in process, against fake SMTP servers: exit codes, usage errors, outputs."""
from __future__ import annotations

import json
import re

import pytest

from conformance import baseline, registry
from conformance.cli import main
from conformance.errors import UsageError
from conformance.target import parse_url

from fakes import FakeServer, SmtpFake, free_port

pytestmark = pytest.mark.timeout(60)

PASSING = ["smtp.greeting.code-220", "smtp.noop.reply-250", "smtp.quit.reply-221"]


def run(fake: SmtpFake, checks: list[str], *extra: str) -> int:
    with FakeServer(fake) as server:
        argv = ["run", server.url(), "--quiet", "--timeout", "5", "--read-timeout", "2", *extra]
        for check in checks:
            argv += ["--select", check]
        return main(argv)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("wireproof: ")
    return lines[0]


# --- exit codes ---------------------------------------------------------------------------------------


def test_all_checks_pass_exits_0():
    assert run(SmtpFake(), PASSING) == 0


def test_a_failed_check_exits_1(capsys):
    assert run(SmtpFake({"NOOP": "500 what"}), PASSING) == 1
    assert "fail  smtp.noop.reply-250" in capsys.readouterr().out


def test_an_error_verdict_exits_1(capsys):
    assert run(SmtpFake({"EHLO": "554 not you"}), ["smtp.noop.reply-250"]) == 1
    assert "error smtp.noop.reply-250" in capsys.readouterr().out


def test_a_warning_exits_0_unless_strict():
    fake = SmtpFake({"*": "502 5.5.1 not implemented"})  # SHOULD be 500 for an unknown command
    assert run(fake, ["smtp.command.unknown-500"]) == 0
    assert run(fake, ["smtp.command.unknown-500"], "--strict") == 1


def write_baseline(tmp_path, verdicts: dict[str, str]):
    path = tmp_path / "baseline.toml"
    path.write_text(baseline.render([{"id": k, "verdict": v} for k, v in verdicts.items()], "fake"), encoding="utf-8")
    return str(path)


def test_baseline_that_expects_the_failure_exits_0(tmp_path, capsys):
    expected = write_baseline(tmp_path, {"smtp.greeting.code-220": "pass", "smtp.noop.reply-250": "fail"})
    assert run(SmtpFake({"NOOP": "500 what"}), PASSING[:2], "--baseline", expected) == 0
    assert "0 regressions" in capsys.readouterr().out


def test_baseline_with_a_regression_exits_1(tmp_path, capsys):
    expected = write_baseline(tmp_path, {"smtp.greeting.code-220": "pass", "smtp.noop.reply-250": "pass"})
    assert run(SmtpFake({"NOOP": "500 what"}), PASSING[:2], "--baseline", expected) == 1
    assert "regression smtp.noop.reply-250: expected pass, got fail" in capsys.readouterr().out


@pytest.fixture
def crashing_check():
    registry.all_checks.cache_clear()

    @registry.probe("smtp.selftest.crashes", rfc="rfc5321#4.1.1.9", level="MUST",
                    requirement="A check whose own code is broken.")
    async def crashes(ctx):
        raise RuntimeError("a bug in the check itself")

    registry.all_checks.cache_clear()
    yield "smtp.selftest.crashes"
    registry._REGISTERED.pop("smtp.selftest.crashes", None)
    registry.all_checks.cache_clear()


def test_a_check_that_crashes_exits_3(crashing_check, tmp_path, capsys):
    assert run(SmtpFake(), [crashing_check, "smtp.noop.reply-250"], "--out", str(tmp_path)) == 3
    (r,) = [r for r in json.loads((tmp_path / "results.json").read_text())["results"] if r["id"] == crashing_check]
    assert r["verdict"] == "error" and r["harness_bug"] is True
    assert "RuntimeError: a bug in the check itself" in r["reason"]


def test_a_crash_exits_3_even_when_the_baseline_expects_an_error(crashing_check, tmp_path):
    expected = write_baseline(tmp_path, {crashing_check: "error"})
    assert run(SmtpFake(), [crashing_check], "--baseline", expected) == 3


# --- usage errors: exit 2, one line on stderr ---------------------------------------------------------------


@pytest.fixture
def profile_without_endpoints(tmp_path):
    path = tmp_path / "profile.toml"
    path.write_text('name = "no endpoints"\n', encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("args, words", [
    (["{url}", "--bogus"], "unrecognized arguments: --bogus"),
    (["ftp://127.0.0.1:21"], "unknown scheme 'ftp'"),
    (["smtp://127.0.0.1:99999"], "port is not a number between 1 and 65535"),
    (["smtp://127.0.0.1:twentyfive"], "port is not a number between 1 and 65535"),
    (["{url}", "--jobs", "0"], "--jobs must be a positive number"),
    (["{url}", "--jobs", "many"], "invalid int value: 'many'"),
    (["{url}", "--timeout", "-1"], "--timeout must be a positive number"),
    (["{url}", "--protocol", "gopher"], "unknown protocol 'gopher'"),
    (["{url}", "--select", "smtp.no-such-check.*"], "the selection matches no check"),
    (["--profile", "/nonexistent/wireproof-profile.toml"], "does not exist"),
    (["--profile", "{profile}"], "has no [endpoints]"),
    (["sim", "smtp://127.0.0.1:25"], "sim stands alone"),
    (["{url}", "--baseline", "/nonexistent/baseline.toml"], "does not exist; create it with --write-baseline"),
])
def test_usage_error_exits_2_with_one_line_naming_the_problem(args, words, capsys, profile_without_endpoints):
    url = f"smtp://127.0.0.1:{free_port()}"
    argv = ["run", *(a.format(url=url, profile=profile_without_endpoints) for a in args)]
    assert main(argv) == 2
    assert words in one_line_error(capsys)


def test_port_zero_is_refused():
    with pytest.raises(UsageError, match="port"):
        parse_url("smtp://127.0.0.1:0")


def test_unwritable_baseline_path_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "no-such-dir" / "baseline.toml"
    assert run(SmtpFake(), PASSING[:1], "--write-baseline", str(missing)) == 2
    assert "no-such-dir" in one_line_error(capsys)


def test_server_text_that_looks_like_console_markup_does_not_crash_the_summary():
    assert run(SmtpFake({"NOOP": "500 [/x] nope"}), ["smtp.noop.reply-250"]) == 1


def test_escape_sequences_from_the_server_do_not_reach_the_console(capsys):
    assert run(SmtpFake({"NOOP": b"500 \x1b[2J\x1b[1;1Hall clear\r\n"}), ["smtp.noop.reply-250"]) == 1
    assert "\x1b" not in capsys.readouterr().out


# --- list, outputs ---------------------------------------------------------------------------------------


def test_list_json_describes_at_least_70_smtp_checks(capsys):
    assert main(["list", "--protocol", "smtp", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)
    assert len(checks) >= 70
    assert len({c["id"] for c in checks}) == len(checks)
    for c in checks:
        assert c["id"].startswith("smtp.")
        assert c["level"] in ("MUST", "SHOULD", "MAY")
        assert c["requirement"].strip()
        assert c["rfc"] and all(re.fullmatch(r"rfc\d+#[A-Za-z0-9.-]+", ref) for ref in c["rfc"]), c
    assert any("rfc5321#4.1.1.5" in c["rfc"] for c in checks)


def test_out_writes_results_junit_and_html(tmp_path):
    out = tmp_path / "out"
    assert run(SmtpFake(), PASSING, "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "results.json"]
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "wireproof.results/1"
    assert sorted(r["id"] for r in doc["results"]) == sorted(PASSING)
    assert all(r["reproduce"].startswith("wireproof run smtp://127.0.0.1:") for r in doc["results"])


def test_write_baseline_writes_a_baseline_that_loads_and_then_gates(tmp_path):
    path = tmp_path / "baseline.toml"
    fake = SmtpFake({"NOOP": "500 what"})
    assert run(fake, PASSING, "--write-baseline", str(path)) == 1
    assert baseline.load(path) == {"smtp.greeting.code-220": "pass", "smtp.noop.reply-250": "fail",
                                   "smtp.quit.reply-221": "pass"}
    assert run(fake, PASSING, "--baseline", str(path)) == 0
