"""Probes of EXPUNGE, CLOSE, UNSELECT and sequence renumbering (RFC 3501 sections 2.3.1.2, 5.2, 5.5, 6.4.2,
6.4.3 and 7.4.1; RFC 9051 the same; RFC 4315 section 2.1; RFC 3691 section 2).

Each EXPUNGE response removes one message and decrements the sequence numbers of every message after it at
once, so a series of them is read one after the other. The server must never send EXPUNGE while it answers
FETCH, STORE or SEARCH (sequence numbers in those commands would otherwise shift under the client), and never
an EXISTS that reduces the count. A session of another client expunging is what makes these visible.
"""
from __future__ import annotations

from conformance.dialects.imap import Completion
from conformance.registry import probe

from .common import ACCOUNT, command_ok, filled, session, status, uid_map
from .messages import FULL, PLAIN

FOUR = [PLAIN, FULL, PLAIN, FULL]


def apply_expunges(order: list[int], completion: Completion) -> tuple[list[int] | None, str]:
    """Apply the EXPUNGE responses of a completion, in order, to a list of UIDs by sequence number; the result
    (None when an EXPUNGE names a number that does not exist) and a note."""
    remaining = list(order)
    for resp in completion.order:
        if resp.name == "EXPUNGE":
            n = resp.number or 0
            if not 1 <= n <= len(remaining):
                return None, f"* {n} EXPUNGE names no message (there are {len(remaining)})"
            remaining.pop(n - 1)
    return remaining, ""


@probe("imap.expunge.removes-deleted", rfc="rfc3501#6.4.3 rfc3501#7.4.1 rfc9051#6.4.3 rfc9051#7.5.1", level="MUST",
       requirement="EXPUNGE removes exactly the messages flagged \\Deleted and reports each with an EXPUNGE response; "
                   "read one after the other, with the sequence numbers shifting after each, the responses name "
                   "exactly those messages.", needs=ACCOUNT, tags=["expunge"])
async def expunge_removes_deleted(ctx):
    async with filled(ctx, FOUR) as f:
        before = await uid_map(ctx, f.client)
        order = [before[n] for n in sorted(before)]
        await command_ok(ctx, f.client, "STORE 2:3 +FLAGS.SILENT (\\Deleted)")
        completion = await command_ok(ctx, f.client, "EXPUNGE")
        remaining, note = apply_expunges(order, completion)
        expected = [order[0], order[3]]
        ctx.expect(remaining == expected, "the EXPUNGE responses remove messages 2 and 3 and nothing else",
                   f"remaining UIDs {expected}", note or f"remaining UIDs {remaining}\n{completion.show()}")


@probe("imap.expunge.renumbers", rfc="rfc3501#2.3.1.2 rfc3501#7.4.1 rfc9051#2.3.1.2 rfc9051#7.5.1", level="MUST",
       requirement="After EXPUNGE the remaining messages are numbered 1 to n again, in ascending UID order.",
       needs=ACCOUNT, tags=["expunge", "sequence"])
async def expunge_renumbers(ctx):
    async with filled(ctx, FOUR) as f:
        before = await uid_map(ctx, f.client)
        await command_ok(ctx, f.client, "STORE 1,3 +FLAGS.SILENT (\\Deleted)")
        await command_ok(ctx, f.client, "EXPUNGE")
        after = await uid_map(ctx, f.client)
        ctx.expect(after == {1: before[2], 2: before[4]}, "messages 2 and 4 are now numbered 1 and 2",
                   str({1: before[2], 2: before[4]}), str(after))


@probe("imap.expunge.only-deleted", rfc="rfc3501#6.4.3 rfc9051#6.4.3", level="MUST",
       requirement="EXPUNGE in a mailbox where no message is flagged \\Deleted removes nothing and sends no EXPUNGE "
                   "response.", needs=ACCOUNT, tags=["expunge"])
async def expunge_only_deleted(ctx):
    async with filled(ctx, FOUR) as f:
        await command_ok(ctx, f.client, "STORE 2 +FLAGS.SILENT (\\Flagged \\Seen)")
        completion = await command_ok(ctx, f.client, "EXPUNGE")
        after = await uid_map(ctx, f.client)
        ctx.expect(not completion.data("EXPUNGE") and len(after) == 4, "no EXPUNGE response, four messages left",
                   "OK, no * n EXPUNGE", completion.show())


async def expunged_elsewhere(ctx, f, numbers: str) -> None:
    """Session b flags `numbers` \\Deleted and expunges them."""
    other = await session(ctx, "b", select=f.name)
    await command_ok(ctx, other, f"STORE {numbers} +FLAGS.SILENT (\\Deleted)", "session b's STORE")
    await command_ok(ctx, other, "EXPUNGE", "session b's EXPUNGE")


@probe("imap.expunge.announced-to-other-sessions", rfc="rfc3501#7 rfc3501#7.4.1 rfc9051#7", level="SHOULD",
       requirement="When another session expunges messages, a session with the mailbox selected is told with EXPUNGE "
                   "responses (at the latest at NOOP), numbered so that it ends with the right messages.",
       needs=ACCOUNT, tags=["expunge", "multi-session"])
async def announced_to_other_sessions(ctx):
    async with filled(ctx, FOUR) as f:
        before = await uid_map(ctx, f.client)
        order = [before[n] for n in sorted(before)]
        await expunged_elsewhere(ctx, f, "1,3")
        completion = await command_ok(ctx, f.client, "NOOP")
        remaining, note = apply_expunges(order, completion)
        ctx.expect(remaining == [order[1], order[3]], "the NOOP's EXPUNGE responses remove messages 1 and 3",
                   f"remaining UIDs {[order[1], order[3]]}", note or f"remaining {remaining}\n{completion.show()}")


async def no_expunge_during(ctx, command: str, what: str) -> None:
    async with filled(ctx, FOUR) as f:
        await uid_map(ctx, f.client)
        await expunged_elsewhere(ctx, f, "2")
        completion = await f.client.command(command)
        ctx.expect(not completion.data("EXPUNGE") and not completion.data("VANISHED"),
                   f"no EXPUNGE response while the server answers {what}", f"{what} without * n EXPUNGE",
                   completion.show())
        noop = await command_ok(ctx, f.client, "NOOP")
        ctx.expect(bool(noop.data("EXPUNGE")), "the expunge is announced at the following NOOP", "* 2 EXPUNGE",
                   noop.show())


@probe("imap.expunge.not-during-fetch", rfc="rfc3501#7.4.1 rfc3501#5.5 rfc9051#7.5.1", level="MUST",
       requirement="While it answers FETCH, the server sends no EXPUNGE response, even when another session has "
                   "just expunged a message; the expunge is announced at a later command such as NOOP.",
       needs=ACCOUNT, tags=["expunge", "fetch", "multi-session"])
async def not_during_fetch(ctx):
    await no_expunge_during(ctx, "FETCH 1:* (FLAGS)", "FETCH")


@probe("imap.expunge.not-during-store", rfc="rfc3501#7.4.1 rfc3501#5.5 rfc9051#7.5.1", level="MUST",
       requirement="While it answers STORE, the server sends no EXPUNGE response for a message another session has "
                   "just expunged.", needs=ACCOUNT, tags=["expunge", "store", "multi-session"])
async def not_during_store(ctx):
    await no_expunge_during(ctx, "STORE 1 +FLAGS (\\Flagged)", "STORE")


@probe("imap.expunge.not-during-search", rfc="rfc3501#7.4.1 rfc3501#5.5 rfc9051#7.5.1", level="MUST",
       requirement="While it answers SEARCH, the server sends no EXPUNGE response for a message another session has "
                   "just expunged.", needs=ACCOUNT, tags=["expunge", "search", "multi-session"])
async def not_during_search(ctx):
    await no_expunge_during(ctx, "SEARCH ALL", "SEARCH")


@probe("imap.exists.never-decreases", rfc="rfc3501#5.2 rfc9051#5.2", level="MUST",
       requirement="The server never sends an EXISTS response that would reduce the message count: when another "
                   "session expunges, only EXPUNGE responses shrink the mailbox.", needs=ACCOUNT,
       tags=["exists", "expunge", "multi-session"])
async def exists_never_decreases(ctx):
    async with filled(ctx, FOUR) as f:
        await expunged_elsewhere(ctx, f, "1:3")
        completion = await command_ok(ctx, f.client, "NOOP")
        count = 4
        shrinking = []
        for resp in completion.order:
            if resp.name == "EXPUNGE":
                count -= 1
            elif resp.name == "EXISTS":
                if (resp.number or 0) < count:
                    shrinking.append(resp.line)
                count = resp.number or 0
        ctx.expect(not shrinking and count == 1, "no EXISTS below the current count; the mailbox ends with 1 message",
                   "3 EXPUNGE responses, no smaller EXISTS", completion.show())


@probe("imap.close.expunges-silently", rfc="rfc3501#6.4.2 rfc9051#6.4.1", level="MUST",
       requirement="CLOSE removes the messages flagged \\Deleted without sending EXPUNGE responses.",
       needs=ACCOUNT, tags=["close", "expunge"])
async def close_expunges(ctx):
    async with filled(ctx, FOUR) as f:
        await command_ok(ctx, f.client, "STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        completion = await command_ok(ctx, f.client, "CLOSE")
        left = (await status(ctx, f.client, f.name, "MESSAGES")).get("MESSAGES")
        ctx.expect(not completion.data("EXPUNGE") and left == 2, "no EXPUNGE response, and 2 messages are left",
                   "OK without * n EXPUNGE; MESSAGES 2", f"{completion.show()}\nMESSAGES {left}")


@probe("imap.close.read-only-keeps", rfc="rfc3501#6.4.2 rfc9051#6.4.1", level="MUST",
       requirement="CLOSE of a mailbox opened with EXAMINE removes nothing, not even messages flagged \\Deleted.",
       needs=ACCOUNT, tags=["close", "examine"])
async def close_read_only(ctx):
    async with filled(ctx, FOUR, flags=["\\Deleted", None, None, None], examine=True) as f:
        await command_ok(ctx, f.client, "CLOSE")
        left = (await status(ctx, f.client, f.name, "MESSAGES")).get("MESSAGES")
        ctx.expect(left == 4, "all 4 messages are still there", "MESSAGES 4", f"MESSAGES {left}")


@probe("imap.close.leaves-selected-state", rfc="rfc3501#6.4.2 rfc3501#3.2 rfc9051#6.4.1", level="MUST",
       requirement="After CLOSE no mailbox is selected: a selected-state command (FETCH) is refused with BAD or NO.",
       needs=ACCOUNT, tags=["close", "state"])
async def close_leaves_selected(ctx):
    async with filled(ctx, [PLAIN]) as f:
        await command_ok(ctx, f.client, "CLOSE")
        completion = await f.client.command("FETCH 1 (FLAGS)")
        ctx.expect(completion.status in ("BAD", "NO"), "FETCH after CLOSE is refused", "BAD or NO", completion.show())


@probe("imap.uidplus.uid-expunge", rfc="rfc4315#2.1 rfc9051#6.4.9", level="MUST",
       requirement="UID EXPUNGE removes only the messages flagged \\Deleted whose UIDs it names; other deleted "
                   "messages stay.", needs=ACCOUNT + ["UIDPLUS"], tags=["uidplus", "expunge", "extension"])
async def uid_expunge(ctx):
    async with filled(ctx, FOUR) as f:
        before = await uid_map(ctx, f.client)
        await command_ok(ctx, f.client, "STORE 2:3 +FLAGS.SILENT (\\Deleted)")
        completion = await command_ok(ctx, f.client, f"UID EXPUNGE {before[2]}")
        after = await uid_map(ctx, f.client)
        expected = sorted([before[1], before[3], before[4]])
        ctx.expect(sorted(after.values()) == expected, "only the named deleted message is gone",
                   f"UIDs {expected}", f"UIDs {sorted(after.values())}\n{completion.show()}")


@probe("imap.unselect.keeps-deleted", rfc="rfc3691#2 rfc9051#6.4.2", level="MUST",
       requirement="UNSELECT closes the mailbox without removing the messages flagged \\Deleted.",
       needs=ACCOUNT + ["UNSELECT"], tags=["unselect", "extension"])
async def unselect_keeps_deleted(ctx):
    async with filled(ctx, FOUR) as f:
        await command_ok(ctx, f.client, "STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        await command_ok(ctx, f.client, "UNSELECT")
        left = (await status(ctx, f.client, f.name, "MESSAGES")).get("MESSAGES")
        ctx.expect(left == 4, "all 4 messages are still there", "MESSAGES 4", f"MESSAGES {left}")


@probe("imap.unselect.authenticated-state", rfc="rfc3691#2 rfc9051#6.4.2", level="MUST",
       requirement="After UNSELECT no mailbox is selected (FETCH is refused), and UNSELECT without a selected "
                   "mailbox is answered BAD.", needs=ACCOUNT + ["UNSELECT"], tags=["unselect", "state", "extension"])
async def unselect_state(ctx):
    async with filled(ctx, [PLAIN]) as f:
        await command_ok(ctx, f.client, "UNSELECT")
        fetched = await f.client.command("FETCH 1 (FLAGS)")
        again = await f.client.command("UNSELECT")
        ctx.expect(fetched.status in ("BAD", "NO") and again.status == "BAD",
                   "FETCH is refused and a second UNSELECT is answered BAD", "BAD or NO; BAD",
                   f"{fetched.show()}\n{again.show()}")
