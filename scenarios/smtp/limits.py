"""Probes of the minimum sizes every SMTP server must handle (RFC 5321 section 4.5.3.1), and of what it
does with input beyond its own limits."""
from __future__ import annotations

from conformance.registry import probe


@probe("smtp.limits.command-line-512", rfc="rfc5321#4.5.3.1.4 rfc5321#4.5.3.1", level="MUST",
       requirement="A command line of 512 octets, CRLF included, is accepted and processed.", tags=["limits"])
async def command_line_512(ctx):
    client = await ctx.smtp()
    short = await client.cmd("NOOP x")
    ctx.require(short.code == 250, f"the server refuses NOOP with an argument ({short}), so it cannot carry the "
                                   "long line here; smtp.noop.argument-ignored covers that")
    line = "NOOP " + "x" * (512 - len("NOOP ") - 2)  # 512 with the CRLF
    reply = await client.cmd(line)
    ctx.expect(reply.code == 250, "a 512-octet NOOP line is answered 250", "250", str(reply))


@probe("smtp.limits.text-line-1000", rfc="rfc5321#4.5.3.1.6 rfc5321#4.5.3.1", level="MUST",
       requirement="A line of message text of 1000 octets, CRLF included, is accepted.", tags=["limits", "data"])
async def text_line_1000(ctx):
    client = await ctx.smtp()
    await ctx.transaction(client)
    body = ("L" * 998).encode()
    first, final = await client.data(ctx.message("1000-octet line", body))
    ctx.setup(first.code == 354, "DATA is answered 354", "354", str(first))
    ctx.expect(final.code == 250, "a message with a 1000-octet line is accepted", "250", str(final))


@probe("smtp.limits.recipients-100", rfc="rfc5321#4.5.3.1.8 rfc5321#4.5.3.1", level="MUST",
       requirement="A transaction with 100 recipients is accepted: the server buffers at least 100 of them.",
       tags=["limits", "rcpt"], timeout=30)
async def recipients_100(ctx):
    client = await ctx.smtp()
    await ctx.transaction(client, rcpts=[])
    rcpt = ctx.var("rcpt")
    for n in range(100):
        reply = await client.cmd(f"RCPT TO:<{rcpt}>")
        ctx.expect(reply.code in (250, 251), f"RCPT number {n + 1} of 100 is accepted", "250", str(reply))
    first, final = await client.data(ctx.message("100 recipients", "one message, many recipients"))
    ctx.setup(first.code == 354, "DATA is answered 354", "354", str(first))
    ctx.expect(final.code == 250, "the message to 100 recipients is accepted", "250", str(final))


@probe("smtp.limits.overlong-command-refused", rfc="rfc5321#4.5.3.1.4 rfc5321#4.2.2", level="SHOULD",
       requirement="A command line far beyond the server's limit is refused with 500 (line too long).",
       tags=["limits", "errors"])
async def overlong_command(ctx):
    client = await ctx.smtp()
    reply = await client.cmd("NOOP " + "x" * 20000)
    ctx.expect(reply.code == 500, "a 20005-octet command line is refused with 500", "500", str(reply))


@probe("smtp.limits.overlong-command-not-split", rfc="rfc5321#2.3.8 rfc5321#4.2", level="MUST",
       requirement="An overlong command line gets exactly one reply: the server never cuts it at its buffer size "
                   "and reads the rest as a further command (only CRLF ends a line).",
       tags=["limits", "errors", "security"])
async def overlong_not_split(ctx):
    client = await ctx.smtp()
    # Far beyond common buffer sizes (512, 4 KiB, 16 KiB, 64 KiB): a server that cut the line there would
    # answer its tail as one or more extra commands, and those replies would come before NOOP's.
    await client.send_line("NOOP " + "x" * 100_000)
    await client.read_reply(timeout=10)  # the one reply the line deserves, whatever it says
    # Read what follows at once: a server that drops us after extra replies may reset the connection,
    # and a reset would discard replies still waiting in our socket.
    extra = await client.wire.read_available(0.5)
    ctx.expect(not extra, "the overlong line gets one reply, with nothing after it", "one reply",
               extra.decode("utf-8", "replace"))
    if client.wire.closed:
        return  # one reply, then the server dropped the client (RFC 5321 7.8 allows that)
    after = await client.cmd("NOOP")
    ctx.expect(after.code == 250, "the next command gets its own reply, not the reply to a split-off tail",
               "250 for NOOP", after.show())


@probe("smtp.limits.local-part-64", rfc="rfc5321#4.5.3.1.1 rfc5321#4.5.3.1", level="MUST",
       requirement="A 64-octet local part (the longest allowed) is accepted by the parser: the reply to RCPT is not a "
                   "syntax error.", tags=["limits", "rcpt"])
async def local_part_64(ctx):
    client = await ctx.smtp()
    await ctx.transaction(client, rcpts=[])
    domain = ctx.var("rcpt").rpartition("@")[2]
    local = ("wireproof-" + "x" * 64)[:64]
    reply = await client.cmd(f"RCPT TO:<{local}@{domain}>")
    # Unknown user (550) or acceptance are both fine; a syntax or length refusal is not.
    ctx.expect(reply.code in (250, 251, 252, 450, 451, 550, 551), "the 64-octet local part parses",
               "250 or a mailbox refusal (550), not 500/501/553", str(reply))
