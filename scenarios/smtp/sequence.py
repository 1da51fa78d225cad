"""Probes of command sequencing that need a branch a script cannot express."""
from __future__ import annotations

from conformance.registry import probe


@probe("smtp.order.second-mail-consistent", rfc="rfc5321#3.3 rfc5321#4.1.4", level="MUST",
       requirement="A second MAIL inside an open transaction is either refused with 503, leaving the transaction "
                   "as it was, or accepted as a fresh transaction that forgets the earlier recipients.",
       tags=["order", "transaction"])
async def second_mail(ctx):
    client = await ctx.smtp()
    await ctx.transaction(client)
    again = await client.cmd(f"MAIL FROM:<{ctx.vars['sender']}>")
    ctx.expect(again.code in (503, 250), "the second MAIL is refused with 503 or starts afresh with 250",
               "503 or 250", str(again))
    data = await client.cmd("DATA")
    if again.code == 503:
        # The first transaction must be intact: its recipient is still there.
        ctx.expect(data.code == 354, "after the refused MAIL the original transaction still has its recipient",
                   "354", str(data))
        await client.wire.send(ctx.message("second MAIL refused", "the first transaction survived")
                               + b".\r\n")
        await client.read_reply()
    else:
        ctx.expect(data.code in (503, 554), "after the accepted MAIL the old recipients are gone",
                   "503 or 554 (no recipients)", str(data))


@probe("smtp.command.bare-lf-not-line-end", rfc="rfc5321#4.1.1.4 rfc5321#2.3.8", level="MUST",
       requirement="A command ended by a bare LF is not taken as a complete command line: only CRLF ends a line.",
       tags=["syntax", "smuggling", "security"])
async def bare_lf_command(ctx):
    client = await ctx.smtp()
    await client.wire.send(b"NOOP\n")
    early = await client.wire.read_available(1.0)
    # Silence means the server is still waiting for CRLF; a refusal of the bare LF is fine too.
    ctx.expect(not early.startswith(b"2"), "the bare-LF line is not executed as a command",
               "no reply until CRLF arrives, or a 5yz refusal", early.decode("utf-8", "replace") or "no reply in 1 s")
