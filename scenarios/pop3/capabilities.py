"""Probes of CAPA (RFC 2449 section 5): the shape of the list, and what must be announced after logging in."""
from __future__ import annotations

import re

from conformance.fill import account_lock, pop3_account, pop3_login
from conformance.registry import probe

CAPA_LINE_RE = re.compile(rb"^[\x21-\x2d\x2f-\x7f]+(?: [\x21-\x7f]+)*\r\n$")  # capa-tag *(SP param) CRLF
# Registered as announced in the AUTHORIZATION state only: STLS (RFC 2595 8).
AUTHORIZATION_ONLY = {"STLS"}


async def capa_before_and_after_login(ctx) -> tuple[dict[str, str], dict[str, str], str, str]:
    """The capability lists before and after logging in (tags -> parameters), and both as shown."""
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await ctx.pop3()
        reply_before = await client.capa()
        ctx.setup(reply_before.ok, "CAPA before login is answered +OK", "+OK", reply_before.show())
        before = dict(client.capabilities)
        reply = await pop3_login(ctx, client, account)
        ctx.setup(reply.ok, f"logging in as {account.user} succeeds", "+OK", reply.show())
        reply_after = await client.capa()
        ctx.setup(reply_after.ok, "CAPA after login is answered +OK", "+OK", reply_after.show())
        after = dict(client.capabilities)
        await client.quit()
    return before, after, reply_before.show(), reply_after.show()


@probe("pop3.capa.syntax", rfc="rfc2449#3 rfc2449#5", level="MUST",
       requirement="CAPA is answered +OK and one capability per line: a tag of printable characters other than \".\", "
                   "optionally a space and space-separated parameters, each line CRLF-ended, then \".\".",
       needs=["CAPA"], tags=["capa", "syntax"])
async def capa_syntax(ctx):
    client = await ctx.pop3()
    reply = await client.capa()
    ctx.expect(reply.ok, "CAPA is answered +OK", "+OK", reply.show())
    lines = reply.raw[1:-1]
    ctx.expect(bool(lines), "the list names at least one capability", "capability lines", reply.show())
    for line in lines:
        ctx.expect(CAPA_LINE_RE.match(line) is not None, "the capability line is a tag and parameters",
                   "TAG [param ...]", repr(line))
    ctx.expect(reply.raw[-1] == b".\r\n", "the list ends with \".\" CRLF", ".", repr(reply.raw[-1]))


@probe("pop3.capa.announced-in-both-states", rfc="rfc2449#5 rfc2449#6", level="MUST",
       requirement="Capabilities announced in the AUTHORIZATION state are announced again after login (TRANSACTION "
                   "state); only STLS, registered for AUTHORIZATION alone, may go.",
       needs=["CAPA", "account"], tags=["capa", "state"])
async def announced_in_both_states(ctx):
    before, after, shown_before, shown_after = await capa_before_and_after_login(ctx)
    missing = sorted(set(before) - set(after) - AUTHORIZATION_ONLY)
    ctx.expect(not missing, "every AUTHORIZATION capability is still announced after login",
               shown_before, f"missing after login: {' '.join(missing)}\n{shown_after}" if missing else shown_after)


@probe("pop3.capa.sasl-after-auth", rfc="rfc5034#3", level="MUST",
       requirement="A server announcing SASL still includes the SASL capability in CAPA after a successful login.",
       needs=["CAPA", "SASL", "account"], tags=["capa", "sasl", "state"])
async def sasl_after_auth(ctx):
    before, after, shown_before, shown_after = await capa_before_and_after_login(ctx)
    ctx.require("SASL" in before, "SASL is announced only after STLS here, and this session has no TLS")
    ctx.expect("SASL" in after, "CAPA after login still lists SASL", f"SASL {before['SASL']}",
               shown_after if "SASL" in after else f"no SASL line after login\n{shown_after}")
