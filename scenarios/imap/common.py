"""What the IMAP probes share: logged-in sessions, filled scratch mailboxes, and small readers of FETCH data.

Every probe that needs messages works in a scratch mailbox of its own (conformance/scratch.py), filled with
APPEND, the command under test elsewhere in the suite: when APPEND fails the probe cannot set up and ends as
`error`, never `fail`.
"""
from __future__ import annotations

import contextlib
import re
from datetime import datetime
from dataclasses import dataclass

from conformance import scratch
from conformance.dialects.imap import Completion, ImapClient, Selected, astring, fetch_by_number

DATE_TIME_RE = re.compile(r"^[ 0-3]\d-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4} "
                          r"\d\d:\d\d:\d\d [+-]\d{4}$")
ACCOUNT = ["account"]


@dataclass
class Filled:
    """A filled scratch mailbox, selected (or examined) in `client`."""

    client: ImapClient
    name: str
    info: Selected
    selected: Completion | None
    box: scratch.Box

    @property
    def uids(self) -> list[int | None]:
        return self.box.uids


async def session(ctx, label: str | None = None, *, select: str | None = None, examine: bool = False) -> ImapClient:
    """A logged-in session (and the mailbox selected, as setup)."""
    return await ctx.imap(login=True, label=label, select=select, examine=examine)


@contextlib.asynccontextmanager
async def filled(ctx, messages: list[bytes] = (), *, flags: list[str | None] | None = None, suffix: str = "",
                 select: bool = True, examine: bool = False, client: ImapClient | None = None,
                 dates: list[str | None] | None = None, select_params: str = "", check_exists: bool = True):
    """A new scratch mailbox holding `messages` (APPENDed in order, with `flags` and internal `dates`), selected
    in a logged-in session; deleted again afterwards."""
    client = client or await session(ctx)
    box = scratch.name(ctx, suffix)
    try:
        await scratch.create(ctx, client, box)
        result = scratch.Box(box)
        for i, message in enumerate(messages):
            completion = await client.append(box, message, flags=flags[i] if flags else None,
                                             date=dates[i] if dates else None)
            ctx.setup(completion.ok, f"APPEND of message {i + 1} to {box} is accepted", "OK", completion.show())
            result.appended.append(completion)
        info, completion = Selected(), None
        if select:
            completion, info = await client.select(box, examine=examine, params=select_params)
            ctx.setup(completion.ok, f"{'EXAMINE' if examine else 'SELECT'} {box} is accepted", "OK",
                      completion.show())
            if check_exists:
                ctx.setup(info.exists == len(messages), f"{box} holds the {len(messages)} message(s) just appended",
                          f"* {len(messages)} EXISTS", completion.show())
        yield Filled(client, box, info, completion, result)
    finally:
        await scratch.cleanup(ctx, box)


async def fetch(ctx, client: ImapClient, what: str, *, uid: bool = False) -> tuple[Completion, dict[int, dict]]:
    """FETCH (or UID FETCH) as setup: the completion and the items by message sequence number."""
    completion = await client.command(f"{'UID ' if uid else ''}FETCH {what}")
    ctx.setup(completion.ok, f"{'UID ' if uid else ''}FETCH {what} is answered OK", "OK", completion.show())
    return completion, fetch_by_number(completion)


async def uid_map(ctx, client: ImapClient) -> dict[int, int]:
    """Message sequence number -> UID of every message in the selected mailbox (FETCH 1:* (UID), as setup)."""
    completion, items = await fetch(ctx, client, "1:* (UID)")
    out = {}
    for n, data in items.items():
        value = data.get("UID")
        ctx.setup(value is not None and str(value).isdigit(), f"FETCH gives message {n} a UID", "UID n",
                  completion.show())
        out[n] = int(value)
    return out


async def flags_of(ctx, client: ImapClient, n: int, *, uid: bool = False) -> set[str]:
    completion, items = await fetch(ctx, client, f"{n} (FLAGS)", uid=uid)
    for data in items.values():
        if "FLAGS" in data and isinstance(data["FLAGS"], list):
            return {str(f).lower() for f in data["FLAGS"]}
    ctx.setup(False, f"FETCH {n} (FLAGS) returns the flags", "* n FETCH (FLAGS (...))", completion.show())
    return set()


async def command_ok(ctx, client: ImapClient, line: str, what: str | None = None) -> Completion:
    """A command that must succeed for the probe to reach its point."""
    completion = await client.command(line)
    ctx.setup(completion.ok, f"{what or line} is answered OK", "OK", completion.show())
    return completion


def instant(date_time) -> datetime | None:
    """An IMAP date-time ("05-Mar-2002 14:15:16 +0100", str or bytes) as an aware datetime; None if malformed."""
    text = date_time.decode("ascii", "replace") if isinstance(date_time, bytes) else str(date_time or "")
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def lower(flags) -> set[str]:
    return {str(f).lower() for f in (flags or [])}


def status_items(completion: Completion) -> dict[str, int]:
    data = completion.first("STATUS")
    parsed = data.status_items() if data is not None else None
    return parsed[1] if parsed else {}


async def status(ctx, client: ImapClient, box: str, items: str) -> dict[str, int]:
    completion = await command_ok(ctx, client, f"STATUS {astring(box)} ({items})")
    return status_items(completion)


def search_numbers(completion: Completion) -> list[int] | None:
    """The numbers of the SEARCH (or SORT) responses of a completion; None when there is none."""
    found = completion.data("SEARCH") or completion.data("SORT")
    if not found:
        return None
    return [n for r in found for n in r.numbers()]


def refused(completion: Completion) -> bool:
    """Refused with a tagged NO or BAD (or, equivalently for these checks, the connection ended with BYE)."""
    return completion.status in ("NO", "BAD") or (completion.closed and bool(completion.data("BYE")))
