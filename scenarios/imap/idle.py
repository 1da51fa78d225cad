"""Probes of IDLE (RFC 2177 section 3, RFC 9051 section 6.3.13): the server answers IDLE with a continuation
request, may then send untagged updates at any time, and answers DONE with the tagged completion at once."""
from __future__ import annotations

import asyncio
import time

from conformance.registry import probe
from conformance.wire.session import ReadTimeout

from .common import ACCOUNT, filled, session
from .messages import FULL, PLAIN

PUSH_WAIT = 5.0  # seconds to wait for an update pushed during IDLE


@probe("imap.idle.continuation", rfc="rfc2177#3 rfc9051#6.3.13", level="MUST",
       requirement="IDLE is answered with a continuation request, and DONE then with the tagged OK.",
       needs=ACCOUNT + ["IDLE"], tags=["idle", "extension"])
async def idle_continuation(ctx):
    async with filled(ctx, [PLAIN]) as f:
        started = await f.client.idle()
        ctx.expect(bool(started.continuations) and started.tagged is None, "IDLE gets a continuation request",
                   "+ idling", started.show())
        done = await f.client.done(started)
        ctx.expect(done.ok, "DONE is answered with the tagged OK to IDLE", "OK", done.show())


@probe("imap.idle.authenticated-state", rfc="rfc2177#4 rfc9051#6.3.13", level="MUST",
       requirement="IDLE is valid in the authenticated state too: without a selected mailbox it is also answered with "
                   "a continuation request.", needs=ACCOUNT + ["IDLE"], tags=["idle", "state", "extension"])
async def idle_authenticated(ctx):
    client = await session(ctx)
    started = await client.idle()
    ctx.expect(bool(started.continuations) and started.tagged is None, "IDLE gets a continuation request",
               "+ idling", started.show())
    done = await client.done(started)
    ctx.setup(done.ok, "DONE ends IDLE with OK", "OK", done.show())


@probe("imap.idle.exists-pushed", rfc="rfc2177#3 rfc2177#1 rfc9051#6.3.13", level="MAY",
       requirement="During IDLE a message appended by another session is announced with an untagged EXISTS without "
                   "the client sending anything (within 5 s).", needs=ACCOUNT + ["IDLE"],
       tags=["idle", "exists", "multi-session", "extension"], timeout=30)
async def exists_pushed(ctx):
    async with filled(ctx, [PLAIN]) as f:
        started = await f.client.idle()
        ctx.setup(bool(started.continuations), "IDLE gets a continuation request", "+ idling", started.show())
        other = await session(ctx, "b")
        appended = await other.append(f.name, FULL)
        ctx.setup(appended.ok, "session b appends a message", "OK", appended.show())
        pushed = []
        deadline = time.monotonic() + PUSH_WAIT
        while time.monotonic() < deadline and not any(r.name == "EXISTS" for r in pushed):
            try:
                pushed.append(await f.client.read_response(timeout=max(0.1, deadline - time.monotonic())))
            except ReadTimeout:
                break
        await asyncio.sleep(0)
        done = await f.client.done(started)
        ctx.setup(done.ok, "DONE ends IDLE with OK", "OK", done.show())
        exists = [r.number for r in pushed if r.name == "EXISTS"]
        ctx.expect(exists == [2], "* 2 EXISTS arrives during IDLE", "* 2 EXISTS (before DONE)",
                   "\n".join(r.line for r in pushed) or "(nothing before DONE)")


@probe("imap.idle.done-after-update", rfc="rfc2177#3 rfc9051#6.3.13", level="MUST",
       requirement="After updates arrived during IDLE, DONE is answered at once with the tagged OK, any remaining "
                   "untagged responses coming before it.", needs=ACCOUNT + ["IDLE"],
       tags=["idle", "multi-session", "extension"])
async def done_after_update(ctx):
    async with filled(ctx, [PLAIN]) as f:
        started = await f.client.idle()
        ctx.setup(bool(started.continuations), "IDLE gets a continuation request", "+ idling", started.show())
        other = await session(ctx, "b", select=f.name)
        stored = await other.command("STORE 1 +FLAGS (\\Flagged)")
        ctx.setup(stored.ok, "session b changes a flag", "OK", stored.show())
        done = await f.client.done(started)
        ctx.expect(done.ok, "DONE is answered with the tagged OK", "OK", done.show())
