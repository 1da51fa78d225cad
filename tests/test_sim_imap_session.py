"""The simulator's IMAP4 server core (simulator/protocols/imap/session.py) driven in memory, held to RFC 3501 /
RFC 9051 with STARTTLS and LOGINDISABLED (6.2.1, 7.2.1), AUTHENTICATE with SASL-IR (RFC 4959), LITERAL+
(RFC 7888), ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC 2342), IDLE (RFC 2177), CONDSTORE/QRESYNC
enabling (RFC 7162) and the response codes of RFC 5530.

The rest of the server is a small fake (`Backend`): it accepts the password "secret", completes every
Request with OK (moving the session where SELECT, EXAMINE, CLOSE and UNSELECT would), and ends IDLE when
asked. Every conversation runs twice: each step fed whole and fed one byte at a time; both runs must write
the same bytes and raise the same events. No sockets.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from simulator.protocols.imap.session import (
    CONNECTION_COMMANDS,
    NO_ARGUMENTS,
    SERVER_COMMANDS,
    UID_COMMANDS,
    Closed,
    IdleDone,
    IdleStart,
    ImapConfig,
    ImapServer,
    LoginAttempt,
    Request,
    StartTls,
    State,
)
from simulator.protocols.imap.tokens import Atom, String

from sansio import TLS, drive

PASSWORD = "secret"
STATE_AFTER = {"SELECT": State.SELECTED, "EXAMINE": State.SELECTED, "CLOSE": State.AUTHENTICATED,
               "UNSELECT": State.AUTHENTICATED}
LOGIN = b"L1 LOGIN alice secret\r\n"
SELECT = b"S1 SELECT INBOX\r\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PLAIN_OK = b64("\0alice\0" + PASSWORD)

# --- the in-memory driver -----------------------------------------------------------------------------------


@dataclass
class Backend:
    """The rest of the server, as the machine's events see it."""

    password: str = PASSWORD
    answer_requests: bool = True

    def answer(self, server: ImapServer, event: object) -> None:
        if isinstance(event, LoginAttempt):
            if event.password == self.password:
                server.login_ok(event.tag, event.user)
            else:
                server.login_failed(event.tag)
        elif isinstance(event, Request) and self.answer_requests:
            server.complete(event.tag, "OK", f"{event.name} completed", state=STATE_AFTER.get(event.name))
        elif isinstance(event, IdleDone):
            if event.done:
                server.complete(event.tag, "OK", "IDLE terminated")
            else:
                server.complete(event.tag, "BAD", "Expected DONE")


@dataclass
class Run:
    greeting: bytes
    output: bytes  # everything written after the greeting
    events: list[object]
    server: ImapServer

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def lines(self) -> list[bytes]:
        return lines(self.output)

    def tagged(self, tag: str) -> list[bytes]:
        return [line for line in self.lines if line.startswith(tag.encode() + b" ")]

    def untagged(self, name: bytes) -> list[bytes]:
        return [line for line in self.lines if line.startswith(b"* " + name)]


def lines(output: bytes) -> list[bytes]:
    parts = output.split(b"\r\n")
    assert parts[-1] == b"", f"output does not end in CRLF: {output[-40:]!r}"
    return parts[:-1]


def _run_once(config: ImapConfig, steps: tuple, backend: Backend, bytewise: bool) -> Run:
    server = ImapServer(config)
    greeting, out, events = drive(server, steps, backend.answer, bytewise=bytewise, max_events=1000)
    return Run(greeting, out, events, server)


def converse(*steps, backend: Backend | None = None, **config) -> Run:
    config = ImapConfig("imap.example", **config)
    whole = _run_once(config, steps, backend or Backend(), bytewise=False)
    bytewise = _run_once(config, steps, backend or Backend(), bytewise=True)
    assert bytewise.greeting == whole.greeting
    assert bytewise.output == whole.output, "byte-at-a-time feeding changed the responses"
    assert [repr(e) for e in bytewise.events] == [repr(e) for e in whole.events]
    assert bytewise.server.state is whole.server.state
    return whole


def capabilities(line: bytes) -> list[str]:
    """The capability atoms of "* CAPABILITY ..." or of a [CAPABILITY ...] response code."""
    text = line.decode()
    if "[CAPABILITY " in text:
        text = text.split("[CAPABILITY ", 1)[1].split("]", 1)[0]
    else:
        text = text.split("CAPABILITY ", 1)[1]
    return text.split()


# --- greeting and CAPABILITY (RFC 3501 6.1.1, 7.1, 7.2.1) ----------------------------------------------------

def test_the_greeting_is_an_untagged_ok_carrying_the_capabilities():
    run = converse()
    assert run.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 ")
    assert run.greeting.endswith(b"\r\n") and run.greeting.count(b"\r\n") == 1
    caps = capabilities(run.greeting)
    assert "IMAP4rev1" in caps and "AUTH=PLAIN" in caps and "LITERAL+" in caps
    assert "STARTTLS" not in caps


def test_the_greeting_uses_the_configured_banner():
    run = converse(banner="Welcome here")
    assert run.greeting.endswith(b"] Welcome here\r\n")


def test_capability_lists_the_same_atoms_as_the_greeting_then_completes_ok():
    run = converse(b"c1 CAPABILITY\r\n")
    assert run.lines[0].startswith(b"* CAPABILITY ")
    assert capabilities(run.lines[0]) == capabilities(run.greeting)
    assert run.lines[1] == b"c1 OK CAPABILITY completed"
    assert len(run.lines) == 2


def test_capability_with_arguments_is_bad():
    run = converse(b"c1 CAPABILITY IMAP4rev1\r\n")
    assert run.lines == [b"c1 BAD CAPABILITY takes no arguments"]


def test_starttls_is_offered_only_before_tls_and_before_login():
    run = converse(b"c1 CAPABILITY\r\n", starttls=True)
    assert "STARTTLS" in capabilities(run.lines[0])
    run = converse(LOGIN, b"c2 CAPABILITY\r\n", starttls=True)
    assert "STARTTLS" not in capabilities(run.untagged(b"CAPABILITY")[0])
    run = converse(b"c1 CAPABILITY\r\n", starttls=True, tls_active=True)
    assert "STARTTLS" not in capabilities(run.lines[0])


def test_without_tls_and_plaintext_auth_capability_says_logindisabled_and_no_auth_mechanisms():
    run = converse(b"c1 CAPABILITY\r\n", starttls=True, plaintext_auth=False)
    caps = capabilities(run.lines[0])
    assert "LOGINDISABLED" in caps and "STARTTLS" in caps
    assert not [c for c in caps if c.startswith("AUTH=")]


def test_after_tls_the_auth_mechanisms_replace_logindisabled():
    run = converse(b"t1 STARTTLS\r\n", TLS, b"c1 CAPABILITY\r\n", starttls=True, plaintext_auth=False,
                   auth_mechanisms=("PLAIN", "LOGIN"))
    caps = capabilities(run.untagged(b"CAPABILITY")[0])
    assert "AUTH=PLAIN" in caps and "AUTH=LOGIN" in caps
    assert "LOGINDISABLED" not in caps and "STARTTLS" not in caps


def test_after_login_capability_lists_no_auth_mechanisms():
    run = converse(LOGIN, b"c1 CAPABILITY\r\n")
    caps = capabilities(run.untagged(b"CAPABILITY")[0])
    assert not [c for c in caps if c.startswith("AUTH=")] and "IMAP4rev1" in caps


# --- LOGIN (RFC 3501 6.2.3, RFC 5530) -------------------------------------------------------------------------

def test_login_with_atoms_is_a_login_attempt():
    run = converse(LOGIN)
    assert run.of(LoginAttempt) == [LoginAttempt("L1", "alice", "secret", "LOGIN")]


def test_login_with_quoted_strings_unescapes_them():
    run = converse(b'L1 LOGIN "alice smith" "se\\"cr\\\\et"\r\n', backend=Backend(password='se"cr\\et'))
    assert run.of(LoginAttempt) == [LoginAttempt("L1", "alice smith", 'se"cr\\et', "LOGIN")]
    assert run.server.state is State.AUTHENTICATED


def test_login_with_synchronizing_literals_invites_each_literal():
    run = converse(b"L1 LOGIN {5}\r\n", b"alice {6}\r\n", b"secret\r\n")
    assert run.lines[:2] == [b"+ Ready for literal data", b"+ Ready for literal data"]
    assert run.of(LoginAttempt) == [LoginAttempt("L1", "alice", "secret", "LOGIN")]


def test_login_with_non_synchronizing_literals_needs_no_continuation():
    run = converse(b"L1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")
    assert not [line for line in run.lines if line.startswith(b"+")]
    assert run.of(LoginAttempt) == [LoginAttempt("L1", "alice", "secret", "LOGIN")]


def test_a_successful_login_is_ok_with_the_new_capabilities_and_authenticates():
    run = converse(LOGIN, starttls=True)
    (line,) = run.lines
    assert line.startswith(b"L1 OK [CAPABILITY ")
    caps = capabilities(line)
    assert "IMAP4rev1" in caps and "STARTTLS" not in caps and not [c for c in caps if c.startswith("AUTH=")]
    assert run.server.state is State.AUTHENTICATED and run.server.user == "alice"


def test_a_failed_login_is_no_authenticationfailed_and_stays_unauthenticated():
    run = converse(b"L1 LOGIN alice wrong\r\n")
    assert run.lines == [b"L1 NO [AUTHENTICATIONFAILED] Invalid credentials"]
    assert run.server.state is State.NOT_AUTHENTICATED


@pytest.mark.parametrize("args", [b"", b" alice", b" alice secret extra", b" (alice) secret"])
def test_login_with_the_wrong_arguments_is_bad(args):
    run = converse(b"L1 LOGIN" + args + b"\r\n")
    assert run.lines == [b"L1 BAD Syntax: LOGIN <user> <password>"]
    assert not run.of(LoginAttempt)


def test_login_without_tls_when_plaintext_is_disabled_is_no_privacyrequired():
    run = converse(LOGIN, starttls=True, plaintext_auth=False)
    (line,) = run.lines
    assert line.startswith(b"L1 NO [PRIVACYREQUIRED] ")
    assert not run.of(LoginAttempt) and run.server.state is State.NOT_AUTHENTICATED


def test_login_after_tls_when_plaintext_is_disabled_is_allowed():
    run = converse(b"t1 STARTTLS\r\n", TLS, LOGIN, starttls=True, plaintext_auth=False)
    assert run.of(LoginAttempt) and run.server.state is State.AUTHENTICATED


def test_login_when_already_authenticated_is_bad():
    run = converse(LOGIN, b"L2 LOGIN alice secret\r\n")
    assert run.tagged("L2") == [b"L2 BAD Already authenticated"]
    assert len(run.of(LoginAttempt)) == 1


# --- AUTHENTICATE (RFC 3501 6.2.2, RFC 4959, RFC 4616) ---------------------------------------------------------

def test_authenticate_plain_with_an_initial_response_logs_in_at_once():
    run = converse(f"A1 AUTHENTICATE PLAIN {PLAIN_OK}\r\n".encode())
    assert run.of(LoginAttempt) == [LoginAttempt("A1", "alice", "secret", "PLAIN")]
    assert run.lines[0].startswith(b"A1 OK [CAPABILITY ")
    assert run.server.state is State.AUTHENTICATED


def test_authenticate_plain_without_initial_response_sends_an_empty_challenge():
    run = converse(b"A1 AUTHENTICATE PLAIN\r\n", f"{PLAIN_OK}\r\n".encode())
    assert run.lines[0] == b"+ "
    assert run.of(LoginAttempt) == [LoginAttempt("A1", "alice", "secret", "PLAIN")]
    assert run.lines[1].startswith(b"A1 OK ")


def test_authenticate_plain_with_wrong_credentials_is_no_authenticationfailed():
    run = converse(f"A1 AUTHENTICATE PLAIN {b64(chr(0) + 'alice' + chr(0) + 'nope')}\r\n".encode())
    assert run.lines == [b"A1 NO [AUTHENTICATIONFAILED] Invalid credentials"]


def test_authenticate_login_prompts_for_username_then_password():
    run = converse(b"A1 AUTHENTICATE LOGIN\r\n", f"{b64('alice')}\r\n".encode(), f"{b64('secret')}\r\n".encode(),
                   auth_mechanisms=("PLAIN", "LOGIN"))
    assert run.lines[:2] == [b"+ " + base64.b64encode(b"Username:"), b"+ " + base64.b64encode(b"Password:")]
    assert run.of(LoginAttempt) == [LoginAttempt("A1", "alice", "secret", "LOGIN")]


def test_a_star_cancels_authenticate_with_bad_and_the_session_goes_on():
    run = converse(b"A1 AUTHENTICATE PLAIN\r\n", b"*\r\n", b"A2 NOOP\r\n")
    assert run.lines[0] == b"+ "
    assert run.lines[1].startswith(b"A1 BAD ")
    assert run.lines[2] == b"A2 OK NOOP completed"
    assert not run.of(LoginAttempt) and run.server.state is State.NOT_AUTHENTICATED


def test_a_response_that_is_not_base64_ends_authenticate_with_bad():
    run = converse(b"A1 AUTHENTICATE PLAIN\r\n", b"!!not base64!!\r\n")
    assert run.lines[1].startswith(b"A1 BAD ")


def test_an_empty_initial_response_is_an_empty_plain_message_and_is_bad():
    run = converse(b"A1 AUTHENTICATE PLAIN =\r\n")
    assert run.lines[0].startswith(b"A1 BAD ") and not run.of(LoginAttempt)


def test_authenticate_with_an_unoffered_mechanism_is_no():
    run = converse(b"A1 AUTHENTICATE CRAM-MD5\r\n")
    assert run.lines == [b"A1 NO Unsupported authentication mechanism CRAM-MD5"]


def test_authenticate_without_tls_when_plaintext_is_disabled_is_no_privacyrequired():
    run = converse(f"A1 AUTHENTICATE PLAIN {PLAIN_OK}\r\n".encode(), starttls=True, plaintext_auth=False)
    assert run.lines[0].startswith(b"A1 NO [PRIVACYREQUIRED] ")


def test_authenticate_with_a_list_as_initial_response_is_bad():
    run = converse(b"A1 AUTHENTICATE PLAIN (x)\r\n")
    assert run.lines[0].startswith(b"A1 BAD ")


# --- STARTTLS (RFC 3501 6.2.1, RFC 2595 3.1) -----------------------------------------------------------------------

def test_starttls_is_ok_then_a_starttls_event():
    run = converse(b"t1 STARTTLS\r\n", starttls=True)
    assert run.lines == [b"t1 OK Begin TLS negotiation now"]
    assert run.of(StartTls) == [StartTls("t1")]


def test_plaintext_pipelined_after_starttls_is_discarded():
    run = converse(b"t1 STARTTLS\r\nt2 LOGIN alice secret\r\n", TLS, b"t3 NOOP\r\n", starttls=True)
    assert run.lines == [b"t1 OK Begin TLS negotiation now", b"t3 OK NOOP completed"]
    assert not run.of(LoginAttempt)


def test_nothing_is_read_between_starttls_and_the_end_of_the_handshake():
    run = converse(b"t1 STARTTLS\r\n", b"t2 LOGIN alice secret\r\n", TLS, b"t3 NOOP\r\n", starttls=True)
    assert run.tagged("t2") == [] and not run.of(LoginAttempt)
    assert run.tagged("t3") == [b"t3 OK NOOP completed"]


def test_after_tls_starttls_is_no_longer_offered_and_is_bad():
    run = converse(b"t1 STARTTLS\r\n", TLS, b"c1 CAPABILITY\r\n", b"t2 STARTTLS\r\n", starttls=True)
    assert "STARTTLS" not in capabilities(run.untagged(b"CAPABILITY")[0])
    assert run.tagged("t2") == [b"t2 BAD TLS is already active"]
    assert len(run.of(StartTls)) == 1


def test_starttls_when_not_offered_is_bad():
    run = converse(b"t1 STARTTLS\r\n")
    assert run.lines == [b"t1 BAD STARTTLS is not offered"] and not run.of(StartTls)


def test_starttls_after_login_is_bad():
    run = converse(LOGIN, b"t1 STARTTLS\r\n", starttls=True)
    assert run.tagged("t1") == [b"t1 BAD STARTTLS is only valid before authentication"]


def test_starttls_with_arguments_is_bad():
    run = converse(b"t1 STARTTLS now\r\n", starttls=True)
    assert run.lines == [b"t1 BAD STARTTLS takes no arguments"] and not run.of(StartTls)


# --- the state table (RFC 3501 3, 6) ---------------------------------------------------------------------------

SETUP = {State.NOT_AUTHENTICATED: (), State.AUTHENTICATED: (LOGIN,), State.SELECTED: (LOGIN, SELECT)}


@pytest.mark.parametrize("state", list(SETUP))
@pytest.mark.parametrize("name", sorted(SERVER_COMMANDS))
def test_every_server_command_is_a_request_where_the_table_allows_it_and_bad_elsewhere(state, name):
    run = converse(*SETUP[state], f"x1 {name}\r\n".encode())
    requests = [e for e in run.of(Request) if e.tag == "x1"]
    if state in SERVER_COMMANDS[name]:
        assert requests == [Request("x1", name, [], False, state)]
        assert run.tagged("x1") == [f"x1 OK {name} completed".encode()]
    else:
        assert requests == []
        assert run.tagged("x1") == [f"x1 BAD {name} is not valid in the {state.value} state".encode()]
        assert run.server.state is state


@pytest.mark.parametrize("state", list(SETUP))
def test_noop_is_valid_in_every_state(state):
    run = converse(*SETUP[state], b"n1 NOOP\r\n")
    assert [e for e in run.of(Request) if e.tag == "n1"] == [Request("n1", "NOOP", [], False, state)]


@pytest.mark.parametrize("name", sorted(NO_ARGUMENTS))
def test_commands_that_take_no_arguments_are_bad_with_arguments(name):
    run = converse(LOGIN, SELECT, f"x1 {name} 1\r\n".encode())
    assert run.tagged("x1") == [f"x1 BAD {name} takes no arguments".encode()]
    assert not [e for e in run.of(Request) if e.tag == "x1"]


def test_uid_expunge_takes_a_set():
    run = converse(LOGIN, SELECT, b"x1 UID EXPUNGE 1:3\r\n")
    assert [e for e in run.of(Request) if e.tag == "x1"] == [
        Request("x1", "EXPUNGE", [Atom("1:3")], True, State.SELECTED)]


@pytest.mark.parametrize("name", sorted(UID_COMMANDS))
def test_uid_with_a_message_command_is_a_uid_request(name):
    run = converse(LOGIN, SELECT, f"u1 uid {name.lower()} 1:* FLAGS\r\n".encode())
    assert [e for e in run.of(Request) if e.tag == "u1"] == [
        Request("u1", name, [Atom("1:*"), Atom("FLAGS")], True, State.SELECTED)]


@pytest.mark.parametrize("rest", [b"", b" NOOP", b" SELECT INBOX", b" CLOSE", b" LOGOUT", b" XYZZY", b' "FETCH" 1'])
def test_uid_with_anything_else_is_bad(rest):
    run = converse(LOGIN, SELECT, b"u1 UID" + rest + b"\r\n")
    (line,) = run.tagged("u1")
    assert line.startswith(b"u1 BAD UID needs ")
    assert run.server.state is State.SELECTED and not [e for e in run.of(Request) if e.tag == "u1"]


def test_uid_fetch_outside_the_selected_state_is_bad():
    run = converse(LOGIN, b"u1 UID FETCH 1 FLAGS\r\n")
    assert run.tagged("u1") == [b"u1 BAD FETCH is not valid in the authenticated state"]


def test_commands_are_case_insensitive():
    run = converse(b"c1 capability\r\n", b"L1 login alice secret\r\n", b"s1 sElEcT INBOX\r\n")
    assert run.tagged("c1") == [b"c1 OK CAPABILITY completed"]
    assert run.of(Request) == [Request("s1", "SELECT", [Atom("INBOX")], False, State.AUTHENTICATED)]


def test_an_unknown_command_is_bad():
    run = converse(b"x1 XYZZY 1 2\r\n")
    assert run.lines == [b"x1 BAD Unknown command XYZZY"]


def test_a_syntax_error_is_bad_with_the_tag():
    run = converse(LOGIN, b'x1 SELECT "INBOX\r\n')
    (line,) = run.tagged("x1")
    assert line.startswith(b"x1 BAD Syntax error: ")


@pytest.mark.parametrize("line", [b"+ NOOP", b"* NOOP", b"", b"   ", b"a+b NOOP", b"(x) NOOP", b'"a" NOOP',
                                  b"{0+}\r\n NOOP", b"+ XYZZY (", b"x1"])
def test_a_line_without_a_valid_tag_and_command_is_answered_untagged_bad(line):
    run = converse(line + b"\r\nn2 NOOP\r\n")
    if line == b"x1":
        assert run.lines[0] == b"x1 BAD Expected a tag and a command"  # a valid tag alone: tagged
    else:
        assert run.lines[0].startswith(b"* BAD ")
    assert run.lines[1:] == [b"n2 OK NOOP completed"]


@pytest.mark.parametrize("tag", ["A.1", "x]y", "tag-9", "~a", "0"])
def test_a_tag_may_hold_any_astring_char_but_plus(tag):
    run = converse(f"{tag} NOOP\r\n".encode())
    assert run.lines == [f"{tag} OK NOOP completed".encode()]


# --- LOGOUT and bye (RFC 3501 6.1.3) ----------------------------------------------------------------------------

@pytest.mark.parametrize("state", list(SETUP))
def test_logout_is_bye_then_tagged_ok_then_closed(state):
    run = converse(*SETUP[state], b"o1 LOGOUT\r\n")
    tail = run.lines[-2:]
    assert tail == [b"* BYE imap.example logging out", b"o1 OK LOGOUT completed"]
    assert run.of(Closed) == [Closed("LOGOUT")] and run.server.state is State.LOGOUT


def test_nothing_is_read_after_logout():
    run = converse(b"o1 LOGOUT\r\nn1 NOOP\r\n", b"n2 NOOP\r\n")
    assert run.tagged("n1") == [] and run.tagged("n2") == [] and not run.of(Request)


def test_logout_with_arguments_is_bad_and_does_not_log_out():
    run = converse(b"o1 LOGOUT now\r\n")
    assert run.lines == [b"o1 BAD LOGOUT takes no arguments"] and run.server.state is State.NOT_AUTHENTICATED


def test_bye_ends_the_session_and_nothing_more_is_read():
    server = ImapServer(ImapConfig("imap.example"))
    server.data_to_send()
    server.bye("Server shutting down")
    assert server.data_to_send() == b"* BYE Server shutting down\r\n"
    assert server.next_event() == Closed("Server shutting down")
    server.receive_data(b"n1 NOOP\r\n")
    assert server.next_event() is None and server.data_to_send() == b""
    assert server.state is State.LOGOUT


# --- ENABLE (RFC 5161, RFC 7162 3.2.3) -----------------------------------------------------------------------------

def test_enable_lists_what_it_enabled():
    run = converse(LOGIN, b"e1 ENABLE CONDSTORE\r\n")
    assert run.lines[1:] == [b"* ENABLED CONDSTORE", b"e1 OK ENABLE completed"]
    assert run.server.enabled == {"CONDSTORE"}


def test_enable_qresync_implies_condstore():
    run = converse(LOGIN, b"e1 ENABLE QRESYNC\r\n")
    assert run.untagged(b"ENABLED") == [b"* ENABLED QRESYNC"]
    assert run.server.enabled == {"QRESYNC", "CONDSTORE"}


def test_enable_ignores_unknown_extensions_and_still_sends_enabled():
    run = converse(LOGIN, b"e1 ENABLE X-UNKNOWN IDLE\r\n")
    assert run.lines[1:] == [b"* ENABLED", b"e1 OK ENABLE completed"]
    assert run.server.enabled == set()


def test_enable_lists_only_what_this_command_newly_enabled():
    run = converse(LOGIN, b"e1 ENABLE CONDSTORE\r\n", b"e2 ENABLE CONDSTORE UTF8=ACCEPT\r\n")
    assert run.untagged(b"ENABLED") == [b"* ENABLED CONDSTORE", b"* ENABLED UTF8=ACCEPT"]


def test_enable_does_not_change_the_capability_list():
    run = converse(LOGIN, b"c1 CAPABILITY\r\n", b"e1 ENABLE QRESYNC IMAP4rev2\r\n", b"c2 CAPABILITY\r\n")
    first, second = run.untagged(b"CAPABILITY")
    assert first == second


@pytest.mark.parametrize("state", [State.NOT_AUTHENTICATED, State.SELECTED])
def test_enable_outside_the_authenticated_state_is_bad(state):
    run = converse(*SETUP[state], b"e1 ENABLE CONDSTORE\r\n")
    assert run.tagged("e1") == [b"e1 BAD ENABLE is only valid in the authenticated state"]
    assert run.server.enabled == set()


@pytest.mark.parametrize("args", [b"", b' "CONDSTORE"', b" (CONDSTORE)"])
def test_enable_without_capability_atoms_is_bad(args):
    run = converse(LOGIN, b"e1 ENABLE" + args + b"\r\n")
    assert run.tagged("e1") == [b"e1 BAD Syntax: ENABLE <capability> ..."]


# --- ID (RFC 2971) and NAMESPACE (RFC 2342) ----------------------------------------------------------------------

@pytest.mark.parametrize("state", list(SETUP))
@pytest.mark.parametrize("args", [b"NIL", b'("name" "test-client" "version" "1.0")'])
def test_id_is_answered_in_every_state(state, args):
    run = converse(*SETUP[state], b"i1 ID " + args + b"\r\n")
    (reply,) = run.untagged(b"ID ")
    assert reply.startswith(b'* ID ("name" "wireproof-simulator" ') and reply.endswith(b")")
    assert run.tagged("i1") == [b"i1 OK ID completed"]


def test_id_without_an_argument_is_bad():
    run = converse(b"i1 ID\r\n")
    assert run.lines == [b"i1 BAD Syntax: ID ( field value ... ) or ID NIL"]


@pytest.mark.parametrize("state", [State.AUTHENTICATED, State.SELECTED])
def test_namespace_lists_the_personal_and_shared_namespaces(state):
    run = converse(*SETUP[state], b"n1 NAMESPACE\r\n")
    assert run.untagged(b"NAMESPACE") == [b'* NAMESPACE (("" "/")) NIL (("Public Folders/" "/"))']
    assert run.tagged("n1") == [b"n1 OK NAMESPACE completed"]


def test_namespace_before_login_is_bad():
    run = converse(b"n1 NAMESPACE\r\n")
    assert run.lines == [b"n1 BAD NAMESPACE needs authentication"]


# --- IDLE (RFC 2177) -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", [State.AUTHENTICATED, State.SELECTED])
def test_idle_continues_then_done_ends_it(state):
    run = converse(*SETUP[state], b"i1 IDLE\r\n", b"DONE\r\n")
    assert run.lines[-2:] == [b"+ idling", b"i1 OK IDLE terminated"]
    assert run.of(IdleStart) == [IdleStart("i1")] and run.of(IdleDone) == [IdleDone("i1", True)]


def test_done_is_case_insensitive():
    run = converse(LOGIN, b"i1 IDLE\r\n", b"done\r\n")
    assert run.of(IdleDone) == [IdleDone("i1", True)]


def test_untagged_responses_may_flow_while_idling():
    server = ImapServer(ImapConfig("imap.example"))
    backend = Backend()
    server.receive_data(LOGIN)
    backend.answer(server, server.next_event())
    server.data_to_send()
    server.receive_data(b"i1 IDLE\r\n")
    assert server.next_event() == IdleStart("i1")
    server.untagged(b"3 EXISTS")
    assert server.data_to_send() == b"+ idling\r\n* 3 EXISTS\r\n"
    assert server.next_event() is None
    server.receive_data(b"DONE\r\n")
    assert server.next_event() == IdleDone("i1", True)


def test_anything_but_done_ends_idle_unsuccessfully():
    run = converse(LOGIN, b"i1 IDLE\r\n", b"n1 NOOP\r\n", b"n2 NOOP\r\n")
    assert run.of(IdleDone) == [IdleDone("i1", False)]
    assert run.tagged("i1") == [b"i1 BAD Expected DONE"]
    assert run.tagged("n1") == [] and run.tagged("n2") == [b"n2 OK NOOP completed"]


def test_idle_before_login_is_bad():
    run = converse(b"i1 IDLE\r\n")
    assert run.lines == [b"i1 BAD IDLE needs authentication"] and not run.of(IdleStart)


def test_idle_with_arguments_is_bad():
    run = converse(LOGIN, b"i1 IDLE 5\r\n")
    assert run.tagged("i1") == [b"i1 BAD IDLE takes no arguments"] and not run.of(IdleStart)


def test_a_command_pipelined_after_done_runs_after_idle_completes():
    run = converse(LOGIN, b"i1 IDLE\r\n", b"DONE\r\nn1 NOOP\r\n")
    assert run.lines[-3:] == [b"+ idling", b"i1 OK IDLE terminated", b"n1 OK NOOP completed"]


# --- literals the session refuses (RFC 3501 7.5, RFC 7888, RFC 9051 7.1 TOOBIG) -----------------------------------

@pytest.mark.parametrize("setup, line, reply", [
    ((), b"x1 XYZZY {5}", b"x1 BAD Unknown command XYZZY"),
    ((), b"x1 APPEND INBOX {5}", b"x1 BAD APPEND is not valid in the not authenticated state"),
    ((LOGIN,), b"x1 FETCH 1 BODY[] {5}", b"x1 BAD FETCH is not valid in the authenticated state"),
    ((LOGIN,), b"x1 UID FETCH 1 {5}", b"x1 BAD FETCH is not valid in the authenticated state"),
    ((LOGIN,), b"x1 LOGIN {5}", b"x1 BAD LOGIN takes no literal here"),
    ((), b"x1 CAPABILITY {5}", b"x1 BAD CAPABILITY takes no literal here"),
    ((), b"+ LOGIN {5}", b"* BAD Expected a tag and a command"),
])
def test_a_literal_of_a_command_known_to_be_invalid_is_refused_and_the_next_command_reads_normally(setup, line,
                                                                                                  reply):
    run = converse(*setup, line + b"\r\n", b"n1 NOOP\r\n")
    tail = run.lines[len(setup):]
    assert tail == [reply, b"n1 OK NOOP completed"], "BAD instead of '+', and the client sends no octets"


def test_a_literal_of_a_valid_command_is_invited():
    run = converse(LOGIN, b"x1 APPEND INBOX {5}\r\n", b"hello\r\n")
    assert run.lines[1] == b"+ Ready for literal data"
    assert run.of(Request)[-1] == Request("x1", "APPEND", [Atom("INBOX"), String(b"hello", literal=True)], False,
                                          State.AUTHENTICATED)


def test_a_literal8_argument_arrives_as_a_binary_string():
    run = converse(LOGIN, b"x1 APPEND INBOX ~{3}\r\n", b"a\x00b\r\n")
    assert run.lines[1] == b"+ Ready for literal data"
    assert run.of(Request)[-1].args == [Atom("INBOX"), String(b"a\x00b", literal=True, binary=True)]


def test_an_overlong_command_line_is_bad_toobig_for_its_tag():
    run = converse(b"x1 LOGIN " + b"a" * 300 + b"\r\n", b"n1 NOOP\r\n", max_line=200)
    assert run.lines == [b"x1 BAD [TOOBIG] Command line too long (limit 200 octets)", b"n1 OK NOOP completed"]
    assert not run.of(LoginAttempt)


def test_a_synchronizing_literal_over_the_limit_is_refused_before_its_octets():
    run = converse(LOGIN, b"x1 APPEND INBOX {500}\r\n", b"n1 NOOP\r\n", max_literal=100)
    assert run.lines[1:] == [b"x1 NO [TOOBIG] Literal of 500 octets is too large (limit 100)",
                             b"n1 OK NOOP completed"]


def test_a_non_synchronizing_literal_over_the_limit_is_swallowed_and_refused_once():
    run = converse(LOGIN, b"x1 APPEND INBOX {120+}\r\n" + b"n99 NOOP\r\n" * 12 + b"\r\n", b"n1 NOOP\r\n",
                   max_literal=100)
    assert run.lines[1:] == [b"x1 NO [TOOBIG] Literal of 120 octets is too large (limit 100)",
                             b"n1 OK NOOP completed"]
    assert not [e for e in run.of(Request) if e.tag == "n99"]


def test_an_overlong_line_without_a_valid_tag_is_answered_untagged():
    run = converse(b"+ " + b"a" * 300 + b"\r\n", max_line=200)
    assert run.lines[0].startswith(b"* BAD [TOOBIG] ")


def test_an_oversized_literal_after_an_invalid_tag_is_refused_untagged():
    run = converse(b"+ APPEND INBOX {500}\r\n", max_literal=100)
    assert run.lines[0].startswith(b"* ")


# --- one command at a time (RFC 3501 5.5) ----------------------------------------------------------------------

def test_a_pipelined_command_waits_until_the_first_is_complete_and_responses_stay_in_order():
    server = ImapServer(ImapConfig("imap.example"))
    server.data_to_send()
    server.receive_data(b"n1 NOOP\r\nc1 CAPABILITY\r\nn2 NOOP\r\n")
    first = server.next_event()
    assert first == Request("n1", "NOOP", [], False, State.NOT_AUTHENTICATED)
    assert server.next_event() is None, "nothing more is read while n1 runs"
    assert server.data_to_send() == b"", "not even CAPABILITY, which the machine answers itself"
    server.untagged(b"OK still working")
    server.complete("n1", "OK", "NOOP completed")
    second = server.next_event()
    assert second == Request("n2", "NOOP", [], False, State.NOT_AUTHENTICATED)
    out = lines(server.data_to_send())
    assert out[0] == b"* OK still working" and out[1] == b"n1 OK NOOP completed"
    assert out[2].startswith(b"* CAPABILITY ") and out[3] == b"c1 OK CAPABILITY completed"
    assert len(out) == 4
    server.complete("n2", "OK", "NOOP completed")
    assert server.data_to_send() == b"n2 OK NOOP completed\r\n"


def test_a_login_attempt_holds_later_commands_until_answered():
    server = ImapServer(ImapConfig("imap.example"))
    server.data_to_send()
    server.receive_data(LOGIN + b"s1 SELECT INBOX\r\n")
    assert server.next_event() == LoginAttempt("L1", "alice", "secret", "LOGIN")
    assert server.next_event() is None and server.data_to_send() == b""
    server.login_ok("L1", "alice")
    assert server.next_event() == Request("s1", "SELECT", [Atom("INBOX")], False, State.AUTHENTICATED)


def test_complete_with_a_state_moves_the_session():
    run = converse(LOGIN, SELECT, b"c1 CLOSE\r\n")
    assert run.server.state is State.AUTHENTICATED
    run = converse(LOGIN, SELECT)
    assert run.server.state is State.SELECTED


# --- the state table walked (h2's test_state_machines) ----------------------------------------------------------

NAMES = sorted(set(SERVER_COMMANDS) | CONNECTION_COMMANDS) + ["UID", "XYZZY", "DONE"]
SYNC = object()  # a synchronizing literal argument "{3}" CRLF "abc"
ARGUMENTS = ["1", "1:*", "INBOX", '"a b"', "(FLAGS)", "\\Seen", "NIL", "PLAIN", "LOGIN", "CONDSTORE", "QRESYNC",
             "alice", PASSWORD, "wrong", PLAIN_OK, "FETCH", "EXPUNGE", "{3+}\r\nabc", SYNC]
# well-formed commands, drawn as often as all the random ones together, so the phases are reached
WELL_FORMED = [("IDLE", []), ("STARTTLS", []), ("AUTHENTICATE", ["PLAIN"]), ("AUTHENTICATE", ["PLAIN", PLAIN_OK]),
               ("LOGIN", ["alice", PASSWORD]), ("LOGIN", [SYNC, "wrong"]), ("LOGOUT", []), ("SELECT", ["INBOX"]),
               ("EXAMINE", [SYNC]), ("CLOSE", []), ("UNSELECT", []), ("FETCH", ["1", "(FLAGS)"]),
               ("UID", ["FETCH", "1:*", "FLAGS"]), ("APPEND", ["INBOX", SYNC]), ("ENABLE", ["QRESYNC"]),
               ("NOOP", []), ("CAPABILITY", [])]
TAGS = ["t", "t", "t", "t", "+", "*"]  # "t" becomes t0, t1, ...: a valid tag


def command_chunks(tag: str, name: str, args: list) -> list[bytes]:
    """The command as the client sends it: one chunk per synchronizing literal, each sent after a '+'."""
    chunks, text = [], f"{tag} {name}"
    for arg in args:
        if arg is SYNC:
            chunks.append((text + " {3}\r\n").encode())
            text = "abc"
        else:
            text += " " + arg
    chunks.append((text + "\r\n").encode())
    return chunks


@dataclass
class Walker:
    server: ImapServer
    bytewise: bool
    model: State = State.NOT_AUTHENTICATED  # changed only by login_ok, complete(state=...) and Closed
    events: list = field(default_factory=list)
    transcript: bytearray = field(default_factory=bytearray)
    idle: str | None = None
    tls: bool = False

    def answer(self, event: object) -> None:
        s = self.server
        if isinstance(event, (Request, LoginAttempt, IdleDone)):
            # a decision is pending: nothing more is read and the command is not completed yet
            assert s.next_event() is None
            pending = s.data_to_send()
            assert not [line for line in lines(pending) if not line.startswith((b"* ", b"+ "))], pending
            self.transcript += pending
        if isinstance(event, LoginAttempt):
            if event.password == PASSWORD:
                s.login_ok(event.tag, event.user)
                self.model = State.AUTHENTICATED
            else:
                s.login_failed(event.tag)
        elif isinstance(event, Request):
            assert event.state is self.model and self.model in SERVER_COMMANDS[event.name]
            after = STATE_AFTER.get(event.name)
            s.complete(event.tag, "OK", "done", state=after)
            self.model = after or self.model
        elif isinstance(event, IdleStart):
            self.idle = event.tag
        elif isinstance(event, IdleDone):
            self.idle = None
            s.complete(event.tag, "OK", "IDLE terminated")
        elif isinstance(event, StartTls):
            self.tls = True
        elif isinstance(event, Closed):
            self.model = State.LOGOUT

    def pump(self) -> None:
        for _ in range(100):
            event = self.server.next_event()
            if event is None:
                return
            self.events.append(event)
            self.answer(event)
        raise AssertionError("next_event() never ran dry")

    def send(self, data: bytes) -> bytes:
        start = len(self.transcript)
        for piece in ([data[i:i + 1] for i in range(len(data))] if self.bytewise else [data]):
            self.server.receive_data(piece)
            self.pump()
        self.transcript += self.server.data_to_send()
        return bytes(self.transcript[start:])

    def command(self, chunks: list[bytes]) -> bytes:
        start = len(self.transcript)
        for i, chunk in enumerate(chunks):
            new = self.send(chunk)
            if i < len(chunks) - 1 and not new.startswith(b"+ "):
                break  # the literal was refused: the client sends nothing more of this command
        for _ in range(5):  # whatever the command started: a SASL challenge, IDLE, a TLS handshake
            output = bytes(self.transcript[start:])
            if self.tls:
                self.tls = False
                self.server.tls_established()
                self.pump()
            elif self.idle is not None:
                self.send(b"DONE\r\n")
            elif output.endswith(b"\r\n") and lines(output)[-1].startswith(b"+ "):
                self.send(b"*\r\n")  # cancel the authentication exchange
            else:
                break
        self.transcript += self.server.data_to_send()
        return bytes(self.transcript[start:])


@given(start=st.sampled_from(list(SETUP)), starttls=st.booleans(), plaintext=st.booleans(), bytewise=st.booleans(),
       commands=st.lists(st.tuples(st.sampled_from(TAGS), st.sampled_from(WELL_FORMED) | st.tuples(
                             st.sampled_from(NAMES),
                             st.just([]) | st.lists(st.sampled_from(ARGUMENTS), min_size=1, max_size=3))),
                         min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_any_command_sequence_gets_one_completion_per_command_and_changes_state_only_through_the_server(
        start, starttls, plaintext, bytewise, commands):
    # without plaintext authentication a logged-in start state is reached over TLS
    tls = not plaintext and start is not State.NOT_AUTHENTICATED
    server = ImapServer(ImapConfig("imap.example", starttls=starttls, plaintext_auth=plaintext, tls_active=tls))
    walker = Walker(server, bytewise)
    server.data_to_send()
    for step in SETUP[start]:
        walker.command([step])
    assert server.state is start and walker.model is start
    for n, (tag, (name, args)) in enumerate(commands):
        if server.state is State.LOGOUT:
            break
        # AUTHENTICATE with a list as its initial response raises (see the xfail test above): left out here
        assume(not (name == "AUTHENTICATE" and len(args) > 1 and args[1] == "(FLAGS)"))
        tag = f"t{n}" if tag == "t" else tag
        chunks = command_chunks(tag, name, args)
        before = server.state
        note(f"{before.value}: {b''.join(chunks)!r}")
        events_before = len(walker.events)
        out = walker.command(chunks)
        note(f"  -> {out!r}")
        completions = [line for line in lines(out) if line.startswith(tag.encode() + b" ")] if tag not in (
            "+", "*") else [line for line in lines(out) if line.startswith(b"* BAD ")]
        assert len(completions) == 1, f"expected exactly one completion, got {completions}"
        assert server.state is walker.model
        if tag in ("+", "*"):
            assert server.state is before
            continue
        raised = walker.events[events_before:]
        if name in SERVER_COMMANDS and before not in SERVER_COMMANDS[name]:
            assert completions[0].startswith(tag.encode() + b" BAD "), "a command in the wrong state is BAD"
            assert not [e for e in raised if isinstance(e, Request)]
        if name not in SERVER_COMMANDS and name not in CONNECTION_COMMANDS and name != "UID":
            assert completions[0].startswith(tag.encode() + b" BAD ")
        if not raised:
            assert server.state is before, "the machine alone never changes the state"
