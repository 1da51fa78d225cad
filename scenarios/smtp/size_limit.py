"""Probes of the SIZE limit itself (RFC 1870): a message declared or sent above it is refused."""
from __future__ import annotations

from conformance.registry import probe

MAX_PROBE_OCTETS = 10 * 1024 * 1024  # beyond this, sending an oversized message is too costly for a check


def fixed_limit(ctx) -> int:
    raw = ctx.cap("smtp").params.get("SIZE", "").strip()
    ctx.require(raw.isdigit() and int(raw) > 0, "the server announces no fixed SIZE limit (SIZE without a number "
                                                "or SIZE 0)")
    return int(raw)


@probe("smtp.size.declared-over-limit-552", rfc="rfc1870#6", level="MUST",
       requirement="MAIL declaring a SIZE above the announced limit is refused with 552 (or 452 for a "
                   "temporary shortage).", needs=["SIZE"], tags=["size", "mail"])
async def declared_over_limit(ctx):
    limit = fixed_limit(ctx)
    client = await ctx.smtp()
    reply = await client.cmd(f"MAIL FROM:<{ctx.vars['sender']}> SIZE={limit + 1}")
    ctx.expect(reply.code in (552, 452), f"SIZE={limit + 1} is refused at MAIL", "552", str(reply))


@probe("smtp.size.declared-at-limit", rfc="rfc1870#6", level="MUST",
       requirement="MAIL declaring a SIZE equal to the announced limit is accepted.", needs=["SIZE"],
       tags=["size", "mail"])
async def declared_at_limit(ctx):
    limit = fixed_limit(ctx)
    client = await ctx.smtp()
    reply = await client.cmd(f"MAIL FROM:<{ctx.vars['sender']}> SIZE={limit}")
    ctx.expect(reply.code == 250, f"SIZE={limit} is accepted", "250", str(reply))


@probe("smtp.size.actual-over-limit", rfc="rfc1870#6", level="MUST",
       requirement="A message whose content clearly exceeds the announced limit (by a tenth) is refused at the end "
                   "of data with 552.",
       needs=["SIZE"], tags=["size", "data"], timeout=60)
async def actual_over_limit(ctx):
    limit = fixed_limit(ctx)
    ctx.require(limit <= MAX_PROBE_OCTETS, f"the limit ({limit} octets) is above the {MAX_PROBE_OCTETS}-octet "
                                           "budget of this check")
    client = await ctx.smtp()
    await ctx.transaction(client)
    first = await client.cmd("DATA")
    ctx.setup(first.code == 354, "DATA is answered 354", "354", str(first))
    line = b"x" * 76 + b"\r\n"
    head = ctx.message("oversized", b"").rstrip(b"\r\n") + b"\r\n\r\n"
    count = (limit + limit // 10) // len(line)
    await client.wire.send(head + line * count + b".\r\n")
    reply = await client.read_reply(timeout=30)
    ctx.expect(reply.code in (552, 554, 451, 452), f"a {len(head) + len(line) * count}-octet message over a "
               f"{limit}-octet limit is refused", "552", str(reply))
