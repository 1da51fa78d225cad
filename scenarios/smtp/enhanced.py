"""Probes of enhanced status codes (RFC 2034, syntax from RFC 3463): "250 2.1.0 Sender OK".

Once a server advertises ENHANCEDSTATUSCODES, its 2yz, 4yz and 5yz replies carry a class.subject.detail
code at the start of the text, except the greeting and the replies to EHLO and HELO.
"""
from __future__ import annotations

import re

from conformance.registry import probe

CODE_AT_START = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?=\s|$)")
STRICT = re.compile(r"^[245]\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2})$")


async def replies_after_ehlo(ctx):
    client = await ctx.smtp()
    out = []
    for command in (f"MAIL FROM:<{ctx.vars['sender']}>", f"RCPT TO:<{ctx.var('rcpt')}>", "NOOP", "RSET",
                    "XYZZY", "RCPT TO:<broken", "HELP", "QUIT"):
        out.append((command, await client.cmd(command)))
    return out


@probe("smtp.enhanced.present", rfc="rfc2034#3", level="MUST",
       requirement="With ENHANCEDSTATUSCODES advertised, every 2yz, 4yz and 5yz reply after EHLO starts its text "
                   "with an enhanced status code.", needs=["ENHANCEDSTATUSCODES"], tags=["enhanced"])
async def present(ctx):
    for command, reply in await replies_after_ehlo(ctx):
        if reply.klass in (2, 4, 5):
            ctx.expect(bool(CODE_AT_START.match(reply.lines[0])), f"the reply to {command} has an enhanced code",
                       f"{reply.code} x.y.z text", reply.show())


@probe("smtp.enhanced.every-line", rfc="rfc2034#3", level="MUST",
       requirement="In a multi-line reply, every line carries the enhanced status code, not only the first.",
       needs=["ENHANCEDSTATUSCODES"], tags=["enhanced"])
async def every_line(ctx):
    multi = [(c, r) for c, r in await replies_after_ehlo(ctx) if len(r.lines) > 1 and r.klass in (2, 4, 5)]
    ctx.require(bool(multi), "no multi-line reply was drawn out after EHLO (HELP was single-line)")
    for command, reply in multi:
        codes = {m.group(0) if (m := CODE_AT_START.match(line)) else None for line in reply.lines}
        ctx.expect(None not in codes and len(codes) == 1, f"each line of the reply to {command} has the same code",
                   "one x.y.z on every line", reply.show())


@probe("smtp.enhanced.class-matches", rfc="rfc3463#2 rfc2034#3", level="MUST",
       requirement="The class digit of the enhanced code equals the first digit of the reply code (2, 4 or 5).",
       needs=["ENHANCEDSTATUSCODES"], tags=["enhanced"])
async def class_matches(ctx):
    for command, reply in await replies_after_ehlo(ctx):
        m = CODE_AT_START.match(reply.lines[0]) if reply.klass in (2, 4, 5) else None
        if m:
            ctx.expect(int(m.group(1)) == reply.klass, f"the enhanced class in the reply to {command} matches",
                       f"{reply.klass}.y.z", reply.show())
    ctx.require(bool(ctx.observations), "no reply carried an enhanced code to compare")


@probe("smtp.enhanced.syntax", rfc="rfc3463#2", level="MUST",
       requirement="Enhanced codes are class.subject.detail: class 2, 4 or 5; subject and detail 1 to 3 digits "
                   "without leading zeros.", needs=["ENHANCEDSTATUSCODES"], tags=["enhanced", "syntax"])
async def syntax(ctx):
    for command, reply in await replies_after_ehlo(ctx):
        m = CODE_AT_START.match(reply.lines[0]) if reply.klass in (2, 4, 5) else None
        if m:
            ctx.expect(bool(STRICT.match(m.group(0))), f"the enhanced code in the reply to {command} is well formed",
                       "class.subject.detail", m.group(0))
    ctx.require(bool(ctx.observations), "no reply carried an enhanced code to examine")
