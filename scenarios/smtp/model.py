"""A model of the RFC 5321 command sequence, and a hypothesis state machine that holds servers to it.

The model tracks each session's state (greeted, ready after EHLO/HELO, in a transaction after MAIL, with
recipients after RCPT) and says, for every command, which replies the RFC allows in that state and what
state follows. The rule at its heart: 503 "bad sequence of commands" comes exactly when a command is
out of sequence. Around it: RSET and a new EHLO end the transaction, NOOP and VRFY change nothing, QUIT is
answered 221, and 421 may end a session at any point (the server shutting the channel).

Hypothesis drives two sessions at once through random sequences of these commands and malformed lines;
a reply the model does not allow is shrunk to the shortest conversation that still shows it.
"""
from __future__ import annotations

import enum

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from conformance.dialects.smtp import SmtpClient, dot_stuff
from conformance.model import Kind
from conformance.property import Driver, check_machine
from conformance.registry import probe
from conformance.wire.session import ConnectionClosed, WireError


class State(enum.Enum):
    CLOSED = "closed"
    GREETED = "greeted"  # 220 received, no EHLO/HELO yet
    READY = "ready"  # EHLO/HELO done, no transaction
    MAIL = "mail"  # MAIL accepted
    RCPT = "rcpt"  # at least one RCPT accepted


VRFY_CODES = {250, 251, 252, 550, 551, 553, 502, 504}
TRANSACTION = (State.MAIL, State.RCPT)


def transition(state: State, command: str, code: int) -> tuple[bool, State, str]:
    """(allowed, next state, what the RFC expects) for a reply `code` to `command` in `state`.

    `command` is one of EHLO, HELO, NOOP, RSET, VRFY, MAIL, RCPT, DATA, QUIT, BAD-MAIL (MAIL with a
    syntax error), JUNK (an unknown command)."""
    if code == 421:  # the server may close the channel at any time with 421 (RFC 5321 3.8)
        return True, State.CLOSED, "421 ends the session"
    if command in ("EHLO", "HELO"):
        return code == 250, State.READY if code == 250 else state, "250; any transaction is reset (4.1.4)"
    if command == "NOOP":
        return code == 250, state, "250 and no change (4.1.1.9)"
    if command == "RSET":
        nxt = State.READY if state in TRANSACTION else state
        return code == 250, nxt, "250; the transaction is discarded (4.1.1.5)"
    if command == "VRFY":
        return code in VRFY_CODES, state, "a VRFY reply code, no change of state (3.5.3)"
    if command == "QUIT":
        return code == 221, State.CLOSED, "221, then the server closes (4.1.1.10)"
    if command == "MAIL":
        if state in TRANSACTION:  # refused (503), or a fresh transaction that drops the recipients (3.3)
            return code in (503, 250), State.MAIL if code == 250 else state, "503, or 250 starting afresh"
        if state is State.GREETED:  # the server may insist on EHLO first, or accept
            return True, State.MAIL if code == 250 else state, "250, or 503 until EHLO"
        return code != 503, State.MAIL if code == 250 else state, "not 503: MAIL is in sequence"
    if command == "RCPT":
        if state not in TRANSACTION:
            return code == 503, state, "503: RCPT needs a MAIL first (3.3)"
        return code != 503, State.RCPT if code in (250, 251) else state, "not 503: RCPT is in sequence"
    if command == "DATA":
        if state is not State.RCPT:
            return code in (503, 554), state, "503 or 554: no valid recipients yet (3.3)"
        return code != 503, state, "354 (or a refusal other than 503): DATA is in sequence"
    if command == "BAD-MAIL":
        return code // 100 == 5 and code != 250, state, "a 5yz refusal, no change of state"
    if command == "JUNK":
        return code in (500, 501, 502), state, "500 (unknown command), no change of state (4.2.4)"
    raise ValueError(f"the model has no command {command!r}")


SESSIONS = st.integers(min_value=0, max_value=1)


class SmtpMachine(RuleBasedStateMachine):
    def __init__(self, driver: Driver) -> None:
        super().__init__()
        self.driver = driver
        driver.new_example()
        self.ctx = driver.ctx
        self.clients: list[SmtpClient | None] = [None, None]
        self.state = [State.CLOSED, State.CLOSED]
        self.last_code = [0, 0]

    # --- wire helpers ---------------------------------------------------------------------------------

    def client(self, i: int) -> SmtpClient | None:
        """The session's client, connecting (and reading the greeting) when it is closed; None when the
        server is busy (421 greeting) or the search has stopped."""
        if self.state[i] is State.CLOSED:
            wire = self.driver.guard(lambda: self.driver.open("smtp", "ab"[i]))
            if wire is None:
                return None
            client = SmtpClient(wire)
            greeting = self.driver.guard(lambda: self.driver.call(client.read_greeting()))
            if greeting is None:
                return None
            if greeting.code == 421:  # too busy right now: allowed, try again on a later step
                self.driver.call(wire.close())
                return None
            if greeting.code != 220:
                self.driver.violate(f"session {'ab'[i]} was greeted with {greeting}", "220", greeting.show())
            self.clients[i] = client
            self.state[i] = State.GREETED
            self.last_code[i] = 220
        return self.clients[i]

    def exchange(self, i: int, command: str, line: str) -> int | None:
        if not self.driver.active():
            return None
        client = self.client(i)
        if client is None:
            return None
        before = self.state[i]
        try:
            reply = self.driver.call(client.cmd(line))
        except ConnectionClosed:
            # After a 5yz reply a server may drop a client it considers abusive (RFC 5321 7.8); any other
            # close without 421 or QUIT breaks 4.1.1.10.
            if self.last_code[i] // 100 != 5:
                self.driver.violate(f"session {'ab'[i]} in state {before.value}: the server closed the connection "
                                    f"on {line!r} after a {self.last_code[i]} reply", "a reply (or 421 first)",
                                    "connection closed")
            note(f"session {'ab'[i]}: closed by the server after a {self.last_code[i]} reply")
            self.state[i] = State.CLOSED
            return None
        except WireError as exc:
            self.driver.broken = exc
            return None
        self.driver.commands += 1
        self.last_code[i] = reply.code
        allowed, after, expectation = transition(before, command, reply.code)
        note(f"session {'ab'[i]} in {before.value}: {line!r} -> {reply}")
        if not allowed and reply.klass == 5 and self._closes(client):
            # A refusal followed at once by closing the channel is the server defending itself against a
            # client it finds abusive (RFC 5321 7.8, e.g. too many commands without mail), not a state error.
            note(f"session {'ab'[i]}: the server refused and closed the connection (self-defence)")
            self.state[i] = State.CLOSED
            return reply.code
        if not allowed:
            self.driver.violate(f"session {'ab'[i]} in state {before.value}: {line!r} got {reply.code}",
                                expectation, reply.show())
        self.state[i] = after
        if after is State.CLOSED:
            self.driver.call(client.wire.close())
        return reply.code

    def _closes(self, client: SmtpClient) -> bool:
        try:
            self.driver.call(client.wire.wait_closed(0.5))
            return True
        except WireError:
            return False

    # --- rules ------------------------------------------------------------------------------------------

    @rule(i=SESSIONS, verb=st.sampled_from(["EHLO", "HELO", "ehlo"]))
    def hello(self, i, verb):
        self.exchange(i, verb.upper(), f"{verb} {self.ctx.vars['helo']}")

    @rule(i=SESSIONS)
    def mail(self, i):
        self.exchange(i, "MAIL", f"MAIL FROM:<{self.ctx.vars['sender']}>")

    @rule(i=SESSIONS)
    def rcpt(self, i):
        self.exchange(i, "RCPT", f"RCPT TO:<{self.ctx.vars['rcpt']}>")

    @rule(i=SESSIONS)
    def data(self, i):
        code = self.exchange(i, "DATA", "DATA")
        if code == 354:
            client = self.clients[i]
            body = self.ctx.message("model conversation", "written by the RFC 5321 state machine")
            final = self.driver.guard(lambda: self.driver.call(self._send_body(client, body)))
            if final is None:
                return
            self.driver.commands += 1
            self.last_code[i] = final.code
            note(f"session {'ab'[i]}: message -> {final}")
            if final.code == 421:
                self.state[i] = State.CLOSED
                self.driver.call(client.wire.close())
            elif final.klass not in (2, 4, 5):
                self.driver.violate(f"session {'ab'[i]}: end of data got {final.code}", "250 or a refusal",
                                    final.show())
            else:
                self.state[i] = State.READY  # the transaction ends with the reply to the data, either way
        elif code is not None and self.state[i] is State.RCPT:
            # Refused for its own reasons (a 4yz/5yz other than 503): whether the recipients survive is
            # not specified, so this session's state is unknown from here on. Start it afresh.
            self.exchange(i, "QUIT", "QUIT")

    @staticmethod
    async def _send_body(client: SmtpClient, body: bytes):
        await client.wire.send(dot_stuff(body))
        return await client.read_reply()

    @rule(i=SESSIONS)
    def rset(self, i):
        self.exchange(i, "RSET", "RSET")

    @rule(i=SESSIONS, arg=st.sampled_from(["", " ping", " " + "x" * 40]))
    def noop(self, i, arg):
        self.exchange(i, "NOOP", f"NOOP{arg}")

    @rule(i=SESSIONS)
    def vrfy(self, i):
        self.exchange(i, "VRFY", f"VRFY <{self.ctx.vars['rcpt']}>")

    # MAIL lines no lenient parser can take for a sender (an unbracketed path, say, may be guessed at).
    @rule(i=SESSIONS, line=st.sampled_from(["MAIL", "MAIL TO:<wireproof@example.org>"]))
    def bad_mail(self, i, line):
        self.exchange(i, "BAD-MAIL", line)

    @rule(i=SESSIONS, word=st.from_regex(r"\AX[A-Z]{3,8}\Z", fullmatch=True))
    def junk(self, i, word):
        self.exchange(i, "JUNK", word)

    @rule(i=SESSIONS)
    def quit(self, i):
        if self.state[i] is not State.CLOSED:
            self.exchange(i, "QUIT", "QUIT")

    def teardown(self):
        self.driver.close_sessions()


@probe("smtp.model.command-sequence", kind=Kind.PROPERTY, level="MUST",
       rfc="rfc5321#3.3 rfc5321#4.1.4 rfc5321#4.1.1.5 rfc5321#4.1.1.9 rfc5321#4.1.1.10",
       requirement="Across random conversations on two sessions at once, every reply fits the RFC 5321 command "
                   "sequence: 503 exactly when a command is out of order, RSET and EHLO end the transaction, NOOP "
                   "and VRFY change nothing, QUIT gets 221.",
       tags=["model", "property", "transaction"], timeout=300)
async def command_sequence(ctx):
    ctx.var("rcpt")  # skips, with the hint, when the target names no recipient
    await check_machine(ctx, SmtpMachine)
