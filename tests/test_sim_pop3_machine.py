"""The simulator's POP3 server core (simulator/protocols/pop3.py) driven in memory, held to RFC 1939 with
CAPA (RFC 2449), STLS (RFC 2595) and SASL (RFC 5034).

Every conversation runs twice: each step fed whole and fed one byte at a time; both runs must write the
same bytes and raise the same events. No sockets.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from simulator.protocols.pop3 import (
    COMMANDS,
    ApopLogin,
    Closed,
    Entry,
    Fetch,
    Login,
    Pop3Config,
    Pop3Server,
    StartTls,
    State,
    Update,
)

from sansio import TLS, drive

TIMESTAMP = "<1896.697170952@pop.example>"
PASSWORD = "tanstaaf"

BODY1 = b"Subject: one\r\nFrom: a@a.example\r\n\r\nline 1\r\n.dotted\r\nline 3\r\n"
BODY2 = b"Subject: two\r\n\r\n" + b"x" * 20 + b"\r\n"
BODY3 = b"Subject: three\r\n\r\nend\r\n"
ENTRIES = [Entry("store:/1", "uid-1", len(BODY1)), Entry("store:/2", "uid-2", len(BODY2)),
           Entry("store:/3", "uid-3", len(BODY3))]
BODIES = {"store:/1": BODY1, "store:/2": BODY2, "store:/3": BODY3}
TOTAL = sum(e.size for e in ENTRIES)


@dataclass
class Maildrop:
    """The rest of the server, as the machine's events see it."""

    password: str = PASSWORD
    entries: list[Entry] = field(default_factory=lambda: list(ENTRIES))
    bodies: dict[str, bytes] = field(default_factory=lambda: dict(BODIES))
    update_ok: bool = True

    def answer(self, server: Pop3Server, event: object) -> None:
        if isinstance(event, Login):
            if event.password == self.password:
                server.logged_in(self.entries)
            else:
                server.login_failed("AUTH", "Invalid credentials")
        elif isinstance(event, ApopLogin):
            if event.matches(self.password):
                server.logged_in(self.entries)
            else:
                server.login_failed("AUTH", "Invalid credentials")
        elif isinstance(event, Fetch):
            server.provide(self.bodies[event.key])
        elif isinstance(event, Update):
            server.updated(self.update_ok)


@dataclass
class Run:
    greeting: bytes
    output: bytes
    events: list[object]
    server: Pop3Server

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def status(self) -> list[str]:
        return status_lines(self.output)


def _run_once(config: Pop3Config, steps: tuple, drop: Maildrop, bytewise: bool) -> Run:
    server = Pop3Server(config)
    greeting, out, events = drive(server, steps, drop.answer, bytewise=bytewise)
    return Run(greeting, out, events, server)


def converse(*steps, drop: Maildrop | None = None, **config) -> Run:
    config = Pop3Config("pop.example", TIMESTAMP, **config)
    whole = _run_once(config, steps, drop or Maildrop(), bytewise=False)
    bytewise = _run_once(config, steps, drop or Maildrop(), bytewise=True)
    assert bytewise.greeting == whole.greeting
    assert bytewise.output == whole.output, "byte-at-a-time feeding changed the responses"
    assert [repr(e) for e in bytewise.events] == [repr(e) for e in whole.events]
    assert bytewise.server.state is whole.server.state
    return whole


MULTILINE = ("CAPA", "LIST", "UIDL", "RETR", "TOP", "AUTH")


def responses(output: bytes, commands: list[str]) -> list[list[bytes]]:
    """Split the output into one response per command: single-line, or (for a +OK to a multi-line
    command) the status line, the dot-stuffed lines and the terminating "."."""
    lines = output.split(b"\r\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    result, i = [], 0
    for command in commands:
        status = lines[i]
        i += 1
        words = command.split()
        multi = status.startswith(b"+OK") and words[0].upper() in MULTILINE and not (
            words[0].upper() in ("LIST", "UIDL") and len(words) > 1) and not (
            words[0].upper() == "AUTH" and len(words) > 1)
        response = [status]
        if multi:
            while lines[i] != b".":
                response.append(lines[i])
                i += 1
            response.append(lines[i])
            i += 1
        result.append(response)
    assert i == len(lines), f"unexpected trailing lines {lines[i:]}"
    return result


def status_lines(output: bytes) -> list[str]:
    """The first word of every line that is a status indicator or a continuation."""
    return [line.split(b" ")[0].decode() for line in output.split(b"\r\n")[:-1]
            if line.startswith((b"+OK", b"-ERR", b"+ ")) or line == b"+"]


def b64(text: str) -> bytes:
    return base64.b64encode(text.encode())


LOGIN = b"USER alice\r\nPASS " + PASSWORD.encode() + b"\r\n"


def digest(password: str = PASSWORD, timestamp: str = TIMESTAMP) -> str:
    return hashlib.md5((timestamp + password).encode()).hexdigest()


# --- greeting, CAPA --------------------------------------------------------------------------------------------


def test_greeting_carries_the_apop_timestamp_when_apop_is_offered():
    run = converse()
    assert run.greeting == b"+OK pop.example wireproof POP3 service ready " + TIMESTAMP.encode() + b"\r\n"
    assert run.server.state is State.AUTHORIZATION


def test_greeting_has_no_timestamp_without_apop():
    assert converse(apop=False).greeting == b"+OK pop.example wireproof POP3 service ready\r\n"


def capa(run: Run, index: int) -> list[bytes]:
    return run_responses(run)[index][1:-1]


def run_responses(run: Run) -> list[list[bytes]]:
    return responses(run.output, run._commands)  # type: ignore[attr-defined]


def commands_run(*commands: str, **kwargs) -> Run:
    """A conversation of whole command lines, responses split per command (`run._commands`)."""
    steps = []
    for command in commands:
        steps.append(TLS if command == "<TLS>" else command.encode() + b"\r\n")
    run = converse(*steps, **kwargs)
    run._commands = [c for c in commands if c != "<TLS>"]  # type: ignore[attr-defined]
    return run


def test_capa_in_authorization_lists_user_sasl_and_the_session_capabilities():
    run = commands_run("CAPA", stls=True)
    caps = capa(run, 0)
    assert run_responses(run)[0][0].startswith(b"+OK")
    for cap in (b"TOP", b"UIDL", b"RESP-CODES", b"AUTH-RESP-CODE", b"PIPELINING", b"USER", b"SASL PLAIN LOGIN",
                b"STLS"):
        assert cap in caps
    assert any(c.startswith(b"IMPLEMENTATION ") for c in caps)


def test_capa_in_transaction_keeps_user_and_sasl_but_not_stls():
    # RFC 2449 5 / RFC 5034 3: announced before login means announced after it; STLS is for AUTHORIZATION only
    run = commands_run("USER alice", "PASS " + PASSWORD, "CAPA", stls=True)
    caps = capa(run, 2)
    assert b"TOP" in caps and b"UIDL" in caps and b"USER" in caps and b"SASL PLAIN LOGIN" in caps
    assert b"STLS" not in caps


def test_capa_without_tls_and_plaintext_auth_offers_only_stls_then_the_logins_after_tls():
    run = commands_run("CAPA", "STLS", "<TLS>", "CAPA", stls=True, plaintext_auth=False)
    before, after = capa(run, 0), capa(run, 2)
    assert b"STLS" in before and b"USER" not in before and not [c for c in before if c.startswith(b"SASL")]
    assert b"STLS" not in after and b"USER" in after and b"SASL PLAIN LOGIN" in after


def test_capa_announces_sasl_even_when_user_pass_is_not_offered():
    run = commands_run("CAPA", "AUTH PLAIN " + b64("\0alice\0" + PASSWORD).decode(), user_pass=False)
    assert run_responses(run)[1][0].startswith(b"+OK")  # AUTH works...
    assert b"SASL PLAIN LOGIN" in capa(run, 0)  # ...so it must be announced


# --- USER / PASS, APOP ----------------------------------------------------------------------------------------


def test_user_then_pass_logs_in_and_enters_transaction():
    run = converse(LOGIN)
    assert run.status == ["+OK", "+OK"]
    assert run.output.endswith(f"+OK Logged in: 3 messages ({TOTAL} octets)\r\n".encode())
    assert [repr(e) for e in run.of(Login)] == [repr(Login("alice", PASSWORD, "USER"))]
    assert run.server.state is State.TRANSACTION


def test_a_password_may_contain_spaces():
    run = converse(b"USER alice\r\nPASS two words \r\n", drop=Maildrop(password="two words "))
    assert run.of(Login)[0].password == "two words "
    assert run.server.state is State.TRANSACTION


def test_a_failed_login_is_err_auth_and_forgets_the_user():
    run = converse(b"USER alice\r\nPASS wrong\r\nPASS " + PASSWORD.encode() + b"\r\n")
    assert run.status == ["+OK", "-ERR", "-ERR"]
    assert b"-ERR [AUTH] Invalid credentials\r\n" in run.output
    assert len(run.of(Login)) == 1  # the second PASS has no USER any more
    assert run.server.state is State.AUTHORIZATION


def test_pass_without_user_is_err():
    run = converse(b"PASS " + PASSWORD.encode() + b"\r\n")
    assert run.status == ["-ERR"] and not run.of(Login)


def test_user_without_a_name_is_err():
    assert converse(b"USER\r\nUSER \r\n").status == ["-ERR", "-ERR"]


def test_user_before_tls_without_plaintext_auth_is_err_auth():
    run = converse(LOGIN, stls=True, plaintext_auth=False)
    assert run.output.startswith(b"-ERR [AUTH] ")
    assert run.status == ["-ERR", "-ERR"] and not run.of(Login)


def test_user_when_user_pass_is_not_offered_is_err():
    assert converse(LOGIN, user_pass=False).status == ["-ERR", "-ERR"]


def test_apop_with_the_right_digest_logs_in():
    run = converse(f"APOP alice {digest()}\r\n".encode())
    assert run.status == ["+OK"] and run.server.state is State.TRANSACTION
    (attempt,) = run.of(ApopLogin)
    assert (attempt.user, attempt.timestamp) == ("alice", TIMESTAMP)


def test_apop_with_a_wrong_digest_is_err_auth():
    run = converse(f"APOP alice {digest('wrong')}\r\n".encode())
    assert run.output == b"-ERR [AUTH] Invalid credentials\r\n"
    assert run.server.state is State.AUTHORIZATION


def test_apop_login_matches_the_rfc_1939_example_digest():
    attempt = ApopLogin("mrose", "c4c9334bac560ecc979e58001b3e22fb", "<1896.697170952@dbc.mtview.ca.us>")
    assert attempt.matches("tanstaaf")
    assert not attempt.matches("tanstaag")
    assert ApopLogin("mrose", "C4C9334BAC560ECC979E58001B3E22FB", attempt.timestamp).matches("tanstaaf")


def test_apop_login_with_a_non_hex_digest_does_not_match_and_does_not_raise():
    assert not ApopLogin("alice", "é" * 32, TIMESTAMP).matches(PASSWORD)


@pytest.mark.parametrize("argument", [b"", b" alice", b" alice 1234", b" alice " + b"a" * 33,
                                      b" alice " + digest().encode() + b" extra"])
def test_apop_with_bad_syntax_is_err(argument):
    run = converse(b"APOP" + argument + b"\r\n")
    assert run.status == ["-ERR"] and not run.of(ApopLogin)


def test_apop_when_not_offered_is_err():
    run = converse(f"APOP alice {digest()}\r\n".encode(), apop=False)
    assert run.status == ["-ERR"] and not run.of(ApopLogin)


# --- AUTH (RFC 5034) --------------------------------------------------------------------------------------------


def test_auth_plain_with_an_initial_response_logs_in():
    run = converse(b"AUTH PLAIN " + b64("\0alice\0" + PASSWORD) + b"\r\n")
    assert run.status == ["+OK"]
    assert [repr(e) for e in run.events] == [repr(Login("alice", PASSWORD, "PLAIN"))]
    assert run.server.state is State.TRANSACTION


def test_auth_plain_without_initial_response_sends_an_empty_continuation():
    run = converse(b"AUTH PLAIN\r\n", b64("\0alice\0" + PASSWORD) + b"\r\n")
    assert run.output.startswith(b"+ \r\n+OK ")
    assert run.server.state is State.TRANSACTION


def test_auth_login_prompts_for_username_and_password():
    run = converse(b"AUTH LOGIN\r\n", b64("alice") + b"\r\n", b64(PASSWORD) + b"\r\n")
    assert run.output.startswith(b"+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n+OK ")
    assert [repr(e) for e in run.events] == [repr(Login("alice", PASSWORD, "LOGIN"))]


def test_a_failed_sasl_login_is_err_auth():
    run = converse(b"AUTH PLAIN " + b64("\0alice\0nope") + b"\r\n")
    assert run.output == b"-ERR [AUTH] Invalid credentials\r\n"
    assert run.server.state is State.AUTHORIZATION


@pytest.mark.parametrize("mechanism", [b"PLAIN", b"LOGIN"])
def test_a_star_cancels_auth_with_err_and_the_session_continues(mechanism):
    run = converse(b"AUTH " + mechanism + b"\r\n", b"*\r\n", LOGIN)
    assert run.status == ["+", "-ERR", "+OK", "+OK"]
    assert run.server.state is State.TRANSACTION


@pytest.mark.parametrize("response", [b"!!!", b"abc", b"YWxp Y2U="])
def test_a_response_that_is_not_base64_is_err(response):
    run = converse(b"AUTH PLAIN\r\n", response + b"\r\n", b"QUIT\r\n")
    assert run.status == ["+", "-ERR", "+OK"] and run.of(Closed)


def test_a_bad_initial_response_is_err():
    run = converse(b"AUTH PLAIN !!!\r\nQUIT\r\n")
    assert run.status == ["-ERR", "+OK"]


def test_an_empty_initial_response_is_an_empty_plain_response_and_fails():
    run = converse(b"AUTH PLAIN =\r\n")
    assert run.status == ["-ERR"] and not run.of(Login)


def test_an_unknown_mechanism_is_err():
    assert converse(b"AUTH CRAM-MD5\r\n").status == ["-ERR"]


def test_auth_without_a_mechanism_lists_the_mechanisms():
    run = commands_run("AUTH")
    assert run_responses(run)[0][1:] == [b"PLAIN", b"LOGIN", b"."]


def test_an_overlong_sasl_response_ends_the_auth_command():
    run = converse(b"AUTH PLAIN\r\n", b"A" * 200 + b"\r\n", b"QUIT\r\n", max_line=64)
    assert run.status == ["+", "-ERR", "+OK"]
    assert run.of(Closed)


# --- STLS (RFC 2595 4) --------------------------------------------------------------------------------------------


def test_stls_discards_pipelined_plaintext_and_returns_to_authorization_after_tls():
    run = converse(b"USER mallory\r\nSTLS\r\nUSER evil\r\nPASS x\r\n", TLS, b"PASS " + PASSWORD.encode() + b"\r\n",
                   stls=True)
    assert run.status == ["+OK", "+OK", "-ERR"]  # after TLS, PASS finds no USER: neither USER counts
    assert b"+OK Begin TLS negotiation\r\n" in run.output
    assert [type(e) for e in run.events] == [StartTls]
    assert run.server.state is State.AUTHORIZATION and run.server.tls


def test_nothing_is_read_between_stls_and_the_handshake():
    run = converse(b"STLS\r\n", b"QUIT\r\n", stls=True)
    assert run.status == ["+OK"] and run.server.state is State.TLS and not run.of(Closed)


def test_stls_again_after_tls_is_err():
    assert converse(b"STLS\r\n", TLS, b"STLS\r\n", stls=True).status == ["+OK", "-ERR"]


@pytest.mark.parametrize("config", [{"stls": False}, {"stls": True, "tls_active": True}])
def test_stls_when_not_offered_or_already_secure_is_err(config):
    run = converse(b"STLS\r\n", **config)
    assert run.status == ["-ERR"] and not run.of(StartTls)


def test_stls_with_an_argument_is_err():
    assert converse(b"STLS now\r\n", stls=True).status == ["-ERR"]


def test_stls_in_transaction_is_err():
    run = converse(LOGIN + b"STLS\r\n", stls=True)
    assert run.status == ["+OK", "+OK", "-ERR"] and not run.of(StartTls)


# --- commands in the wrong state ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [b"STAT", b"LIST", b"LIST 1", b"UIDL", b"RETR 1", b"TOP 1 0", b"DELE 1",
                                     b"NOOP", b"RSET"])
def test_transaction_commands_are_refused_in_authorization(command):
    run = converse(command + b"\r\n")
    assert run.status == ["-ERR"] and run.server.state is State.AUTHORIZATION and not run.events


@pytest.mark.parametrize("command", [b"USER alice", b"PASS x", b"APOP alice " + digest().encode(),
                                     b"AUTH PLAIN " + b64("\0alice\0" + PASSWORD), b"AUTH"])
def test_authorization_commands_are_refused_in_transaction(command):
    run = converse(LOGIN + command + b"\r\n")
    assert run.status == ["+OK", "+OK", "-ERR"] and run.server.state is State.TRANSACTION
    assert len(run.events) == 1


# --- STAT, LIST, UIDL --------------------------------------------------------------------------------------------------


def in_transaction(*commands: str, drop: Maildrop | None = None, **config) -> list[list[bytes]]:
    run = commands_run("USER alice", "PASS " + PASSWORD, *commands, drop=drop, **config)
    return run_responses(run)[2:]


def test_stat_counts_the_messages_and_octets_not_marked_deleted():
    stat, _, stat_after = in_transaction("STAT", "DELE 2", "STAT")
    assert stat == [f"+OK 3 {TOTAL}".encode()]
    assert stat_after == [f"+OK 2 {TOTAL - len(BODY2)}".encode()]


def test_list_gives_every_message_and_its_size_and_hides_deleted_ones():
    listing, one, _, after, deleted = in_transaction("LIST", "LIST 2", "DELE 2", "LIST", "LIST 2")
    assert listing == [b"+OK 3 messages", b"1 %d" % len(BODY1), b"2 %d" % len(BODY2), b"3 %d" % len(BODY3), b"."]
    assert one == [b"+OK 2 %d" % len(BODY2)]
    assert after == [b"+OK 2 messages", b"1 %d" % len(BODY1), b"3 %d" % len(BODY3), b"."]
    assert deleted[0].startswith(b"-ERR")


def test_uidl_gives_every_unique_id_and_hides_deleted_ones():
    listing, one, _, after = in_transaction("UIDL", "UIDL 3", "DELE 1", "UIDL")
    assert listing[1:] == [b"1 uid-1", b"2 uid-2", b"3 uid-3", b"."]
    assert one == [b"+OK 3 uid-3"]
    assert after[1:] == [b"2 uid-2", b"3 uid-3", b"."]


@pytest.mark.parametrize("argument", ["0", "4", "x", "-1", "1x"])
@pytest.mark.parametrize("verb", ["LIST", "UIDL", "RETR", "DELE"])
def test_a_message_number_that_is_not_in_the_maildrop_is_err(verb, argument):
    (response,) = in_transaction(f"{verb} {argument}")
    assert response[0].startswith(b"-ERR")


def test_an_empty_maildrop_lists_nothing():
    stat, listing = in_transaction("STAT", "LIST", drop=Maildrop(entries=[]))
    assert stat == [b"+OK 0 0"] and listing == [b"+OK 0 messages", b"."]


# --- RETR, TOP -------------------------------------------------------------------------------------------------------


def test_retr_fetches_the_message_and_sends_it_dot_stuffed():
    run = converse(LOGIN + b"RETR 1\r\n")
    assert [repr(e) for e in run.of(Fetch)] == [repr(Fetch("store:/1"))]
    expected = (b"+OK %d octets\r\nSubject: one\r\nFrom: a@a.example\r\n\r\nline 1\r\n..dotted\r\nline 3\r\n.\r\n"
                % len(BODY1))
    assert run.output.endswith(expected)


def test_retr_of_a_body_without_a_final_crlf_still_ends_with_crlf_dot_crlf():
    drop = Maildrop(bodies={**BODIES, "store:/3": b"Subject: x\r\n\r\nno end"})
    run = converse(LOGIN + b"RETR 3\r\n", drop=drop)
    assert run.output.endswith(b"no end\r\n.\r\n")


def test_top_n_0_gives_the_headers_and_the_blank_line():
    (top,) = in_transaction("TOP 1 0")
    assert top == [b"+OK Top of message follows", b"Subject: one", b"From: a@a.example", b"", b"."]


def test_top_n_2_gives_the_first_two_body_lines_dot_stuffed():
    (top,) = in_transaction("TOP 1 2")
    assert top[1:] == [b"Subject: one", b"From: a@a.example", b"", b"line 1", b"..dotted", b"."]


@pytest.mark.parametrize("lines", [3, 4, 1000])
def test_top_beyond_the_body_gives_the_whole_body_without_an_extra_line(lines):
    (top,) = in_transaction(f"TOP 1 {lines}")
    (retr,) = in_transaction("RETR 1")
    assert top[1:] == retr[1:]


def test_top_of_a_message_without_a_body_gives_its_headers():
    drop = Maildrop(bodies={**BODIES, "store:/2": b"Subject: only headers\r\n"})
    (top,) = in_transaction("TOP 2 5", drop=drop)
    assert top[1:] == [b"Subject: only headers", b"."]


def test_top_n_0_of_a_message_with_an_empty_header_section_gives_only_the_blank_line():
    drop = Maildrop(bodies={**BODIES, "store:/2": b"\r\nbody line\r\nmore\r\n"})
    (top,) = in_transaction("TOP 2 0", drop=drop)
    assert top[1:] == [b"", b"."]


@pytest.mark.parametrize("argument", ["", "1", "1 x", "x 1", "1 -1", "1 2 3"])
def test_top_with_bad_arguments_is_err(argument):
    (response,) = in_transaction(f"TOP {argument}".strip())
    assert response[0].startswith(b"-ERR")


def test_retr_and_top_of_a_deleted_message_are_err():
    _, retr, top = in_transaction("DELE 1", "RETR 1", "TOP 1 0")
    assert retr[0].startswith(b"-ERR") and top[0].startswith(b"-ERR")


def test_pipelined_retrs_are_answered_in_order():
    run = converse(LOGIN + b"RETR 3\r\nRETR 2\r\nSTAT\r\n")
    assert [e.key for e in run.of(Fetch)] == ["store:/3", "store:/2"]
    assert run.output.index(b"three") < run.output.index(b"two") < run.output.index(b"+OK 3 ")


def test_a_message_number_written_with_a_non_ascii_digit_is_err_not_an_exception():
    run = converse(LOGIN + "RETR ²\r\nTOP 1 ²\r\n".encode())
    assert run.status == ["+OK", "+OK", "-ERR", "-ERR"]


# --- DELE, RSET, QUIT / UPDATE ------------------------------------------------------------------------------------------


def test_dele_marks_and_a_second_dele_of_the_same_message_is_err():
    dele, again = in_transaction("DELE 1", "DELE 1")
    assert dele == [b"+OK Message 1 deleted"] and again[0].startswith(b"-ERR")


def test_rset_unmarks_every_deleted_message():
    _, _, rset, listing = in_transaction("DELE 1", "DELE 3", "RSET", "LIST")
    assert rset == [f"+OK Maildrop has 3 messages ({TOTAL} octets)".encode()]
    assert len(listing) == 5


def test_quit_in_transaction_updates_exactly_the_deleted_messages_then_signs_off():
    run = converse(LOGIN + b"DELE 3\r\nDELE 1\r\nRETR 2\r\nQUIT\r\nNOOP\r\n")
    updates = run.of(Update)
    assert [u.deleted for u in updates] == [["store:/1", "store:/3"]]
    assert run.output.endswith(b"+OK pop.example signing off (1 messages left)\r\n")
    assert isinstance(run.events[-1], Closed) and run.server.state is State.CLOSED


def test_quit_after_rset_updates_nothing():
    run = converse(LOGIN + b"DELE 1\r\nRSET\r\nQUIT\r\n")
    assert [u.deleted for u in run.of(Update)] == [[]]


def test_a_failed_update_is_err_sys_temp_and_still_closes():
    run = converse(LOGIN + b"DELE 1\r\nQUIT\r\n", drop=Maildrop(update_ok=False))
    assert run.output.endswith(b"-ERR [SYS/TEMP] Some deleted messages were not removed\r\n")
    assert isinstance(run.events[-1], Closed)


def test_quit_in_authorization_closes_without_update():
    run = converse(b"USER alice\r\nQUIT\r\n")
    assert run.output.endswith(b"+OK pop.example signing off\r\n")
    assert [type(e) for e in run.events] == [Closed] and not run.of(Update)


def test_a_session_that_just_ends_never_updates():
    run = converse(LOGIN + b"DELE 1\r\nDELE 2\r\n", b"RETR 3\r\n")
    assert not run.of(Update) and not run.of(Closed)
    assert run.server.state is State.TRANSACTION


def test_the_update_decision_holds_back_the_quit_response():
    server = Pop3Server(Pop3Config("pop.example", TIMESTAMP))
    server.data_to_send()
    server.receive_data(LOGIN + b"DELE 2\r\nQUIT\r\n")
    assert isinstance(server.next_event(), Login)
    server.logged_in(ENTRIES)
    event = server.next_event()
    assert isinstance(event, Update) and event.deleted == ["store:/2"]
    out = server.data_to_send()
    assert not out.endswith(b"signing off (2 messages left)\r\n") and out.endswith(b"+OK Message 2 deleted\r\n")
    assert server.next_event() is None and server.data_to_send() == b""
    server.updated(True)
    assert server.data_to_send() == b"+OK pop.example signing off (2 messages left)\r\n"
    assert isinstance(server.next_event(), Closed)


# --- the rest ---------------------------------------------------------------------------------------------------------


def test_noop_in_transaction_is_ok():
    assert in_transaction("NOOP") == [[b"+OK"]]


def test_an_unknown_command_is_err_and_the_session_continues():
    run = converse(b"XYZZY\r\nUSER alice\r\n")
    assert run.status == ["-ERR", "+OK"]


def test_commands_are_case_insensitive():
    run = converse(b"user alice\r\npass " + PASSWORD.encode() + b"\r\nstat\r\n")
    assert run.status == ["+OK", "+OK", "+OK"]


def test_an_overlong_line_is_err_once_and_the_next_command_is_answered():
    run = converse(b"USER " + b"x" * 300 + b"\r\nUSER alice\r\n", max_line=64)
    assert run.status == ["-ERR", "+OK"]
    assert run.output.startswith(b"-ERR Line too long")


def test_a_bare_lf_or_cr_inside_a_command_is_err():
    run = converse(b"USER a\nQUIT\r\nUSER b\rPASS\r\nQUIT\r\n")
    assert run.status == ["-ERR", "-ERR", "+OK"] and [type(e) for e in run.events] == [Closed]


# --- the state table walked ------------------------------------------------------------------------------------------

UNKNOWN = "XYZZY"
VERBS = sorted(COMMANDS) + [UNKNOWN]
ARGUMENTS = {
    "USER": ["alice", ""], "PASS": [PASSWORD, "wrong", ""], "APOP": [f"alice {digest()}", "alice x", ""],
    "AUTH": ["PLAIN " + b64("\0alice\0" + PASSWORD).decode(), "PLAIN !!", "CRAM-MD5", ""],
    "STLS": ["", "x"], "CAPA": [""], "QUIT": [""], "STAT": [""], "LIST": ["", "1", "9", "x"],
    "UIDL": ["", "2", "0"], "RETR": ["1", "3", "9", ""], "TOP": ["1 0", "2 1", "1", "9 0"],
    "DELE": ["1", "2", "9", ""], "NOOP": [""], "RSET": [""], UNKNOWN: ["", "x"],
}


@given(commands=st.lists(st.tuples(st.sampled_from(VERBS), st.integers(0, 3)), min_size=1, max_size=10),
       logged_in=st.booleans(), stls=st.booleans())
@settings(max_examples=200, deadline=None)
def test_any_command_sequence_gets_one_response_per_line_and_refusals_change_nothing(commands, logged_in, stls):
    server = Pop3Server(Pop3Config("pop.example", TIMESTAMP, stls=stls))
    drop = Maildrop()
    server.data_to_send()
    if logged_in:
        server.receive_data(LOGIN)
        drop.answer(server, server.next_event())
        server.data_to_send()
    for verb, pick in commands:
        if server.state is State.CLOSED:
            break
        options = ARGUMENTS[verb]
        line = f"{verb} {options[pick % len(options)]}".rstrip()
        before, deleted_before = server.state, set(server.deleted)
        note(f"{before.value}: {line}")
        server.receive_data(line.encode() + b"\r\n")
        decisions = []
        for _ in range(10):
            event = server.next_event()
            if event is None:
                break
            decisions.append(event)
            drop.answer(server, event)
        if server.state is State.TLS:
            server.tls_established()
        out = server.data_to_send()
        first = out.split(b"\r\n")[0]
        assert first.startswith((b"+OK", b"-ERR")) or (first.startswith(b"+ ") and server.state is State.SASL)
        if server.state is State.SASL:
            server.receive_data(b"*\r\n")
            assert server.next_event() is None
            assert server.data_to_send().startswith(b"-ERR")
            assert server.state is State.AUTHORIZATION
            continue
        assert len(responses(out, [line])) == 1  # exactly one response, nothing left over
        if first.startswith(b"-ERR") and not decisions:  # refused by the machine itself, not by the store
            assert server.state is before and server.deleted == deleted_before
        entry = COMMANDS.get(verb)
        if entry is None or before not in entry[1]:
            assert first.startswith(b"-ERR")
