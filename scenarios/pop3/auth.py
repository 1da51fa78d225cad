"""Probes of logging in: USER/PASS and APOP (RFC 1939 section 7), AUTH (RFC 5034), and the AUTH response code
(RFC 3206).

Checks that present wrong credentials run alone (`exclusive`), and each ends with a proper login: servers
slow down logins from an address after a failure (Dovecot's auth penalty delays the next one by seconds),
and a success lifts that again before the next check logs in. Their login reads wait up to FAILURE_WAIT.
"""
from __future__ import annotations

import hashlib
import re

from conformance.dialects.pop3 import sasl_plain
from conformance.fill import account_lock, pop3_account
from conformance.registry import probe
from conformance.wire.session import ConnectionClosed

FAILURE_WAIT = 20.0  # seconds a login may take right after a failed one
MSG_ID_RE = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")  # RFC 822 msg-id: "<" addr-spec ">", loosely


async def sasl_session(ctx):
    """A session ready for AUTH: under TLS when the server offers STLS, as RFC 5034 4 pairs PLAIN with TLS."""
    return await ctx.pop3(tls="STLS" in ctx.cap("pop3").keywords)


# --- USER / PASS --------------------------------------------------------------------------------------


@probe("pop3.pass.wrong-password-err", rfc="rfc1939#7 rfc1939#4", level="MUST",
       requirement="PASS with a wrong password is refused with -ERR; unless the server then closes, the session stays "
                   "in AUTHORIZATION and a new USER/PASS with the right password succeeds.",
       needs=["account", "USER"], tags=["auth", "user"], exclusive=True, timeout=60)
async def wrong_password(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await ctx.pop3()
        reply = await client.cmd(f"USER {account.user}")
        ctx.setup(reply.ok, "USER is accepted", "+OK", reply.show())
        reply = await client.cmd(f"PASS {account.password}-wrong", timeout=FAILURE_WAIT)
        ctx.expect(reply.err, "a wrong password is refused with -ERR", "-ERR", reply.show())
        try:
            reply = await client.cmd(f"USER {account.user}")
        except ConnectionClosed:
            return  # RFC 1939 4: after a negative response the server may close the connection
        ctx.expect(reply.ok, "USER is accepted again after the failed PASS (still AUTHORIZATION)", "+OK", reply.show())
        reply = await client.cmd(f"PASS {account.password}", timeout=FAILURE_WAIT)
        ctx.expect(reply.ok, "the right password then logs in", "+OK", reply.show())
        await client.quit()


@probe("pop3.resp-codes.auth-failure", rfc="rfc3206#6 rfc3206#5", level="MUST",
       requirement="A server advertising AUTH-RESP-CODE marks a login refused for bad credentials with the [AUTH] "
                   "response code.", needs=["account", "AUTH-RESP-CODE"], tags=["auth", "resp-codes"],
       exclusive=True, timeout=60)
async def auth_resp_code(ctx):
    account = pop3_account(ctx)
    use_user = "USER" in ctx.cap("pop3").keywords
    async with account_lock(ctx, account):
        client = await (ctx.pop3() if use_user else sasl_session(ctx))
        if use_user:
            reply = await client.cmd(f"USER {account.user}")
            ctx.setup(reply.ok, "USER is accepted", "+OK", reply.show())
            reply = await client.cmd(f"PASS {account.password}-wrong", timeout=FAILURE_WAIT)
        else:
            reply = await client.cmd(f"AUTH PLAIN {sasl_plain(account.user, account.password + '-wrong')}",
                                     timeout=FAILURE_WAIT)
        ctx.setup(reply.err, "the wrong password is refused", "-ERR", reply.show())
        ctx.expect(reply.code == "AUTH", "the refusal carries the [AUTH] response code", "-ERR [AUTH] ...",
                   reply.show())
        await log_in_again(ctx, client, account)


async def log_in_again(ctx, client, account) -> None:
    """After a deliberate failure: a proper login, so the server lifts any delay it imposes on this address."""
    from conformance.fill import pop3_login

    await client.quit()
    client = await ctx.pop3()
    client.wire.read_timeout = FAILURE_WAIT
    await pop3_login(ctx, client, account)
    await client.quit()


# --- APOP ------------------------------------------------------------------------------------------------


@probe("pop3.apop.timestamp-syntax", rfc="rfc1939#7 rfc2449#3", level="MUST",
       requirement="The APOP timestamp in the greeting has the syntax of an RFC 822 msg-id: <local-part@domain>.",
       needs=["APOP"], tags=["apop", "greeting"])
async def apop_timestamp_syntax(ctx):
    client = await ctx.pop3()
    stamp = client.timestamp()
    ctx.require(stamp is not None, "this greeting carries no timestamp")
    ctx.expect(MSG_ID_RE.match(stamp) is not None, "the timestamp is a msg-id", "<local-part@domain>",
               client.greeting.show())


@probe("pop3.apop.timestamp-unique", rfc="rfc1939#7", level="MUST",
       requirement="The APOP timestamp differs from one greeting to the next.", needs=["APOP"], tags=["apop", "greeting"])
async def apop_timestamp_unique(ctx):
    first = (await ctx.pop3()).timestamp()
    second = (await ctx.pop3()).timestamp()
    ctx.require(first is not None and second is not None, "a greeting carried no timestamp")
    ctx.expect(first != second, "two greetings carry different timestamps", "two different timestamps",
               f"{first}\n{second}")


def apop_digest(timestamp: str, secret: str) -> str:
    return hashlib.md5((timestamp + secret).encode()).hexdigest()


@probe("pop3.apop.login", rfc="rfc1939#7", level="MUST",
       requirement="APOP with the account's name and the MD5 digest of the greeting's timestamp followed by the "
                   "shared secret (here the password) is answered +OK.", needs=["APOP", "account"], tags=["apop", "auth"])
async def apop_login(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await ctx.pop3()
        ctx.require(client.timestamp() is not None, "this greeting carries no timestamp")
        reply = await client.cmd(f"APOP {account.user} {apop_digest(client.timestamp(), account.password)}")
        ctx.expect(reply.ok, "APOP with the right digest logs in", "+OK", reply.show())
        await client.quit()


@probe("pop3.apop.wrong-digest", rfc="rfc1939#7", level="MUST",
       requirement="APOP with a wrong digest is refused with -ERR and the session stays in AUTHORIZATION: the right "
                   "digest then logs in.", needs=["APOP", "account"], tags=["apop", "auth"], exclusive=True, timeout=60)
async def apop_wrong_digest(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await ctx.pop3()
        stamp = client.timestamp()
        ctx.require(stamp is not None, "this greeting carries no timestamp")
        reply = await client.cmd(f"APOP {account.user} {apop_digest(stamp, account.password + '-wrong')}",
                                 timeout=FAILURE_WAIT)
        ctx.expect(reply.err, "a wrong digest is refused with -ERR", "-ERR", reply.show())
        try:
            reply = await client.cmd(f"APOP {account.user} {apop_digest(stamp, account.password)}",
                                     timeout=FAILURE_WAIT)
        except ConnectionClosed:
            return  # RFC 1939 4: after a negative response the server may close the connection
        ctx.expect(reply.ok, "the session is still in AUTHORIZATION: the right digest logs in", "+OK", reply.show())
        await client.quit()


# --- AUTH (SASL, RFC 5034) ----------------------------------------------------------------------------


@probe("pop3.sasl.plain-initial-response", rfc="rfc5034#4 rfc4616#2", level="MUST",
       requirement="AUTH PLAIN with a valid initial response (authzid, user, password in base64) is answered +OK.",
       needs=["SASL=PLAIN", "account"], tags=["auth", "sasl"])
async def plain_initial_response(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await sasl_session(ctx)
        reply = await client.auth_plain(account.user, account.password)
        ctx.expect(reply.ok, f"AUTH PLAIN as {account.user} succeeds", "+OK", reply.show())
        await client.quit()


@probe("pop3.sasl.plain-empty-challenge", rfc="rfc5034#4", level="MUST",
       requirement="AUTH PLAIN without an initial response gets an empty challenge, a line of exactly \"+\" and one "
                   "space; the response sent after it completes the login.",
       needs=["SASL=PLAIN", "account"], tags=["auth", "sasl"])
async def plain_empty_challenge(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await sasl_session(ctx)
        reply = await client.cmd("AUTH PLAIN")
        ctx.expect(reply.raw[0] == b"+ \r\n", "the challenge is \"+ \" and nothing else", "+ <CRLF>", repr(reply.raw[0]))
        reply = await client.cmd(sasl_plain(account.user, account.password))
        ctx.expect(reply.ok, "the response after the challenge logs in", "+OK", reply.show())
        await client.quit()


@probe("pop3.sasl.cancel-err", rfc="rfc5034#4", level="MUST",
       requirement="A client response of a single \"*\" cancels the exchange; the server refuses the AUTH with -ERR.",
       needs=["SASL=PLAIN"], tags=["auth", "sasl"])
async def cancel(ctx):
    client = await sasl_session(ctx)
    reply = await client.cmd("AUTH PLAIN")
    ctx.setup(reply.status == "+", "AUTH PLAIN without initial response gets a challenge", "+ ", reply.show())
    reply = await client.cmd("*")
    ctx.expect(reply.err, "\"*\" cancels with -ERR", "-ERR", reply.show())


@probe("pop3.sasl.bad-base64-err", rfc="rfc5034#4", level="MUST",
       requirement="A client response that is not valid base64 is refused with -ERR.", needs=["SASL=PLAIN"],
       tags=["auth", "sasl", "syntax"])
async def bad_base64(ctx):
    client = await sasl_session(ctx)
    reply = await client.cmd("AUTH PLAIN")
    ctx.setup(reply.status == "+", "AUTH PLAIN without initial response gets a challenge", "+ ", reply.show())
    reply = await client.cmd("%%% not base64 %%%")
    ctx.expect(reply.err, "an undecodable response is refused with -ERR", "-ERR", reply.show())


@probe("pop3.sasl.unknown-mechanism-err", rfc="rfc5034#4", level="MUST",
       requirement="AUTH with a mechanism the server does not support is refused with -ERR.", needs=["SASL"],
       tags=["auth", "sasl"])
async def unknown_mechanism(ctx):
    client = await sasl_session(ctx)
    reply = await client.cmd("AUTH X-WIREPROOF-NONE")
    ctx.expect(reply.err, "an unsupported mechanism is refused with -ERR", "-ERR", reply.show())


@probe("pop3.sasl.second-auth-err", rfc="rfc5034#4", level="MUST",
       requirement="After a successful AUTH, any further AUTH command is refused with -ERR.",
       needs=["SASL=PLAIN", "account"], tags=["auth", "sasl", "state"])
async def second_auth(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await sasl_session(ctx)
        reply = await client.auth_plain(account.user, account.password)
        ctx.setup(reply.ok, "AUTH PLAIN logs in", "+OK", reply.show())
        reply = await client.auth_plain(account.user, account.password)
        ctx.expect(reply.err, "a second AUTH is refused with -ERR", "-ERR", reply.show())
        await client.quit()


@probe("pop3.sasl.failure-not-authenticated", rfc="rfc5034#4", level="MUST",
       requirement="After an AUTH that failed on bad credentials the server behaves as if it had not been issued: "
                   "a new AUTH with the right credentials succeeds.", needs=["SASL=PLAIN", "account"],
       tags=["auth", "sasl"], exclusive=True, timeout=60)
async def failure_then_retry(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await sasl_session(ctx)
        reply = await client.cmd(f"AUTH PLAIN {sasl_plain(account.user, account.password + '-wrong')}",
                                 timeout=FAILURE_WAIT)
        ctx.setup(reply.err, "a wrong password is refused", "-ERR", reply.show())
        try:
            reply = await client.cmd(f"AUTH PLAIN {sasl_plain(account.user, account.password)}",
                                     timeout=FAILURE_WAIT)
        except ConnectionClosed:
            ctx.skip("the server closed the connection after the failure, which RFC 1939 4 allows")
        ctx.expect(reply.ok, "a new AUTH after the failure is allowed and succeeds", "+OK", reply.show())
        await client.quit()


@probe("pop3.sasl.mechanism-case-insensitive", rfc="rfc5034#5", level="MUST",
       requirement="The AUTH keyword and the mechanism name are accepted in lower case: \"auth plain\" with a valid "
                   "initial response logs in.", needs=["SASL=PLAIN", "account"], tags=["auth", "sasl", "syntax"])
async def mechanism_case_insensitive(ctx):
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        client = await sasl_session(ctx)
        reply = await client.cmd(f"auth plain {sasl_plain(account.user, account.password)}")
        ctx.expect(reply.ok, "\"auth plain\" in lower case logs in", "+OK", reply.show())
        await client.quit()
