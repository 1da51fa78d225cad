"""POP3 on the client side of the harness: reading responses, and a small command helper for probes.

Grammar of a response (RFC 1939 section 3, RFC 2449 section 3, RFC 5034 section 5):

    single-line  = status [SP text] CRLF              ; 512 octets maximum
    status       = "+OK" / "-ERR"
    text         = *schar / resp-code *CHAR
    resp-code    = "[" resp-level *("/" resp-level) "]"
    multi-line   = single-line *dot-stuffed "." CRLF  ; a line starting with "." is sent with one more "."
    continue-req = "+" SP [base64] CRLF               ; a SASL challenge

The reader is deliberately lenient, as the SMTP one is: it never throws on a malformed response, it
records what was wrong (`Response.problems`) so that the checks about response syntax can judge it, and
everything else can go on. Whether a response is multi-line is not visible on the wire: the caller says
so from the command it sent (`read_response(multiline=True)` reads data lines only after "+OK").
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from ..wire.dotblock import DotBlockViews, read_dot_block
from ..wire.session import ConnectionClosed, Session

STATUS_RE = re.compile(rb"^(\+OK|-ERR|\+)(?=[ \r\n]|$)(?: ?)(.*?)(\r?\n)?$", re.S | re.I)
RESP_CODE_RE = re.compile(r"^\[([^\]\s]+)\]")
TIMESTAMP_RE = re.compile(r"<[^<>\s]*>")
MAX_FIRST_LINE = 512  # octets, CRLF included (RFC 1939 section 3, RFC 2449 section 4)
MAX_DATA_LINES = 200_000  # a bound, so a server that never ends a multi-line response cannot hang us


@dataclass
class Response(DotBlockViews):
    status: str  # "+OK", "-ERR", "+" (a SASL continuation), or "" when the line has no status indicator
    text: str  # what follows the status indicator and its space
    raw: list[bytes]  # every line exactly as received: the status line, then any data lines and the "."
    data: list[bytes] = field(default_factory=list)  # data lines of a multi-line response, unstuffed, no CRLF
    multiline: bool = False  # data lines were read (a "+OK" to a command whose success is multi-line)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "+OK"

    @property
    def err(self) -> bool:
        return self.status == "-ERR"

    @property
    def code(self) -> str | None:
        """The RFC 2449 response code in brackets at the start of the text, e.g. "IN-USE" or "SYS/TEMP"."""
        m = RESP_CODE_RE.match(self.text)
        return m.group(1).upper() if m else None

    @property
    def head(self) -> str:
        return f"{self.status} {self.text}".rstrip() if self.status else self.text


def parse_status_line(raw: bytes) -> tuple[str, str, list[str]]:
    """(status, text, problems) of a response's first line; status "" when it has no status indicator."""
    problems = []
    shown = raw[:80]
    if len(raw) > MAX_FIRST_LINE:
        problems.append(f"the status line is {len(raw)} octets long, over the limit of {MAX_FIRST_LINE}")
    if not raw.endswith(b"\r\n"):
        problems.append(f"the status line ends with a bare LF, not CRLF: {shown!r}" if raw.endswith(b"\n")
                        else f"the status line has no line end: {shown!r}")
    m = STATUS_RE.match(raw)
    if not m:
        return "", raw.decode("utf-8", "backslashreplace").rstrip("\r\n"), problems + [
            f"not a POP3 status line (no +OK or -ERR): {shown!r}"]
    status, text = m.group(1), m.group(2)
    if status not in (b"+OK", b"-ERR", b"+"):
        problems.append(f"the status indicator is not in upper case: {shown!r}")
    if b"\r" in text or b"\n" in text:
        problems.append(f"bare CR or LF inside the status line: {shown!r}")
    return status.decode().upper(), text.decode("utf-8", "backslashreplace"), problems


class Pop3Client:
    """Thin helper over a raw Session; every octet still goes through (and is recorded by) the session."""

    def __init__(self, wire: Session) -> None:
        self.wire = wire
        self.greeting: Response | None = None
        self.capabilities: dict[str, str] = {}  # CAPA tag (upper case) -> its parameters
        self.pending: list[Response] = []  # responses already read that a script has yet to see

    async def read_response(self, multiline: bool = False, timeout: float | None = None) -> Response:
        """One response; with `multiline`, a "+OK" is followed by data lines up to the terminating ".".
        With `multiline`, `timeout` bounds each line, so a long message can take as long as it needs."""
        first = await self.wire.read_line(timeout)
        status, text, problems = parse_status_line(first)
        response = Response(status, text, [first], problems=problems)
        if multiline and status == "+OK":
            response.multiline = True
            await read_dot_block(self.wire, response, timeout, MAX_DATA_LINES)
        return response

    async def read_greeting(self, timeout: float | None = None) -> Response:
        self.greeting = await self.read_response(timeout=timeout)
        return self.greeting

    async def send_line(self, line: str | bytes) -> None:
        data = line.encode("utf-8") if isinstance(line, str) else line
        await self.wire.send(data + b"\r\n")

    async def cmd(self, line: str | bytes, timeout: float | None = None) -> Response:
        """A command whose response is a single line (or, on error, any command)."""
        return await self._exchange(line, False, timeout)

    async def multiline(self, line: str | bytes, timeout: float | None = None) -> Response:
        """A command whose success response is multi-line (CAPA, LIST, UIDL, RETR, TOP, AUTH alone)."""
        return await self._exchange(line, True, timeout)

    async def _exchange(self, line: str | bytes, multiline: bool, timeout: float | None) -> Response:
        try:
            await self.send_line(line)
        except ConnectionClosed:
            # The server may have closed after sending more than we have read so far; that is evidence too.
            if not self.wire.buffered():
                raise
        return await self.read_response(multiline, timeout)

    async def capa(self) -> Response:
        """CAPA; on +OK the capability list is kept in `capabilities` (tags upper case)."""
        response = await self.multiline("CAPA")
        if response.ok:
            self.capabilities = parse_capa(response)
        return response

    def has(self, tag: str) -> bool:
        return tag.upper() in self.capabilities

    def sasl_mechanisms(self) -> set[str]:
        return {m.upper() for m in self.capabilities.get("SASL", "").split()}

    def timestamp(self) -> str | None:
        """The APOP timestamp of the greeting (RFC 1939 section 7), if it carries one."""
        return apop_timestamp(self.greeting.text) if self.greeting else None

    async def stls(self, ctx) -> Response:
        """STLS; on +OK the TLS handshake follows and the capability knowledge is forgotten (RFC 2595 4)."""
        response = await self.cmd("STLS")
        if response.ok:
            await self.wire.start_tls(ctx)
            self.capabilities = {}
        return response

    async def login(self, user: str, password: str) -> Response:
        """USER then PASS; the response to PASS, or to USER when USER is refused."""
        response = await self.cmd(f"USER {user}")
        if not response.ok:
            return response
        return await self.cmd(f"PASS {password}")

    async def auth_plain(self, user: str, password: str, authzid: str = "") -> Response:
        """AUTH PLAIN with an initial response (RFC 5034 section 4, RFC 4616)."""
        return await self.cmd(f"AUTH PLAIN {sasl_plain(user, password, authzid)}")

    async def quit(self) -> Response | None:
        if self.wire.closed:
            return None
        try:
            return await self.cmd("QUIT", timeout=2.0)
        except Exception:  # leaving anyway; QUIT behaviour has checks of its own
            return None


def parse_capa(response: Response) -> dict[str, str]:
    """CAPA tags (upper case) and their parameters."""
    out: dict[str, str] = {}
    for line in response.lines:
        tag, _, params = line.strip().partition(" ")
        if tag:
            out.setdefault(tag.upper(), params.strip())
    return out


def apop_timestamp(greeting_text: str) -> str | None:
    m = TIMESTAMP_RE.search(greeting_text)
    return m.group(0) if m else None


def sasl_plain(user: str, password: str, authzid: str = "") -> str:
    return base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()


def dot_stuffed(content: bytes) -> list[bytes]:
    """The lines a conforming server sends for `content` in a multi-line response, terminating line
    included: CRLF line ends assumed, every line that starts with "." gets one more."""
    lines = content.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [(b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines] + [b".\r\n"]
