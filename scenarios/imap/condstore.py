"""Probes of CONDSTORE and QRESYNC (RFC 7162).

Every message has a mod-sequence that grows whenever its metadata (flags) changes; the mailbox's HIGHESTMODSEQ is
the largest of them. STORE ... (UNCHANGEDSINCE m) changes only messages not modified since m and reports the
others in a MODIFIED response code. With QRESYNC enabled, expunges are reported as VANISHED (UIDs) and a SELECT
can ask for everything that vanished since a known mod-sequence.
"""
from __future__ import annotations

from conformance.dialects.imap import Completion, astring
from conformance.dialects.imap_parser import as_int, text_of
from conformance.registry import probe

from .common import ACCOUNT, command_ok, fetch, filled, lower, session, status, uid_map
from .messages import FULL, MULTI, PLAIN

CONDSTORE = ACCOUNT + ["CONDSTORE"]
QRESYNC = ACCOUNT + ["QRESYNC", "ENABLE"]
THREE = [PLAIN, FULL, MULTI]
TAGS = ["condstore", "extension"]


def modseqs(items: dict[int, dict]) -> dict[int, int | None]:
    out = {}
    for n, data in items.items():
        value = data.get("MODSEQ")
        out[n] = as_int(value[0]) if isinstance(value, list) and value else None
    return out


async def fetch_modseqs(ctx, client, what: str = "1:*") -> dict[int, int | None]:
    _, items = await fetch(ctx, client, f"{what} (MODSEQ)")
    return modseqs(items)


def highestmodseq(completion: Completion) -> int | None:
    found = completion.codes("HIGHESTMODSEQ")
    return found[-1].code_int() if found else None


def vanished(completion: Completion, earlier: bool) -> list[int]:
    """UIDs named by VANISHED responses (with or without the (EARLIER) tag, as asked)."""
    uids: list[int] = []
    for resp in completion.data("VANISHED"):
        vals = resp.values
        is_earlier = bool(vals) and isinstance(vals[0], list) and [str(v).upper() for v in vals[0]] == ["EARLIER"]
        if is_earlier != earlier or not vals:
            continue
        for part in (text_of(vals[-1]) or "").split(","):
            lo, _, hi = part.partition(":")
            if lo.isdigit():
                a, b = int(lo), int(hi or lo)
                uids += list(range(min(a, b), max(a, b) + 1))
    return uids


@probe("imap.condstore.highestmodseq-on-select", rfc="rfc7162#3.1.2 rfc7162#3.1.2.1 rfc7162#3.1.8", level="MUST",
       requirement="SELECT with the CONDSTORE parameter is answered with an untagged OK carrying HIGHESTMODSEQ (or "
                   "NOMODSEQ when the mailbox keeps no mod-sequences).", needs=CONDSTORE, tags=TAGS)
async def highestmodseq_on_select(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        codes = f.selected.codes("HIGHESTMODSEQ") + f.selected.codes("NOMODSEQ")
        ctx.expect(any(r.kind == "untagged" for r in codes), "* OK [HIGHESTMODSEQ n] (or [NOMODSEQ])",
                   "* OK [HIGHESTMODSEQ n] ...", f.selected.show())


async def condstore_box(ctx, f):
    """Requires the mailbox to keep mod-sequences (HIGHESTMODSEQ at SELECT)."""
    ctx.require(highestmodseq(f.selected) is not None, "the mailbox keeps no mod-sequences (NOMODSEQ)")


@probe("imap.condstore.fetch-modseq", rfc="rfc7162#3.1.4.2", level="MUST",
       requirement="FETCH (MODSEQ) returns each message's mod-sequence, none above HIGHESTMODSEQ.", needs=CONDSTORE,
       tags=TAGS)
async def fetch_modseq(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        got = await fetch_modseqs(ctx, f.client)
        top = highestmodseq(f.selected)
        ctx.expect(len(got) == 3 and all(m is not None and 0 < m <= top for m in got.values()),
                   f"three mod-sequences, none above {top}", "* n FETCH (MODSEQ (m))", str(got))


@probe("imap.condstore.store-raises-modseq", rfc="rfc7162#3.1 rfc7162#3.1.3", level="MUST",
       requirement="A STORE that changes a flag gives the message a mod-sequence greater than every earlier one.",
       needs=CONDSTORE, tags=TAGS)
async def store_raises_modseq(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        before = await fetch_modseqs(ctx, f.client)
        await command_ok(ctx, f.client, "STORE 2 +FLAGS.SILENT (\\Flagged)")
        after = await fetch_modseqs(ctx, f.client)
        ctx.expect(after.get(2) is not None and after[2] > max(v or 0 for v in before.values()),
                   "message 2's mod-sequence is now the highest", f"> {max(v or 0 for v in before.values())}",
                   str(after))


@probe("imap.condstore.same-flag-keeps-modseq", rfc="rfc7162#3.1 rfc7162#3.1.11", level="SHOULD",
       requirement="Setting a flag that is already set does not change the message's mod-sequence.", needs=CONDSTORE,
       tags=TAGS)
async def same_flag_keeps_modseq(ctx):
    async with filled(ctx, THREE, flags=["\\Flagged", None, None], select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        before = await fetch_modseqs(ctx, f.client, "1")
        await command_ok(ctx, f.client, "STORE 1 +FLAGS.SILENT (\\Flagged)")
        after = await fetch_modseqs(ctx, f.client, "1")
        ctx.expect(before == after, "the mod-sequence is unchanged", str(before), str(after))


@probe("imap.condstore.unchangedsince-modified", rfc="rfc7162#3.1.3", level="MUST",
       requirement="STORE (UNCHANGEDSINCE m) on a message modified after m is not performed and the tagged response "
                   "carries [MODIFIED n] naming it.", needs=CONDSTORE, tags=TAGS)
async def unchangedsince_modified(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        old = (await fetch_modseqs(ctx, f.client, "1"))[1]
        other = await session(ctx, "b", select=f.name)
        await command_ok(ctx, other, "STORE 1 +FLAGS.SILENT (\\Seen)", "session b's STORE")
        completion = await f.client.command(f"STORE 1 (UNCHANGEDSINCE {old}) +FLAGS (\\Answered)")
        code = completion.tagged.code_values() if completion.code == "MODIFIED" else []
        flags = lower((await fetch(ctx, other, "1 (FLAGS)"))[1].get(1, {}).get("FLAGS"))
        ctx.expect(completion.status in ("OK", "NO") and [str(v) for v in code] == ["1"] and "\\answered" not in flags,
                   "[MODIFIED 1] and \\Answered not set", "OK [MODIFIED 1] ...", completion.show())


@probe("imap.condstore.unchangedsince-passes", rfc="rfc7162#3.1.3", level="MUST",
       requirement="STORE (UNCHANGEDSINCE m) on an unmodified message is performed and sends an untagged FETCH with "
                   "the new MODSEQ, even with .SILENT.", needs=CONDSTORE, tags=TAGS)
async def unchangedsince_passes(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        current = (await fetch_modseqs(ctx, f.client, "2"))[2]
        completion = await command_ok(ctx, f.client, f"STORE 2 (UNCHANGEDSINCE {current}) +FLAGS.SILENT (\\Flagged)")
        fetched = {r.number: r.fetch() for r in completion.data("FETCH")}
        ctx.expect(completion.code != "MODIFIED" and "MODSEQ" in fetched.get(2, {}),
                   "no MODIFIED; * 2 FETCH (MODSEQ (...)) despite .SILENT", "* 2 FETCH (MODSEQ (m))",
                   completion.show())


@probe("imap.condstore.unchangedsince-zero-fails", rfc="rfc7162#3.1.3", level="MUST",
       requirement="STORE (UNCHANGEDSINCE 0) of a system flag always fails: [MODIFIED n] and no change.",
       needs=CONDSTORE, tags=TAGS)
async def unchangedsince_zero(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        completion = await f.client.command("STORE 3 (UNCHANGEDSINCE 0) +FLAGS.SILENT (\\Flagged)")
        flags = lower((await fetch(ctx, f.client, "3 (FLAGS)"))[1].get(3, {}).get("FLAGS"))
        ctx.expect(completion.code == "MODIFIED" and "\\flagged" not in flags, "[MODIFIED 3] and no change",
                   "OK [MODIFIED 3] ...", completion.show())


@probe("imap.condstore.search-modseq", rfc="rfc7162#3.1.5 rfc7162#3.1.6", level="MUST",
       requirement="SEARCH MODSEQ m finds the messages modified at or after m and appends (MODSEQ x), the highest "
                   "mod-sequence among them.", needs=CONDSTORE, tags=TAGS + ["search"])
async def search_modseq(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        top = highestmodseq(f.selected)
        await command_ok(ctx, f.client, "STORE 2 +FLAGS.SILENT (\\Flagged)")
        current = await fetch_modseqs(ctx, f.client)
        completion = await command_ok(ctx, f.client, f"SEARCH MODSEQ {top + 1}")
        data = completion.first("SEARCH")
        tail = data.values[-1] if data is not None and data.values else None
        ok = (data is not None and data.numbers() == [2] and isinstance(tail, list) and len(tail) == 2
              and str(tail[0]).upper() == "MODSEQ" and as_int(tail[1]) == current.get(2))
        ctx.expect(ok, "message 2, with its mod-sequence", f"* SEARCH 2 (MODSEQ {current.get(2)})", completion.show())


@probe("imap.condstore.changedsince", rfc="rfc7162#3.1.4.1", level="MUST",
       requirement="FETCH ... (CHANGEDSINCE m) returns only the messages whose mod-sequence is above m, with MODSEQ.",
       needs=CONDSTORE, tags=TAGS + ["fetch"])
async def changedsince(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        top = highestmodseq(f.selected)
        await command_ok(ctx, f.client, "STORE 3 +FLAGS.SILENT (\\Flagged)")
        completion, items = await fetch(ctx, f.client, f"1:* (FLAGS) (CHANGEDSINCE {top})")
        ctx.expect(list(items) == [3] and "MODSEQ" in items[3], "only message 3, with its MODSEQ",
                   "* 3 FETCH (FLAGS (\\Flagged) MODSEQ (m))", completion.show())


@probe("imap.condstore.status-highestmodseq", rfc="rfc7162#3.1.7", level="MUST",
       requirement="STATUS (HIGHESTMODSEQ) gives the same value as the HIGHESTMODSEQ response code of SELECT.",
       needs=CONDSTORE, tags=TAGS + ["status"])
async def status_highestmodseq(ctx):
    async with filled(ctx, THREE, select=False) as f:
        got = (await status(ctx, f.client, f.name, "HIGHESTMODSEQ")).get("HIGHESTMODSEQ")
        completion, _ = await f.client.select(f.name, params="CONDSTORE")
        ctx.setup(completion.ok, "SELECT (CONDSTORE) is answered OK", "OK", completion.show())
        ctx.expect(got is not None and got == highestmodseq(completion), "the same value",
                   f"HIGHESTMODSEQ {highestmodseq(completion)}", f"STATUS HIGHESTMODSEQ {got}")


@probe("imap.condstore.append-highest", rfc="rfc7162#3.1", level="MUST",
       requirement="A message appended to the mailbox gets a mod-sequence higher than every message already in it.",
       needs=CONDSTORE, tags=TAGS + ["append"])
async def append_highest(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        await condstore_box(ctx, f)
        await command_ok(ctx, f.client, "STORE 1:3 +FLAGS.SILENT (\\Flagged)")
        before = await fetch_modseqs(ctx, f.client)
        appended = await f.client.append(f.name, PLAIN)
        ctx.setup(appended.ok, "APPEND is answered OK", "OK", appended.show())
        await f.client.command("NOOP")
        after = await fetch_modseqs(ctx, f.client)
        ctx.expect(after.get(4) is not None and after[4] > max(v or 0 for v in before.values()),
                   "the new message's mod-sequence is the highest", f"> {max(v or 0 for v in before.values())}",
                   str(after))


@probe("imap.condstore.closed-code", rfc="rfc7162#3.2.11 rfc9051#6.3.2", level="MUST",
       requirement="When SELECT closes the selected mailbox to open another, an untagged OK [CLOSED] marks the "
                   "boundary between the two mailboxes' responses.", needs=CONDSTORE, tags=TAGS + ["select"])
async def closed_code(ctx):
    async with filled(ctx, THREE) as f:
        completion, _ = await f.client.select("INBOX", examine=True)
        ctx.setup(completion.ok, "EXAMINE INBOX is answered OK", "OK", completion.show())
        ctx.expect(any(r.kind == "untagged" for r in completion.codes("CLOSED")), "* OK [CLOSED] ...",
                   "* OK [CLOSED] ...", completion.show())


# --- QRESYNC ------------------------------------------------------------------------------------------------------


async def qresync_session(ctx, label: str | None = None):
    client = await session(ctx, label)
    completion = await command_ok(ctx, client, "ENABLE QRESYNC")
    return client, completion


@probe("imap.qresync.enable", rfc="rfc7162#3.2.3 rfc5161#3.1", level="MUST",
       requirement="ENABLE QRESYNC is supported: the ENABLED response lists QRESYNC.", needs=QRESYNC,
       tags=["qresync", "enable", "extension"])
async def qresync_enable(ctx):
    client, completion = await qresync_session(ctx)
    listed = [str(v).upper() for r in completion.data("ENABLED") for v in r.values]
    ctx.expect("QRESYNC" in listed, "* ENABLED QRESYNC", "* ENABLED QRESYNC", completion.show())


@probe("imap.qresync.vanished-instead-of-expunge", rfc="rfc7162#3.2.10 rfc7162#3.2.10.2 rfc7162#3.2.7", level="MUST",
       requirement="With QRESYNC enabled, EXPUNGE reports the removed messages with VANISHED (their UIDs, without "
                   "EARLIER) instead of EXPUNGE responses, and its tagged OK carries HIGHESTMODSEQ.", needs=QRESYNC,
       tags=["qresync", "expunge", "extension"])
async def vanished_instead(ctx):
    client, _ = await qresync_session(ctx)
    async with filled(ctx, THREE, client=client) as f:
        ctx.require(highestmodseq(f.selected) is not None, "the mailbox keeps no mod-sequences (NOMODSEQ)")
        uids = await uid_map(ctx, f.client)
        await command_ok(ctx, f.client, "STORE 2 +FLAGS.SILENT (\\Deleted)")
        completion = await command_ok(ctx, f.client, "EXPUNGE")
        ctx.expect(vanished(completion, earlier=False) == [uids[2]] and not completion.data("EXPUNGE")
                   and completion.code == "HIGHESTMODSEQ", f"* VANISHED {uids[2]}, no EXPUNGE, OK [HIGHESTMODSEQ n]",
                   f"* VANISHED {uids[2]} ... OK [HIGHESTMODSEQ n]", completion.show())


@probe("imap.qresync.select-vanished-earlier", rfc="rfc7162#3.2.5 rfc7162#3.2.5.1 rfc7162#3.2.10.1", level="MUST",
       requirement="SELECT (QRESYNC (uidvalidity modseq)) reports the messages expunged since modseq with VANISHED "
                   "(EARLIER).", needs=QRESYNC, tags=["qresync", "select", "extension"])
async def select_vanished_earlier(ctx):
    async with filled(ctx, THREE, select_params="CONDSTORE") as f:
        top = highestmodseq(f.selected)
        ctx.require(top is not None, "the mailbox keeps no mod-sequences (NOMODSEQ)")
        uids = await uid_map(ctx, f.client)
        await command_ok(ctx, f.client, "STORE 2 +FLAGS.SILENT (\\Deleted)")
        await command_ok(ctx, f.client, "EXPUNGE")
        client, _ = await qresync_session(ctx, "q")
        completion = await client.command(f"SELECT {astring(f.name)} (QRESYNC ({f.info.uidvalidity} {top}))")
        ctx.setup(completion.ok, "SELECT (QRESYNC ...) is answered OK", "OK", completion.show())
        ctx.expect(uids[2] in vanished(completion, earlier=True), f"* VANISHED (EARLIER) includes UID {uids[2]}",
                   f"* VANISHED (EARLIER) {uids[2]}", completion.show())


@probe("imap.qresync.requires-enable", rfc="rfc7162#3.2.5 rfc7162#3.2.3", level="MUST",
       requirement="SELECT with the QRESYNC parameter before ENABLE QRESYNC is answered BAD.", needs=QRESYNC,
       tags=["qresync", "select", "errors", "extension"])
async def qresync_requires_enable(ctx):
    async with filled(ctx, THREE, select=False) as f:
        completion = await f.client.command(f"SELECT {astring(f.name)} (QRESYNC (1 1))")
        ctx.expect(completion.status == "BAD", "BAD", "BAD", completion.show())


@probe("imap.qresync.unsolicited-fetch-uid-modseq", rfc="rfc7162#3.2.4", level="MUST",
       requirement="With QRESYNC enabled, an unsolicited FETCH reporting another session's flag change includes UID "
                   "and MODSEQ.", needs=QRESYNC, tags=["qresync", "multi-session", "extension"])
async def unsolicited_fetch(ctx):
    client, _ = await qresync_session(ctx)
    async with filled(ctx, THREE, client=client) as f:
        ctx.require(highestmodseq(f.selected) is not None, "the mailbox keeps no mod-sequences (NOMODSEQ)")
        other = await session(ctx, "b", select=f.name)
        await command_ok(ctx, other, "STORE 1 +FLAGS.SILENT (\\Flagged)", "session b's STORE")
        completion = await command_ok(ctx, f.client, "NOOP")
        fetches = [r.fetch() for r in completion.data("FETCH")]
        ctx.setup(bool(fetches), "the NOOP reports the flag change", "* 1 FETCH (...)", completion.show())
        ctx.expect(all("UID" in x and "MODSEQ" in x for x in fetches), "every unsolicited FETCH has UID and MODSEQ",
                   "* 1 FETCH (UID u MODSEQ (m) FLAGS (...))", completion.show())
