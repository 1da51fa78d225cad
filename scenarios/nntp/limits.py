"""Probes of line limits and response syntax (RFC 3977 sections 3.1 and 3.2) and of STARTTLS plaintext injection
(RFC 4642 section 2.2.2)."""
from __future__ import annotations

import re

from conformance.dialects.nntp import MAX_INITIAL_LINE
from conformance.registry import probe
from conformance.wire.session import TlsFailed


@probe("nntp.limits.overlong-line-501", rfc="rfc3977#3.2.1 rfc3977#3.1", level="MUST",
       requirement="A 1,000-octet command line (HELP with a long argument: longer than a base command may be, and HELP "
                   "takes no argument, so 501 is due whether or not the server reads lines that long) is answered with "
                   "exactly one 501: it is neither truncated nor split and then interpreted.", tags=["limits", "syntax"])
async def overlong(ctx):
    client = await ctx.nntp(reader=False)
    await client.wire.send(b"HELP " + b"x" * 995 + b"\r\nDATE\r\n")
    first = await client.read_response("HELP")
    ctx.expect(first.code == 501, "the 1,000-octet HELP line is answered 501", "501", first.show())
    second = await client.read_response("DATE")
    ctx.expect(second.code == 111, "the next response answers DATE: the long line got exactly one response", "111",
               second.show())


@probe("nntp.limits.512-octets-accepted", rfc="rfc3977#3.1", level="MUST",
       requirement="A command line of exactly 512 octets, CRLF included, whose argument is 497 octets (the most "
                   "allowed), is read as one command and obeyed.", needs=["READER", "LIST=ACTIVE", "post-groups"],
       tags=["limits"])
async def line_512(ctx):
    from .common import group_of

    group = group_of(ctx)
    # "LIST ACTIVE" and two spaces (keywords and arguments are separated by one or more spaces), then a wildmat
    # of 497 octets that matches the scratch group: 13 + 497 + CRLF = 512 octets.
    wildmat = f"{group}," + "x" * (497 - len(group) - 2) + "*"
    line = "LIST ACTIVE  " + wildmat
    assert len(line) + 2 == 512 and len(wildmat) == 497
    client = await ctx.nntp()
    reply = await client.cmd(line)
    ctx.expect(reply.code == 215 and any(l.split()[:1] == [group] for l in reply.lines),
               f"the 512-octet LIST ACTIVE line is answered 215 with {group}", f"215\n{group} ...", reply.show())


@probe("nntp.response.initial-line-syntax", rfc="rfc3977#3.1 rfc3977#3.2 rfc3977#9.4.1", level="MUST",
       requirement="Every initial response line is three digits, then a space and text or nothing, ends with CRLF and "
                   "is at most 512 octets long.", tags=["syntax"])
async def initial_lines(ctx):
    client = await ctx.nntp(reader=False)
    got = [client.greeting]
    for command in ("CAPABILITIES", "DATE", "HELP", "XWPBOGUS", "GROUP wireproof.no-such-group", "STAT",
                    "ARTICLE <no-such@wireproof.invalid>", "QUIT"):
        got.append(await client.cmd(command))
    for reply in got:
        raw = reply.raw[0]
        ctx.expect(re.fullmatch(rb"\d{3}( [^\r\n]*)?\r\n", raw) is not None and len(raw) <= MAX_INITIAL_LINE,
                   f"the initial line {raw[:40]!r} is well formed", "ddd text CRLF, at most 512 octets", repr(raw))


@probe("nntp.starttls.plaintext-injection", rfc="rfc4642#2.2.2 rfc4642#5", level="MUST",
       requirement="A command sent in plaintext behind STARTTLS, in the same packet, is not answered: neither before "
                   "the handshake nor inside TLS.", needs=["STARTTLS", "tls"], tags=["starttls", "tls", "security"])
async def plaintext_injection(ctx):
    client = await ctx.nntp(plain=True, reader=False)
    await client.wire.send(b"STARTTLS\r\nXWPINJECTED\r\n")
    reply = await client.read_response("STARTTLS")
    ctx.setup(reply.code == 382, "STARTTLS is answered 382", "382", reply.show())
    early = await client.wire.read_available(0.3)
    ctx.expect(not early, "nothing follows the 382 in plaintext", "silence until the TLS handshake",
               early.decode("utf-8", "replace"))
    try:
        await client.wire.start_tls(ctx.tls_context())
    except TlsFailed as exc:
        ctx.expect(True, "the server took the injected octets as TLS input and ended the handshake; the injected "
                         "command was never answered", "no answer to the injected command", f"TLS ended: {exc}")
        return
    date = await client.cmd("DATE")
    ctx.expect(date.code == 111, "the first response inside TLS answers DATE, not the injected command", "111",
               date.show())
