"""`wireproof explain`: each walkthrough runs against the built-in simulator and prints the conversation with
the script's comments placed before the lines they explain."""
from __future__ import annotations

import pytest

from conformance.cli import main
from conformance.explain import walkthroughs

pytestmark = pytest.mark.timeout(60)

ALL = [(proto, topic) for proto, topics in walkthroughs().items() for topic in topics]


def test_every_mail_and_news_protocol_has_a_basics_walkthrough():
    assert {"smtp", "pop3", "imap", "nntp"} <= {p for p, t in ALL if t == "basics"}


@pytest.mark.parametrize(("protocol", "topic"), ALL, ids=[f"{p}-{t}" for p, t in ALL])
def test_each_walkthrough_holds_on_the_simulator_and_prints_annotated_lines(protocol, topic, capsys):
    assert main(["explain", protocol, topic]) == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()]
    assert any(line.startswith("C: ") for line in lines) and any(line.startswith("S: ") for line in lines)
    explained = [i for i, line in enumerate(lines) if line.startswith("C: ") and lines[i - 1].startswith("# ")]
    assert len(explained) >= 2, "requests are preceded by the comments that explain them"
    assert "Every step marked MUST/SHOULD held on the wire." in out
    assert "References: rfc" in out


def test_the_smtp_walkthrough_explains_dot_stuffing_where_it_happens(capsys):
    assert main(["explain", "smtp"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    content = next(i for i, line in enumerate(lines) if line.startswith("C: Subject: walkthrough"))
    assert lines[content + 3] == "C: ..a line that starts with a dot"  # sent stuffed, shown as sent
    assert any("dot-stuffing" in line for line in lines[content - 3:content])


def test_without_a_protocol_the_walkthroughs_are_listed(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert "smtp" in out and "basics" in out and "errors" in out


@pytest.mark.parametrize("argv", [["explain", "gopher"], ["explain", "smtp", "no-such-topic"]])
def test_an_unknown_protocol_or_topic_is_a_one_line_usage_error(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "choose one of" in err
