"""Test data for the IMAP checks: scratch mailboxes of their own, filled through the protocol under test.

An IMAP check that needs messages never uses a mailbox it did not create (DESIGN.md, "Test data on real
servers"). It creates one named after its run token,

    <personal namespace prefix>wireproof-<12 hex digits of the check's token>[-suffix]

fills it with APPEND, and deletes it at the end, also when it fails or times out. The prefix is the one
the server announces for the personal namespace (NAMESPACE, RFC 2342), e.g. `INBOX.` on servers that
keep every mailbox below INBOX; discovery records it. Cleanup lists `<prefix>wireproof-<hex>*` and deletes
what it finds (deepest names first), from a session of its own, so it works whatever state the check left
its sessions in; it never touches a name without the check's token.

Read-only checks on INBOX (SELECT/EXAMINE data, LIST, STATUS) may look at it but change nothing.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from .dialects.imap import Completion, ImapClient, astring

CLEANUP_TIMEOUT = 10.0  # seconds for the cleanup session (connect, login, LIST, DELETEs, LOGOUT)


def namespace(ctx) -> tuple[str, str]:
    """(personal namespace prefix, hierarchy delimiter) as discovery learnt them ("" and "/" if unknown)."""
    params = ctx.cap("imap").params
    return params.get("prefix", ""), params.get("delimiter", "/") or "/"


def stem(ctx) -> str:
    """The part of every scratch name that is this check's own: `<prefix>wireproof-<hex>`."""
    prefix, _ = namespace(ctx)
    return f"{prefix}wireproof-{ctx.token.removeprefix('wp-')}"


def name(ctx, suffix: str = "") -> str:
    """A scratch mailbox name of this check (`suffix` tells several apart: "", "2", "dest", ...)."""
    return stem(ctx) + (f"-{suffix}" if suffix else "")


def child(ctx, parent: str, leaf: str) -> str:
    """A name one level below `parent` in the server's hierarchy."""
    return f"{parent}{namespace(ctx)[1]}{leaf}"


@dataclass
class Box:
    """A scratch mailbox, filled: its name and the UIDs APPEND reported (APPENDUID, when offered)."""

    name: str
    appended: list[Completion] = field(default_factory=list)

    @property
    def uids(self) -> list[int | None]:
        out = []
        for c in self.appended:
            vals = c.tagged.code_values() if c.tagged is not None and c.code == "APPENDUID" else []
            out.append(int(vals[1]) if len(vals) > 1 and str(vals[1]).isdigit() else None)
        return out


async def create(ctx, client: ImapClient, box: str) -> None:
    completion = await client.command(f"CREATE {astring(box)}")
    ctx.setup(completion.ok, f"CREATE {box} (a scratch mailbox) is accepted", "OK", completion.show())


async def fill(ctx, client: ImapClient, box: str, messages: list[bytes], flags: list[str | None] | None = None) -> Box:
    """APPEND each message (with its flags, if given) to `box` as setup; the completions are kept."""
    result = Box(box)
    for i, message in enumerate(messages):
        completion = await client.append(box, message, flags=(flags[i] if flags else None))
        ctx.setup(completion.ok, f"APPEND of message {i + 1} to {box} is accepted", "OK", completion.show())
        result.appended.append(completion)
    return result


@contextlib.asynccontextmanager
async def scratch(ctx, client: ImapClient, messages: list[bytes] = (), *, suffix: str = "",
                  flags: list[str | None] | None = None, select: bool = False):
    """A new scratch mailbox holding `messages` (APPENDed in order) for the block; optionally selected.
    Deleted afterwards with everything else of this check (see cleanup)."""
    box = name(ctx, suffix)
    try:
        await create(ctx, client, box)
        filled = await fill(ctx, client, box, list(messages), flags)
        if select:
            completion, _ = await client.select(box)
            ctx.setup(completion.ok, f"SELECT {box} is accepted", "OK", completion.show())
        yield filled
    finally:
        await cleanup(ctx, box)


async def cleanup(ctx, root: str | None = None) -> None:
    """Delete the scratch mailbox `root` with everything below it, or (no root) every mailbox of this check
    (names starting with its stem); subscriptions to those names go too. Best effort, bounded in time."""
    try:
        await asyncio.wait_for(_cleanup(ctx, root), CLEANUP_TIMEOUT)
    except Exception as exc:  # a cleanup that fails leaves a scratch mailbox behind; say so, judge nothing
        ctx.transcript.note("cleanup", f"scratch mailboxes of this check could not be deleted: {exc!r}")


async def _cleanup(ctx, root: str | None) -> None:
    if not ctx.target.accounts:
        return
    mine = stem(ctx)
    delim = namespace(ctx)[1]

    def ours(name: str) -> bool:
        if root is None:
            return name.startswith(mine)
        return name == root or name.startswith(root + delim)

    client = await ctx.imap(login=True, label="cleanup")
    try:
        pattern = astring((root or mine) + "*")
        for verb in ("LIST", "LSUB"):
            listing = await client.command(f'{verb} "" {pattern}')
            names = [e.name for r in listing.data(verb) if (e := r.mailbox_list()) is not None and ours(e.name)]
            for box in sorted(set(names), key=len, reverse=True):
                await client.command(f"{'DELETE' if verb == 'LIST' else 'UNSUBSCRIBE'} {astring(box)}")
    finally:
        await client.logout()
        await client.wire.close()
