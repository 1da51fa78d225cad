"""Probes that read back what the server delivered: transparency, trace fields, 8-bit content, chunks.

They need a read-back mailbox in the target profile ([readback] url): the message is sent to the address
that mailbox receives, found again by its X-Wireproof-Token header, and deleted after reading.
"""
from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from conformance.registry import probe

NEEDS = ["readback"]


def header_block(msg: bytes) -> list[bytes]:
    """Unfolded header fields, in order."""
    head = msg.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    fields: list[bytes] = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b" " + line.strip()
        elif line:
            fields.append(line)
    return fields


def body_of(msg: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in msg:
            return msg.split(sep, 1)[1]
    return b""


async def deliver(ctx, body: bytes | str = b"", *, extra_headers=None, stuff=True, raw: bytes | None = None,
                  mail_params: str = "") -> bytes:
    """Send one message to the read-back address and return the delivered copy."""
    box = ctx.readback()
    rcpt = ctx.var("readback_rcpt")
    client = await ctx.smtp()
    await ctx.transaction(client, rcpts=[rcpt], mail_params=mail_params)
    first = await client.cmd("DATA")
    ctx.setup(first.code == 354, "DATA is answered 354", "354", str(first))
    if raw is not None:
        await client.wire.send(raw)
    else:
        from conformance.dialects.smtp import dot_stuff

        msg = ctx.message("read-back probe", body, rcpt=rcpt, extra_headers=extra_headers)
        await client.wire.send(dot_stuff(msg) if stuff else msg + b".\r\n")
    final = await client.read_reply()
    ctx.setup(final.code == 250, "the message is accepted", "250", str(final))
    await client.quit()
    found = await box.fetch(ctx.token)
    ctx.setup(len(found) == 1, "the message arrives in the read-back mailbox", "one message",
              f"{len(found)} messages carrying token {ctx.token}")
    return found[0]


@probe("smtp.data.dotstuff-receiver", rfc="rfc5321#4.5.2", level="MUST",
       requirement="The receiver removes the extra dot a sender added to lines starting with a dot: the stored "
                   "message has the original lines.", needs=NEEDS, tags=["data", "dotstuff", "readback"])
async def dotstuff_receiver(ctx):
    lines = [b".leading dot", b"..two dots", b". space after dot", b"...", b"plain"]
    got = body_of(await deliver(ctx, b"\r\n".join(lines) + b"\r\n"))
    delivered = re.split(rb"\r?\n", got)
    for line in lines:
        ctx.expect(line in delivered, f"the line {line.decode()!r} is delivered as sent before stuffing",
                   line.decode(), got.decode("utf-8", "backslashreplace"))


@probe("smtp.data.leading-dot-removed", rfc="rfc5321#4.5.2", level="MUST",
       requirement="A line with a leading dot and more characters loses that first dot on receipt, even if the "
                   "sender forgot to stuff it.", needs=NEEDS, tags=["data", "dotstuff", "readback"])
async def leading_dot_removed(ctx):
    msg = ctx.message("unstuffed leading dot", b"before\r\n.unstuffed\r\nafter\r\n", rcpt=ctx.var("readback_rcpt"))
    got = body_of(await deliver(ctx, raw=msg + b".\r\n"))
    delivered = re.split(rb"\r?\n", got)
    ctx.expect(b"unstuffed" in delivered and b".unstuffed" not in delivered,
               "the receiver applied the transparency procedure", "unstuffed", got.decode("utf-8", "replace"))


@probe("smtp.trace.received-added", rfc="rfc5321#4.4", level="MUST",
       requirement="The receiving server adds a Received trace field at the top of the message.",
       needs=NEEDS, tags=["trace", "readback"])
async def received_added(ctx):
    fields = header_block(await deliver(ctx, b"trace me\r\n"))
    shown = b"\n".join(fields[:8]).decode("utf-8", "replace")
    ours = [n for n, f in enumerate(fields) if f.lower().startswith(b"received:")]
    ctx.expect(bool(ours), "the delivered message has a Received field", "Received: from ... by ...; date", shown)
    # Delivery agents may add their own fields (Return-Path, Delivered-To, ...) above it; what matters is
    # that the trace field sits above everything the client sent, whose first field is From.
    first_sent = next(n for n, f in enumerate(fields) if f.startswith(b"From: <"))
    ctx.expect(ours[0] < first_sent, "the Received field is above the header fields the client sent",
               "Received before From", shown)


@probe("smtp.trace.received-clauses", rfc="rfc5321#4.4", level="MUST",
       requirement="The Received field the server adds has FROM and BY clauses and ends with \"; \" and a date.",
       needs=NEEDS, tags=["trace", "readback"])
async def received_clauses(ctx):
    fields = header_block(await deliver(ctx, b"trace me\r\n"))
    ours = next((f for f in fields if f.lower().startswith(b"received:")), None)
    ctx.require(ours is not None, "the server adds no Received field, so there are no clauses to examine "
                                  "(smtp.trace.received-added reports the missing field)")
    text = ours.decode("utf-8", "replace")
    ctx.expect(re.search(r"(?i)^received:\s*from\s", text) is not None, "the Received field starts with FROM",
               "Received: from <host> ...", text)
    ctx.expect(re.search(r"(?i)\sby\s", text) is not None, "the Received field has a BY clause", "... by <host> ...",
               text)
    date = text.rsplit(";", 1)[1].strip() if ";" in text else ""
    try:
        parsed = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        parsed = None
    ctx.expect(parsed is not None, "the Received field ends with ; and an RFC 5322 date", "; <date-time>", text)


@probe("smtp.trace.received-preserved", rfc="rfc5321#4.4", level="MUST",
       requirement="Received fields already in the message are delivered unchanged.",
       needs=NEEDS, tags=["trace", "readback"])
async def received_preserved(ctx):
    old = b"Received: from origin.example.org (origin.example.org [192.0.2.1]) by relay.example.org; " \
          b"Fri, 27 Nov 2026 09:00:00 +0000"
    fields = header_block(await deliver(ctx, b"old trace\r\n", extra_headers=[old.decode()]))
    received = [f for f in fields if f.lower().startswith(b"received:")]
    ctx.expect(old in received, "the existing Received field is delivered unchanged", old.decode(),
               b"\n".join(received).decode("utf-8", "replace"))


@probe("smtp.trace.return-path", rfc="rfc5321#4.4", level="MUST",
       requirement="At final delivery a Return-Path field with the reverse-path of the transaction is added.",
       needs=NEEDS, tags=["trace", "readback"])
async def return_path(ctx):
    fields = header_block(await deliver(ctx, b"where do bounces go?\r\n"))
    rp = [f for f in fields if f.lower().startswith(b"return-path:")]
    sender = ctx.vars["sender"].encode()
    ctx.expect(any(b"<" + sender + b">" in f for f in rp), "the delivered message has Return-Path: <sender>",
               f"Return-Path: <{ctx.vars['sender']}>", b"\n".join(fields[:5]).decode("utf-8", "replace"))


@probe("smtp.8bitmime.content-intact", rfc="rfc6152#3", level="MUST",
       requirement="Message text declared BODY=8BITMIME is delivered with its 8-bit octets unchanged.",
       needs=NEEDS + ["8BITMIME"], tags=["8bitmime", "readback"])
async def eight_bit_intact(ctx):
    text = "Grüße aus Köln — ½ €".encode("utf-8")
    msg = ctx.message("8bit", text + b"\r\n", rcpt=ctx.var("readback_rcpt"),
                      extra_headers=["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                     "Content-Transfer-Encoding: 8bit"])
    got = await deliver(ctx, raw=msg + b".\r\n", mail_params="BODY=8BITMIME")
    ctx.expect(text in got, "the 8-bit line arrives byte for byte", text.decode(),
               body_of(got).decode("utf-8", "backslashreplace"))


@probe("smtp.data.long-line-intact", rfc="rfc5321#4.5.3.1.6", level="MUST",
       requirement="A 1000-octet text line (CRLF included) is delivered whole, not cut or wrapped.",
       needs=NEEDS, tags=["data", "limits", "readback"])
async def long_line_intact(ctx):
    line = b"0123456789" * 99 + b"ABCDEFGH"  # 998 octets + CRLF
    got = re.split(rb"\r?\n", body_of(await deliver(ctx, line + b"\r\n")))
    ctx.expect(line in got, "the 998-octet line arrives whole", "998 octets on one line",
               f"line lengths {[len(x) for x in got][:5]}")


@probe("smtp.bdat.content-intact", rfc="rfc3030#2", level="MUST",
       requirement="Chunk data is delivered exactly as sent: lines with dots are neither stuffed nor unstuffed.",
       needs=NEEDS + ["CHUNKING"], tags=["bdat", "chunking", "readback"])
async def bdat_intact(ctx):
    box = ctx.readback()
    rcpt = ctx.var("readback_rcpt")
    client = await ctx.smtp()
    await ctx.transaction(client, rcpts=[rcpt])
    msg = ctx.message("bdat content", b"before\r\n.\r\n..two\r\n.one\r\nafter\r\n", rcpt=rcpt)
    half = len(msg) // 2
    for chunk, last in ((msg[:half], ""), (msg[half:], " LAST")):
        await client.wire.send(f"BDAT {len(chunk)}{last}\r\n".encode() + chunk)
        reply = await client.read_reply()
        ctx.setup(reply.code == 250, "the chunk is accepted", "250", str(reply))
    await client.quit()
    found = await box.fetch(ctx.token)
    ctx.setup(len(found) == 1, "the message arrives in the read-back mailbox", "one message", f"{len(found)}")
    lines = re.split(rb"\r?\n", body_of(found[0]))
    for line in (b".", b"..two", b".one"):
        ctx.expect(line in lines, f"the chunk line {line.decode()!r} arrives unchanged", line.decode(),
                   body_of(found[0]).decode("utf-8", "replace"))


@probe("smtp.data.aborted-not-delivered", rfc="rfc5321#4.1.1.10 rfc5321#3.8", level="MUST",
       requirement="A message whose connection drops before the end of data is not delivered.",
       needs=NEEDS, tags=["data", "readback"], timeout=20)
async def aborted_not_delivered(ctx):
    box = ctx.readback()
    rcpt = ctx.var("readback_rcpt")
    client = await ctx.smtp()
    await ctx.transaction(client, rcpts=[rcpt])
    first = await client.cmd("DATA")
    ctx.setup(first.code == 354, "DATA is answered 354", "354", str(first))
    await client.wire.send(ctx.message("never finished", b"half a message\r\n", rcpt=rcpt))
    await client.wire.close()  # no end-of-data line: the transaction must be cancelled
    # A complete message on a second connection shows when delivery has caught up.
    sentinel = ctx.message("sentinel", b"done\r\n", rcpt=rcpt, extra_headers=["X-Wireproof-Sentinel: yes"])
    client2 = await ctx.smtp()
    await ctx.transaction(client2, rcpts=[rcpt])
    _, final = await client2.data(sentinel)
    ctx.setup(final is not None and final.code == 250, "the sentinel message is accepted", "250", str(final))
    await client2.quit()
    found = await box.fetch(ctx.token, settle=1.0)
    ctx.setup(any(b"X-Wireproof-Sentinel" in m for m in found), "the sentinel arrives", "sentinel",
              f"{len(found)} messages")
    partial = [m for m in found if b"X-Wireproof-Sentinel" not in m]
    ctx.expect(not partial, "the cut-off message was not delivered", "only the sentinel",
               f"{len(partial)} cut-off message(s) delivered")
