"""A model of article numbering and navigation in one newsgroup, and a hypothesis state machine that holds a
server to it across two sessions.

The model knows every article of the scratch group it has seen: its number and, once learnt, its message-id.
Two sessions (a, b) each keep a selected group (or none), a current article number (or none), and the high
water mark their last GROUP reported. Hypothesis drives them through POST, GROUP, NEXT, LAST, STAT (current,
by number, by message-id), ARTICLE by number and by message-id, and reconnects; every response is checked
against RFC 3977:

    numbering    a posted article gets a number above every number the group ever had: numbers strictly
                 increase and are never reused (6); GROUP's high water mark is the highest article (6.1.1.2),
                 seen by the other session too once it selects the group again
    pointer      GROUP makes the first article current (6.1.1.2); NEXT and LAST move to the nearest existing
                 article above or below and never skip one (6.1.3, 6.1.4); 421/422 at the ends, 420 without a
                 current article, 412 without a group, and a failure leaves the pointer alone; STAT and
                 ARTICLE by number make that article current (6.2.1.2); by message-id they move nothing
    identity     a message-id names the same article as its number: 0 or that number in the response, the same
                 Message-ID header in the article (6.2.1.2, 6.2.4.3); an unknown message-id is 430

Articles posted by the other session after a session's GROUP may or may not be visible to it before its next
GROUP (6.1.3.2: results of NEXT and LAST may be inconsistent while articles are added); the model allows both,
but never a skipped article; such an article may also be refused as the current one (420) until that GROUP.
Posting is asynchronous on some servers (INN files articles through innd): after
240 the machine waits, bounded, until the article can be read; that wait is setup, never a verdict.

Replays. A real server keeps its articles from one example to the next (nothing can be deleted), while
hypothesis replays a failing example to shrink it and expects the same outcome. So every example starts from
the same shape and the model takes everything from what it observes in that example: it lists the group at
the start (LISTGROUP: the numbers and the high water mark), posts an anchor article first if the group is
empty, and only ever picks among the anchor (the newest article at the start) and the articles this example
posted, each with a fresh message-id. The strategies draw plain integers and session labels, never values
that depend on the server, and every counter a precondition reads is kept by the rules themselves.
"""
from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance.dialects.nntp import (
    NntpClient,
    Response,
    article,
    article_ref,
    group_info,
    header,
    split_article,
)
from conformance.model import Kind
from conformance.property import Driver, check_machine
from conformance.registry import probe
from conformance.wire.session import Session, WireError

SESSIONS = ("a", "b")
POSTS_PER_EXAMPLE = 4
STEPS = 20
VISIBLE_WAIT = 5.0


@dataclass
class View:
    label: str
    client: NntpClient
    selected: bool = False
    current: int | None = None
    seen_high: int = 0  # the high water mark this session's last GROUP reported


class NntpMachine(RuleBasedStateMachine):
    def __init__(self, driver: Driver) -> None:
        super().__init__()
        self.driver = driver
        driver.new_example()
        self.ctx = driver.ctx
        groups = self.ctx.target.nntp_groups
        self.group = groups[1] if len(groups) > 1 else groups[0]
        self.numbers: list[int] = []  # existing articles of the group, ascending
        self.mids: dict[int, str] = {}  # number -> message-id, where known
        self.ever_high = 0  # the highest number the group ever had
        self.window: list[int] = []  # the anchor, then the articles this example posted: what the picks choose from
        self.views: dict[str, View] = {}
        self.posts = 0
        self.counter = itertools.count(1)
        self.ready = False
        if driver.active():
            driver.guard(lambda: driver.call(self._prepare()))

    # --- wiring ------------------------------------------------------------------------------------------------

    def fail(self, message: str, expected: str, response: Response | str) -> None:
        self.driver.violate(message, expected, response.show() if isinstance(response, Response) else response)

    def _setup(self, ok: bool, what: str, observed: Response | str) -> None:
        if not ok:
            shown = observed.head if isinstance(observed, Response) else observed
            raise WireError(f"{what} failed: {shown or '(nothing)'}")

    async def _connect(self, label: str) -> View:
        ctx, ep, opts = self.ctx, self.ctx.endpoint("nntp"), self.ctx.options
        wire = await Session.open(ep.host, ep.port, transcript=self.driver.transcript, label=label,
                                  tls=ctx.tls_context() if ep.implicit_tls else None,
                                  connect_timeout=opts.connect_timeout, read_timeout=opts.read_timeout)
        self.driver.sessions.append(wire)
        client = NntpClient(wire)
        greeting = await client.read_greeting()
        self._setup(greeting.code in (200, 201), f"session {label}: the greeting", greeting)
        if ep.starttls_required and not wire.tls:
            self._setup((await client.starttls(ctx.tls_context())).code == 382, f"session {label}: STARTTLS", "")
        if "MODE-READER" in ctx.cap("nntp").keywords:
            self._setup((await client.mode_reader()).code in (200, 201), f"session {label}: MODE READER", "")
        view = View(label, client)
        self.views[label] = view
        return view

    async def _view(self, label: str) -> View:
        view = self.views.get(label)
        return view if view is not None and not view.client.wire.closed else await self._connect(label)

    async def _prepare(self) -> None:
        """Learn the group as it is (LISTGROUP: its article numbers and high water mark) and its newest article,
        the anchor; an empty group gets an anchor posted first, so every example starts from the same shape."""
        view = await self._connect("a")
        info = await self._listgroup(view)
        if not self.numbers:  # the very first example: give it an anchor, as every later example finds one
            data, mid = article(newsgroups=self.group, token=self.ctx.token, subject="model anchor",
                                body="the article every example of the model starts from\r\n")
            first, final = await view.client.post(data)
            self._setup(final is not None and final.code == 240, f"POST of the anchor article {mid}", final or first)
            await self._readable(view, mid)
            info = await self._listgroup(view)
            self._setup(bool(self.numbers), f"the anchor article {mid} listed by LISTGROUP", "")
        self.ever_high = max([info.high] + self.numbers)
        anchor = self.numbers[-1]
        stat = await view.client.cmd(f"STAT {anchor}")
        ref = article_ref(stat)
        self._setup(ref is not None and ref[0] == anchor, f"STAT {anchor} (the newest article)", stat)
        self.mids[anchor] = ref[1]
        self.window = [anchor]
        view.selected, view.current, view.seen_high = True, anchor, info.high
        note(f"a: LISTGROUP {self.group} -> {len(self.numbers)} articles up to {info.high}; anchor {anchor} {ref[1]}")
        self.ready = True

    async def _listgroup(self, view: View):
        reply = await view.client.cmd(f"LISTGROUP {self.group}")
        info = group_info(reply)
        self._setup(info is not None, f"LISTGROUP {self.group}", reply)
        self.numbers = sorted(int(x) for x in (line.strip() for line in reply.lines) if x.isdigit())
        return info

    async def _readable(self, view: View, mid: str) -> Response:
        """Setup, never a verdict: wait (bounded) until an accepted article can be read."""
        deadline = time.monotonic() + VISIBLE_WAIT
        while (stat := await view.client.cmd(f"STAT {mid}")).code != 223 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self._setup(stat.code == 223, f"the posted article {mid} becoming readable within {VISIBLE_WAIT:g} s", stat)
        return stat

    def run(self, coro_fn, *args) -> None:
        if not self.driver.active() or not self.ready:
            return
        self.driver.guard(lambda: self.driver.call(coro_fn(*args)))

    async def _cmd(self, view: View, line: str) -> Response:
        reply = await view.client.cmd(line)
        self.driver.commands += 1
        note(f"{view.label}: {line} -> {reply}")
        return reply

    def visible_to(self, view: View, n: int) -> bool | None:
        """True if the session must see article n, None if it may or may not (posted after its GROUP)."""
        return True if n <= view.seen_high else None

    def learn(self, n: int, mid: str, reply: Response) -> None:
        known = self.mids.get(n)
        if known is not None and known != mid:
            self.fail(f"article {n} has message-id {mid}, but earlier it had {known}", known, reply)
        for other, m in self.mids.items():
            if m == mid and other != n:
                self.fail(f"message-id {mid} names article {n}, but earlier it named {other}", str(other), reply)
        self.mids[n] = mid

    # --- steps ---------------------------------------------------------------------------------------------------

    async def _post(self, label: str) -> None:
        view = await self._view(label)
        data, mid = article(newsgroups=self.group, token=self.ctx.token, subject=f"model {next(self.counter)}",
                            body=f"model article in example {self.driver.examples}\r\n")
        first, final = await view.client.post(data)
        self.driver.commands += 1
        note(f"{label}: POST {mid} -> {first} / {final}")
        if first.code != 340 or final is None or final.code != 240:
            self.fail("POST of a well-formed article to the scratch group is refused", "340 then 240", final or first)
        # Setup, never a verdict: wait until the article can be read, then learn its number from Xref.
        await self._readable(view, mid)
        head = await view.client.cmd(f"HEAD {mid}")
        self._setup(head.code == 221, f"HEAD {mid}", head)
        number = xref_number(head.lines, self.group)
        if number is None:
            number = await self._find(view, mid)
        note(f"{label}: {mid} is article {number} of {self.group}")
        if number <= self.ever_high:
            self.fail(f"the new article got number {number}, not above the highest the group had ({self.ever_high}): "
                      "numbers must strictly increase and never be reused", f"> {self.ever_high}", head)
        self.numbers.append(number)
        self.window.append(number)
        self.ever_high = number
        self.mids[number] = mid

    async def _find(self, view: View, mid: str) -> int:
        """The number of `mid` when the server writes no Xref: among the numbers above the last known high. The
        LISTGROUP and STATs move this session's pointer; the model follows."""
        listed = await view.client.cmd(f"LISTGROUP {self.group} {self.ever_high + 1}-")
        info = group_info(listed)
        self._setup(info is not None, f"LISTGROUP {self.group}", listed)
        view.selected, view.seen_high = True, info.high
        for x in (line.strip() for line in listed.lines):
            ref = article_ref(await view.client.cmd(f"STAT {x}")) if x.isdigit() else None
            if ref and ref[1] == mid:
                view.current = ref[0]
                return ref[0]
        self._setup(False, f"finding {mid} in {self.group}", listed)
        raise AssertionError("unreachable")

    async def _group(self, label: str) -> None:
        view = await self._view(label)
        reply = await self._cmd(view, f"GROUP {self.group}")
        info = group_info(reply)
        if info is None or info.name != self.group:
            self.fail(f"GROUP {self.group} is answered 211 count low high group", f"211 n low high {self.group}", reply)
        want_high = self.numbers[-1] if self.numbers else None
        if want_high is not None and (info.high != want_high or info.low != self.numbers[0]):
            self.fail(f"GROUP reports low {info.low} and high {info.high}, but the group's articles run from "
                      f"{self.numbers[0]} to {want_high}", f"211 {len(self.numbers)} {self.numbers[0]} {want_high}",
                      reply)
        if self.numbers and not (len(self.numbers) <= info.count <= info.high - info.low + 1):
            self.fail(f"GROUP's count {info.count} is not between {len(self.numbers)} and high - low + 1",
                      f"{len(self.numbers)}..{info.high - info.low + 1}", reply)
        view.selected, view.seen_high = True, info.high
        view.current = self.numbers[0] if self.numbers else None

    async def _move(self, label: str, verb: str) -> None:
        view = await self._view(label)
        reply = await self._cmd(view, verb)
        if not view.selected:
            return self._expect_code(reply, 412, f"{verb} without a selected group")
        if view.current is None:
            return self._expect_code(reply, 420, f"{verb} without a current article")
        if verb == "NEXT":
            candidates = [n for n in self.numbers if n > view.current]
            end = 421
        else:
            candidates = [n for n in self.numbers if n < view.current][::-1]
            end = 422
        must = [n for n in candidates if self.visible_to(view, n)]
        want = candidates[0] if candidates else None
        ref = article_ref(reply)
        if reply.code == 420 and view.current > view.seen_high:
            return  # its current article arrived after its GROUP: the server may not count it yet (6.1.3.2)
        if reply.code == end:
            if must and must[0] == want:
                self.fail(f"{verb} from {view.current} is answered {end}, but article {want} exists",
                          f"223 {want} <...>", reply)
            return  # the pointer stays
        if reply.code != 223 or ref is None:
            self.fail(f"{verb} is answered 223 n message-id or {end}", f"223 {want} <...>", reply)
        n, mid = ref
        if n != want:
            nearest = f"the nearest existing article is {want}" if want is not None else \
                f"no article lies {'above' if verb == 'NEXT' else 'below'} it, so {end} was due"
            self.fail(f"{verb} from {view.current} went to {n}; {nearest}",
                      f"223 {want} <...>" if want is not None else str(end), reply)
        self.learn(n, mid, reply)
        view.current = n

    def _expect_code(self, reply: Response, code: int, what: str) -> None:
        if reply.code != code:
            self.fail(f"{what} is answered {code}", str(code), reply)

    async def _stat_number(self, label: str, pick: int, verb: str) -> None:
        view = await self._view(label)
        n = self.pick_number(pick)
        reply = await self._cmd(view, f"{verb} {n}")
        if not view.selected:
            return self._expect_code(reply, 412, f"{verb} {n} without a selected group")
        exists = n in self.numbers
        code = 223 if verb == "STAT" else 220
        if not exists:
            return self._expect_code(reply, 423, f"{verb} {n} (no such article)")
        if reply.code == 423 and self.visible_to(view, n) is None:
            return  # posted after this session's GROUP; it may not see it yet
        ref = article_ref(reply)
        if reply.code != code or ref is None or ref[0] != n:
            self.fail(f"{verb} {n} is answered {code} {n} message-id", f"{code} {n} <...>", reply)
        self.learn(n, ref[1], reply)
        if verb == "ARTICLE":
            self._same_article(ref[1], reply)
        view.current = n

    async def _stat_current(self, label: str) -> None:
        view = await self._view(label)
        reply = await self._cmd(view, "STAT")
        if not view.selected:
            return self._expect_code(reply, 412, "STAT without a selected group")
        if view.current is None:
            return self._expect_code(reply, 420, "STAT without a current article")
        if reply.code == 420 and view.current > view.seen_high:
            return  # the current article arrived after this session's GROUP (6.1.3.2)
        ref = article_ref(reply)
        if reply.code != 223 or ref is None or ref[0] != view.current:
            self.fail(f"STAT names the current article {view.current}", f"223 {view.current} <...>", reply)
        self.learn(ref[0], ref[1], reply)

    async def _by_message_id(self, label: str, pick: int, verb: str) -> None:
        view = await self._view(label)
        known = [(n, self.mids[n]) for n in self.window]
        if known and pick % 5:
            number, mid = known[pick % len(known)]
        else:
            number, mid = None, f"<model-missing.{pick}.{self.ctx.token}@wireproof.invalid>"
        reply = await self._cmd(view, f"{verb} {mid}")
        if number is None:
            return self._expect_code(reply, 430, f"{verb} of an unknown message-id")
        code = 223 if verb == "STAT" else 220
        ref = article_ref(reply)
        if reply.code != code or ref is None or ref[1] != mid or ref[0] not in (0, number):
            self.fail(f"{verb} {mid} is answered {code} with 0 or {number} (its number in the selected group)",
                      f"{code} 0|{number} {mid}", reply)
        if ref[0] == number and not view.selected:
            self.fail(f"{verb} {mid} names number {number} though no group is selected: it must be 0", "0", reply)
        if verb == "ARTICLE":
            self._same_article(mid, reply)
        # The pointer does not move: nothing to update.

    def _same_article(self, mid: str, reply: Response) -> None:
        got = header(split_article(reply.content)[0], "Message-ID")
        if got != mid:
            self.fail(f"the article served for {mid} carries Message-ID {got}", mid, reply)

    def pick_number(self, pick: int) -> int:
        """The anchor or an article of this example (the same choice on every replay), or one never posted."""
        if pick % 6 == 0:
            return self.ever_high + 1000 + pick  # no such article
        return self.window[pick % len(self.window)]

    async def _reconnect(self, label: str) -> None:
        view = self.views.pop(label, None)
        if view is not None:
            await view.client.quit()
            await view.client.wire.close()
            note(f"{label}: reconnect")
        await self._connect(label)

    # --- rules -------------------------------------------------------------------------------------------------

    labels = st.sampled_from(SESSIONS)
    picks = st.integers(min_value=0, max_value=40)

    @precondition(lambda self: self.posts < POSTS_PER_EXAMPLE)
    @rule(label=labels)
    def post(self, label):
        # Counted here, not in the step: the precondition must see the same count on every replay, also when
        # the budget is spent and steps no longer talk to the server (else hypothesis draws differently).
        self.posts += 1
        self.run(self._post, label)

    @rule(label=labels)
    def group(self, label):
        self.run(self._group, label)

    @rule(label=labels)
    def next(self, label):
        self.run(self._move, label, "NEXT")

    @rule(label=labels)
    def last(self, label):
        self.run(self._move, label, "LAST")

    @rule(label=labels, pick=picks, verb=st.sampled_from(["STAT", "ARTICLE"]))
    def by_number(self, label, pick, verb):
        self.run(self._stat_number, label, pick, verb)

    @rule(label=labels)
    def stat_current(self, label):
        self.run(self._stat_current, label)

    @rule(label=labels, pick=picks, verb=st.sampled_from(["STAT", "ARTICLE"]))
    def by_message_id(self, label, pick, verb):
        self.run(self._by_message_id, label, pick, verb)

    @rule(label=labels)
    def reconnect(self, label):
        self.run(self._reconnect, label)

    def teardown(self):
        self.driver.close_sessions()


def xref_number(lines: list[str], group: str) -> int | None:
    for line in lines:
        if line.lower().startswith("xref:"):
            for entry in line.split()[2:]:
                name, _, num = entry.rpartition(":")
                if name == group and num.isdigit():
                    return int(num)
    return None


@probe("nntp.model.numbering", kind=Kind.PROPERTY, level="MUST",
       rfc="rfc3977#6 rfc3977#6.1.1.2 rfc3977#6.1.3.2 rfc3977#6.1.4.2 rfc3977#6.2.1.2 rfc3977#6.2.4.3",
       requirement="Across random POST, GROUP, NEXT, LAST, STAT and ARTICLE (by number and by message-id) commands in "
                   "two sessions, every response fits a model of the group: article numbers strictly increase and are "
                   "never reused, GROUP's high water mark is the last article, NEXT and LAST move to the nearest "
                   "article and never skip one, failures leave the pointer alone, access by message-id moves nothing "
                   "and names the same article as its number.",
       needs=["READER", "POST", "post-groups"], tags=["model", "property", "multi-session", "post"], timeout=300,
       exclusive=True)
async def numbering_model(ctx):
    await check_machine(ctx, NntpMachine, steps=STEPS, budget_s=min(ctx.options.property_budget_s, 120))
