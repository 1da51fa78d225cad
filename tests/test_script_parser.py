"""The `.wire` script parser: what it accepts, and the file:line errors it gives for what it does not."""
from __future__ import annotations

import importlib.resources
import re
import textwrap

import pytest

from conformance.model import Level
from conformance.script.parser import ScriptError, parse
from conformance.script.pattern import expand

HEADER = "rfc: rfc5321#4.1.1.9\nrequirement: NOOP is answered with 250.\n"


def script(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


def parse_error(text: str) -> str:
    with pytest.raises(ScriptError) as info:
        parse(text, "x.wire")
    return str(info.value)


# --- what parses -------------------------------------------------------------------------------------


def test_minimal_check_parses_with_its_header_steps_and_level():
    f = parse(script("""
        check smtp.noop.reply-250
        rfc: rfc5321#4.1.1.9
        requirement: NOOP is answered with 250.
        tags: noop

        S: 220
        C: NOOP
        MUST S: 250
        """))
    (c,) = f.checks
    assert c.id == "smtp.noop.reply-250"
    assert c.header == {"rfc": "rfc5321#4.1.1.9", "requirement": "NOOP is answered with 250.", "tags": "noop"}
    assert [s.op for s in c.steps] == ["expect", "send", "expect"]
    assert [s.level for s in c.steps] == [None, None, Level.MUST]
    assert c.level is Level.MUST


def test_indented_lines_continue_a_header_value():
    f = parse(script("""
        check smtp.a.b
        rfc: rfc5321#4.1.1.9
        requirement: A long requirement
          that goes on
          over three lines.
        C: NOOP
        MUST S: 250
        """))
    assert f.checks[0].header["requirement"] == "A long requirement that goes on over three lines."


def test_comments_attach_to_the_next_step_and_leading_comments_form_the_preamble():
    f = parse(script("""
        # What this file is about.
        # Second line of the preamble.

        prelude
        # greeting first
        S: 220

        check smtp.a.b
        """ + HEADER + """
        # first comment
        # second comment

        C: NOOP
        MUST S: 250
        """))
    assert f.preamble == "What this file is about.\nSecond line of the preamble."
    assert f.prelude[0].comment == "greeting first"
    send, expect = f.checks[0].steps
    assert send.comment == "first comment second comment"
    assert expect.comment == ""


def test_has_in_a_check_may_look_into_the_preludes_last_reply():
    f = parse(script("""
        prelude
        S: 220
        C: EHLO x
        S: 250

        check smtp.a.b
        """ + HEADER + """
        MUST has: PIPELINING
        """))
    assert f.checks[0].steps[0].op == "has"


def test_every_step_kind_parses():
    f = parse(script("""
        check smtp.a.b
        """ + HEADER + """
        S: 220
        C: EHLO x
        S: 250
        has: SIZE
        lacks: FOO
        C= DATA\\r\\n
        set who = ${sender}
        session b
        starttls
        close
        SHOULD silent 0.5
        SHOULD closed
        """))
    assert [s.op for s in f.checks[0].steps] == [
        "expect", "send", "expect", "has", "lacks", "send-raw", "set", "session", "starttls", "close",
        "silent", "closed"]
    assert f.checks[0].steps[-2].seconds == 0.5


# --- errors: each names file:line and the problem ------------------------------------------------------


@pytest.mark.parametrize("missing", ["rfc", "requirement"])
def test_missing_required_header_is_an_error_at_the_check_line(missing):
    header = "\n".join(line for line in HEADER.splitlines() if not line.startswith(missing))
    message = parse_error("\n\ncheck smtp.a.b\n" + header + "\nC: NOOP\nMUST S: 250\n")
    assert message.startswith("x.wire:3: ")
    assert f"no `{missing}:` header" in message


def test_check_without_a_marked_step_asserts_nothing():
    message = parse_error("check smtp.a.b\n" + HEADER + "C: NOOP\nS: 250\n")
    assert message.startswith("x.wire:1: ")
    assert "asserts nothing" in message and "MUST, SHOULD or MAY" in message


def test_mixed_levels_in_one_check_are_an_error():
    message = parse_error("check smtp.a.b\n" + HEADER + "C: NOOP\nMUST S: 250\nC: NOOP\nSHOULD S: 250\n")
    assert message.startswith("x.wire:1: ")
    assert "mixes MUST and SHOULD" in message


def test_has_not_after_a_server_reply_is_an_error():
    message = parse_error("check smtp.a.b\n" + HEADER + "C: NOOP\nMUST has: 250\n")
    assert message.startswith("x.wire:5: ")
    assert "`has:` must follow an `S:` step" in message


def test_lacks_with_nothing_before_it_is_an_error():
    assert "`lacks:` must follow an `S:` step" in parse_error("check smtp.a.b\n" + HEADER + "MUST lacks: X\n")


def test_unknown_step_is_an_error_listing_the_known_steps():
    message = parse_error("check smtp.a.b\n" + HEADER + "C: NOOP\nEXPECT 250\nMUST S: 250\n")
    assert message.startswith("x.wire:5: ")
    assert "unknown step 'EXPECT 250'" in message
    assert "C: C= S: has: lacks:" in message


def test_unknown_header_is_an_error_listing_the_known_headers():
    message = parse_error("check smtp.a.b\n" + HEADER + "requires: CHUNKING\nC: NOOP\nMUST S: 250\n")
    assert message.startswith("x.wire:4: ")
    assert "unknown header 'requires'" in message and "needs" in message


def test_marker_on_a_client_line_is_an_error():
    message = parse_error("check smtp.a.b\n" + HEADER + "MUST C: NOOP\nMUST S: 250\n")
    assert message.startswith("x.wire:4: ")
    assert "client line cannot be an assertion" in message


def test_marker_on_an_action_is_an_error():
    assert "is an action, not an assertion" in parse_error("check smtp.a.b\n" + HEADER + "MUST close\nMUST closed\n")


def test_marker_in_the_prelude_is_an_error():
    message = parse_error("prelude\nMUST S: 220\ncheck smtp.a.b\n" + HEADER + "MUST S: 250\n")
    assert message.startswith("x.wire:2: ")
    assert "mark assertions inside a check" in message


def test_duplicate_check_ids_are_an_error_at_the_second_definition():
    block = "check smtp.a.b\n" + HEADER + "C: NOOP\nMUST S: 250\n\n"
    message = parse_error(block + block)
    assert message.startswith("x.wire:7: ")
    assert "defined twice" in message


def test_prelude_after_a_check_is_an_error():
    message = parse_error("check smtp.a.b\n" + HEADER + "C: NOOP\nMUST S: 250\nprelude\nS: 220\n")
    assert message.startswith("x.wire:6: ")
    assert "prelude must come once, before the first check" in message


def test_header_given_twice_is_an_error():
    assert "header 'rfc' given twice" in parse_error("check smtp.a.b\n" + HEADER + "rfc: rfc5321#2\nMUST S: 250\n")


def test_steps_outside_a_block_are_an_error():
    message = parse_error("S: 220\ncheck smtp.a.b\n" + HEADER + "MUST S: 250\n")
    assert message.startswith("x.wire:1: ") and "must follow a `prelude` or `check ID` line" in message


def test_file_without_checks_is_an_error():
    assert "no `check ID` block" in parse_error("# only a comment\nprelude\nS: 220\n")


@pytest.mark.parametrize("step, words", [
    ("silent", "silent needs a number of seconds"),
    ("silent 30", "between 0 and 10 seconds"),
    ("C: bad \\q escape", "unknown escape \\q"),
    ("S:", "needs a pattern"),
    ("session B", "short lowercase name"),
])
def test_malformed_step_arguments_are_errors_at_their_line(step, words):
    message = parse_error("check smtp.a.b\n" + HEADER + step + "\nMUST S: 250\n")
    assert message.startswith("x.wire:4: ")
    assert words in message


# --- the shipped suite ------------------------------------------------------------------------------------


def shipped_scripts():
    root = importlib.resources.files("scenarios")
    return sorted((res for proto in root.iterdir() if proto.is_dir() and not proto.name.startswith("_")
                   for res in proto.iterdir() if res.name.endswith(".wire")), key=lambda r: str(r))


@pytest.mark.parametrize("resource", shipped_scripts(), ids=lambda r: r.name)
def test_every_shipped_script_parses(resource):
    f = parse(resource.read_text(encoding="utf-8"), resource.name)
    assert f.checks


def test_every_bdat_step_announces_exactly_the_octets_that_follow():
    f = parse((importlib.resources.files("scenarios") / "smtp" / "bdat.wire").read_text(encoding="utf-8"))
    seen = 0
    for check in f.checks:
        for step in check.steps:
            if not step.arg.upper().startswith("BDAT "):
                continue
            if step.op == "send":  # `C: BDAT 0 LAST`: the line alone, no chunk follows
                m = re.match(r"BDAT (\d+)", step.arg)
                if m:
                    assert m.group(1) == "0", f"line {step.line}: C: BDAT n>0 sends no chunk"
                continue
            data = expand(step.arg, {})
            command, sep, chunk = data.partition(b"\r\n")
            m = re.match(rb"BDAT (\d+)( LAST)?$", command)
            if not m:
                continue  # deliberately malformed sizes are another check's business
            assert sep, f"line {step.line}: the BDAT command line has no CRLF"
            assert int(m.group(1)) == len(chunk), (
                f"bdat.wire line {step.line} ({check.id}): BDAT announces {m.group(1)} octets, {len(chunk)} follow")
            seen += 1
    assert seen >= 5
