"""What a running check sees: the target, its sessions, its variables, and the ways to end it.

A check proves its requirement through `expect` (an assertion: a miss is a violation graded by the
check's level) and prepares through `setup` (a miss means the check could not get to the point: error).
A check that returns without a single held assertion is an error, never a pass.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .dialects.imap import ImapClient
from .dialects.nntp import NntpClient
from .dialects.pop3 import Pop3Client
from .dialects.smtp import SmtpClient
from .model import Check, Skip, Undecided, Violation
from .target import Endpoint, Target
from .wire.session import Session, client_tls_context
from .wire.transcript import Transcript


ACCOUNT_HINT = "give an account (user:pass@ in the URL, or [[accounts]] in a profile)"
DOMAIN_HINT = "give the local domain (?domain= in the URL, or [smtp] local_domain in a profile)"
TARGET_VARIABLES = {  # every variable a script may use without setting it, and how a user provides it
    "helo": "", "sender": "", "relay_domain": "", "relay_rcpt": "", "token": "",
    "local_domain": DOMAIN_HINT, "unknown_rcpt": DOMAIN_HINT, "postmaster": DOMAIN_HINT,
    "rcpt": "give an accepted recipient (?rcpt= in the URL, or [smtp] rcpt / [[accounts]] address in a profile)",
    "rcpt2": "give a second account with an address in the profile",
    "user": ACCOUNT_HINT, "password": ACCOUNT_HINT, "auth_plain": ACCOUNT_HINT, "auth_plain_bad": ACCOUNT_HINT,
    "user_b64": ACCOUNT_HINT, "password_b64": ACCOUNT_HINT,
    "readback_rcpt": "give a read-back mailbox ([readback] url and address in a profile)",
    "pop3_user": ACCOUNT_HINT, "pop3_password": ACCOUNT_HINT,  # the POP3 account (fill.py), scripts only
    # IMAP scripts (conformance/dialects/imap_script.py): the first account as LOGIN arguments and pieces
    "login": ACCOUNT_HINT, "user_quoted": ACCOUNT_HINT, "password_quoted": ACCOUNT_HINT, "user_len": ACCOUNT_HINT,
    "password_len": ACCOUNT_HINT,
    # NNTP scripts (conformance/dialects/nntp_script.py): the profile's scratch newsgroups
    "group": "name scratch newsgroups in the profile ([nntp] groups = [...])",
    "group2": "name two scratch newsgroups in the profile ([nntp] groups = [...])",
}


@dataclass
class Capabilities:
    """What discovery learned about one protocol endpoint of the target."""

    protocol: str
    keywords: set[str] = field(default_factory=set)  # e.g. EHLO keywords, "AUTH=PLAIN", "tls"
    params: dict[str, str] = field(default_factory=dict)  # keyword -> its parameters, e.g. SIZE -> 1048576
    problem: str = ""  # why discovery could not finish, if it did not
    greeting: str = ""
    transcript: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunOptions:
    check_timeout: float = 10.0
    read_timeout: float = 5.0
    connect_timeout: float = 5.0
    seed: int = 0
    max_examples: int = 60
    property_budget_s: float = 60.0
    # Run-wide locks by key, e.g. "pop3:alice": a POP3 maildrop admits one session at a time, so checks that
    # use the same account take turns (CheckContext.exclusive).
    locks: dict[str, asyncio.Lock] = field(default_factory=dict, repr=False, compare=False)


class CheckContext:
    def __init__(self, check: Check, target: Target, caps: dict[str, Capabilities], options: RunOptions,
                 transcript: Transcript | None = None) -> None:
        self.check = check
        self.target = target
        self.caps = caps
        self.options = options
        self.transcript = transcript or Transcript()
        self.observations: list[dict[str, Any]] = []
        self.sessions: list[Session] = []
        self._labels = (chr(c) for c in itertools.count(ord("a")))
        self.token = "wp-" + secrets.token_hex(6)
        self.vars = self._variables()
        self.seed: int | None = None
        self._held_locks: set[str] = set()  # run-wide lock keys this check holds (see exclusive)

    # --- ending a check -----------------------------------------------------------------------------

    def expect(self, ok: bool, what: str, expected: str = "", observed: str = "") -> None:
        """An assertion of the requirement itself."""
        # `event`: how much of the transcript had been recorded, so a report can point at the exchange judged
        self.observations.append({"what": what, "held": bool(ok), "expected": expected, "observed": observed,
                                  "event": len(self.transcript.events)})
        if not ok:
            first = observed.strip().splitlines()[0] if observed.strip() else "(nothing)"
            raise Violation(f"{what}, but got {first}", expected, observed)

    def setup(self, ok: bool, what: str, expected: str = "", observed: str = "") -> None:
        """A precondition the check needs on the way to its assertion."""
        if not ok:
            first = observed.strip().splitlines()[0] if observed.strip() else "(nothing)"
            raise Undecided(f"could not set up: {what}, but got {first}", expected, observed)

    def skip(self, reason: str) -> None:
        raise Skip(reason)

    def require(self, ok: bool, reason: str) -> None:
        if not ok:
            raise Skip(reason)

    # --- variables ------------------------------------------------------------------------------------

    def _variables(self) -> dict[str, str]:
        t = self.target
        v = {"helo": t.helo, "sender": t.sender, "relay_domain": t.relay_domain, "token": self.token,
             "relay_rcpt": f"wireproof-relay-probe@{t.relay_domain}"}
        domain = t.local_domain
        smtp_caps = self.caps.get("smtp")
        if not domain and smtp_caps and smtp_caps.params.get("domain"):
            domain = smtp_caps.params["domain"]  # guessed from the greeting; see runner discovery
        if domain:
            v["local_domain"] = domain
            v["unknown_rcpt"] = f"no-such-user-{self.token}@{domain}"
            v["postmaster"] = f"postmaster@{domain}"
        addresses = [a.address for a in t.accounts if a.address]
        rcpt = t.rcpt or (addresses[0] if addresses else None) or (f"postmaster@{domain}" if domain else None)
        if rcpt:
            v["rcpt"] = rcpt
        if len(addresses) > 1:
            v["rcpt2"] = addresses[1]
        if t.accounts:
            a = t.accounts[0]
            v["user"], v["password"] = a.user, a.password
            v["auth_plain"] = base64.b64encode(f"\0{a.user}\0{a.password}".encode()).decode()
            v["auth_plain_bad"] = base64.b64encode(f"\0{a.user}\0{a.password}-wrong".encode()).decode()
            v["user_b64"] = base64.b64encode(a.user.encode()).decode()
            v["password_b64"] = base64.b64encode(a.password.encode()).decode()
        if t.readback_address:
            v["readback_rcpt"] = t.readback_address
        return v

    # --- sessions ---------------------------------------------------------------------------------------

    def endpoint(self, protocol: str) -> Endpoint:
        ep = self.target.endpoint(protocol)
        if ep is None:
            raise Skip(f"the target has no {protocol} endpoint")
        return ep

    def tls_context(self):
        return client_tls_context(self.target.tls_verify, self.target.cafile)

    async def connect(self, protocol: str, label: str | None = None, endpoint: Endpoint | None = None) -> Session:
        ep = endpoint or self.endpoint(protocol)
        session = await Session.open(
            ep.host, ep.port, transcript=self.transcript, label=label or next(self._labels),
            tls=self.tls_context() if ep.implicit_tls else None,
            connect_timeout=self.options.connect_timeout, read_timeout=self.options.read_timeout)
        self.sessions.append(session)
        return session

    async def smtp(self, *, ehlo: bool = True, tls: bool = False, auth: bool = False, login: bool = False,
                   label: str | None = None) -> SmtpClient:
        """A ready SMTP session: greeting read and EHLO done. Upgraded with STARTTLS when `tls` asks, when
        the endpoint requires it, or when `auth` needs AUTH and the server offers it only under TLS.
        `login` also authenticates with the target's first account."""
        auth = auth or login
        client = SmtpClient(await self.connect("smtp", label))
        greeting = await client.read_greeting()
        self.setup(greeting.code == 220, "the server greets with 220", "220", str(greeting))
        if not ehlo:
            return client
        await self._ehlo(client)
        ep = self.endpoint("smtp")
        want_tls = tls or ep.starttls_required or (auth and not client.has("AUTH") and client.has("STARTTLS"))
        if want_tls and not client.wire.tls:
            self.require(client.has("STARTTLS"), "the server does not offer STARTTLS")
            reply = await client.starttls(self.tls_context())
            self.setup(reply.code == 220, "STARTTLS is accepted", "220", str(reply))
            await self._ehlo(client)
        if auth:
            self.require(client.has("AUTH"), "the server does not offer AUTH"
                         + ("" if client.wire.tls else " (and offers no TLS to try under)"))
        if login:
            acc = self._account()
            mechs = client.auth_mechanisms()
            self.require("PLAIN" in mechs, f"the server offers no AUTH PLAIN (offers {' '.join(sorted(mechs))})")
            reply = await client.auth_plain(acc.user, acc.password)
            self.setup(reply.code == 235, f"AUTH PLAIN as {acc.user} succeeds", "235", str(reply))
        return client

    async def _ehlo(self, client: SmtpClient) -> None:
        reply = await client.ehlo(self.target.helo)
        self.setup(reply.code == 250, "EHLO is accepted", "250", str(reply))

    def _account(self):
        self.require(bool(self.target.accounts), "no account given (user:pass@ in the URL or [[accounts]] in a profile)")
        return self.target.accounts[0]

    def var(self, name: str) -> str:
        """A target-derived variable; skips, saying what to configure, when the target does not give it."""
        if name not in self.vars:
            if name not in TARGET_VARIABLES:
                raise KeyError(f"variable {name!r} is neither set by the script nor derived from the target")
            raise Skip(f"no value for ${{{name}}}: {TARGET_VARIABLES[name]}")
        return self.vars[name]

    def cap(self, protocol: str) -> Capabilities:
        return self.caps.get(protocol) or Capabilities(protocol)

    async def close_all(self) -> None:
        for session in self.sessions:
            await session.close()

    # --- POP3 ----------------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def exclusive(self, key: str, release: Callable[[], Awaitable[None]] | None = None):
        """Hold the run-wide lock `key` (e.g. "pop3:alice") for the block: checks holding the same key never
        overlap. Re-entrant within one check, so a script's scope and a helper it calls can both ask; the
        outermost holder awaits `release()` (e.g. ending its sessions) before passing the lock on."""
        held = self._held_locks
        if key in held:
            yield
            return
        lock = self.options.locks.setdefault(key, asyncio.Lock())
        async with lock:
            held.add(key)
            try:
                yield
            finally:
                held.discard(key)
                if release is not None:
                    await release()

    async def pop3(self, *, tls: bool = False, login: bool = False, account=None, label: str | None = None,
                   capa: bool = False) -> Pop3Client:
        """A ready POP3 session: greeting read (+OK). Upgraded with STLS when `tls` asks or the endpoint
        requires it; `capa` reads the capability list (after TLS); `login` logs in as `account` (default: the
        POP3 account, see fill.py) with USER/PASS, or AUTH PLAIN when the server offers no USER. The caller
        holds the account's lock (fill.account_lock) when it logs in."""
        client = Pop3Client(await self.connect("pop3", label))
        greeting = await client.read_greeting()
        self.setup(greeting.ok, "the server greets with +OK", "+OK", greeting.show())
        ep = self.endpoint("pop3")
        if (tls or ep.starttls_required) and not client.wire.tls:
            self.require("STLS" in self.cap("pop3").keywords, "the server does not offer STLS")
            reply = await client.stls(self.tls_context())
            self.setup(reply.ok, "STLS is accepted", "+OK", reply.show())
        if capa:
            reply = await client.capa()
            self.setup(reply.ok, "CAPA is answered +OK", "+OK", reply.show())
        if login:
            from .fill import pop3_account, pop3_login

            reply = await pop3_login(self, client, account or pop3_account(self))
            self.setup(reply.ok, f"logging in as {(account or pop3_account(self)).user} succeeds", "+OK",
                       reply.show())
        return client

    # --- IMAP ----------------------------------------------------------------------------------------------

    async def imap(self, *, tls: bool = False, plain: bool = False, login: bool = False, select: str | None = None,
                   examine: bool = False, capability: bool = False, label: str | None = None) -> ImapClient:
        """A ready IMAP session: greeting read (OK or PREAUTH). Upgraded with STARTTLS when `tls` asks, or when
        the endpoint requires it (`?starttls=require`) unless `plain` asks for the plaintext session a STARTTLS
        check starts from; `capability` asks CAPABILITY (after TLS); `login` logs in as the target's first
        account (LOGIN, or AUTHENTICATE PLAIN when the server announces LOGINDISABLED); `select` (or with
        `examine`, EXAMINE) opens a mailbox. Every step is setup: when it fails the check is an error."""
        client = ImapClient(await self.connect("imap", label))
        greeting = await client.read_greeting()
        self.setup(greeting.kind == "untagged" and greeting.status in ("OK", "PREAUTH"),
                   "the server greets with * OK", "* OK ...", str(greeting))
        ep = self.endpoint("imap")
        if (tls or (ep.starttls_required and not plain)) and not client.wire.tls:
            self.require("STARTTLS" in self.cap("imap").keywords, "the server does not offer STARTTLS")
            reply = await client.starttls(self.tls_context())
            self.setup(reply.ok, "STARTTLS is accepted", "OK", reply.show())
        if capability or (login and not client.capabilities):
            reply = await client.capability()
            self.setup(reply.ok, "CAPABILITY is answered OK", "OK", reply.show())
        if login and greeting.status != "PREAUTH":
            acc = self._account()
            if client.has("LOGINDISABLED"):
                self.require(client.has("AUTH=PLAIN"), "the server disables LOGIN here and offers no AUTH=PLAIN")
                reply = await client.authenticate_plain(acc.user, acc.password)
            else:
                reply = await client.login(acc.user, acc.password)
            self.setup(reply.ok, f"logging in as {acc.user} succeeds", "OK", reply.show())
        if select is not None:
            reply, _ = await client.select(select, examine=examine)
            self.setup(reply.ok, f"{'EXAMINE' if examine else 'SELECT'} {select} is accepted", "OK", reply.show())
        return client

    # --- NNTP ----------------------------------------------------------------------------------------------

    async def nntp(self, *, reader: bool = True, tls: bool = False, plain: bool = False, login: bool = False,
                   capabilities: bool = False, group: str | None = None, label: str | None = None) -> NntpClient:
        """A ready NNTP session: greeting read (200 or 201). Upgraded with STARTTLS when `tls` asks, or when the
        endpoint requires it (`?starttls=require`) unless `plain` asks for the plaintext session a STARTTLS check
        starts from; MODE READER when `reader` and the server is mode-switching (it advertised MODE-READER);
        `capabilities` asks CAPABILITIES (after TLS and MODE READER); `login` authenticates as the target's first
        account (AUTHINFO USER/PASS, or AUTHINFO SASL PLAIN when USER is not offered); `group` selects a group.
        Every step is setup: when it fails the check is an error."""
        client = NntpClient(await self.connect("nntp", label))
        greeting = await client.read_greeting()
        self.setup(greeting.code in (200, 201), "the server greets with 200 or 201", "200|201", greeting.show())
        ep = self.endpoint("nntp")
        keywords = self.cap("nntp").keywords
        if (tls or (ep.starttls_required and not plain)) and not client.wire.tls:
            self.require("STARTTLS" in keywords, "the server does not offer STARTTLS")
            reply = await client.starttls(self.tls_context())
            self.setup(reply.code == 382, "STARTTLS is accepted", "382", reply.show())
        if reader and "MODE-READER" in keywords:
            reply = await client.mode_reader()
            self.setup(reply.code in (200, 201), "MODE READER is accepted", "200|201", reply.show())
        if capabilities:
            reply = await client.capabilities_cmd()
            self.setup(reply.code == 101, "CAPABILITIES is answered 101", "101", reply.show())
        if login:
            acc = self._account()
            if "AUTHINFO=USER" in keywords or "SASL=PLAIN" not in keywords:
                reply = await client.authinfo_user(acc.user, acc.password)
            else:
                reply = await client.authinfo_sasl_plain(acc.user, acc.password)
            self.setup(reply.code == 281, f"logging in as {acc.user} succeeds", "281", reply.show())
        if group is not None:
            reply = await client.cmd(f"GROUP {group}")
            self.setup(reply.code == 211, f"GROUP {group} is accepted", "211", reply.show())
        return client

    # --- HTTP / WebDAV -------------------------------------------------------------------------------------

    async def http(self, *, auth: bool = True, label: str | None = None):
        """An HTTP client for the target's WebDAV endpoint (conformance/dialects/http.py). It opens its session
        on the first request and a new one (`label`, `label2`, ...) whenever the server ended the previous
        one; with `auth` (and an account) every request carries Basic credentials of the first account. Lock
        tokens that LOCK responses hand out are kept for the check's cleanup (conformance/davscratch.py)."""
        from .dialects.http import HttpClient, basic_credentials, host_field

        ep = self.endpoint("webdav")
        name = label or next(self._labels)
        opened = itertools.count(1)

        async def opener() -> Session:
            n = next(opened)
            return await self.connect("webdav", name if n == 1 else f"{name}{n}")

        account = self.target.accounts[0] if auth and self.target.accounts else None
        return HttpClient(opener, host=host_field(ep.host, ep.port, ep.implicit_tls),
                          authorization=basic_credentials(account.user, account.password) if account else None,
                          locks=self.__dict__.setdefault("http_locks", []))

    # --- mail transactions and read-back ----------------------------------------------------------------

    def readback(self):
        from .readback import Readback

        self.require(self.target.readback is not None, "no read-back mailbox given ([readback] url in a profile)")
        return Readback(self.target.readback, self.tls_context())

    async def transaction(self, client: SmtpClient, *, rcpts: list[str] | None = None, mail_params: str = "",
                          sender: str | None = None) -> None:
        """MAIL and RCPT as setup steps: the check is about what comes after."""
        sender = self.vars["sender"] if sender is None else sender
        reply = await client.cmd(f"MAIL FROM:<{sender}>" + (f" {mail_params}" if mail_params else ""))
        self.setup(reply.code == 250, f"MAIL FROM:<{sender}> {mail_params}".strip() + " is accepted", "250", str(reply))
        for rcpt in rcpts or [self.var("rcpt")]:
            reply = await client.cmd(f"RCPT TO:<{rcpt}>")
            self.setup(reply.code in (250, 251), f"RCPT TO:<{rcpt}> is accepted", "250", str(reply))

    def message(self, subject: str, body: str | bytes = "", rcpt: str | None = None,
                extra_headers: list[str] | None = None) -> bytes:
        from .dialects.smtp import message

        return message(subject=subject, token=self.token, sender=self.vars["sender"],
                       rcpt=rcpt or self.vars.get("rcpt", ""), body=body, extra_headers=extra_headers)
