"""NNTP on the client side of the harness: reading responses, and a small command helper for probes.

Grammar of a response (RFC 3977 sections 3.1, 3.1.1, 3.2 and 9.4):

    response              = initial-response-line [multi-line-data-block]
    initial-response-line = 3DIGIT *(SP response-argument) [SP trailing-comment] CRLF   ; 512 octets maximum
    multi-line-data-block = *content-line "." CRLF    ; a line starting with "." is sent with one more "."

Whether a response is multi-line follows from its code alone (RFC 3977 3.2: the number and type of
arguments, and whether the code is multi-line, are fixed per code), with one historical exception: 211 is
multi-line after LISTGROUP and single-line after GROUP. The multi-line codes of RFC 3977 and the
extensions the suite uses: 100 HELP, 101 CAPABILITIES, 215 LIST, 220 ARTICLE, 221 HEAD, 222 BODY,
224 OVER, 225 HDR, 230 NEWNEWS, 231 NEWGROUPS, and 211 when the command was LISTGROUP (282 is XGTITLE's,
RFC 2980, which INN still offers).

The reader is lenient like the SMTP and POP3 ones: it never throws on a malformed response, it records
what was wrong (`Response.problems`) so that the checks about response syntax can judge it.
"""
from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from email.utils import formatdate

from ..wire.dotblock import DotBlockViews, read_dot_block
from ..wire.session import ConnectionClosed, Session

STATUS_RE = re.compile(rb"^(\d{3})(?:([ \t])(.*?))?(\r?\n)$", re.S)
MULTILINE_CODES = {100, 101, 215, 220, 221, 222, 224, 225, 230, 231, 282}
MAX_INITIAL_LINE = 512  # octets, CRLF included (RFC 3977 section 3.1)
MAX_DATA_LINES = 500_000  # a bound, so a server that never ends a data block cannot hang us
MESSAGE_ID_RE = re.compile(r"^<[\x21-\x3d\x3f-\x7e]{1,248}>$")  # RFC 3977 9.8: "<" 1*248A-NOTGT ">"


def is_multiline(code: int | None, verb: str = "") -> bool:
    """Whether a response with this code, to a command with this verb, carries a data block."""
    if code is None:
        return False
    return code in MULTILINE_CODES or (code == 211 and verb.upper() == "LISTGROUP")


@dataclass
class Response(DotBlockViews):
    code: int | None  # None when the line does not start with three digits
    text: str  # what follows the code and its space (arguments and comment)
    raw: list[bytes]  # every line exactly as received: the initial line, then any data lines and the "."
    data: list[bytes] = field(default_factory=list)  # the data block, unstuffed, without CRLF
    multiline: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def args(self) -> list[str]:
        return self.text.split()

    @property
    def head(self) -> str:
        if self.code is None:
            return self.text
        return f"{self.code:03d} {self.text}".rstrip()

    @property
    def klass(self) -> int:
        return (self.code or 0) // 100


def parse_status_line(raw: bytes) -> tuple[int | None, str, list[str]]:
    """(code, text, problems) of an initial response line; code None when it has no three-digit code."""
    problems = []
    shown = raw[:80]
    if len(raw) > MAX_INITIAL_LINE:
        problems.append(f"the initial response line is {len(raw)} octets long, over the limit of {MAX_INITIAL_LINE}")
    if not raw.endswith(b"\r\n"):
        problems.append(f"the initial response line ends with a bare LF, not CRLF: {shown!r}" if raw.endswith(b"\n")
                        else f"the initial response line has no line end: {shown!r}")
    line = raw if raw.endswith(b"\n") else raw + b"\n"
    m = STATUS_RE.match(line)
    if not m:
        return None, raw.decode("utf-8", "backslashreplace").rstrip("\r\n"), problems + [
            f"not an NNTP response line (no three-digit code): {shown!r}"]
    code, sep, text = int(m.group(1)), m.group(2), m.group(3) or b""
    if sep == b"\t":
        problems.append(f"a TAB, not a space, separates the code from the text: {shown!r}")
    if b"\r" in text or b"\n" in text:
        problems.append(f"bare CR or LF inside the initial response line: {shown!r}")
    return code, text.decode("utf-8", "backslashreplace"), problems


class NntpClient:
    """Thin helper over a raw Session; every octet still goes through (and is recorded by) the session."""

    def __init__(self, wire: Session) -> None:
        self.wire = wire
        self.greeting: Response | None = None
        self.capabilities: dict[str, list[str]] = {}  # label (upper case) -> its arguments
        self.capability_order: list[str] = []  # labels in the order the last CAPABILITIES listed them
        self.pending: list[Response] = []  # responses already read that a script has yet to see

    # --- reading --------------------------------------------------------------------------------------

    async def read_response(self, verb: str = "", timeout: float | None = None) -> Response:
        """One response; its data block too when the code (with `verb`, for 211) says it has one. `timeout`
        bounds each line, so a long article can take as long as it needs."""
        first = await self.wire.read_line(timeout)
        code, text, problems = parse_status_line(first)
        response = Response(code, text, [first], problems=problems)
        if is_multiline(code, verb):
            response.multiline = True
            await read_dot_block(self.wire, response, timeout, MAX_DATA_LINES)
        return response

    async def read_greeting(self, timeout: float | None = None) -> Response:
        self.greeting = await self.read_response(timeout=timeout)
        return self.greeting

    # --- writing --------------------------------------------------------------------------------------

    async def send_line(self, line: str | bytes) -> None:
        data = line.encode("utf-8") if isinstance(line, str) else line
        await self.wire.send(data + b"\r\n")

    async def cmd(self, line: str | bytes, timeout: float | None = None) -> Response:
        """Send one command line and read its response (with its data block when the code has one)."""
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        verb = text.split(" ", 1)[0] if text.strip() else ""
        try:
            await self.send_line(line)
        except ConnectionClosed:
            if not self.wire.buffered():
                raise
        return await self.read_response(verb, timeout)

    # --- commands ---------------------------------------------------------------------------------------

    async def capabilities_cmd(self, keyword: str = "") -> Response:
        """CAPABILITIES; on 101 the list is kept in `capabilities` (labels upper case, arguments as given)."""
        response = await self.cmd("CAPABILITIES" + (f" {keyword}" if keyword else ""))
        if response.code == 101:
            self.capabilities, self.capability_order = parse_capabilities(response.lines)
        return response

    def has(self, label: str, argument: str | None = None) -> bool:
        args = self.capabilities.get(label.upper())
        if args is None:
            return False
        return argument is None or argument.upper() in (a.upper() for a in args)

    def sasl_mechanisms(self) -> set[str]:
        return {m.upper() for m in self.capabilities.get("SASL", [])}

    async def mode_reader(self) -> Response:
        return await self.cmd("MODE READER")

    async def starttls(self, ctx) -> Response:
        """STARTTLS; on 382 the handshake follows and the capability list is forgotten (RFC 4642 2.2.2)."""
        response = await self.cmd("STARTTLS")
        if response.code == 382:
            await self.wire.start_tls(ctx)
            self.capabilities, self.capability_order = {}, []
        return response

    async def authinfo_user(self, user: str, password: str) -> Response:
        """AUTHINFO USER, then PASS when asked (381); the last response."""
        response = await self.cmd(f"AUTHINFO USER {user}")
        if response.code != 381:
            return response
        return await self.cmd(f"AUTHINFO PASS {password}")

    async def authinfo_sasl_plain(self, user: str, password: str, authzid: str = "") -> Response:
        """AUTHINFO SASL PLAIN with an initial response (RFC 4643 2.4, RFC 4616)."""
        token = base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()
        return await self.cmd(f"AUTHINFO SASL PLAIN {token}")

    async def group(self, name: str) -> tuple[Response, "GroupInfo | None"]:
        response = await self.cmd(f"GROUP {name}")
        return response, group_info(response)

    async def post(self, article: bytes, timeout: float | None = None) -> tuple[Response, Response | None]:
        """POST, then (after 340) the article dot-stuffed and terminated; both responses."""
        first = await self.cmd("POST")
        if first.code != 340:
            return first, None
        await self.wire.send(dot_stuff(article))
        return first, await self.read_response("POST", timeout)

    async def quit(self) -> Response | None:
        if self.wire.closed:
            return None
        try:
            return await self.cmd("QUIT", timeout=2.0)
        except Exception:  # leaving anyway; QUIT behaviour has checks of its own
            return None


@dataclass(frozen=True)
class GroupInfo:
    """The arguments of a 211 response (RFC 3977 6.1.1): estimated count, low and high water marks, name."""

    count: int
    low: int
    high: int
    name: str


def group_info(response: Response) -> GroupInfo | None:
    args = response.args
    if response.code != 211 or len(args) < 4 or not all(a.isdigit() for a in args[:3]):
        return None
    return GroupInfo(int(args[0]), int(args[1]), int(args[2]), args[3])


def article_ref(response: Response) -> tuple[int, str] | None:
    """(n, message-id) of a 220/221/222/223 response, or None when the arguments do not parse."""
    args = response.args
    if response.code not in (220, 221, 222, 223) or len(args) < 2 or not args[0].isdigit():
        return None
    return int(args[0]), args[1]


def parse_capabilities(lines: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Capability labels (upper case) with their arguments, and the labels in listed order."""
    caps: dict[str, list[str]] = {}
    order: list[str] = []
    for line in lines:
        tokens = line.split()
        if not tokens:
            continue
        label = tokens[0].upper()
        order.append(label)
        caps.setdefault(label, tokens[1:])
    return caps, order


def capability_keywords(caps: dict[str, list[str]]) -> set[str]:
    """Discovery keywords: every label, and LABEL=ARGUMENT for each argument (LIST=ACTIVE, AUTHINFO=USER,
    SASL=PLAIN, OVER=MSGID, VERSION=2); IMPLEMENTATION's free text is not a keyword."""
    out = set()
    for label, args in caps.items():
        out.add(label)
        if label != "IMPLEMENTATION":
            out |= {f"{label}={a.upper()}" for a in args}
    return out


def dot_stuff(article: bytes) -> bytes:
    """An article as sent after 340: CRLF line ends assumed, leading dots doubled, then "." CRLF."""
    lines = article.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines) + b".\r\n"


def new_message_id(token: str) -> str:
    """A message-id no server has seen: the check's token and random octets (RFC 3977 3.6, RFC 5536 3.1.3)."""
    return f"<{token}.{secrets.token_hex(6)}@wireproof.invalid>"


def article(*, newsgroups: str, token: str, subject: str, body: str | bytes = "", sender: str =
            "wireproof@example.org", message_id: str | None = None, extra_headers: list[str] | None = None,
            omit: tuple[str, ...] = ()) -> tuple[bytes, str]:
    """A minimal RFC 5536 article for POST, with a unique message-id; (octets with CRLF, message-id).
    `omit` leaves out header fields by name (to provoke a refusal)."""
    message_id = message_id or new_message_id(token)
    heads = [("From", f"<{sender}>"), ("Newsgroups", newsgroups), ("Subject", subject),
             ("Message-ID", message_id), ("Date", formatdate(usegmt=True)), ("X-Wireproof-Token", token)]
    lines = [f"{name}: {value}" for name, value in heads if name.lower() not in {o.lower() for o in omit}]
    lines += extra_headers or []
    payload = body if isinstance(body, bytes) else body.encode("utf-8")
    if payload and not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + (payload or b"wireproof test article\r\n"), message_id


def split_article(content: bytes) -> tuple[list[bytes], bytes]:
    """(header lines, unfolded, without CRLF; body) of an article as ARTICLE returned it."""
    head, sep, body = content.partition(b"\r\n\r\n")
    if not sep:
        head, body = content.rstrip(b"\r\n"), b""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        elif line:
            fields.append(line)
    return fields, body


def header(fields: list[bytes], name: str) -> str | None:
    """The content of the first header field called `name` (case-insensitive), or None."""
    prefix = name.lower().encode() + b":"
    for line in fields:
        if line.lower().startswith(prefix):
            return line[len(prefix):].strip().decode("utf-8", "replace")
    return None
