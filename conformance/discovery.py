"""Discovery: one short session per protocol before the checks, to learn what the server advertises.

Checks declare the capabilities they need; a missing capability turns into `skip` with the reason, an
unknown one (discovery itself failed) into `error`. The discovery conversation is kept in the results.
"""
from __future__ import annotations

from .context import Capabilities, RunOptions
from .dialects.imap import ImapClient, astring
from .dialects.nntp import NntpClient, capability_keywords
from .dialects.pop3 import Pop3Client
from .dialects.smtp import SmtpClient
from .errors import SetupError
from .target import Target
from .wire.session import ConnectFailed, Session, WireError, client_tls_context
from .wire.transcript import Transcript


async def _open(protocol: str, target: Target, options: RunOptions):
    """The discovery session: (caps, endpoint, transcript, TLS context, session or None). Nothing listening
    is a setup error (exit 2); a connection that misbehaves leaves the capabilities unknown, with why."""
    caps = Capabilities(protocol)
    ep = target.endpoint(protocol)
    transcript = Transcript()
    tls_ctx = client_tls_context(target.tls_verify, target.cafile)
    try:
        wire = await Session.open(ep.host, ep.port, transcript=transcript, label="discovery",
                                  tls=tls_ctx if ep.implicit_tls else None,
                                  connect_timeout=options.connect_timeout, read_timeout=options.read_timeout)
    except ConnectFailed as exc:
        raise SetupError(f"cannot reach the {protocol.upper()} endpoint {ep.url()}: {exc}; "
                         "is the server running there?") from None
    except WireError as exc:
        caps.problem = str(exc)
        caps.transcript = transcript.events
        return caps, ep, transcript, tls_ctx, None
    return caps, ep, transcript, tls_ctx, wire


async def discover_smtp(target: Target, options: RunOptions) -> Capabilities:
    caps, ep, transcript, tls_ctx, wire = await _open("smtp", target, options)
    if wire is None:
        return caps
    client = SmtpClient(wire)
    try:
        greeting = await client.read_greeting()
        caps.greeting = greeting.show()
        words = greeting.lines[0].split() if greeting.lines and greeting.code == 220 else []
        if words:
            caps.params["domain"] = words[0]  # a guess at the mail domain when the target names none
        if greeting.code != 220:
            caps.problem = f"the server greeted with {greeting} instead of 220"
            return caps
        reply = await client.ehlo(target.helo)
        if reply.code != 250:
            caps.problem = f"EHLO was refused: {reply}"
            return caps
        _absorb(caps, client)
        if ep.implicit_tls:
            caps.keywords.add("tls")
        elif client.has("STARTTLS"):
            tls_reply = await client.starttls(tls_ctx)
            if tls_reply.code == 220:
                caps.keywords.add("tls")
                if (await client.ehlo(target.helo)).code == 250:
                    _absorb(caps, client)
        await client.quit()
    except WireError as exc:
        caps.problem = f"discovery did not finish: {exc}"
    finally:
        await wire.close()
        caps.transcript = transcript.events
    return caps


def _absorb(caps: Capabilities, client: SmtpClient) -> None:
    for keyword, params in client.extensions.items():
        caps.keywords.add(keyword)
        caps.params.setdefault(keyword, params)
    for mech in client.auth_mechanisms():
        caps.keywords.add(f"AUTH={mech}")


async def discover_pop3(target: Target, options: RunOptions) -> Capabilities:
    """Greeting, CAPA, and if STLS is offered, STLS and CAPA again. Keywords are CAPA tags in upper case
    (TOP, UIDL, USER, STLS, PIPELINING, RESP-CODES, ...), one SASL=<mech> per SASL mechanism, CAPA when
    the server answers CAPA, APOP when the greeting carries a timestamp, and tls."""
    caps, ep, transcript, tls_ctx, wire = await _open("pop3", target, options)
    if wire is None:
        return caps
    client = Pop3Client(wire)
    try:
        greeting = await client.read_greeting()
        caps.greeting = greeting.show()
        if not greeting.ok:
            caps.problem = f"the server greeted with {greeting} instead of +OK"
            return caps
        if client.timestamp():
            caps.keywords.add("APOP")
            caps.params["APOP"] = client.timestamp()
        await _capa(caps, client)
        if ep.implicit_tls:
            caps.keywords.add("tls")
        elif "STLS" in caps.keywords:
            if (await client.stls(tls_ctx)).ok:
                caps.keywords.add("tls")
                await _capa(caps, client)
        await client.quit()
    except WireError as exc:
        caps.problem = f"discovery did not finish: {exc}"
    finally:
        await wire.close()
        caps.transcript = transcript.events
    return caps


async def _capa(caps: Capabilities, client: Pop3Client) -> None:
    reply = await client.capa()
    if not reply.ok:
        return  # no CAPA: the server has no extensions to announce (RFC 2449 5), which is allowed
    caps.keywords.add("CAPA")
    for tag, params in client.capabilities.items():
        caps.keywords.add(tag)
        caps.params.setdefault(tag, params)
    for mech in client.sasl_mechanisms():
        caps.keywords.add(f"SASL={mech}")


async def discover_imap(target: Target, options: RunOptions) -> Capabilities:
    """Greeting, CAPABILITY, and if STARTTLS is offered, STARTTLS and CAPABILITY again; then, when the target
    has an account, LOGIN (inside TLS when there is TLS) and CAPABILITY once more, because servers announce
    more after login (RFC 3501 7.2.1), and NAMESPACE (or LIST "" "") for the personal namespace's prefix and
    hierarchy delimiter, which scratch mailbox names need. Keywords are capability names in upper case
    (IMAP4REV1, IDLE, AUTH=PLAIN, LITERAL+, ...) from any of those stages, and tls. Params: `pre-login`,
    `pre-login-tls` and `post-login` (each stage's list), `prefix` and `delimiter`, `login` (why not)."""
    caps, ep, transcript, tls_ctx, wire = await _open("imap", target, options)
    if wire is None:
        return caps
    client = ImapClient(wire, tag_prefix="d")
    try:
        greeting = await client.read_greeting()
        caps.greeting = greeting.line
        if greeting.kind != "untagged" or greeting.status not in ("OK", "PREAUTH"):
            caps.problem = f"the server greeted with {greeting} instead of * OK"
            return caps
        await _imap_capability(caps, client, "pre-login")
        if ep.implicit_tls:
            caps.keywords.add("tls")
        elif client.has("STARTTLS"):
            if (await client.starttls(tls_ctx)).ok:
                caps.keywords.add("tls")
                await _imap_capability(caps, client, "pre-login-tls")
        if greeting.status == "PREAUTH":
            caps.params["login"] = "the server greeted with PREAUTH"
        elif not target.accounts:
            caps.params["login"] = "no account given"
        else:
            account = target.accounts[0]
            if client.has("LOGINDISABLED"):
                reply = await client.authenticate_plain(account.user, account.password)
            else:
                reply = await client.login(account.user, account.password)
            if not reply.ok:
                caps.params["login"] = f"logging in as {account.user} was refused: {reply}"
                return caps
        if greeting.status == "PREAUTH" or target.accounts:
            await _imap_capability(caps, client, "post-login")
            await _imap_namespace(caps, client)
        await client.logout()
    except WireError as exc:
        caps.problem = f"discovery did not finish: {exc}"
    finally:
        await wire.close()
        caps.transcript = transcript.events
    return caps


async def _imap_capability(caps: Capabilities, client: ImapClient, stage: str) -> None:
    reply = await client.capability()
    if reply.ok:
        caps.params[stage] = " ".join(sorted(client.capabilities))
        caps.keywords |= client.capabilities


async def _imap_namespace(caps: Capabilities, client: ImapClient) -> None:
    """The personal namespace's prefix and delimiter: NAMESPACE's first personal entry, else LIST "" ""."""
    if client.has("NAMESPACE"):
        reply = await client.command("NAMESPACE")
        data = reply.first("NAMESPACE")
        personal = data.values[0] if data is not None and data.values else None
        if reply.ok and isinstance(personal, list) and personal and isinstance(personal[0], list) \
                and len(personal[0]) >= 2:
            prefix, delimiter = personal[0][0], personal[0][1]
            caps.params["prefix"] = prefix.decode("utf-8", "replace") if isinstance(prefix, bytes) else ""
            caps.params["delimiter"] = delimiter.decode("utf-8", "replace") if isinstance(delimiter, bytes) else ""
            return
    reply = await client.command(f'LIST "" {astring("")}')
    entry = reply.first("LIST")
    listed = entry.mailbox_list() if entry is not None else None
    caps.params["prefix"] = ""
    caps.params["delimiter"] = (listed.delimiter or "") if listed is not None else ""


async def discover_nntp(target: Target, options: RunOptions) -> Capabilities:
    """Greeting (200 or 201), CAPABILITIES; MODE READER and CAPABILITIES again when the server is
    mode-switching (it lists MODE-READER); STARTTLS and CAPABILITIES again when STARTTLS is offered (in a
    session of its own, so that no MODE READER precedes it). Keywords are capability labels in upper case
    (VERSION, READER, POST, OVER, HDR, LIST, STARTTLS, AUTHINFO, SASL, NEWNEWS, MODE-READER, ...) and
    LABEL=ARGUMENT for their arguments (VERSION=2, LIST=ACTIVE, LIST=OVERVIEW.FMT, AUTHINFO=USER, SASL=PLAIN,
    OVER=MSGID), from any stage, and tls. Params: `greeting` (200 or 201), and each stage's capability lines
    (`initial`, `reader`, `tls`)."""
    caps, ep, transcript, tls_ctx, wire = await _open("nntp", target, options)
    if wire is None:
        return caps
    try:
        client = NntpClient(wire)
        greeting = await client.read_greeting()
        caps.greeting = greeting.head
        if greeting.code not in (200, 201):
            caps.problem = f"the server greeted with {greeting.head} instead of 200 or 201"
            return caps
        caps.params["greeting"] = str(greeting.code)
        await _nntp_capabilities(caps, client, "initial")
        if "MODE-READER" in client.capabilities:
            if (await client.mode_reader()).code in (200, 201):
                await _nntp_capabilities(caps, client, "reader")
        if ep.implicit_tls:
            caps.keywords.add("tls")
        elif "STARTTLS" in caps.keywords:
            await client.quit()
            await wire.close()
            wire = await Session.open(ep.host, ep.port, transcript=transcript, label="discovery-tls",
                                      connect_timeout=options.connect_timeout, read_timeout=options.read_timeout)
            client = NntpClient(wire)
            if (await client.read_greeting()).code in (200, 201) and (await client.starttls(tls_ctx)).code == 382:
                caps.keywords.add("tls")
                await _nntp_capabilities(caps, client, "tls")
        await client.quit()
    except WireError as exc:
        caps.problem = f"discovery did not finish: {exc}"
    finally:
        await wire.close()
        caps.transcript = transcript.events
    return caps


async def _nntp_capabilities(caps: Capabilities, client: NntpClient, stage: str) -> None:
    reply = await client.capabilities_cmd()
    if reply.code == 101:
        caps.params[stage] = " / ".join(reply.lines)
        caps.keywords |= capability_keywords(client.capabilities)
    elif not caps.keywords:
        caps.problem = f"CAPABILITIES was answered {reply.head} instead of 101"


async def discover_webdav(target: Target, options: RunOptions) -> Capabilities:
    """OPTIONS on the endpoint's collection, first without credentials (does the server ask for them, and how?),
    then with the first account's Basic credentials when the target has one. Keywords: `DAV=<class>` for every
    compliance class of the DAV header (DAV=1, DAV=2, DAV=3, coded URLs as given), `METHOD=<name>` for every
    method of Allow (METHOD=PROPFIND, METHOD=LOCK, METHOD=BPROPFIND, ...), `DASL=<grammar>` per DASL element
    (DASL=<DAV:sql>), `MS-AUTHOR-VIA=<value>`, `X-MSDAVEXT`, `AUTH=BASIC` when a 401 challenge offers Basic,
    `auth-required` when the endpoint refuses anonymous requests, and tls. When the server advertises Exchange's
    extension methods or SQL search, a PROPFIND of the mailbox root (the endpoint's collection, else
    `<path><user>/`) asks for urn:schemas:httpmail:inbox and :sendmsg; found, they add `HTTPMAIL` and the params
    `mailbox`, `inbox` and `sendmsg`. Params also keep the `server`, `dav` and `allow` field values."""
    from .dialects.http import HttpClient, XmlError, basic_credentials, host_field, parse_multistatus, propfind_body

    caps, ep, transcript, tls_ctx, wire = await _open("webdav", target, options)
    if wire is None:
        return caps
    sessions, unused = [wire], [wire]

    async def opener() -> Session:  # the discovery session first, then new ones when the server closed it
        if unused:
            return unused.pop()
        session = await Session.open(ep.host, ep.port, transcript=transcript, label=f"discovery{len(sessions) + 1}",
                                     tls=tls_ctx if ep.implicit_tls else None,
                                     connect_timeout=options.connect_timeout, read_timeout=options.read_timeout)
        sessions.append(session)
        return session

    path = ep.path or "/"
    account = target.accounts[0] if target.accounts else None
    client = HttpClient(opener, host=host_field(ep.host, ep.port, ep.implicit_tls),
                        authorization=basic_credentials(account.user, account.password) if account else None)
    try:
        anonymous = await client.request("OPTIONS", path, auth=False)
        response = anonymous
        if anonymous.status == 401:
            caps.keywords.add("auth-required")
            caps.params["auth"] = "required"
            for challenge in anonymous.headers_named("WWW-Authenticate"):
                scheme = challenge.split(None, 1)[0].upper() if challenge.strip() else ""
                if scheme:
                    caps.keywords.add(f"AUTH={scheme}")
            if account is None:
                caps.problem = "the server asks for credentials (401) and the target gives no account"
                return caps
            response = await client.request("OPTIONS", path)
        caps.greeting = response.status_line + (f" ({response.header('Server')})" if response.header("Server") else "")
        if not 200 <= response.status < 300:
            caps.problem = f"OPTIONS {path} was answered {response.status_line}"
            return caps
        for token in response.tokens("DAV"):
            caps.keywords.add(f"DAV={token}")
        for method in response.tokens("Allow"):
            caps.keywords.add(f"METHOD={method.upper()}")
        for grammar in response.tokens("DASL"):
            caps.keywords.add(f"DASL={grammar}")
        for via in response.tokens("MS-Author-Via"):
            caps.keywords.add(f"MS-AUTHOR-VIA={via.upper()}")
        if response.header("X-MSDAVEXT") is not None:
            caps.keywords.add("X-MSDAVEXT")
        if ep.implicit_tls:
            caps.keywords.add("tls")
        caps.params.update({k.lower(): v for k in ("Server", "DAV", "Allow") if (v := response.header(k))})
        exchange = {"METHOD=BPROPFIND", "METHOD=SEARCH", "METHOD=X-MS-ENUMATTS"} & caps.keywords or any(
            k.startswith("DASL=") for k in caps.keywords)
        if exchange:
            roots = [path] + ([f"{path.rstrip('/')}/{account.user}/"] if account else [])
            wanted = ["{urn:schemas:httpmail:}inbox", "{urn:schemas:httpmail:}sendmsg",
                      "{urn:schemas:httpmail:}msgfolderroot"]
            for root in roots:
                found = await client.request("PROPFIND", root, [("Depth", "0"), ("Content-Type", "application/xml")],
                                             propfind_body(wanted))
                if found.status != 207:
                    continue
                try:
                    entry = parse_multistatus(found.body).responses
                except XmlError:
                    continue
                values = {n: entry[0].value(n) for n in wanted} if entry else {}
                if values.get(wanted[0]) or values.get(wanted[1]):
                    caps.keywords.add("HTTPMAIL")
                    caps.params.update({"mailbox": root, "inbox": values[wanted[0]] or "",
                                        "sendmsg": values[wanted[1]] or ""})
                    break
    except WireError as exc:
        caps.problem = f"discovery did not finish: {exc}"
    finally:
        for session in sessions:
            await session.close()
        caps.transcript = transcript.events
    return caps


DISCOVERERS = {"smtp": discover_smtp, "pop3": discover_pop3, "imap": discover_imap, "nntp": discover_nntp,
               "webdav": discover_webdav}


def unmet_need(need: str, protocol: str, target: Target, caps: Capabilities) -> tuple[str, str] | None:
    """None when the need is met, else (verdict, reason) with verdict "skip" or "error"."""
    if need == "account":
        return None if target.accounts else ("skip", "no account given (user:pass@ in the URL, or [[accounts]] "
                                                     "in a profile)")
    if need == "readback":
        return None if target.readback else ("skip", "no read-back mailbox given ([readback] url in a profile), "
                                                     "so what was delivered cannot be inspected")
    if need == "maildrop":
        return _maildrop_unmet(target)
    if need == "post-groups":
        return None if target.nntp_post and target.nntp_groups else (
            "skip", "the profile names no scratch newsgroups the checks may post to ([nntp] groups = [...], "
                    "post = true)")
    if need == "local-domain":
        return None if target.local_domain else ("skip", "the local domain is not given (?domain= in the URL, "
                                                         "or [smtp] local_domain in a profile)")
    if caps.problem:
        return "error", f"capabilities unknown ({caps.problem}), so whether {need} applies cannot be decided"
    if need == "tls":
        return None if "tls" in caps.keywords else ("skip", "the server offers no TLS (no STARTTLS, no implicit TLS)")
    if need in caps.keywords:
        return None
    if need.startswith("AUTH="):
        offered = sorted(k[5:] for k in caps.keywords if k.startswith("AUTH="))
        return "skip", f"the server does not offer AUTH {need[5:]}" + (
            f" (offers {' '.join(offered)})" if offered else "")
    return "skip", f"the server does not advertise {need}"


def _maildrop_unmet(target: Target) -> tuple[str, str] | None:
    """Checks that need messages in a POP3 maildrop: an account, and a channel to fill it (fill.py)."""
    if not target.accounts:
        return "skip", "no account given (user:pass@ in the URL, or [[accounts]] in a profile)"
    if not target.pop3_fill:
        return "skip", ("no way to put messages into a POP3 maildrop is given: name one in the profile "
                        "([pop3] fill = \"smtp\" or \"imap\")")
    if target.endpoint(target.pop3_fill) is None:
        return "skip", f"[pop3] fill = \"{target.pop3_fill}\" but the target has no {target.pop3_fill} endpoint"
    return None
