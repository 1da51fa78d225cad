"""SMTP on the client side of the harness: reading replies, and a small command helper for probes.

Grammar of a reply (RFC 5321 section 4.2):

    Reply-line     = *( Reply-code "-" [ textstring ] CRLF )
                     Reply-code [ SP textstring ] CRLF
    Reply-code     = %x32-35 %x30-35 %x30-39

The reader is deliberately lenient: it never throws on a malformed reply, it records what was wrong
(`Reply.problems`) so that the checks about reply syntax can judge it, and everything else can go on.
"""
from __future__ import annotations

import base64
import re
import secrets
from email.utils import formatdate
from dataclasses import dataclass, field

from ..wire.session import ConnectionClosed, Session

LINE_RE = re.compile(rb"^(\d{3})([ -]?)(.*?)(\r?\n)$", re.S)
ENHANCED_RE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)")
KEYWORD_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


@dataclass
class Reply:
    code: int
    lines: list[str]  # text of each line, after the code and separator
    raw: list[bytes]  # each line exactly as received
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " / ".join(self.lines)

    @property
    def klass(self) -> int:
        return self.code // 100

    def enhanced(self, line: int = 0) -> str | None:
        """The RFC 3463 enhanced status code at the start of a line, if any."""
        m = ENHANCED_RE.match(self.lines[line]) if line < len(self.lines) else None
        return ".".join(m.groups()) if m else None

    def __str__(self) -> str:
        head = f"{self.code} {self.lines[0]}" if self.lines and self.lines[0] else str(self.code)
        return head if len(self.lines) == 1 else f"{head} (+{len(self.lines) - 1} lines)"

    def show(self) -> str:
        return "\n".join(line.decode("utf-8", "backslashreplace").rstrip("\r\n") for line in self.raw)


def parse_reply_line(raw: bytes) -> tuple[int | None, str, str, list[str]]:
    """(code, separator, text, problems) of one reply line; code None when the line is not a reply line."""
    problems = []
    m = LINE_RE.match(raw)
    if not m:
        return None, "", raw.decode("utf-8", "backslashreplace").rstrip("\r\n"), [
            f"not a reply line (no three-digit code): {raw[:80]!r}"]
    code, sep, text, end = m.groups()
    if end != b"\r\n":
        problems.append(f"reply line ends with a bare LF, not CRLF: {raw[:80]!r}")
    if not sep and text:
        problems.append(f"no space or hyphen after the reply code: {raw[:80]!r}")
    if b"\r" in text or b"\n" in text:
        problems.append(f"bare CR or LF inside a reply line: {raw[:80]!r}")
    return int(code), sep.decode(), text.decode("utf-8", "backslashreplace"), problems


class SmtpClient:
    """Thin helper over a raw Session; every octet still goes through (and is recorded by) the session."""

    def __init__(self, wire: Session) -> None:
        self.wire = wire
        self.extensions: dict[str, str] = {}  # EHLO keyword (upper case) -> parameters
        self.greeting: Reply | None = None
        self.pending: list[Reply] = []  # replies already read that a script has yet to see

    async def read_reply(self, timeout: float | None = None) -> Reply:
        raws: list[bytes] = []
        lines: list[str] = []
        problems: list[str] = []
        first_code: int | None = None
        while True:
            raw = await self.wire.read_line(timeout)
            raws.append(raw)
            code, sep, text, probs = parse_reply_line(raw)
            problems += probs
            if code is None:
                lines.append(text)
                return Reply(first_code or 0, lines, raws, problems)
            if first_code is None:
                first_code = code
            elif code != first_code:
                problems.append(f"line {len(raws)} of a multi-line reply has code {code}, the first had {first_code}")
            lines.append(text)
            if sep != "-":
                return Reply(first_code, lines, raws, problems)
            if len(raws) > 1000:
                problems.append("more than 1000 continuation lines")
                return Reply(first_code, lines, raws, problems)

    async def read_greeting(self, timeout: float | None = None) -> Reply:
        self.greeting = await self.read_reply(timeout)
        return self.greeting

    async def send_line(self, line: str | bytes) -> None:
        data = line.encode("utf-8") if isinstance(line, str) else line
        await self.wire.send(data + b"\r\n")

    async def cmd(self, line: str | bytes, timeout: float | None = None) -> Reply:
        try:
            await self.send_line(line)
        except ConnectionClosed:
            # The server may have closed after sending more than we have read so far; those earlier
            # replies are evidence too, and come first.
            if not self.wire.buffered():
                raise
        return await self.read_reply(timeout)

    async def ehlo(self, name: str, verb: str = "EHLO") -> Reply:
        reply = await self.cmd(f"{verb} {name}")
        if reply.code == 250 and verb.upper() == "EHLO":
            self.extensions = parse_ehlo(reply)
        return reply

    def has(self, keyword: str) -> bool:
        return keyword.upper() in self.extensions

    def auth_mechanisms(self) -> set[str]:
        return {m.upper() for m in self.extensions.get("AUTH", "").split()}

    async def starttls(self, ctx, server_hostname: str | None = None) -> Reply:
        """STARTTLS; on 220 the connection is upgraded and the EHLO knowledge is forgotten (RFC 3207 4.2)."""
        reply = await self.cmd("STARTTLS")
        if reply.code == 220:
            await self.wire.start_tls(ctx, server_hostname)
            self.extensions = {}
        return reply

    async def data(self, body: bytes, *, stuff: bool = True) -> tuple[Reply, Reply | None]:
        """DATA, then the body (dot-stuffed unless told not to) and the end-of-data mark; both replies."""
        first = await self.cmd("DATA")
        if first.code != 354:
            return first, None
        await self.wire.send(dot_stuff(body) if stuff else body)
        return first, await self.read_reply()

    async def auth_plain(self, user: str, password: str) -> Reply:
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return await self.cmd(f"AUTH PLAIN {token}")

    async def quit(self) -> Reply | None:
        if self.wire.closed:
            return None
        try:
            return await self.cmd("QUIT", timeout=2.0)
        except Exception:  # leaving anyway; QUIT behaviour has checks of its own
            return None


def parse_ehlo(reply: Reply) -> dict[str, str]:
    """EHLO keywords and their parameters; the first line is the greeting domain, not an extension."""
    out: dict[str, str] = {}
    for line in reply.lines[1:]:
        keyword, _, params = line.strip().partition(" ")
        # Some old servers write AUTH=LOGIN; it names the same extension.
        keyword = keyword.split("=", 1)[0] if keyword.upper().startswith("AUTH=") else keyword
        if keyword:
            if keyword.upper() == "AUTH" and "AUTH" in out:
                out["AUTH"] = (out["AUTH"] + " " + params).strip()
            else:
                out.setdefault(keyword.upper(), params)
    return out


def dot_stuff(body: bytes) -> bytes:
    """Body as sent after DATA: CRLF line ends assumed, leading dots doubled, then CRLF.CRLF."""
    lines = body.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
    return b"".join(line + b"\r\n" for line in stuffed) + b".\r\n"


def message(*, subject: str, token: str, sender: str, rcpt: str, body: str | bytes = "",
            extra_headers: list[str] | None = None) -> bytes:
    """A minimal RFC 5322 message carrying a token header, so it can be found again when read back."""
    heads = [f"From: <{sender}>", f"To: <{rcpt}>", f"Subject: {subject}", f"X-Wireproof-Token: {token}",
             f"Message-ID: <{token}.{secrets.token_hex(4)}@wireproof.invalid>", f"Date: {formatdate(usegmt=True)}"]
    heads = (extra_headers or []) + heads
    payload = body if isinstance(body, bytes) else body.encode("utf-8")
    if payload and not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return "\r\n".join(heads).encode() + b"\r\n\r\n" + payload
