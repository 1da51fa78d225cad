"""The simulator's SMTP server core (simulator/protocols/smtp.py) driven in memory, held to RFC 5321 and the
extensions it offers (SIZE 1870, ENHANCEDSTATUSCODES 2034, PIPELINING 2920, CHUNKING 3030, STARTTLS 3207,
DSN 3461, AUTH 4954).

Every conversation runs twice: with each step fed whole and fed one byte at a time. Both runs must
write the same bytes and raise the same events; the tests then look at the result. No sockets.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from simulator.protocols.smtp import (
    COMMANDS,
    AuthAttempt,
    Closed,
    MailFrom,
    Message,
    RcptTo,
    SmtpConfig,
    SmtpServer,
    StartTls,
    State,
)

from sansio import TLS, drive

DECISIONS = (MailFrom, RcptTo, Message, AuthAttempt)
COMMAND_STATES = (State.CONNECTED, State.READY, State.MAIL, State.RCPT)

# --- the in-memory driver -----------------------------------------------------------------------------


Verdict = tuple[int, str, str] | None  # None: accept; (code, enhanced, text): reject
Decide = Callable[[object], Verdict]


def accept_all(event: object) -> Verdict:
    return None


@dataclass
class Run:
    greeting: bytes
    output: bytes  # everything written after the greeting
    events: list[object]
    server: SmtpServer

    @property
    def replies(self) -> list[tuple[int, list[str]]]:
        return replies(self.output)

    @property
    def codes(self) -> list[int]:
        return [code for code, _ in self.replies]

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def _run_once(config: SmtpConfig, steps: tuple, decide: Decide, bytewise: bool) -> tuple[Run, list[str]]:
    server = SmtpServer(config)
    seen: list[str] = []  # events as they were when raised (they hold live envelopes)

    def answer(server: SmtpServer, event: object) -> None:
        seen.append(repr(event))
        if isinstance(event, DECISIONS):
            verdict = decide(event)
            if verdict is None:
                server.accept()
            else:
                server.reject(*verdict)

    greeting, out, events = drive(server, steps, answer, bytewise=bytewise)
    return Run(greeting, out, events, server), seen


def converse(config: SmtpConfig, *steps, decide: Decide = accept_all) -> Run:
    """Run the steps fed whole and fed byte by byte; both must say and raise exactly the same."""
    whole, whole_events = _run_once(config, steps, decide, bytewise=False)
    bytewise, bytewise_events = _run_once(config, steps, decide, bytewise=True)
    assert bytewise.greeting == whole.greeting
    assert bytewise.output == whole.output, "byte-at-a-time feeding changed the replies"
    assert bytewise_events == whole_events, "byte-at-a-time feeding changed the events"
    assert bytewise.server.state is whole.server.state
    return whole


REPLY_LINE = re.compile(r"^(\d{3})([ -]|$)(.*)$")


def replies(output: bytes) -> list[tuple[int, list[str]]]:
    """The replies in `output`, each as (code, its lines); every line must be well-formed (RFC 5321 4.2)."""
    assert output == b"" or output.endswith(b"\r\n"), output
    result: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for raw in output.split(b"\r\n")[:-1]:
        assert b"\r" not in raw and b"\n" not in raw
        text = raw.decode("utf-8")
        m = REPLY_LINE.match(text)
        assert m, f"not a reply line: {text!r}"
        if current:
            assert m.group(1) == current[0][:3], "every line of a multi-line reply carries the same code"
        current.append(text)
        if m.group(2) != "-":
            result.append((int(m.group(1)), current))
            current = []
    assert not current, "a multi-line reply was not finished"
    return result


def final_lines(output: bytes) -> int:
    return len(replies(output))


def cfg(**overrides) -> SmtpConfig:
    return SmtpConfig("mx.example", **overrides)


def b64(text: str) -> bytes:
    return base64.b64encode(text.encode())


EHLO = b"EHLO client.example\r\n"
MAIL = b"MAIL FROM:<alice@a.example>\r\n"
RCPT = b"RCPT TO:<bob@b.example>\r\n"
ENVELOPE = EHLO + MAIL + RCPT
ENHANCED = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}( |$)")


def ehlo_lines(run: Run, index: int = 0) -> list[str]:
    code, lines = run.replies[index]
    assert code == 250
    return [line[4:] for line in lines]


# --- greeting, EHLO, HELO --------------------------------------------------------------------------------


def test_greeting_is_one_220_line_naming_the_host():
    run = converse(cfg())
    assert run.greeting == b"220 mx.example wireproof ESMTP service ready\r\n"
    assert run.server.state is State.CONNECTED


def test_greeting_uses_the_configured_banner():
    assert converse(cfg(banner="mx.example ESMTP hello")).greeting == b"220 mx.example ESMTP hello\r\n"


def test_ehlo_answers_a_multiline_250_listing_the_extensions():
    run = converse(cfg(max_message=1000), EHLO)
    lines = ehlo_lines(run)
    assert lines[0] == "mx.example Hello client.example"
    for ext in ("SIZE 1000", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN",
                "AUTH PLAIN LOGIN"):
        assert ext in lines[1:]
    assert "STARTTLS" not in lines
    assert run.output.endswith(b"250 HELP\r\n")
    assert run.server.state is State.READY and run.server.envelope.esmtp


def test_ehlo_greeting_line_shows_the_client_address_when_known():
    run = converse(cfg(client_address="192.0.2.9"), EHLO)
    assert ehlo_lines(run)[0] == "mx.example Hello client.example [192.0.2.9]"


def test_ehlo_accepts_an_address_literal():
    run = converse(cfg(), b"EHLO [192.0.2.1]\r\n", b"EHLO [IPv6:2001:db8::1]\r\n")
    assert run.codes == [250, 250]


def test_ehlo_offers_starttls_only_when_configured_and_tls_is_not_active():
    assert "STARTTLS" in ehlo_lines(converse(cfg(starttls=True), EHLO))
    assert "STARTTLS" not in ehlo_lines(converse(cfg(starttls=True, tls_active=True), EHLO))


def test_ehlo_offers_auth_before_tls_only_when_plaintext_auth_is_allowed():
    lines = ehlo_lines(converse(cfg(plaintext_auth=False), EHLO))
    assert not any(line.startswith("AUTH") for line in lines)
    assert "AUTH PLAIN LOGIN" in ehlo_lines(converse(cfg(plaintext_auth=False, tls_active=True), EHLO))


def test_helo_answers_a_single_250_line_without_extensions():
    run = converse(cfg(), b"HELO client.example\r\n")
    assert run.output == b"250 mx.example Hello client.example\r\n"
    assert run.server.state is State.READY and not run.server.envelope.esmtp


def test_helo_refuses_an_address_literal_which_is_not_a_domain():
    run = converse(cfg(), b"HELO [192.0.2.1]\r\n")
    assert run.codes == [501] and run.server.state is State.CONNECTED


@pytest.mark.parametrize("verb", [b"EHLO", b"HELO"])
@pytest.mark.parametrize("argument", [b"", b" ", b" -bad-.example", b" a..b"])
def test_hello_without_a_valid_domain_is_501_and_leaves_the_state(verb, argument):
    run = converse(cfg(), verb + argument + b"\r\n")
    assert run.codes == [501] and run.server.state is State.CONNECTED
    run = converse(cfg(), EHLO + MAIL, verb + argument + b"\r\n", RCPT)
    assert run.codes == [250, 250, 501, 250]  # the transaction survived the refused hello
    assert run.server.state is State.RCPT


@pytest.mark.parametrize("verb", [b"EHLO", b"HELO"])
def test_hello_in_a_transaction_resets_it_as_rset_would(verb):
    run = converse(cfg(), ENVELOPE, verb + b" other.example\r\n", RCPT)
    assert run.codes[-2:] == [250, 503]
    assert run.server.state is State.READY
    assert run.server.envelope.sender == "" and run.server.envelope.recipients == []
    assert run.server.envelope.helo == "other.example"


# --- command sequencing (RFC 5321 4.1.4, 3.3) ------------------------------------------------------------------


def test_mail_before_ehlo_is_503_and_the_state_stays_connected():
    run = converse(cfg(), MAIL)
    assert run.codes == [503] and run.server.state is State.CONNECTED
    assert not run.of(MailFrom)


def test_nested_mail_is_503_and_keeps_the_first_sender():
    run = converse(cfg(), EHLO + MAIL + b"MAIL FROM:<other@x.example>\r\n")
    assert run.codes == [250, 250, 503]
    assert run.server.state is State.MAIL and run.server.envelope.sender == "alice@a.example"


def test_rcpt_before_mail_is_503():
    run = converse(cfg(), EHLO + RCPT)
    assert run.codes == [250, 503] and run.server.state is State.READY


def test_data_without_a_transaction_is_503():
    run = converse(cfg(), EHLO + b"DATA\r\n")
    assert run.codes == [250, 503] and run.server.state is State.READY


def test_data_without_an_accepted_recipient_is_503_or_554_and_no_354():
    run = converse(cfg(), EHLO + MAIL + b"DATA\r\n")
    assert run.codes[-1] in (503, 554)
    assert run.server.state is State.MAIL


def test_data_after_every_recipient_was_refused_is_not_354():
    run = converse(cfg(), ENVELOPE + b"DATA\r\n", decide=lambda e: (550, "5.1.1", "No such user")
                   if isinstance(e, RcptTo) else None)
    assert run.codes == [250, 250, 550, 554]


def test_rset_clears_the_transaction_and_keeps_the_session():
    run = converse(cfg(), ENVELOPE + b"RSET\r\n" + RCPT + MAIL)
    assert run.codes == [250, 250, 250, 250, 503, 250]
    assert run.server.state is State.MAIL
    assert run.server.envelope.helo == "client.example"
    assert run.server.envelope.recipients == []


def test_rset_with_an_argument_is_501():
    run = converse(cfg(), EHLO + MAIL + b"RSET now\r\n")
    assert run.codes == [250, 250, 501] and run.server.state is State.MAIL


def test_rset_before_ehlo_is_250_and_stays_connected():
    run = converse(cfg(), b"RSET\r\n")
    assert run.codes == [250] and run.server.state is State.CONNECTED


@pytest.mark.parametrize("line", [b"NOOP\r\n", b"NOOP anything at all\r\n", b"noop\r\n"])
def test_noop_is_250_with_or_without_an_argument(line):
    run = converse(cfg(), EHLO + MAIL + line)
    assert run.codes == [250, 250, 250] and run.server.state is State.MAIL


@pytest.mark.parametrize("verb", [b"VRFY", b"EXPN"])
def test_vrfy_and_expn_answer_252_without_disclosing(verb):
    run = converse(cfg(), verb + b" bob\r\n")
    assert run.codes == [252]


@pytest.mark.parametrize("verb", [b"VRFY", b"EXPN"])
def test_vrfy_and_expn_without_an_argument_are_501(verb):
    assert converse(cfg(), verb + b"\r\n").codes == [501]


def test_help_is_214():
    run = converse(cfg(), b"HELP\r\n", b"HELP MAIL\r\n")
    assert run.codes == [214, 214]


def test_an_unknown_command_is_500_and_the_session_continues():
    run = converse(cfg(), EHLO + MAIL + b"XYZZY plugh\r\n" + RCPT)
    assert run.codes == [250, 250, 500, 250] and run.server.state is State.RCPT


def test_an_empty_command_line_is_500():
    assert converse(cfg(), b"\r\nNOOP\r\n").codes == [500, 250]


@pytest.mark.parametrize("line", [b"NOOP\nMAIL FROM:<a@a.example>\r\n", b"NOOP\rx\r\n", b"EHLO a\n.example\r\n",
                                  b"\nQUIT\r\n"])
def test_a_bare_lf_or_cr_inside_a_command_is_500_and_nothing_of_it_is_acted_upon(line):
    run = converse(cfg(), EHLO, line, b"NOOP\r\n")
    assert run.codes == [250, 500, 250]
    assert run.server.state is State.READY and not run.of(MailFrom) and not run.of(Closed)


def test_an_overlong_command_gets_exactly_one_500_and_the_next_command_is_answered_normally():
    run = converse(cfg(max_line=64), EHLO, b"MAIL FROM:<" + b"x" * 300 + b"@a.example>\r\n" + b"NOOP\r\n")
    assert run.codes == [250, 500, 250]
    assert run.server.state is State.READY


def test_an_overlong_command_arriving_in_pieces_gets_one_500():
    run = converse(cfg(max_line=64), b"NOOP " + b"x" * 100, b"y" * 100 + b"\r", b"\nNOOP\r\n")
    assert run.codes == [500, 250]


def test_a_command_of_exactly_max_line_octets_with_crlf_is_accepted():
    line = b"NOOP " + b"x" * (64 - 7) + b"\r\n"
    assert len(line) == 64
    assert converse(cfg(max_line=64), line).codes == [250]
    assert converse(cfg(max_line=64), line[:-2] + b"x\r\n").codes == [500]


def test_a_command_that_is_not_utf8_is_500():
    assert converse(cfg(), b"NOOP \xff\xfe\r\nNOOP\r\n").codes == [500, 250]


def test_quit_is_221_then_closed_and_nothing_more_is_read():
    run = converse(cfg(), EHLO + MAIL + b"QUIT\r\n" + b"NOOP\r\n", b"NOOP\r\n")
    assert run.codes == [250, 250, 221]
    assert run.replies[-1][1] == ["221 2.0.0 mx.example closing connection"]
    assert [type(e) for e in run.events] == [MailFrom, Closed]
    assert run.server.state is State.CLOSED


def test_quit_before_ehlo_is_221():
    run = converse(cfg(), b"QUIT\r\n")
    assert run.codes == [221] and run.of(Closed)


# --- MAIL / RCPT syntax (RFC 5321 4.1.2, 4.5.3.1) ----------------------------------------------------------


def domain_of(length: int) -> str:
    """A syntactically valid domain of exactly `length` octets (labels of at most 63)."""
    labels, left = [], length
    while left > 0:
        size = min(50, left) if left != 51 else 49  # never leave a trailing single "." with no label
        labels.append("d" * size)
        left -= size + 1
    name = ".".join(labels)
    assert len(name) == length, (len(name), length)
    return name


def path_of(length: int) -> str:
    """<local@domain> of exactly `length` octets, brackets included."""
    local = "l" * 64
    return f"<{local}@{domain_of(length - len(local) - 3)}>"


@pytest.mark.parametrize("argument, sender", [
    ("FROM:<alice@a.example>", "alice@a.example"),
    ("from:<alice@a.example>", "alice@a.example"),
    ("FROM:<>", ""),
    ("FROM: <alice@a.example>", "alice@a.example"),  # spaces after the colon: tolerated
    ("FROM:   <alice@a.example>", "alice@a.example"),
    ('FROM:<"john doe"@a.example>', '"john doe"@a.example'),
    ('FROM:<"a\\"b>c"@a.example>', '"a\\"b>c"@a.example'),
    ("FROM:<@relay.example:alice@a.example>", "alice@a.example"),  # source route: accepted, ignored
    ("FROM:<@r1.example,@r2.example:alice@a.example>", "alice@a.example"),
    ("FROM:<alice@[192.0.2.1]>", "alice@[192.0.2.1]"),
    ("FROM:<alice@[IPv6:2001:db8::1]>", "alice@[IPv6:2001:db8::1]"),
    ("FROM:<first.last+tag@sub.a.example>", "first.last+tag@sub.a.example"),
    ("FROM:<" + "l" * 64 + "@a.example>", "l" * 64 + "@a.example"),
    ("FROM:" + path_of(256), path_of(256)[1:-1]),
])
def test_mail_accepts_the_paths_of_the_grammar(argument, sender):
    run = converse(cfg(), EHLO + b"MAIL " + argument.encode() + b"\r\n")
    assert run.codes == [250, 250]
    assert [e.sender for e in run.of(MailFrom)] == [sender]
    assert run.server.envelope.sender == sender and run.server.state is State.MAIL


@pytest.mark.parametrize("argument", [
    "FROM:alice@a.example",  # no angle brackets
    "FROM:<alice@a.example",  # not closed
    "FROM:<alice@a.example>SIZE=10",  # no space before the parameters
    "FROM:<alice>",  # no domain
    "FROM:<alice@>",
    "FROM:<@a.example>",
    "FROM:<alice@@a.example>",
    "FROM:<al ice@a.example>",
    "FROM:<.alice@a.example>",
    "FROM:<alice.@a.example>",
    "FROM:<al..ice@a.example>",
    "FROM:<alice@-a.example>",
    "FROM:<alice@a.example.>",
    'FROM:<"unterminated@a.example>',
    "FROM:<alice@a.example> <bob@b.example>",
    "FROM:",
    "FROM",
    "TO:<alice@a.example>",
    "<alice@a.example>",
    "FROM:<" + "l" * 65 + "@a.example>",  # local part over 64
    "FROM:" + path_of(257),  # path over 256
])
def test_mail_refuses_what_is_outside_the_grammar_with_501(argument):
    run = converse(cfg(), EHLO + b"MAIL " + argument.encode() + b"\r\n")
    assert run.codes == [250, 501]
    assert run.server.state is State.READY and not run.of(MailFrom)


@pytest.mark.parametrize("path", ["<Postmaster>", "<postmaster>", "<POSTMASTER>"])
def test_rcpt_accepts_postmaster_without_a_domain(path):
    run = converse(cfg(), EHLO + MAIL + f"RCPT TO:{path}\r\n".encode())
    assert run.codes == [250, 250, 250]
    assert [e.recipient for e in run.of(RcptTo)] == ["postmaster"]


@pytest.mark.parametrize("argument", ["TO:<>", "TO:bob@b.example", "TO:<bob>", "FROM:<bob@b.example>",
                                      "TO:<" + "l" * 65 + "@b.example>", "TO:" + path_of(257)])
def test_rcpt_refuses_the_null_path_and_bad_paths_with_501(argument):
    run = converse(cfg(), EHLO + MAIL + b"RCPT " + argument.encode() + b"\r\n")
    assert run.codes == [250, 250, 501] and run.server.state is State.MAIL


def test_rcpt_accepts_spaces_after_the_colon_and_a_source_route():
    run = converse(cfg(), EHLO + MAIL + b"RCPT TO: <@relay.example:bob@b.example>\r\n")
    assert [e.recipient for e in run.of(RcptTo)] == ["bob@b.example"]


def test_refused_mail_or_rcpt_decisions_keep_the_state():
    def refuse(event):
        return (550, "5.7.1", "Not here") if isinstance(event, (MailFrom, RcptTo)) else None
    run = converse(cfg(), EHLO + MAIL, decide=refuse)
    assert run.codes == [250, 550] and run.server.state is State.READY
    run = converse(cfg(), EHLO + MAIL + RCPT, decide=lambda e: (550, "5.1.1", "No") if isinstance(e, RcptTo) else None)
    assert run.codes == [250, 250, 550] and run.server.state is State.MAIL


def test_recipients_past_the_limit_get_452_and_the_accepted_ones_still_get_the_message():
    extra = b"RCPT TO:<carol@c.example>\r\nRCPT TO:<dave@d.example>\r\n"
    run = converse(cfg(max_recipients=2), ENVELOPE + extra + b"DATA\r\nhi\r\n.\r\n")
    assert run.codes == [250, 250, 250, 250, 452, 354, 250]
    assert run.replies[4][1][0].startswith("452 4.5.3 ")
    (message,) = run.of(Message)
    assert [r for r, _ in message.envelope.recipients] == ["bob@b.example", "carol@c.example"]


# --- ESMTP parameters (RFC 1870, 6152, 3461, 4954; RFC 5321 4.1.1.11) -----------------------------------------


def mail_with(params: str, **config) -> Run:
    return converse(cfg(**config), EHLO + f"MAIL FROM:<alice@a.example> {params}\r\n".encode())


def rcpt_with(params: str) -> Run:
    return converse(cfg(), EHLO + MAIL + f"RCPT TO:<bob@b.example> {params}\r\n".encode())


@pytest.mark.parametrize("params, expected", [
    ("SIZE=1000", {"SIZE": "1000"}),
    ("size=1000", {"SIZE": "1000"}),
    ("SIZE=0", {"SIZE": "0"}),
    ("BODY=7BIT", {"BODY": "7BIT"}),
    ("BODY=8BITMIME", {"BODY": "8BITMIME"}),
    ("RET=FULL", {"RET": "FULL"}),
    ("RET=HDRS", {"RET": "HDRS"}),
    ("ENVID=QQ314159+2B1", {"ENVID": "QQ314159+2B1"}),
    ("AUTH=<>", {"AUTH": "<>"}),
    ("AUTH=alice+40a.example", {"AUTH": "alice+40a.example"}),
    ("SIZE=10 BODY=8BITMIME RET=HDRS ENVID=x", {"SIZE": "10", "BODY": "8BITMIME", "RET": "HDRS", "ENVID": "x"}),
])
def test_mail_accepts_the_offered_parameters(params, expected):
    run = mail_with(params, max_message=1000)
    assert run.codes == [250, 250]
    assert [e.params for e in run.of(MailFrom)] == [expected]
    assert run.server.envelope.mail_params == expected


def test_mail_size_over_the_limit_is_552_before_any_data():
    run = mail_with("SIZE=1001", max_message=1000)
    assert run.codes == [250, 552]
    assert run.replies[1][1][0].startswith("552 5.3.4 ")
    assert run.server.state is State.READY and not run.of(MailFrom)


@pytest.mark.parametrize("params", [
    "SIZE=ten", "SIZE", "SIZE=", "SIZE=-1", "SIZE=1.5", "SIZE=" + "9" * 21,  # SIZE malformed
    "BODY=BINARYMIME", "BODY=8bit", "BODY",  # BINARYMIME is not offered
    "RET=ALL", "RET", "RET=FULL RET=HDRS",  # invalid, duplicate
    "ENVID=a+2b", "ENVID=a+", "ENVID=" + "x" * 101, "ENVID", "ENVID=a ENVID=b",
    "AUTH", "AUTH=a+zz",
    "SIZE=1 SIZE=2", "size=1 SIZE=1",  # the same keyword twice
    "=1", "SI_ZE=1", "SIZE=a=b",
])
def test_mail_parameters_that_are_malformed_or_repeated_are_501(params):
    run = mail_with(params, max_message=1000)
    assert run.codes == [250, 501]
    assert run.server.state is State.READY and not run.of(MailFrom)


@pytest.mark.parametrize("params", ["XFOO=1", "NOTIFY=NEVER", "ORCPT=rfc822;a@b", "SMTPUTF8"])
def test_mail_parameters_not_offered_are_555(params):
    run = mail_with(params)
    assert run.codes == [250, 555] and run.server.state is State.READY


@pytest.mark.parametrize("params, expected", [
    ("NOTIFY=NEVER", {"NOTIFY": "NEVER"}),
    ("NOTIFY=SUCCESS", {"NOTIFY": "SUCCESS"}),
    ("NOTIFY=SUCCESS,FAILURE,DELAY", {"NOTIFY": "SUCCESS,FAILURE,DELAY"}),
    ("notify=delay,failure", {"NOTIFY": "delay,failure"}),
    ("ORCPT=rfc822;bob@b.example", {"ORCPT": "rfc822;bob@b.example"}),
    ("ORCPT=rfc822;bob+2Bx@b.example NOTIFY=FAILURE", {"ORCPT": "rfc822;bob+2Bx@b.example", "NOTIFY": "FAILURE"}),
])
def test_rcpt_accepts_the_dsn_parameters(params, expected):
    run = rcpt_with(params)
    assert run.codes == [250, 250, 250]
    assert [e.params for e in run.of(RcptTo)] == [expected]


@pytest.mark.parametrize("params", [
    "NOTIFY=NEVER,SUCCESS", "NOTIFY=FAILURE,NEVER",  # NEVER must stand alone (RFC 3461 4.1)
    "NOTIFY=SOMETIMES", "NOTIFY", "NOTIFY=SUCCESS,SUCCESS", "NOTIFY=SUCCESS,",
    "ORCPT=rfc822", "ORCPT=;bob@b.example", "ORCPT=rfc822;", "ORCPT=rfc822;a+zz", "ORCPT",
    "NOTIFY=SUCCESS NOTIFY=FAILURE",
])
def test_rcpt_dsn_parameters_that_are_malformed_or_repeated_are_501(params):
    run = rcpt_with(params)
    assert run.codes == [250, 250, 501] and run.server.state is State.MAIL


@pytest.mark.parametrize("params", ["SIZE=10", "RET=FULL", "XFOO"])
def test_rcpt_parameters_not_offered_are_555(params):
    run = rcpt_with(params)
    assert run.codes == [250, 250, 555] and run.server.state is State.MAIL


# --- DATA (RFC 5321 4.1.1.4, 4.5.2) ------------------------------------------------------------------------------


def test_data_is_354_then_the_unstuffed_text_is_offered_as_a_message():
    text = b"Subject: dots\r\n\r\n..leading dot\r\n...\r\nplain\r\n.\r\n"
    run = converse(cfg(), ENVELOPE + b"DATA\r\n", text)
    assert run.codes == [250, 250, 250, 354, 250]
    assert run.replies[3][1] == ["354 Start mail input; end with <CRLF>.<CRLF>"]
    (message,) = run.of(Message)
    assert message.body == b"Subject: dots\r\n\r\n.leading dot\r\n..\r\nplain\r\n"
    assert message.envelope.sender == "alice@a.example"
    assert [r for r, _ in message.envelope.recipients] == ["bob@b.example"]
    assert run.server.state is State.READY


def test_the_end_of_data_ends_the_transaction_and_a_new_one_can_start():
    run = converse(cfg(), ENVELOPE + b"DATA\r\nfirst\r\n.\r\n" + MAIL + RCPT + b"DATA\r\nsecond\r\n.\r\n")
    assert run.codes == [250, 250, 250, 354, 250, 250, 250, 354, 250]
    assert [m.body for m in run.of(Message)] == [b"first\r\n", b"second\r\n"]


def test_commands_inside_the_mail_text_are_text():
    run = converse(cfg(), ENVELOPE + b"DATA\r\nQUIT\r\nRSET\r\nMAIL FROM:<x@y.example>\r\n.\r\n")
    assert run.codes == [250, 250, 250, 354, 250]
    assert run.of(Message)[0].body == b"QUIT\r\nRSET\r\nMAIL FROM:<x@y.example>\r\n"
    assert not run.of(Closed)


def test_an_empty_message_is_a_message():
    run = converse(cfg(), ENVELOPE + b"DATA\r\n.\r\n")
    assert run.codes[-1] == 250 and run.of(Message)[0].body == b""


def test_data_with_an_argument_is_501():
    run = converse(cfg(), ENVELOPE + b"DATA now\r\n")
    assert run.codes == [250, 250, 250, 501] and run.server.state is State.RCPT


def test_a_refused_message_gets_the_refusal_and_ends_the_transaction():
    run = converse(cfg(), ENVELOPE + b"DATA\r\nx\r\n.\r\n" + RCPT,
                   decide=lambda e: (554, "5.7.1", "Spam") if isinstance(e, Message) else None)
    assert run.codes == [250, 250, 250, 354, 554, 503]
    assert run.server.state is State.READY


@pytest.mark.parametrize("lookalike", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r"])
def test_bare_lf_or_cr_end_of_data_lookalikes_never_end_the_data(lookalike):
    # SMTP smuggling: only <CRLF>.<CRLF> ends the text; what follows a look-alike is still text
    smuggled = b"MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@b.example>\r\nDATA\r\nforged\r\n"
    run = converse(cfg(), ENVELOPE + b"DATA\r\n", b"hello" + lookalike + smuggled, b".\r\n", b"NOOP\r\n")
    assert run.codes == [250, 250, 250, 354, 554, 250]
    assert [e.sender for e in run.of(MailFrom)] == ["alice@a.example"]
    assert not run.of(Message)


def test_a_message_over_the_size_limit_is_552_after_its_end_and_nothing_is_delivered():
    run = converse(cfg(max_message=20), ENVELOPE + b"DATA\r\n", b"0123456789\r\n" * 5, b".\r\n" + RCPT)
    assert run.codes == [250, 250, 250, 354, 552, 503]
    assert run.replies[4][1][0].startswith("552 5.3.4 ")
    assert not run.of(Message) and run.server.state is State.READY


def test_a_message_of_exactly_the_size_limit_is_accepted():
    run = converse(cfg(max_message=24), ENVELOPE + b"DATA\r\n" + b"..123456789\r\n" + b"x" * 10 + b"\r\n.\r\n")
    assert run.codes[-1] == 250 and len(run.of(Message)[0].body) == 24


def test_a_text_line_over_max_line_is_552_and_the_data_is_still_read_to_its_end():
    run = converse(cfg(max_line=64), ENVELOPE + b"DATA\r\n", b"ok\r\n" + b"y" * 200 + b"\r\nafter\r\n.\r\nNOOP\r\n")
    assert run.codes == [250, 250, 250, 354, 552, 250]
    assert not run.of(Message)


@pytest.mark.parametrize("text", [b"a\rb\r\n", b"a\nb\r\n", b"end\n\r\n", b"..\r\r\n"])
def test_a_bare_cr_or_lf_in_the_mail_text_is_554(text):
    run = converse(cfg(), ENVELOPE + b"DATA\r\n" + text + b".\r\n")
    assert run.codes == [250, 250, 250, 354, 554]
    assert run.replies[-1][1][0].startswith("554 5.6.0 ")
    assert not run.of(Message) and run.server.state is State.READY


# --- PIPELINING (RFC 2920) ---------------------------------------------------------------------------------------


def test_a_whole_pipelined_transaction_in_one_feed_gets_its_replies_in_order():
    script = (EHLO + MAIL + RCPT + b"RCPT TO:<nobody@b.example>\r\nRCPT TO:<carol@c.example>\r\n"
              + b"DATA\r\nhello\r\n.\r\nQUIT\r\n")

    def decide(event):
        return (550, "5.1.1", "No such user") if isinstance(event, RcptTo) and event.recipient.startswith("nobody") \
            else None

    run = converse(cfg(), script, decide=decide)
    assert run.codes == [250, 250, 250, 550, 250, 354, 250, 221]
    assert [type(e) for e in run.events] == [MailFrom, RcptTo, RcptTo, RcptTo, Message, Closed]


@pytest.mark.parametrize("bytewise", [False, True])
def test_no_reply_is_written_and_no_command_is_read_while_a_decision_is_pending(bytewise):
    server = SmtpServer(cfg())
    server.data_to_send()
    script = EHLO + MAIL + b"NOOP\r\n" + RCPT + b"DATA\r\nbody\r\n.\r\nNOOP\r\n"
    pieces = [script[i:i + 1] for i in range(len(script))] if bytewise else [script]
    events: list[object] = []
    for piece in pieces:  # everything arrives while nobody decides anything
        server.receive_data(piece)
        event = server.next_event()
        if event is not None:
            events.append(event)
    assert [type(e) for e in events] == [MailFrom]
    assert final_lines(server.data_to_send()) == 1  # the EHLO reply only
    assert server.next_event() is None  # asking again does not move past the pending decision
    assert server.data_to_send() == b""
    server.accept()
    assert server.data_to_send() == b"250 2.1.0 Sender OK\r\n"
    assert isinstance(server.next_event(), RcptTo)
    assert [c for c, _ in replies(server.data_to_send())] == [250]  # NOOP answered, RCPT's reply held back
    server.accept()
    assert isinstance(server.next_event(), Message)
    assert [c for c, _ in replies(server.data_to_send())] == [250, 354]
    server.accept()
    assert server.next_event() is None
    assert [c for c, _ in replies(server.data_to_send())] == [250, 250]


def test_accept_without_a_pending_decision_is_a_local_error():
    server = SmtpServer(cfg())
    with pytest.raises(RuntimeError):
        server.accept()
    with pytest.raises(RuntimeError):
        server.reject(550, "5.0.0", "no")


# --- BDAT (RFC 3030) ---------------------------------------------------------------------------------------------


def test_bdat_single_last_chunk_is_the_message():
    run = converse(cfg(), ENVELOPE + b"BDAT 14 LAST\r\nSubject: x\r\n\r\n")
    assert run.codes == [250, 250, 250, 250]
    assert [m.body for m in run.of(Message)] == [b"Subject: x\r\n\r\n"]
    assert run.server.state is State.READY


def test_bdat_chunks_are_acknowledged_and_joined():
    run = converse(cfg(), ENVELOPE + b"BDAT 3\r\nabc", b"BDAT 4 last\r\nde\r\n", b"NOOP\r\n")
    assert run.codes == [250, 250, 250, 250, 250, 250]
    assert run.replies[3][1] == ["250 2.0.0 3 octets received so far"]
    assert [m.body for m in run.of(Message)] == [b"abcde\r\n"]


def test_bdat_0_last_ends_the_message():
    run = converse(cfg(), ENVELOPE + b"BDAT 6\r\nline\r\nBDAT 0 LAST\r\n")
    assert run.codes == [250, 250, 250, 250, 250]
    assert [m.body for m in run.of(Message)] == [b"line\r\n"]


def test_a_bdat_chunk_holding_crlf_dot_crlf_is_data_and_nothing_is_unstuffed():
    chunk = b"a\r\n.\r\n..b\r\nQUIT\r\n"
    run = converse(cfg(), ENVELOPE + b"BDAT %d LAST\r\n" % len(chunk) + chunk + b"NOOP\r\n")
    assert run.codes == [250, 250, 250, 250, 250]
    assert [m.body for m in run.of(Message)] == [chunk]
    assert not run.of(Closed)


def test_data_after_bdat_in_one_transaction_is_503():
    run = converse(cfg(), ENVELOPE + b"BDAT 3\r\nabcDATA\r\n")
    assert run.codes == [250, 250, 250, 250, 503]
    assert run.server.state is State.RCPT


def test_bdat_after_a_refused_data_is_still_possible():
    run = converse(cfg(), ENVELOPE + b"DATA x\r\nBDAT 2 LAST\r\nok")
    assert run.codes == [250, 250, 250, 501, 250]


@pytest.mark.parametrize("prefix, code", [(b"", 503), (EHLO, 503), (EHLO + MAIL, 554)])
def test_bdat_without_recipients_reads_its_chunk_then_refuses_it(prefix, code):
    run = converse(cfg(), prefix + b"BDAT 6 LAST\r\nNOOP\r\n" + b"NOOP\r\n")
    assert run.codes[-2:] == [code, 250]  # the chunk "NOOP\r\n" was consumed, not run as a command
    assert not run.of(Message)


@pytest.mark.parametrize("argument", [b"", b" x", b" -1", b" 3 MORE", b" 3 LAST x", b" +3", b" 0x10"])
def test_bdat_with_a_bad_size_is_501_and_reads_no_chunk(argument):
    run = converse(cfg(), ENVELOPE + b"BDAT" + argument + b"\r\nNOOP\r\n")
    assert run.codes == [250, 250, 250, 501, 250]
    assert run.server.state is State.RCPT


def test_bdat_over_the_size_limit_is_552_once_the_chunk_is_read():
    run = converse(cfg(max_message=10), ENVELOPE + b"BDAT 20 LAST\r\n" + b"z" * 20 + b"NOOP\r\n" + RCPT)
    assert run.codes == [250, 250, 250, 552, 250, 503]
    assert run.replies[3][1][0].startswith("552 5.3.4 ")
    assert not run.of(Message)


def test_bdat_chunks_adding_up_past_the_size_limit_are_552():
    run = converse(cfg(max_message=10), ENVELOPE + b"BDAT 8\r\n" + b"a" * 8 + b"BDAT 8 LAST\r\n" + b"b" * 8)
    assert run.codes == [250, 250, 250, 250, 552]
    assert not run.of(Message) and run.server.state is State.READY


def test_a_bdat_message_with_a_bare_lf_is_554():
    run = converse(cfg(), ENVELOPE + b"BDAT 4 LAST\r\na\nb\n")
    assert run.codes[-1] == 554 and not run.of(Message)


# --- STARTTLS (RFC 3207) -------------------------------------------------------------------------------------


def test_starttls_is_220_then_a_starttls_event_and_nothing_is_read_until_the_handshake():
    run = converse(cfg(starttls=True), EHLO + b"STARTTLS\r\n", b"NOOP\r\n")
    assert run.codes == [250, 220]
    assert run.replies[1][1] == ["220 2.0.0 Ready to start TLS"]
    assert [type(e) for e in run.events] == [StartTls]
    assert run.server.state is State.TLS


def test_plaintext_pipelined_behind_starttls_is_discarded_and_counted():
    injected = b"MAIL FROM:<evil@x.example>\r\nRCPT TO:<v@b.example>\r\n"
    run = converse(cfg(starttls=True), EHLO + b"STARTTLS\r\n" + injected, TLS, EHLO + RCPT + b"NOOP\r\n")
    assert run.codes == [250, 220, 250, 503, 250]  # the injected MAIL never happened: RCPT has no transaction
    assert not run.of(MailFrom)
    assert run.server.dropped_after_starttls == len(injected)


def test_after_the_handshake_the_session_starts_over():
    run = converse(cfg(starttls=True, plaintext_auth=False), ENVELOPE + b"STARTTLS\r\n", TLS, MAIL, EHLO)
    assert run.codes == [250, 250, 250, 220, 503, 250]  # MAIL before a new EHLO is out of sequence
    server = run.server
    assert server.tls and server.envelope.tls
    lines = ehlo_lines(run, 5)
    assert "STARTTLS" not in lines
    assert "AUTH PLAIN LOGIN" in lines  # AUTH is offered once the session is encrypted
    assert server.envelope.sender == "" and server.envelope.recipients == []


def test_tls_established_forgets_the_authentication():
    # (a client authenticated in plaintext must authenticate again: RFC 3207 4.2 discards prior knowledge)
    run = converse(cfg(starttls=True), EHLO + b"AUTH PLAIN " + b64("\0alice\0pw") + b"\r\nSTARTTLS\r\n", TLS)
    assert run.codes == [250, 235, 220]
    assert run.server.authenticated_as is None


def test_starttls_with_an_argument_is_501():
    run = converse(cfg(starttls=True), EHLO + b"STARTTLS now\r\n")
    assert run.codes == [250, 501] and run.server.state is State.READY and not run.of(StartTls)


def test_a_second_starttls_is_503():
    run = converse(cfg(starttls=True), EHLO + b"STARTTLS\r\n", TLS, EHLO + b"STARTTLS\r\n")
    assert run.codes == [250, 220, 250, 503]
    assert len(run.of(StartTls)) == 1


def test_starttls_on_an_implicit_tls_session_is_503():
    run = converse(cfg(starttls=True, tls_active=True), EHLO + b"STARTTLS\r\n")
    assert run.codes == [250, 503]


def test_starttls_when_not_offered_is_502():
    run = converse(cfg(), EHLO + b"STARTTLS\r\n")
    assert run.codes == [250, 502] and not run.of(StartTls)


# --- AUTH (RFC 4954) ------------------------------------------------------------------------------------------


def test_auth_plain_with_an_initial_response_raises_an_attempt_then_235():
    run = converse(cfg(), EHLO + b"AUTH PLAIN " + b64("admin\0alice\0s3cret pw") + b"\r\n" + MAIL)
    assert run.codes == [250, 235, 250]
    assert run.replies[1][1] == ["235 2.7.0 Authentication successful"]
    assert [(a.mechanism, a.authzid, a.username, a.password) for a in run.of(AuthAttempt)] == \
        [("PLAIN", "admin", "alice", "s3cret pw")]
    assert run.server.authenticated_as == "alice"
    assert run.server.envelope.authenticated_as == "alice"


def test_auth_plain_without_an_initial_response_sends_an_empty_challenge():
    run = converse(cfg(), EHLO + b"AUTH PLAIN\r\n", b64("\0alice\0pw") + b"\r\n")
    assert run.output.split(b"\r\n")[-3] == b"334 "  # "334" SP and nothing else
    assert run.codes == [250, 334, 235]
    assert run.of(AuthAttempt)[0].username == "alice"


def test_auth_login_prompts_for_username_then_password_in_base64():
    run = converse(cfg(), EHLO + b"AUTH LOGIN\r\n", b64("alice") + b"\r\n", b64("pw") + b"\r\n")
    assert run.codes == [250, 334, 334, 235]
    assert run.replies[1][1] == ["334 " + base64.b64encode(b"Username:").decode()]
    assert run.replies[2][1] == ["334 " + base64.b64encode(b"Password:").decode()]
    assert [(a.mechanism, a.username, a.password) for a in run.of(AuthAttempt)] == [("LOGIN", "alice", "pw")]


def test_auth_login_with_an_initial_response_goes_straight_to_the_password():
    run = converse(cfg(), EHLO + b"auth login " + b64("alice") + b"\r\n" + b64("pw") + b"\r\n")
    assert run.codes == [250, 334, 235]
    assert run.replies[1][1] == ["334 UGFzc3dvcmQ6"]


@pytest.mark.parametrize("mechanism", [b"PLAIN", b"LOGIN"])
def test_a_star_cancels_the_exchange_with_501(mechanism):
    run = converse(cfg(), EHLO + b"AUTH " + mechanism + b"\r\n", b"*\r\n", b"NOOP\r\n")
    assert run.codes == [250, 334, 501, 250]
    assert run.server.state is State.READY and not run.of(AuthAttempt)


@pytest.mark.parametrize("response", [b"!!!!", b"abc", b"YWxp Y2U="])
def test_a_response_that_is_not_base64_is_501(response):
    run = converse(cfg(), EHLO + b"AUTH LOGIN\r\n", response + b"\r\n", b"NOOP\r\n")
    assert run.codes == [250, 334, 501, 250] and run.server.state is State.READY


def test_a_bad_initial_response_is_501():
    run = converse(cfg(), EHLO + b"AUTH PLAIN !!!\r\nNOOP\r\n")
    assert run.codes == [250, 501, 250] and run.server.state is State.READY


def test_a_plain_response_without_two_nuls_is_501():
    run = converse(cfg(), EHLO + b"AUTH PLAIN " + b64("alice") + b"\r\n")
    assert run.codes == [250, 501] and not run.of(AuthAttempt)


def test_an_unknown_mechanism_is_504():
    run = converse(cfg(), EHLO + b"AUTH CRAM-MD5\r\n")
    assert run.codes == [250, 504] and run.server.state is State.READY


@pytest.mark.parametrize("argument", [b"", b" PLAIN a b"])
def test_auth_with_a_wrong_number_of_arguments_is_501(argument):
    assert converse(cfg(), EHLO + b"AUTH" + argument + b"\r\n").codes == [250, 501]


def test_auth_during_a_mail_transaction_is_503():
    run = converse(cfg(), EHLO + MAIL + b"AUTH PLAIN " + b64("\0alice\0pw") + b"\r\n")
    assert run.codes == [250, 250, 503] and run.server.state is State.MAIL and not run.of(AuthAttempt)


def test_auth_before_ehlo_is_503():
    assert converse(cfg(), b"AUTH PLAIN " + b64("\0a\0b") + b"\r\n").codes == [503]


def test_a_second_auth_after_success_is_503():
    line = b"AUTH PLAIN " + b64("\0alice\0pw") + b"\r\n"
    run = converse(cfg(), EHLO + line + line)
    assert run.codes == [250, 235, 503] and len(run.of(AuthAttempt)) == 1


def test_a_refused_attempt_is_535_and_the_session_stays_unauthenticated():
    refuse = lambda e: (535, "5.7.8", "Authentication credentials invalid") if isinstance(e, AuthAttempt) else None
    run = converse(cfg(), EHLO + b"AUTH PLAIN " + b64("\0alice\0bad") + b"\r\n" + b"AUTH LOGIN\r\n", decide=refuse)
    assert run.codes == [250, 535, 334]  # not authenticated, so AUTH may be tried again
    assert run.replies[1][1] == ["535 5.7.8 Authentication credentials invalid"]
    assert run.server.authenticated_as is None


def test_auth_before_tls_without_plaintext_auth_is_538():
    run = converse(cfg(starttls=True, plaintext_auth=False), EHLO + b"AUTH PLAIN " + b64("\0a\0b") + b"\r\n")
    assert run.codes == [250, 538]
    assert run.replies[1][1][0].startswith("538 5.7.11 ")
    assert not run.of(AuthAttempt)


def test_auth_after_tls_without_plaintext_auth_is_allowed():
    run = converse(cfg(starttls=True, plaintext_auth=False), EHLO + b"STARTTLS\r\n", TLS,
                   EHLO + b"AUTH PLAIN " + b64("\0a\0b") + b"\r\n")
    assert run.codes == [250, 220, 250, 235]


def test_an_overlong_sasl_response_fails_the_auth_command_with_500_5_5_6():
    run = converse(cfg(max_line=64), EHLO + b"AUTH PLAIN\r\n", b"A" * 200 + b"\r\n", b"NOOP\r\n")
    assert run.codes == [250, 334, 500, 250]
    assert run.replies[2][1][0].startswith("500 5.5.6 ")
    assert run.server.state is State.READY


# --- enhanced status codes (RFC 2034 3) ----------------------------------------------------------------------


def test_every_2xx_4xx_5xx_reply_but_greeting_and_hello_carries_an_enhanced_code_on_every_line():
    script = (EHLO + b"HELO client.example\r\nHELP\r\nNOOP\r\nVRFY x\r\nEXPN x\r\nVRFY\r\nXYZZY\r\nRCPT TO:<a@b>\r\n"
              + MAIL + b"MAIL FROM:<a@b.example>\r\nRCPT TO:<x>\r\nRCPT TO:<a@b.example> XFOO\r\n" + RCPT
              + b"RCPT TO:<c@c.example>\r\nDATA x\r\nDATA\r\nbody\r\n.\r\n"
              + b"MAIL FROM:<a@b.example> SIZE=99999\r\nRSET\r\nRSET x\r\nAUTH FOO\r\nAUTH PLAIN !\r\n"
              + b"AUTH PLAIN " + b64("\0a\0b") + b"\r\nAUTH PLAIN\r\nBDAT x\r\nSTARTTLS x\r\n"
              + b"EHLO\r\n" + b"NOOP " + b"x" * 100 + b"\r\nSTARTTLS\r\n")
    run = converse(cfg(max_line=64, max_recipients=1, max_message=1000, starttls=True), script, TLS,
                   b"STARTTLS\r\nQUIT\r\n")
    hello_replies = {0, 1}  # the EHLO and HELO replies (RFC 2034: not required there)
    codes = set()
    for i, (code, lines) in enumerate(run.replies):
        codes.add(code)
        if i in hello_replies or code // 100 == 3:
            continue
        enhanced = {line[4:].split(" ")[0] for line in lines}
        assert all(ENHANCED.match(line) for line in lines), lines
        assert len(enhanced) == 1, lines  # one reply, one enhanced code
        assert enhanced.pop()[0] == str(code)[0]  # its class matches the reply's
    assert {214, 221, 235, 250, 252, 354, 452, 500, 501, 503, 552, 555, 220} <= codes


def test_the_greeting_and_hello_replies_carry_no_enhanced_code():
    run = converse(cfg(), EHLO + b"HELO client.example\r\n")
    assert not ENHANCED.match(run.greeting.decode())
    assert not any(ENHANCED.match(line) for _, lines in run.replies for line in lines)


# --- robustness: a peer's odd bytes never raise --------------------------------------------------------------


def test_bdat_with_a_non_ascii_digit_as_size_is_501_not_an_exception():
    run = converse(cfg(), ENVELOPE + "BDAT ²\r\n".encode() + b"NOOP\r\n")
    assert run.codes == [250, 250, 250, 501, 250]


# --- the state table walked: every (state, command) pair ------------------------------------------------------

UNKNOWN = "XYZZY"
VERBS = sorted(COMMANDS) + [UNKNOWN]

AUTH_OK = "PLAIN " + b64("\0alice\0pw").decode()
CANONICAL = {
    "EHLO": "client.example", "HELO": "client.example", "MAIL": "FROM:<a@a.example>",
    "RCPT": "TO:<b@b.example>", "DATA": "", "BDAT": "0 LAST", "RSET": "", "NOOP": "", "VRFY": "bob",
    "EXPN": "list", "HELP": "", "QUIT": "", "STARTTLS": "", "AUTH": AUTH_OK, UNKNOWN: "",
}

# Each reachable command state, reached by a fixed prefix of input (decisions accepted)
PREFIXES: dict[str, tuple[dict, list, State]] = {
    "connected": ({}, [], State.CONNECTED),
    "ready": ({}, [EHLO], State.READY),
    "ready-helo": ({}, [b"HELO client.example\r\n"], State.READY),
    "mail": ({}, [EHLO + MAIL], State.MAIL),
    "rcpt": ({}, [ENVELOPE], State.RCPT),
    "rcpt-after-bdat": ({}, [ENVELOPE + b"BDAT 2\r\nok"], State.RCPT),
    "ready-authenticated": ({}, [EHLO + b"AUTH " + AUTH_OK.encode() + b"\r\n"], State.READY),
    "connected-after-starttls": ({"starttls": True}, [EHLO + b"STARTTLS\r\n", TLS], State.CONNECTED),
    "ready-after-starttls": ({"starttls": True}, [EHLO + b"STARTTLS\r\n", TLS, EHLO], State.READY),
    "mail-no-plaintext-auth": ({"starttls": True, "plaintext_auth": False}, [EHLO + MAIL], State.MAIL),
    "ready-after-message": ({}, [ENVELOPE + b"DATA\r\nx\r\n.\r\n"], State.READY),
}
REFUSALS = {500, 501, 502, 503, 504, 538, 554, 555}


def reach(name: str) -> SmtpServer:
    config, steps, state = PREFIXES[name]
    run, _ = _run_once(cfg(**config), tuple(steps), accept_all, bytewise=False)
    assert run.server.state is state, (name, run.server.state, run.output)
    run.server.data_to_send()
    return run.server


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
@pytest.mark.parametrize("verb", VERBS)
def test_every_state_and_command_pair_follows_the_table(prefix, verb):
    server = reach(prefix)
    before = server.state
    server.receive_data(f"{verb} {CANONICAL[verb]}".rstrip().encode() + b"\r\n")
    answered = 0
    for _ in range(10):
        event = server.next_event()
        answered += final_lines(server.data_to_send())
        if isinstance(event, DECISIONS):
            assert answered == 0, "a reply left before the decision was made"
            server.accept()
        elif event is None:
            break
    answered += final_lines(server.data_to_send())
    assert answered == 1, "every command line gets exactly one reply"
    entry = COMMANDS.get(verb)
    if entry is None or before not in entry[1]:
        # anything not in the table is refused (500 unknown, 503 out of sequence; 554 for DATA in MAIL
        # is RFC 5321 3.3's alternative), and the refusal changes nothing
        assert server.state is before


def answer_sequence_reply(server: SmtpServer, line: bytes, verdicts) -> tuple[list[int], bool]:
    """Feed one line; answer decisions from `verdicts`. Returns the final reply codes and whether a decision
    was raised; checks that nothing was replied while it was pending."""
    server.receive_data(line)
    codes: list[int] = []
    decided = False
    for _ in range(20):
        event = server.next_event()
        codes += [c for c, _ in replies(server.data_to_send())]
        if event is None:
            break
        if isinstance(event, DECISIONS):
            assert codes == [] or (codes == [354] and isinstance(event, Message)), \
                "no reply for a command may leave while its decision is pending"
            decided = True
            if next(verdicts, True):
                server.accept()
            else:
                server.reject(550, "5.7.1", "Refused by policy")
        elif isinstance(event, StartTls):
            pass  # the caller finishes the handshake
    codes += [c for c, _ in replies(server.data_to_send())]
    return codes, decided


ARGUMENTS = {
    "EHLO": ["client.example", "", "[192.0.2.1]", "bad_name"],
    "HELO": ["client.example", "", "x.example y"],
    "MAIL": ["FROM:<a@a.example>", "FROM:<>", "FROM:<a@a.example> SIZE=10", "FROM:<a@a.example> XFOO",
             "FROM:x", "FROM:<a@a.example> SIZE=99999999999", "TO:<a@a.example>"],
    "RCPT": ["TO:<b@b.example>", "TO:<Postmaster>", "TO:<>", "TO:<b@b.example> NOTIFY=NEVER,DELAY",
             "TO:<b@b.example> NOTIFY=SUCCESS"],
    "DATA": ["", "x"],
    "BDAT": ["0", "0 LAST", "3", "3 LAST", "", "x", "3 MORE"],
    "RSET": ["", "x"], "NOOP": ["", "x"], "VRFY": ["", "bob"], "EXPN": ["", "all"], "HELP": ["", "MAIL"],
    "QUIT": [""], "STARTTLS": ["", "x"],
    "AUTH": [AUTH_OK, "PLAIN", "LOGIN", "LOGIN " + b64("alice").decode(), "PLAIN !!", "CRAM-MD5", ""],
    UNKNOWN: ["", "x"],
}
PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="0123456789"),
                    max_size=16)


@st.composite
def command_lines(draw):
    verb = draw(st.sampled_from(VERBS))
    argument = draw(st.one_of(st.sampled_from(ARGUMENTS[verb]), PRINTABLE))
    casing = draw(st.sampled_from([str.upper, str.lower, str.title]))
    return verb, casing(verb), argument


@given(prefix=st.sampled_from(sorted(PREFIXES)), commands=st.lists(command_lines(), min_size=1, max_size=8),
       verdicts=st.lists(st.booleans(), max_size=10), bytewise=st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_command_sequence_from_any_state_gets_one_reply_per_line_and_refusals_change_nothing(
        prefix, commands, verdicts, bytewise):
    server = reach(prefix)
    verdict_iter = iter(verdicts)
    for verb, spelled, argument in commands:
        if server.state is State.CLOSED:
            break
        before = server.state
        line = f"{spelled} {argument}".rstrip().encode() + b"\r\n"
        note(f"{before.value}: {line!r}")
        if bytewise:  # a command arriving byte by byte: nothing is answered before its CRLF
            for i in range(len(line) - 1):
                server.receive_data(line[i:i + 1])
                assert server.next_event() is None and server.data_to_send() == b""
            codes, decided = answer_sequence_reply(server, line[-1:], verdict_iter)
        else:
            codes, decided = answer_sequence_reply(server, line, verdict_iter)
        if server.state is State.BDAT:  # BDAT is answered once its chunk has been read (RFC 3030 2)
            assert codes == []
            codes, decided = answer_sequence_reply(server, b"x" * int(argument.split()[0]), verdict_iter)
        note(f"  -> {codes} {server.state.value}")
        if before is State.AUTH:
            assert len(codes) == 1 and codes[0] in (235, 334, 501, 550), codes  # a SASL response
            continue
        assert len(codes) == 1, f"{line!r} in {before.value} got {codes}"
        code = codes[0]
        if code in REFUSALS and not decided:
            assert server.state is before, f"refused {line!r} moved {before.value} to {server.state.value}"
        if verb == UNKNOWN:
            assert code == 500
        elif before not in COMMANDS[verb][1]:
            assert code in (503, 554)
        # leave the non-command states the way a client would
        if server.state is State.DATA:
            codes, _ = answer_sequence_reply(server, b"MAIL FROM:<x@y.example>\r\nQUIT\r\n..\r\n.\r\n", verdict_iter)
            assert len(codes) == 1 and codes[0] in (250, 550)
        elif server.state is State.TLS:
            server.tls_established()
            assert server.state is State.CONNECTED
        assert server.state in COMMAND_STATES + (State.AUTH, State.CLOSED)
