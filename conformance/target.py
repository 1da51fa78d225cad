"""Targets: the server under test, as URLs on the command line or as a TOML profile.

    smtp://127.0.0.1:2525                      plain SMTP
    smtps://127.0.0.1:465                      implicit TLS
    smtp://127.0.0.1:587?starttls=require      every session upgrades with STARTTLS first
    smtp://alice:secret@127.0.0.1:587          an account for AUTH checks
    smtp://127.0.0.1:25?rcpt=alice@example.org&relay_domain=example.com

A profile names several endpoints of one server, its accounts, its local domain, a non-local domain for
relay probes and a read-back mailbox where delivered mail can be inspected (format in the README).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import UsageError

DEFAULT_PORTS = {
    "smtp": 25, "smtps": 465, "pop3": 110, "pop3s": 995, "imap": 143, "imaps": 993,
    "nntp": 119, "nntps": 563, "http": 80, "https": 443,
}
PROTOCOL_OF = {
    "smtp": "smtp", "smtps": "smtp", "pop3": "pop3", "pop3s": "pop3", "imap": "imap", "imaps": "imap",
    "nntp": "nntp", "nntps": "nntp", "http": "webdav", "https": "webdav",
}
SCHEME_ALIASES = {"pop": "pop3", "pops": "pop3s", "news": "nntp"}
IMPLICIT_TLS = {"smtps", "pop3s", "imaps", "nntps", "https"}
FILL_CHANNELS = {"smtp": "SMTP submission to the account's address", "imap": "IMAP APPEND as the account"}
URL_PARAMS = {"starttls", "rcpt", "domain", "relay_domain", "sender", "helo", "tls_verify", "cafile"}


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    path: str = ""
    params: tuple[tuple[str, str], ...] = ()

    @property
    def protocol(self) -> str:
        return PROTOCOL_OF[self.scheme]

    @property
    def implicit_tls(self) -> bool:
        return self.scheme in IMPLICIT_TLS

    def param(self, name: str, default: str | None = None) -> str | None:
        return dict(self.params).get(name, default)

    @property
    def starttls_required(self) -> bool:
        return (self.param("starttls") or "").lower() in ("require", "required", "yes", "1")

    def url(self, *, secrets: bool = False) -> str:
        auth = ""
        if self.user:
            auth = self.user + (f":{self.password if secrets else '***'}" if self.password else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "&".join(f"{k}={v}" for k, v in self.params)
        return f"{self.scheme}://{auth}{host}:{self.port}{self.path}" + (f"?{query}" if query else "")


def parse_url(text: str) -> Endpoint:
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UsageError(f"target {text!r} is not a valid URL ({exc}); write it like smtp://127.0.0.1:2525") from None
    scheme = SCHEME_ALIASES.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in PROTOCOL_OF:
        known = ", ".join(sorted(PROTOCOL_OF))
        raise UsageError(f"target {text!r}: unknown scheme {parts.scheme!r}; use one of {known}")
    if not parts.hostname:
        raise UsageError(f"target {text!r} names no host; write it like {scheme}://127.0.0.1:2525")
    try:
        port = parts.port if parts.port is not None else DEFAULT_PORTS[scheme]
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise UsageError(f"target {text!r}: the port is not a number between 1 and 65535")
    params = tuple(parse_qsl(parts.query, keep_blank_values=True))
    unknown = [k for k, _ in params if k not in URL_PARAMS]
    if unknown:
        raise UsageError(f"target {text!r}: unknown parameter {unknown[0]!r}; known: {', '.join(sorted(URL_PARAMS))}")
    return Endpoint(scheme=scheme, host=parts.hostname, port=port,
                    user=unquote(parts.username) if parts.username else None,
                    password=unquote(parts.password) if parts.password else None,
                    path=parts.path, params=params)


@dataclass(frozen=True)
class Account:
    user: str
    password: str
    address: str | None = None


@dataclass
class Target:
    name: str
    endpoints: dict[str, Endpoint]
    accounts: list[Account] = field(default_factory=list)
    local_domain: str | None = None
    relay_domain: str = "example.com"
    sender: str = "wireproof@example.org"
    helo: str = "client.wireproof.invalid"
    rcpt: str | None = None
    readback: Endpoint | None = None
    readback_address: str | None = None
    tls_verify: bool = False
    cafile: str | None = None
    software: str = ""
    source: str = ""  # profile path, or "command line"
    pop3_fill: str | None = None  # how POP3 checks put messages into a maildrop: "smtp" or "imap" (FILL_CHANNELS)
    pop3_user: str | None = None  # the account whose maildrop the POP3 checks use (default: see fill.py)
    nntp_groups: list[str] = field(default_factory=list)  # scratch newsgroups the NNTP checks may post to
    nntp_post: bool = False  # whether the NNTP checks may POST at all ([nntp] post)

    def endpoint(self, protocol: str) -> Endpoint | None:
        """The endpoint the suite of `protocol` runs against: the one named after it, else the first of it."""
        if protocol in self.endpoints:
            return self.endpoints[protocol]
        for ep in self.endpoints.values():
            if ep.protocol == protocol:
                return ep
        return None

    def protocols(self) -> list[str]:
        return sorted({ep.protocol for ep in self.endpoints.values()})

    def describe(self) -> dict:
        return {
            "name": self.name,
            "software": self.software,
            "source": self.source,
            "endpoints": {k: ep.url() for k, ep in self.endpoints.items()},
            "local_domain": self.local_domain,
            "relay_domain": self.relay_domain,
            "accounts": [a.user for a in self.accounts],
            "readback": self.readback.url() if self.readback else None,
        }


def from_urls(urls: list[str], name: str | None = None) -> Target:
    endpoints: dict[str, Endpoint] = {}
    for text in urls:
        ep = parse_url(text)
        key = ep.scheme if ep.scheme not in endpoints else f"{ep.scheme}{len(endpoints)}"
        endpoints[key] = ep
    first = next(iter(endpoints.values()))
    accounts = [Account(ep.user, ep.password or "") for ep in endpoints.values() if ep.user]
    target = Target(name=name or first.url(), endpoints=endpoints, accounts=accounts, source="command line")
    for ep in endpoints.values():
        target.local_domain = ep.param("domain", target.local_domain)
        target.relay_domain = ep.param("relay_domain", target.relay_domain)
        target.sender = ep.param("sender", target.sender)
        target.helo = ep.param("helo", target.helo)
        target.rcpt = ep.param("rcpt", target.rcpt)
        target.cafile = ep.param("cafile", target.cafile)
        target.tls_verify = (ep.param("tls_verify") or "").lower() in ("1", "yes", "true") or target.tls_verify
    return target


def load_profile(path: str | Path) -> Target:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"profile {path} does not exist; give the path of a TOML target profile") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"profile {path} is not valid TOML ({exc}); fix the file") from None
    known = {"name", "software", "endpoints", "smtp", "pop3", "nntp", "accounts", "readback", "tls"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise UsageError(f"profile {path}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
    raw_endpoints = doc.get("endpoints") or {}
    if not raw_endpoints:
        raise UsageError(f"profile {path} has no [endpoints]; add e.g. smtp = \"smtp://127.0.0.1:2525\"")
    endpoints = {key: parse_url(url) for key, url in raw_endpoints.items()}
    accounts = []
    for i, acc in enumerate(doc.get("accounts") or []):
        if "user" not in acc or "password" not in acc:
            raise UsageError(f"profile {path}: accounts[{i}] needs both user and password")
        accounts.append(Account(acc["user"], acc["password"], acc.get("address")))
    smtp = doc.get("smtp") or {}
    tls = doc.get("tls") or {}
    readback = doc.get("readback") or {}
    target = Target(
        name=doc.get("name") or path.stem, endpoints=endpoints, accounts=accounts,
        local_domain=smtp.get("local_domain"), relay_domain=smtp.get("relay_domain", "example.com"),
        sender=smtp.get("sender", "wireproof@example.org"), helo=smtp.get("helo", "client.wireproof.invalid"),
        rcpt=smtp.get("rcpt"), tls_verify=bool(tls.get("verify", False)), cafile=tls.get("cafile"),
        software=doc.get("software", ""), source=str(path),
    )
    _pop3_section(path, doc.get("pop3") or {}, target)
    _nntp_section(path, doc.get("nntp") or {}, target)
    if readback.get("url"):
        ep = parse_url(readback["url"])
        if ep.protocol not in ("imap", "pop3"):
            raise UsageError(f"profile {path}: readback url must be imap:// or pop3://, not {ep.scheme}://")
        if not ep.user:
            raise UsageError(f"profile {path}: readback url needs user:password@ to log in")
        target.readback = ep
        target.readback_address = readback.get("address") or (accounts[0].address if accounts else None)
        if not target.readback_address:
            raise UsageError(f"profile {path}: say which address the read-back mailbox receives ([readback] address)")
    return target


def _pop3_section(path: Path, pop3: dict, target: Target) -> None:
    """[pop3]: how the POP3 checks fill a maildrop (fill = "smtp" or "imap") and whose maildrop it is."""
    if not isinstance(pop3, dict):
        raise UsageError(f"profile {path}: pop3 must be a table ([pop3] with fill = \"smtp\" or \"imap\")")
    unknown = sorted(set(pop3) - {"fill", "user"})
    if unknown:
        raise UsageError(f"profile {path}: unknown key {unknown[0]!r} in [pop3]; known: fill, user")
    fill = pop3.get("fill")
    if fill is not None and fill not in FILL_CHANNELS:
        raise UsageError(f"profile {path}: [pop3] fill = {fill!r}; use \"smtp\" or \"imap\"")
    if fill is not None and target.endpoint(fill) is None:
        raise UsageError(f"profile {path}: [pop3] fill = \"{fill}\" needs an {fill} endpoint in [endpoints]")
    user = pop3.get("user")
    if user is not None and user not in [a.user for a in target.accounts]:
        raise UsageError(f"profile {path}: [pop3] user = {user!r} is not one of the [[accounts]]")
    target.pop3_fill, target.pop3_user = fill, user


def _nntp_section(path: Path, nntp: dict, target: Target) -> None:
    """[nntp]: the scratch newsgroups the NNTP checks may post to (groups = [...]) and whether they may post at
    all (post = true; default: true when groups are named). Articles can rarely be deleted, so the checks post
    only to these groups, with unique message-ids."""
    if not isinstance(nntp, dict):
        raise UsageError(f"profile {path}: nntp must be a table ([nntp] with groups = [...] and post = true)")
    unknown = sorted(set(nntp) - {"groups", "post"})
    if unknown:
        raise UsageError(f"profile {path}: unknown key {unknown[0]!r} in [nntp]; known: groups, post")
    groups = nntp.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and g and not any(c.isspace() for c in g)
                                               for g in groups):
        raise UsageError(f"profile {path}: [nntp] groups must be a list of newsgroup names")
    post = nntp.get("post", bool(groups))
    if not isinstance(post, bool):
        raise UsageError(f"profile {path}: [nntp] post must be true or false")
    if post and not groups:
        raise UsageError(f"profile {path}: [nntp] post = true needs groups = [...] to post to")
    target.nntp_groups, target.nntp_post = list(groups), post
