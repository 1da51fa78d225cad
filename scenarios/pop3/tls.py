"""STLS and plaintext injection (CVE-2011-0411 for POP3): commands sent in plaintext behind STLS, in the
same packet, must never be answered inside TLS.

RFC 2595 section 4 starts the TLS negotiation right after the CRLF of the +OK to STLS, so whatever the client
wrote after "STLS<CRLF>" belongs to the TLS layer, not to POP3. A vulnerable server reads it from its
plaintext buffer and answers it once TLS is up, where the client takes the answer for one to its own
first encrypted command. A conforming server either discards those octets or takes them as (broken) TLS
input and ends the handshake; neither answers them.
"""
from __future__ import annotations

from conformance.registry import probe
from conformance.wire.session import TlsFailed

INJECTED = "XWPINJECTED"  # unknown: a server that reads it as a command answers -ERR


@probe("pop3.stls.plaintext-injection", rfc="rfc2595#4 rfc7457#2.2", level="MUST",
       requirement="A command sent in plaintext behind STLS, in the same packet, is not answered: neither before the "
                   "handshake nor inside TLS (CVE-2011-0411).", needs=["STLS", "tls"], tags=["stls", "tls", "security"])
async def plaintext_injection(ctx):
    client = await ctx.pop3()
    await client.wire.send(f"STLS\r\n{INJECTED}\r\n".encode())
    reply = await client.read_response()
    ctx.setup(reply.ok, "STLS is answered +OK", "+OK", reply.show())
    early = await client.wire.read_available(0.3)
    ctx.expect(not early, "nothing follows the +OK in plaintext", "silence until the TLS handshake",
               early.decode("utf-8", "replace"))
    try:
        await client.wire.start_tls(ctx.tls_context())
    except TlsFailed as exc:
        # The server read the injected octets as the start of the handshake and gave up: nothing was answered.
        # (Discovery completed a clean STLS handshake with this server, so TLS itself works.)
        ctx.expect(True, "the server took the injected octets as TLS input and ended the handshake; "
                         "the injected command was never answered", "no answer to the injected command",
                   f"TLS handshake ended: {exc}")
        return
    # Inside TLS, CAPA must be answered +OK; a vulnerable server first answers the injected command (-ERR).
    reply = await client.multiline("CAPA")
    ctx.expect(reply.ok, "the first response inside TLS answers CAPA, not the injected command",
               "+OK (CAPA's list)", reply.show())
