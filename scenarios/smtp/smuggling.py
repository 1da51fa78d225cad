"""SMTP smuggling: end-of-data look-alikes made of bare CR or LF (CVE-2023-51764/51765/51766).

Only CRLF "." CRLF ends the mail data (RFC 5321 4.1.1.4). A server that also ends it at, say, LF "." LF
lets a sender hide a second message, with a forged sender, inside the first one, whenever an outbound
server passes such sequences through. Each probe sends one look-alike followed by a HELP command, then
the real end of data, then QUIT. A conforming server answers once for the message (accepting it, or
refusing it for its bare line ends) and then 221; a server that took the look-alike as the end answers
HELP too, and that extra reply shows before the 221.
"""
from __future__ import annotations

from conformance.registry import probe
from conformance.wire.session import ConnectionClosed

VARIANTS = {
    "lf-dot-lf": b"\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-cr": b"\r.\r",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-cr": b"\r\n.\r",
}


def register(name: str, mark: bytes) -> None:
    shown = mark.decode().replace("\r", "<CR>").replace("\n", "<LF>")

    @probe(f"smtp.data.smuggling-{name}", rfc="rfc5321#4.1.1.4 rfc5321#2.3.8", level="MUST",
           requirement=f"The sequence {shown} inside the mail data does not end it; only <CR><LF>.<CR><LF> does.",
           tags=["data", "smuggling", "security"])
    async def smuggle(ctx):
        client = await ctx.smtp()
        await ctx.transaction(client)
        first = await client.cmd("DATA")
        ctx.setup(first.code == 354, "DATA is answered 354", "354", str(first))
        head = ctx.message(f"smuggling probe {name}", b"").rstrip(b"\r\n")
        await client.wire.send(head + b"\r\n\r\nbefore" + mark + b"HELP\r\nafter\r\n.\r\n")
        reply = await client.read_reply()
        ctx.expect(reply.klass in (2, 4, 5), "one reply for the whole message", "250, or a refusal", str(reply))
        try:
            after = await client.cmd("QUIT")
        except ConnectionClosed:
            # Refusing the message and closing is a safe reaction: nothing else was answered.
            ctx.setup(reply.klass != 2, "the server answers QUIT after accepting the message", "221", "closed")
            return
        ctx.expect(after.code == 221, f"no command was read out of the data after {shown}",
                   "221 (QUIT's reply follows the message's reply)", after.show())


for _name, _mark in VARIANTS.items():
    register(_name, _mark)
