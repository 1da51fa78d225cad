"""A model of a POP3 maildrop, and a hypothesis state machine that holds servers to it across sessions.

The model knows what is in the maildrop (each message by its unique-id, with its size and content), which
messages the current session has marked as deleted, and how the session numbered the messages when it
logged in. From that it says what every command must answer (RFC 1939 sections 5 to 7):

    STAT, LIST, UIDL    count, list and size only the messages not marked as deleted
    RETR, TOP           the stored message (TOP: header, blank line, first k body lines); -ERR if marked
    DELE                +OK and marks the message; -ERR if already marked or no such number
    RSET, NOOP          +OK; RSET unmarks every message
    QUIT                +OK, and only the marked messages are gone in the next session
    (dropped)           a session that ends without QUIT removes nothing

Every example starts from a maildrop the machine empties and fills with the same three messages (so a
failing conversation replays exactly), then hypothesis draws commands, message-numbers (including 0 and
one past the last) and reconnects. A reply the model does not allow is shrunk to the shortest conversation
that still shows it.
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance.dialects.pop3 import Pop3Client, Response
from conformance.fill import account_lock, empty, fill, pop3_account, pop3_login
from conformance.model import Kind
from conformance.property import Driver, check_machine
from conformance.registry import probe
from conformance.wire.session import Session

from .messages import DOTS_BODY, LINES_BODY, PLAIN_BODY, SCAN_RE, UNIQUE_ID_RE, listing, messages, same_message, split

BODIES = (PLAIN_BODY, DOTS_BODY, LINES_BODY)
NUMBERS = st.integers(min_value=0, max_value=len(BODIES) + 1)  # 0 and len+1 name no message


@dataclass(frozen=True)
class Stored:
    uid: str
    content: bytes  # as RETR gave it when the example started (unstuffed, CRLF line ends)

    @property
    def size(self) -> int:
        return len(self.content)

    def top(self, k: int) -> bytes:
        head, body = split(self.content)
        return head + b"\r\n" + b"".join(line + b"\r\n" for line in body.split(b"\r\n")[:-1][:k])


class Pop3Machine(RuleBasedStateMachine):
    def __init__(self, driver: Driver) -> None:
        super().__init__()
        self.driver = driver
        driver.new_example()
        self.ctx = driver.ctx
        self.account = pop3_account(self.ctx)
        self.has_top = "TOP" in self.ctx.cap("pop3").keywords
        self.stored: dict[str, Stored] = {}  # uid -> message, everything the maildrop holds (committed)
        self.client: Pop3Client | None = None
        self.numbered: list[str] = []  # the session's numbering: uid of message n at index n-1
        self.marked: set[int] = set()  # message-numbers marked as deleted in this session
        self.sessions = 0
        self.learned = False  # the maildrop's content is known (after _prepare)
        if driver.active():
            driver.guard(lambda: driver.call(self._prepare()))

    # --- setting up an example -------------------------------------------------------------------------

    async def _prepare(self) -> None:
        """Empty the maildrop, fill it with the three messages, and learn them (unique-ids, sizes, content)."""
        client = await self._connect("setup")
        reply = await pop3_login(self.ctx, client, self.account)
        self._require(reply.ok, "logging in to empty the maildrop", reply)
        await empty(self.ctx, client)
        sent = messages(self.ctx, *BODIES)
        await fill(self.ctx, self.account, sent)
        await self._login()
        for n, uid in enumerate(self.numbered, 1):
            got = await self.client.multiline(f"RETR {n}")
            self._require(got.ok, f"RETR {n} of a message just filled", got)
            self.stored[uid] = Stored(uid, got.content)
        self.learned = True
        contents = [s.content for s in self.stored.values()]
        if not all(any(same_message(m, c) for c in contents) for m in sent):
            self.driver.violate("the maildrop does not hold the messages just put into it",
                                "\n\n".join(m.decode("utf-8", "replace") for m in sent),
                                "\n\n".join(c.decode("utf-8", "replace") for c in contents))

    async def _connect(self, label: str) -> Pop3Client:
        client = Pop3Client(await self._open(label))
        greeting = await client.read_greeting()
        self._require(greeting.ok, "the greeting", greeting)
        return client

    async def _open(self, label: str) -> Session:
        """Driver.open, from inside a coroutine already running on the driver's loop."""
        ep = self.ctx.endpoint("pop3")
        opts = self.ctx.options
        session = await Session.open(ep.host, ep.port, transcript=self.driver.transcript, label=label,
                                     tls=self.ctx.tls_context() if ep.implicit_tls else None,
                                     connect_timeout=opts.connect_timeout, read_timeout=opts.read_timeout)
        self.driver.sessions.append(session)
        return session

    def _require(self, ok: bool, what: str, reply: Response) -> None:
        if not ok:
            self.driver.violate(f"{what} was refused", "+OK", reply.show())

    async def _login(self) -> None:
        """A new session: log in, then learn its numbering from UIDL and check it against the model."""
        self.sessions += 1
        self.client = await self._connect("ab"[self.sessions % 2])
        reply = await pop3_login(self.ctx, self.client, self.account)
        self._require(reply.ok, "logging in", reply)
        self.marked = set()
        uidl = await self.client.multiline("UIDL")
        uids = listing(uidl.lines, UNIQUE_ID_RE) if uidl.ok else None
        if uids is None or sorted(uids) != list(range(1, len(uids) + 1)):
            self.driver.violate("UIDL after login does not number the messages 1 to n", "+OK and n uid lines",
                                uidl.show())
        self.numbered = [uids[n] for n in sorted(uids)]
        if self.learned and set(self.numbered) != set(self.stored):
            self.driver.violate("a new session does not find exactly the messages the model expects (QUIT removes "
                                "the marked ones, a dropped session nothing)",
                                " ".join(sorted(self.stored)), " ".join(sorted(self.numbered)))
        note(f"session {self.sessions}: logged in, messages {self.numbered}")

    # --- talking ------------------------------------------------------------------------------------------

    def exchange(self, line: str, multiline: bool = False) -> Response | None:
        """Send one command in the current session (logging in first when there is none)."""
        if not self.driver.active():
            return None
        if self.client is None:
            self.driver.guard(lambda: self.driver.call(self._login()))
            if self.driver.broken is not None:
                return None
        client = self.client
        reply = self.driver.guard(lambda: self.driver.call(client.multiline(line) if multiline else client.cmd(line)))
        if reply is not None:
            self.driver.commands += 1
            note(f"session {self.sessions}: {line!r} -> {reply}")
        return reply

    def live(self, n: int) -> str | None:
        """The uid of message n if it exists in this session and is not marked as deleted."""
        return self.numbered[n - 1] if 1 <= n <= len(self.numbered) and n not in self.marked else None

    def expect(self, ok: bool, what: str, expected: str, reply: Response) -> None:
        if not ok:
            self.driver.violate(what, expected, reply.show())

    # --- rules --------------------------------------------------------------------------------------------

    @rule()
    def stat(self):
        reply = self.exchange("STAT")
        if reply is None:
            return
        live = [self.stored[u] for n, u in enumerate(self.numbered, 1) if n not in self.marked]
        expected = f"+OK {len(live)} {sum(m.size for m in live)}"
        self.expect(reply.ok and reply.text.split()[:2] == expected.split()[1:], "STAT counts the messages not "
                    "marked as deleted", expected, reply)

    @rule()
    def list_all(self):
        reply = self.exchange("LIST", multiline=True)
        if reply is None:
            return
        want = {n: str(self.stored[u].size) for n, u in enumerate(self.numbered, 1) if n not in self.marked}
        self.expect(reply.ok and listing(reply.lines, SCAN_RE) == want, "LIST lists the messages not marked as "
                    "deleted, each with its exact size", "\n".join(f"{n} {s}" for n, s in want.items()), reply)

    @rule(n=NUMBERS)
    def list_one(self, n):
        reply = self.exchange(f"LIST {n}")
        if reply is None:
            return
        uid = self.live(n)
        if uid is None:
            self.expect(reply.err, f"LIST {n} names no message (none, or marked as deleted)", "-ERR", reply)
        else:
            size = str(self.stored[uid].size)
            self.expect(reply.ok and reply.text.split()[:2] == [str(n), size], f"LIST {n} gives its scan listing",
                        f"+OK {n} {size}", reply)

    @rule()
    def uidl_all(self):
        reply = self.exchange("UIDL", multiline=True)
        if reply is None:
            return
        want = {n: u for n, u in enumerate(self.numbered, 1) if n not in self.marked}
        self.expect(reply.ok and listing(reply.lines, UNIQUE_ID_RE) == want, "UIDL lists the messages not marked "
                    "as deleted with their unique-ids", "\n".join(f"{n} {u}" for n, u in want.items()), reply)

    @rule(n=NUMBERS)
    def uidl_one(self, n):
        reply = self.exchange(f"UIDL {n}")
        if reply is None:
            return
        uid = self.live(n)
        if uid is None:
            self.expect(reply.err, f"UIDL {n} names no message (none, or marked as deleted)", "-ERR", reply)
        else:
            self.expect(reply.ok and reply.text == f"{n} {uid}", f"UIDL {n} gives its unique-id listing",
                        f"+OK {n} {uid}", reply)

    @rule(n=NUMBERS)
    def retr(self, n):
        reply = self.exchange(f"RETR {n}", multiline=True)
        if reply is None:
            return
        uid = self.live(n)
        if uid is None:
            self.expect(reply.err, f"RETR {n} names no message (none, or marked as deleted)", "-ERR", reply)
        else:
            want = self.stored[uid].content
            self.expect(reply.ok and reply.content == want, f"RETR {n} sends the stored message",
                        want.decode("utf-8", "replace"), reply)

    @precondition(lambda self: self.has_top)
    @rule(n=NUMBERS, k=st.integers(min_value=0, max_value=8))
    def top(self, n, k):
        reply = self.exchange(f"TOP {n} {k}", multiline=True)
        if reply is None:
            return
        uid = self.live(n)
        if uid is None:
            self.expect(reply.err, f"TOP {n} names no message (none, or marked as deleted)", "-ERR", reply)
        else:
            want = self.stored[uid].top(k)
            self.expect(reply.ok and reply.content == want, f"TOP {n} {k} sends the header and {k} body lines",
                        want.decode("utf-8", "replace"), reply)

    @rule(n=NUMBERS)
    def dele(self, n):
        reply = self.exchange(f"DELE {n}")
        if reply is None:
            return
        if self.live(n) is None:
            self.expect(reply.err, f"DELE {n} names no message (none, or already marked as deleted)", "-ERR", reply)
        else:
            self.expect(reply.ok, f"DELE {n} marks the message as deleted", "+OK", reply)
            self.marked.add(n)

    @rule()
    def rset(self):
        reply = self.exchange("RSET")
        if reply is None:
            return
        self.expect(reply.ok, "RSET is answered +OK", "+OK", reply)
        self.marked = set()

    @rule()
    def noop(self):
        reply = self.exchange("NOOP")
        if reply is not None:
            self.expect(reply.ok, "NOOP is answered +OK", "+OK", reply)

    @rule()
    def quit(self):
        if self.client is None:
            return
        reply = self.exchange("QUIT")
        if reply is None:
            return
        self.expect(reply.ok, "QUIT from TRANSACTION is answered +OK", "+OK", reply)
        for n in self.marked:
            self.stored.pop(self.numbered[n - 1], None)
        self._end_session()

    @rule()
    def drop(self):
        """End the session without QUIT: nothing marked may be removed."""
        if self.client is None or not self.driver.active():
            return
        note(f"session {self.sessions}: connection dropped without QUIT")
        self._end_session()

    def _end_session(self) -> None:
        client, self.client = self.client, None
        self.numbered, self.marked = [], set()
        self.driver.guard(lambda: self.driver.call(client.wire.close()))

    def teardown(self):
        self.driver.close_sessions()


@probe("pop3.model.maildrop", kind=Kind.PROPERTY, level="MUST",
       rfc="rfc1939#5 rfc1939#6 rfc1939#7 rfc1939#11",
       requirement="Across random STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP and QUIT commands and dropped "
                   "connections, over several sessions, every reply fits a model of the maildrop: marked messages "
                   "are hidden and refused, RSET unmarks, QUIT removes exactly the marked ones, a dropped session "
                   "removes nothing, unique-ids and sizes stay the same.",
       needs=["maildrop", "UIDL"], tags=["model", "property", "dele", "quit"], timeout=300, exclusive=True)
async def maildrop_model(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        await check_machine(ctx, Pop3Machine)
