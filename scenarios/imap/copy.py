"""Probes of COPY and MOVE (RFC 3501 section 6.4.7, RFC 9051 sections 6.4.7 and 6.4.8, RFC 6851) and of the
UIDPLUS response codes APPENDUID and COPYUID (RFC 4315 section 3).

Every probe copies between two scratch mailboxes of its own: the source is selected, the destination is the
check's second scratch name.
"""
from __future__ import annotations

import contextlib

from conformance import scratch
from conformance.dialects.imap import astring, sequence_set
from conformance.registry import probe

from .common import ACCOUNT, command_ok, fetch, filled, lower, session, status, uid_map
from .messages import FULL, MULTI, PLAIN

THREE = [PLAIN, FULL, MULTI]


@contextlib.asynccontextmanager
async def source_and_destination(ctx, flags=None, dates=None):
    async with filled(ctx, THREE, flags=flags, dates=dates) as f:
        dest = scratch.name(ctx, "dest")
        try:
            await command_ok(ctx, f.client, f"CREATE {astring(dest)}", "CREATE of the destination")
            yield f, dest
        finally:
            await scratch.cleanup(ctx, dest)


async def destination(ctx, dest: str, what: str = "1:* (FLAGS INTERNALDATE BODY.PEEK[] UID)"):
    other = await session(ctx, "dest", select=dest)
    return await fetch(ctx, other, what)


def uid_set(text: str) -> list[int]:
    """A uid-set ("4:6,9") as a list of UIDs in its order; ranges may run either way."""
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        a, b = int(lo), int(hi or lo)
        out += list(range(a, b + 1)) if a <= b else list(range(a, b - 1, -1))
    return out


@probe("imap.copy.copies", rfc="rfc3501#6.4.7 rfc9051#6.4.7", level="MUST",
       requirement="COPY appends the messages to the destination mailbox, content unchanged and in the same order, "
                   "and leaves the source as it was.", needs=ACCOUNT, tags=["copy"])
async def copy_copies(ctx):
    async with source_and_destination(ctx) as (f, dest):
        completion = await f.client.command(f"COPY 1:3 {astring(dest)}")
        ctx.expect(completion.ok, "COPY is answered OK", "OK", completion.show())
        shown, items = await destination(ctx, dest)
        bodies = [items.get(n, {}).get("BODY[]") for n in (1, 2, 3)]
        left = (await uid_map(ctx, f.client))
        ctx.expect(bodies == THREE and len(left) == 3, "the destination holds the three messages in order; the source "
                   "still holds three", "3 messages, same octets", shown.show())


@probe("imap.copy.flags-preserved", rfc="rfc3501#6.4.7 rfc9051#6.4.7", level="SHOULD",
       requirement="COPY preserves the messages' flags in the copies.", needs=ACCOUNT, tags=["copy", "flags"])
async def copy_flags(ctx):
    async with source_and_destination(ctx, flags=["\\Flagged \\Seen", "\\Answered", None]) as (f, dest):
        await command_ok(ctx, f.client, f"COPY 1:3 {astring(dest)}")
        shown, items = await destination(ctx, dest)
        got = [lower(items.get(n, {}).get("FLAGS")) - {"\\recent"} for n in (1, 2, 3)]
        ctx.expect(got == [{"\\flagged", "\\seen"}, {"\\answered"}, set()], "each copy has its original's flags",
                   "(\\Flagged \\Seen) (\\Answered) ()", shown.show())


@probe("imap.copy.internaldate-preserved", rfc="rfc3501#6.4.7 rfc3501#2.3.3 rfc9051#6.4.7", level="SHOULD",
       requirement="COPY preserves the messages' internal dates.", needs=ACCOUNT, tags=["copy", "date"])
async def copy_internaldate(ctx):
    dates = ["01-Feb-2001 10:00:00 +0000", "02-Feb-2001 11:00:00 +0000", "03-Feb-2001 12:00:00 +0000"]
    async with source_and_destination(ctx, dates=dates) as (f, dest):
        _, source = await fetch(ctx, f.client, "1:3 (INTERNALDATE)")
        await command_ok(ctx, f.client, f"COPY 1:3 {astring(dest)}")
        shown, items = await destination(ctx, dest)
        ctx.expect([items.get(n, {}).get("INTERNALDATE") for n in (1, 2, 3)] ==
                   [source.get(n, {}).get("INTERNALDATE") for n in (1, 2, 3)], "each copy has its original's date",
                   "the source's INTERNALDATEs", shown.show())


@probe("imap.copy.trycreate", rfc="rfc3501#6.4.7 rfc9051#6.4.7", level="MUST",
       requirement="COPY to a mailbox that does not exist is answered NO with the [TRYCREATE] response code, and the "
                   "mailbox is not created.", needs=ACCOUNT, tags=["copy", "errors"])
async def copy_trycreate(ctx):
    async with filled(ctx, [PLAIN]) as f:
        missing = scratch.name(ctx, "missing")
        completion = await f.client.command(f"COPY 1 {astring(missing)}")
        listed = await f.client.command(f'LIST "" {astring(missing)}')
        ctx.expect(completion.status == "NO" and completion.code == "TRYCREATE" and not listed.data("LIST"),
                   "NO [TRYCREATE], and the name still does not exist", "NO [TRYCREATE] ...", completion.show())


@probe("imap.uidplus.copyuid", rfc="rfc4315#3 rfc9051#7.1", level="SHOULD",
       requirement="With UIDPLUS, the OK to COPY carries [COPYUID uidvalidity source-uids destination-uids] naming the "
                   "copied messages' UIDs and the UIDs of the copies.", needs=ACCOUNT + ["UIDPLUS"],
       tags=["uidplus", "copy", "extension"])
async def copyuid(ctx):
    async with source_and_destination(ctx) as (f, dest):
        source = await uid_map(ctx, f.client)
        completion = await command_ok(ctx, f.client, f"COPY 2:3 {astring(dest)}")
        codes = completion.codes("COPYUID")
        shown, items = await destination(ctx, dest, "1:* (UID)")
        validity = (await status(ctx, f.client, dest, "UIDVALIDITY")).get("UIDVALIDITY")
        vals = [str(v) for v in codes[0].code_values()] if codes else []
        ok = (len(vals) == 3 and vals[0] == str(validity) and uid_set(vals[1]) == [source[2], source[3]]
              and uid_set(vals[2]) == [int(items[n]["UID"]) for n in (1, 2)])
        ctx.expect(ok, "COPYUID names the source UIDs and the copies' UIDs, in the same order",
                   f"[COPYUID {validity} {sequence_set([source[2], source[3]])} ...]", completion.show())


@probe("imap.uidplus.appenduid", rfc="rfc4315#3 rfc9051#7.1", level="SHOULD",
       requirement="With UIDPLUS, the OK to APPEND carries [APPENDUID uidvalidity uid] with the destination's "
                   "UIDVALIDITY and the new message's UID.", needs=ACCOUNT + ["UIDPLUS"],
       tags=["uidplus", "append", "extension"])
async def appenduid(ctx):
    async with filled(ctx, [PLAIN], select=False) as f:
        completion = await f.client.append(f.name, FULL)
        ctx.setup(completion.ok, "APPEND is answered OK", "OK", completion.show())
        vals = [str(v) for v in completion.tagged.code_values()] if completion.code == "APPENDUID" else []
        selected, info = await f.client.select(f.name)
        uids = await uid_map(ctx, f.client)
        ctx.expect(len(vals) == 2 and vals[0] == str(info.uidvalidity) and vals[1] == str(uids.get(2)),
                   "APPENDUID gives the UIDVALIDITY and the UID of message 2", f"[APPENDUID {info.uidvalidity} "
                   f"{uids.get(2)}]", completion.show())


@probe("imap.move.moves", rfc="rfc6851#3.3 rfc9051#6.4.8", level="MUST",
       requirement="MOVE puts the messages into the destination (content unchanged) and removes them from the source, "
                   "reporting the removal with EXPUNGE (or VANISHED) responses.", needs=ACCOUNT + ["MOVE"],
       tags=["move", "extension"])
async def move_moves(ctx):
    async with source_and_destination(ctx) as (f, dest):
        completion = await f.client.command(f"MOVE 1:2 {astring(dest)}")
        ctx.setup(completion.ok, "MOVE is answered OK", "OK", completion.show())
        left = await uid_map(ctx, f.client)
        shown, items = await destination(ctx, dest)
        ok = (len(completion.data("EXPUNGE")) == 2 and len(left) == 1
              and [items.get(n, {}).get("BODY[]") for n in (1, 2)] == THREE[:2])
        ctx.expect(ok, "two EXPUNGE responses, one message left, two in the destination", "* 1 EXPUNGE x2",
                   f"{completion.show()}\n{shown.show()}")


@probe("imap.move.copyuid-before-expunge", rfc="rfc6851#4.3 rfc9051#6.4.8", level="SHOULD",
       requirement="With UIDPLUS, MOVE sends COPYUID in an untagged OK before the EXPUNGE responses.",
       needs=ACCOUNT + ["MOVE", "UIDPLUS"], tags=["move", "uidplus", "extension"])
async def move_copyuid(ctx):
    async with source_and_destination(ctx) as (f, dest):
        completion = await command_ok(ctx, f.client, f"MOVE 1 {astring(dest)}")
        order = [r.name if r.code != "COPYUID" else "COPYUID" for r in completion.order]
        ok = ("COPYUID" in order and "EXPUNGE" in order and order.index("COPYUID") < order.index("EXPUNGE")
              and any(r.kind == "untagged" for r in completion.codes("COPYUID")))
        ctx.expect(ok, "* OK [COPYUID ...] comes before * n EXPUNGE", "* OK [COPYUID ...] then * 1 EXPUNGE",
                   completion.show())


@probe("imap.move.no-deleted-flag", rfc="rfc6851#3.3 rfc9051#6.4.8", level="MUST",
       requirement="MOVE does not set \\Deleted on any message: the moved message arrives without it.",
       needs=ACCOUNT + ["MOVE"], tags=["move", "flags", "extension"])
async def move_no_deleted(ctx):
    async with source_and_destination(ctx, flags=["\\Seen", None, None]) as (f, dest):
        await command_ok(ctx, f.client, f"MOVE 1 {astring(dest)}")
        shown, items = await destination(ctx, dest, "1 (FLAGS)")
        flags = lower(items.get(1, {}).get("FLAGS"))
        ctx.expect("\\deleted" not in flags and "\\seen" in flags, "the moved message is \\Seen and not \\Deleted",
                   "FLAGS (\\Seen)", shown.show())


@probe("imap.move.trycreate", rfc="rfc6851#3.3 rfc9051#6.4.8", level="MUST",
       requirement="MOVE to a mailbox that does not exist is answered NO [TRYCREATE] and leaves the source as it was.",
       needs=ACCOUNT + ["MOVE"], tags=["move", "errors", "extension"])
async def move_trycreate(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion = await f.client.command(f"MOVE 1 {astring(scratch.name(ctx, 'missing'))}")
        left = await uid_map(ctx, f.client)
        ctx.expect(completion.status == "NO" and completion.code == "TRYCREATE" and len(left) == 1,
                   "NO [TRYCREATE], the message is still in the source", "NO [TRYCREATE] ...", completion.show())


@probe("imap.move.uid-move", rfc="rfc6851#3.2 rfc9051#6.4.9", level="MUST",
       requirement="UID MOVE moves the messages named by UID.", needs=ACCOUNT + ["MOVE"],
       tags=["move", "uid", "extension"])
async def uid_move(ctx):
    async with source_and_destination(ctx) as (f, dest):
        uids = await uid_map(ctx, f.client)
        await command_ok(ctx, f.client, f"UID MOVE {uids[3]} {astring(dest)}")
        left = await uid_map(ctx, f.client)
        shown, items = await destination(ctx, dest)
        ctx.expect(sorted(left.values()) == [uids[1], uids[2]] and items.get(1, {}).get("BODY[]") == THREE[2],
                   "message 3 moved, 1 and 2 stayed", "source UIDs 1, 2; destination holds message 3",
                   shown.show())


@probe("imap.copy.append-uid-codes-consistent", rfc="rfc4315#3 rfc3501#2.3.1.1", level="MUST",
       requirement="The UIDs a server reports in APPENDUID are the UIDs FETCH then gives those messages.",
       needs=ACCOUNT + ["UIDPLUS"], tags=["uidplus", "append", "uid", "extension"])
async def appenduid_matches_fetch(ctx):
    async with filled(ctx, THREE) as f:
        announced = f.uids
        ctx.require(all(u is not None for u in announced), "APPEND carried no APPENDUID here")
        fetched = await uid_map(ctx, f.client)
        ctx.expect([fetched[n] for n in (1, 2, 3)] == announced, "APPENDUID and FETCH UID agree",
                   str(announced), str(fetched))

