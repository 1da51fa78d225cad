"""SEARCH criteria (simulator/protocols/imap/search.py): parsing per RFC 3501 6.4.4 / 9 and RFC 7162 3.1.5,
and what each key matches."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.protocols.imap import search
from simulator.protocols.imap.search import (
    And,
    BadCharset,
    Body,
    Candidate,
    Context,
    DateKey,
    Flag,
    Header,
    ModSeq,
    Not,
    Or,
    SearchError,
    SequenceSet,
    Size,
    Text,
)
from simulator.protocols.imap.tokens import Atom, List, String


def toks(*items):
    """Tokens as the lexer makes them: str is an atom, bytes a quoted string, tuple a parenthesized list."""
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append(List(tuple(toks(*item))))
        elif isinstance(item, bytes):
            out.append(String(item))
        else:
            out.append(Atom(item))
    return out


def parse(*items, charset=None):
    return search.parse(toks(*items), charset=charset)


def utc(*args) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


PLAIN = (b"Date: Tue, 1 Feb 1994 23:30:00 -0800\r\nFrom: John Smith <smith@example.com>\r\n"
         b"To: =?iso-8859-1?q?J=FCrgen?= <j@example.de>\r\nCc: cc@example.org\r\nSubject: Meeting notes\r\n"
         b"X-Mailer: Thing 1.0\r\nX-Empty:\r\n\r\nThe quarterly REPORT is attached.\r\n")
MIME = b"\r\n".join([
    b"From: a@example.com", b"Subject: =?utf-8?b?R3LDvMOfZQ==?=", b"Content-Type: multipart/mixed; boundary=b", b"",
    b"--b", b"Content-Type: text/plain; charset=iso-8859-1", b"Content-Transfer-Encoding: quoted-printable", b"",
    b"Caf=E9 au lait",
    b"--b", b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: base64", b"",
    b"c2VjcmV0IHdvcmQ=",
    b"--b", b"Content-Type: text/html; charset=utf-8", b"Content-Transfer-Encoding: base64", b"",
    b"PGI+aGVsbG8gd29ybGQ8L2I+",
    b"--b", b"Content-Type: message/rfc822", b"",
    b"Subject: forwarded thing", b"", b"inner text",
    b"--b--", b""])


def candidate(raw: bytes = PLAIN, *, seq=1, uid=10, flags=(), internal=None, size=None, modseq=5) -> Candidate:
    return Candidate(seq, uid, frozenset(flags), utc(1994, 2, 2, 12) if internal is None else internal,
                     len(raw) if size is None else size, modseq, raw)


CTX = Context(max_seq=20, max_uid=500)


def matches(key_items, msg: Candidate | None = None, ctx: Context = CTX, **kw) -> bool:
    key = parse(*key_items, **kw) if isinstance(key_items, tuple) else key_items
    return search.evaluate(key, msg or candidate(), ctx)


# --- parsing -----------------------------------------------------------------------------------------------

def test_rfc3501_example_parses_as_an_and_of_its_keys():
    key = parse("FLAGGED", "SINCE", "1-Feb-1994", "NOT", "FROM", b"Smith")
    assert key == And((Flag("\\Flagged"), DateKey("internal", "since", dt.date(1994, 2, 1)),
                       Not(Header("From", "Smith"))))


def test_each_key_parses_to_its_meaning():
    assert parse("ALL") == search.All()
    assert parse("unseen") == Flag("\\Seen", False)
    assert parse("NEW") == And((Flag("\\Recent"), Flag("\\Seen", False)))
    assert parse("OLD") == Flag("\\Recent", False)
    assert parse("KEYWORD", "$Forwarded") == Flag("$Forwarded")
    assert parse("UNKEYWORD", "Junk") == Flag("Junk", False)
    assert parse("HEADER", "X-Mailer", b"") == Header("X-Mailer", "")
    assert parse("BCC", "x") == Header("Bcc", "x")
    assert parse("BODY", b"a b") == Body("a b")
    assert parse("TEXT", String(b"lit", literal=True).value) == Text("lit")
    assert parse("SENTON", b"5-Mar-2000") == DateKey("sent", "on", dt.date(2000, 3, 5))
    assert parse("LARGER", "0") == Size("larger", 0)
    assert parse("OR", "SEEN", ("DRAFT", "DELETED")) == Or(Flag("\\Seen"), And((Flag("\\Draft"), Flag("\\Deleted"))))
    assert parse("UID", "443:557,*") == SequenceSet(((443, 557), (None, None)), uid=True)
    assert parse("1:100") == SequenceSet(((1, 100),))
    assert parse("MODSEQ", "620162338") == ModSeq(620162338)
    assert parse("MODSEQ", b"/flags/\\draft", "all", "620162338") == ModSeq(620162338, "/flags/\\draft", "all")


def test_charset_argument_is_taken_from_the_tokens_or_the_caller():
    assert parse("CHARSET", "UTF-8", "TEXT", "Grüße".encode()) == Text("Grüße")
    assert parse("TEXT", "Grüße".encode(), charset="utf-8") == Text("Grüße")
    assert parse("TEXT", b"plain", charset="US-ASCII") == Text("plain")


def test_unsupported_charset_is_bad_charset_with_the_supported_list():
    with pytest.raises(BadCharset) as err:
        parse("CHARSET", "KOI8-R", "ALL")
    assert err.value.supported == ("US-ASCII", "UTF-8") and isinstance(err.value, SearchError)
    with pytest.raises(BadCharset):
        parse("ALL", charset="X-UNKNOWN")


@pytest.mark.parametrize("items, message", [
    ((), "missing search key"),
    (("FROBNICATE",), "unknown search key"),
    (("FROM",), "missing string after FROM"),
    (("HEADER", "Subject"), "missing string after HEADER"),
    (("BEFORE", "31-Feb-2020"), "no such day"),
    (("ON", "1-Foo-2020"), "bad date"),
    (("SINCE", "2020-01-01"), "bad date"),
    (("SENTON", "1-Jan-20"), "bad date"),
    (("LARGER", "ten"), "bad number"),
    (("SMALLER", "99999999999999999999"), "out of range"),
    (("UID", "1:"), "bad sequence set"),
    (("0",), "bad sequence set"),
    (("1,,2",), "bad sequence set"),
    (("01",), "bad sequence set"),
    (("UID", "4294967296"), "out of range"),
    ((b"string",), "got a string"),
    (((),), "empty parenthesized"),
    (("NOT",), "missing search key"),
    (("OR", "SEEN"), "missing search key"),
    (("KEYWORD", "\\Seen"), "bad keyword"),
    (("KEYWORD", ("x",)), "got a list"),
    (("MODSEQ", b"/flags/\\Seen", "mine", "5"), "bad MODSEQ entry type"),
    (("MODSEQ", b"/other", "all", "5"), "bad MODSEQ entry name"),
    (("MODSEQ", "-1"), "bad number"),
])
def test_bad_criteria_raise_search_error_saying_what_is_wrong(items, message):
    with pytest.raises(SearchError, match=message):
        parse(*items)


def test_8bit_string_under_us_ascii_is_an_error():
    with pytest.raises(SearchError, match="not valid US-ASCII"):
        parse("TEXT", "é".encode(), charset="US-ASCII")


# --- sequence sets ------------------------------------------------------------------------------------------

def test_sequence_set_ranges_either_way_and_star():
    assert search.sequence_set("2:4", 10) == {2, 3, 4} == search.sequence_set("4:2", 10)
    assert search.sequence_set("1,3,*", 10) == {1, 3, 10}
    assert search.sequence_set("8:*", 10) == {8, 9, 10}
    assert search.sequence_set("15:*", 10) == {10}  # "n:*" includes the highest even when n is above it
    assert search.sequence_set("5:100", 10) == set(range(5, 11))
    assert search.sequence_set("*", 0) == set()
    assert search.parse_sequence_set("1:*,7") == ((1, None), (7, 7))


@given(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 60) | st.none()), min_size=1, max_size=6),
       st.integers(0, 50))
def test_sequence_set_is_the_union_of_its_ranges_within_the_mailbox(pairs, top):
    text = ",".join(f"{a}:{'*' if b is None else b}" for a, b in pairs)
    expected = set()
    for a, b in pairs:
        if b is None and top == 0:
            continue
        lo, hi = sorted((a, top if b is None else b))
        expected |= set(range(lo, hi + 1)) & set(range(1, top + 1))
    assert search.sequence_set(text, top) == expected


def test_uid_range_with_star_includes_the_last_message_even_above_the_range():
    msg = candidate(uid=500)
    assert matches(("UID", "559:*"), msg)  # RFC 3501 6.4.8
    assert not matches(("UID", "559:600"), msg)
    assert matches(("UID", "443:557"), msg) and not matches(("UID", "443:557"), candidate(uid=600))


def test_sequence_number_keys_use_sequence_numbers():
    assert matches(("1:100", "UID", "5:15"), candidate(seq=3, uid=10))  # UID SEARCH 1:100 UID 443:557 style
    assert not matches(("4:*",), candidate(seq=3))
    assert matches(("*",), candidate(seq=20))


# --- flags and sizes ----------------------------------------------------------------------------------------

def test_flag_keys_and_their_negations():
    msg = candidate(flags={"\\Seen", "\\Answered", "$Label1"})
    assert matches(("SEEN", "ANSWERED", "UNFLAGGED", "UNDELETED", "UNDRAFT", "KEYWORD", "$label1"), msg)
    assert not matches(("UNSEEN",), msg) and not matches(("UNKEYWORD", "$Label1"), msg)
    assert matches(("seen",), candidate(flags={"\\SEEN"}))  # flag names are case-insensitive


def test_recent_new_and_old():
    recent_unseen = candidate(flags={"\\Recent"})
    recent_seen = candidate(flags={"\\Recent", "\\Seen"})
    assert matches(("NEW",), recent_unseen) and not matches(("NEW",), recent_seen)
    assert matches(("RECENT",), recent_seen) and not matches(("OLD",), recent_seen)
    assert matches(("OLD",), candidate()) and not matches(("NOT", "NEW"), recent_unseen)


def test_larger_and_smaller_are_strict():
    msg = candidate(size=100)
    assert matches(("LARGER", "99"), msg) and not matches(("LARGER", "100"), msg)
    assert matches(("SMALLER", "101"), msg) and not matches(("SMALLER", "100"), msg)


def test_modseq_matches_equal_or_greater():
    msg = candidate(modseq=7)
    assert matches(("MODSEQ", "7"), msg) and matches(("MODSEQ", "0"), msg)
    assert not matches(("MODSEQ", "8"), msg)


# --- dates --------------------------------------------------------------------------------------------------

def test_internal_date_keys_compare_calendar_dates():
    msg = candidate(internal=utc(1994, 2, 1, 23, 59))
    assert matches(("ON", "1-Feb-1994"), msg) and matches(("SINCE", "1-Feb-1994"), msg)
    assert matches(("BEFORE", "2-Feb-1994"), msg) and not matches(("BEFORE", "1-Feb-1994"), msg)
    assert not matches(("SINCE", "2-feb-1994"), msg)


def test_internal_date_is_taken_in_the_servers_zone():
    msg = candidate(internal=utc(1994, 2, 1, 23, 59))
    tokyo = Context(20, 500, tz=dt.timezone(dt.timedelta(hours=9)))
    assert matches(("ON", "2-Feb-1994"), msg, tokyo) and not matches(("ON", "1-Feb-1994"), msg, tokyo)


def test_sent_keys_use_the_date_as_written_disregarding_zone():
    # 23:30 -0800 on 1 Feb is 2 Feb in UTC; SENTON looks at the date as written
    assert matches(("SENTON", "1-Feb-1994"))
    assert matches(("SENTBEFORE", "2-Feb-1994")) and matches(("SENTSINCE", "1-Feb-1994"))
    assert not matches(("SENTSINCE", "2-Feb-1994"))


def test_message_without_a_usable_date_matches_no_sent_key():
    for raw in (b"Subject: x\r\n\r\n", b"Date: someday\r\n\r\n"):
        msg = candidate(raw)
        assert not matches(("SENTBEFORE", "1-Jan-2100"), msg) and not matches(("SENTSINCE", "1-Jan-1900"), msg)
        assert matches(("NOT", "SENTON", "1-Jan-2000"), msg)


# --- strings ------------------------------------------------------------------------------------------------

def test_address_and_subject_keys_are_case_insensitive_substrings_of_the_field():
    assert matches(("FROM", b"SMITH"))
    assert matches(("FROM", b"smith@example"))
    assert matches(("CC", b"cc@"))
    assert matches(("SUBJECT", b"meeting"))
    assert not matches(("TO", b"Smith")) and not matches(("BCC", b"x"))


def test_header_fields_are_searched_with_encoded_words_decoded():
    assert matches(("TO", "jürgen".encode()), charset="UTF-8")
    assert matches(("SUBJECT", "GRÜSSE".encode()), candidate(MIME), charset="UTF-8")


def test_header_with_empty_string_matches_messages_that_have_the_field():
    assert matches(("HEADER", "X-Empty", b""))
    assert matches(("HEADER", "x-mailer", b""))
    assert not matches(("HEADER", "X-Absent", b""))
    assert matches(("HEADER", "X-Mailer", b"thing 1"))


def test_body_searches_the_body_only_and_text_searches_both():
    assert matches(("BODY", b"quarterly report"))
    assert not matches(("BODY", b"Meeting notes"))
    assert matches(("TEXT", b"Meeting notes")) and matches(("TEXT", b"quarterly"))
    assert matches(("TEXT", b"x-mailer: thing"))


def test_body_search_decodes_transfer_encoding_and_charset_of_text_parts():
    msg = candidate(MIME)
    assert matches(("BODY", "café au".encode()), msg, charset="UTF-8")  # quoted-printable, iso-8859-1
    assert matches(("BODY", b"HELLO WORLD"), msg)  # base64 text/html
    assert not matches(("BODY", b"secret"), msg)  # application/octet-stream is not searched
    assert matches(("BODY", b"forwarded thing"), msg) and matches(("BODY", b"inner text"), msg)
    assert not matches(("BODY", b"Caf=E9"), msg)


def test_or_not_and_grouping():
    msg = candidate(flags={"\\Seen"})
    assert matches(("OR", "DELETED", "SEEN"), msg)
    assert not matches(("OR", "DELETED", "DRAFT"), msg)
    assert matches(("NOT", ("DELETED", "SEEN")), msg)
    assert matches((("SEEN", ("FROM", b"smith")),), msg)
    assert matches(("OR", ("DELETED", "SEEN"), "NOT", "DRAFT"), msg)
