"""The IMAP reader (framing, lexer, parser), the command helper and the IMAP script dialect.

Reader cases run three ways: fed to the sans-I/O reader directly, from a server that sends everything in one
write, and from one that sends one octet at a time (so every literal arrives split across reads).
"""
from __future__ import annotations

import asyncio

import pytest
from fakes import FakeServer, Raw
from imap_fake import FakeStore, ImapFake

from conformance.context import Capabilities, RunOptions
from conformance.dialects.imap import Completion, ImapClient, astring, sequence_set
from conformance.dialects.imap_lexer import Literal as ResponseLiteral
from conformance.dialects.imap_lexer import ResponseReader, tokens
from conformance.dialects.imap_parser import ImapResponse, bodystructure, envelope, parse, values
from conformance.model import Verdict
from conformance.registry import _script_checks
from conformance.runner import execute
from conformance.target import Account, from_urls
from conformance.wire.session import Session
from conformance.wire.transcript import Transcript

FETCH_WITH_LITERALS = (b"* 3 FETCH (UID 7 FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] {14}\r\n"
                       b"Subject: x\r\n\r\n BODY[]<0> {10}\r\n{5}\r\n)\r\n\r\n)\r\n")


def feed_all(data: bytes, chunk: int) -> list[ImapResponse]:
    reader = ResponseReader()
    out = []
    for i in range(0, len(data), chunk):
        reader.feed(data[i:i + chunk])
        while (raw := reader.next_response()) is not None:
            out.append(parse(raw))
    assert not reader.in_response() and reader.buffered() == 0
    return out


def read_from_server(data: bytes, count: int, byte_at_a_time: bool) -> list[ImapResponse]:
    async def go():
        with FakeServer(Raw(data, byte_at_a_time=byte_at_a_time)) as server:
            wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=3.0)
            client = ImapClient(wire)
            out = [await client.read_response() for _ in range(count)]
            await wire.close()
            return out
    return asyncio.run(go())


WAYS = pytest.mark.parametrize("way", ["reader-one-chunk", "reader-byte-at-a-time", "wire-one-write",
                                       "wire-byte-at-a-time"])


def responses(way: str, data: bytes, count: int) -> list[ImapResponse]:
    if way == "reader-one-chunk":
        return feed_all(data, len(data))
    if way == "reader-byte-at-a-time":
        return feed_all(data, 1)
    return read_from_server(data, count, way == "wire-byte-at-a-time")


@WAYS
def test_literals_are_read_by_octet_count_whatever_they_contain(way):
    data = FETCH_WITH_LITERALS + b"a1 OK done\r\n"
    fetch, done = responses(way, data, 2)
    items = fetch.fetch()
    assert fetch.kind == "untagged" and fetch.number == 3 and fetch.name == "FETCH"
    assert items["UID"] == "7" and items["FLAGS"] == ["\\Seen"]
    assert items["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: x\r\n\r\n"
    assert items["BODY[]<0>"] == b"{5}\r\n)\r\n\r\n"  # a literal may hold what looks like a marker, ) and CRLF
    assert done.kind == "tagged" and done.tag == "a1" and done.ok and not fetch.problems


@WAYS
def test_untagged_tagged_and_continuation_responses(way):
    data = (b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n+ Ready for literal data\r\n"
            b"* LIST (\\HasNoChildren) \".\" \"a b\"\r\na2 NO [TRYCREATE] no such mailbox\r\n"
            b"* STATUS box (MESSAGES 2 UIDNEXT 9)\r\n* SEARCH 2 3 5\r\n")
    ok, cont, listed, no, status, search = responses(way, data, 6)
    assert ok.status == "OK" and ok.code == "UIDVALIDITY" and ok.code_int() == 3857529045 and ok.text == "UIDs valid"
    assert cont.kind == "continuation" and cont.text == "Ready for literal data"
    entry = listed.mailbox_list()
    assert entry.name == "a b" and entry.delimiter == "." and entry.has("\\hasnochildren")
    assert no.tag == "a2" and no.status == "NO" and no.code == "TRYCREATE"
    assert status.status_items() == ("box", {"MESSAGES": 2, "UIDNEXT": 9})
    assert search.numbers() == [2, 3, 5]


@WAYS
def test_problems_are_recorded_never_thrown(way):
    data = b"* ok lower case\na1 FOO bar\r\n* 1 FETCH (FLAGS (\\Seen)\r\n+no space\r\n"
    lower, odd, unclosed, cont = responses(way, data, 4)
    assert any("upper case" in p for p in lower.problems) and any("bare LF" in p for p in lower.problems)
    assert any("without OK, NO or BAD" in p for p in odd.problems)
    assert unclosed.fetch() == {"FLAGS": ["\\Seen"]} and any("not closed" in p for p in unclosed.problems)
    assert cont.kind == "continuation" and any("no space" in p for p in cont.problems)


@WAYS
def test_literal8_is_marked_binary(way):
    data = b"* 1 FETCH (BINARY[2] ~{4}\r\n\x00\x01\xff\n)\r\n"
    (resp,) = responses(way, data, 1)
    assert resp.fetch()["BINARY[2]"] == b"\x00\x01\xff\n"
    assert any(isinstance(p, ResponseLiteral) and p.binary for p in resp.raw.parts) and not resp.problems


def test_tokens_keep_sections_and_partials_in_one_atom_and_nil_apart_from_a_string():
    toks = tokens([b'BODY[HEADER.FIELDS (TO "X")]<0> NIL "NIL" "a\\"b" (x (y))'])
    assert [t.kind for t in toks] == ["atom", "atom", "string", "string", "(", "atom", "(", "atom", ")", ")"]
    vals = values(toks)
    assert vals[0] == 'BODY[HEADER.FIELDS (TO "X")]<0>' and vals[1] is None and vals[2] == b"NIL"
    assert vals[3] == b'a"b' and vals[4] == ["x", ["y"]]


def test_envelope_and_bodystructure_in_rfc_order():
    resp = feed_all(b'* 1 FETCH (ENVELOPE ("d" "s" (("N" NIL "a" "x.org")) NIL NIL ((NIL NIL "b" "y.org")) NIL NIL '
                    b'NIL "<m@x>") BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 1 NIL NIL '
                    b'NIL NIL)("APPLICATION" "OCTET-STREAM" NIL NIL "blob" "BASE64" 20 NIL NIL NIL NIL) "MIXED" '
                    b'("BOUNDARY" "b") NIL NIL NIL))\r\n', 7)[0]
    env = envelope(resp.fetch()["ENVELOPE"])
    assert env.subject == "s" and env.from_[0].email == "a@x.org" and env.sender is None and env.message_id == "<m@x>"
    top = bodystructure(resp.fetch()["BODYSTRUCTURE"])
    assert (top.type, top.subtype, top.params) == ("MULTIPART", "MIXED", {"BOUNDARY": "b"})
    assert [(p.type, p.subtype, p.size) for p in top.parts] == [("TEXT", "PLAIN", 10), ("APPLICATION", "OCTET-STREAM",
                                                                                           20)]
    assert top.parts[0].lines == 1 and top.parts[1].description == "blob" and top.parts[1].encoding == "BASE64"


def test_command_arguments():
    assert astring("INBOX") == "INBOX" and astring("a b") == '"a b"' and astring('q"\\') == '"q\\"\\\\"'
    assert astring("") == '""' and astring("*") == '"*"'
    assert sequence_set([5, 1, 2, 3, 9, 10]) == "1:3,5,9:10" and sequence_set([]) == ""


def test_completion_collects_untagged_in_order_and_survives_bye_and_close():
    async def go():
        data = b"* 1 EXISTS\r\n* 1 RECENT\r\nw1 OK done\r\n* BYE going away\r\n"
        with FakeServer(Raw(data, then="close")) as server:
            wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=3.0)
            client = ImapClient(wire)
            first = await client.read_completion(Completion("w1"))
            second = await client.read_completion(Completion("w2"))
            return first, second
    first, second = asyncio.run(go())
    assert first.ok and [r.name for r in first.untagged] == ["EXISTS", "RECENT"]
    assert second.closed and second.tagged is None and second.first("BYE") is not None


def test_synchronizing_and_non_synchronizing_literals_on_the_wire():
    store = FakeStore()

    async def go():
        with FakeServer(ImapFake(store)) as server:
            wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=3.0)
            client = ImapClient(wire)
            await client.read_greeting()
            assert (await client.login("u", "pw")).ok
            appended = await client.append("INBOX", b"Subject: x\r\n\r\nbody\r\n")
            refused = await client.command("XWPBOGUS")
            return appended, refused, client.capabilities
    appended, refused, caps = asyncio.run(go())
    assert appended.ok and appended.continuations and appended.sent.endswith(b"body\r\n\r\n")
    assert refused.status == "BAD" and "IMAP4REV1" in caps
    assert store.mailboxes["INBOX"].messages[0].content == b"Subject: x\r\n\r\nbody\r\n"


# --- the script dialect on the wire --------------------------------------------------------------------------


class _Text:
    name = "x.wire"

    def __init__(self, text: str) -> None:
        self.text = text

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


def run_script(text: str, fake: ImapFake, **params: str):
    (check,) = _script_checks("imap", _Text(text))
    with FakeServer(fake) as server:
        target = from_urls([server.url("imap", **params)])
        target.accounts = [Account("alice", "pw")]
        caps = Capabilities("imap", keywords={"IMAP4REV1"}, params={"prefix": "", "delimiter": "."})
        return asyncio.run(execute(check, target, {"imap": caps}, RunOptions(read_timeout=2.0, connect_timeout=2.0),
                                   budget=20))


SCRIPT = """check imap.x.y
rfc: rfc3501#6.3.1
requirement: test
needs: account

S: * OK ...
C: a1 LOGIN ${login}
S: a1 OK ...
C: a2 CREATE ${box}
S: a2 OK ...
C: a3 APPEND ${box} {18}
S: + ...
C: Subject: x\\r\\n\\r\\nbody
MUST S: a3 OK ...
C: a4 SELECT ${box}
MUST S: a4 OK [READ-WRITE] ...
# Untagged responses are matched in any order: EXISTS comes after FLAGS on the wire.
MUST has: * 1 EXISTS
MUST has: * FLAGS (...)
MUST lacks: * 2 EXISTS
C: a5 FETCH 1 (BODY.PEEK[])
MUST S: a5 OK ...
MUST has: * 1 FETCH (BODY[] \\{18\\}...Subject: x...body...)
"""


def test_script_units_match_untagged_responses_in_any_order_and_clean_up():
    store = FakeStore()
    result = run_script(SCRIPT, ImapFake(store))
    assert result.verdict is Verdict.PASS, (result.reason, result.observed)
    assert set(store.mailboxes) == {"INBOX"}  # the scratch mailbox was deleted after the check


def test_script_lacks_and_a_missing_untagged_response_fail():
    result = run_script(SCRIPT.replace("MUST lacks: * 2 EXISTS", "MUST lacks: * 1 EXISTS"), ImapFake())
    assert result.verdict is Verdict.FAIL and "lacks" in result.reason
    result = run_script(SCRIPT.replace("MUST has: * FLAGS (...)", "MUST has: * 7 RECENT"), ImapFake())
    assert result.verdict is Verdict.FAIL and "7 RECENT" in result.reason
