"""Scratch collections for the WebDAV checks: every check works under a collection of its own.

A WebDAV check never touches a resource it did not create (DESIGN.md, "Test data on real servers"). It makes
one collection named after its run token, below the path of the target's WebDAV endpoint,

    <endpoint path>wireproof-<12 hex digits of the check's token>[-suffix]/

with MKCOL (as setup: a server that refuses it leaves the check undecided, never failed), does everything in
there, and deletes it at the end, also when the check fails or times out. Cleanup first UNLOCKs the locks the
check's LOCK requests obtained (their tokens are remembered by every HttpClient of the check), then DELETEs the
collection, submitting the remaining lock tokens in an If header when the server answers 423. It runs in a
session of its own, bounded in time, and only ever names paths carrying the check's token.
"""
from __future__ import annotations

import asyncio
import contextlib

CLEANUP_TIMEOUT = 10.0  # seconds for the whole cleanup (UNLOCKs and the DELETE)


def base(ctx) -> str:
    """The path of the target's WebDAV endpoint, ending in "/": the collection scratch collections go into."""
    path = ctx.endpoint("webdav").path or "/"
    return path if path.endswith("/") else path + "/"


def name(ctx, suffix: str = "") -> str:
    """The last segment of a scratch collection of this check (`suffix` tells several apart)."""
    return f"wireproof-{ctx.token.removeprefix('wp-')}" + (f"-{suffix}" if suffix else "")


def path(ctx, suffix: str = "") -> str:
    return base(ctx) + name(ctx, suffix) + "/"


@contextlib.asynccontextmanager
async def collection(ctx, client=None, suffix: str = ""):
    """A new, empty scratch collection for the block (its path, ending in "/"); deleted afterwards."""
    client = client or await ctx.http()
    col = path(ctx, suffix)
    try:
        response = await client.request("MKCOL", col)
        ctx.setup(response.status == 201, f"MKCOL {col} (this check's scratch collection) is answered 201",
                  "HTTP/1.1 201 Created", response.show())
        yield col
    finally:
        await cleanup(ctx, col)


async def cleanup(ctx, root: str) -> None:
    """Remove the scratch collection `root` and the locks of this check below it. Best effort: a failure is
    noted in the transcript and judged by nobody."""
    try:
        await asyncio.wait_for(_cleanup(ctx, root), CLEANUP_TIMEOUT)
    except Exception as exc:  # a scratch collection left behind is noted, not judged
        ctx.transcript.note("cleanup", f"the scratch collection {root} could not be removed: {exc!r}")


async def _cleanup(ctx, root: str) -> None:
    if ctx.token.removeprefix("wp-") not in root:
        raise AssertionError(f"refusing to clean up {root}: it does not carry this check's token")
    locks: list[tuple[str, str]] = ctx.__dict__.setdefault("http_locks", [])
    client = await ctx.http(label="cleanup")
    try:
        mine = [(p, t) for p, t in locks if p.startswith(root)]
        for target, token in mine:
            await client.request("UNLOCK", target, [("Lock-Token", f"<{token}>")])
        response = await client.request("DELETE", root)
        if response.status == 423 and mine:
            tokens = " ".join(f"(<{t}>)" for _, t in mine)
            await client.request("DELETE", root, [("If", tokens)])
        locks[:] = [(p, t) for p, t in locks if not p.startswith(root)]
    finally:
        await client.close()
