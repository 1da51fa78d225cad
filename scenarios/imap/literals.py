"""Probes of literal framing and line limits (RFC 3501 sections 2.2, 4.3 and 7.5; RFC 9051 the same; RFC 7162
section 4 on command-line lengths).

The protocol receiver of a server reads either a line or a counted number of octets (RFC 3501 section 2.2):
how TCP happens to split what the client writes must make no difference. These probes write an APPEND, its
literal and the command that follows in many small pieces, with pauses so that they arrive as separate
segments, and then fetch the message back octet for octet.
"""
from __future__ import annotations

import asyncio

from conformance.dialects.imap import Completion, astring
from conformance.registry import probe

from .common import ACCOUNT, fetch, filled
from .messages import PLAIN

LINE_LIMIT_PROBE = 8000  # octets: a command line of this length is within the ~8192 RFC 7162 section 4 expects
OVERLONG = 100_000  # octets: a command line far beyond any sensible limit


async def append_in_pieces(ctx, client, box: str, message: bytes, piece: int, pause: float) -> Completion:
    """APPEND `message` with a synchronizing literal, writing the command line and the literal in pieces of
    `piece` octets with `pause` seconds between writes. Returns the completion (setup on the way)."""
    completion = Completion("s1")
    head = f"s1 APPEND {astring(box)} {{{len(message)}}}\r\n".encode()
    for i in range(0, len(head), piece):
        await client.send_raw(head[i:i + piece])
        await asyncio.sleep(pause)
    await client.read_completion(completion)
    ctx.setup(bool(completion.continuations), "the server asks for the literal", "+ ...", completion.show())
    data = message + b"\r\n"
    for i in range(0, len(data), piece):
        await client.send_raw(data[i:i + piece])
        await asyncio.sleep(pause)
    return await client.read_completion(completion)


async def check_stored(ctx, client, what: str) -> None:
    completion, items = await fetch(ctx, client, "1 (BODY.PEEK[])")
    body = items.get(1, {}).get("BODY[]")
    ctx.expect(body == PLAIN, f"the message APPENDed {what} is stored octet for octet", PLAIN.decode(),
               completion.show())


@probe("imap.literal.split-across-reads", rfc="rfc3501#2.2 rfc3501#4.3 rfc9051#2.2 rfc9051#4.3", level="MUST",
       requirement="An APPEND whose command line and literal arrive in many small TCP segments is read by its octet "
                   "count: the message is stored exactly as sent.", needs=ACCOUNT, tags=["literal", "append"])
async def split_across_reads(ctx):
    async with filled(ctx, [], select=False) as f:
        completion = await append_in_pieces(ctx, f.client, f.name, PLAIN, piece=37, pause=0.01)
        ctx.expect(completion.ok, "the APPEND written in 37-octet pieces is completed OK", "OK", completion.show())
        await f.client.select(f.name)
        await check_stored(ctx, f.client, "in 37-octet pieces")


@probe("imap.literal.byte-at-a-time", rfc="rfc3501#2.2 rfc3501#4.3 rfc9051#2.2 rfc9051#4.3", level="MUST",
       requirement="An APPEND written one octet at a time (command line, literal and final CRLF) is completed OK and "
                   "the message is stored exactly as sent.", needs=ACCOUNT, tags=["literal", "append"], timeout=30)
async def byte_at_a_time(ctx):
    async with filled(ctx, [], select=False) as f:
        completion = await append_in_pieces(ctx, f.client, f.name, PLAIN, piece=1, pause=0.001)
        ctx.expect(completion.ok, "the APPEND written one octet at a time is completed OK", "OK", completion.show())
        await f.client.select(f.name)
        await check_stored(ctx, f.client, "one octet at a time")


@probe("imap.literal.octets-not-commands", rfc="rfc3501#4.3 rfc3501#2.2 rfc9051#4.3", level="MUST",
       requirement="The octets of a literal are data, never commands: a message body holding lines that look like "
                   "tagged commands (x1 LOGOUT) is stored, and none of them is executed.", needs=ACCOUNT,
       tags=["literal", "append", "security"])
async def octets_not_commands(ctx):
    message = PLAIN.replace(b"A second line of the body.", b"x1 LOGOUT\r\nx2 DELETE INBOX\r\n* BYE fake")
    async with filled(ctx, [], select=False) as f:
        completion = await f.client.append(f.name, message)
        executed = [r.line for r in completion.order if r.tag in ("x1", "x2") or r.name == "BYE"]
        ctx.expect(completion.ok and not executed, "APPEND is completed OK with no response to the lines inside the "
                   "literal", "OK (and nothing tagged x1 or x2)", completion.show())
        completion, _ = await f.client.select(f.name)
        _, items = await fetch(ctx, f.client, "1 (BODY.PEEK[])")
        ctx.expect(items.get(1, {}).get("BODY[]") == message, "the message holds those lines as text", message.decode(),
                   str(items.get(1, {}).get("BODY[]")))


@probe("imap.limits.long-command-line", rfc="rfc7162#4 rfc3501#2.2", level="SHOULD",
       requirement="A command line of about 8000 octets (a UID FETCH with a long UID set, as resynchronizing clients "
                   "send) is accepted.", needs=ACCOUNT, tags=["limits"])
async def long_command_line(ctx):
    async with filled(ctx, [PLAIN]) as f:
        uids = []
        n = 1
        while len(",".join(uids)) < LINE_LIMIT_PROBE - 40:
            uids.append(str(n))
            n += 2
        line = f"UID FETCH {','.join(uids)} (FLAGS)"
        completion = await f.client.command(line)
        ctx.expect(completion.ok, f"a UID FETCH of {len(line) + 5} octets is completed OK", "OK",
                   completion.show())


@probe("imap.limits.overlong-line-one-response", rfc="rfc3501#2.2.2 rfc3501#7.1.3 rfc9051#2.2.2", level="SHOULD",
       requirement="A command line of 100,000 octets is refused as one command (a single BAD, or BYE and the end of "
                   "the connection); it is not cut into pieces that are answered as commands, and the command after "
                   "it is answered.", needs=ACCOUNT, tags=["limits", "syntax"])
async def overlong_line(ctx):
    client = await ctx.imap(login=True)
    await client.send_raw(b"o1 XWPBOGUS " + b"x" * OVERLONG + b"\r\no2 NOOP\r\n")
    completion = Completion("o2")
    await client.read_completion(completion)
    shown = completion.show()
    if completion.closed:
        ctx.expect(bool(completion.data("BYE")), "the server ended the connection with BYE", "* BYE ...", shown)
        return
    others = [r for r in completion.order if r.tag != "o2"]
    ctx.expect(completion.ok and len(others) == 1 and others[0].status == "BAD",
               "exactly one BAD for the long line, then o2 OK", "o1 BAD (or * BAD), then o2 OK", shown)
