"""Probes of line lengths (RFC 2449 section 4): commands up to 255 octets, and input beyond any limit."""
from __future__ import annotations

from conformance.fill import account_lock, pop3_account
from conformance.registry import probe
from conformance.wire.session import WireError


@probe("pop3.limits.command-255", rfc="rfc2449#4", level="MUST",
       requirement="A server supporting CAPA accepts a command line of 255 octets, CRLF included.",
       needs=["CAPA", "account"], tags=["limits"])
async def command_255(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await ctx.pop3(login=True)
        short = await client.cmd("NOOP x")
        ctx.require(short.ok, f"the server refuses NOOP with an argument ({short}), so NOOP cannot carry the long "
                              "line here")
        line = "NOOP " + "x" * (255 - len("NOOP ") - 2)  # 255 octets with the CRLF
        reply = await client.cmd(line)
        ctx.expect(reply.ok, "a 255-octet NOOP line is answered +OK", "+OK", reply.show())


@probe("pop3.limits.overlong-command-one-response", rfc="rfc1939#3 rfc1939#5", level="MUST",
       requirement="A command line far beyond the server's limit gets at most one response (or the server closes): "
                   "it is never cut at a buffer size and the rest read as further commands (only CRLF ends a line).",
       tags=["limits", "errors", "security"])
async def overlong_one_response(ctx):
    client = await ctx.pop3()
    # Far beyond common buffer sizes: a server that cut the line would answer each piece.
    await client.send_line("NOOP " + "x" * 100_000)
    try:
        first = await client.read_response(timeout=10)
    except WireError:  # closing without a word is also one way not to read the rest as commands
        ctx.expect(client.wire.closed, "the server closed the connection on the overlong line",
                   "one response or a close", "the connection stayed silent and open")
        return
    try:
        extra = await client.wire.read_available(0.5)
    except WireError:  # one response, then the server aborted the connection: nothing else was answered
        ctx.expect(first.err, "the overlong line got one -ERR, then the server dropped the connection",
                   "one response or a close", first.show())
        return
    ctx.expect(not extra, "the overlong line gets one response, with nothing after it", "one response",
               f"{first.head}\n{extra.decode('utf-8', 'replace')}")
    if client.wire.closed:
        return
    after = await client.cmd("QUIT")
    ctx.expect(after.ok, "the next command gets its own response, not one to a split-off tail", "+OK for QUIT",
               after.show())
