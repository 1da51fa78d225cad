"""Runs one scripted check: the file's prelude, then the check's steps, against live sessions.

Unmarked `S:`/`has:`/`lacks:`/`closed`/`silent` steps set the stage: when they miss, the check could not
get to its point and ends as `error`. Steps marked MUST/SHOULD/MAY are the requirement: a miss is a
violation. Every comment above a step goes into the transcript, so the evidence reads like the script.
"""
from __future__ import annotations

import contextlib

from ..context import CheckContext
from ..dialects import Unit, dialect_for
from ..wire.session import ReadTimeout
from .parser import ScriptCheck, ScriptFile, Step
from .pattern import UndefinedVariable, expand


class ScriptRun:
    def __init__(self, ctx: CheckContext, protocol: str) -> None:
        self.ctx = ctx
        self.dialect = dialect_for(protocol)
        self.clients: dict[str, object] = {}
        self.label = ""
        self.vars = dict(ctx.vars)
        self.last: Unit | None = None

    async def run(self, file: ScriptFile, check: ScriptCheck) -> None:
        # A dialect may wrap the whole check (POP3: the maildrop's lock) and add variables of its own.
        scope = getattr(self.dialect, "scope", None)
        async with (scope(self.ctx, check.header) if scope else contextlib.nullcontext({})) as extra:
            self.vars.update(extra)
            for step in file.prelude + check.steps:
                try:
                    await self.step(step)
                except UndefinedVariable as exc:
                    self.ctx.var(exc.name)  # skips with a hint when the target lacks the value
                    raise

    def judge(self, step: Step, ok: bool, observed: str) -> None:
        expected = {"expect": "S: ", "has": "has: ", "lacks": "lacks: "}.get(step.op, "") + step.arg
        if step.op == "closed":
            expected = "the server closes the connection"
        elif step.op == "silent":
            expected = f"nothing from the server for {step.seconds:g} s"
        text = f"line {step.line}: {expected}"
        if step.level is not None:
            self.ctx.expect(ok, text, expected, observed)
        else:
            self.ctx.setup(ok, text, expected, observed)

    async def client(self):
        if not self.label:
            await self.open("a")
        return self.clients[self.label]

    async def open(self, label: str) -> None:
        if label not in self.clients:
            self.clients[label] = await self.dialect.open(self.ctx, label)
        self.label = label

    async def step(self, step: Step) -> None:
        if step.op == "session":
            await self.open(step.arg)
            if step.comment:
                self.ctx.transcript.comment(self.label, step.comment)
            return
        client = await self.client()
        if step.comment:
            self.ctx.transcript.comment(self.label, step.comment)
        wire = self.dialect.wire(client)
        if step.op == "send":
            await self.dialect.send(client, expand(step.arg, self.vars) + b"\r\n")
        elif step.op == "send-raw":
            await self.dialect.send(client, expand(step.arg, self.vars))
        elif step.op == "expect":
            unit = await self.dialect.read_unit(client)
            self.last = unit
            captured = step.pattern.match(unit.head, self.vars)
            self.judge(step, captured is not None, unit.shown)
            self.vars.update(captured or {})
        elif step.op in ("has", "lacks"):
            hits = [(line, m) for line in self.last.body if (m := step.pattern.match(line, self.vars)) is not None]
            if step.op == "has":
                self.judge(step, bool(hits), self.last.shown)
                self.vars.update(hits[0][1] if hits else {})
            else:
                self.judge(step, not hits, self.last.shown)
        elif step.op == "closed":
            try:
                extra = await wire.wait_closed()
            except ReadTimeout:
                self.judge(step, False, "the connection stayed open")
                return
            self.judge(step, not extra, extra.decode("utf-8", "backslashreplace") or "closed")
        elif step.op == "silent":
            data = await wire.read_available(step.seconds)
            observed = data.decode("utf-8", "backslashreplace") or ("the server closed the connection"
                                                                    if wire.closed else "")
            self.judge(step, not observed, observed)
        elif step.op == "starttls":
            await self.dialect.starttls(client, self.ctx)
        elif step.op == "close":
            await wire.close()
        elif step.op == "set":
            name, _, value = step.arg.partition("=")
            self.vars[name.strip()] = expand(value.strip(), self.vars).decode("utf-8", "replace")
        else:  # the parser admits nothing else
            raise AssertionError(f"unhandled step {step.op}")
