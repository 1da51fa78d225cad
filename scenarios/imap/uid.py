"""Probes of unique identifiers (RFC 3501 sections 2.3.1.1 and 6.4.8, RFC 9051 sections 2.3.1.1 and 6.4.9).

A UID with the mailbox's UIDVALIDITY names one message forever: UIDs are strictly ascending in the mailbox,
every new message gets a higher one, and an expunged message's UID is never given to another message while
UIDVALIDITY stays the same. UIDNEXT changes exactly when messages are added, even if they are expunged again.
"""
from __future__ import annotations

from conformance.dialects.imap import astring
from conformance.registry import probe

from .common import ACCOUNT, command_ok, fetch, filled, search_numbers, session, status, uid_map
from .messages import FULL, PLAIN

THREE = [PLAIN, FULL, PLAIN]


async def append_uid(ctx, f) -> int:
    """APPEND one more message to the selected scratch mailbox; its UID (from NOOP's EXISTS and FETCH)."""
    completion = await f.client.append(f.name, FULL)
    ctx.setup(completion.ok, "APPEND of one more message is answered OK", "OK", completion.show())
    await f.client.command("NOOP")
    uids = await uid_map(ctx, f.client)
    return uids[max(uids)]


@probe("imap.uid.ascending", rfc="rfc3501#2.3.1.1 rfc3501#2.3.1.2 rfc9051#2.3.1.1 rfc9051#2.3.1.2", level="MUST",
       requirement="UIDs are strictly ascending in message sequence number order.", needs=ACCOUNT, tags=["uid"])
async def uids_ascending(ctx):
    async with filled(ctx, THREE) as f:
        uids = await uid_map(ctx, f.client)
        ordered = [uids[n] for n in sorted(uids)]
        ctx.expect(sorted(uids) == [1, 2, 3] and all(a < b for a, b in zip(ordered, ordered[1:])),
                   "messages 1 to 3 have strictly ascending UIDs", "UID(1) < UID(2) < UID(3)", str(uids))


@probe("imap.uid.new-message-higher", rfc="rfc3501#2.3.1.1 rfc9051#2.3.1.1", level="MUST",
       requirement="A message added to the mailbox gets a UID higher than every message already in it, and at least "
                   "the UIDNEXT the mailbox announced before.", needs=ACCOUNT, tags=["uid", "append"])
async def new_message_higher(ctx):
    async with filled(ctx, THREE) as f:
        before = await uid_map(ctx, f.client)
        uidnext = f.info.uidnext
        new = await append_uid(ctx, f)
        ctx.expect(new > max(before.values()) and (uidnext is None or new >= uidnext),
                   "the new message's UID is above the others and at least UIDNEXT",
                   f"> {max(before.values())} and >= {uidnext}", str(new))


@probe("imap.uid.never-reused", rfc="rfc9051#2.3.1.1 rfc3501#2.3.1.1", level="MUST",
       requirement="The UID of an expunged message is never given to another message under the same UIDVALIDITY: "
                   "after expunging the newest message, the next one appended gets a higher UID.", needs=ACCOUNT,
       tags=["uid", "expunge"])
async def never_reused(ctx):
    async with filled(ctx, THREE) as f:
        uids = await uid_map(ctx, f.client)
        last = uids[3]
        await command_ok(ctx, f.client, "STORE 3 +FLAGS.SILENT (\\Deleted)")
        await command_ok(ctx, f.client, "EXPUNGE")
        new = await append_uid(ctx, f)
        completion, info = await f.client.select(f.name)
        ctx.setup(info.uidvalidity == f.info.uidvalidity, "UIDVALIDITY stays the same", str(f.info.uidvalidity),
                  completion.show())
        ctx.expect(new > last, "the new message's UID is above the expunged one's", f"> {last}", str(new))


@probe("imap.uid.uidnext-changes-on-append", rfc="rfc3501#2.3.1.1 rfc9051#2.3.1.1", level="MUST",
       requirement="UIDNEXT changes when a message is added to the mailbox.", needs=ACCOUNT, tags=["uid", "uidnext"])
async def uidnext_changes(ctx):
    async with filled(ctx, [PLAIN], select=False) as f:
        before = (await status(ctx, f.client, f.name, "UIDNEXT")).get("UIDNEXT")
        completion = await f.client.append(f.name, FULL)
        ctx.setup(completion.ok, "APPEND is answered OK", "OK", completion.show())
        after = (await status(ctx, f.client, f.name, "UIDNEXT")).get("UIDNEXT")
        ctx.expect(before is not None and after is not None and after > before, "UIDNEXT grows with the APPEND",
                   f"> {before}", str(after))


@probe("imap.uid.uidnext-stable", rfc="rfc3501#2.3.1.1 rfc9051#2.3.1.1", level="MUST",
       requirement="UIDNEXT does not change unless messages are added: a flag change and an EXPUNGE leave it as it "
                   "was.", needs=ACCOUNT, tags=["uid", "uidnext"])
async def uidnext_stable(ctx):
    async with filled(ctx, THREE, select=False) as f:
        before = (await status(ctx, f.client, f.name, "UIDNEXT")).get("UIDNEXT")
        await f.client.select(f.name)
        await command_ok(ctx, f.client, "STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        await command_ok(ctx, f.client, "EXPUNGE")
        await command_ok(ctx, f.client, "CLOSE")
        after = (await status(ctx, f.client, f.name, "UIDNEXT")).get("UIDNEXT")
        ctx.expect(before is not None and after == before, "UIDNEXT is the same before and after", str(before),
                   str(after))


@probe("imap.uid.uidnext-counts-expunged", rfc="rfc3501#2.3.1.1 rfc9051#2.3.1.1", level="MUST",
       requirement="UIDNEXT changes when a message is added, even if that message is expunged again.",
       needs=ACCOUNT, tags=["uid", "uidnext", "expunge"])
async def uidnext_counts_expunged(ctx):
    async with filled(ctx, [PLAIN], select=False) as f:
        before = (await status(ctx, f.client, f.name, "UIDNEXT")).get("UIDNEXT")
        completion = await f.client.append(f.name, FULL, flags="\\Deleted")
        ctx.setup(completion.ok, "APPEND (with \\Deleted) is answered OK", "OK", completion.show())
        await f.client.select(f.name)
        await command_ok(ctx, f.client, "EXPUNGE")
        await command_ok(ctx, f.client, "CLOSE")
        after = (await status(ctx, f.client, f.name, "UIDNEXT MESSAGES"))
        ctx.setup(after.get("MESSAGES") == 1, "the appended message is expunged again", "MESSAGES 1", str(after))
        ctx.expect(before is not None and (after.get("UIDNEXT") or 0) > before, "UIDNEXT stays above its old value",
                   f"> {before}", str(after.get("UIDNEXT")))


@probe("imap.uid.stable-across-sessions", rfc="rfc3501#2.3.1.1 rfc9051#2.3.1.1", level="MUST",
       requirement="A second session sees the same UIDs for the same messages, or else a UIDVALIDITY greater than "
                   "the first session's (a change of UIDs must be detectable).", needs=ACCOUNT, tags=["uid"])
async def stable_across_sessions(ctx):
    async with filled(ctx, THREE) as f:
        first = await uid_map(ctx, f.client)
        other = await session(ctx, "b")
        completion, info = await other.select(f.name)
        ctx.setup(completion.ok, "SELECT in a second session is answered OK", "OK", completion.show())
        second = await uid_map(ctx, other)
        ctx.expect(second == first if info.uidvalidity == f.info.uidvalidity else
                   (info.uidvalidity or 0) > (f.info.uidvalidity or 0),
                   "same UIDVALIDITY and the same UIDs (or a greater UIDVALIDITY)",
                   f"UIDVALIDITY {f.info.uidvalidity}, UIDs {first}", f"UIDVALIDITY {info.uidvalidity}, UIDs {second}")


@probe("imap.uid.recreated-mailbox", rfc="rfc3501#6.3.3 rfc3501#6.3.4 rfc9051#6.3.4 rfc9051#6.3.5", level="MUST",
       requirement="A mailbox created again under the name of a deleted one either has a different UIDVALIDITY or "
                   "gives its messages UIDs above every UID the deleted one used.", needs=ACCOUNT,
       tags=["uid", "create"])
async def recreated_mailbox(ctx):
    async with filled(ctx, THREE) as f:
        old = await uid_map(ctx, f.client)
        await command_ok(ctx, f.client, "CLOSE")
        await command_ok(ctx, f.client, f"DELETE {astring(f.name)}")
        await command_ok(ctx, f.client, f"CREATE {astring(f.name)}")
        completion = await f.client.append(f.name, PLAIN)
        ctx.setup(completion.ok, "APPEND to the new mailbox is answered OK", "OK", completion.show())
        completion, info = await f.client.select(f.name)
        ctx.setup(completion.ok, "SELECT of the new mailbox is answered OK", "OK", completion.show())
        new = await uid_map(ctx, f.client)
        ctx.expect(info.uidvalidity != f.info.uidvalidity or new[1] > max(old.values()),
                   "a new UIDVALIDITY, or a UID above the old ones", f"UIDVALIDITY != {f.info.uidvalidity} or "
                   f"UID > {max(old.values())}", f"UIDVALIDITY {info.uidvalidity}, UID {new[1]}")


@probe("imap.uid.fetch-includes-uid", rfc="rfc3501#6.4.8 rfc9051#6.4.9", level="MUST",
       requirement="Every FETCH response caused by UID FETCH includes the UID item, even when it was not asked for.",
       needs=ACCOUNT, tags=["uid", "fetch"])
async def uid_fetch_includes_uid(ctx):
    async with filled(ctx, THREE) as f:
        uids = await uid_map(ctx, f.client)
        completion, items = await fetch(ctx, f.client, f"{uids[1]}:{uids[3]} (FLAGS)", uid=True)
        ctx.expect(len(items) == 3 and all(str(d.get("UID")) == str(uids[n]) for n, d in items.items()),
                   "each of the three FETCH responses carries its UID", "* n FETCH (FLAGS (...) UID u)",
                   completion.show())


@probe("imap.uid.store-includes-uid", rfc="rfc3501#6.4.8 rfc9051#6.4.9", level="MUST",
       requirement="The FETCH responses caused by UID STORE include the UID item.", needs=ACCOUNT,
       tags=["uid", "store"])
async def uid_store_includes_uid(ctx):
    async with filled(ctx, THREE) as f:
        uids = await uid_map(ctx, f.client)
        completion = await command_ok(ctx, f.client, f"UID STORE {uids[2]} +FLAGS (\\Flagged)")
        fetches = completion.data("FETCH")
        ctx.expect(bool(fetches) and all(str(r.fetch().get("UID")) == str(uids[2]) for r in fetches),
                   "the FETCH response to UID STORE carries the UID", f"* 2 FETCH (FLAGS (...) UID {uids[2]})",
                   completion.show())


@probe("imap.uid.nonexistent-ignored", rfc="rfc3501#6.4.8 rfc9051#6.4.9", level="MUST",
       requirement="A UID that names no message is ignored without error: UID FETCH of it is answered OK with no "
                   "FETCH data.", needs=ACCOUNT, tags=["uid", "fetch"])
async def nonexistent_uid(ctx):
    async with filled(ctx, THREE) as f:
        uids = await uid_map(ctx, f.client)
        missing = max(uids.values()) + 1000
        completion = await f.client.command(f"UID FETCH {missing} (FLAGS)")
        ctx.expect(completion.ok and not completion.data("FETCH"), "OK and no FETCH response", "OK (no data)",
                   completion.show())


@probe("imap.uid.star-range", rfc="rfc3501#6.4.8 rfc3501#9 rfc9051#6.4.9", level="MUST",
       requirement="A UID range with * as one end always includes the last message: UID FETCH n:* with n above every "
                   "UID returns the last message.", needs=ACCOUNT, tags=["uid", "fetch"])
async def star_range(ctx):
    async with filled(ctx, THREE) as f:
        uids = await uid_map(ctx, f.client)
        completion, items = await fetch(ctx, f.client, f"{max(uids.values()) + 50}:* (UID)", uid=True)
        ctx.expect(list(items) == [3] and str(items[3].get("UID")) == str(uids[3]),
                   "exactly the last message is returned", f"* 3 FETCH (UID {uids[3]})", completion.show())


@probe("imap.uid.search-returns-uids", rfc="rfc3501#6.4.8 rfc3501#7.2.5 rfc9051#6.4.9", level="MUST",
       requirement="UID SEARCH answers with UIDs, not message sequence numbers.", needs=ACCOUNT,
       tags=["uid", "search"])
async def uid_search(ctx):
    async with filled(ctx, THREE) as f:
        uids = await uid_map(ctx, f.client)
        completion = await command_ok(ctx, f.client, "UID SEARCH ALL")
        ctx.expect(sorted(search_numbers(completion) or []) == sorted(uids.values()),
                   "UID SEARCH ALL returns the three UIDs", " ".join(map(str, sorted(uids.values()))),
                   completion.show())
