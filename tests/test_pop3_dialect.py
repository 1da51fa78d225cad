"""The POP3 reader and the POP3 script dialect, on the wire against fake servers.

Every reader case is run twice: with the server's octets in one write and one byte at a time.
"""
from __future__ import annotations

import asyncio

import pytest
from fakes import FakeServer, Raw
from pop3_fake import FakeMaildrop, Pop3Fake

from conformance.context import Capabilities, RunOptions
from conformance.dialects.pop3 import Pop3Client, dot_stuffed, parse_status_line
from conformance.dialects.pop3_script import is_multiline
from conformance.model import Verdict
from conformance.registry import _script_checks
from conformance.runner import execute
from conformance.wire.session import Session
from conformance.wire.transcript import Transcript

BOTH = pytest.mark.parametrize("byte_at_a_time", [False, True], ids=["one-write", "byte-at-a-time"])


def read(data: bytes, byte_at_a_time: bool, multiline: bool | list[bool] = False, count: int = 1):
    """The responses a Pop3Client reads from a server that sends `data` (`multiline` per response, or for all)."""
    flags = multiline if isinstance(multiline, list) else [multiline] * count

    async def go():
        with FakeServer(Raw(data, byte_at_a_time=byte_at_a_time)) as server:
            wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=2.0)
            client = Pop3Client(wire)
            out = [await client.read_response(multiline=flag) for flag in flags]
            await wire.close()
            return out
    return asyncio.run(go())


@BOTH
def test_multiline_response_is_dot_unstuffed_and_ends_at_the_lone_dot(byte_at_a_time):
    data = b"+OK 45 octets\r\nSubject: x\r\n\r\n..leading dot\r\n...\r\n..\r\nplain\r\n.\r\n-ERR next\r\n"
    first, after = read(data, byte_at_a_time, multiline=[True, False])
    assert first.ok and first.multiline and first.text == "45 octets"
    assert first.data == [b"Subject: x", b"", b".leading dot", b"..", b".", b"plain"]
    assert first.content == b"Subject: x\r\n\r\n.leading dot\r\n..\r\n.\r\nplain\r\n"
    assert first.raw[-1] == b".\r\n" and not first.problems
    assert after.err and after.text == "next"  # the terminating line ended the first response exactly


@BOTH
def test_err_with_response_codes(byte_at_a_time):
    in_use, sys_temp, plain = read(b"-ERR [IN-USE] busy\r\n-ERR [sys/temp] later\r\n-ERR no code\r\n", byte_at_a_time,
                                   count=3)
    assert (in_use.status, in_use.code, in_use.text) == ("-ERR", "IN-USE", "[IN-USE] busy")
    assert sys_temp.code == "SYS/TEMP"
    assert plain.code is None and not plain.problems


@BOTH
def test_multiline_flag_reads_no_data_after_err(byte_at_a_time):
    (reply,) = read(b"-ERR no such message\r\n", byte_at_a_time, multiline=True)
    assert reply.err and not reply.multiline and reply.data == []


@BOTH
def test_bare_lf_is_recorded_as_a_problem_not_an_exception(byte_at_a_time):
    status, multi = read(b"+OK ready\n+OK\r\nline\n.\r\n", byte_at_a_time, multiline=[False, True])
    assert status.ok and any("bare LF" in p for p in status.problems)
    assert multi.data == [b"line"] and any("bare LF" in p for p in multi.problems)


@BOTH
def test_sasl_continuation_and_malformed_status_lines(byte_at_a_time):
    cont, lower, junk = read(b"+ \r\n+ok fine\r\nHELLO\r\n", byte_at_a_time, count=3)
    assert cont.status == "+" and cont.text == "" and not cont.problems
    assert lower.status == "+OK" and any("upper case" in p for p in lower.problems)
    assert junk.status == "" and any("not a POP3 status line" in p for p in junk.problems)


def test_status_line_over_512_octets_is_a_problem():
    assert any("512" in p for p in parse_status_line(b"+OK " + b"x" * 600 + b"\r\n")[2])
    assert parse_status_line(b"+OK " + b"x" * 506 + b"\r\n")[2] == []


def test_dot_stuffed_is_what_a_conforming_server_sends():
    assert dot_stuffed(b".a\r\nb\r\n.\r\n") == [b"..a\r\n", b"b\r\n", b"..\r\n", b".\r\n"]


@pytest.mark.parametrize("line, multi", [
    (b"CAPA", True), (b"capa", True), (b"LIST", True), (b"LIST 1", False), (b"UIDL", True), (b"UIDL 2", False),
    (b"RETR 1", True), (b"TOP 1 0", True), (b"AUTH", True), (b"AUTH PLAIN", False), (b"STAT", False),
    (b"QUIT", False), (b"", False), (b"dGVzdAB0ZXN0", False),
])
def test_which_commands_have_multiline_success_responses(line, multi):
    assert is_multiline(line) is multi


# --- the script dialect on the wire ---------------------------------------------------------------------


class _Text:
    name = "x.wire"

    def __init__(self, text: str) -> None:
        self.text = text

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


def run_script(text: str, fake: Pop3Fake):
    (check,) = _script_checks("pop3", _Text(text))
    with FakeServer(fake) as server:
        target = server.target()
        target.endpoints = {"pop3": target.endpoints["smtp"].__class__(scheme="pop3", host=server.host,
                                                                        port=server.port)}
        from conformance.target import Account

        target.accounts = [Account("bob", "pw")]
        return asyncio.run(execute(check, target, {"pop3": Capabilities("pop3")},
                                   RunOptions(read_timeout=2.0, connect_timeout=2.0), budget=10))


SCRIPT = """check pop3.x.y
rfc: rfc1939#5
requirement: test
needs: account

S: +OK
C= USER ${pop3_user}\\r\\nPASS ${pop3_password}\\r\\nCAPA\\r\\n
S: +OK
S: +OK
S: +OK
has: UIDL
C= LIST\\r\\nRETR 1\\r\\nSTAT\\r\\n
MUST S: +OK
has: 1 {size}
MUST S: +OK
has: .dot line
MUST S: +OK 1 ${size}
"""


def test_pipelined_script_reads_each_response_as_its_command_needs():
    drop = FakeMaildrop()
    drop.add(b"Subject: t\r\n\r\n.dot line\r\n")
    result = run_script(SCRIPT, Pop3Fake(drop))
    assert result.verdict is Verdict.PASS, (result.reason, result.observed)


def test_script_assertion_on_a_wrong_response_fails():
    drop = FakeMaildrop()
    drop.add(b"Subject: t\r\n\r\nbody\r\n")
    text = SCRIPT.replace("has: .dot line", "has: .other line")
    result = run_script(text, Pop3Fake(drop))
    assert result.verdict is Verdict.ERROR  # an unmarked `has:` is setup: it cannot turn into a failure
    result = run_script(text.replace("has: .other line", "MUST has: .other line"), Pop3Fake(drop))
    assert result.verdict is Verdict.FAIL and "other line" in result.reason
