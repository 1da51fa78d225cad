"""A model of one IMAP mailbox seen by several sessions at once, and a hypothesis state machine that holds a server
to it.

Two or three sessions (a, b, c) have the same scratch mailbox selected; a helper session (h) has a second scratch
mailbox selected, so messages can be copied or moved there and back. Hypothesis drives them through random APPEND,
STORE (FLAGS, +FLAGS, -FLAGS, with and without .SILENT), FETCH (FLAGS, UID, ENVELOPE, RFC822.SIZE, BODY[] and
BODY.PEEK[], by number and by UID), SEARCH and UID SEARCH, COPY and MOVE (MOVE only when advertised), EXPUNGE and UID
EXPUNGE (with UIDPLUS), NOOP and IDLE/DONE (with IDLE). The model knows every message by its UID, with its content
and flags, and each session's map from sequence number to UID. Every response of every command is checked as it
arrives (RFC 3501 sections 2.3.1, 5.2, 6.4 and 7; RFC 9051 the same):

    UIDs          strictly ascending in the mailbox; a new message gets a UID above every UID the mailbox ever
                  used (never reused while UIDVALIDITY holds, and UIDVALIDITY never changes under a session)
    numbering     each EXPUNGE removes one message and renumbers the rest at once (7.4.1); EXISTS never shrinks
                  the count (5.2); after NOOP a session's numbers are 1..n, mapped to exactly the messages the
                  mailbox holds, in UID order; no EXPUNGE while FETCH, STORE or SEARCH is answered
    data          FETCH FLAGS equal the model's flags (every session agrees after NOOP); BODY[], RFC822.SIZE and
                  ENVELOPE of a message never change; SEARCH returns exactly what the model evaluates
    commands      STORE without .SILENT returns the new flags; EXPUNGE reports every message it removes before
                  its OK; the flags of appended messages are empty

A reply the model does not allow stops the search; hypothesis shrinks it to the shortest multi-session
conversation that still shows it, and `--seed` replays the search. Each example works in fresh scratch mailboxes,
deleted when it ends.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance import scratch
from conformance.dialects.imap import Completion, ImapClient, Literal, astring, sequence_set
from conformance.model import Kind
from conformance.property import Driver, check_machine
from conformance.registry import probe
from conformance.wire.session import Session, WireError

SESSIONS = ("a", "b", "c")
SYSTEM_FLAGS = ("\\Seen", "\\Flagged", "\\Answered", "\\Draft", "\\Deleted")
KEYWORD = "$WireproofLabel"
WORDS = ("apple", "banana", "cherry", "damson")
NO_EXPUNGE = {"FETCH", "STORE", "SEARCH"}  # commands during which EXPUNGE must not be sent (RFC 3501 7.4.1)
MIN_EXAMPLES = 200
STEPS = 16


def message(counter: int, subject_word: str, body_word: str) -> bytes:
    return (f"From: Model <model@example.org>\r\nTo: <rcpt@example.net>\r\n"
            f"Subject: {subject_word} model message {counter}\r\n"
            f"Message-ID: <model.{counter}@wireproof.invalid>\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n"
            f"A body about {body_word}.\r\nSecond line {counter}.\r\n").encode()


def words_of(content: bytes) -> tuple[str, str]:
    head, _, body = content.partition(b"\r\n\r\n")
    subject = next((line[9:] for line in head.split(b"\r\n") if line.lower().startswith(b"subject: ")), b"")
    return subject.decode().lower(), body.decode().lower()


@dataclass
class Msg:
    content: bytes
    flags: set[str] | None  # lower case, without \recent; None: not known yet (a copy; learnt when first fetched)
    envelope: object = None  # the first ENVELOPE seen; it must never change
    history: list[set[str]] = field(default_factory=list)  # every value the flags have had

    def set_flags(self, flags: set[str]) -> None:
        self.flags = flags
        self.history.append(set(flags))


@dataclass
class Box:
    """One mailbox as the model knows it."""

    name: str
    uidvalidity: int | None = None
    messages: dict[int, Msg] = field(default_factory=dict)  # alive messages by UID
    dead: set[int] = field(default_factory=set)  # UIDs expunged (or moved away)
    pending: list[Msg] = field(default_factory=list)  # added, UID not known yet (in the order they were added)
    max_uid: int = 0  # the highest UID the mailbox is known to have used

    def alive(self) -> list[int]:
        return sorted(self.messages)

    def assign(self, uid: int, msg: Msg, how: str, fail) -> None:
        if uid <= self.max_uid:
            fail(f"a new message in {self.name} got UID {uid}, not above every UID used before ({self.max_uid})",
                 f"UID > {self.max_uid}", f"UID {uid} ({how})")
        self.max_uid = uid
        self.messages[uid] = msg

    def remove(self, uid: int) -> None:
        self.messages.pop(uid, None)
        self.dead.add(uid)


@dataclass
class View:
    """A session: its connection, the mailbox it has selected, and its map from sequence number to UID."""

    label: str
    client: ImapClient
    box: Box
    seq: list[int | None] = field(default_factory=list)


class ImapMachine(RuleBasedStateMachine):
    def __init__(self, driver: Driver) -> None:
        super().__init__()
        self.driver = driver
        driver.new_example()
        self.ctx = driver.ctx
        caps = self.ctx.cap("imap").keywords
        self.has_move = "MOVE" in caps
        self.has_uidplus = "UIDPLUS" in caps
        self.has_idle = "IDLE" in caps
        self.keywords = False
        self.counter = itertools.count(1)
        self.views: dict[str, View] = {}
        n = driver.examples
        self.main = Box(scratch.name(self.ctx, f"m{n}"))
        self.dest = Box(scratch.name(self.ctx, f"d{n}"))
        self.ready = False
        if driver.active():
            driver.guard(lambda: driver.call(self._prepare()))

    # --- wiring ----------------------------------------------------------------------------------------------

    def fail(self, message: str, expected: str, observed: str) -> None:
        self.driver.violate(message, expected, observed)

    async def _connect(self, label: str) -> ImapClient:
        """A logged-in session on the driver's transcript (STARTTLS first when the endpoint requires it)."""
        ctx, ep, opts = self.ctx, self.ctx.endpoint("imap"), self.ctx.options
        wire = await Session.open(ep.host, ep.port, transcript=self.driver.transcript, label=label,
                                  tls=ctx.tls_context() if ep.implicit_tls else None,
                                  connect_timeout=opts.connect_timeout, read_timeout=opts.read_timeout)
        self.driver.sessions.append(wire)
        client = ImapClient(wire, tag_prefix=label)
        greeting = await client.read_greeting()
        self._setup(greeting.status in ("OK", "PREAUTH"), f"session {label}: the greeting", greeting.line)
        if ep.starttls_required and not wire.tls:
            reply = await client.starttls(ctx.tls_context())
            self._setup(reply.ok, f"session {label}: STARTTLS", reply.show())
        if greeting.status != "PREAUTH":
            account = ctx.target.accounts[0]
            if not client.capabilities:
                await client.capability()
            if client.has("LOGINDISABLED"):
                reply = await client.authenticate_plain(account.user, account.password)
            else:
                reply = await client.login(account.user, account.password)
            self._setup(reply.ok, f"session {label}: logging in", reply.show())
        return client

    def _setup(self, ok: bool, what: str, observed: str) -> None:
        if not ok:
            raise WireError(f"{what} failed: {observed.splitlines()[0] if observed else '(nothing)'}")

    async def _prepare(self) -> None:
        """Fresh mailboxes for this example: the main one with two messages, and the destination, empty."""
        client = await self._connect("a")
        for box in (self.main, self.dest):
            reply = await client.command(f"CREATE {astring(box.name)}")
            self._setup(reply.ok, f"CREATE {box.name}", reply.show())
        view = View("a", client, self.main)
        self.views["a"] = view
        for _ in range(2):
            await self._append(view, next(iter(WORDS)), WORDS[1])
        await self._select(view)
        self.ready = True

    async def _select(self, view: View) -> None:
        completion, info = await view.client.select(view.box.name)
        self._setup(completion.ok, f"session {view.label}: SELECT {view.box.name}", completion.show())
        if view.box is self.main and info.permanentflags is not None:
            self.keywords = "\\*" in info.permanentflags
        if view.box.uidvalidity is None:
            view.box.uidvalidity = info.uidvalidity
        elif info.uidvalidity != view.box.uidvalidity:
            self.fail("UIDVALIDITY changed while the mailbox existed", str(view.box.uidvalidity),
                      completion.show())
        view.seq = [None] * (info.exists or 0)
        await self._resolve(view)
        self._check_mapping(view, "right after SELECT")

    async def _view(self, label: str) -> View:
        view = self.views.get(label)
        if view is None:
            box = self.dest if label == "h" else self.main
            view = View(label, await self._connect(label), box)
            self.views[label] = view
            await self._select(view)
        return view

    def run(self, coro_fn, *args) -> None:
        """One step: skip when the driver is idle, stop the search when the connection breaks."""
        if not self.driver.active() or not self.ready:
            return
        self.driver.guard(lambda: self.driver.call(coro_fn(*args)))

    async def _command(self, view: View, line: str, *literal: bytes) -> Completion:
        completion = await view.client.command(line, *(Literal(b) for b in literal))
        self.driver.commands += 1
        note(f"{view.label}: {line}{' {literal}' if literal else ''} -> {completion}")
        return completion

    # --- checking responses ---------------------------------------------------------------------------------------

    def absorb(self, view: View, completion: Completion, verb: str, strict: set[int] = frozenset()) -> None:
        """Apply every untagged response of a command to the session's map, checking each against the model. FETCH
        FLAGS of the UIDs in `strict` must be the current flags; of others, a value the flags have had (a session's
        view of changes made elsewhere may lag until it synchronizes, e.g. at NOOP). Only the last FETCH FLAGS for a
        message in the response is held to that: an update about another session's change may precede it."""
        box = view.box
        last = {resp.number: id(resp) for resp in completion.order
                if resp.kind == "untagged" and resp.name == "FETCH" and "FLAGS" in resp.fetch()}
        for resp in completion.order:
            if resp.kind != "untagged":
                continue
            if resp.name == "BYE":
                self.fail(f"session {view.label}: the server ended the session", "no BYE", resp.line)
            elif resp.name == "EXPUNGE":
                n = resp.number or 0
                if verb in NO_EXPUNGE:
                    self.fail(f"session {view.label}: EXPUNGE sent while answering {verb} (RFC 3501 7.4.1)",
                              f"no EXPUNGE during {verb}", completion.show())
                if not 1 <= n <= len(view.seq):
                    self.fail(f"session {view.label}: EXPUNGE {n} names no message (the session has {len(view.seq)})",
                              f"1 <= n <= {len(view.seq)}", completion.show())
                uid = view.seq.pop(n - 1)
                if uid is not None and uid in box.messages:
                    self.fail(f"session {view.label}: EXPUNGE {n} removes UID {uid}, which was not expunged",
                              "EXPUNGE only of expunged messages", completion.show())
            elif resp.name == "EXISTS":
                n = resp.number or 0
                if n < len(view.seq):
                    self.fail(f"session {view.label}: EXISTS {n} shrinks the mailbox below {len(view.seq)} (RFC 3501 "
                              "5.2: only EXPUNGE may)", f">= {len(view.seq)} EXISTS", completion.show())
                view.seq += [None] * (n - len(view.seq))
            elif resp.name == "FETCH":
                self._fetched(view, resp, completion, strict if last.get(resp.number) == id(resp) else frozenset())
            elif resp.code == "UIDVALIDITY" and resp.code_int() != box.uidvalidity:
                self.fail("UIDVALIDITY changed under a session", str(box.uidvalidity), completion.show())

    def _fetched(self, view: View, resp, completion: Completion, strict: set[int]) -> None:
        n = resp.number or 0
        if not 1 <= n <= len(view.seq):
            self.fail(f"session {view.label}: FETCH for message {n}, but the session has {len(view.seq)}",
                      f"1 <= n <= {len(view.seq)}", completion.show())
        items = resp.fetch()
        known = view.seq[n - 1]
        if "UID" in items:
            uid = int(str(items["UID"])) if str(items["UID"]).isdigit() else -1
            if known is None:
                view.seq[n - 1] = uid
            elif uid != known:
                self.fail(f"session {view.label}: FETCH says message {n} has UID {uid}; the session's numbering "
                          f"gives UID {known}", f"UID {known}", completion.show())
        uid = view.seq[n - 1]
        msg = view.box.messages.get(uid) if uid is not None else None
        if msg is None:
            return  # not resolved yet (checked in _resolve), or expunged and not yet announced to this session
        if "FLAGS" in items:
            got = {str(f).lower() for f in items["FLAGS"]} - {"\\recent"}
            if msg.flags is None:
                msg.set_flags(got)
            elif got != msg.flags and (uid in strict or got not in msg.history):
                self.fail(f"session {view.label}: FETCH FLAGS of UID {uid} are not the message's flags"
                          + ("" if uid in strict else " (nor any value they had)"), " ".join(sorted(msg.flags)) or "()",
                          completion.show())
        for name, value in items.items():
            if name == "BODY[]" and value != msg.content:
                self.fail(f"session {view.label}: BODY[] of UID {uid} is not the message stored",
                          msg.content.decode(), completion.show())
            if name == "RFC822.SIZE" and str(value) != str(len(msg.content)):
                self.fail(f"session {view.label}: RFC822.SIZE of UID {uid} changed", str(len(msg.content)),
                          completion.show())
            if name == "ENVELOPE":
                if msg.envelope is None:
                    msg.envelope = value
                elif value != msg.envelope:
                    self.fail(f"session {view.label}: the ENVELOPE of UID {uid} changed", str(msg.envelope),
                              completion.show())

    async def _resolve(self, view: View) -> None:
        """Learn the UIDs (and check the content) of messages the session has been told exist but not yet seen."""
        unknown = [i + 1 for i, u in enumerate(view.seq) if u is None]
        if unknown:
            completion = await self._command(view, f"FETCH {sequence_set(unknown)} (UID FLAGS BODY.PEEK[])")
            self._expect_ok(view, completion)
            box = view.box
            for resp in completion.order:
                if resp.name == "FETCH" and resp.number in unknown and view.seq[resp.number - 1] is None:
                    items = resp.fetch()
                    if str(items.get("UID", "")).isdigit():
                        view.seq[resp.number - 1] = int(str(items["UID"]))
            bodies = {r.number: r.fetch().get("BODY[]") for r in completion.data("FETCH")}
            for n in unknown:
                uid = view.seq[n - 1] if n <= len(view.seq) else None
                if uid is None:
                    self.fail(f"session {view.label}: FETCH gives no UID for the new message {n}", "UID u",
                              completion.show())
                if uid in box.dead and any(m.content == bodies.get(n) for m in box.pending):
                    self.fail(f"session {view.label}: a new message got UID {uid}, which a message expunged before "
                              "had (RFC 3501 2.3.1.1: UIDs are not reused)", f"UID > {box.max_uid}",
                              completion.show())
                if uid in box.messages or uid in box.dead:
                    continue
                if not box.pending:
                    self.fail(f"session {view.label}: a message no session added appeared (UID {uid})",
                              "only the messages the model added", completion.show())
                box.assign(uid, box.pending.pop(0), "first seen in a FETCH", self.fail)
            self.absorb(view, completion, "FETCH")
        known = [u for u in view.seq if u is not None]
        if any(a >= b for a, b in zip(known, known[1:])):
            self.fail(f"session {view.label}: UIDs are not strictly ascending in sequence order", "ascending",
                      str(view.seq))

    def _expect_ok(self, view: View, completion: Completion) -> None:
        if not completion.ok:
            self.fail(f"session {view.label}: a valid command was not completed OK", "OK", completion.show())

    def _check_mapping(self, view: View, when: str) -> None:
        if view.box.pending:
            self.fail(f"session {view.label}: {when}, {len(view.box.pending)} message(s) added to {view.box.name} are "
                      "still not announced (RFC 3501 5.2: size changes are reported)", "* n EXISTS",
                      " ".join(map(str, view.seq)))
        if view.seq != view.box.alive():
            self.fail(f"session {view.label}: {when}, its messages 1..{len(view.seq)} are not exactly the mailbox's "
                      "messages in UID order", " ".join(map(str, view.box.alive())),
                      " ".join(map(str, view.seq)))

    async def _finish(self, view: View, completion: Completion, verb: str, strict: set[int] = frozenset()) -> None:
        self.absorb(view, completion, verb, strict)
        await self._resolve(view)

    # --- actions ---------------------------------------------------------------------------------------------------

    async def _append(self, view: View, subject_word: str, body_word: str) -> None:
        content = message(next(self.counter), subject_word, body_word)
        completion = await self._command(view, f"APPEND {astring(self.main.name)} ", content)
        self._expect_ok(view, completion)
        msg = Msg(content, None)
        msg.set_flags(set())
        code = completion.tagged.code_values() if completion.code == "APPENDUID" else []
        if len(code) == 2 and str(code[1]).isdigit():
            if self.main.uidvalidity is not None and str(code[0]) != str(self.main.uidvalidity):
                self.fail("APPENDUID names another UIDVALIDITY", str(self.main.uidvalidity), completion.show())
            self.main.assign(int(str(code[1])), msg, "APPENDUID", self.fail)
        else:
            self.main.pending.append(msg)
        if view.seq or self.ready:
            await self._finish(view, completion, "APPEND")

    def _target(self, view: View, pick: int) -> int | None:
        """A message number in this session that names a message alive in the model (or None)."""
        alive = [n for n, u in enumerate(view.seq, 1) if u is not None and u in view.box.messages]
        return alive[pick % len(alive)] if alive else None

    async def _store(self, label: str, pick: int, mode: str, flags: tuple[str, ...], silent: bool) -> None:
        view = await self._view(label)
        n = self._target(view, pick)
        if n is None:
            return
        uid = view.seq[n - 1]
        msg = self.main.messages[uid]
        want = {f.lower() for f in flags}
        current = msg.flags if msg.flags is not None else set()
        new = want if mode == "" else (current | want) if mode == "+" else (current - want)
        changed = new != current
        msg.set_flags(new)
        line = f"STORE {n} {mode}FLAGS{'.SILENT' if silent else ''} ({' '.join(flags)})"
        completion = await self._command(view, line)
        self._expect_ok(view, completion)
        # With .SILENT no FETCH answers the STORE: one that comes may report another session's earlier change.
        self.absorb(view, completion, "STORE", set() if silent else {uid})
        fetched = [r for r in completion.data("FETCH") if r.number == n and "FLAGS" in r.fetch()]
        if not silent and changed and not fetched:
            self.fail(f"session {label}: STORE without .SILENT changed the flags but returned no FETCH with the new "
                      "value (RFC 3501 6.4.6)", f"* {n} FETCH (FLAGS (...))", completion.show())
        await self._resolve(view)

    async def _fetch(self, label: str, pick: int, items: str, by_uid: bool) -> None:
        view = await self._view(label)
        n = self._target(view, pick)
        if n is None:
            return
        uid = view.seq[n - 1]
        msg = self.main.messages[uid]
        if "BODY[]" in items and msg.flags is not None and "\\seen" not in msg.flags:
            msg.set_flags(msg.flags | {"\\seen"})  # BODY[] sets \Seen (RFC 3501 6.4.5)
        completion = await self._command(view, f"{'UID ' if by_uid else ''}FETCH {uid if by_uid else n} ({items})")
        self._expect_ok(view, completion)
        self.absorb(view, completion, "UID FETCH" if by_uid else "FETCH")
        if by_uid:
            # The response UID FETCH causes carries the UID (RFC 3501 6.4.8); unsolicited FETCH responses (flag
            # updates from other sessions) may come along without it.
            answers = [r for r in completion.data("FETCH") if str(r.fetch().get("UID")) == str(uid)]
        else:
            answers = [r for r in completion.data("FETCH") if r.number == n]
        if not answers:
            self.fail(f"session {label}: FETCH of message {n} (UID {uid}) returned no data", f"* {n} FETCH (...)",
                      completion.show())
        await self._resolve(view)

    async def _sync(self, view: View) -> None:
        """NOOP, after which the session knows every change (RFC 3501 5.2, 6.1.2)."""
        completion = await self._command(view, "NOOP")
        self._expect_ok(view, completion)
        await self._finish(view, completion, "NOOP")

    async def _noop_and_verify(self, label: str) -> None:
        view = await self._view(label)
        await self._sync(view)
        self._check_mapping(view, "after NOOP")
        if view.seq:
            completion = await self._command(view, "FETCH 1:* (UID FLAGS)")
            self._expect_ok(view, completion)
            # After NOOP the session has caught up: every message's flags are the current ones.
            await self._finish(view, completion, "FETCH", set(view.seq))
            seen = {r.number for r in completion.data("FETCH")}
            if seen != set(range(1, len(view.seq) + 1)):
                self.fail(f"session {label}: FETCH 1:* does not answer for exactly messages 1..{len(view.seq)}",
                          f"1..{len(view.seq)}", completion.show())
            for msg_uid in view.seq:
                if self.main.messages[msg_uid].flags is None:
                    self.fail(f"session {label}: FETCH 1:* (FLAGS) gave no flags for UID {msg_uid}", "FLAGS",
                              completion.show())

    def _matches(self, key: tuple, uid: int) -> bool:
        msg = self.main.messages[uid]
        flags = msg.flags or set()
        kind = key[0]
        if kind == "ALL":
            return True
        if kind == "FLAG":
            return key[1].lower() in flags
        if kind == "UNFLAG":
            return key[1].lower() not in flags
        subject, body = words_of(msg.content)
        if kind == "SUBJECT":
            return key[1] in subject
        if kind == "BODY":
            return key[1] in body
        if kind == "UIDFROM":
            return uid >= key[1]
        if kind == "NOT":
            return not self._matches(key[1], uid)
        if kind == "OR":
            return self._matches(key[1], uid) or self._matches(key[2], uid)
        raise AssertionError(kind)

    def _render(self, key: tuple) -> str:
        kind = key[0]
        names = {"\\seen": "SEEN", "\\flagged": "FLAGGED", "\\answered": "ANSWERED", "\\draft": "DRAFT",
                 "\\deleted": "DELETED"}
        opposite = {"\\seen": "UNSEEN", "\\flagged": "UNFLAGGED", "\\answered": "UNANSWERED", "\\draft": "UNDRAFT",
                    "\\deleted": "UNDELETED"}
        if kind == "ALL":
            return "ALL"
        if kind == "FLAG":
            return names.get(key[1].lower(), f"KEYWORD {key[1]}")
        if kind == "UNFLAG":
            return opposite.get(key[1].lower(), f"UNKEYWORD {key[1]}")
        if kind in ("SUBJECT", "BODY"):
            return f"{kind} {key[1]}"
        if kind == "UIDFROM":
            return f"UID {key[1]}:*"
        if kind == "NOT":
            return f"NOT {self._render(key[1])}"
        return f"OR {self._render(key[1])} {self._render(key[2])}"

    def _concrete(self, key: tuple, view: View) -> tuple:
        """Replace the drawn index of a UID key by a UID of the session."""
        if key[0] == "UIDFROM":
            alive = [u for u in view.seq if u is not None] or [1]
            return ("UIDFROM", alive[key[1] % len(alive)])
        if key[0] == "NOT":
            return ("NOT", self._concrete(key[1], view))
        if key[0] == "OR":
            return ("OR", self._concrete(key[1], view), self._concrete(key[2], view))
        if key[0] in ("FLAG", "UNFLAG") and key[1] == KEYWORD and not self.keywords:
            return (key[0], "\\Flagged")
        return key

    async def _search(self, label: str, key: tuple, by_uid: bool) -> None:
        view = await self._view(label)
        await self._sync(view)
        self._check_mapping(view, "after NOOP")
        key = self._concrete(key, view)
        criteria = self._render(key)
        completion = await self._command(view, f"{'UID ' if by_uid else ''}SEARCH {criteria}")
        self._expect_ok(view, completion)
        got = [n for r in completion.data("SEARCH") for n in r.numbers()]
        if not completion.data("SEARCH"):
            self.fail(f"session {label}: SEARCH without an untagged SEARCH response", "* SEARCH ...",
                      completion.show())
        await self._finish(view, completion, "UID SEARCH" if by_uid else "SEARCH")
        want = [u if by_uid else n for n, u in enumerate(view.seq, 1) if self._matches(key, u)]
        if sorted(got) != sorted(want):
            self.fail(f"session {label}: {'UID ' if by_uid else ''}SEARCH {criteria} does not match the model",
                      " ".join(map(str, sorted(want))) or "(none)", completion.show())

    async def _expunge(self, label: str, by_uid: bool, pick: int) -> None:
        view = await self._view(label)
        # Catch up first: which messages an EXPUNGE removes is judged on flags the session has been told about.
        await self._sync(view)
        if by_uid:
            n = self._target(view, pick)
            if n is None:
                return
            uids = [view.seq[n - 1]]
            line = f"UID EXPUNGE {uids[0]}"
        else:
            uids = list(self.main.messages)
            line = "EXPUNGE"
        gone = [u for u in uids if "\\deleted" in (self.main.messages[u].flags or set())]
        for uid in gone:
            self.main.remove(uid)
        completion = await self._command(view, line)
        self._expect_ok(view, completion)
        await self._finish(view, completion, "EXPUNGE")
        left = [u for u in gone if u in view.seq]
        if left:
            self.fail(f"session {label}: {line} did not report the removal of UIDs {left} before its OK (RFC 3501 "
                      "6.4.3)", "an EXPUNGE response for each removed message", completion.show())

    async def _copy_out(self, label: str, pick: int, move: bool) -> None:
        view = await self._view(label)
        n = self._target(view, pick)
        if n is None:
            return
        uid = view.seq[n - 1]
        msg = self.main.messages[uid]
        completion = await self._command(view, f"{'MOVE' if move else 'COPY'} {n} {astring(self.dest.name)}")
        self._expect_ok(view, completion)
        self._copied(completion, self.dest, [msg])
        if move:
            self.main.remove(uid)
        await self._finish(view, completion, "MOVE" if move else "COPY")

    def _copied(self, completion: Completion, box: Box, msgs: list[Msg]) -> None:
        copies = [Msg(m.content, None) for m in msgs]
        codes = completion.codes("COPYUID")
        vals = [str(v) for v in codes[0].code_values()] if codes else []
        if len(vals) == 3 and vals[2].isdigit() and len(copies) == 1:
            box.assign(int(vals[2]), copies[0], "COPYUID", self.fail)
        else:
            box.pending += copies

    async def _copy_back(self, pick: int, move: bool) -> None:
        helper = await self._view("h")
        await self._sync(helper)
        n = self._target(helper, pick)
        if n is None:
            return
        uid = helper.seq[n - 1]
        completion = await self._command(helper, f"{'MOVE' if move else 'COPY'} {n} {astring(self.main.name)}")
        self._expect_ok(helper, completion)
        self._copied(completion, self.main, [self.dest.messages[uid]])
        if move:
            self.dest.remove(uid)
        await self._finish(helper, completion, "MOVE" if move else "COPY")

    async def _idle(self, label: str, other: str, pick: int) -> None:
        view = await self._view(label)
        actor = await self._view(other)
        started = await view.client.idle()
        self.driver.commands += 1
        if started.tagged is not None or not started.continuations:
            self.fail(f"session {label}: IDLE got no continuation request", "+ idling", started.show())
        note(f"{label}: IDLE -> {started}")
        target = self._target(actor, pick)
        if target is not None:
            await self._store(other, pick, "+", ("\\Flagged",), True)
        else:
            await self._append(actor, WORDS[pick % 4], WORDS[(pick + 1) % 4])
        done = await view.client.done(started)
        note(f"{label}: DONE -> {done}")
        self._expect_ok(view, done)
        await self._finish(view, done, "IDLE")

    # --- rules ------------------------------------------------------------------------------------------------------

    sessions = st.sampled_from(SESSIONS)
    picks = st.integers(min_value=0, max_value=7)

    @rule(label=sessions, subject=st.sampled_from(WORDS), body=st.sampled_from(WORDS))
    def append(self, label, subject, body):
        async def go():
            await self._append(await self._view(label), subject, body)
        self.run(go)

    @rule(label=sessions, pick=picks, mode=st.sampled_from(["", "+", "-"]),
          flags=st.lists(st.sampled_from(SYSTEM_FLAGS + (KEYWORD,)), min_size=1, max_size=3, unique=True),
          silent=st.booleans())
    def store(self, label, pick, mode, flags, silent):
        if KEYWORD in flags and not self.keywords:
            flags = [f for f in flags if f != KEYWORD] or ["\\Flagged"]
        self.run(self._store, label, pick, mode, tuple(flags), silent)

    @rule(label=sessions, pick=picks,
          items=st.sampled_from(["FLAGS", "UID FLAGS", "ENVELOPE", "RFC822.SIZE", "BODY.PEEK[]", "BODY[]",
                                 "FLAGS RFC822.SIZE ENVELOPE"]), by_uid=st.booleans())
    def fetch(self, label, pick, items, by_uid):
        self.run(self._fetch, label, pick, items, by_uid)

    @rule(label=sessions)
    def noop(self, label):
        self.run(self._noop_and_verify, label)

    keys = st.recursive(
        st.one_of(st.just(("ALL",)),
                  st.tuples(st.sampled_from(["FLAG", "UNFLAG"]), st.sampled_from(SYSTEM_FLAGS + (KEYWORD,))),
                  st.tuples(st.sampled_from(["SUBJECT", "BODY"]), st.sampled_from(WORDS)),
                  st.tuples(st.just("UIDFROM"), st.integers(min_value=0, max_value=7))),
        lambda inner: st.one_of(st.tuples(st.just("NOT"), inner), st.tuples(st.just("OR"), inner, inner)),
        max_leaves=3)

    @rule(label=sessions, key=keys, by_uid=st.booleans())
    def search(self, label, key, by_uid):
        self.run(self._search, label, key, by_uid)

    @rule(label=sessions)
    def expunge(self, label):
        self.run(self._expunge, label, False, 0)

    @precondition(lambda self: self.has_uidplus)
    @rule(label=sessions, pick=picks)
    def uid_expunge(self, label, pick):
        self.run(self._expunge, label, True, pick)

    @rule(label=sessions, pick=picks)
    def copy(self, label, pick):
        self.run(self._copy_out, label, pick, False)

    @precondition(lambda self: self.has_move)
    @rule(label=sessions, pick=picks)
    def move(self, label, pick):
        self.run(self._copy_out, label, pick, True)

    @rule(pick=picks, move=st.booleans())
    def copy_back(self, pick, move):
        self.run(self._copy_back, pick, move and self.has_move)

    @precondition(lambda self: self.has_idle)
    @rule(label=sessions, other=sessions, pick=picks)
    def idle(self, label, other, pick):
        if label != other:
            self.run(self._idle, label, other, pick)

    def teardown(self):
        driver = self.driver
        if self.ready and driver.active() and driver.broken is None:
            async def clean():
                view = self.views.get("a")
                if view is None or view.client.wire.closed:
                    return
                await view.client.command("UNSELECT" if "UNSELECT" in self.ctx.cap("imap").keywords else "CLOSE")
                for box in (self.main, self.dest):
                    await view.client.command(f"DELETE {astring(box.name)}")
            driver.guard(lambda: driver.call(clean()))
        driver.close_sessions()


@probe("imap.model.multi-session", kind=Kind.PROPERTY, level="MUST",
       rfc="rfc3501#2.3.1.1 rfc3501#2.3.1.2 rfc3501#5.2 rfc3501#6.4.3 rfc3501#6.4.4 rfc3501#6.4.5 rfc3501#6.4.6 "
           "rfc3501#7.4.1 rfc9051#2.3.1.1 rfc9051#7.5.1",
       requirement="Across random APPEND, STORE, FETCH, SEARCH, COPY, MOVE, EXPUNGE, NOOP and IDLE commands in two or "
                   "three sessions on one mailbox, every response fits a model of the mailbox: UIDs strictly "
                   "ascending and never reused, sequence numbers 1..n renumbered by each EXPUNGE, EXISTS never "
                   "shrinking, no EXPUNGE during FETCH, STORE or SEARCH, the same flags for every session after NOOP, "
                   "SEARCH results the model's, and message content, size and ENVELOPE never changing.",
       needs=["account"], tags=["model", "property", "multi-session"], timeout=600, exclusive=True)
async def multi_session_model(ctx):
    try:
        await check_machine(ctx, ImapMachine, steps=STEPS, min_examples=MIN_EXAMPLES, budget_s=480)
    finally:
        await scratch.cleanup(ctx)  # whatever an interrupted example left behind
