"""Script patterns (`S:`/`has:` lines) and client-line expansion (`C:`/`C=` lines)."""
from __future__ import annotations

import pytest

from conformance.script.pattern import Pattern, PatternError, UndefinedVariable, expand


def matches(pattern: str, line: str, variables: dict[str, str] | None = None) -> dict[str, str] | None:
    return Pattern(pattern).match(line, variables or {})


# --- prefix and word boundary ----------------------------------------------------------------------


@pytest.mark.parametrize("line", ["250", "250 OK", "250 2.0.0 queued as 1234", "250\tok"])
def test_code_matches_the_start_of_a_line(line):
    assert matches("250", line) == {}


@pytest.mark.parametrize("line", ["2500", "251", "25", "x250", " 250 ok"])
def test_code_does_not_match_a_longer_or_other_word(line):
    assert matches("250", line) is None


def test_keyword_must_end_where_a_word_ends():
    assert matches("SIZE", "SIZE 1000000") == {}
    assert matches("SIZE", "SIZE") == {}
    assert matches("SIZE", "SIZEX 10") is None


def test_one_space_in_a_pattern_stands_for_any_run_of_white_space():
    assert matches("250 OK", "250    OK") == {}
    assert matches("250 OK", "250OK") is None


def test_matching_is_case_insensitive():
    assert matches("250 ok", "250 OK") == {}
    assert matches("auth plain", "AUTH PLAIN LOGIN") == {}


# --- ... -------------------------------------------------------------------------------------------


def test_ellipsis_after_a_space_also_matches_a_bare_code():
    assert matches("250 ...", "250") == {}
    assert matches("250 ...", "250 anything at all") == {}


def test_ellipsis_in_the_middle_matches_any_text():
    assert matches("250 ... queued", "250 2.0.0 message queued") == {}
    assert matches("250 ... queued", "250 2.0.0 message refused") is None


def test_a_pattern_ending_in_ellipsis_drops_the_word_boundary():
    assert matches("25...", "2500 odd") == {}


# --- variables ---------------------------------------------------------------------------------------


def test_variable_is_substituted_literally():
    assert matches("250 ${who}", "250 a.b+c", {"who": "a.b+c"}) == {}
    assert matches("250 ${who}", "250 aXb+c", {"who": "a.b+c"}) is None  # the dot is not a wildcard


def test_undefined_variable_raises_naming_it():
    with pytest.raises(UndefinedVariable) as info:
        matches("250 ${missing}", "250 x")
    assert info.value.name == "missing"
    assert "${missing}" in str(info.value)


# --- captures -----------------------------------------------------------------------------------------


def test_named_capture_takes_one_word():
    assert matches("250 {id}", "250 queued-1234") == {"id": "queued-1234"}
    assert matches("250 {id} now", "250 abc now") == {"id": "abc"}


def test_capture_with_regex_takes_what_the_regex_matches():
    assert matches("SIZE {limit:\\d+}", "SIZE 1048576") == {"limit": "1048576"}
    assert matches("SIZE {limit:\\d+}", "SIZE lots") is None


def test_capture_regex_may_contain_braces():
    assert matches("{code:\\d{3}} ...", "421 busy") == {"code": "421"}


def test_anonymous_regex_matches_without_capturing():
    assert matches("250 {:\\d\\.\\d\\.\\d} ...", "250 2.1.0 sender ok") == {}
    assert matches("250 {:\\d\\.\\d\\.\\d} ...", "250 sender ok") is None


def test_captured_value_keeps_its_case():
    assert matches("250 {name}", "250 MiXeD") == {"name": "MiXeD"}


@pytest.mark.parametrize("bad", ["250 {1x}", "250 {a:[}", "250 {unclosed", "250 ${unclosed"])
def test_bad_capture_or_regex_is_a_pattern_error_at_construction(bad):
    with pytest.raises(PatternError):
        Pattern(bad)


# --- reply-code words -------------------------------------------------------------------------------------


def test_code_alternatives():
    for line in ("250 ok", "251 forwarded"):
        assert matches("250|251", line) == {}
    assert matches("250|251", "252 cannot verify") is None


def test_x_stands_for_any_digit_in_a_code():
    assert matches("5xx", "550 no") == {}
    assert matches("5xx", "501 syntax") == {}
    assert matches("5xx", "450 later") is None
    assert matches("4xx|5xx", "451 later") == {}


def test_code_words_apply_to_the_first_word_only():
    # "x" in later words is the letter x, not a digit wildcard
    assert matches("250 xx", "250 xx") == {}
    assert matches("250 xx", "250 12") is None


# --- escapes in patterns ---------------------------------------------------------------------------------------


def test_escaped_brace_and_dollar_are_literal():
    assert matches("250 \\{x}", "250 {x}") == {}
    assert matches("250 cost \\$5", "250 cost $5") == {}
    assert matches("250 \\$\\{x}", "250 ${x}") == {}  # no variable lookup, no capture


def test_escaped_dollar_stops_variable_lookup():
    # `\$` is a literal dollar, so `{x}` after it is an ordinary capture, not part of `${x}`
    assert matches("250 \\${x}", "250 $abc") == {"x": "abc"}


def test_escaped_dot_is_literal_and_escaped_ellipsis_is_three_dots():
    assert matches("250 a\\.b", "250 a.b") == {}
    assert matches("250 wait\\...", "250 wait...") == {}
    assert matches("250 wait\\...", "250 wait, and more") is None


def test_escaped_ellipsis_at_the_end_still_requires_a_word_end():
    assert matches("250 wait\\...", "250 wait...more") is None


# --- expand(): client lines -----------------------------------------------------------------------------------


def test_expand_decodes_escapes():
    assert expand("a\\r\\n\\tb\\\\c\\$d\\0e\\x41\\xff", {}) == b"a\r\n\tb\\c$d\0eA\xff"


def test_expand_substitutes_variables_and_encodes_utf8():
    assert expand("RCPT TO:<${rcpt}>", {"rcpt": "jörg@example.org"}) == "RCPT TO:<jörg@example.org>".encode()


def test_expand_escaped_dollar_is_not_a_variable():
    assert expand("\\${rcpt}", {}) == b"${rcpt}"


def test_expand_undefined_variable_raises_naming_it():
    with pytest.raises(UndefinedVariable) as info:
        expand("MAIL FROM:<${nobody}>", {})
    assert info.value.name == "nobody"


@pytest.mark.parametrize("text", ["\\q", "bad \\xZZ", "\\x4"])
def test_expand_unknown_or_malformed_escape_is_an_error_naming_the_escape(text):
    with pytest.raises(PatternError, match=r"unknown escape"):
        expand(text, {})
