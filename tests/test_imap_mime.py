"""Message structure, sections, BINARY, ENVELOPE and BODYSTRUCTURE (simulator/protocols/imap/mime.py).

The point is byte-exactness: BODY[1.2] must be exactly the octets between the part's boundaries, and the
sizes and line counts in BODYSTRUCTURE must describe those octets. Messages are built here from a small
tree (Leaf / Multi / Msg) that also says what every section must contain; the RFC 3501 examples are
checked to the octet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_imap_encode import read_data

from simulator.protocols.imap import mime

CRLF = b"\r\n"


# --- a message builder that knows the answer ---------------------------------------------------------

@dataclass
class Leaf:
    ctype: bytes
    body: bytes
    extra: bytes = b""  # more MIME header lines, each ending in CRLF


@dataclass
class Multi:
    subtype: bytes
    boundary: bytes
    parts: list
    preamble: bytes = b""
    epilogue: bytes = b""


@dataclass
class Msg:  # message/rfc822: an encapsulated message with its own header fields and content
    fields: bytes
    inner: object = field(default_factory=lambda: Leaf(b"text/plain", b"inner body\r\n"))


def entity(node) -> tuple[bytes, bytes]:
    """(MIME header with its empty line, body) of a node."""
    if isinstance(node, Leaf):
        return b"Content-Type: " + node.ctype + CRLF + node.extra + CRLF, node.body
    if isinstance(node, Multi):
        header = b'Content-Type: multipart/' + node.subtype + b'; boundary="' + node.boundary + b'"\r\n\r\n'
        delimiter = b"--" + node.boundary
        children = [b"".join(entity(p)) for p in node.parts]
        body = (node.preamble + CRLF if node.preamble else b"") + delimiter + CRLF
        body += (CRLF + delimiter + CRLF).join(children) + CRLF + delimiter + b"--" + CRLF + node.epilogue
        return header, body
    return b"Content-Type: message/rfc822\r\n\r\n", message(node.fields, node.inner)


def message(fields: bytes, content) -> bytes:
    header, body = entity(content)
    return fields + header + body


def expected_sections(fields: bytes, content) -> dict[str, bytes]:
    out = {"": message(fields, content)}
    header, body = entity(content)
    out["HEADER"], out["TEXT"] = fields + header, body
    _message_parts(out, "", fields, content)
    return out


def _message_parts(out: dict, prefix: str, fields: bytes, content) -> None:
    if isinstance(content, Multi):
        for n, child in enumerate(content.parts, 1):
            _part(out, f"{prefix}{n}", child)
    else:  # a message that is not multipart has a part 1: its own body
        header, body = entity(content)
        out[prefix + "1"], out[prefix + "1.MIME"] = body, fields + header
        if isinstance(content, Msg):
            _encapsulated(out, prefix + "1", content)


def _part(out: dict, number: str, node) -> None:
    header, body = entity(node)
    out[number], out[number + ".MIME"] = body, header
    if isinstance(node, Multi):
        for n, child in enumerate(node.parts, 1):
            _part(out, f"{number}.{n}", child)
    if isinstance(node, Msg):
        _encapsulated(out, number, node)


def _encapsulated(out: dict, number: str, node: Msg) -> None:
    header, body = entity(node.inner)
    out[number + ".HEADER"], out[number + ".TEXT"] = node.fields + header, body
    _message_parts(out, number + ".", node.fields, node.inner)


def assert_sections(fields: bytes, content) -> bytes:
    msg = message(fields, content)
    for spec, want in expected_sections(fields, content).items():
        assert mime.section(msg, spec) == want, spec
    return msg


def structure(msg: bytes, **kw):
    return read_data(mime.bodystructure(msg, **kw))


TOP = b"From: Terry Gray <gray@cac.washington.edu>\r\nSubject: test\r\nMIME-Version: 1.0\r\n"


# --- RFC 3501 examples ------------------------------------------------------------------------------

RFC3501_HEADER = (b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
                  b"From: Terry Gray <gray@cac.washington.edu>\r\n"
                  b"Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
                  b"To: imap@cac.washington.edu\r\n"
                  b"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
                  b"Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
                  b"MIME-Version: 1.0\r\n"
                  b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
                  b"\r\n")


def lines_of(total: int, lines: int, *, final_newline: bool) -> bytes:
    """`total` octets of text with exactly `lines` LFs (CRLF line ends), ending in one or not."""
    rows = b"".join(b"a" * 10 + CRLF for _ in range(lines))
    body = b"a" * (total - len(rows)) + rows if final_newline else rows + b"b" * (total - len(rows))
    assert len(body) == total and body.count(b"\n") == lines
    return body


def test_rfc3501_sample_envelope_and_body():
    msg = RFC3501_HEADER + lines_of(3028, 92, final_newline=True)
    assert mime.envelope(msg) == (
        b'("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) '
        b'((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL '
        b'"<B27397-0100000@cac.washington.edu>")')
    assert mime.bodystructure(msg, extensible=False) == \
        b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)'
    assert mime.section(msg, "HEADER") == RFC3501_HEADER and len(RFC3501_HEADER) == 342  # BODY[HEADER] {342}


def test_rfc3501_two_part_body_structure():
    first = lines_of(1152, 23, final_newline=False)
    second = (b"QUJD" * 15 + CRLF) * 73 + b"QUJD" * 7
    assert len(second) == 4554 and second.count(b"\n") == 73
    msg = message(TOP, Multi(b"MIXED", b"x", [
        Leaf(b"TEXT/PLAIN; CHARSET=US-ASCII", first),
        Leaf(b"TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff", second,
             b"Content-ID: <960723163407.20117h@cac.washington.edu>\r\nContent-Description: Compiler diff\r\n"
             b"Content-Transfer-Encoding: BASE64\r\n")]))
    assert mime.bodystructure(msg, extensible=False) == (
        b'(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)'
        b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" '
        b'"Compiler diff" "BASE64" 4554 73) "MIXED")')


def rfc3501_complex_message():
    """The message behind the part specifier example of RFC 3501 6.4.5."""
    inner3 = Multi(b"mixed", b"b3", [Leaf(b"TEXT/PLAIN", b"3.1 text\r\n"),
                                     Leaf(b"APPLICATION/OCTET-STREAM", b"\x01\x02\x033.2")])
    alternative = Multi(b"alternative", b"b422", [Leaf(b"TEXT/PLAIN", b"4.2.2.1"),
                                                  Leaf(b"TEXT/RICHTEXT", b"<bold>4.2.2.2</bold>")])
    inner42 = Multi(b"mixed", b"b42", [Leaf(b"TEXT/PLAIN", b"4.2.1 text"), alternative])
    return Multi(b"mixed", b"top", [
        Leaf(b"TEXT/PLAIN", b"part 1\r\n"),
        Leaf(b"APPLICATION/OCTET-STREAM", b"part 2"),
        Msg(b"Subject: part 3\r\n", inner3),
        Multi(b"mixed", b"b4", [Leaf(b"IMAGE/GIF", b"GIF89a"), Msg(b"Subject: part 4.2\r\n", inner42)]),
    ], preamble=b"This is a multi-part message.", epilogue=b"That's all.\r\n")


def test_rfc3501_part_specifier_example_gives_each_section_exactly():
    msg = assert_sections(TOP, rfc3501_complex_message())
    types = {spec: (p.mime_type, p.subtype) for spec, p in
             ((s, mime.find_part(mime.parse(msg), tuple(map(int, s.split("."))))) for s in
              ["1", "2", "3", "3.1", "3.2", "4", "4.1", "4.2", "4.2.1", "4.2.2", "4.2.2.1", "4.2.2.2"])}
    assert types == {"1": ("text", "plain"), "2": ("application", "octet-stream"), "3": ("message", "rfc822"),
                     "3.1": ("text", "plain"), "3.2": ("application", "octet-stream"),
                     "4": ("multipart", "mixed"), "4.1": ("image", "gif"), "4.2": ("message", "rfc822"),
                     "4.2.1": ("text", "plain"), "4.2.2": ("multipart", "alternative"),
                     "4.2.2.1": ("text", "plain"), "4.2.2.2": ("text", "richtext")}
    assert mime.section(msg, "4.2.HEADER") == \
        b'Subject: part 4.2\r\nContent-Type: multipart/mixed; boundary="b42"\r\n\r\n'
    assert mime.section(msg, "4.1.MIME") == b"Content-Type: IMAGE/GIF\r\n\r\n"


def test_rfc3501_complex_message_body_structure_reads_as_imap_data():
    msg = message(TOP, rfc3501_complex_message())
    full = structure(msg)
    assert full[-5:] == [b"MIXED", [b"BOUNDARY", b"top"], None, None, None]
    part3 = full[2]
    assert part3[:7] == [b"MESSAGE", b"RFC822", None, None, None, b"7BIT", len(mime.section(msg, "3"))]
    assert part3[7][1] == b"part 3"  # the encapsulated message's envelope subject
    assert part3[8][-5] == b"MIXED" and part3[9] == mime.section(msg, "3").count(b"\n")
    basic = structure(msg, extensible=False)
    assert basic[-1] == b"MIXED" and basic[0] == [b"TEXT", b"PLAIN", [b"CHARSET", b"us-ascii"], None, None,
                                                  b"7BIT", 8, 1]


# --- the header block -----------------------------------------------------------------------------------

def test_message_without_header_has_the_empty_line_as_header():
    msg = b"\r\nJust a body.\r\n"
    assert mime.section(msg, "HEADER") == CRLF
    assert mime.section(msg, "TEXT") == b"Just a body.\r\n"
    assert mime.section(msg, "1") == b"Just a body.\r\n"
    assert mime.envelope(msg) == b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"


def test_message_without_empty_line_is_all_header():
    msg = b"Subject: no body\r\nFrom: a@b.example\r\n"
    assert mime.section(msg, "HEADER") == msg
    assert mime.section(msg, "TEXT") == b""
    assert mime.section(msg, "HEADER.FIELDS (SUBJECT)") == b"Subject: no body\r\n"  # no body, no blank line
    assert structure(msg, extensible=False) == [b"TEXT", b"PLAIN", [b"CHARSET", b"us-ascii"], None, None,
                                                b"7BIT", 0, 0]


def test_message_with_header_and_empty_body():
    msg = b"Subject: empty\r\n\r\n"
    assert mime.section(msg, "TEXT") == b"" and mime.section(msg, "1") == b""
    assert mime.section(msg, "HEADER.FIELDS (Subject)") == msg


def test_empty_message():
    assert mime.section(b"", "") == b"" and mime.section(b"", "HEADER") == b""
    assert read_data(mime.bodystructure(b""))[:8] == [b"TEXT", b"PLAIN", [b"CHARSET", b"us-ascii"], None, None,
                                                       b"7BIT", 0, 0]


def test_header_fields_keep_original_text_order_and_folding():
    msg = (b"Received: one\r\nSUBJECT: folded\r\n\tsubject\r\nX-Other: x\r\nreceived: two\r\n"
           b"Subject : second\r\n\r\nbody\r\n")
    assert mime.section(msg, "HEADER.FIELDS (subject RECEIVED)") == (
        b"Received: one\r\nSUBJECT: folded\r\n\tsubject\r\nreceived: two\r\nSubject : second\r\n\r\n")
    assert mime.section(msg, "HEADER.FIELDS.NOT (Subject Received)") == b"X-Other: x\r\n\r\n"
    assert mime.section(msg, 'HEADER.FIELDS ("X-Other")') == b"X-Other: x\r\n\r\n"
    assert mime.section(msg, "HEADER.FIELDS (Missing)") == CRLF  # the blank line is in every header fetch


def test_header_fields_match_names_exactly_not_by_prefix():
    msg = b"Subject-Extra: no\r\nSubject: yes\r\n\r\n"
    assert mime.section(msg, "HEADER.FIELDS (SUBJECT)") == b"Subject: yes\r\n\r\n"


# --- multipart boundaries (RFC 2046 5.1.1) ------------------------------------------------------------------

def test_preamble_and_epilogue_belong_to_no_part():
    node = Multi(b"mixed", b"xyz", [Leaf(b"text/plain", b"one"), Leaf(b"text/plain", b"two\r\n")],
                 preamble=b"preamble text\r\nmore", epilogue=b"epilogue\r\n--xyz\r\nnot a part\r\n")
    msg = assert_sections(TOP, node)
    assert mime.section(msg, "3") is None


def test_crlf_before_a_boundary_belongs_to_the_boundary():
    msg = TOP + b'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nline\r\n\r\n--b--\r\n'
    assert mime.section(msg, "1") == b"line\r\n"  # one CRLF of the part, the next is the delimiter's
    assert structure(msg)[0][6:8] == [6, 1]


def test_boundary_lines_may_carry_trailing_whitespace():
    msg = TOP + b'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b \t\r\n\r\none\r\n--b\t\r\n\r\ntwo\r\n--b-- \r\n'
    assert [mime.section(msg, n) for n in "12"] == [b"one", b"two"]


def test_lines_that_only_start_like_a_boundary_are_content():
    msg = TOP + (b'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--bb\r\n-- b\r\n--b x\r\n'
                 b'--b\r\n\r\ntwo\r\n--b--\r\n')
    assert mime.section(msg, "1") == b"--bb\r\n-- b\r\n--b x"
    assert mime.section(msg, "2") == b"two"


def test_missing_close_delimiter_ends_the_last_part_at_the_end_of_the_body():
    msg = TOP + b'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n'
    assert mime.section(msg, "1") == b"one"
    assert mime.section(msg, "2") == b"two\r\n"


def test_outer_boundary_ends_an_inner_multipart_without_close_delimiter():
    msg = TOP + (b'Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n'
                 b'Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\na\r\n--inner\r\n\r\nb\r\n'
                 b'--outer\r\n\r\nc\r\n--outer--\r\n')
    assert [mime.section(msg, s) for s in ("1.1", "1.2", "2")] == [b"a", b"b", b"c"]


def test_empty_parts_between_adjacent_delimiters():
    msg = TOP + b'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\n\r\n--b--\r\n'
    assert mime.section(msg, "1") == b"" and mime.section(msg, "1.MIME") == b""
    assert mime.section(msg, "2") == b"" and mime.section(msg, "2.MIME") == CRLF
    assert read_data(mime.bodystructure(msg))[-5] == b"MIXED"


def test_multipart_without_boundary_parameter_is_text_plain():
    msg = TOP + b"Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
    part = mime.parse(msg)
    assert (part.mime_type, part.subtype, part.params) == ("text", "plain", {"charset": "us-ascii"})
    assert mime.section(msg, "1") == mime.section(msg, "TEXT")


def test_multipart_without_any_delimiter_reports_one_empty_text_part():
    msg = TOP + b"Content-Type: multipart/mixed; boundary=b\r\n\r\nno parts here\r\n"
    assert structure(msg, extensible=False) == [[b"TEXT", b"PLAIN", [b"CHARSET", b"us-ascii"], None, None,
                                                 b"7BIT", 0, 0], b"MIXED"]
    assert mime.section(msg, "1") == b""


def test_digest_parts_default_to_message_rfc822():
    node = Multi(b"digest", b"d", [])
    msg = TOP + entity(node)[0] + (b"--d\r\n\r\nSubject: first\r\n\r\nbody 1\r\n"
                                   b"--d\r\nContent-Type: text/plain\r\n\r\nnot a message\r\n--d--\r\n")
    top = mime.parse(msg)
    assert [(c.mime_type, c.subtype) for c in top.children] == [("message", "rfc822"), ("text", "plain")]
    assert mime.section(msg, "1.HEADER") == b"Subject: first\r\n\r\n"
    assert mime.section(msg, "1.1") == b"body 1"
    assert mime.section(msg, "2.HEADER") is None  # HEADER needs a message/rfc822 part


def test_message_rfc822_at_top_level_nests_its_part_numbers():
    content = Msg(b"Subject: inside\r\n", Multi(b"mixed", b"m", [Leaf(b"text/plain", b"x"),
                                                               Leaf(b"text/plain", b"y")]))
    msg = assert_sections(TOP, content)
    assert mime.section(msg, "1.2") == b"y"


def test_bare_lf_messages_are_read_like_crlf():
    msg = (b"Subject: lf\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
           b"one\ntwo\n--b\n\nthree\n--b--\n")
    assert mime.section(msg, "HEADER") == b"Subject: lf\nContent-Type: multipart/mixed; boundary=b\n\n"
    assert mime.section(msg, "1") == b"one\ntwo"
    assert mime.section(msg, "2") == b"three"
    assert mime.section(msg, "1.MIME") == b"Content-Type: text/plain\n\n"
    assert read_data(mime.bodystructure(msg))[0][6:8] == [7, 1]


# --- sections: what does not exist, and what is not a section --------------------------------------------

def test_nonexistent_parts_give_none():
    msg = message(TOP, Multi(b"mixed", b"b", [Leaf(b"text/plain", b"x")]))
    for spec in ("2", "1.1", "1.HEADER", "1.TEXT", "9.MIME"):
        assert mime.section(msg, spec) is None, spec
    plain = b"Subject: x\r\n\r\nbody\r\n"
    assert mime.section(plain, "2") is None and mime.section(plain, "1.1") is None
    assert mime.section(plain, "1") == b"body\r\n"
    assert mime.section(plain, "1.MIME") == b"Subject: x\r\n\r\n"


@pytest.mark.parametrize("bad", ["MIME", "0", "01", "1.", ".1", "1..2", "FOO", "1.BODY", "HEADER.FIELDS",
                                 "HEADER.FIELDS ()", "HEADER.FIELDS A", "TEXT (A)", "4294967296"])
def test_bad_section_specs_raise(bad):
    with pytest.raises(mime.BadSection):
        mime.section(b"Subject: x\r\n\r\n", bad)


def test_parse_section_reads_the_grammar():
    assert mime.parse_section("") == mime.Section((), None)
    assert mime.parse_section("1.2.mime") == mime.Section((1, 2), "MIME")
    assert mime.parse_section("3.header.fields.not (A \"B C\")") == \
        mime.Section((3,), "HEADER.FIELDS.NOT", ("A", "B C"))


# --- BINARY (RFC 3516) ------------------------------------------------------------------------------------

def binary_message(encoding: bytes, body: bytes) -> bytes:
    return message(TOP, Multi(b"mixed", b"b", [Leaf(b"text/plain", b"first"),
                                               Leaf(b"application/octet-stream", body,
                                                    b"Content-Transfer-Encoding: " + encoding + CRLF)]))


def test_binary_undoes_base64_ignoring_line_breaks_and_junk():
    msg = binary_message(b"base64", b"AAEC\r\nAwQF\r\nBg==\r\n")
    assert mime.binary(msg, "2") == bytes(range(7))
    assert mime.binary_size(msg, "2") == 7
    assert mime.binary(binary_message(b"BASE64", b"AA*EC A!w"), "2") == b"\x00\x01\x02\x03"
    assert mime.binary(binary_message(b"base64", b"AAECA"), "2") == b"\x00\x01\x02"  # 6 stray bits dropped


def test_binary_undoes_quoted_printable():
    body = b"caf=C3=A9 =\r\nsoft break   \r\ntrailing=20 \r\n=ZZ stays=\r\n"
    assert mime.binary(binary_message(b"quoted-printable", body), "2") == \
        "café soft break\r\ntrailing \r\n=ZZ stays".encode()
    # a lone "=" before a soft break stays, and does not join with what follows into an escape
    assert mime.binary(binary_message(b"quoted-printable", b"a==\r\n41"), "2") == b"a=41"


def test_binary_of_identity_encodings_is_the_body():
    for enc in (b"7bit", b"8bit", b"binary"):
        assert mime.binary(binary_message(enc, b"\x00raw\xff"), "2") == b"\x00raw\xff"
    assert mime.binary(binary_message(b"7bit", b"x"), "1") == b"first"


def test_binary_of_an_unknown_encoding_raises_unknown_encoding():
    with pytest.raises(mime.UnknownEncoding):
        mime.binary(binary_message(b"x-uuencode", b"begin 644 x"), "2")


def test_binary_of_the_whole_message_and_of_missing_parts():
    msg = binary_message(b"base64", b"AAEC")
    assert mime.binary(msg, "") == msg
    assert mime.binary(msg, "3") is None and mime.binary_size(msg, "3") is None
    with pytest.raises(mime.BadSection):
        mime.binary(msg, "1.MIME")


# --- ENVELOPE (RFC 3501 7.4.2) ---------------------------------------------------------------------------------

def envelope(header: bytes):
    return read_data(mime.envelope(header + b"\r\nbody\r\n"))


def test_envelope_sender_and_reply_to_default_to_from():
    env = envelope(b"From: A <a@x.example>\r\nSender:\r\n")
    assert env[2] == env[3] == env[4] == [[b"A", None, b"a", b"x.example"]]
    env = envelope(b"From: a@x.example\r\nReply-To: r@x.example\r\n")
    assert env[4] == [[None, None, b"r", b"x.example"]]


def test_envelope_absent_fields_are_nil_and_empty_strings_stay_empty():
    env = envelope(b"Subject:\r\nTo:\r\nMessage-ID: <m@x>\r\n")
    assert env[0] is None and env[1] == b""
    assert env[2] is None and env[5] is None  # From absent, To present but empty: NIL
    assert env[8] is None and env[9] == b"<m@x>"


def test_envelope_groups():
    env = envelope(b"To: A Group:Ed Jones <c@a.test>,joe@where.test;, undisclosed-recipients:;\r\n")
    assert env[5] == [[None, None, b"A Group", None], [b"Ed Jones", None, b"c", b"a.test"],
                      [None, None, b"joe", b"where.test"], [None, None, None, None],
                      [None, None, b"undisclosed-recipients", None], [None, None, None, None]]


def test_envelope_addresses_lose_quoting_and_comments_keep_route_and_words():
    env = envelope(b'Cc: "Smith, John \\"JS\\"" <"john smith"@example.com> (work),\r\n'
                   b' <@relay.example,@hop.example:joe@example.org>, =?utf-8?q?J=C3=B6rg?= <j@x.example>,'
                   b' root, John Q. Public <jqp@[192.0.2.1]>\r\n')
    assert env[6] == [[b'Smith, John "JS"', None, b"john smith", b"example.com"],
                      [None, b"@relay.example,@hop.example", b"joe", b"example.org"],
                      [b"=?utf-8?q?J=C3=B6rg?=", None, b"j", b"x.example"],
                      [None, None, b"root", b""],
                      [b"John Q. Public", None, b"jqp", b"[192.0.2.1]"]]


def test_envelope_unfolds_and_sends_8bit_values_as_literals():
    out = mime.envelope("Subject: Grüße\r\n aus Köln\r\nIn-Reply-To:  <a@b>  \r\n\r\n".encode())
    assert out.startswith(b"(NIL {17}\r\n" + "Grüße aus Köln".encode())
    assert read_data(out)[8] == b"<a@b>"


def test_envelope_of_an_encapsulated_message():
    msg = message(TOP, Multi(b"mixed", b"b", [Msg(b"Subject: inner\r\nFrom: i@x.example\r\n")]))
    inner = mime.parse(msg).children[0].message
    assert read_data(mime.envelope(msg, inner))[1] == b"inner"
    assert read_data(mime.envelope(msg))[1] == b"test"


# --- BODYSTRUCTURE extension data and parameters -----------------------------------------------------------------

def test_bodystructure_extension_data_of_a_single_part():
    extra = (b"Content-Transfer-Encoding: base64\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
             b"Content-Disposition: attachment; filename=\"genome.jpeg\"\r\nContent-Language: en, de-CH\r\n"
             b"Content-Location: http://example.com/genome.jpeg\r\nContent-ID: <id@x>\r\n"
             b"Content-Description: a genome\r\n")
    msg = message(TOP, Multi(b"mixed", b"b", [Leaf(b"image/jpeg; name=genome.jpeg", b"AAEC", extra)]))
    assert structure(msg)[0] == [b"IMAGE", b"JPEG", [b"NAME", b"genome.jpeg"], b"<id@x>", b"a genome",
                                 b"BASE64", 4, b"Q2hlY2sgSW50ZWdyaXR5IQ==",
                                 [b"ATTACHMENT", [b"FILENAME", b"genome.jpeg"]], [b"en", b"de-CH"],
                                 b"http://example.com/genome.jpeg"]


def test_rfc2231_parameters_are_joined_and_decoded():
    ctype = (b"application/x-stuff;\r\n title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
             b" title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"")
    part = mime.parse(message(TOP, Leaf(ctype, b"x")))
    assert part.params == {"title": "This is even more ***fun*** isn't it!"}


def test_non_ascii_parameter_values_go_out_rfc2231_encoded():
    msg = message(TOP, Leaf(b"text/plain; charset=utf-8; name*=iso-8859-1''%E9t%E9.txt", b"x"))
    assert mime.parse(msg).params["name"] == "été.txt"
    assert structure(msg)[2] == [b"CHARSET", b"utf-8", b"NAME*", b"utf-8''%C3%A9t%C3%A9.txt"]


def test_content_type_defaults():
    assert mime.parse(b"Subject: x\r\n\r\n").params == {"charset": "us-ascii"}
    html = mime.parse(b"Content-Type: text/html\r\n\r\n")
    assert (html.subtype, html.params) == ("html", {"charset": "us-ascii"})  # RFC 2046 4.1.2
    for invalid in (b"text", b"/plain", b"; charset=x", b"text/"):
        part = mime.parse(b"Content-Type: " + invalid + b"\r\n\r\n")
        assert (part.mime_type, part.subtype, part.params) == ("text", "plain", {"charset": "us-ascii"})
    odd = mime.parse(b'Content-Type: Application/X-Thing (comment) ; A="q\\"uoted" ;junk; b=----=_x\r\n\r\n')
    assert (odd.mime_type, odd.subtype, odd.params) == ("application", "x-thing", {"a": 'q"uoted', "b": "----=_x"})


def test_unknown_transfer_encoding_is_reported_as_written():
    msg = message(TOP, Leaf(b"text/plain", b"x", b"Content-Transfer-Encoding: X-Custom (comment)\r\n"))
    assert structure(msg)[5] == b"X-CUSTOM"


# --- properties ---------------------------------------------------------------------------------------------------

BODY_TEXT = st.binary(max_size=40).map(lambda b: bytes(c for c in b if c not in b"-\r\n")) | \
    st.lists(st.sampled_from([b"a", b"b ", CRLF, b"\n", b"=", b"\xc3\xa9"]), max_size=12).map(b"".join)


def trees(depth: int = 3):
    leaf = st.builds(Leaf, st.sampled_from([b"text/plain", b"application/octet-stream", b"image/gif",
                                            b"text/html; charset=utf-8"]), BODY_TEXT)
    if depth == 0:
        return leaf
    sub = trees(depth - 1)
    multi = st.builds(Multi, st.sampled_from([b"mixed", b"alternative", b"related"]),
                      st.just(b"bnd%d" % depth), st.lists(sub, min_size=1, max_size=3),
                      st.sampled_from([b"", b"preamble"]), st.sampled_from([b"", b"epilogue\r\n", b"x"]))
    msg = st.builds(Msg, st.sampled_from([b"Subject: m\r\n", b"From: a@b.example\r\n"]), sub)
    return st.one_of(leaf, multi, msg)


@settings(max_examples=150, deadline=None)
@given(trees())
def test_every_section_of_a_built_message_is_exact(content):
    msg = assert_sections(TOP, content)
    assert mime.section(msg, "") == msg


def _check_ranges(msg: bytes, part: mime.Part) -> None:
    assert part.start <= part.header_end <= part.end
    if part.message is not None:
        assert (part.message.start, part.message.end) == (part.header_end, part.end)
        _check_ranges(msg, part.message)
    if part.is_multipart:
        boundary = re.escape(part.params["boundary"].encode())
        delimiter = re.compile(rb"\r?\n--" + boundary + rb"[ \t]*\r?\n")
        for before, after in zip(part.children, part.children[1:]):
            # between two parts there is exactly one delimiter line, with the CRLF that precedes it
            assert delimiter.fullmatch(msg[before.end:after.start])
        assert part.header_end <= part.children[0].start and part.children[-1].end <= part.end
        for child in part.children:
            _check_ranges(msg, child)


@settings(max_examples=150, deadline=None)
@given(trees())
def test_parts_tile_their_parent_between_delimiter_lines(content):
    msg = message(TOP, content)
    _check_ranges(msg, mime.parse(msg))


@settings(max_examples=150, deadline=None)
@given(trees())
def test_bodystructure_sizes_and_lines_describe_the_section_octets(content):
    msg = message(TOP, content)
    top = mime.parse(msg)
    for spec, body in expected_sections(TOP, content).items():
        if not re.fullmatch(r"\d+(\.\d+)*", spec):
            continue
        part = mime.find_part(top, tuple(int(n) for n in spec.split(".")))
        if part.is_multipart:
            continue
        basic = read_data(mime.bodystructure(msg, part, extensible=False))
        assert basic[6] == len(body), spec  # body-fld-octets
        if part.message is not None:
            assert basic[9] == body.count(b"\n"), spec  # body-type-msg: ... envelope body body-fld-lines
        elif part.mime_type == "text":
            assert basic[7] == body.count(b"\n"), spec  # body-type-text: ... body-fld-lines


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"Content-Type: multipart/mixed; boundary=b\r\n", b"Content-Type: message/rfc822\r\n",
                                 b"Content-Type: multipart/digest; boundary=\"b\"\r\n", b"--b\r\n", b"--b--\r\n",
                                 CRLF, b"\n", b"\r", b"x", b"Subject: =?utf-8?q?x?=\r\n", b"From: <@a:b@c>, g:;\r\n",
                                 b"Content-Transfer-Encoding: base64\r\n", b"\0", b"\xff", b" ", b"(", b'"']),
                max_size=30).map(b"".join))
def test_any_octets_parse_and_give_well_formed_data(msg):
    read_data(mime.bodystructure(msg))
    read_data(mime.bodystructure(msg, extensible=False))
    read_data(mime.envelope(msg))
    top = mime.parse(msg)
    assert mime.section(msg, "") == msg
    for part in mime.walk(top):
        assert 0 <= part.start <= part.header_end <= part.end <= len(msg)
    for spec in ("1", "1.1", "2", "1.MIME", "1.HEADER", "TEXT", "HEADER.FIELDS (From)"):
        result = mime.section(msg, spec)
        assert result is None or isinstance(result, bytes)
