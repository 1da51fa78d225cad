"""The IMAP server connection as a sans-I/O state machine: RFC 3501 (IMAP4rev1) and RFC 9051 (IMAP4rev2,
through ENABLE), with STARTTLS, LOGINDISABLED, AUTHENTICATE (SASL-IR), LITERAL+/LITERAL-, IDLE, ENABLE,
ID and NAMESPACE handled here, and every mailbox command handed to the server as a `Request`.

    conn = ImapServer(config)                      # the greeting is already in data_to_send()
    conn.receive_data(data)
    while (event := conn.next_event()) is not None:
        Request        -> run it: conn.untagged(...) for each response, then conn.complete(tag, ...)
        LoginAttempt   -> conn.login_ok(tag) or conn.login_failed(tag)
        StartTls       -> upgrade the connection, then conn.tls_established()
        IdleStart      -> stream updates with conn.untagged(...) until IdleDone arrives
        Closed         -> send data_to_send(), then close
    write(conn.data_to_send())

One command is processed at a time; later commands wait in the buffer (the server may do that, RFC 3501
5.5), so responses never interleave.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from ...framing import InputBuffer
from .. import sasl
from . import encode
from .lexer import Assembled, CommandReader, Continue, LexError, Need, Overflow, tokenize
from .tokens import Atom, List, Token, astring


class State(enum.Enum):
    NOT_AUTHENTICATED = "not authenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    LOGOUT = "logout"


@dataclass
class ImapConfig:
    hostname: str
    banner: str = ""
    max_line: int = 8192
    max_literal: int = 10_485_760
    starttls: bool = False
    tls_active: bool = False
    auth_mechanisms: tuple[str, ...] = ("PLAIN",)
    plaintext_auth: bool = True  # False: LOGINDISABLED and no AUTH= until TLS (RFC 3501 6.2.3, 7.2.1)
    extensions: tuple[str, ...] = (
        "IDLE", "UIDPLUS", "MOVE", "LITERAL+", "NAMESPACE", "ID", "ENABLE", "UNSELECT", "CHILDREN", "SPECIAL-USE",
        "CONDSTORE", "QRESYNC", "SORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "BINARY", "SASL-IR",
        "LIST-EXTENDED", "LIST-STATUS", "ESEARCH", "STATUS=SIZE")
    namespace: bytes = b'(("" "/")) NIL (("Public Folders/" "/"))'


# --- events ------------------------------------------------------------------------------------------


@dataclass
class Request:
    tag: str
    name: str  # upper case, e.g. "FETCH"
    args: list[Token]
    uid: bool = False  # UID FETCH, UID STORE, ...
    state: State = State.AUTHENTICATED


@dataclass
class LoginAttempt:
    tag: str
    user: str
    password: str
    mechanism: str  # LOGIN, PLAIN


@dataclass
class StartTls:
    tag: str


@dataclass
class IdleStart:
    tag: str


@dataclass
class IdleDone:
    tag: str
    done: bool  # the client sent DONE (False: something else, which ends IDLE with BAD)


@dataclass
class Closed:
    reason: str


# Commands the server side runs (the state machine only checks where they are allowed).
SERVER_COMMANDS = {
    "SELECT": {State.AUTHENTICATED, State.SELECTED}, "EXAMINE": {State.AUTHENTICATED, State.SELECTED},
    "CREATE": {State.AUTHENTICATED, State.SELECTED}, "DELETE": {State.AUTHENTICATED, State.SELECTED},
    "RENAME": {State.AUTHENTICATED, State.SELECTED}, "SUBSCRIBE": {State.AUTHENTICATED, State.SELECTED},
    "UNSUBSCRIBE": {State.AUTHENTICATED, State.SELECTED}, "LIST": {State.AUTHENTICATED, State.SELECTED},
    "LSUB": {State.AUTHENTICATED, State.SELECTED}, "STATUS": {State.AUTHENTICATED, State.SELECTED},
    "APPEND": {State.AUTHENTICATED, State.SELECTED},
    "NOOP": {State.NOT_AUTHENTICATED, State.AUTHENTICATED, State.SELECTED},  # any state (RFC 3501 6.1.2)
    "CHECK": {State.SELECTED}, "CLOSE": {State.SELECTED}, "UNSELECT": {State.SELECTED},
    "EXPUNGE": {State.SELECTED}, "SEARCH": {State.SELECTED}, "FETCH": {State.SELECTED},
    "STORE": {State.SELECTED}, "COPY": {State.SELECTED}, "MOVE": {State.SELECTED}, "SORT": {State.SELECTED},
    "THREAD": {State.SELECTED},
}
NO_ARGUMENTS = {"NOOP", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE"}
UID_COMMANDS = {"FETCH", "STORE", "COPY", "MOVE", "SEARCH", "EXPUNGE", "SORT", "THREAD"}
CONNECTION_COMMANDS = {"CAPABILITY", "LOGOUT", "STARTTLS", "LOGIN", "AUTHENTICATE", "ENABLE", "ID", "NAMESPACE",
                       "IDLE"}
CANONICAL = {"CONDSTORE": "CONDSTORE", "QRESYNC": "QRESYNC", "IMAP4REV2": "IMAP4rev2", "UTF8=ACCEPT": "UTF8=ACCEPT"}


class ImapServer:
    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.state = State.NOT_AUTHENTICATED
        self.tls = config.tls_active
        self.user: str | None = None
        self.enabled: set[str] = set()
        self._buffer = InputBuffer(config.max_line)
        self._reader = CommandReader(self._buffer, config.max_literal)
        self._out = bytearray()
        self._events: list[object] = []
        self._busy: str | None = None  # tag of the command being run by the server
        self._idle: str | None = None
        self._sasl: tuple[str, sasl.SaslExchange] | None = None
        self._tls_pending = False
        self._line(b"* OK [CAPABILITY " + self.capability_atoms() + b"] "
                   + (config.banner or f"{config.hostname} wireproof IMAP4 service ready").encode())

    # --- I/O -----------------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if not self._tls_pending:
            self._buffer.feed(data)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> object | None:
        while (not self._events and self._busy is None and not self._tls_pending
               and self.state is not State.LOGOUT):
            if self._idle is not None:
                if not self._idle_line():
                    break
                continue
            if self._sasl is not None:
                if not self._sasl_line():
                    break
                continue
            step = self._reader.next()
            if isinstance(step, Need):
                break
            if isinstance(step, Continue):
                refusal = self._refuse_early()
                if refusal is None:
                    self._line(b"+ Ready for literal data")
                    self._reader.granted()
                else:
                    self._tagged(*refusal)  # a command that cannot succeed: no need for its octets
                    self._reader.refuse_literal()
            elif isinstance(step, Overflow):
                self._overflow(step)
            else:
                self._command(step)
        return self._events.pop(0) if self._events else None

    # --- the server's answers ---------------------------------------------------------------------------

    def untagged(self, response: bytes) -> None:
        """One untagged response, without the leading "* " and without CRLF (literals inside are fine)."""
        self._out += b"* " + response + b"\r\n"

    def complete(self, tag: str, status: str, text: str, code: str | None = None,
                 state: State | None = None) -> None:
        """The tagged completion of the command the server ran; `state` moves the session (SELECT etc.)."""
        if state is not None:
            self.state = state
        self._busy = None
        self._tagged(tag, status, text, code)

    def login_ok(self, tag: str, user: str) -> None:
        self._busy = None
        self.user = user
        self.state = State.AUTHENTICATED
        # RFC 3501 7.2.1 / RFC 9051: announce the capabilities that changed with authentication
        self._tagged(tag, "OK", "Logged in", "CAPABILITY " + self.capability_atoms().decode())

    def login_failed(self, tag: str, text: str = "Invalid credentials") -> None:
        self._busy = None
        self._tagged(tag, "NO", text, "AUTHENTICATIONFAILED")  # RFC 5530

    def tls_established(self) -> None:
        self._tls_pending = False
        self.tls = True
        self._buffer.clear()  # nothing sent in plaintext behind STARTTLS is acted upon

    def bye(self, text: str) -> None:
        """The server ends the session (shutdown, idle timeout)."""
        self._line(b"* BYE " + text.encode())
        self.state = State.LOGOUT
        self._events.append(Closed(text))

    # --- capabilities ---------------------------------------------------------------------------------------

    def capability_atoms(self) -> bytes:
        c = self.config
        atoms = ["IMAP4rev1", "IMAP4rev2"]
        if c.starttls and not self.tls and self.state is State.NOT_AUTHENTICATED:
            atoms.append("STARTTLS")
        if self.state is State.NOT_AUTHENTICATED:
            if self.tls or c.plaintext_auth:
                atoms += [f"AUTH={m}" for m in c.auth_mechanisms]
            else:
                atoms.append("LOGINDISABLED")
        atoms += list(c.extensions)
        return " ".join(atoms).encode()

    # --- input --------------------------------------------------------------------------------------------

    def _line(self, data: bytes) -> None:
        self._out += data + b"\r\n"

    def _tagged(self, tag: str, status: str, text: str, code: str | None = None) -> None:
        self._line(f"{tag} {status} ".encode() + (f"[{code}] ".encode() if code else b"") + text.encode())

    def _refuse_early(self) -> tuple[str, str, str] | None:
        """(tag, "BAD", text) when the command announcing a literal is already known to be invalid: the
        server may answer BAD instead of inviting the octets (RFC 3501 7.5)."""
        head = self._reader.pending_text()
        words = head.split(b" ", 2)
        tag = words[0].decode("ascii", "replace") if words else ""
        if not _valid_tag(tag) or len(words) < 2:
            return ("*" if not _valid_tag(tag) else tag), "BAD", "Expected a tag and a command"
        name = words[1].decode("ascii", "replace").upper()
        if name == "UID" and len(words) > 2:
            name = words[2].split(b" ", 1)[0].decode("ascii", "replace").upper()
        if name in CONNECTION_COMMANDS:
            if name == "LOGIN" and self.state is State.NOT_AUTHENTICATED and not (self.tls or self.config.plaintext_auth):
                return tag, "NO", "[PRIVACYREQUIRED] Plaintext authentication is disabled; use STARTTLS first"
            ok = name == "LOGIN" and self.state is State.NOT_AUTHENTICATED or name in ("AUTHENTICATE", "ID", "ENABLE")
            return None if ok else (tag, "BAD", f"{name} takes no literal here")
        if name not in SERVER_COMMANDS:
            return tag, "BAD", f"Unknown command {name[:30]}"
        if self.state not in SERVER_COMMANDS[name]:
            return tag, "BAD", f"{name} is not valid in the {self.state.value} state"
        return None

    def _overflow(self, step: Overflow) -> None:
        tag = step.tag if _valid_tag(step.tag) else "*"  # never "+": that would read as a continuation
        if step.what == "line":
            self._tagged(tag, "BAD", f"Command line too long (limit {self.config.max_line} octets)", "TOOBIG")
        else:
            self._tagged(tag, "NO", f"Literal of {step.size} octets is too large "
                                    f"(limit {self.config.max_literal})", "TOOBIG")  # RFC 7889
            self._reader.refuse_literal()

    def _command(self, assembled: Assembled) -> None:
        try:
            tokens = tokenize(assembled.segments)
        except LexError as exc:
            tag = _leading_tag(assembled)
            self._tagged(tag, "BAD", f"Syntax error: {exc}")
            return
        if len(tokens) < 2 or not isinstance(tokens[0], Atom) or not isinstance(tokens[1], Atom) \
                or not _valid_tag(tokens[0].text):
            tag = tokens[0].text if tokens and isinstance(tokens[0], Atom) and _valid_tag(tokens[0].text) else "*"
            self._tagged(tag, "BAD", "Expected a tag and a command")
            return
        tag, name, args = tokens[0].text, tokens[1].upper(), tokens[2:]
        uid = False
        if name == "UID":
            if not args or not isinstance(args[0], Atom) or args[0].upper() not in UID_COMMANDS:
                self._tagged(tag, "BAD", "UID needs FETCH, STORE, COPY, MOVE, SEARCH, EXPUNGE, SORT or THREAD")
                return
            uid, name, args = True, args[0].upper(), args[1:]
        if name in CONNECTION_COMMANDS:
            getattr(self, f"_cmd_{name.lower()}")(tag, args)
        elif name in SERVER_COMMANDS:
            if self.state not in SERVER_COMMANDS[name]:
                self._tagged(tag, "BAD", f"{name} is not valid in the {self.state.value} state")
            elif args and name in NO_ARGUMENTS and not uid:
                self._tagged(tag, "BAD", f"{name} takes no arguments")
            else:
                self._busy = tag
                self._events.append(Request(tag, name, args, uid, self.state))
        else:
            self._tagged(tag, "BAD", f"Unknown command {name[:30]}")

    # --- connection commands ----------------------------------------------------------------------------------

    def _no_args(self, tag: str, args: list[Token], name: str) -> bool:
        if args:
            self._tagged(tag, "BAD", f"{name} takes no arguments")
            return False
        return True

    def _cmd_capability(self, tag: str, args: list[Token]) -> None:
        if self._no_args(tag, args, "CAPABILITY"):
            self.untagged(b"CAPABILITY " + self.capability_atoms())
            self._tagged(tag, "OK", "CAPABILITY completed")

    def _cmd_logout(self, tag: str, args: list[Token]) -> None:
        if self._no_args(tag, args, "LOGOUT"):
            self.untagged(b"BYE " + self.config.hostname.encode() + b" logging out")  # BYE before OK (7.1.5)
            self._tagged(tag, "OK", "LOGOUT completed")
            self.state = State.LOGOUT
            self._events.append(Closed("LOGOUT"))

    def _cmd_starttls(self, tag: str, args: list[Token]) -> None:
        if not self._no_args(tag, args, "STARTTLS"):
            return
        if self.state is not State.NOT_AUTHENTICATED:
            self._tagged(tag, "BAD", "STARTTLS is only valid before authentication")
        elif self.tls or not self.config.starttls:
            self._tagged(tag, "BAD", "TLS is already active" if self.tls else "STARTTLS is not offered")
        else:
            self._tagged(tag, "OK", "Begin TLS negotiation now")
            self._buffer.clear()  # CVE-2011-0411: plaintext pipelined behind STARTTLS is discarded
            self._tls_pending = True
            self._events.append(StartTls(tag))

    def _may_authenticate(self, tag: str) -> bool:
        if self.state is not State.NOT_AUTHENTICATED:
            self._tagged(tag, "BAD", "Already authenticated")
            return False
        if not (self.tls or self.config.plaintext_auth):
            self._tagged(tag, "NO", "Plaintext authentication is disabled; use STARTTLS first", "PRIVACYREQUIRED")
            return False
        return True

    def _cmd_login(self, tag: str, args: list[Token]) -> None:
        user, password = (astring(args[0]), astring(args[1])) if len(args) == 2 else (None, None)
        if user is None or password is None:
            self._tagged(tag, "BAD", "Syntax: LOGIN <user> <password>")
        elif self._may_authenticate(tag):
            self._busy = tag
            self._events.append(LoginAttempt(tag, user, password, "LOGIN"))

    def _cmd_authenticate(self, tag: str, args: list[Token]) -> None:
        if not args or len(args) > 2 or not isinstance(args[0], Atom):
            self._tagged(tag, "BAD", "Syntax: AUTHENTICATE <mechanism> [initial-response]")
            return
        mechanism = args[0].upper()
        if mechanism not in self.config.auth_mechanisms or mechanism not in sasl.MECHANISMS:
            self._tagged(tag, "NO", f"Unsupported authentication mechanism {mechanism[:20]}")
        elif self._may_authenticate(tag):
            initial = astring(args[1]) if len(args) == 2 else None  # SASL-IR (RFC 4959)
            if len(args) == 2 and initial is None:
                self._tagged(tag, "BAD", "The initial response is an atom or a string")
                return
            exchange = sasl.SaslExchange(mechanism)
            self._sasl = (tag, exchange)
            initial = initial.encode() if initial is not None else None
            self._sasl_step(exchange.start(initial))

    def _sasl_line(self) -> bool:
        line = self._buffer.line()
        if line is None:
            return False
        tag, exchange = self._sasl
        if not isinstance(line, bytes):
            self._sasl = None
            self._tagged(tag, "BAD", "Authentication response too long")
            return True
        self._sasl_step(exchange.respond(line))
        return True

    def _sasl_step(self, step) -> None:
        tag, _ = self._sasl
        if isinstance(step, sasl.Challenge):
            self._line(b"+ " + step.text.encode())
            return
        self._sasl = None
        if isinstance(step, sasl.Failure):
            self._tagged(tag, "BAD", step.detail)  # RFC 3501 6.2.2: "*" cancels with BAD
        else:
            self._busy = tag
            self._events.append(LoginAttempt(tag, step.username, step.password, step.mechanism))

    def _cmd_enable(self, tag: str, args: list[Token]) -> None:
        if self.state is not State.AUTHENTICATED:
            self._tagged(tag, "BAD", "ENABLE is only valid in the authenticated state")  # RFC 5161 3.1
            return
        if not args or not all(isinstance(a, Atom) for a in args):
            self._tagged(tag, "BAD", "Syntax: ENABLE <capability> ...")
            return
        newly: list[str] = []
        for atom in args:
            name = CANONICAL.get(atom.upper())
            if name is not None and atom.upper() not in self.enabled and name not in newly:
                newly.append(name)
                self.enabled.add(atom.upper())
        if "QRESYNC" in self.enabled:
            self.enabled.add("CONDSTORE")  # RFC 7162 3.2.3: QRESYNC implies CONDSTORE
        # RFC 5161 3.1: the ENABLED response comes even when it lists nothing
        self.untagged(b"ENABLED" + b"".join(b" " + a.encode() for a in newly))
        self._tagged(tag, "OK", "ENABLE completed")

    def _cmd_id(self, tag: str, args: list[Token]) -> None:
        if len(args) != 1 or not (isinstance(args[0], List) or (isinstance(args[0], Atom) and args[0].upper() == "NIL")):
            self._tagged(tag, "BAD", "Syntax: ID ( field value ... ) or ID NIL")  # RFC 2971 3.1
            return
        fields = [b'"name"', b'"wireproof-simulator"', b'"vendor"', b'"wireproof"', b'"support-url"', b"NIL"]
        self.untagged(b"ID " + encode.paren(fields))
        self._tagged(tag, "OK", "ID completed")

    def _cmd_namespace(self, tag: str, args: list[Token]) -> None:
        if self.state is State.NOT_AUTHENTICATED:
            self._tagged(tag, "BAD", "NAMESPACE needs authentication")
        elif self._no_args(tag, args, "NAMESPACE"):
            self.untagged(b"NAMESPACE " + self.config.namespace)
            self._tagged(tag, "OK", "NAMESPACE completed")

    def _cmd_idle(self, tag: str, args: list[Token]) -> None:
        if self.state not in (State.AUTHENTICATED, State.SELECTED):
            self._tagged(tag, "BAD", "IDLE needs authentication")
        elif self._no_args(tag, args, "IDLE"):
            self._line(b"+ idling")
            self._idle = tag
            self._events.append(IdleStart(tag))

    def _idle_line(self) -> bool:
        line = self._buffer.line()
        if line is None:
            return False
        tag, self._idle = self._idle, None
        self._busy = tag  # the server sends what is pending, then completes the IDLE command
        self._events.append(IdleDone(tag, isinstance(line, bytes) and line.upper() == b"DONE"))
        return True

def _valid_tag(tag: str) -> bool:
    # tag = 1*<any ASTRING-CHAR except "+">: ASCII 0x21-0x7E without the atom-specials but "]"
    return bool(tag) and all(0x21 <= ord(c) <= 0x7E and c not in '+(){%*"\\' for c in tag)


def _leading_tag(assembled: Assembled) -> str:
    first = assembled.segments[0] if assembled.segments and isinstance(assembled.segments[0], bytes) else b""
    tag = first.split(b" ", 1)[0].decode("ascii", "replace")
    return tag if _valid_tag(tag) else "*"

