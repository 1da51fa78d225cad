"""A small in-process POP3 server with a real maildrop, for testing the POP3 dialect, scripts and model.

    maildrop = FakeMaildrop()
    with FakeServer(Pop3Fake(maildrop)) as server:
        target = server.target()   # pop3://127.0.0.1:PORT (use server.url("pop3", ...))

It follows RFC 1939 (USER/PASS for any user whose password is "pw", STAT, LIST, UIDL, RETR, TOP, DELE, RSET,
NOOP, QUIT, CAPA) unless `bug` switches on one deliberate mistake:

    "drop-commits"     a connection that ends without QUIT still removes the messages marked as deleted
    "rset-ignored"     RSET answers +OK but leaves the marks
    "no-stuffing"      multi-line responses are not byte-stuffed
    "stat-counts-all"  STAT counts messages marked as deleted
"""
from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field


@dataclass
class FakeMaildrop:
    messages: list[tuple[str, bytes]] = field(default_factory=list)  # (uid, content with CRLF line ends)
    _uids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, content: bytes) -> None:
        self.messages.append((f"uid-{next(self._uids):04d}", content))


def stuff(content: bytes, stuffing: bool = True) -> bytes:
    lines = content.split(b"\r\n")[:-1]
    return b"".join((b"." + ln if stuffing and ln.startswith(b".") else ln) + b"\r\n" for ln in lines) + b".\r\n"


class Pop3Fake:
    def __init__(self, maildrop: FakeMaildrop | None = None, *, bug: str | None = None,
                 capa: list[str] | None = None) -> None:
        self.maildrop = maildrop or FakeMaildrop()
        self.bug = bug
        self.capa = capa if capa is not None else ["TOP", "UIDL", "USER", "RESP-CODES"]

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session: list[tuple[str, bytes]] | None = None  # the numbered snapshot once logged in
        marked: set[int] = set()
        user = None

        def say(text: str | bytes) -> None:
            writer.write(text if isinstance(text, bytes) else text.encode() + b"\r\n")

        def msg(arg: str) -> int | None:
            n = int(arg) if arg.isdigit() else 0
            return n if session is not None and 1 <= n <= len(session) and n not in marked else None

        say("+OK fake POP3 ready")
        try:
            while line := await reader.readline():
                words = line.decode("ascii", "replace").strip().split()
                verb, args = (words[0].upper(), words[1:]) if words else ("", [])
                if verb == "QUIT":
                    if session is not None:
                        self._remove(session, marked)
                        session = None
                    say("+OK bye")
                    await writer.drain()
                    return
                if verb == "CAPA":
                    say(b"+OK\r\n" + b"".join(c.encode() + b"\r\n" for c in self.capa) + b".\r\n")
                elif session is None:
                    if verb == "USER" and args:
                        user = args[0]
                        say("+OK")
                    elif verb == "PASS" and user and args == ["pw"]:
                        session, marked = list(self.maildrop.messages), set()
                        say("+OK logged in")
                    elif verb == "PASS":
                        user = None
                        say("-ERR [AUTH] wrong password")
                    else:
                        say("-ERR not now")
                elif verb == "STAT":
                    live = [c for i, (_, c) in enumerate(session, 1) if i not in marked or self.bug == "stat-counts-all"]
                    say(f"+OK {len(live)} {sum(len(c) for c in live)}")
                elif verb in ("LIST", "UIDL") and not args:
                    rows = [f"{i} {len(c) if verb == 'LIST' else u}" for i, (u, c) in enumerate(session, 1)
                            if i not in marked]
                    say(b"+OK\r\n" + b"".join(r.encode() + b"\r\n" for r in rows) + b".\r\n")
                elif verb in ("LIST", "UIDL", "RETR", "TOP", "DELE") and (n := msg(args[0])) is not None:
                    uid, content = session[n - 1]
                    if verb == "LIST":
                        say(f"+OK {n} {len(content)}")
                    elif verb == "UIDL":
                        say(f"+OK {n} {uid}")
                    elif verb == "DELE":
                        marked.add(n)
                        say("+OK marked")
                    elif verb == "RETR":
                        say(b"+OK\r\n" + stuff(content, self.bug != "no-stuffing"))
                    elif len(args) == 2 and args[1].isdigit():
                        head, _, body = content.partition(b"\r\n\r\n")
                        lines = body.split(b"\r\n")[:-1][:int(args[1])]
                        top = head + b"\r\n\r\n" + b"".join(ln + b"\r\n" for ln in lines)
                        say(b"+OK\r\n" + stuff(top, self.bug != "no-stuffing"))
                    else:
                        say("-ERR syntax")
                elif verb == "RSET":
                    if self.bug != "rset-ignored":
                        marked = set()
                    say("+OK")
                elif verb == "NOOP":
                    say("+OK")
                else:
                    say("-ERR no such message or command")
                await writer.drain()
        finally:
            if session is not None and self.bug == "drop-commits":
                self._remove(session, marked)

    def _remove(self, session, marked: set[int]) -> None:
        gone = {session[n - 1][0] for n in marked}
        self.maildrop.messages = [m for m in self.maildrop.messages if m[0] not in gone]
