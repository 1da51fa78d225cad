"""Probes of what a maildrop looks like through POP3: STAT, LIST, UIDL, RETR and TOP (RFC 1939 sections 5,
7 and 11), on a maildrop the probe filled itself (conformance/fill.py), so every count, size and line is
known in advance.
"""
from __future__ import annotations

from conformance.dialects.pop3 import dot_stuffed
from conformance.fill import maildrop
from conformance.registry import probe

from .messages import (DOTS_BODY, LINES_BODY, PLAIN_BODY, UID_RE, UNIQUE_ID_RE, listing, messages, same_message,
                       split, stat_values)

NEEDS = ["maildrop"]
TIMEOUT = 30  # the maildrop is filled first, and checks on one account take turns


async def retrieve_all(ctx, client, count: int) -> list[bytes]:
    """RETR 1..count as setup: the messages as the server holds them."""
    out = []
    for n in range(1, count + 1):
        reply = await client.multiline(f"RETR {n}")
        ctx.setup(reply.ok, f"RETR {n} is answered +OK", "+OK", reply.show())
        out.append(reply.content)
    return out


@probe("pop3.stat.drop-listing", rfc="rfc1939#5", level="MUST",
       requirement="STAT is answered \"+OK nn mm\": the number of messages and the size of the maildrop in octets, "
                   "each after a single space.", needs=NEEDS, tags=["stat"], timeout=TIMEOUT)
async def stat_drop_listing(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        stat = await client.cmd("STAT")
        values = stat_values(stat.text) if stat.ok else None
        ctx.expect(values is not None, "STAT gives a drop listing", "+OK nn mm", stat.show())
        ctx.expect(values[0] == len(msgs), f"the drop listing counts the {len(msgs)} messages in the maildrop",
                   f"+OK {len(msgs)} ...", stat.show())
        sizes = [len(m) for m in await retrieve_all(ctx, client, len(msgs))]
        ctx.expect(values[1] == sum(sizes), "the maildrop size is the sum of the message sizes",
                   f"+OK {len(msgs)} {sum(sizes)}", stat.show())


@probe("pop3.list.scan-listings", rfc="rfc1939#5", level="MUST",
       requirement="LIST without an argument is a multi-line +OK with one scan listing \"n size\" per message, "
                   "numbered from 1, agreeing with STAT in count and total size.", needs=NEEDS, tags=["list"],
       timeout=TIMEOUT)
async def list_scan_listings(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY, LINES_BODY)):
        client = await ctx.pop3(login=True)
        stat = stat_values((await client.cmd("STAT")).text)
        ctx.setup(stat is not None, "STAT gives a drop listing", "+OK nn mm", str(stat))
        reply = await client.multiline("LIST")
        ctx.expect(reply.ok, "LIST is answered +OK", "+OK", reply.show())
        scan = listing(reply.lines)
        ctx.expect(scan is not None, "every line is a scan listing \"n size\"", "n size", reply.show())
        ctx.expect(sorted(scan) == list(range(1, len(msgs) + 1)), f"messages 1 to {len(msgs)} are listed",
                   " ".join(map(str, range(1, len(msgs) + 1))), reply.show())
        ctx.expect(sum(int(v) for v in scan.values()) == stat[1], "the sizes add up to STAT's maildrop size",
                   f"total {stat[1]}", reply.show())


@probe("pop3.list.exact-size", rfc="rfc1939#5 rfc1939#11", level="MUST",
       requirement="The size in a scan listing is the exact size of the message as RETR sends it: CRLF line ends "
                   "counted as two octets, the stuffed dots of lines starting with \".\" not counted.",
       needs=NEEDS, tags=["list", "retr", "dotstuff"], timeout=TIMEOUT)
async def list_exact_size(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        reply = await client.multiline("LIST")
        scan = listing(reply.lines) if reply.ok else None
        ctx.setup(scan is not None and len(scan) == len(msgs), "LIST gives one scan listing per message",
                  "n size", reply.show())
        for n, content in enumerate(await retrieve_all(ctx, client, len(msgs)), 1):
            ctx.expect(int(scan[n]) == len(content), f"message {n}'s listed size is its size as retrieved",
                       f"{n} {len(content)}", f"{n} {scan[n]}")


@probe("pop3.list.single-message", rfc="rfc1939#5", level="MUST",
       requirement="LIST with a message-number is answered \"+OK n size\" as in the full listing; for a number with "
                   "no message it is -ERR.", needs=NEEDS, tags=["list"], timeout=TIMEOUT)
async def list_single(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        reply = await client.multiline("LIST")
        scan = listing(reply.lines) if reply.ok else None
        ctx.setup(scan is not None and len(scan) == len(msgs), "LIST gives one scan listing per message",
                  "n size", reply.show())
        for n in scan:
            one = await client.cmd(f"LIST {n}")
            ctx.expect(one.ok and one.text.split()[:2] == [str(n), scan[n]], f"LIST {n} repeats its scan listing",
                       f"+OK {n} {scan[n]}", one.show())
        one = await client.cmd(f"LIST {len(msgs) + 1}")
        ctx.expect(one.err, "LIST of a message-number with no message is refused", "-ERR", one.show())


@probe("pop3.list.empty-maildrop", rfc="rfc1939#5", level="MUST",
       requirement="On an empty maildrop STAT is \"+OK 0 0\" and LIST is +OK followed directly by the terminating "
                   "line, with no scan listings.", needs=["account"], tags=["list", "stat"], timeout=TIMEOUT)
async def list_empty(ctx):
    async with maildrop(ctx, []):
        client = await ctx.pop3(login=True)
        stat = await client.cmd("STAT")
        ctx.expect(stat.ok and stat_values(stat.text) == (0, 0), "STAT on an empty maildrop is +OK 0 0", "+OK 0 0",
                   stat.show())
        reply = await client.multiline("LIST")
        ctx.expect(reply.ok and reply.data == [], "LIST on an empty maildrop is +OK and the terminating line",
                   "+OK\n.", reply.show())


@probe("pop3.uidl.syntax", rfc="rfc1939#7", level="MUST",
       requirement="UIDL without an argument lists \"n unique-id\" per message; each unique-id is 1 to 70 characters "
                   "from 0x21 to 0x7E, nothing follows it, and no two messages share one.",
       needs=NEEDS + ["UIDL"], tags=["uidl"], timeout=TIMEOUT)
async def uidl_syntax(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY, LINES_BODY)):
        client = await ctx.pop3(login=True)
        reply = await client.multiline("UIDL")
        ctx.expect(reply.ok, "UIDL is answered +OK", "+OK", reply.show())
        uids = listing(reply.lines, UNIQUE_ID_RE)
        ctx.expect(uids is not None and sorted(uids) == list(range(1, len(msgs) + 1)),
                   f"one unique-id listing \"n uid\" for each of messages 1 to {len(msgs)}", "n uid", reply.show())
        for n, uid in uids.items():
            ctx.expect(UID_RE.match(uid) is not None, f"message {n}'s unique-id is 1-70 printable characters",
                       "1*70 of 0x21-0x7E", repr(uid))
        ctx.expect(len(set(uids.values())) == len(uids), "unique-ids differ (the messages differ)",
                   "distinct unique-ids", reply.show())


@probe("pop3.uidl.single-message", rfc="rfc1939#7", level="MUST",
       requirement="UIDL with a message-number is answered \"+OK n unique-id\" as in the full listing; for a number "
                   "with no message it is -ERR.", needs=NEEDS + ["UIDL"], tags=["uidl"], timeout=TIMEOUT)
async def uidl_single(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        reply = await client.multiline("UIDL")
        uids = listing(reply.lines, UNIQUE_ID_RE) if reply.ok else None
        ctx.setup(uids is not None and len(uids) == len(msgs), "UIDL lists every message", "n uid", reply.show())
        for n, uid in uids.items():
            one = await client.cmd(f"UIDL {n}")
            ctx.expect(one.ok and one.text == f"{n} {uid}", f"UIDL {n} repeats its unique-id listing",
                       f"+OK {n} {uid}", one.show())
        one = await client.cmd(f"UIDL {len(msgs) + 1}")
        ctx.expect(one.err, "UIDL of a message-number with no message is refused", "-ERR", one.show())


@probe("pop3.uidl.stable-across-sessions", rfc="rfc1939#7", level="MUST",
       requirement="A message keeps its unique-id across sessions, also when a session ended without QUIT (never "
                   "entering UPDATE).", needs=NEEDS + ["UIDL"], tags=["uidl"], timeout=TIMEOUT)
async def uidl_stable(ctx):
    async with maildrop(ctx, messages(ctx, PLAIN_BODY, DOTS_BODY)):
        first = None
        for before in ("", "a session that ended with QUIT", "a session that ended without QUIT"):
            client = await ctx.pop3(login=True)
            reply = await client.multiline("UIDL")
            uids = listing(reply.lines, UNIQUE_ID_RE) if reply.ok else None
            ctx.setup(uids is not None, "UIDL lists the messages", "n uid", reply.show())
            if first is None:
                first = reply
            else:
                ctx.expect(set(uids.values()) == set(listing(first.lines, UNIQUE_ID_RE).values()),
                           f"the unique-ids are the same after {before}", first.show(), reply.show())
            if not before:
                await client.quit()  # the first session ends with QUIT, the second is dropped
            await client.wire.close()


@probe("pop3.retr.content", rfc="rfc1939#5 rfc1939#11", level="MUST",
       requirement="RETR sends the message as it was put into the maildrop: its header fields and, byte for byte, "
                   "its body (CRLF line ends).", needs=NEEDS, tags=["retr"], timeout=TIMEOUT)
async def retr_content(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, LINES_BODY)):
        client = await ctx.pop3(login=True)
        for n, (sent, got) in enumerate(zip(msgs, await retrieve_all(ctx, client, len(msgs))), 1):
            ctx.expect(same_message(sent, got), f"RETR {n} gives back the message that was filled",
                       sent.decode("utf-8", "replace"), got.decode("utf-8", "replace"))


@probe("pop3.retr.dot-stuffing", rfc="rfc1939#3 rfc1939#5", level="MUST",
       requirement="In a multi-line response every line that starts with \".\" is sent with one more \".\" "
                   "(byte-stuffed), and the response ends with a line holding only \".\".",
       needs=NEEDS, tags=["retr", "dotstuff"], timeout=TIMEOUT)
async def retr_dot_stuffing(ctx):
    async with maildrop(ctx, msgs := messages(ctx, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        reply = await client.multiline("RETR 1")
        ctx.setup(reply.ok, "RETR 1 is answered +OK", "+OK", reply.show())
        _, body = split(reply.content)
        ctx.setup(body == split(msgs[0])[1], "the unstuffed body is the one sent", DOTS_BODY.decode(),
                  body.decode("utf-8", "replace"))
        wire = b"".join(reply.raw[1:])
        expected = b"".join(dot_stuffed(body))
        ctx.expect(wire.endswith(expected), "the body lines went over the wire byte-stuffed, then \".\" CRLF",
                   expected.decode("utf-8", "replace"), wire.decode("utf-8", "replace"))


@probe("pop3.top.headers-only", rfc="rfc1939#7", level="MUST",
       requirement="TOP n 0 sends the message's header fields and the blank line after them, and no body line.",
       needs=NEEDS + ["TOP"], tags=["top"], timeout=TIMEOUT)
async def top_headers_only(ctx):
    async with maildrop(ctx, messages(ctx, LINES_BODY)):
        client = await ctx.pop3(login=True)
        full = (await retrieve_all(ctx, client, 1))[0]
        reply = await client.multiline("TOP 1 0")
        ctx.expect(reply.ok, "TOP 1 0 is answered +OK", "+OK", reply.show())
        head, _ = split(full)
        ctx.expect(reply.content == head + b"\r\n", "TOP 1 0 is the header and the blank line",
                   (head + b"\r\n").decode("utf-8", "replace"), reply.content.decode("utf-8", "replace"))


@probe("pop3.top.body-lines", rfc="rfc1939#7", level="MUST",
       requirement="TOP n k sends the header, the blank line and the first k lines of the body; when k exceeds the "
                   "body's lines it sends the entire message.", needs=NEEDS + ["TOP"], tags=["top"], timeout=TIMEOUT)
async def top_body_lines(ctx):
    async with maildrop(ctx, messages(ctx, LINES_BODY)):
        client = await ctx.pop3(login=True)
        full = (await retrieve_all(ctx, client, 1))[0]
        head, body = split(full)
        lines = body.split(b"\r\n")[:-1]
        for k in (2, len(lines) + 5):
            expected = head + b"\r\n" + b"".join(line + b"\r\n" for line in lines[:k])
            reply = await client.multiline(f"TOP 1 {k}")
            ctx.expect(reply.ok and reply.content == expected, f"TOP 1 {k} sends the header and "
                       + (f"{k} body lines" if k <= len(lines) else "the entire body"),
                       expected.decode("utf-8", "replace"), reply.show())
