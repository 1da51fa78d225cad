"""IMAP4 on the client side of the harness: reading responses off the wire, and a small command helper
for probes and discovery.

The layers, as imapclient splits them (our own code):

    imap_lexer.py    framing (where a response ends, literals by octet count) and tokens; no I/O
    imap_parser.py   what a response is (tag, status, response code, data) and the values checks read
    imap.py          this file: an `ImapClient` over a raw Session; every octet still goes through (and is
                     recorded by) the session

One command, one `Completion`: the untagged responses that arrived before its tagged completion, in the
order they came (RFC 3501 section 2.2.2: the server may send untagged data at any time), and the tagged
response itself. Checks look for untagged data by name, in any order.

The reader is lenient like the SMTP and POP3 ones: a malformed response never throws; what was wrong is
in `ImapResponse.problems`.
"""
from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field

from ..wire.session import ConnectionClosed, Session
from .imap_lexer import ResponseReader
from .imap_parser import (Atom, ImapResponse, ListEntry, as_int, astring, parse, sequence_set,  # noqa: F401
                          text_of)


@dataclass(frozen=True)
class Literal:
    """A literal argument of a command: `{n}` then (after the server's continuation request) the octets;
    `sync=False` sends the LITERAL+/LITERAL- form `{n+}` and the octets at once (RFC 7888)."""

    data: bytes
    sync: bool = True


@dataclass
class Completion:
    """What one command got back."""

    tag: str
    untagged: list[ImapResponse] = field(default_factory=list)
    tagged: ImapResponse | None = None
    continuations: list[ImapResponse] = field(default_factory=list)
    closed: bool = False  # the server closed the connection before the tagged response
    sent: bytes = b""
    order: list[ImapResponse] = field(default_factory=list)  # every response read, in arrival order

    @property
    def status(self) -> str | None:
        return self.tagged.status if self.tagged is not None else None

    @property
    def ok(self) -> bool:
        return self.status == "OK"

    @property
    def code(self) -> str | None:
        return self.tagged.code if self.tagged is not None else None

    def data(self, name: str) -> list[ImapResponse]:
        """The untagged responses called `name` (EXISTS, FETCH, LIST, BYE, ...), in arrival order."""
        name = name.upper()
        return [r for r in self.untagged if r.name == name]

    def first(self, name: str) -> ImapResponse | None:
        found = self.data(name)
        return found[0] if found else None

    def codes(self, code: str) -> list[ImapResponse]:
        """Untagged status responses and the tagged one carrying response code `code`."""
        code = code.upper()
        return [r for r in [*self.untagged, *([self.tagged] if self.tagged else [])] if r.code == code]

    def responses(self) -> list[ImapResponse]:
        return [*self.untagged, *self.continuations, *([self.tagged] if self.tagged else [])]

    def problems(self) -> list[str]:
        return [p for r in self.responses() for p in r.problems]

    def __str__(self) -> str:
        if self.tagged is not None:
            return str(self.tagged)
        if self.continuations:
            return str(self.continuations[-1])
        return "(connection closed)" if self.closed else "(no completion)"

    def show(self, limit: int = 60) -> str:
        """Every response as received, in order, for evidence."""
        lines = [r.line for r in self.order]
        if self.closed:
            lines.append("(the server closed the connection)")
        if len(lines) > limit:
            lines = lines[:limit - 1] + [f"... ({len(lines) - limit + 1} more responses)"]
        return "\n".join(line if len(line) < 2000 else line[:2000] + " ..." for line in lines)


@dataclass
class Selected:
    """What SELECT or EXAMINE said about the mailbox (RFC 3501 section 6.3.1, RFC 9051 6.3.2)."""

    exists: int | None = None
    recent: int | None = None
    uidvalidity: int | None = None
    uidnext: int | None = None
    unseen: int | None = None
    highestmodseq: int | None = None
    flags: list[str] | None = None
    permanentflags: list[str] | None = None
    access: str | None = None  # READ-WRITE or READ-ONLY (from the tagged OK)


class ImapClient:
    """Thin helper over a raw Session. Tags are `w1`, `w2`, ... unless a caller gives its own."""

    def __init__(self, wire: Session, tag_prefix: str = "w") -> None:
        self.wire = wire
        self.reader = ResponseReader()
        self._tags = (f"{tag_prefix}{n}" for n in itertools.count(1))
        self.greeting: ImapResponse | None = None
        self.capabilities: set[str] = set()

    # --- reading --------------------------------------------------------------------------------------

    async def read_response(self, timeout: float | None = None) -> ImapResponse:
        """The next complete response; a literal is read by its octet count, whatever the reads split."""
        while True:
            raw = self.reader.next_response()
            if raw is not None:
                resp = parse(raw)
                self._learn(resp)
                return resp
            missing = self.reader.wanted()
            data = await (self.wire.read_exactly(missing, timeout) if missing else self.wire.read_line(timeout))
            self.reader.feed(data)

    def _learn(self, resp: ImapResponse) -> None:
        caps = resp.capabilities()
        if caps:
            self.capabilities = set(caps)

    async def read_greeting(self, timeout: float | None = None) -> ImapResponse:
        self.greeting = await self.read_response(timeout)
        return self.greeting

    async def read_completion(self, completion: Completion, timeout: float | None = None) -> Completion:
        """Read until the tagged response of `completion.tag`; untagged responses are collected. A
        continuation request ends the reading too (the caller decides what to send). When the server
        closes the connection first, `closed` is set instead of raising, if anything was read."""
        while True:
            try:
                resp = await self.read_response(timeout)
            except ConnectionClosed:
                if completion.untagged or completion.continuations:
                    completion.closed = True
                    return completion
                raise
            completion.order.append(resp)
            if resp.kind == "continuation":
                completion.continuations.append(resp)
                return completion
            if resp.kind == "tagged" and resp.tag == completion.tag:
                completion.tagged = resp
                return completion
            completion.untagged.append(resp)

    # --- writing --------------------------------------------------------------------------------------

    def next_tag(self) -> str:
        return next(self._tags)

    async def send_raw(self, data: bytes) -> None:
        await self.wire.send(data)

    async def command(self, *parts: str | bytes | Literal, tag: str | None = None,
                      timeout: float | None = None) -> Completion:
        """Send `tag parts...CRLF` and read its completion. A synchronizing Literal waits for the server's
        continuation request before its octets go out; if the server answers with a tagged response instead
        (it refused the literal), that ends the command."""
        completion = Completion(tag or self.next_tag())
        out = bytearray((completion.tag + " ").encode())
        for part in parts:
            if isinstance(part, Literal):
                out += b"{%d%s}\r\n" % (len(part.data), b"" if part.sync else b"+")
                if part.sync:
                    await self._send(completion, bytes(out))
                    out = bytearray()
                    await self.read_completion(completion, timeout)
                    if completion.tagged is not None or completion.closed or not completion.continuations:
                        return completion
                out += part.data
            else:
                out += part.encode("utf-8") if isinstance(part, str) else part
        out += b"\r\n"
        await self._send(completion, bytes(out))
        return await self.read_completion(completion, timeout)

    async def _send(self, completion: Completion, data: bytes) -> None:
        completion.sent += data
        try:
            await self.wire.send(data)
        except ConnectionClosed:
            if not self.wire.buffered():
                raise  # nothing more to read: the server is gone

    # --- commands ------------------------------------------------------------------------------------------

    async def capability(self) -> Completion:
        completion = await self.command("CAPABILITY")
        return completion

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities

    async def starttls(self, ctx, tag: str | None = None) -> Completion:
        """STARTTLS; on OK the handshake follows and what was known of the capabilities is forgotten
        (RFC 3501 6.2.1: the client must discard it)."""
        completion = await self.command("STARTTLS", tag=tag)
        if completion.ok:
            await self.wire.start_tls(ctx)
            self.capabilities = set()
        return completion

    async def login(self, user: str, password: str) -> Completion:
        return await self.command(f"LOGIN {astring(user)} {astring(password)}")

    async def authenticate_plain(self, user: str, password: str, *, initial: bool | None = None,
                                 authzid: str = "") -> Completion:
        """AUTHENTICATE PLAIN (RFC 4616): with an initial response (RFC 4959 SASL-IR) when `initial`, or by
        default when the server advertises SASL-IR; else after the server's empty challenge."""
        token = base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()
        if initial is None:
            initial = self.has("SASL-IR")
        if initial:
            return await self.command(f"AUTHENTICATE PLAIN {token}")
        completion = await self.command("AUTHENTICATE PLAIN")
        if completion.tagged is None and completion.continuations and not completion.closed:
            await self._send(completion, token.encode() + b"\r\n")
            await self.read_completion(completion)
        return completion

    async def select(self, mailbox: str, *, examine: bool = False, params: str = "") -> tuple[Completion, Selected]:
        verb = "EXAMINE" if examine else "SELECT"
        completion = await self.command(f"{verb} {astring(mailbox)}" + (f" ({params})" if params else ""))
        return completion, selected_info(completion)

    async def append(self, mailbox: str, message: bytes, *, flags: str | None = None, date: str | None = None,
                     sync: bool = True) -> Completion:
        parts = [f"APPEND {astring(mailbox)}"]
        if flags is not None:
            parts.append(f" ({flags})")
        if date is not None:
            parts.append(f' "{date}"')
        parts.append(" ")
        return await self.command(*parts, Literal(message, sync))

    async def idle(self) -> Completion:
        """IDLE: returns once the server's continuation request arrives (`continuations` set) or it refuses
        (`tagged` set). Then read untagged data with read_response and end with done()."""
        return await self.command("IDLE")

    async def done(self, completion: Completion, timeout: float | None = None) -> Completion:
        """DONE ends IDLE; reads up to IDLE's tagged response (untagged data on the way is collected)."""
        await self._send(completion, b"DONE\r\n")
        return await self.read_completion(completion, timeout)

    async def logout(self) -> Completion | None:
        if self.wire.closed:
            return None
        try:
            return await self.command("LOGOUT", timeout=2.0)
        except Exception:  # leaving anyway; LOGOUT behaviour has checks of its own
            return None


def selected_info(completion: Completion) -> Selected:
    """The mailbox data of a SELECT/EXAMINE completion."""
    info = Selected()
    for resp in completion.untagged:
        if resp.name == "EXISTS":
            info.exists = resp.number
        elif resp.name == "RECENT":
            info.recent = resp.number
        elif resp.name == "FLAGS":
            info.flags = resp.flag_list()
        elif resp.status == "OK" and resp.code:
            if resp.code == "UIDVALIDITY":
                info.uidvalidity = resp.code_int()
            elif resp.code == "UIDNEXT":
                info.uidnext = resp.code_int()
            elif resp.code == "UNSEEN":
                info.unseen = resp.code_int()
            elif resp.code == "HIGHESTMODSEQ":
                info.highestmodseq = resp.code_int()
            elif resp.code == "PERMANENTFLAGS":
                vals = resp.code_values()
                info.permanentflags = [str(f) for f in vals[0]] if vals and isinstance(vals[0], list) else []
    if completion.tagged is not None and completion.tagged.code in ("READ-WRITE", "READ-ONLY"):
        info.access = completion.tagged.code
    return info


def fetch_by_number(completion: Completion) -> dict[int, dict]:
    """FETCH data of a completion by message sequence number (items of several responses merged)."""
    out: dict[int, dict] = {}
    for resp in completion.data("FETCH"):
        if resp.number is not None:
            out.setdefault(resp.number, {}).update(resp.fetch())
    return out


def plain_token(user: str, password: str, authzid: str = "") -> str:
    return base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()
