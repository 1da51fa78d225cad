"""The POP3 server as a sans-I/O state machine: RFC 1939, with CAPA (RFC 2449), STLS (RFC 2595) and SASL
(RFC 5034).

    conn = Pop3Server(config)                       # the greeting is already in data_to_send()
    conn.receive_data(data)
    while (event := conn.next_event()) is not None:
        Login / ApopLogin -> check credentials and lock the maildrop, then conn.logged_in(entries)
                             or conn.login_failed(code, text)
        Fetch             -> conn.provide(body) with the message's octets
        Update            -> delete the messages marked deleted, then conn.updated(ok)
        StartTls          -> upgrade the connection, then conn.tls_established()
        Closed            -> send data_to_send(), then close
    write(conn.data_to_send())

The session has three states (RFC 1939 3): AUTHORIZATION, TRANSACTION, and UPDATE, which only QUIT from
TRANSACTION reaches. Deletions are marks until then: a session that ends any other way deletes nothing.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import re
from dataclasses import dataclass

from ..framing import InputBuffer, TooLong, dot_stuff
from . import sasl


class State(enum.Enum):
    AUTHORIZATION = "authorization"
    TRANSACTION = "transaction"
    SASL = "sasl"  # inside AUTH, after a "+ " continuation
    TLS = "tls"  # +OK sent to STLS; the handshake comes next
    CLOSED = "closed"


@dataclass
class Pop3Config:
    hostname: str
    timestamp: str  # the APOP challenge, "<unique@host>" (RFC 1939 7)
    banner: str = ""
    max_line: int = 4096
    stls: bool = False
    tls_active: bool = False
    sasl_mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN")
    plaintext_auth: bool = True  # USER/PASS, APOP and SASL before TLS
    apop: bool = True
    user_pass: bool = True  # USER/PASS offered


@dataclass(frozen=True)
class Entry:
    """One message of the maildrop as the session sees it (RFC 1939 keeps the numbering per session)."""

    key: str  # the store's handle for the message (its URL)
    uidl: str  # 1-70 characters in 0x21..0x7E, stable across sessions
    size: int  # octets, with CRLF line ends


@dataclass
class Login:
    user: str
    password: str
    mechanism: str  # USER, PLAIN or LOGIN


@dataclass
class ApopLogin:
    user: str
    digest: str
    timestamp: str

    def matches(self, password: str) -> bool:
        expected = hashlib.md5((self.timestamp + password).encode()).hexdigest()
        return hmac.compare_digest(expected.encode(), self.digest.lower().encode("utf-8"))


@dataclass
class Fetch:
    key: str


@dataclass
class Update:
    deleted: list[str]  # keys of the messages marked deleted


@dataclass
class StartTls:
    pass


@dataclass
class Closed:
    reason: str


class Pop3Server:
    def __init__(self, config: Pop3Config) -> None:
        self.config = config
        self.state = State.AUTHORIZATION
        self.tls = config.tls_active
        self.user: str | None = None  # given by USER, waiting for PASS
        self.entries: list[Entry] = []
        self.deleted: set[int] = set()  # message numbers marked deleted
        self._in = InputBuffer(config.max_line)
        self._out = bytearray()
        self._events: list[object] = []
        self._pending: object | None = None
        self._top_lines: int | None = None  # None: RETR; a number: TOP n <lines>
        self._sasl: sasl.SaslExchange | None = None
        greeting = config.banner or f"{config.hostname} wireproof POP3 service ready"
        self._ok(f"{greeting} {config.timestamp}" if config.apop else greeting)

    # --- I/O surface --------------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self.state is not State.TLS:
            self._in.feed(data)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> object | None:
        while not self._events and self._pending is None and self.state not in (State.TLS, State.CLOSED):
            line = self._in.line()
            if line is None:
                break
            if isinstance(line, TooLong):
                if self.state is State.SASL:
                    self._sasl_end()  # an overlong response ends the AUTH command
                self._err(None, f"Line too long (limit {self.config.max_line} octets with CRLF)")
            elif self.state is State.SASL:
                self._sasl_response(line)
            else:
                self._command(line)
        return self._events.pop(0) if self._events else None

    # --- decisions --------------------------------------------------------------------------------------------

    def _take(self, *kinds: type) -> None:
        if not isinstance(self._pending, kinds):
            raise RuntimeError(f"no {' or '.join(k.__name__ for k in kinds)} decision is pending")
        self._pending = None

    def logged_in(self, entries: list[Entry]) -> None:
        self._take(Login, ApopLogin)
        self.entries = list(entries)
        self.deleted.clear()
        self.state = State.TRANSACTION
        total = sum(e.size for e in self.entries)
        self._ok(f"Logged in: {len(self.entries)} messages ({total} octets)")

    def login_failed(self, code: str, text: str) -> None:
        """`code` is an RFC 2449/3206 response code such as AUTH, IN-USE or SYS/TEMP."""
        self._take(Login, ApopLogin)
        self.user = None
        self.state = State.AUTHORIZATION
        self._err(code, text)

    def provide(self, body: bytes) -> None:
        self._take(Fetch)
        if self._top_lines is None:
            self._ok(f"{len(body)} octets")
            self._out += dot_stuff(body)
        else:
            # The header ends at the first empty line, which is the very first line when there is no header.
            head, sep, rest = (b"", b"\r\n", body[2:]) if body.startswith(b"\r\n") else body.partition(b"\r\n\r\n")
            lines = rest.split(b"\r\n") if rest else []
            if lines and lines[-1] == b"":
                lines.pop()  # the CRLF that ends the last line does not start another one
            lines = lines[:self._top_lines]
            self._ok("Top of message follows")
            self._out += dot_stuff(head + sep + b"".join(line + b"\r\n" for line in lines))

    def updated(self, ok: bool) -> None:
        self._take(Update)
        left = len(self.entries) - len(self.deleted)
        if ok:
            self._ok(f"{self.config.hostname} signing off ({left} messages left)")
        else:
            self._err("SYS/TEMP", "Some deleted messages were not removed")
        self._close("QUIT")

    def tls_established(self) -> None:
        self.tls = True
        self.state = State.AUTHORIZATION
        self.user = None
        self._in.clear()

    # --- replies ------------------------------------------------------------------------------------------

    def _ok(self, text: str) -> None:
        self._out += (f"+OK {text}" if text else "+OK").encode("utf-8") + b"\r\n"

    def _err(self, code: str | None, text: str) -> None:
        self._out += (f"-ERR [{code}] {text}" if code else f"-ERR {text}").encode("utf-8") + b"\r\n"

    def _multiline(self, text: str, lines: list[str]) -> None:
        self._ok(text)
        self._out += dot_stuff("".join(line + "\r\n" for line in lines).encode("utf-8"))

    def _close(self, reason: str) -> None:
        self.state = State.CLOSED
        self._events.append(Closed(reason))

    def _decide(self, event: object) -> None:
        self._pending = event
        self._events.append(event)

    # --- dispatch ------------------------------------------------------------------------------------------

    def _command(self, raw: bytes) -> None:
        if b"\r" in raw or b"\n" in raw:
            self._err(None, "Syntax error: bare CR or LF in command")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._err(None, "Syntax error: command is not valid UTF-8")
            return
        keyword, _, argument = text.partition(" ")
        keyword = keyword.upper()
        entry = COMMANDS.get(keyword)
        if entry is None:
            self._err(None, f"Unknown command {keyword[:20]}")
        elif self.state not in entry[1]:
            self._err(None, f"{keyword} is not valid in the {self.state.value.upper()} state")
        else:
            entry[0](self, argument)

    def capabilities(self) -> list[str]:
        c = self.config
        caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"]
        # RFC 2449 5 and RFC 5034 3: what was announced before login is announced after it too; only STLS,
        # registered for the AUTHORIZATION state alone (RFC 2595 8), goes.
        if self.tls or c.plaintext_auth or self.state is State.TRANSACTION:
            if c.user_pass:
                caps.append("USER")
            if c.sasl_mechanisms:
                caps.append("SASL " + " ".join(c.sasl_mechanisms))
        if self.state is State.AUTHORIZATION and c.stls and not self.tls:
            caps.append("STLS")
        return caps + ["IMPLEMENTATION wireproof-simulator"]

    # --- AUTHORIZATION ------------------------------------------------------------------------------------

    def capa(self, argument: str) -> None:
        self._multiline("Capability list follows", self.capabilities())

    def _may_login(self) -> bool:
        if self.tls or self.config.plaintext_auth:
            return True
        self._err("AUTH", "Plaintext authentication is not allowed without TLS; use STLS first")
        return False

    def user_(self, argument: str) -> None:
        if not self.config.user_pass:
            self._err(None, "USER/PASS is not offered; use AUTH")
        elif not argument.strip():
            self._err(None, "Syntax: USER <name>")
        elif self._may_login():
            self.user = argument.strip()
            self._ok(f"Send the password for {self.user}")

    def pass_(self, argument: str) -> None:
        if self.user is None:
            self._err(None, "USER first")
        elif self._may_login():
            user, self.user = self.user, None
            self._decide(Login(user, argument, "USER"))  # the password may contain spaces (RFC 1939 7)

    def apop(self, argument: str) -> None:
        words = argument.split()
        if not self.config.apop:
            self._err(None, "APOP is not offered")
        elif len(words) != 2 or not re.fullmatch(r"[0-9a-fA-F]{32}", words[1]):
            self._err(None, "Syntax: APOP <name> <md5 digest as 32 hex digits>")
        elif self._may_login():
            self._decide(ApopLogin(words[0], words[1], self.config.timestamp))

    def stls(self, argument: str) -> None:
        if argument.strip():
            self._err(None, "STLS takes no arguments")
        elif self.tls:
            self._err(None, "TLS is already active")
        elif not self.config.stls:
            self._err(None, "STLS is not offered")
        else:
            self._ok("Begin TLS negotiation")
            self._in.clear()  # plaintext sent behind STLS is never acted upon
            self.state = State.TLS
            self._events.append(StartTls())

    def auth(self, argument: str) -> None:
        words = argument.split()
        if not words:
            self._multiline("Mechanisms follow", list(self.config.sasl_mechanisms))
            return
        mechanism = words[0].upper()
        if mechanism not in self.config.sasl_mechanisms or len(words) > 2:
            self._err(None, f"Unsupported mechanism {mechanism[:20]}")
        elif self._may_login():
            self._sasl = sasl.SaslExchange(mechanism)
            self.state = State.SASL
            self._sasl_step(self._sasl.start(words[1].encode() if len(words) == 2 else None))

    def _sasl_response(self, line: bytes) -> None:
        self._sasl_step(self._sasl.respond(line))

    def _sasl_step(self, step) -> None:
        if isinstance(step, sasl.Challenge):
            self._out += f"+ {step.text}".encode() + b"\r\n"  # RFC 5034 4: "+ " and the base64 challenge
            return
        self._sasl_end()
        if isinstance(step, sasl.Failure):
            self._err(None, step.detail)  # "*" cancels; undecodable responses fail the command (RFC 5034 4)
        else:
            self._decide(Login(step.username, step.password, step.mechanism))

    def _sasl_end(self) -> None:
        self._sasl = None
        self.state = State.AUTHORIZATION

    def quit(self, argument: str) -> None:
        if self.state is State.TRANSACTION:
            self._decide(Update([self.entries[n - 1].key for n in sorted(self.deleted)]))
        else:
            self._ok(f"{self.config.hostname} signing off")
            self._close("QUIT")

    # --- TRANSACTION ------------------------------------------------------------------------------------------

    def _message(self, text: str) -> int | None:
        """The message number argument, or None after an -ERR reply saying what is wrong with it."""
        if not (text.isascii() and text.isdigit()):
            self._err(None, "Syntax: a message number is required")
            return None
        n = int(text)
        if not 1 <= n <= len(self.entries):
            self._err(None, f"No such message {n}")
            return None
        if n in self.deleted:
            self._err(None, f"Message {n} is deleted")
            return None
        return n

    def _live(self) -> list[tuple[int, Entry]]:
        return [(n, e) for n, e in enumerate(self.entries, 1) if n not in self.deleted]

    def stat(self, argument: str) -> None:
        live = self._live()
        self._ok(f"{len(live)} {sum(e.size for _, e in live)}")

    def list_(self, argument: str) -> None:
        if argument.strip():
            if (n := self._message(argument.strip())) is not None:
                self._ok(f"{n} {self.entries[n - 1].size}")
            return
        live = self._live()
        self._multiline(f"{len(live)} messages", [f"{n} {e.size}" for n, e in live])

    def uidl(self, argument: str) -> None:
        if argument.strip():
            if (n := self._message(argument.strip())) is not None:
                self._ok(f"{n} {self.entries[n - 1].uidl}")
            return
        self._multiline("Unique-ID listing follows", [f"{n} {e.uidl}" for n, e in self._live()])

    def retr(self, argument: str) -> None:
        if (n := self._message(argument.strip())) is not None:
            self._top_lines = None
            self._decide(Fetch(self.entries[n - 1].key))

    def top(self, argument: str) -> None:
        words = argument.split()
        if len(words) != 2 or not (words[1].isascii() and words[1].isdigit()):
            self._err(None, "Syntax: TOP <message> <lines>")
        elif (n := self._message(words[0])) is not None:
            self._top_lines = int(words[1])
            self._decide(Fetch(self.entries[n - 1].key))

    def dele(self, argument: str) -> None:
        if (n := self._message(argument.strip())) is not None:
            self.deleted.add(n)
            self._ok(f"Message {n} deleted")

    def noop(self, argument: str) -> None:
        self._ok("")

    def rset(self, argument: str) -> None:
        self.deleted.clear()
        total = sum(e.size for e in self.entries)
        self._ok(f"Maildrop has {len(self.entries)} messages ({total} octets)")


AUTH_STATES = (State.AUTHORIZATION,)
TRANSACTION_STATES = (State.TRANSACTION,)
BOTH = (State.AUTHORIZATION, State.TRANSACTION)

# Which commands are valid in which state (RFC 1939 4-7, RFC 2449 5, RFC 2595 4, RFC 5034 4).
COMMANDS = {
    "USER": (Pop3Server.user_, AUTH_STATES),
    "PASS": (Pop3Server.pass_, AUTH_STATES),
    "APOP": (Pop3Server.apop, AUTH_STATES),
    "AUTH": (Pop3Server.auth, AUTH_STATES),
    "STLS": (Pop3Server.stls, AUTH_STATES),
    "CAPA": (Pop3Server.capa, BOTH),
    "QUIT": (Pop3Server.quit, BOTH),
    "STAT": (Pop3Server.stat, TRANSACTION_STATES),
    "LIST": (Pop3Server.list_, TRANSACTION_STATES),
    "UIDL": (Pop3Server.uidl, TRANSACTION_STATES),
    "RETR": (Pop3Server.retr, TRANSACTION_STATES),
    "TOP": (Pop3Server.top, TRANSACTION_STATES),
    "DELE": (Pop3Server.dele, TRANSACTION_STATES),
    "NOOP": (Pop3Server.noop, TRANSACTION_STATES),
    "RSET": (Pop3Server.rset, TRANSACTION_STATES),
}
