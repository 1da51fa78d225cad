"""A small in-process IMAP4rev1 server with a shared store, for testing the IMAP model and dialect.

    store = FakeStore()
    with FakeServer(ImapFake(store)) as server:
        server.url("imap")

Any user logs in with password "pw". It keeps several mailboxes and any number of sessions on them, and tells
each session about other sessions' changes at its next command (EXISTS, EXPUNGE, FETCH FLAGS), never EXPUNGE
while answering FETCH, STORE or SEARCH. Commands: CAPABILITY NOOP LOGOUT LOGIN CREATE DELETE LIST SELECT EXAMINE
APPEND (synchronizing literals) UNSELECT CLOSE FETCH STORE SEARCH COPY EXPUNGE and their UID forms. `bug` plants
one deliberate mistake:

    "uid-reuse"             a message appended after the newest one was expunged gets that UID again
    "expunge-during-fetch"  other sessions' expunges are reported while FETCH is answered
    "exists-shrinks"        another session's expunge is reported with a smaller EXISTS, not EXPUNGE
    "plus-flags-replaces"   STORE +FLAGS replaces the flags instead of adding to them
"""
from __future__ import annotations

import asyncio
import re
import itertools
from dataclasses import dataclass, field

from conformance.dialects.imap_lexer import tokens
from conformance.dialects.imap_parser import values

SYSTEM = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]


@dataclass
class FakeMessage:
    uid: int
    content: bytes
    flags: set[str] = field(default_factory=set)  # as given (case kept), without \Recent


@dataclass
class FakeMailbox:
    uidvalidity: int
    messages: list[FakeMessage] = field(default_factory=list)
    next_uid: int = 1


@dataclass
class FakeStore:
    mailboxes: dict[str, FakeMailbox] = field(default_factory=lambda: {"INBOX": FakeMailbox(1)})
    validity: itertools.count = field(default_factory=lambda: itertools.count(100))


def quote(data: bytes) -> str:
    return '"' + data.decode("utf-8", "replace").replace("\\", "\\\\").replace('"', '\\"') + '"'


def header(content: bytes, name: bytes) -> bytes | None:
    for line in content.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(name.lower() + b":"):
            return line.split(b":", 1)[1].strip()
    return None


def envelope(content: bytes) -> str:
    fields = [header(content, n) for n in (b"Date", b"Subject")]
    msgid = header(content, b"Message-ID")
    parts = [quote(f) if f is not None else "NIL" for f in fields] + ["NIL"] * 7 + [quote(msgid) if msgid else "NIL"]
    return "(" + " ".join(parts) + ")"


class Session:
    def __init__(self, fake: "ImapFake", writer: asyncio.StreamWriter) -> None:
        self.fake = fake
        self.writer = writer
        self.user = None
        self.box: str | None = None
        self.view: list[int] = []  # UIDs by sequence number, as this session knows them
        self.flags_seen: dict[int, set[str]] = {}

    def say(self, text: str | bytes) -> None:
        self.writer.write(text if isinstance(text, bytes) else text.encode() + b"\r\n")

    @property
    def mailbox(self) -> FakeMailbox:
        return self.fake.store.mailboxes[self.box]

    def message(self, uid: int) -> FakeMessage | None:
        return next((m for m in self.mailbox.messages if m.uid == uid), None) if self.box in self.fake.store.mailboxes \
            else None

    def sync(self, expunges: bool) -> None:
        """Tell this session what changed: expunges (when allowed), new messages, flag changes."""
        if self.box is None or self.box not in self.fake.store.mailboxes:
            return
        alive = {m.uid for m in self.mailbox.messages}
        if expunges or self.fake.bug == "expunge-during-fetch":
            if self.fake.bug == "exists-shrinks" and any(u not in alive for u in self.view):
                self.view = [u for u in self.view if u in alive]
                self.say(f"* {len(self.view)} EXISTS")
            n = 0
            while n < len(self.view):
                if self.view[n] not in alive:
                    self.view.pop(n)
                    self.say(f"* {n + 1} EXPUNGE")
                else:
                    n += 1
        new = [m.uid for m in self.mailbox.messages if m.uid not in self.view and m.uid > max(self.view, default=0)]
        if new:
            self.view += new
            self.say(f"* {len(self.view)} EXISTS")
        for n, uid in enumerate(self.view, 1):
            msg = self.message(uid)
            if msg is not None and uid in self.flags_seen and self.flags_seen[uid] != msg.flags:
                self.say(f"* {n} FETCH (FLAGS ({' '.join(sorted(msg.flags))}))")
                self.flags_seen[uid] = set(msg.flags)

    def numbers(self, spec: str, by_uid: bool) -> list[int]:
        """Sequence numbers (1-based) named by a sequence set of numbers or UIDs."""
        top = max(self.view, default=0) if by_uid else len(self.view)
        chosen = set()
        for part in spec.split(","):
            lo, _, hi = part.partition(":")
            a = top if lo == "*" else int(lo)
            b = a if not hi else top if hi == "*" else int(hi)
            lo_, hi_ = min(a, b), max(a, b)
            chosen |= {x for x in range(lo_, hi_ + 1)}
        if by_uid:
            return [n for n, u in enumerate(self.view, 1) if u in chosen]
        return sorted(n for n in chosen if 1 <= n <= len(self.view))


class ImapFake:
    def __init__(self, store: FakeStore | None = None, *, bug: str | None = None) -> None:
        self.store = store or FakeStore()
        self.bug = bug

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        s = Session(self, writer)
        s.say("* OK [CAPABILITY IMAP4rev1] fake IMAP ready")
        while line := await reader.readline():
            text = line.rstrip(b"\r\n")
            literal = None
            if text.endswith(b"}") and b"{" in text:
                size = int(text[text.rindex(b"{") + 1:-1])
                s.say("+ go ahead")
                await writer.drain()
                literal = await reader.readexactly(size)
                await reader.readline()
                text = text[:text.rindex(b"{")].rstrip()
            words = values(tokens([text]))
            if len(words) < 2:
                s.say("* BAD empty command")
                continue
            tag, verb, args = str(words[0]), str(words[1]).upper(), words[2:]
            by_uid = verb == "UID" and bool(args)
            if by_uid:
                verb, args = str(args[0]).upper(), args[1:]
            try:
                done = self.command(s, tag, verb, args, by_uid, literal)
            except (IndexError, ValueError, KeyError):
                s.say(f"{tag} BAD syntax")
                done = False
            await writer.drain()
            if done:
                return

    def command(self, s: Session, tag: str, verb: str, args: list, by_uid: bool, literal: bytes | None) -> bool:
        text = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
        if verb == "LOGOUT":
            s.say("* BYE bye")
            s.say(f"{tag} OK bye")
            return True
        if verb == "CAPABILITY":
            s.say("* CAPABILITY IMAP4rev1")
        elif verb == "NOOP":
            s.sync(True)
        elif verb == "LOGIN":
            if text(args[1]) != "pw":
                s.say(f"{tag} NO [AUTHENTICATIONFAILED] wrong")
                return False
            s.user = text(args[0])
        elif s.user is None:
            s.say(f"{tag} BAD log in first")
            return False
        elif verb == "CREATE":
            name = text(args[0])
            if name in self.store.mailboxes:
                s.say(f"{tag} NO exists")
                return False
            self.store.mailboxes[name] = FakeMailbox(next(self.store.validity))
        elif verb == "DELETE":
            if self.store.mailboxes.pop(text(args[0]), None) is None:
                s.say(f"{tag} NO no such mailbox")
                return False
        elif verb in ("LIST", "LSUB"):
            pattern = re.escape(text(args[1])).replace(r"\*", ".*").replace("%", "[^.]*")
            for name in sorted(self.store.mailboxes):
                if verb == "LIST" and re.fullmatch(pattern, name):
                    s.say(f'* LIST () "." {quote(name.encode())}')
        elif verb in ("SELECT", "EXAMINE"):
            name = text(args[0])
            if name not in self.store.mailboxes:
                s.box = None
                s.say(f"{tag} NO no such mailbox")
                return False
            s.box, box = name, self.store.mailboxes[name]
            s.view = [m.uid for m in box.messages]
            s.flags_seen = {}
            s.say(f"* FLAGS ({' '.join(SYSTEM)})")
            s.say(f"* OK [PERMANENTFLAGS ({' '.join(SYSTEM)} \\*)] ok")
            s.say(f"* {len(s.view)} EXISTS")
            s.say("* 0 RECENT")
            s.say(f"* OK [UIDVALIDITY {box.uidvalidity}] ok")
            s.say(f"* OK [UIDNEXT {box.next_uid}] ok")
            s.say(f"{tag} OK [READ-WRITE] selected")
            return False
        elif verb == "APPEND":
            box = self.store.mailboxes.get(text(args[0]))
            if box is None:
                s.say(f"{tag} NO [TRYCREATE] no such mailbox")
                return False
            if self.bug == "uid-reuse":
                box.next_uid = max((m.uid for m in box.messages), default=0) + 1
            box.messages.append(FakeMessage(box.next_uid, literal or b""))
            box.next_uid += 1
            s.sync(True)
        elif verb in ("UNSELECT", "CLOSE"):
            if verb == "CLOSE":
                s.mailbox.messages = [m for m in s.mailbox.messages if "\\Deleted" not in m.flags]
            s.box, s.view = None, []
        elif s.box is None:
            s.say(f"{tag} BAD select a mailbox first")
            return False
        elif verb == "FETCH":
            self.fetch(s, text(args[0]), args[1] if isinstance(args[1], list) else args[1:], by_uid)
        elif verb == "STORE":
            self.store_flags(s, text(args[0]), text(args[1]).upper(), args[2], by_uid)
        elif verb == "SEARCH":
            s.sync(by_uid)
            found = [n for n, u in enumerate(s.view, 1) if (m := s.message(u)) and self.match(m, list(args))]
            s.say("* SEARCH" + "".join(f" {s.view[n - 1] if by_uid else n}" for n in found))
        elif verb == "COPY":
            dest = self.store.mailboxes[text(args[1])]
            for n in s.numbers(text(args[0]), by_uid):
                msg = s.message(s.view[n - 1])
                if msg is not None:
                    dest.messages.append(FakeMessage(dest.next_uid, msg.content, set(msg.flags)))
                    dest.next_uid += 1
            s.sync(True)
        elif verb == "EXPUNGE":
            s.mailbox.messages = [m for m in s.mailbox.messages if "\\Deleted" not in m.flags]
            s.sync(True)
        else:
            s.say(f"{tag} BAD unknown command")
            return False
        s.say(f"{tag} OK done")
        return False

    def fetch(self, s: Session, spec: str, items: list, by_uid: bool) -> None:
        s.sync(by_uid)
        names = [str(i).upper() for i in items]
        for n in s.numbers(spec, by_uid):
            msg = s.message(s.view[n - 1])
            if msg is None:
                continue
            out: list[str | bytes] = []
            if by_uid or "UID" in names:
                out.append(f"UID {msg.uid}")
            if "BODY[]" in names and "\\Seen" not in msg.flags:
                msg.flags.add("\\Seen")
            for name in names:
                if name == "FLAGS" or (name == "BODY[]" and "FLAGS" not in names):
                    out.append(f"FLAGS ({' '.join(sorted(msg.flags))})")
                    s.flags_seen[msg.uid] = set(msg.flags)
                elif name == "RFC822.SIZE":
                    out.append(f"RFC822.SIZE {len(msg.content)}")
                elif name == "ENVELOPE":
                    out.append(f"ENVELOPE {envelope(msg.content)}")
                elif name in ("BODY[]", "BODY.PEEK[]"):
                    out.append(b"BODY[] {%d}\r\n" % len(msg.content) + msg.content)
            joined = b" ".join(o if isinstance(o, bytes) else o.encode() for o in out)
            s.say(b"* %d FETCH (" % n + joined + b")\r\n")

    def store_flags(self, s: Session, spec: str, item: str, flags, by_uid: bool) -> None:
        s.sync(by_uid)
        given = {str(f) for f in (flags if isinstance(flags, list) else [flags])}
        for n in s.numbers(spec, by_uid):
            msg = s.message(s.view[n - 1])
            if msg is None:
                continue
            mode = item[0] if item[0] in "+-" else ""
            if mode == "+" and self.bug != "plus-flags-replaces":
                msg.flags |= given
            elif mode == "-":
                msg.flags = {f for f in msg.flags if f.lower() not in {g.lower() for g in given}}
            else:
                msg.flags = set(given)
            s.flags_seen[msg.uid] = set(msg.flags)
            if not item.endswith(".SILENT"):
                s.say(f"* {n} FETCH ({f'UID {msg.uid} ' if by_uid else ''}FLAGS ({' '.join(sorted(msg.flags))}))")

    def match(self, msg: FakeMessage, keys: list) -> bool:
        while keys:
            if not self.match_one(msg, keys):
                return False
        return True

    def match_one(self, msg: FakeMessage, keys: list) -> bool:
        key = keys.pop(0)
        if isinstance(key, list):
            return self.match(msg, list(key))
        word = str(key).upper()
        flags = {f.lower() for f in msg.flags}
        names = {"SEEN": "\\seen", "FLAGGED": "\\flagged", "ANSWERED": "\\answered", "DRAFT": "\\draft",
                 "DELETED": "\\deleted"}
        if word == "ALL":
            return True
        if word in names:
            return names[word] in flags
        if word.startswith("UN") and word[2:] in names:
            return names[word[2:]] not in flags
        if word in ("KEYWORD", "UNKEYWORD"):
            has = str(keys.pop(0)).lower() in flags
            return has if word == "KEYWORD" else not has
        if word in ("SUBJECT", "BODY"):
            needle = str(keys.pop(0)).lower().encode()
            head, _, body = msg.content.partition(b"\r\n\r\n")
            hay = (header(msg.content, b"Subject") or b"") if word == "SUBJECT" else body
            return needle in hay.lower()
        if word == "UID":
            lo = str(keys.pop(0)).split(":")[0]
            return msg.uid >= int(lo)
        if word == "NOT":
            return not self.match_one(msg, keys)
        if word == "OR":
            first = self.match_one(msg, keys)
            second = self.match_one(msg, keys)
            return first or second
        raise ValueError(word)
