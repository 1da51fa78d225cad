"""FETCH data items (simulator/protocols/imap/fetch.py): what a client may ask for (RFC 3501 6.4.5, RFC 9051
6.4.5, BINARY RFC 3516, MODSEQ RFC 7162) and the msg-att a server sends back for one message (RFC 3501 7.4.2).

The messages are built here from known pieces, so every section's octets are known without asking the mime
module; the mime module is then only the second witness (BODY[...] must be exactly what mime.section says).
"""
from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.imap import encode, fetch, mime
from simulator.protocols.imap.lexer import tokenize
from simulator.protocols.imap.tokens import Atom, List, String

CRLF = b"\r\n"

# --- messages that know their sections --------------------------------------------------------------------------

SINGLE_HEADER = (b"From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: Hello\r\n"
                 b"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <1@example.com>\r\n\r\n")
SINGLE_BODY = b"Hello Bob,\r\nsee you at noon.\r\n"
SINGLE = SINGLE_HEADER + SINGLE_BODY

TOP_FIELDS = b"From: Carol <carol@example.com>\r\nTo: dan@example.com\r\nSubject: Files\r\nMIME-Version: 1.0\r\n"
TOP_CTYPE = b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
P1_HEADER = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
P1_BODY = b"Gr=C3=BC=C3=9Fe, =\r\nDan"
P1_DECODED = "Grüße, Dan".encode()
P2_HEADER = (b'Content-Type: application/octet-stream; name="a.bin"\r\n'
             b'Content-Disposition: attachment; filename="a.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n')
P2_DECODED = b"\x00\x01\x02\x03\xff\x00tail"
P2_BODY = base64.b64encode(P2_DECODED)
P3_HEADER = b"Content-Type: message/rfc822\r\n\r\n"
INNER_HEADER = b"From: eve@example.com\r\nSubject: inner\r\n\r\n"
INNER_BODY = b"inner body\r\nline 2"
P3_BODY = INNER_HEADER + INNER_BODY
P4_HEADER = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
P4_DECODED = "été".encode()
P4_BODY = base64.b64encode(P4_DECODED)
MULTI_BODY = (b"This is a MIME message.\r\n"
              b"--XX\r\n" + P1_HEADER + P1_BODY + b"\r\n"
              b"--XX\r\n" + P2_HEADER + P2_BODY + b"\r\n"
              b"--XX\r\n" + P3_HEADER + P3_BODY + b"\r\n"
              b"--XX\r\n" + P4_HEADER + P4_BODY + b"\r\n"
              b"--XX--\r\nepilogue\r\n")
MULTI = TOP_FIELDS + TOP_CTYPE + MULTI_BODY

# what every section of MULTI holds (RFC 3501 6.4.5)
MULTI_SECTIONS = {
    "": MULTI, "HEADER": TOP_FIELDS + TOP_CTYPE, "TEXT": MULTI_BODY,
    "1": P1_BODY, "1.MIME": P1_HEADER, "2": P2_BODY, "2.MIME": P2_HEADER,
    "3": P3_BODY, "3.MIME": P3_HEADER, "3.HEADER": INNER_HEADER, "3.TEXT": INNER_BODY, "3.1": INNER_BODY,
    "4": P4_BODY, "4.MIME": P4_HEADER,
}
SINGLE_SECTIONS = {"": SINGLE, "HEADER": SINGLE_HEADER, "TEXT": SINGLE_BODY, "1": SINGLE_BODY}

EPOCH = 1_700_000_000  # 14-Nov-2023 22:13:20 UTC


def message(raw: bytes | None, *, flags=("\\Seen", "\\Answered"), seq: int = 3, uid: int = 7, modseq: int = 12,
            date: float = EPOCH) -> fetch.Message:
    return fetch.Message(seq, uid, frozenset(flags), date, len(raw) if raw else 0, modseq, raw)


def items(text: str) -> list[fetch.Item]:
    (token,) = tokenize([text.encode()])
    return fetch.parse_items(token)


def render(text: str, raw: bytes | None = MULTI, **kw) -> bytes:
    return fetch.render(items(text), message(raw), **kw)


# --- parse_items: macros and simple items ------------------------------------------------------------------------

@pytest.mark.parametrize("macro, names", [
    ("ALL", ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"]),
    ("FAST", ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]),
    ("FULL", ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]),
])
def test_a_macro_expands_to_its_items(macro, names):
    assert items(macro) == [fetch.Item(n) for n in names]
    assert items(macro.lower()) == [fetch.Item(n) for n in names]


def test_a_macro_inside_a_list_is_an_error():
    # RFC 3501 6.4.5: the macros stand alone; they are not data items
    with pytest.raises(fetch.FetchError):
        items("(FLAGS ALL)")


@pytest.mark.parametrize("name", sorted(fetch.SIMPLE))
def test_every_simple_item_parses_alone_and_in_a_list_in_any_case(name):
    assert items(name) == [fetch.Item(name)]
    assert items(f"({name.lower()})") == [fetch.Item(name)]


def test_a_list_of_items_keeps_its_order():
    assert [i.name for i in items("(UID RFC822.SIZE FLAGS)")] == ["UID", "RFC822.SIZE", "FLAGS"]


# --- parse_items: sections ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, item", [
    ("BODY[]", fetch.Item("BODY", "")),
    ("BODY.PEEK[TEXT]", fetch.Item("BODY", "TEXT", peek=True)),
    ("body[1.2.mime]", fetch.Item("BODY", "1.2.MIME")),
    ("BODY[HEADER.FIELDS (FROM)]<0.10>", fetch.Item("BODY", "HEADER.FIELDS (FROM)", partial=(0, 10))),
    ("BODY.PEEK[header.fields.not (to cc)]", fetch.Item("BODY", "HEADER.FIELDS.NOT (TO CC)", peek=True)),
    ("BODY[]<5.100>", fetch.Item("BODY", "", partial=(5, 100))),
    ("BINARY[1]", fetch.Item("BINARY", "1")),
    ("BINARY.PEEK[1]<0.4>", fetch.Item("BINARY", "1", peek=True, partial=(0, 4))),
    ("BINARY[]", fetch.Item("BINARY", "")),
    ("BINARY.SIZE[1]", fetch.Item("BINARY.SIZE", "1")),
    ("binary.size[2.3]", fetch.Item("BINARY.SIZE", "2.3")),
])
def test_sectioned_items_parse_into_name_section_peek_and_partial(text, item):
    assert items(text) == [item]
    assert items(f"(FLAGS {text})") == [fetch.Item("FLAGS"), item]


@pytest.mark.parametrize("text", [
    "FOO", "(FLAGS FOO)", "BODY.PEEK", "BODY[]<1>", "BODY[]<a.b>", "BODY[]<1.2", "RFC822.PEEK", "BODYSTRUCTURE[1]",
    "BINARY", "BINARY.SIZE", "BODY[]x",
])
def test_unknown_items_are_errors(text):
    with pytest.raises(fetch.FetchError):
        items(text)


@pytest.mark.parametrize("section", ["FOO", "1.0", "0", "MIME", "1.HEADER.FIELDS", "HEADER.FIELDS ()", "TEXT X",
                                     "1..2", "HEADER.FIELDS FROM"])
def test_a_bad_section_is_an_error_as_mime_parse_section_says(section):
    with pytest.raises(mime.BadSection):
        mime.parse_section(section)
    with pytest.raises(fetch.FetchError, match="bad section"):
        fetch.parse_items(Atom(f"BODY[{section}]"))


@pytest.mark.parametrize("section", ["TEXT", "HEADER", "1.MIME", "1.TEXT", "a", "1.", "0"])
def test_binary_takes_part_numbers_only(section):
    with pytest.raises(fetch.FetchError):
        fetch.parse_items(Atom(f"BINARY[{section}]"))
    with pytest.raises(fetch.FetchError):
        fetch.parse_items(Atom(f"BINARY.PEEK[{section}]"))
    with pytest.raises(fetch.FetchError):
        fetch.parse_items(Atom(f"BINARY.SIZE[{section}]"))


def test_binary_size_takes_no_partial():
    with pytest.raises(fetch.FetchError, match="no partial"):
        items("BINARY.SIZE[1]<0.4>")


@pytest.mark.parametrize("token", [List(()), String(b"FLAGS"), List((Atom("FLAGS"), String(b"UID"))),
                                   List((List((Atom("FLAGS"),)),))])
def test_empty_lists_and_non_atoms_are_errors(token):
    with pytest.raises(fetch.FetchError):
        fetch.parse_items(token)


def test_a_partial_of_zero_octets_is_an_error():
    with pytest.raises(fetch.FetchError):
        items("BODY[]<0.0>")


# --- sets_seen and needs_body -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seen", [
    ("BODY[]", True), ("BODY[TEXT]", True), ("BODY[1.MIME]", True), ("BODY[HEADER]<0.5>", True),
    ("BODY.PEEK[]", False), ("BODY.PEEK[TEXT]", False),
    ("RFC822", True), ("RFC822.TEXT", True), ("RFC822.HEADER", False),  # RFC822.HEADER = BODY.PEEK[HEADER]
    ("BINARY[1]", True), ("BINARY[]", True), ("BINARY.PEEK[1]", False), ("BINARY.SIZE[1]", False),
    ("BODY", False), ("BODYSTRUCTURE", False), ("ENVELOPE", False), ("FLAGS", False), ("UID", False),
    ("RFC822.SIZE", False), ("INTERNALDATE", False), ("MODSEQ", False),
])
def test_items_that_read_the_text_set_seen_and_peek_does_not(text, seen):
    (item,) = items(text)
    assert item.sets_seen is seen


@pytest.mark.parametrize("text, needs", [
    ("FLAGS", False), ("UID", False), ("INTERNALDATE", False), ("RFC822.SIZE", False), ("MODSEQ", False),
    ("ENVELOPE", True), ("BODY", True), ("BODYSTRUCTURE", True), ("RFC822", True), ("RFC822.HEADER", True),
    ("RFC822.TEXT", True), ("BODY.PEEK[HEADER]", True), ("BINARY[1]", True), ("BINARY.SIZE[1]", True),
])
def test_only_items_about_the_text_need_the_body(text, needs):
    (item,) = items(text)
    assert item.needs_body is needs


def test_the_metadata_items_render_without_the_body():
    assert render("(FLAGS UID INTERNALDATE RFC822.SIZE MODSEQ)", raw=None).startswith(b"(FLAGS ")


# --- render: metadata ------------------------------------------------------------------------------------------

def test_flags_are_a_sorted_flag_list():
    assert render("FLAGS") == b"(FLAGS (\\Answered \\Seen))"
    assert fetch.render(items("FLAGS"), message(MULTI, flags=())) == b"(FLAGS ())"
    assert fetch.render(items("FLAGS"), message(MULTI, flags=("$Label1", "\\Draft"))) == b"(FLAGS ($Label1 \\Draft))"


def test_uid_rfc822_size_and_modseq_are_numbers():
    assert render("(UID RFC822.SIZE MODSEQ)") == b"(UID 7 RFC822.SIZE %d MODSEQ (12))" % len(MULTI)


def test_internaldate_is_a_quoted_date_time_with_zone():
    assert render("INTERNALDATE") == b'(INTERNALDATE "14-Nov-2023 22:13:20 +0000")'
    one_digit_day = fetch.render(items("INTERNALDATE"), message(MULTI, date=86400 * 3))
    assert one_digit_day == b'(INTERNALDATE " 4-Jan-1970 00:00:00 +0000")'  # date-day-fixed = (SP DIGIT) / 2DIGIT


def test_items_come_back_in_the_order_asked_separated_by_single_spaces():
    assert render("(RFC822.SIZE FLAGS UID)") == b"(RFC822.SIZE %d FLAGS (\\Answered \\Seen) UID 7)" % len(MULTI)


def test_macros_render_their_items():
    assert render("FAST") == (b'(FLAGS (\\Answered \\Seen) INTERNALDATE "14-Nov-2023 22:13:20 +0000" '
                              b"RFC822.SIZE %d)" % len(MULTI))


def test_uid_fetch_adds_the_uid_first_unless_asked_for():
    assert render("FLAGS", with_uid=True) == b"(UID 7 FLAGS (\\Answered \\Seen))"
    assert render("(FLAGS UID)", with_uid=True) == b"(FLAGS (\\Answered \\Seen) UID 7)"


def test_condstore_adds_modseq_last_unless_asked_for():
    assert render("FLAGS", with_modseq=True) == b"(FLAGS (\\Answered \\Seen) MODSEQ (12))"
    assert render("(MODSEQ FLAGS)", with_modseq=True) == b"(MODSEQ (12) FLAGS (\\Answered \\Seen))"
    assert render("UID", with_uid=True, with_modseq=True) == b"(UID 7 MODSEQ (12))"


# --- render: structure -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [SINGLE, MULTI], ids=["single", "multi"])
def test_envelope_body_and_bodystructure_are_what_the_mime_module_builds(raw):
    assert render("ENVELOPE", raw) == b"(ENVELOPE " + mime.envelope(raw) + b")"
    assert render("BODY", raw) == b"(BODY " + mime.bodystructure(raw, extensible=False) + b")"
    assert render("BODYSTRUCTURE", raw) == b"(BODYSTRUCTURE " + mime.bodystructure(raw, extensible=True) + b")"


def test_rfc822_items_are_literals_of_the_message_its_header_and_its_text():
    assert render("RFC822", SINGLE) == b"(RFC822 " + encode.literal(SINGLE) + b")"
    assert render("RFC822.HEADER", SINGLE) == b"(RFC822.HEADER " + encode.literal(SINGLE_HEADER) + b")"
    assert render("RFC822.TEXT", SINGLE) == b"(RFC822.TEXT " + encode.literal(SINGLE_BODY) + b")"


# --- render: BODY[section] -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, sections", [(SINGLE, SINGLE_SECTIONS), (MULTI, MULTI_SECTIONS)],
                         ids=["single", "multi"])
def test_body_sections_are_literals_of_exactly_the_sections_octets(raw, sections):
    for spec, octets in sections.items():
        assert mime.section(raw, spec) == octets, f"mime module disagrees on [{spec}]"
        expected = f"BODY[{spec}] ".encode() + b"{%d}\r\n" % len(octets) + octets
        assert render(f"BODY[{spec}]", raw) == b"(" + expected + b")"


def test_body_peek_is_answered_as_body():
    assert render("BODY.PEEK[TEXT]", SINGLE) == b"(BODY[TEXT] " + encode.literal(SINGLE_BODY) + b")"


def test_header_fields_keeps_the_named_fields_and_the_empty_line():
    assert render("BODY[HEADER.FIELDS (FROM subject)]", SINGLE) == (
        b"(BODY[HEADER.FIELDS (FROM SUBJECT)] " +
        encode.literal(b"From: Alice <alice@example.com>\r\nSubject: Hello\r\n\r\n") + b")")


def test_header_fields_not_drops_the_named_fields():
    assert render("BODY[3.HEADER.FIELDS.NOT (SUBJECT)]", MULTI) == (
        b"(BODY[3.HEADER.FIELDS.NOT (SUBJECT)] " + encode.literal(b"From: eve@example.com\r\n\r\n") + b")")


def test_a_partial_names_only_its_origin_and_holds_at_most_count_octets():
    assert render("BODY[]<2.5>", SINGLE) == b"(BODY[]<2> {5}\r\n" + SINGLE[2:7] + b")"
    assert render("BODY[HEADER.FIELDS (FROM)]<0.10>", SINGLE) == (
        b"(BODY[HEADER.FIELDS (FROM)]<0> {10}\r\nFrom: Alic)")


def test_a_partial_running_past_the_end_is_truncated_and_still_a_partial():
    # RFC 3501 6.4.5: BODY[]<0.2048> of a 1500-octet message is BODY[]<0> with 1500 octets
    assert render("BODY[TEXT]<0.10000>", SINGLE) == b"(BODY[TEXT]<0> " + encode.literal(SINGLE_BODY) + b")"
    assert render("BODY[TEXT]<5.10000>", SINGLE) == b"(BODY[TEXT]<5> " + encode.literal(SINGLE_BODY[5:]) + b")"


def test_a_partial_starting_beyond_the_end_is_an_empty_literal():
    assert render("BODY[]<100000.10>", SINGLE) == b"(BODY[]<100000> {0}\r\n)"


@pytest.mark.parametrize("spec", ["9", "1.2", "2.HEADER", "4.TEXT", "3.2", "1.1"])
def test_a_missing_part_is_nil(spec):
    assert render(f"BODY[{spec}]", MULTI) == f"(BODY[{spec}] NIL)".encode()


def test_a_missing_part_with_a_partial_is_nil_naming_the_origin():
    assert render("BODY[9]<0.5>", MULTI) == b"(BODY[9]<0> NIL)"


@given(st.sampled_from(sorted(MULTI_SECTIONS)), st.integers(0, 400), st.integers(1, 400))
@settings(max_examples=80, deadline=None)
def test_any_partial_is_the_slice_of_the_whole_section(spec, origin, count):
    octets = MULTI_SECTIONS[spec][origin:origin + count]
    assert render(f"BODY.PEEK[{spec}]<{origin}.{count}>") == (
        f"(BODY[{spec}]<{origin}> ".encode() + b"{%d}\r\n" % len(octets) + octets + b")")


# --- render: BINARY (RFC 3516) -----------------------------------------------------------------------------------

def test_binary_undoes_quoted_printable():
    assert render("BINARY[1]") == b"(BINARY[1] " + encode.literal(P1_DECODED) + b")"


def test_binary_undoes_base64_and_uses_literal8_when_the_data_holds_nul():
    assert render("BINARY[2]") == b"(BINARY[2] ~{%d}\r\n" % len(P2_DECODED) + P2_DECODED + b")"


def test_binary_of_8bit_data_without_nul_is_a_plain_literal():
    assert render("BINARY[4]") == b"(BINARY[4] {%d}\r\n" % len(P4_DECODED) + P4_DECODED + b")"


def test_binary_partial_decides_literal8_on_the_octets_it_sends():
    assert render("BINARY.PEEK[2]<1.3>") == b"(BINARY[2]<1> {3}\r\n\x01\x02\x03)"
    assert render("BINARY.PEEK[2]<4.2>") == b"(BINARY[2]<4> ~{2}\r\n\xff\x00)"


def test_binary_size_is_the_decoded_size():
    assert render("(BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[4])") == (
        b"(BINARY.SIZE[1] %d BINARY.SIZE[2] %d BINARY.SIZE[4] %d)" % (len(P1_DECODED), len(P2_DECODED),
                                                                      len(P4_DECODED)))


def test_binary_of_a_missing_part_is_nil():
    assert render("(BINARY[9] BINARY.SIZE[9])") == b"(BINARY[9] NIL BINARY.SIZE[9] NIL)"


def test_binary_of_the_whole_message_is_the_message():
    assert render("BINARY[]", SINGLE) == b"(BINARY[] " + encode.literal(SINGLE) + b")"


def test_binary_of_an_unknown_transfer_encoding_raises_for_unknown_cte():
    raw = b"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n"
    with pytest.raises(mime.UnknownEncoding):  # the server answers NO [UNKNOWN-CTE] (RFC 3516 4.3)
        render("BINARY[1]", raw)


def test_several_sections_in_one_response():
    assert render("(UID BODY.PEEK[1.MIME] BINARY.PEEK[1])", with_uid=True) == (
        b"(UID 7 BODY[1.MIME] " + encode.literal(P1_HEADER) + b" BINARY[1] " + encode.literal(P1_DECODED) + b")")
