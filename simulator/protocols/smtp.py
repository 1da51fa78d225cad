"""The SMTP server as a sans-I/O state machine: RFC 5321, with SIZE (RFC 1870), ENHANCEDSTATUSCODES
(2034), PIPELINING (2920), CHUNKING (3030), STARTTLS (3207), DSN (3461), AUTH (4954) and 8BITMIME (6152).

No sockets, no asyncio, no clock: bytes go in with `receive_data`, bytes come out of `data_to_send`, and
whatever needs the rest of the server becomes an event:

    conn = SmtpServer(config)                     # the greeting is already in data_to_send()
    conn.receive_data(data)
    while (event := conn.next_event()) is not None:
        MailFrom / RcptTo / Message / AuthAttempt -> decide: conn.accept(...) or conn.reject(code, enh, text)
        StartTls                                  -> upgrade the connection, then conn.tls_established()
        Closed                                    -> send data_to_send(), then close
    write(conn.data_to_send())

While a decision is pending no further input is processed, so pipelined commands wait their turn and
replies leave in the order the commands came (RFC 2920 3.2).

The command table says which verbs are valid in which states. Anything else is refused without
touching the state: a known verb out of place gets 503, an unknown one 500.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from ..framing import DotReader, InputBuffer, TooLong
from . import sasl
from . import smtp_grammar as g


class State(enum.Enum):
    CONNECTED = "connected"  # greeted, no EHLO/HELO yet
    READY = "ready"  # EHLO/HELO done, no mail transaction
    MAIL = "mail"  # reverse-path accepted
    RCPT = "rcpt"  # at least one recipient accepted
    DATA = "data"  # reading mail text after 354
    BDAT = "bdat"  # reading the octets of a chunk
    AUTH = "auth"  # in a SASL exchange (after 334)
    TLS = "tls"  # 220 sent to STARTTLS; the handshake comes next
    CLOSED = "closed"


TRANSACTION = (State.MAIL, State.RCPT)
COMMAND_STATES = (State.CONNECTED, State.READY, State.MAIL, State.RCPT)


@dataclass
class SmtpConfig:
    hostname: str
    banner: str = ""
    max_line: int = 4096
    max_message: int = 10_485_760
    max_recipients: int = 5000
    starttls: bool = False  # offer STARTTLS
    tls_active: bool = False  # implicit TLS: the session is encrypted from the start
    auth_mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN")
    plaintext_auth: bool = True  # offer AUTH before TLS
    client_address: str = ""


@dataclass
class Envelope:
    helo: str = ""
    sender: str = ""
    mail_params: dict[str, str | None] = field(default_factory=dict)
    recipients: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    authenticated_as: str | None = None
    tls: bool = False
    esmtp: bool = False


# --- events ------------------------------------------------------------------------------------------


@dataclass
class MailFrom:
    sender: str  # "" for the null reverse-path
    params: dict[str, str | None]


@dataclass
class RcptTo:
    recipient: str
    params: dict[str, str | None]
    envelope: Envelope


@dataclass
class Message:
    envelope: Envelope
    body: bytes


@dataclass
class AuthAttempt:
    mechanism: str
    authzid: str
    username: str
    password: str


@dataclass
class StartTls:
    pass


@dataclass
class Closed:
    reason: str


Decision = MailFrom | RcptTo | Message | AuthAttempt


class SmtpServer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.state = State.CONNECTED
        self.tls = config.tls_active
        self.authenticated_as: str | None = None
        self.envelope = Envelope(tls=self.tls)
        self._in = InputBuffer(config.max_line)
        self._out = bytearray()
        self._events: list[object] = []
        self._pending: Decision | None = None
        self._data: DotReader | None = None
        self._chunks: list[bytes] = []  # BDAT chunks of this transaction
        self._chunk_size = 0
        self._chunk_overflow = False
        self._chunk_left = 0
        self._resume = State.READY  # the state a BDAT chunk returns to
        self._chunk_last = False
        self._chunk_refusal: tuple[int, str, str] | None = None  # reply once a refused chunk is read
        self._bdat_used = False
        self._sasl: sasl.SaslExchange | None = None
        self.dropped_after_starttls = 0  # plaintext octets thrown away behind STARTTLS (CVE-2011-0411)
        greeting = config.banner or f"{config.hostname} wireproof ESMTP service ready"
        self._line(220, None, greeting)

    # --- the I/O surface ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self.state is State.TLS:
            return  # nothing may arrive between 220 and the handshake; the adapter upgrades first
        self._in.feed(data)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> object | None:
        while not self._events and self._pending is None and self.state not in (State.TLS, State.CLOSED):
            if not self._step():
                break
        return self._events.pop(0) if self._events else None

    # --- decisions ------------------------------------------------------------------------------------

    def accept(self, text: str | None = None) -> None:
        """The server says yes to the pending MailFrom, RcptTo, Message or AuthAttempt."""
        pending, self._pending = self._take()
        if isinstance(pending, MailFrom):
            self.envelope.sender, self.envelope.mail_params = pending.sender, pending.params
            self.state = State.MAIL
            self._line(250, "2.1.0", text or "Sender OK")
        elif isinstance(pending, RcptTo):
            self.envelope.recipients.append((pending.recipient, pending.params))
            self.state = State.RCPT
            self._line(250, "2.1.5", text or "Recipient OK")
        elif isinstance(pending, Message):
            self._end_transaction()
            self._line(250, "2.6.0", text or "Message accepted for delivery")
        elif isinstance(pending, AuthAttempt):
            self.authenticated_as = pending.username
            self.envelope.authenticated_as = pending.username
            self.state = State.READY
            self._line(235, "2.7.0", text or "Authentication successful")

    def reject(self, code: int, enhanced: str, text: str) -> None:
        """The server says no; the state stays where the command found it (a refused message or a failed
        AUTH ends the transaction or the exchange)."""
        pending, self._pending = self._take()
        if isinstance(pending, Message):
            self._end_transaction()
        elif isinstance(pending, AuthAttempt):
            self.state = State.READY
        self._line(code, enhanced, text)

    def tls_established(self) -> None:
        """RFC 3207 4.2: after the handshake the session starts over and the client's earlier words count
        for nothing; STARTTLS is no longer offered."""
        self.tls = True
        self.state = State.CONNECTED
        self.envelope = Envelope(tls=True)
        self.authenticated_as = None
        self._in.clear()

    def _take(self) -> tuple[Decision, None]:
        if self._pending is None:
            raise RuntimeError("no decision is pending")
        return self._pending, None

    # --- replies ----------------------------------------------------------------------------------------

    def _line(self, code: int, enhanced: str | None, text: str) -> None:
        self._lines(code, enhanced, [text])

    def _lines(self, code: int, enhanced: str | None, texts: list[str]) -> None:
        """One reply; every line carries the code, and the enhanced code when one applies (RFC 2034 3)."""
        for i, text in enumerate(texts):
            sep = " " if i == len(texts) - 1 else "-"
            body = f"{enhanced} {text}" if enhanced else text
            self._out += f"{code}{sep}{body}".rstrip().encode("utf-8") + b"\r\n"

    def _close(self, reason: str) -> None:
        self.state = State.CLOSED
        self._events.append(Closed(reason))

    # --- input processing -----------------------------------------------------------------------------

    def _step(self) -> bool:
        """Process one unit of input; False when more input is needed."""
        if self.state is State.BDAT:
            return self._read_chunk()
        line = self._in.line()
        if line is None:
            return False
        if self.state is State.DATA:
            self._data_line(line)
        elif self.state is State.AUTH:
            self._sasl_response(line)  # an overlong response fails the AUTH command (RFC 4954 6: 500 5.5.6)
        elif isinstance(line, TooLong):
            self._line(500, "5.5.2", f"Line too long (limit {self.config.max_line} octets with CRLF)")
        else:
            self._command(line)
        return True

    def _command(self, raw: bytes) -> None:
        if b"\r" in raw or b"\n" in raw:
            # RFC 5321 2.3.8 / 4.1.1.4: only CRLF ends a line; a bare CR or LF inside one is not accepted
            self._line(500, "5.5.2", "Syntax error: bare CR or LF in command")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._line(500, "5.5.2", "Syntax error: command is not valid UTF-8")
            return
        verb, _, argument = text.partition(" ")
        verb = verb.upper()
        entry = COMMANDS.get(verb)
        if entry is None:
            self._line(500, "5.5.2", "Syntax error, command unrecognized")
            return
        handler, states = entry
        if self.state not in states:
            self._out_of_sequence(verb)
            return
        handler(self, argument)

    def _out_of_sequence(self, verb: str) -> None:
        if verb in ("MAIL", "AUTH") and self.state is State.CONNECTED:
            self._line(503, "5.5.1", "Send EHLO or HELO first")
        elif verb == "MAIL":
            self._line(503, "5.5.1", "Sender already specified")
        elif verb == "AUTH":
            self._line(503, "5.5.1", "AUTH is not permitted during a mail transaction")
        elif verb == "DATA" and self.state is State.MAIL:
            self._line(554, "5.5.1", "No valid recipients")
        else:
            self._line(503, "5.5.1", f"Bad sequence of commands: {verb} needs "
                                     + ("MAIL first" if verb in ("RCPT", "DATA") else "a different state"))

    # --- commands: session ------------------------------------------------------------------------------

    def extensions(self) -> list[str]:
        c = self.config
        ext = [f"SIZE {c.max_message}", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"]
        if c.starttls and not self.tls:
            ext.append("STARTTLS")
        if c.auth_mechanisms and (self.tls or c.plaintext_auth):
            ext.append("AUTH " + " ".join(c.auth_mechanisms))
        return ext + ["HELP"]

    def _hello(self, argument: str, esmtp: bool) -> None:
        name = argument.strip()
        pattern = rf"^(?:{g.DOMAIN}|{g.ADDRESS_LITERAL})$" if esmtp else rf"^{g.DOMAIN}$"
        if not name or not re.match(pattern, name):
            # RFC 5321 4.1.4: a refused EHLO leaves the state as it was
            self._line(501, "5.5.4", f"Syntax: {'EHLO' if esmtp else 'HELO'} <your domain>")
            return
        self._reset_transaction()  # 4.1.4: an acceptable EHLO resets the session as RSET would
        self.state = State.READY
        self.envelope.helo, self.envelope.esmtp = name, esmtp
        greeting = f"{self.config.hostname} Hello {name}" + (
            f" [{self.config.client_address}]" if self.config.client_address else "")
        if esmtp:
            self._lines(250, None, [greeting] + self.extensions())
        else:
            self._line(250, None, greeting)

    def ehlo(self, argument: str) -> None:
        self._hello(argument, esmtp=True)

    def helo(self, argument: str) -> None:
        self._hello(argument, esmtp=False)

    def rset(self, argument: str) -> None:
        if argument.strip():
            self._line(501, "5.5.4", "RSET takes no arguments")
            return
        self._reset_transaction()
        if self.state in TRANSACTION:
            self.state = State.READY
        self._line(250, "2.0.0", "Reset OK")

    def noop(self, argument: str) -> None:
        self._line(250, "2.0.0", "OK")  # 4.1.1.9: an argument is ignored

    def vrfy(self, argument: str) -> None:
        if not argument.strip():
            self._line(501, "5.5.4", "Syntax: VRFY <address>")
        else:  # 7.3: a site that does not disclose addresses answers 252
            self._line(252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery")

    def expn(self, argument: str) -> None:
        if not argument.strip():
            self._line(501, "5.5.4", "Syntax: EXPN <list>")
        else:
            self._line(252, "2.1.5", "Cannot EXPN lists; membership is not disclosed")

    def help(self, argument: str) -> None:
        self._lines(214, "2.0.0", ["Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY EXPN HELP QUIT",
                                   "STARTTLS AUTH; see RFC 5321 and the extensions listed by EHLO"])

    def quit(self, argument: str) -> None:
        self._line(221, "2.0.0", f"{self.config.hostname} closing connection")
        self._close("QUIT")

    def starttls(self, argument: str) -> None:
        if argument.strip():
            self._line(501, "5.5.4", "STARTTLS takes no parameters")
        elif self.tls:
            self._line(503, "5.5.1", "TLS is already active")
        elif not self.config.starttls:
            self._line(502, "5.5.1", "STARTTLS is not offered here")
        else:
            self._line(220, "2.0.0", "Ready to start TLS")
            dropped = self._in.clear()  # CVE-2011-0411: plaintext sent behind STARTTLS is never acted upon
            self.state = State.TLS
            self._events.append(StartTls())
            self.dropped_after_starttls += dropped

    # --- commands: mail transaction -------------------------------------------------------------------------

    def _path_command(self, argument: str, keyword: str, check, **path_rules) -> tuple[str, dict] | None:
        """The path and parameters of MAIL or RCPT, or None after the refusal is sent: 501 for the grammar
        (5.5.2 path, 5.5.4 parameters), or the reply a parameter check chose (552, 555)."""
        try:
            path, words = g.split_command(argument, keyword)
            mailbox = g.parse_path(path, **path_rules).mailbox
            params = g.parse_params(words)
            check(params)
        except g.GrammarError as exc:
            self._line(501, "5.5.2" if "path" in str(exc) else "5.5.4", f"Syntax error: {exc}")
            return None
        except _ParamRefused as exc:
            self._line(*exc.reply)
            return None
        return mailbox, params

    def mail(self, argument: str) -> None:
        parsed = self._path_command(argument, "FROM:", self._check_mail_params, null_ok=True)
        if parsed is not None:
            self._pending = MailFrom(*parsed)
            self._events.append(self._pending)

    def _check_mail_params(self, params: dict[str, str | None]) -> None:
        for key, value in params.items():
            if key == "SIZE":
                if value is None or not is_number(value) or len(value) > 20:
                    raise g.GrammarError("SIZE takes a decimal number of octets")
                if int(value) > self.config.max_message:
                    raise _ParamRefused(552, "5.3.4", f"Message size exceeds fixed maximum message size "
                                                      f"({self.config.max_message} octets)")
            elif key == "BODY":
                if (value or "").upper() not in ("7BIT", "8BITMIME"):
                    raise g.GrammarError("BODY is 7BIT or 8BITMIME")
            elif key == "RET":
                if (value or "").upper() not in ("FULL", "HDRS"):
                    raise g.GrammarError("RET is FULL or HDRS")
            elif key == "ENVID":
                if value is None or len(value) > 100:
                    raise g.GrammarError("ENVID takes up to 100 characters of xtext")
                g.decode_xtext(value)
            elif key == "AUTH":
                if value is None:
                    raise g.GrammarError("AUTH takes <> or an xtext mailbox")
                if value != "<>":
                    g.decode_xtext(value)
            else:
                raise _ParamRefused(555, "5.5.4", f"MAIL parameter {key} not recognized")

    def rcpt(self, argument: str) -> None:
        parsed = self._path_command(argument, "TO:", self._check_rcpt_params, postmaster_ok=True)
        if parsed is None:
            return
        if len(self.envelope.recipients) >= self.config.max_recipients:
            self._line(452, "4.5.3", f"Too many recipients (limit {self.config.max_recipients})")  # 4.5.3.1.10
            return
        self._pending = RcptTo(*parsed, self.envelope)
        self._events.append(self._pending)

    def _check_rcpt_params(self, params: dict[str, str | None]) -> None:
        for key, value in params.items():
            if key == "NOTIFY":
                words = [w.upper() for w in (value or "").split(",")]
                if not value or ("NEVER" in words and len(words) > 1) or \
                        any(w not in ("NEVER", "SUCCESS", "FAILURE", "DELAY") for w in words) or \
                        len(set(words)) != len(words):
                    raise g.GrammarError("NOTIFY is NEVER, or a list of SUCCESS, FAILURE and DELAY")
            elif key == "ORCPT":
                kind, sep, address = (value or "").partition(";")
                if not sep or not kind or not address:
                    raise g.GrammarError("ORCPT is addr-type;xtext")
                g.decode_xtext(address)
            else:
                raise _ParamRefused(555, "5.5.4", f"RCPT parameter {key} not recognized")

    def data(self, argument: str) -> None:
        if argument.strip():
            self._line(501, "5.5.4", "DATA takes no arguments")
        elif self._bdat_used:
            self._line(503, "5.5.1", "DATA cannot follow BDAT in one transaction")  # RFC 3030 2
        else:
            self._line(354, None, "Start mail input; end with <CRLF>.<CRLF>")
            self.state = State.DATA
            self._data = DotReader(self.config.max_message)

    def _data_line(self, line: bytes | TooLong) -> None:
        self._data.feed_line(line)
        if self._data.done:
            reader, self._data = self._data, None
            self.state = State.RCPT
            self._finish_message(reader.text(), reader.overflow, reader.too_long_line, reader.bare_cr_lf)

    def _finish_message(self, body: bytes, overflow: bool, too_long: bool, bare: bool) -> None:
        if overflow:
            self._end_transaction()
            self._line(552, "5.3.4", f"Message size exceeds fixed maximum ({self.config.max_message} octets)")
        elif too_long:
            self._end_transaction()
            self._line(552, "5.3.4", f"Message has a line longer than {self.config.max_line} octets")
        elif bare:
            self._end_transaction()
            self._line(554, "5.6.0", "Message contains a bare CR or LF; lines must end with CRLF")
        else:
            self._pending = Message(self.envelope, body)
            self._events.append(self._pending)

    def bdat(self, argument: str) -> None:
        words = argument.split()
        if not 1 <= len(words) <= 2 or not is_number(words[0]) or (len(words) == 2 and words[1].upper() != "LAST"):
            self._line(501, "5.5.4", "Syntax: BDAT <octets> [LAST]")  # the chunk size is unknown: nothing to skip
            return
        self._chunk_left = int(words[0])
        self._chunk_last = len(words) == 2
        if self.state is not State.RCPT:
            # RFC 3030 2: a refused BDAT still has its chunk read (and discarded) before the reply
            self._chunk_refusal = (554, "5.5.1", "No valid recipients") if self.state is State.MAIL else \
                (503, "5.5.1", "Bad sequence of commands: BDAT needs MAIL and RCPT first")
        self._resume = self.state
        self.state = State.BDAT

    def _read_chunk(self) -> bool:
        if self._chunk_left:
            data = self._in.take_available(self._chunk_left)
            if not data:
                return False
            self._chunk_left -= len(data)
            if self._chunk_refusal is None and not self._chunk_overflow:
                self._chunk_size += len(data)
                if self._chunk_size > self.config.max_message:
                    self._chunk_overflow = True  # keep reading the client's octets, stop keeping them
                    self._chunks.clear()
                else:
                    self._chunks.append(data)
            if self._chunk_left:
                return True
        self.state = self._resume
        if self._chunk_refusal is not None:
            code, enhanced, text = self._chunk_refusal
            self._chunk_refusal = None
            self._line(code, enhanced, text)
            return True
        self._bdat_used = True
        size = self._chunk_size
        if self._chunk_overflow:
            self._end_transaction()
            self._line(552, "5.3.4", f"Message size exceeds fixed maximum ({self.config.max_message} octets)")
        elif not self._chunk_last:
            self._line(250, "2.0.0", f"{size} octets received so far")
        else:
            body = b"".join(self._chunks)
            self._chunks.clear()
            bare = body.replace(b"\r\n", b"").count(b"\r") + body.replace(b"\r\n", b"").count(b"\n") > 0
            too_long = any(len(line) + 2 > self.config.max_line for line in body.split(b"\r\n"))
            self._finish_message(body, False, too_long, bare)
        return True

    def _reset_transaction(self) -> None:
        self.envelope = Envelope(helo=self.envelope.helo, esmtp=self.envelope.esmtp, tls=self.tls,
                                 authenticated_as=self.authenticated_as)
        self._chunks.clear()
        self._chunk_size = 0
        self._chunk_overflow = False
        self._bdat_used = False

    def _end_transaction(self) -> None:
        self._reset_transaction()
        self.state = State.READY

    # --- AUTH (RFC 4954) ------------------------------------------------------------------------------

    def auth(self, argument: str) -> None:
        if self.authenticated_as is not None:
            self._line(503, "5.5.1", "Already authenticated")  # RFC 4954 4
            return
        words = argument.split()
        if not words or len(words) > 2:
            self._line(501, "5.5.4", "Syntax: AUTH <mechanism> [initial-response]")
            return
        mechanism = words[0].upper()
        if mechanism not in self.config.auth_mechanisms:
            self._line(504, "5.5.4", f"Unrecognized authentication mechanism {mechanism}")
            return
        if not (self.tls or self.config.plaintext_auth):
            self._line(538, "5.7.11", "Encryption required for requested authentication mechanism")
            return
        self._sasl = sasl.SaslExchange(mechanism)
        self.state = State.AUTH
        self._sasl_step(self._sasl.start(words[1].encode() if len(words) == 2 else None))

    def _sasl_response(self, line: bytes | TooLong) -> None:
        if isinstance(line, TooLong):
            self._sasl_fail(500, "5.5.6", "Authentication exchange line is too long")
        else:
            self._sasl_step(self._sasl.respond(line))

    def _sasl_step(self, step) -> None:
        if isinstance(step, sasl.Challenge):
            self._out += f"334 {step.text}".encode() + b"\r\n"  # PLAIN's is empty: "334 " (RFC 4954 4)
        elif isinstance(step, sasl.Failure):
            # RFC 4954 4: "*" MUST get 501, and so must a response that does not decode
            self._sasl_fail(501, "5.0.0" if step.reason == "cancelled" else "5.5.2", step.detail)
        else:
            self._sasl = None
            self._pending = AuthAttempt(step.mechanism, step.authzid, step.username, step.password)
            self._events.append(self._pending)

    def _sasl_fail(self, code: int, enhanced: str, text: str) -> None:
        self._sasl = None
        self.state = State.READY
        self._line(code, enhanced, text)


def is_number(text: str) -> bool:
    """1*DIGIT in the ABNF sense: ASCII digits only (str.isdigit also takes superscripts and the like)."""
    return text.isascii() and text.isdigit()


class _ParamRefused(Exception):
    def __init__(self, code: int, enhanced: str, text: str) -> None:
        super().__init__(text)
        self.reply = (code, enhanced, text)


# Which verbs are valid in which states (RFC 5321 4.1.4, 3.3; RFC 3207 4; RFC 4954 4; RFC 3030 2).
# Anything not listed is refused with 503 (known verb) or 500 (unknown verb).
COMMANDS = {
    "EHLO": (SmtpServer.ehlo, COMMAND_STATES),
    "HELO": (SmtpServer.helo, COMMAND_STATES),
    "MAIL": (SmtpServer.mail, (State.READY,)),
    "RCPT": (SmtpServer.rcpt, TRANSACTION),
    "DATA": (SmtpServer.data, (State.RCPT,)),
    "BDAT": (SmtpServer.bdat, COMMAND_STATES),
    "RSET": (SmtpServer.rset, COMMAND_STATES),
    "NOOP": (SmtpServer.noop, COMMAND_STATES),
    "VRFY": (SmtpServer.vrfy, COMMAND_STATES),
    "EXPN": (SmtpServer.expn, COMMAND_STATES),
    "HELP": (SmtpServer.help, COMMAND_STATES),
    "QUIT": (SmtpServer.quit, COMMAND_STATES),
    "STARTTLS": (SmtpServer.starttls, COMMAND_STATES),
    "AUTH": (SmtpServer.auth, (State.READY,)),
}
