"""Probes of SMTP AUTH (RFC 4954): challenges, responses, cancelling, and the commands AUTH may not follow.

AUTH is often offered only under TLS; these probes upgrade with STARTTLS first when that is the case.
"""
from __future__ import annotations

import base64
import binascii

from conformance.registry import probe


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


@probe("smtp.auth.plain-initial-response", rfc="rfc4954#4 rfc4616#2", level="MUST",
       requirement="AUTH PLAIN with a valid initial response (authzid, user, password in base64) is answered 235.",
       needs=["AUTH=PLAIN", "account"], tags=["auth"])
async def plain_initial_response(ctx):
    client = await ctx.smtp(auth=True)
    acc = ctx.target.accounts[0]
    reply = await client.auth_plain(acc.user, acc.password)
    ctx.expect(reply.code == 235, f"AUTH PLAIN as {acc.user} succeeds", "235", str(reply))


@probe("smtp.auth.plain-empty-challenge", rfc="rfc4954#4", level="MUST",
       requirement="AUTH PLAIN without an initial response is answered with a 334 carrying an empty challenge, "
                   "and the response sent after it completes the exchange.",
       needs=["AUTH=PLAIN", "account"], tags=["auth"])
async def plain_empty_challenge(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd("AUTH PLAIN")
    ctx.expect(reply.code == 334, "AUTH PLAIN alone is answered 334", "334", str(reply))
    ctx.expect(reply.lines[0].strip() == "", "the PLAIN challenge is empty", "334 (empty)", reply.show())
    done = await client.cmd(ctx.vars["auth_plain"])
    ctx.expect(done.code == 235, "the response after the challenge authenticates", "235", str(done))


@probe("smtp.auth.login-challenges", rfc="rfc4954#4", level="MUST",
       requirement="Each server challenge is a 334 reply whose text is valid base64 (AUTH LOGIN asks twice).",
       needs=["AUTH=LOGIN", "account"], tags=["auth"])
async def login_challenges(ctx):
    client = await ctx.smtp(auth=True)
    acc = ctx.target.accounts[0]
    reply = await client.cmd("AUTH LOGIN")
    ctx.expect(reply.code == 334 and is_base64(reply.lines[0].strip()), "the first challenge is 334 + base64",
               "334 <base64>", reply.show())
    reply = await client.cmd(b64(acc.user))
    ctx.expect(reply.code == 334 and is_base64(reply.lines[0].strip()), "the second challenge is 334 + base64",
               "334 <base64>", reply.show())
    reply = await client.cmd(b64(acc.password))
    ctx.expect(reply.code == 235, "the password completes AUTH LOGIN", "235", str(reply))


@probe("smtp.auth.cancel-501", rfc="rfc4954#4", level="MUST",
       requirement="A client response of a single \"*\" cancels the exchange, and the server answers it with 501.",
       needs=["AUTH=PLAIN"], tags=["auth"])
async def cancel(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd("AUTH PLAIN")
    ctx.setup(reply.code == 334, "AUTH PLAIN without initial response gets a challenge", "334", str(reply))
    reply = await client.cmd("*")
    ctx.expect(reply.code == 501, "\"*\" cancels with 501", "501", str(reply))


@probe("smtp.auth.invalid-base64-501", rfc="rfc4954#4", level="MUST",
       requirement="A client response that is not valid base64 is refused with 501.",
       needs=["AUTH=PLAIN"], tags=["auth", "syntax"])
async def invalid_base64(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd("AUTH PLAIN")
    ctx.setup(reply.code == 334, "AUTH PLAIN without initial response gets a challenge", "334", str(reply))
    reply = await client.cmd("%%% not base64 %%%")
    ctx.expect(reply.code == 501, "an undecodable response is refused with 501", "501", str(reply))


@probe("smtp.auth.unknown-mechanism-504", rfc="rfc4954#4", level="SHOULD",
       requirement="AUTH with a mechanism the server does not support is refused with 504.",
       needs=["AUTH"], tags=["auth"])
async def unknown_mechanism(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd("AUTH X-WIREPROOF-NONE")
    ctx.expect(reply.code == 504, "an unsupported mechanism is refused with 504", "504", str(reply))


@probe("smtp.auth.bad-credentials-535", rfc="rfc4954#6", level="SHOULD",
       requirement="Credentials that do not check out are refused with 535.",
       needs=["AUTH=PLAIN", "account"], tags=["auth"])
async def bad_credentials(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd(f"AUTH PLAIN {ctx.vars['auth_plain_bad']}")
    ctx.expect(reply.code == 535, "a wrong password is refused with 535", "535", str(reply))


@probe("smtp.auth.failure-not-authenticated", rfc="rfc4954#4", level="MUST",
       requirement="After a failed AUTH the client is not authenticated: a new AUTH is allowed and succeeds.",
       needs=["AUTH=PLAIN", "account"], tags=["auth"])
async def failure_then_retry(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd(f"AUTH PLAIN {ctx.vars['auth_plain_bad']}")
    ctx.setup(reply.klass == 5, "a wrong password is refused", "5yz", str(reply))
    reply = await client.cmd(f"AUTH PLAIN {ctx.vars['auth_plain']}")
    ctx.expect(reply.code == 235, "a second AUTH after a failure is allowed and succeeds", "235", str(reply))


@probe("smtp.auth.second-auth-503", rfc="rfc4954#4", level="MUST",
       requirement="After a successful AUTH, any further AUTH command is refused with 503.",
       needs=["AUTH=PLAIN", "account"], tags=["auth"])
async def second_auth(ctx):
    client = await ctx.smtp(login=True)
    reply = await client.cmd(f"AUTH PLAIN {ctx.vars['auth_plain']}")
    ctx.expect(reply.code == 503, "a second AUTH is refused with 503", "503", str(reply))


@probe("smtp.auth.in-transaction-503", rfc="rfc4954#4", level="MUST",
       requirement="AUTH during a mail transaction is refused with 503.",
       needs=["AUTH=PLAIN", "account"], tags=["auth", "transaction"])
async def auth_in_transaction(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd(f"MAIL FROM:<{ctx.vars['sender']}>")
    ctx.setup(reply.code == 250, "MAIL is accepted", "250", str(reply))
    reply = await client.cmd(f"AUTH PLAIN {ctx.vars['auth_plain']}")
    ctx.expect(reply.code == 503, "AUTH inside a transaction is refused with 503", "503", str(reply))


@probe("smtp.auth.mail-auth-parameter", rfc="rfc4954#5", level="MUST",
       requirement="A server offering AUTH accepts the AUTH= parameter on MAIL (here AUTH=<>), even from a client "
                   "that has not authenticated.", needs=["AUTH"], tags=["auth", "mail"])
async def mail_auth_parameter(ctx):
    client = await ctx.smtp(auth=True)
    reply = await client.cmd(f"MAIL FROM:<{ctx.vars['sender']}> AUTH=<>")
    ctx.expect(reply.code == 250, "MAIL with AUTH=<> is accepted", "250", str(reply))
