"""The simulator's NNTP server core (simulator/protocols/nntp.py) driven in memory, held to RFC 3977 with
STARTTLS (RFC 4642) and AUTHINFO (RFC 4643).

Every conversation runs twice: each step fed whole and fed one byte at a time; both runs must write the
same bytes and raise the same events. No sockets. The requests that need articles (GROUP, ARTICLE, ...)
are answered by a tiny stand-in for the server side, which only records them and gives a fixed reply.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.nntp import (
    DATA_COMMANDS,
    KNOWN_LIST_KEYWORDS,
    SESSION_COMMANDS,
    Closed,
    Login,
    NntpConfig,
    NntpServer,
    Posted,
    Request,
    StartTls,
    is_message_id,
    parse_range,
    wildmat,
)

from sansio import TLS, drive

ARTICLE = b"From: a@example.org\r\nSubject: s\r\nNewsgroups: wireproof.test\r\n\r\nbody\r\n"


@dataclass
class ServerSide:
    """The rest of the server, as the machine's events see it."""

    password: str = "pw"
    requests: list[Request] = field(default_factory=list)

    def answer(self, server: NntpServer, event: object) -> None:
        if isinstance(event, Request):
            self.requests.append(event)
            if event.name == "GROUP":
                server.select(event.args[0], 1)
                server.respond(211, f"2 1 2 {event.args[0]}")
            elif event.name == "ARTICLE":
                server.respond_article(220, "1 <a@b>", b"Subject: x\r\n\r\n.dot\r\n")
            elif event.name == "DATE":
                server.respond(111, "20261127120000")
            else:
                server.respond(500 + 3, f"{event.name} not in this stand-in")
        elif isinstance(event, Posted):
            server.respond(240, "Article received")
        elif isinstance(event, Login):
            server.login_ok(event.user) if event.password == self.password else server.login_failed()


@dataclass
class Run:
    greeting: bytes
    output: bytes
    events: list[object]
    server: NntpServer

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def codes(self) -> list[str]:
        """The status code of every response line (data lines and "." left out)."""
        out, in_block = [], False
        for line in self.output.split(b"\r\n")[:-1]:
            if in_block:
                in_block = line != b"."
                continue
            code = line[:3].decode()
            out.append(code)
            in_block = code in ("100", "101", "215", "220", "221", "222", "224", "225", "230", "231")
        return out


def _run_once(config: NntpConfig, steps: tuple, bytewise: bool) -> Run:
    server = NntpServer(config)
    greeting, out, events = drive(server, steps, ServerSide().answer, bytewise=bytewise)
    return Run(greeting, out, events, server)


def converse(*steps, **config) -> Run:
    cfg = NntpConfig("news.example", **config)
    whole = _run_once(cfg, steps, bytewise=False)
    bytewise = _run_once(cfg, steps, bytewise=True)
    assert bytewise.greeting == whole.greeting
    assert bytewise.output == whole.output, "byte-at-a-time feeding changed the responses"
    assert [repr(e) for e in bytewise.events] == [repr(e) for e in whole.events]
    return whole


def lines(*commands: str) -> tuple:
    return tuple(TLS if c == "<TLS>" else c.encode() + b"\r\n" for c in commands)


def codes(*commands: str, **config) -> list[str]:
    return converse(*lines(*commands), **config).codes


def caps_of(run: Run) -> list[bytes]:
    """The capability lines of the last 101 response in the output."""
    block = run.output[run.output.rindex(b"101 "):]
    return block.split(b"\r\n")[1:block.split(b"\r\n").index(b".")]


# --- greeting, CAPABILITIES, MODE READER, HELP, DATE, QUIT ----------------------------------------------------


def test_greeting_is_200_when_posting_is_allowed_and_201_when_not():
    assert converse().greeting.startswith(b"200 news.example ")
    assert converse(posting=False).greeting.startswith(b"201 ")


def test_capabilities_start_with_version_2_and_list_reader_commands():
    run = converse(*lines("CAPABILITIES"))
    caps = caps_of(run)
    assert caps[0] == b"VERSION 2"
    assert b"READER" in caps and b"POST" in caps and b"OVER MSGID" in caps and b"HDR" in caps
    listed = next(c for c in caps if c.startswith(b"LIST "))
    assert {b"ACTIVE", b"NEWSGROUPS", b"OVERVIEW.FMT", b"HEADERS"} <= set(listed.split()[1:])
    assert len({c.split()[0] for c in caps}) == len(caps)  # no label twice (RFC 3977 5.2.2)


def test_capabilities_follow_the_session_state():
    before = caps_of(converse(*lines("CAPABILITIES"), starttls=True))
    assert b"STARTTLS" in before and b"AUTHINFO USER SASL" in before and b"SASL PLAIN" in before
    after_login = caps_of(converse(*lines("AUTHINFO USER alice", "AUTHINFO PASS pw", "CAPABILITIES"),
                                   starttls=True))
    assert not [c for c in after_login if c.split()[0] in (b"STARTTLS", b"AUTHINFO", b"SASL")]
    no_post = caps_of(converse(*lines("CAPABILITIES"), posting=False))
    assert b"POST" not in no_post


def test_authinfo_is_not_advertised_before_tls_when_plaintext_auth_is_off():
    caps = caps_of(converse(*lines("CAPABILITIES"), starttls=True, plaintext_auth=False))
    assert b"STARTTLS" in caps and not [c for c in caps if c.startswith((b"AUTHINFO", b"SASL"))]
    inside = caps_of(converse(*lines("STARTTLS"), TLS, *lines("CAPABILITIES"), starttls=True, plaintext_auth=False))
    assert b"STARTTLS" not in inside and b"AUTHINFO USER SASL" in inside


def test_mode_reader_answers_200_or_201_and_takes_no_other_argument():
    assert codes("MODE READER", "mode reader", "MODE STREAM", "MODE") == ["200", "200", "501", "501"]
    assert codes("MODE READER", posting=False) == ["201"]


def test_help_is_a_multi_line_block_and_takes_no_argument():
    run = converse(*lines("HELP", "HELP me"))
    assert run.codes == ["100", "501"]
    assert run.output.startswith(b"100 ") and b"\r\n.\r\n501 " in run.output


def test_date_is_asked_of_the_server_side_which_has_the_clock():
    run = converse(*lines("DATE", "DATE now"))
    assert run.codes == ["111", "501"]
    assert [e.name for e in run.of(Request)] == ["DATE"]


def test_quit_answers_205_and_closes():
    run = converse(*lines("QUIT", "DATE"))
    assert run.codes == ["205"] and run.server.closed and len(run.of(Closed)) == 1


# --- generic responses ---------------------------------------------------------------------------------------


def test_an_unknown_command_is_500_and_internal_names_are_not_commands():
    assert codes("XWPBOGUS", "RESPOND", "SELECT x", "LINE", "") == ["500", "500", "500", "500", "500"]


def test_keywords_are_case_insensitive():
    assert codes("capabilities", "Mode Reader") == ["101", "200"]


def test_a_line_longer_than_the_limit_is_one_501_and_the_next_command_is_read():
    run = converse(b"HELP " + b"x" * 2000 + b"\r\nDATE\r\n", max_line=1000)
    assert run.codes == ["501", "111"]


def test_a_nul_in_the_command_is_501():
    assert codes("DA\0TE") == ["501"]


def test_a_command_line_that_is_not_utf8_is_501():
    assert converse(b"GROUP \xff\xfe\r\n").codes == ["501"]


def test_every_known_command_is_either_answered_by_the_machine_or_a_request():
    assert not set(SESSION_COMMANDS) & DATA_COMMANDS
    assert {"ARTICLE", "HEAD", "BODY", "STAT", "GROUP", "LISTGROUP", "NEXT", "LAST", "OVER", "HDR", "LIST",
            "NEWGROUPS", "NEWNEWS"} <= DATA_COMMANDS
    assert {"CAPABILITIES", "MODE", "DATE", "HELP", "QUIT", "POST", "STARTTLS", "AUTHINFO"} == set(SESSION_COMMANDS)
    assert {"ACTIVE", "NEWSGROUPS", "OVERVIEW.FMT", "HEADERS", "DISTRIB.PATS"} <= KNOWN_LIST_KEYWORDS


def test_data_commands_become_requests_with_xover_and_xhdr_mapped():
    run = converse(*lines("GROUP wireproof.test", "XOVER 1-2", "XHDR Subject 1", "article 1"))
    assert [(e.name, e.args) for e in run.of(Request)] == [
        ("GROUP", ["wireproof.test"]), ("OVER", ["1-2"]), ("HDR", ["Subject", "1"]), ("ARTICLE", ["1"])]
    assert run.server.group == "wireproof.test" and run.server.pointer == 1


def test_pipelined_commands_wait_for_the_pending_request_and_are_answered_in_order():
    run = converse(b"GROUP g\r\nARTICLE 1\r\nDATE\r\nHELP\r\n")
    assert run.codes == ["211", "220", "111", "100"]


def test_article_data_is_dot_stuffed_on_the_way_out():
    run = converse(*lines("ARTICLE 1"))
    assert b"\r\n..dot\r\n.\r\n" in run.output


# --- POST ----------------------------------------------------------------------------------------------------


def test_post_is_340_then_the_unstuffed_article_is_posted():
    run = converse(b"POST\r\n", b"Subject: s\r\n\r\n..dotted\r\nplain\r\n.\r\n")
    assert run.codes == ["340", "240"]
    assert run.of(Posted) == [Posted(b"Subject: s\r\n\r\n.dotted\r\nplain\r\n")]


def test_post_with_an_argument_is_501_and_without_posting_440():
    assert codes("POST now") == ["501"]
    assert codes("POST", posting=False) == ["440"]


def test_an_article_over_the_size_limit_or_with_an_overlong_line_is_refused_441():
    big = converse(b"POST\r\n", b"Subject: s\r\n\r\n" + b"x" * 500 + b"\r\n.\r\nDATE\r\n", max_article=100)
    assert big.codes == ["340", "441", "111"] and not big.of(Posted)
    long_line = converse(b"POST\r\n", b"Subject: s\r\n\r\n" + b"y" * 300 + b"\r\n.\r\n", max_line=200)
    assert long_line.codes == ["340", "441"] and b"overlong line" in long_line.output


def test_commands_inside_the_article_are_text_not_commands():
    run = converse(b"POST\r\nQUIT\r\n.\r\nDATE\r\n")
    assert run.codes == ["340", "240", "111"] and run.of(Posted) == [Posted(b"QUIT\r\n")]


# --- AUTHINFO USER/PASS and SASL ------------------------------------------------------------------------------


def test_user_then_pass_logs_in_and_authinfo_is_then_502():
    run = converse(*lines("AUTHINFO USER alice", "AUTHINFO PASS pw", "AUTHINFO USER bob"))
    assert run.codes == ["381", "281", "502"]
    assert run.of(Login) == [Login("alice", "pw", "USER")] and run.server.user == "alice"


def test_a_password_keeps_its_spaces():
    run = converse(*lines("AUTHINFO USER alice", "AUTHINFO PASS p w"))
    assert run.of(Login) == [Login("alice", "p w", "USER")] and run.codes == ["381", "481"]


def test_a_wrong_password_is_481_and_pass_without_user_482():
    assert codes("AUTHINFO USER alice", "AUTHINFO PASS nope") == ["381", "481"]
    assert codes("AUTHINFO PASS pw") == ["482"]
    assert codes("AUTHINFO USER alice", "AUTHINFO PASS nope", "AUTHINFO PASS pw") == ["381", "481", "482"]


def test_authinfo_syntax_errors_are_501():
    assert codes("AUTHINFO", "AUTHINFO USER", "AUTHINFO FOO bar", "AUTHINFO SASL") == ["501"] * 4


def test_authinfo_without_tls_when_plaintext_auth_is_off_is_483():
    assert codes("AUTHINFO USER alice", starttls=True, plaintext_auth=False) == ["483"]


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def test_sasl_plain_with_an_initial_response_logs_in():
    run = converse(*lines(f"AUTHINFO SASL PLAIN {plain('alice', 'pw')}"))
    assert run.codes == ["281"] and run.of(Login) == [Login("alice", "pw", "PLAIN")]


def test_sasl_plain_without_initial_response_gets_an_empty_challenge_written_as_equals():
    run = converse(*lines("AUTHINFO SASL PLAIN", plain("alice", "pw")))
    assert run.output.startswith(b"383 =\r\n") and run.codes == ["383", "281"]


def test_sasl_cancel_is_481_bad_base64_504_unknown_mechanism_503():
    assert codes("AUTHINFO SASL PLAIN", "*", "DATE") == ["383", "481", "111"]
    assert codes("AUTHINFO SASL PLAIN abcd=efg") == ["504"]
    assert codes("AUTHINFO SASL XWP-NOTHING") == ["503"]
    assert codes("AUTHINFO SASL PLAIN", "=") == ["383", "504"]  # an empty PLAIN response has no credentials


def test_a_wrong_sasl_password_is_481():
    assert codes(f"AUTHINFO SASL PLAIN {plain('alice', 'bad')}") == ["481"]


# --- STARTTLS -----------------------------------------------------------------------------------------------


def test_starttls_is_382_discards_pipelined_plaintext_and_forgets_the_group():
    run = converse(b"GROUP g\r\n", b"STARTTLS\r\nDATE\r\n", TLS, *lines("DATE"), starttls=True)
    assert run.codes == ["211", "382", "111"]  # the pipelined DATE was never answered
    assert len(run.of(StartTls)) == 1 and run.server.tls and run.server.group is None and run.server.pointer is None


def test_starttls_again_after_login_or_when_not_offered_is_502():
    assert codes("STARTTLS", "<TLS>", "STARTTLS", starttls=True) == ["382", "502"]
    assert codes("AUTHINFO USER alice", "AUTHINFO PASS pw", "STARTTLS", starttls=True) == ["381", "281", "502"]
    assert codes("STARTTLS") == ["502"]
    assert codes("STARTTLS now", starttls=True) == ["501"]


# --- argument helpers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, high, expected", [
    ("5", 9, (5, 5)), ("5-", 9, (5, 9)), ("5-", 3, (5, 5)), ("5-7", 9, (5, 7)), ("7-5", 9, (7, 5)),
    ("", 9, None), ("-5", 9, None), ("a-b", 9, None), ("5-7-9", 9, None), ("+5", 9, None)])
def test_parse_range(text, high, expected):
    assert parse_range(text, high) == expected


@pytest.mark.parametrize("text, ok", [
    ("<a@b>", True), ("<x>", True), ("a@b", False), ("<a b@c>", False), ("<a>b>", False), ("<>", False),
    ("<" + "x" * 248 + ">", True), ("<" + "x" * 249 + ">", False)])
def test_is_message_id(text, ok):
    assert is_message_id(text) is ok


@pytest.mark.parametrize("pattern, name, matches", [
    ("*", "comp.lang.python", True), ("comp.*", "comp.lang.python", True), ("comp.*", "alt.comp", False),
    ("comp.?ang.*", "comp.lang.c", True), ("comp.*,!comp.lang.*", "comp.lang.c", False),
    ("comp.*,!comp.lang.*", "comp.os.linux", True), ("!comp.*,comp.lang.*", "comp.lang.c", True),
    ("a.b", "a.b", True), ("a.b", "aXb", False), ("a+b", "a+b", True)])
def test_wildmat_rightmost_matching_pattern_decides(pattern, name, matches):
    assert wildmat(pattern, name) is matches


# --- any chunking of a pipelined conversation gives the same bytes ---------------------------------------------

CONVERSATION = (b"CAPABILITIES\r\nGROUP g\r\nARTICLE 1\r\nPOST\r\nSubject: s\r\n\r\n..x\r\n.\r\n"
                b"AUTHINFO USER alice\r\nAUTHINFO PASS pw\r\nHELP\r\nXWPBOGUS\r\nQUIT\r\n")


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(CONVERSATION) - 1), unique=True, max_size=20))
def test_any_chunking_of_a_pipelined_conversation_gives_the_same_output(cuts):
    bounds = [0, *sorted(cuts), len(CONVERSATION)]
    chunks = tuple(CONVERSATION[a:b] for a, b in zip(bounds, bounds[1:]))
    whole = _run_once(NntpConfig("news.example"), (CONVERSATION,), bytewise=False)
    chunked = _run_once(NntpConfig("news.example"), chunks, bytewise=False)
    assert chunked.output == whole.output
    assert whole.codes == ["101", "211", "220", "340", "240", "381", "281", "100", "500", "205"]
