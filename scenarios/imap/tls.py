"""STARTTLS and plaintext injection (CVE-2011-0411 for IMAP): a command sent in plaintext behind STARTTLS, in
the same packet, must never be answered inside TLS.

RFC 3501 section 6.2.1 starts the TLS negotiation right after the CRLF of the tagged OK, and RFC 9051 section
6.2.1 makes it explicit: data received in the same TCP buffer after the STARTTLS line is either read as the
start of the TLS handshake (which then fails) or thrown away. A vulnerable server answers it once TLS is up,
where the client takes the answer for one to its own first encrypted command.
"""
from __future__ import annotations

from conformance.registry import probe
from conformance.wire.session import TlsFailed

INJECTED = b"i1 XWPINJECTED\r\n"  # unknown: a server that reads it as a command answers BAD


@probe("imap.starttls.plaintext-injection", rfc="rfc9051#6.2.1 rfc3501#6.2.1", level="MUST",
       requirement="A command sent in plaintext behind STARTTLS, in the same packet, is not answered: neither before "
                   "the handshake nor inside TLS (CVE-2011-0411).", needs=["STARTTLS", "tls"],
       tags=["starttls", "tls", "security"])
async def plaintext_injection(ctx):
    client = await ctx.imap(plain=True)
    await client.send_raw(b"s1 STARTTLS\r\n" + INJECTED)
    reply = await client.read_response()
    ctx.setup(reply.kind == "tagged" and reply.tag == "s1" and reply.ok, "STARTTLS is answered OK", "s1 OK",
              reply.line)
    early = await client.wire.read_available(0.3)
    ctx.expect(not early, "nothing follows the OK in plaintext", "silence until the TLS handshake",
               early.decode("utf-8", "replace"))
    try:
        await client.wire.start_tls(ctx.tls_context())
    except TlsFailed as exc:
        # The server read the injected octets as the start of the handshake and gave up: nothing was answered.
        ctx.expect(True, "the server took the injected octets as TLS input and ended the handshake; the injected "
                         "command was never answered", "no answer to the injected command", f"TLS ended: {exc}")
        return
    completion = await client.command("NOOP", tag="s2")
    answered = [r.line for r in completion.order if r.tag == "i1"]
    ctx.expect(completion.ok and not answered, "the first response inside TLS completes NOOP; the injected command "
               "gets no answer", "s2 OK (and nothing tagged i1)", completion.show())
