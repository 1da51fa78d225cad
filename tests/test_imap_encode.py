"""IMAP data encoding (simulator/protocols/imap/encode.py): what the server writes must be what the formal
syntax of RFC 3501 9 / RFC 9051 9 accepts, and mean what it was given.

`read_data` is a small strict reader of that syntax (NIL, numbers, quoted strings, literals, atoms and
parenthesized lists); the MIME tests use it too.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.imap import encode
from simulator.protocols.imap.search import sequence_set

QUOTED_CHAR = re.compile(rb'(?:[\x01-\x09\x0b\x0c\x0e-\x21\x23-\x5b\x5d-\x7f]|\\["\\])*')
ATOM = re.compile(rb'[^(){ %*"\\\]\x00-\x1f\x7f-\xff]+')
ASTRING = re.compile(rb'[^(){ %*"\\\x00-\x1f\x7f-\xff]+')


class Unreadable(ValueError):
    pass


def read_data(data: bytes):
    """One value of IMAP response data: None for NIL, int for a number, bytes for a string, ("atom",
    text) for another atom, list for a parenthesized list. The whole input must be that one value."""
    value, pos = _read(data, 0)
    if pos != len(data):
        raise Unreadable(f"trailing data at {pos}: {data[pos:pos + 20]!r}")
    return value


def _read(data: bytes, pos: int):
    if data.startswith(b"(", pos):
        items = []
        pos += 1
        while not data.startswith(b")", pos):
            if items and not (data[pos - 1:pos] == b")" and data.startswith(b"(", pos)):
                if not data.startswith(b" ", pos):  # items are separated by one SP, lists may abut
                    raise Unreadable(f"expected SP at {pos}")
                pos += 1
            item, pos = _read(data, pos)
            items.append(item)
        return items, pos + 1
    if data.startswith(b'"', pos):
        m = QUOTED_CHAR.match(data, pos + 1)
        if not data.startswith(b'"', m.end()):
            raise Unreadable(f"bad quoted string at {pos}")
        return re.sub(rb'\\(["\\])', rb"\1", m.group(0)), m.end() + 1
    m = re.compile(rb"\{(\d+)\}\r\n").match(data, pos)
    if m:
        start, n = m.end(), int(m.group(1))
        if len(data) < start + n or b"\0" in data[start:start + n]:
            raise Unreadable("bad literal")
        return data[start:start + n], start + n
    m = ATOM.match(data, pos)
    if not m:
        raise Unreadable(f"unexpected {data[pos:pos + 10]!r} at {pos}")
    word = m.group(0)
    if word == b"NIL":
        return None, m.end()
    if word.isdigit():
        return int(word), m.end()
    return ("atom", word.decode()), m.end()


# --- strings --------------------------------------------------------------------------------------------

def test_quoted_escapes_backslash_and_double_quote():
    assert encode.quoted('say "hi" \\o/') == b'"say \\"hi\\" \\\\o/"'


@pytest.mark.parametrize("bad", ["a\r\nb", "a\nb", "a\rb", "a\0b", "café"])
def test_quoted_refuses_what_a_quoted_string_cannot_hold(bad):
    with pytest.raises(ValueError):
        encode.quoted(bad)


def test_string_is_nil_for_none_and_quoted_when_possible():
    assert encode.string(None) == b"NIL"
    assert encode.nstring(None) == b"NIL"
    assert encode.string("") == b'""'
    assert encode.string("IMAP4rev1 WG mtg") == b'"IMAP4rev1 WG mtg"'


def test_string_uses_a_literal_for_line_ends_8bit_and_long_values():
    assert encode.string("a\r\nb") == b"{4}\r\na\r\nb"
    assert encode.string("Grüße") == b"{7}\r\n" + "Grüße".encode()
    assert encode.string(b"\xff") == b"{1}\r\n\xff"
    long = "x" * (encode.MAX_QUOTED + 1)
    assert encode.string(long) == b"{1001}\r\n" + long.encode()
    assert encode.string("x" * encode.MAX_QUOTED).startswith(b'"')


def test_string_refuses_nul_which_only_a_literal8_can_carry():
    with pytest.raises(ValueError):
        encode.string(b"a\0b")
    assert encode.literal8(b"a\0b") == b"~{3}\r\na\0b"


def test_literal_counts_octets_not_characters():
    assert encode.literal("é".encode()) == b"{2}\r\n\xc3\xa9"


@settings(max_examples=300)
@given(st.binary(max_size=1200).filter(lambda b: b"\0" not in b))
def test_string_always_reads_back_as_the_same_octets(value):
    assert read_data(encode.string(value)) == value


@settings(max_examples=200)
@given(st.text(max_size=60).filter(lambda t: "\0" not in t))
def test_astring_is_an_atom_or_a_string_that_reads_back(text):
    out = encode.astring(text)
    if ASTRING.fullmatch(out):
        assert out.decode() == text and out.upper() != b"NIL"
    else:
        assert read_data(out) == text.encode()


def test_astring_prefers_the_atom_form():
    assert encode.astring("INBOX") == b"INBOX"
    assert encode.astring("a]b") == b"a]b"  # resp-specials are ASTRING-CHARs
    assert encode.astring("a b") == b'"a b"'
    assert encode.astring("") == b'""'
    assert encode.astring("nil") == b'"nil"'
    assert encode.astring("50%") == b'"50%"'  # list-wildcards are atom-specials


def test_atom_refuses_atom_specials():
    assert encode.atom("FLAGS") == b"FLAGS"
    for bad in ["", "a b", "a(", "a]", 'a"', "a\\", "a*", "a%", "a{"]:
        with pytest.raises(ValueError):
            encode.atom(bad)


# --- lists, flags, sets ---------------------------------------------------------------------------------

def test_paren_joins_items_with_single_spaces():
    assert encode.paren([]) == b"()"
    assert encode.paren([b"a", b"NIL", b'"b"']) == b'(a NIL "b")'


def test_flag_list_writes_system_flags_and_keywords_as_atoms():
    assert encode.flag_list(["\\Seen", "\\Deleted", "$Forwarded"]) == b"(\\Seen \\Deleted $Forwarded)"
    assert encode.flag_list([]) == b"()"
    assert encode.flag_list(["\\*"]) == b"(\\*)"
    with pytest.raises(ValueError):
        encode.flag_list(["not a flag"])


def test_uid_set_compresses_runs():
    assert encode.uid_set([5, 1, 2, 3, 9, 7, 8]) == b"1:3,5,7:9"
    assert encode.uid_set([4]) == b"4"
    with pytest.raises(ValueError):
        encode.uid_set([])


@given(st.sets(st.integers(1, 300), min_size=1))
def test_uid_set_names_exactly_its_numbers(numbers):
    assert sequence_set(encode.uid_set(numbers).decode(), 300) == numbers


# --- date-time ------------------------------------------------------------------------------------------

def test_date_time_matches_the_rfc_3501_sample():
    pdt = dt.timezone(dt.timedelta(hours=-7))
    epoch = dt.datetime(1996, 7, 17, 2, 44, 25, tzinfo=pdt).timestamp()
    assert encode.date_time(epoch, pdt) == b'"17-Jul-1996 02:44:25 -0700"'


def test_date_time_pads_a_one_digit_day_with_a_space_and_defaults_to_utc():
    epoch = dt.datetime(2026, 11, 7, 10, 0, tzinfo=dt.UTC).timestamp()
    assert encode.date_time(epoch) == b'" 7-Nov-2026 10:00:00 +0000"'
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert encode.date_time(epoch, ist) == b'" 7-Nov-2026 15:30:00 +0530"'


@given(st.integers(0, 4_000_000_000), st.integers(-12 * 60, 14 * 60))
def test_parse_date_time_inverts_date_time(epoch, minutes):
    tz = dt.timezone(dt.timedelta(minutes=minutes))
    written = encode.date_time(epoch, tz).decode()[1:-1]
    assert encode.parse_date_time(written) == epoch
    assert encode.parse_date_time(written.strip()) == epoch  # "7-Jul-..." as clients also send it


@pytest.mark.parametrize("bad", ["17-Jul-1996", "17-Jly-1996 02:44:25 -0700", "31-Feb-2020 00:00:00 +0000",
                                 "17-Jul-1996 02:44:25 0700", "17-Jul-1996 25:44:25 -0700",
                                 "17-Jul-1996 02:44:25 -0775"])
def test_parse_date_time_refuses_what_is_not_a_date_time(bad):
    with pytest.raises(ValueError):
        encode.parse_date_time(bad)


# --- modified UTF-7 ---------------------------------------------------------------------------------------

def test_mutf7_matches_the_rfc_3501_examples():
    assert encode.mutf7_encode("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert encode.mutf7_decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-") == "~peter/mail/台北/日本語"
    assert encode.mutf7_decode("&Jjo-!") == "☺!"
    assert encode.mutf7_encode("台北日本語") == "&U,BTF2XlZyyKng-"


def test_mutf7_writes_ampersand_as_ampersand_dash():
    assert encode.mutf7_encode("Tom & Jerry") == "Tom &- Jerry"
    assert encode.mutf7_decode("&-&-") == "&&"


@pytest.mark.parametrize("bad", [
    "&Jjo!",  # no shift back to US-ASCII before "!"
    "&U,BTFw-&ZeVnLIqe-",  # superfluous shift between two BASE64 runs
    "&AGE-",  # "a" encoded although it can represent itself
    "&Jjo",  # ends inside BASE64
    "café",  # 8-bit characters must be encoded
    "tab\there",  # so must controls
    "&Jj/-",  # "/" is not modified BASE64
    "&Jjp-",  # non-zero padding bits
    "&2D0-",  # a lone high surrogate: not UTF-16
    "&A-",  # a partial UTF-16 unit
])
def test_mutf7_decode_refuses_invalid_names(bad):
    with pytest.raises(ValueError):
        encode.mutf7_decode(bad)


@given(st.text())
def test_mutf7_round_trips_and_stays_printable_ascii(name):
    wire = encode.mutf7_encode(name)
    assert all(0x20 <= ord(c) <= 0x7E for c in wire)
    assert encode.mutf7_decode(wire) == name
    assert encode.mutf7_encode(encode.mutf7_decode(wire)) == wire  # the encoding is canonical
