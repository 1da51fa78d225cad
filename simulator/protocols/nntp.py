"""The NNTP reader server as a sans-I/O state machine: RFC 3977, with STARTTLS (RFC 4642) and AUTHINFO
USER/PASS and SASL (RFC 4643).

    conn = NntpServer(config)                      # the greeting is already in data_to_send()
    conn.receive_data(data)
    while (event := conn.next_event()) is not None:
        Request     -> answer with conn.respond(code, text, lines) (and conn.select / conn.point)
        Posted      -> store the article: conn.respond(240, ...) or conn.respond(441, ...)
        Login       -> conn.login_ok() or conn.login_failed()
        StartTls    -> upgrade the connection, then conn.tls_established()
        Closed      -> send data_to_send(), then close
    write(conn.data_to_send())

The machine owns what NNTP makes per-session (the selected group and the current article number), the
sequence rules of STARTTLS and AUTHINFO, the two phases of POST, and multi-line framing; the server side
answers the requests that need articles.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..framing import DotReader, InputBuffer, TooLong, dot_stuff
from . import sasl

RANGE_RE = re.compile(r"^(\d+)(-(\d+)?)?$")
MESSAGE_ID_RE = re.compile(r"^<[^<>\s]+>$")


@dataclass
class NntpConfig:
    hostname: str
    banner: str = ""
    max_line: int = 4096
    max_article: int = 10_485_760
    posting: bool = True
    starttls: bool = False
    tls_active: bool = False
    sasl_mechanisms: tuple[str, ...] = ("PLAIN",)
    user_pass: bool = True
    plaintext_auth: bool = True


@dataclass
class Request:
    name: str  # upper case: GROUP, LISTGROUP, LAST, NEXT, ARTICLE, HEAD, BODY, STAT, OVER, HDR, LIST, NEWGROUPS, DATE...
    args: list[str]


@dataclass
class Posted:
    article: bytes


@dataclass
class Login:
    user: str
    password: str
    mechanism: str


@dataclass
class StartTls:
    pass


@dataclass
class Closed:
    reason: str


# LIST keywords with a published meaning (RFC 3977 7.6, RFC 6048): one the server does not keep is answered
# 503; a keyword outside this set is not recognised at all and is a syntax error, 501 (RFC 3977 7.6.1).
KNOWN_LIST_KEYWORDS = {"ACTIVE", "ACTIVE.TIMES", "DISTRIB.PATS", "HEADERS", "NEWSGROUPS", "OVERVIEW.FMT",
                       "COUNTS", "DISTRIBUTIONS", "MODERATORS", "MOTD", "SUBSCRIPTIONS"}

# Commands the server answers from its data; the machine checks only their shape.
DATA_COMMANDS = {"GROUP", "LISTGROUP", "LAST", "NEXT", "ARTICLE", "HEAD", "BODY", "STAT", "OVER", "XOVER", "HDR",
                 "XHDR", "LIST", "NEWGROUPS", "NEWNEWS"}


class NntpServer:
    def __init__(self, config: NntpConfig) -> None:
        self.config = config
        self.tls = config.tls_active
        self.user: str | None = None
        self.group: str | None = None  # the currently selected newsgroup
        self.pointer: int | None = None  # the current article number (RFC 3977 6.1.1)
        self._pending_user: str | None = None
        self._in = InputBuffer(config.max_line)
        self._out = bytearray()
        self._events: list[object] = []
        self._busy = False
        self._post: DotReader | None = None
        self._sasl: sasl.SaslExchange | None = None
        self._tls_pending = False
        self.closed = False
        code = 200 if config.posting else 201
        self._line(code, config.banner or f"{config.hostname} wireproof NNTP service ready, posting "
                                          f"{'allowed' if config.posting else 'prohibited'}")

    # --- I/O -------------------------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if not self._tls_pending:
            self._in.feed(data)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> object | None:
        while not self._events and not self._busy and not self._tls_pending and not self.closed:
            line = self._in.line()
            if line is None:
                break
            if self._post is not None:
                self._post_line(line)
            elif self._sasl is not None:
                self._sasl_line(line)
            elif isinstance(line, TooLong):
                self._line(501, f"Command line too long (limit {self.config.max_line} octets)")
            else:
                self._command(line)
        return self._events.pop(0) if self._events else None

    # --- the server's answers ---------------------------------------------------------------------------------

    def respond(self, code: int, text: str, lines: list[bytes] | None = None) -> None:
        """Finish the pending request; `lines` (without CRLF) make it multi-line, dot-stuffed."""
        self._busy = False
        self._line(code, text)
        if lines is not None:
            self._out += dot_stuff(b"".join(line + b"\r\n" for line in lines))

    def respond_article(self, code: int, text: str, article: bytes) -> None:
        """Finish an ARTICLE/HEAD/BODY request with octets that already carry their CRLFs."""
        self._busy = False
        self._line(code, text)
        self._out += dot_stuff(article)

    def select(self, group: str, first: int | None) -> None:
        """GROUP/LISTGROUP succeeded: the group is selected and the pointer is its first article."""
        self.group, self.pointer = group, first

    def point(self, number: int) -> None:
        self.pointer = number

    def login_ok(self, user: str) -> None:
        self._busy = False
        self.user = user
        self._line(281, "Authentication accepted")

    def login_failed(self) -> None:
        self._busy = False
        self._line(481, "Authentication failed")

    def tls_established(self) -> None:
        self._tls_pending = False
        self.tls = True
        self._in.clear()

    def bye(self, code: int, text: str) -> None:
        self._line(code, text)
        self.closed = True
        self._events.append(Closed(text))

    # --- internals -----------------------------------------------------------------------------------------

    def _line(self, code: int, text: str) -> None:
        self._out += f"{code} {text}".encode("utf-8") + b"\r\n"

    def _command(self, raw: bytes) -> None:
        if b"\r" in raw or b"\n" in raw or b"\0" in raw:
            self._line(501, "Syntax error: bare CR, LF or NUL in the command")
            return
        try:
            words = raw.decode("utf-8").split()
        except UnicodeDecodeError:
            self._line(501, "Syntax error: the command is not UTF-8")
            return
        if not words:
            self._line(500, "Empty command")
            return
        name, args = words[0].upper(), words[1:]
        if name in DATA_COMMANDS:
            self._busy = True
            self._events.append(Request("OVER" if name == "XOVER" else "HDR" if name == "XHDR" else name, args))
            return
        handler = SESSION_COMMANDS.get(name)
        if handler is None:  # RFC 3977 3.2.1: not recognised, or an optional command not implemented
            self._line(500, f"Unknown command {name[:30]}")
        else:
            handler(self, args)

    def capabilities(self) -> list[str]:
        c = self.config
        caps = ["VERSION 2", "READER", "HDR", "OVER MSGID", "NEWNEWS",
                "LIST ACTIVE ACTIVE.TIMES NEWSGROUPS OVERVIEW.FMT HEADERS", "IMPLEMENTATION wireproof-simulator"]
        if c.posting:
            caps.insert(2, "POST")
        if c.starttls and not self.tls and self.user is None:
            caps.append("STARTTLS")
        if self.user is None and (self.tls or c.plaintext_auth):
            kinds = (["USER"] if c.user_pass else []) + (["SASL"] if c.sasl_mechanisms else [])
            if kinds:
                caps.append("AUTHINFO " + " ".join(kinds))
            if c.sasl_mechanisms:
                caps.append("SASL " + " ".join(c.sasl_mechanisms))
        return caps

    def _cmd_capabilities(self, args: list[str]) -> None:
        self._line(101, "Capability list follows")
        self._out += dot_stuff("".join(c + "\r\n" for c in self.capabilities()).encode())

    def _cmd_mode(self, args: list[str]) -> None:
        if [a.upper() for a in args] != ["READER"]:
            self._line(501, "Syntax: MODE READER")
        else:  # a reader-only server: nothing changes (RFC 3977 5.3)
            posting = self.config.posting
            self._line(200 if posting else 201, f"Reader mode, posting {'allowed' if posting else 'prohibited'}")

    def _cmd_date(self, args: list[str]) -> None:
        if args:
            self._line(501, "DATE takes no arguments")
        else:  # the machine has no clock: the server side answers 111 with its UTC time (RFC 3977 7.1)
            self._busy = True
            self._events.append(Request("DATE", []))

    def _cmd_help(self, args: list[str]) -> None:
        if args:  # RFC 3977 3.2.1: more arguments than the command takes is a syntax error
            self._line(501, "HELP takes no arguments")
            return
        self._line(100, "Help text follows")
        text = ("ARTICLE BODY HEAD STAT [number|<message-id>]\r\nGROUP name\r\nLISTGROUP [name [range]]\r\n"
                "LAST NEXT\r\nOVER [range|<message-id>]\r\nHDR field [range|<message-id>]\r\n"
                "LIST [ACTIVE|ACTIVE.TIMES|NEWSGROUPS|OVERVIEW.FMT|HEADERS] [wildmat]\r\n"
                "NEWGROUPS yyyymmdd hhmmss [GMT]\r\nNEWNEWS wildmat yyyymmdd hhmmss [GMT]\r\nPOST\r\nDATE\r\n"
                "CAPABILITIES\r\nMODE READER\r\nSTARTTLS\r\nAUTHINFO USER|PASS|SASL\r\nQUIT\r\n")
        self._out += dot_stuff(text.encode())

    def _cmd_quit(self, args: list[str]) -> None:
        self.bye(205, "Connection closing")

    def _cmd_post(self, args: list[str]) -> None:
        if args:
            self._line(501, "POST takes no arguments")
        elif not self.config.posting:
            self._line(440, "Posting not permitted")
        else:
            self._line(340, "Input article; end with <CR-LF>.<CR-LF>")
            self._post = DotReader(self.config.max_article)

    def _post_line(self, line) -> None:
        self._post.feed_line(line)
        if not self._post.done:
            return
        reader, self._post = self._post, None
        if reader.overflow or reader.too_long_line or reader.bare_cr_lf:
            why = "too large" if reader.overflow else "has an overlong line" if reader.too_long_line else \
                "has a bare CR or LF"
            self._line(441, f"Posting failed: the article {why}")
            return
        self._busy = True
        self._events.append(Posted(reader.text()))

    def _cmd_starttls(self, args: list[str]) -> None:
        if args:
            self._line(501, "STARTTLS takes no arguments")
        elif self.tls or self.user is not None or not self.config.starttls:
            # RFC 4642 2.2.2: not after TLS or authentication
            self._line(502, "STARTTLS not available now" if self.config.starttls else "STARTTLS not offered")
        else:
            self._line(382, "Continue with TLS negotiation")
            self._in.clear()  # plaintext behind STARTTLS is never acted upon
            self._tls_pending = True
            self.group, self.pointer = None, None
            self._events.append(StartTls())

    def _cmd_authinfo(self, args: list[str]) -> None:
        if not args:
            self._line(501, "Syntax: AUTHINFO USER|PASS|SASL ...")
            return
        kind = args[0].upper()
        if self.user is not None:
            self._line(502, "Already authenticated")  # RFC 4643 2.2
            return
        if not (self.tls or self.config.plaintext_auth):
            self._line(483, "Encryption required for authentication")  # RFC 4643 2.2: 483
            return
        if kind == "USER" and len(args) == 2 and self.config.user_pass:
            self._pending_user = args[1]
            self._line(381, "Enter passphrase")
        elif kind == "PASS" and len(args) >= 2 and self.config.user_pass:
            if self._pending_user is None:
                self._line(482, "Authentication commands issued out of sequence")
                return
            user, self._pending_user = self._pending_user, None
            self._busy = True
            self._events.append(Login(user, " ".join(args[1:]), "USER"))
        elif kind == "SASL" and len(args) in (2, 3):
            mechanism = args[1].upper()
            if mechanism not in self.config.sasl_mechanisms:
                self._line(503, f"Mechanism {mechanism[:20]} not supported")
                return
            self._sasl = sasl.SaslExchange(mechanism)
            self._sasl_step(self._sasl.start(args[2].encode() if len(args) == 3 else None))
        else:
            self._line(501, "Syntax: AUTHINFO USER name | AUTHINFO PASS password | AUTHINFO SASL mechanism")

    def _sasl_line(self, line) -> None:
        if isinstance(line, TooLong):
            self._sasl = None
            self._line(504, "SASL response too long")
        else:
            self._sasl_step(self._sasl.respond(b"" if line == b"=" else line))  # "=": an empty response (4643 2.4.2)

    def _sasl_step(self, step) -> None:
        if isinstance(step, sasl.Challenge):
            self._line(383, step.text or "=")  # RFC 4643 2.4.1: an empty challenge is sent as "="
            return
        self._sasl = None
        if isinstance(step, sasl.Failure):
            self._line(481 if step.reason == "cancelled" else 504, step.detail)
        else:
            self._busy = True
            self._events.append(Login(step.username, step.password, step.mechanism))


# The commands the machine answers itself (session state, authentication, TLS, POST's two phases); every other
# known command is in DATA_COMMANDS and becomes a Request; anything else is 500.
SESSION_COMMANDS = {
    "CAPABILITIES": NntpServer._cmd_capabilities,  # RFC 3977 5.2
    "MODE": NntpServer._cmd_mode,  # 5.3 (MODE READER)
    "DATE": NntpServer._cmd_date,  # 7.1 (answered by the server side, which has the clock)
    "HELP": NntpServer._cmd_help,  # 7.2
    "QUIT": NntpServer._cmd_quit,  # 5.4
    "POST": NntpServer._cmd_post,  # 6.3.1
    "STARTTLS": NntpServer._cmd_starttls,  # RFC 4642 2.2
    "AUTHINFO": NntpServer._cmd_authinfo,  # RFC 4643 2.3, 2.4
}


# --- argument helpers shared with the server side ------------------------------------------------------


def parse_range(text: str, high: int) -> tuple[int, int] | None:
    """RFC 3977 range: n, n-, n-m; None when malformed."""
    m = RANGE_RE.match(text)
    if not m:
        return None
    first = int(m.group(1))
    last = first if m.group(2) is None else (int(m.group(3)) if m.group(3) else max(high, first))
    return first, last


def is_message_id(text: str) -> bool:
    return bool(MESSAGE_ID_RE.match(text)) and len(text) <= 250  # RFC 3977 3.6


def wildmat(pattern: str, name: str) -> bool:
    """RFC 3977 4: comma-separated wildmat-patterns with * and ?; the last matching one decides, and one
    starting with ! excludes."""
    result = False
    for part in pattern.split(","):
        negate = part.startswith("!")
        body = part[1:] if negate else part
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in body)
        if re.fullmatch(regex, name, re.DOTALL):
            result = not negate
    return result
