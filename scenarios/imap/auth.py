"""Probes that present wrong credentials (RFC 3501 sections 6.2.2 and 6.2.3, RFC 9051 the same).

They run alone (`exclusive`), after the other checks, and each ends with a proper login: servers slow down
logins from an address after a failure (Dovecot's auth penalty delays the next attempt by seconds), and a
success lifts that again before the next check logs in. Their reads wait up to FAILURE_WAIT.
"""
from __future__ import annotations

from conformance.registry import probe
from conformance.wire.session import ConnectionClosed

FAILURE_WAIT = 20.0  # seconds a login may take right after a failed one


async def log_in_again(ctx, account) -> None:
    """After a deliberate failure: a proper login, so the server lifts any delay it imposes on this address."""
    client = await ctx.imap()
    client.wire.read_timeout = FAILURE_WAIT
    await client.login(account.user, account.password)
    await client.logout()


@probe("imap.login.wrong-password-no", rfc="rfc3501#6.2.3 rfc9051#6.2.3", level="MUST",
       requirement="LOGIN with a wrong password is answered NO and the session stays not authenticated: LOGIN with "
                   "the right password then succeeds.", needs=["account"], tags=["auth", "login"], exclusive=True,
       timeout=60)
async def wrong_password(ctx):
    account = ctx.target.accounts[0]
    client = await ctx.imap()
    client.wire.read_timeout = FAILURE_WAIT
    completion = await client.login(account.user, account.password + "-wrong")
    ctx.expect(completion.status == "NO", "a wrong password is answered NO", "NO", completion.show())
    try:
        completion = await client.login(account.user, account.password)
    except ConnectionClosed:
        await log_in_again(ctx, account)
        return  # the server may end the session after a failed login (with BYE); nothing more to judge here
    ctx.expect(completion.ok, "the right password then logs in (the session was still not authenticated)", "OK",
               completion.show())
    await client.logout()


@probe("imap.authenticate.wrong-password-no", rfc="rfc3501#6.2.2 rfc9051#6.2.2", level="MUST",
       requirement="AUTHENTICATE PLAIN with a wrong password is answered NO.", needs=["account", "AUTH=PLAIN"],
       tags=["auth", "sasl"], exclusive=True, timeout=60)
async def authenticate_wrong_password(ctx):
    account = ctx.target.accounts[0]
    client = await ctx.imap(capability=True)
    client.wire.read_timeout = FAILURE_WAIT
    completion = await client.authenticate_plain(account.user, account.password + "-wrong")
    ctx.expect(completion.status == "NO", "a wrong password is answered NO", "NO", completion.show())
    await client.logout()
    await log_in_again(ctx, account)
