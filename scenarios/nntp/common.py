"""What the NNTP probes share: posting test articles to the profile's scratch groups and finding them again.

Articles can rarely be deleted over NNTP, so every check posts only to the groups the profile names
(`[nntp] groups`), with a message-id carrying the check's token, and never touches anything else. A server
may make a posted article visible a moment after its 240 (INN files it through innd): `visible` polls with
a bounded wait, as setup, so that slowness is never a verdict.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from conformance.dialects.nntp import (
    NntpClient,
    Response,
    article,
    article_ref,
    group_info,
)

POST_NEEDS = ["POST", "READER", "post-groups"]
VISIBLE_WAIT = 5.0  # seconds an accepted article may take to become readable


@dataclass
class Posted:
    message_id: str
    group: str
    number: int  # its number in `group`
    article: bytes  # what was sent (before dot-stuffing)

    @property
    def body(self) -> bytes:
        return self.article.partition(b"\r\n\r\n")[2]


def group_of(ctx, second: bool = False) -> str:
    groups = ctx.target.nntp_groups
    ctx.require(bool(groups), "the profile names no scratch newsgroups ([nntp] groups = [...])")
    return groups[1] if second and len(groups) > 1 else groups[0]


async def post(ctx, client: NntpClient, *, subject: str = "wireproof test", body: str | bytes = "",
               group: str | None = None, extra_headers: list[str] | None = None) -> Posted:
    """POST an article to a scratch group (as setup), wait until it is readable, and learn its number there."""
    group = group or group_of(ctx)
    data, message_id = article(newsgroups=group, token=ctx.token, subject=subject, body=body,
                               extra_headers=extra_headers)
    first, final = await client.post(data)
    ctx.setup(first.code == 340, "POST is answered 340", "340", first.show())
    ctx.setup(final is not None and final.code == 240, f"the article {message_id} is accepted", "240",
              final.show() if final else "")
    number = await visible(ctx, client, message_id, group)
    return Posted(message_id, group, number, data)


async def visible(ctx, client: NntpClient, message_id: str, group: str) -> int:
    """Wait (bounded) until the article can be read, then its number in `group`, from the Xref header or the
    article numbers above the group's earlier high water mark. Setup: a miss is an error."""
    deadline = time.monotonic() + VISIBLE_WAIT
    while True:
        stat = await client.cmd(f"STAT {message_id}")
        if stat.code == 223 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    ctx.setup(stat.code == 223, f"the article {message_id} becomes readable within {VISIBLE_WAIT:g} s", "223",
              stat.show())
    head = await client.cmd(f"HEAD {message_id}")
    ctx.setup(head.code == 221, f"HEAD {message_id} is answered 221", "221", head.show())
    for line in head.lines:
        if line.lower().startswith("xref:"):
            for entry in line.split()[2:]:
                name, _, num = entry.rpartition(":")
                if name == group and num.isdigit():
                    return int(num)
    # No Xref: find it among the group's articles, newest first.
    reply = await client.cmd(f"GROUP {group}")
    info = group_info(reply)
    ctx.setup(info is not None, f"GROUP {group} is answered 211", "211 n low high group", reply.show())
    for n in range(info.high, max(info.low, info.high - 50) - 1, -1):
        ref = article_ref(await client.cmd(f"STAT {n}"))
        if ref and ref[1] == message_id:
            return n
    ctx.setup(False, f"the article {message_id} is found in {group}", message_id, "not among the newest 50")
    raise AssertionError("unreachable")


async def select(ctx, client: NntpClient, group: str):
    reply = await client.cmd(f"GROUP {group}")
    info = group_info(reply)
    ctx.setup(info is not None, f"GROUP {group} is answered 211", "211 n low high group", reply.show())
    return info


def ref_of(response: Response) -> tuple[int, str] | None:
    return article_ref(response)
