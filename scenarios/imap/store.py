"""Probes of STORE (RFC 3501 section 6.4.6 and 2.3.2, RFC 9051 sections 6.4.6 and 2.3.2).

FLAGS replaces a message's flags, +FLAGS adds, -FLAGS removes; each returns the new value in an untagged FETCH
unless .SILENT is given. Permanent flags are seen by every session, now and later.
"""
from __future__ import annotations

from conformance.registry import probe

from .common import ACCOUNT, command_ok, filled, flags_of, lower, session
from .messages import FULL, PLAIN


async def store(ctx, client, line: str):
    completion = await command_ok(ctx, client, f"STORE {line}")
    fetched = {r.number: lower(r.fetch().get("FLAGS")) for r in completion.data("FETCH") if "FLAGS" in r.fetch()}
    return completion, fetched


@probe("imap.store.replace", rfc="rfc3501#6.4.6 rfc9051#6.4.6", level="MUST",
       requirement="STORE FLAGS replaces the message's flags and returns the new value in an untagged FETCH.",
       needs=ACCOUNT, tags=["store", "flags"])
async def store_replace(ctx):
    async with filled(ctx, [PLAIN], flags=["\\Seen \\Answered"]) as f:
        completion, fetched = await store(ctx, f.client, "1 FLAGS (\\Flagged)")
        ctx.expect(fetched.get(1, set()) - {"\\recent"} == {"\\flagged"}, "FLAGS is now just \\Flagged",
                   "* 1 FETCH (FLAGS (\\Flagged))", completion.show())


@probe("imap.store.add", rfc="rfc3501#6.4.6 rfc9051#6.4.6", level="MUST",
       requirement="STORE +FLAGS adds to the message's flags and returns the new value in an untagged FETCH.",
       needs=ACCOUNT, tags=["store", "flags"])
async def store_add(ctx):
    async with filled(ctx, [PLAIN], flags=["\\Seen"]) as f:
        completion, fetched = await store(ctx, f.client, "1 +FLAGS (\\Flagged \\Draft)")
        ctx.expect(fetched.get(1, set()) - {"\\recent"} == {"\\seen", "\\flagged", "\\draft"},
                   "\\Seen is kept and \\Flagged \\Draft are added", "* 1 FETCH (FLAGS (\\Seen \\Flagged \\Draft))",
                   completion.show())


@probe("imap.store.remove", rfc="rfc3501#6.4.6 rfc9051#6.4.6", level="MUST",
       requirement="STORE -FLAGS removes from the message's flags and returns the new value in an untagged FETCH.",
       needs=ACCOUNT, tags=["store", "flags"])
async def store_remove(ctx):
    async with filled(ctx, [PLAIN], flags=["\\Seen \\Flagged"]) as f:
        completion, fetched = await store(ctx, f.client, "1 -FLAGS (\\Flagged)")
        ctx.expect(fetched.get(1, set()) - {"\\recent"} == {"\\seen"}, "only \\Seen is left",
                   "* 1 FETCH (FLAGS (\\Seen))", completion.show())


@probe("imap.store.silent", rfc="rfc3501#6.4.6 rfc9051#6.4.6", level="MUST",
       requirement="STORE +FLAGS.SILENT changes the flags without an untagged FETCH for that message.",
       needs=ACCOUNT, tags=["store", "flags"])
async def store_silent(ctx):
    async with filled(ctx, [PLAIN, FULL]) as f:
        completion = await command_ok(ctx, f.client, "STORE 1:2 +FLAGS.SILENT (\\Flagged)")
        flags = await flags_of(ctx, f.client, 2)
        ctx.expect(not completion.data("FETCH") and "\\flagged" in flags, "no FETCH response, and the flag is set",
                   "OK without * n FETCH", completion.show())


@probe("imap.store.keyword", rfc="rfc3501#2.3.2 rfc3501#7.1 rfc9051#2.3.2", level="MUST",
       requirement="When PERMANENTFLAGS includes \\*, STORE of a new keyword sets it on the message.", needs=ACCOUNT,
       tags=["store", "flags", "keyword"])
async def store_keyword(ctx):
    async with filled(ctx, [PLAIN]) as f:
        ctx.require("\\*" in (f.info.permanentflags or []), "PERMANENTFLAGS does not include \\* (no new keywords)")
        completion, fetched = await store(ctx, f.client, "1 +FLAGS (WireproofKeyword)")
        ctx.expect("wireproofkeyword" in fetched.get(1, set()), "the keyword is among the flags",
                   "* 1 FETCH (FLAGS (WireproofKeyword))", completion.show())


@probe("imap.store.recent-refused", rfc="rfc3501#2.3.2 rfc3501#9 rfc3501#2.2.2", level="SHOULD",
       requirement="\\Recent cannot be stored: STORE +FLAGS (\\Recent) is a syntax error, answered BAD.",
       needs=ACCOUNT + ["IMAP4REV1"], tags=["store", "flags", "recent", "errors"])
async def store_recent(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion = await f.client.command("STORE 1 +FLAGS (\\Recent)")
        ctx.expect(completion.status == "BAD", "STORE of \\Recent is answered BAD", "BAD", completion.show())


@probe("imap.store.seen-by-other-session", rfc="rfc3501#5.2 rfc3501#7 rfc9051#5.2", level="SHOULD",
       requirement="A flag change made by another session is sent unasked as an untagged FETCH with the new flags, "
                   "at the latest at NOOP.", needs=ACCOUNT, tags=["store", "flags", "multi-session"])
async def seen_by_other_session(ctx):
    async with filled(ctx, [PLAIN, FULL]) as f:
        other = await session(ctx, "b", select=f.name)
        await command_ok(ctx, other, "STORE 2 +FLAGS.SILENT (\\Flagged)", "session b's STORE")
        completion = await command_ok(ctx, f.client, "NOOP")
        fetched = {r.number: lower(r.fetch().get("FLAGS")) for r in completion.data("FETCH")}
        ctx.expect("\\flagged" in fetched.get(2, set()), "NOOP reports message 2's new flags",
                   "* 2 FETCH (FLAGS (\\Flagged ...))", completion.show())


@probe("imap.store.permanent", rfc="rfc3501#2.3.2 rfc9051#2.3.2", level="MUST",
       requirement="A permanent flag stored in one session is seen by a later session.", needs=ACCOUNT,
       tags=["store", "flags"])
async def store_permanent(ctx):
    async with filled(ctx, [PLAIN]) as f:
        ctx.require("\\flagged" in lower(f.info.permanentflags), "\\Flagged is not a permanent flag here")
        await command_ok(ctx, f.client, "STORE 1 +FLAGS.SILENT (\\Flagged)")
        await command_ok(ctx, f.client, "LOGOUT")
        other = await session(ctx, "b", select=f.name)
        flags = await flags_of(ctx, other, 1)
        ctx.expect("\\flagged" in flags, "a new session sees \\Flagged", "FLAGS (\\Flagged)",
                   " ".join(sorted(flags)) or "()")
