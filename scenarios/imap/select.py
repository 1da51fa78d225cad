"""Probes of SELECT, EXAMINE and STATUS (RFC 3501 sections 6.3.1, 6.3.2 and 6.3.10; RFC 9051 sections 6.3.2,
6.3.3 and 6.3.11).

Before its tagged OK, SELECT sends what a client must know about the mailbox: FLAGS, EXISTS, RECENT (IMAP4rev1
only), and OK responses carrying UIDVALIDITY, UIDNEXT, PERMANENTFLAGS and (IMAP4rev1) UNSEEN. The probes select a
scratch mailbox holding two messages, the first \\Seen and the second not, so every value is known.
"""
from __future__ import annotations

from conformance.registry import probe

from .common import ACCOUNT, fetch, filled, flags_of, session, status
from .messages import FULL, PLAIN

SYSTEM_FLAGS = {"\\answered", "\\flagged", "\\deleted", "\\seen", "\\draft"}
TWO = dict(flags=["\\Seen", None], select=False)


async def selected(ctx, f, *, examine: bool = False):
    completion, info = await f.client.select(f.name, examine=examine)
    ctx.setup(completion.ok, f"{'EXAMINE' if examine else 'SELECT'} of the scratch mailbox is answered OK", "OK",
              completion.show())
    return completion, info


@probe("imap.select.flags", rfc="rfc3501#6.3.1 rfc3501#7.2.6 rfc9051#6.3.2 rfc9051#7.3.5", level="MUST",
       requirement="SELECT sends an untagged FLAGS response listing at least the system flags \\Answered \\Flagged "
                   "\\Deleted \\Seen \\Draft.", needs=ACCOUNT, tags=["select"])
async def select_flags(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        completion, info = await selected(ctx, f)
        got = {x.lower() for x in info.flags or []}
        ctx.expect(info.flags is not None and SYSTEM_FLAGS <= got, "FLAGS lists the system flags",
                   "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft ...)", completion.show())


@probe("imap.select.exists", rfc="rfc3501#6.3.1 rfc3501#7.3.1 rfc9051#6.3.2 rfc9051#7.4.1", level="MUST",
       requirement="SELECT sends an untagged EXISTS response with the number of messages in the mailbox.",
       needs=ACCOUNT, tags=["select"])
async def select_exists(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        completion, info = await selected(ctx, f)
        ctx.expect(info.exists == 2, "EXISTS counts the two messages appended", "* 2 EXISTS", completion.show())


@probe("imap.select.recent", rfc="rfc3501#6.3.1 rfc3501#7.3.2", level="MUST",
       requirement="An IMAP4rev1 SELECT sends an untagged RECENT response with the number of \\Recent messages.",
       needs=ACCOUNT + ["IMAP4REV1"], tags=["select", "recent"])
async def select_recent(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        completion, info = await selected(ctx, f)
        ctx.expect(info.recent is not None and 0 <= info.recent <= 2, "a RECENT response (0 to 2) is sent",
                   "* n RECENT", completion.show())


@probe("imap.select.uidvalidity", rfc="rfc3501#6.3.1 rfc3501#2.3.1.1 rfc3501#9 rfc9051#6.3.2", level="MUST",
       requirement="SELECT sends an untagged OK with the UIDVALIDITY response code, a non-zero number.",
       needs=ACCOUNT, tags=["select", "uid"])
async def select_uidvalidity(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        completion, info = await selected(ctx, f)
        ctx.expect(bool(info.uidvalidity), "OK [UIDVALIDITY n] with n > 0", "* OK [UIDVALIDITY n] ...",
                   completion.show())


@probe("imap.select.uidnext", rfc="rfc3501#6.3.1 rfc3501#2.3.1.1 rfc9051#6.3.2", level="MUST",
       requirement="SELECT sends an untagged OK with the UIDNEXT response code, greater than every UID in the "
                   "mailbox.", needs=ACCOUNT, tags=["select", "uid"])
async def select_uidnext(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        completion, info = await selected(ctx, f)
        _, items = await fetch(ctx, f.client, "1:* (UID)")
        uids = [int(d["UID"]) for d in items.values() if str(d.get("UID", "")).isdigit()]
        ctx.expect(info.uidnext is not None and all(info.uidnext > u for u in uids),
                   "OK [UIDNEXT n] with n above every UID", f"UIDNEXT > {max(uids, default=0)}", completion.show())


@probe("imap.select.permanentflags", rfc="rfc3501#6.3.1 rfc3501#7.1 rfc9051#6.3.2", level="MUST",
       requirement="SELECT sends an untagged OK with the PERMANENTFLAGS response code and its flag list.",
       needs=ACCOUNT, tags=["select"])
async def select_permanentflags(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        completion, info = await selected(ctx, f)
        ctx.expect(info.permanentflags is not None, "OK [PERMANENTFLAGS (...)]", "* OK [PERMANENTFLAGS (...)] ...",
                   completion.show())


@probe("imap.select.unseen", rfc="rfc3501#6.3.1 rfc3501#7.1", level="MUST",
       requirement="An IMAP4rev1 SELECT of a mailbox with an unseen message sends OK [UNSEEN n] with the number of "
                   "the first message without \\Seen.", needs=ACCOUNT + ["IMAP4REV1"], tags=["select"])
async def select_unseen(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        completion, info = await selected(ctx, f)
        ctx.expect(info.unseen == 2, "OK [UNSEEN 2] (message 1 is \\Seen, message 2 is not)", "* OK [UNSEEN 2] ...",
                   completion.show())


@probe("imap.select.read-write", rfc="rfc3501#6.3.1 rfc9051#6.3.2", level="SHOULD",
       requirement="The tagged OK to SELECT of a mailbox the client may modify starts with [READ-WRITE].",
       needs=ACCOUNT, tags=["select"])
async def select_read_write(ctx):
    async with filled(ctx, [PLAIN], select=False) as f:
        completion, info = await selected(ctx, f)
        ctx.expect(info.access == "READ-WRITE", "the tagged OK carries [READ-WRITE]", "OK [READ-WRITE] ...",
                   completion.show())


@probe("imap.examine.read-only", rfc="rfc3501#6.3.2 rfc9051#6.3.3", level="MUST",
       requirement="The tagged OK to EXAMINE starts with [READ-ONLY].", needs=ACCOUNT, tags=["examine"])
async def examine_read_only(ctx):
    async with filled(ctx, [PLAIN], select=False) as f:
        completion, info = await selected(ctx, f, examine=True)
        ctx.expect(info.access == "READ-ONLY", "the tagged OK carries [READ-ONLY]", "OK [READ-ONLY] ...",
                   completion.show())


@probe("imap.examine.fetch-does-not-set-seen", rfc="rfc3501#6.3.2 rfc9051#6.3.3", level="MUST",
       requirement="In a mailbox opened with EXAMINE, FETCH BODY[] does not set \\Seen: no permanent state changes.",
       needs=ACCOUNT, tags=["examine", "fetch", "seen"])
async def examine_no_seen(ctx):
    async with filled(ctx, [PLAIN], select=False) as f:
        await selected(ctx, f, examine=True)
        await fetch(ctx, f.client, "1 (BODY[])")
        other = await session(ctx, "b", select=f.name, examine=True)
        flags = await flags_of(ctx, other, 1)
        ctx.expect("\\seen" not in flags, "the message is still unseen (seen from another session)",
                   "FLAGS without \\Seen", " ".join(sorted(flags)) or "()")


@probe("imap.examine.store-no-change", rfc="rfc3501#6.3.2 rfc9051#6.3.3", level="MUST",
       requirement="In a mailbox opened with EXAMINE no permanent state changes: a STORE +FLAGS (\\Flagged) there, "
                   "whether refused or ignored, leaves the message's flags as they were.", needs=ACCOUNT,
       tags=["examine", "store"])
async def examine_store_no_change(ctx):
    async with filled(ctx, [PLAIN], select=False) as f:
        await selected(ctx, f, examine=True)
        completion = await f.client.command("STORE 1 +FLAGS (\\Flagged)")
        other = await session(ctx, "b", select=f.name, examine=True)
        flags = await flags_of(ctx, other, 1)
        ctx.expect("\\flagged" not in flags, "\\Flagged is not set (seen from another session)",
                   "flags unchanged",
                   completion.show() + f"\nflags seen by session b: {' '.join(sorted(flags)) or '()'}")


@probe("imap.examine.keeps-recent", rfc="rfc3501#6.3.2 rfc3501#2.3.2", level="MUST",
       requirement="EXAMINE does not take the \\Recent flag from new messages: a later SELECT still counts them "
                   "RECENT.", needs=ACCOUNT + ["IMAP4REV1"], tags=["examine", "recent"])
async def examine_keeps_recent(ctx):
    async with filled(ctx, [PLAIN, FULL], select=False) as f:
        completion, info = await selected(ctx, f, examine=True)
        ctx.require(info.recent == 2, "the server does not count freshly appended messages as RECENT here "
                    f"({info.recent})")
        await f.client.command("CLOSE")
        other = await session(ctx, "b")
        completion, info = await other.select(f.name)
        ctx.setup(completion.ok, "SELECT in another session is answered OK", "OK", completion.show())
        ctx.expect(info.recent == 2, "the later SELECT still reports 2 RECENT", "* 2 RECENT", completion.show())


@probe("imap.select.append-sends-exists", rfc="rfc3501#6.3.11 rfc9051#6.3.12", level="SHOULD",
       requirement="APPEND to the selected mailbox is followed at once by an untagged EXISTS with the new count.",
       needs=ACCOUNT, tags=["select", "append", "exists"])
async def append_sends_exists(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion = await f.client.append(f.name, FULL)
        ctx.setup(completion.ok, "APPEND is answered OK", "OK", completion.show())
        exists = [r.number for r in completion.data("EXISTS")]
        ctx.expect(exists == [2], "the APPEND's responses include * 2 EXISTS", "* 2 EXISTS", completion.show())


@probe("imap.status.matches-select", rfc="rfc3501#6.3.10 rfc3501#7.2.4 rfc9051#6.3.11", level="MUST",
       requirement="STATUS (MESSAGES UIDNEXT UIDVALIDITY UNSEEN) of a mailbox agrees with what SELECT then reports.",
       needs=ACCOUNT, tags=["status", "select"])
async def status_matches_select(ctx):
    async with filled(ctx, [PLAIN, FULL], **TWO) as f:
        items = await status(ctx, f.client, f.name, "MESSAGES UIDNEXT UIDVALIDITY UNSEEN")
        completion, info = await selected(ctx, f)
        expected = {"MESSAGES": 2, "UIDNEXT": info.uidnext, "UIDVALIDITY": info.uidvalidity, "UNSEEN": 1}
        ctx.expect(items == expected, "STATUS gives the same values as SELECT (and 1 unseen)",
                   " ".join(f"{k} {v}" for k, v in expected.items()), " ".join(f"{k} {v}" for k, v in items.items()))


@probe("imap.status.keeps-selection", rfc="rfc3501#6.3.10 rfc9051#6.3.11", level="MUST",
       requirement="STATUS of another mailbox does not change the selected mailbox: FETCH afterwards still reads the "
                   "selected one.", needs=ACCOUNT, tags=["status", "state"])
async def status_keeps_selection(ctx):
    async with filled(ctx, [PLAIN]) as f, filled(ctx, [FULL, FULL], suffix="2", select=False, client=f.client) as g:
        await status(ctx, f.client, g.name, "MESSAGES")
        completion, items = await fetch(ctx, f.client, "1:* (RFC822.SIZE)")
        ctx.expect(list(items) == [1] and int(items[1].get("RFC822.SIZE", -1)) == len(PLAIN),
                   "FETCH 1:* still sees the one message of the selected mailbox",
                   f"* 1 FETCH (RFC822.SIZE {len(PLAIN)})",
                   completion.show())


@probe("imap.status.keeps-recent", rfc="rfc3501#6.3.10 rfc3501#2.3.2", level="MUST",
       requirement="STATUS does not take the \\Recent flag from messages: STATUS (RECENT) twice gives the same count, "
                   "and a later SELECT reports it too.", needs=ACCOUNT + ["IMAP4REV1"], tags=["status", "recent"])
async def status_keeps_recent(ctx):
    async with filled(ctx, [PLAIN, FULL], select=False) as f:
        first = await status(ctx, f.client, f.name, "RECENT")
        ctx.require(first.get("RECENT") == 2, f"the server does not count freshly appended messages as RECENT here "
                    f"({first.get('RECENT')})")
        second = await status(ctx, f.client, f.name, "RECENT")
        completion, info = await selected(ctx, f)
        ctx.expect(second.get("RECENT") == 2 and info.recent == 2, "RECENT stays 2 through STATUS and into SELECT",
                   "RECENT 2, RECENT 2, * 2 RECENT", f"{first} {second}\n{completion.show()}")
