"""The directory: the simulator's authoritative configuration (Active Directory's part in Exchange 2003).

Everything configurable lives here as plain dataclasses held by one `Directory`: the organization,
its local domains, users and their addresses, public folders, protocol virtual servers and event
sink bindings. Virtual servers never read the directory; the update service (`simulator.metabase`)
copies it one way into the metabase, which is what they read. The transport and the store query the
directory directly (as Exchange's categorizer queried AD), through `find_address`, `authenticate`
and `is_local_domain`.

No I/O here. Each dataclass checks its own fields on construction (`ValueError` naming the field);
the `Directory` checks what needs the whole picture (duplicates, addresses in local domains) and is
changed only through its methods, each of which bumps the update sequence number (usn) and notifies
subscribers. Objects handed in are copied; objects read out must be treated as read-only, since a
change made to them directly is neither validated nor announced. Not thread-safe: change it from
one thread (the simulator's event loop).
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import hmac
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar

PROTOCOLS = ("smtp", "pop3", "imap", "nntp", "http")
TLS_MODES = ("none", "starttls", "implicit")
# Mechanisms any protocol may offer, plus the per-protocol login commands that are not SASL:
# POP3's USER/PASS and APOP (RFC 1939), NNTP's AUTHINFO USER/PASS (RFC 4643).
COMMON_AUTH = ("PLAIN", "LOGIN", "CRAM-MD5")
EXTRA_AUTH = {"pop3": ("USER", "APOP"), "nntp": ("USER",), "http": ("BASIC",)}

_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")  # dot-atom, RFC 5322 3.4.1
_NETBIOS = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,14}")
_NEWSGROUP = re.compile(r"[A-Za-z0-9+_-]+(?:\.[A-Za-z0-9+_-]+)*")  # RFC 5536 3.1.4
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is fine in reply text


def _fail(name: str, problem: str) -> ValueError:
    return ValueError(f"{name}: {problem}")


def _check_int(name: str, value: object, minimum: int, why: str = "", maximum: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(name, f"must be an integer (no quotes, no decimal point), got {type(value).__name__} {value!r}")
    if value < minimum:
        raise _fail(name, f"{value} is too small: must be at least {minimum}{why}")
    if maximum is not None and value > maximum:
        raise _fail(name, f"{value} is too large: must be at most {maximum}")


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise _fail(name, f"must be true or false, got {type(value).__name__} {value!r}")


def _check_text(name: str, value: object, *, empty_ok: bool = True) -> None:
    if not isinstance(value, str):
        raise _fail(name, f"must be a string, got {type(value).__name__} {value!r}")
    if not empty_ok and not value.strip():
        raise _fail(name, "must not be empty")
    # Values end up in protocol lines and metabase keys; a CR or LF would split a reply.
    if _CONTROL.search(value):
        raise _fail(name, f"{value!r} contains a control character (CR, LF, NUL...); remove it")


def _check_pattern(name: str, value: object, pattern: re.Pattern[str], what: str) -> None:
    _check_text(name, value, empty_ok=False)
    if not pattern.fullmatch(value):
        raise _fail(name, f"{value!r} is not a valid {what}")


def check_domain(name: str, value: object) -> None:
    _check_pattern(name, value, _DOMAIN, "domain name (letters, digits, hyphens, dot-separated labels)")


def split_address(address: str) -> tuple[str, str] | None:
    """`local@domain` -> (local, domain); None when there is no @ or either side is empty."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return None
    return local, domain


def _check_address(name: str, value: object) -> None:
    _check_text(name, value, empty_ok=False)
    parts = split_address(value)
    if parts is None or not _LOCAL_PART.fullmatch(parts[0]) or not _DOMAIN.fullmatch(parts[1]):
        raise _fail(name, f"{value!r} is not an SMTP address of the form local-part@domain")


def _check_list(name: str, value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(name, f"must be a list of strings, got {value!r}")


@dataclass
class Limits:
    """Per virtual server limits, with RFC-safe defaults. Minimums are the RFC 5321 4.5.3.1 floors."""

    line_length: int = 4096  # longest protocol line accepted, octets incl. CRLF
    message_size: int = 10_485_760  # Exchange 2003 default 10 MB
    recipients: int = 5000  # per message
    connections: int = 200  # concurrent sessions per virtual server
    idle_timeout: float = 600.0  # seconds (Exchange default 10 min)
    literal_size: int = 10_485_760  # IMAP literal cap

    def __post_init__(self) -> None:
        _check_int("line_length", self.line_length, 1000, " (a text line of 1000 octets, RFC 5321 4.5.3.1.6)")
        _check_int("message_size", self.message_size, 65536, " (64K octets of content, RFC 5321 4.5.3.1.7)")
        _check_int("recipients", self.recipients, 100, " (100 recipients, RFC 5321 4.5.3.1.8)")
        _check_int("connections", self.connections, 1)
        _check_int("literal_size", self.literal_size, 1)
        if isinstance(self.idle_timeout, int) and not isinstance(self.idle_timeout, bool):
            self.idle_timeout = float(self.idle_timeout)
        if not isinstance(self.idle_timeout, float):
            raise _fail("idle_timeout", f"must be a number of seconds, got {self.idle_timeout!r}")
        if not (math.isfinite(self.idle_timeout) and self.idle_timeout > 0):
            raise _fail("idle_timeout", f"{self.idle_timeout} must be a positive, finite number of seconds")


@dataclass
class VirtualServer:
    """One protocol listener (an IIS virtual server instance)."""

    id: str  # stable, e.g. "smtp-1"
    protocol: str  # "smtp" | "pop3" | "imap" | "nntp" | "http"
    name: str = ""  # e.g. "Default SMTP Virtual Server"
    bind: str = "127.0.0.1"
    port: int = 0  # 0: the OS picks
    tls: str = "starttls"  # "none" | "starttls" | "implicit"
    auth_methods: list[str] = field(default_factory=lambda: ["PLAIN", "LOGIN"])
    plaintext_auth: bool = True  # allow AUTH/LOGIN without TLS
    banner: str = ""  # text after the greeting code; "" -> server default
    limits: Limits = field(default_factory=Limits)
    enabled: bool = True

    def __post_init__(self) -> None:
        _check_pattern("id", self.id, _ID, "id (letters, digits, '.', '_', '-'; e.g. smtp-1)")
        _check_text("protocol", self.protocol, empty_ok=False)
        self.protocol = self.protocol.lower()
        if self.protocol not in PROTOCOLS:
            raise _fail("protocol", f"unknown protocol {self.protocol!r}; use one of {', '.join(PROTOCOLS)}")
        _check_text("name", self.name)
        _check_text("bind", self.bind, empty_ok=False)
        if not _is_ip(self.bind) and not _DOMAIN.fullmatch(self.bind):
            raise _fail("bind", f"{self.bind!r} is neither an IP address nor a host name")
        _check_int("port", self.port, 0, maximum=65535)
        _check_text("tls", self.tls, empty_ok=False)
        self.tls = self.tls.lower()
        if self.tls not in TLS_MODES:
            raise _fail("tls", f"unknown TLS mode {self.tls!r}; use one of {', '.join(TLS_MODES)}")
        _check_list("auth_methods", self.auth_methods)
        self.auth_methods = [m.upper() for m in self.auth_methods]
        allowed = COMMON_AUTH + EXTRA_AUTH.get(self.protocol, ())
        for method in self.auth_methods:
            if method not in allowed:
                raise _fail("auth_methods", f"{method!r} is not offered by {self.protocol}; "
                                            f"use any of {', '.join(allowed)}")
        if len(set(self.auth_methods)) != len(self.auth_methods):
            raise _fail("auth_methods", f"{self.auth_methods} lists a method twice")
        _check_bool("plaintext_auth", self.plaintext_auth)
        _check_text("banner", self.banner)
        if not isinstance(self.limits, Limits):
            raise _fail("limits", f"must be a Limits, got {type(self.limits).__name__}")
        _check_bool("enabled", self.enabled)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass
class User:
    """A mailbox-enabled user: mailbox /exchange/<alias>/, logon by alias or any of its addresses."""

    alias: str
    display_name: str
    password: str
    addresses: list[str]  # SMTP addresses; the first is primary

    def __post_init__(self) -> None:
        _check_pattern("alias", self.alias, _ALIAS, "alias (letters, digits, '.', '_', '-'; up to 64)")
        _check_text("display_name", self.display_name, empty_ok=False)
        _check_text("password", self.password, empty_ok=False)
        _check_list("addresses", self.addresses)
        if not self.addresses:
            raise _fail("addresses", "a user needs at least one SMTP address (the first is primary)")
        for address in self.addresses:
            _check_address("addresses", address)
        folded = [a.lower() for a in self.addresses]
        if len(set(folded)) != len(folded):
            raise _fail("addresses", f"{self.addresses} lists an address twice")

    @property
    def primary_address(self) -> str:
        return self.addresses[0]


@dataclass
class PublicFolder:
    """A public folder; with a newsgroup name it is also published over NNTP."""

    path: str  # e.g. "Marketing/News"
    description: str = ""
    newsgroup: str | None = None  # e.g. "wireproof.marketing.news"
    scratch: bool = False  # open to test posts: the simulator's target profile offers it to the NNTP checks

    def __post_init__(self) -> None:
        _check_text("path", self.path, empty_ok=False)
        _check_bool("scratch", self.scratch)
        if any(not part.strip() for part in self.path.split("/")):
            raise _fail("path", f"{self.path!r} has an empty segment; write it like 'Marketing/News'")
        _check_text("description", self.description)
        if self.newsgroup is not None:
            _check_pattern("newsgroup", self.newsgroup, _NEWSGROUP,
                           "newsgroup name (dot-separated components of letters, digits, '+', '-', '_')")


@dataclass
class SinkBinding:
    """An event sink registered on a protocol or transport event (interpreted by the transport)."""

    id: str
    event: str
    sink: str
    priority: int = 24575  # Exchange's PRIO_DEFAULT; 0 fires first, 32767 last
    rule: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        _check_pattern("id", self.id, _ID, "id (letters, digits, '.', '_', '-')")
        _check_text("event", self.event, empty_ok=False)
        _check_text("sink", self.sink, empty_ok=False)
        _check_int("priority", self.priority, 0, maximum=32767)
        _check_text("rule", self.rule)
        _check_bool("enabled", self.enabled)


@dataclass
class Organization:
    name: str
    admin_group: str = "First Administrative Group"
    server_name: str = "EXCH01"
    fqdn: str = "exch01.wireproof.test"

    def __post_init__(self) -> None:
        _check_text("name", self.name, empty_ok=False)
        _check_text("admin_group", self.admin_group, empty_ok=False)
        _check_pattern("server_name", self.server_name, _NETBIOS, "NetBIOS server name (up to 15 letters, digits, '-')")
        check_domain("fqdn", self.fqdn)


def _replace(obj, what: str, fields: Mapping[str, object], fixed: tuple[str, ...]):
    """`dataclasses.replace` whose errors name the object, unknown fields and fields that cannot change."""
    known = [f.name for f in dataclasses.fields(obj)]
    for name in fields:
        if name in fixed:
            raise ValueError(f"{what}: {name} cannot change; remove it and add a new one")
        if name not in known:
            raise ValueError(f"{what}: unknown field {name!r}{did_you_mean(name, known)}; known: {', '.join(known)}")
    try:
        return dataclasses.replace(obj, **copy.deepcopy(dict(fields)))
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Directory:
    """The authoritative configuration. Change it only through its methods."""

    def __init__(self, organization: Organization | None = None) -> None:
        self._organization = copy.deepcopy(organization) if organization else Organization(name="Wireproof")
        self._domains: list[str] = []
        self._users: dict[str, User] = {}
        self._folders: dict[str, PublicFolder] = {}
        self._servers: dict[str, VirtualServer] = {}
        self._sinks: dict[str, SinkBinding] = {}
        self._by_address: dict[str, str] = {}  # lower-cased address -> alias
        self._subscribers: list[Callable[[int], None]] = []
        self.usn = 0

    # -- read-only views --------------------------------------------------------------------------
    @property
    def organization(self) -> Organization:
        return self._organization

    @property
    def local_domains(self) -> list[str]:
        return list(self._domains)

    @property
    def users(self) -> Mapping[str, User]:
        return MappingProxyType(self._users)

    @property
    def public_folders(self) -> Mapping[str, PublicFolder]:
        return MappingProxyType(self._folders)

    @property
    def virtual_servers(self) -> Mapping[str, VirtualServer]:
        return MappingProxyType(self._servers)

    @property
    def sinks(self) -> Mapping[str, SinkBinding]:
        return MappingProxyType(self._sinks)

    # -- notifications ----------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call `callback(usn)` after each change; returns the function that unsubscribes it."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _changed(self) -> None:
        self.usn += 1
        errors = []
        for callback in list(self._subscribers):
            try:
                callback(self.usn)
            except Exception as exc:  # one failing subscriber must not starve the others
                errors.append(exc)
        if errors:
            raise errors[0]

    # -- organization and domains -----------------------------------------------------------------
    def update_organization(self, **fields: object) -> None:
        organization = _replace(self._organization, "organization", fields, ())
        if organization != self._organization:
            self._organization = organization
            self._changed()

    def add_local_domain(self, domain: str) -> None:
        check_domain("local domain", domain)
        domain = domain.lower()  # domains are case-insensitive; keep one canonical spelling
        if domain in self._domains:
            raise ValueError(f"local domain {domain!r} already exists")
        self._domains.append(domain)
        self._changed()

    def remove_local_domain(self, domain: str) -> None:
        folded = domain.lower().rstrip(".")
        if folded not in self._domains:
            raise ValueError(f"local domain {domain!r} does not exist; local domains: {', '.join(self._domains)}")
        for user in self._users.values():
            for address in user.addresses:
                if address.rpartition("@")[2].lower() == folded:
                    raise ValueError(f"local domain {domain!r} is still used by user {user.alias!r} "
                                     f"({address}); change or remove that address first")
        self._domains.remove(folded)
        self._changed()

    def is_local_domain(self, domain: str) -> bool:
        return domain.lower().rstrip(".") in self._domains

    # -- users ------------------------------------------------------------------------------------
    def _user_key(self, alias: str) -> str | None:
        folded = alias.lower()
        return next((key for key in self._users if key.lower() == folded), None)

    def _check_addresses(self, user: User, replacing: str | None) -> None:
        for address in user.addresses:
            domain = address.rpartition("@")[2]
            if not self.is_local_domain(domain):
                raise ValueError(f"user {user.alias!r}: address {address!r} is not in a local domain "
                                 f"(local: {', '.join(self._domains) or 'none'}); "
                                 "add the domain to the local domains or fix the address")
            owner = self._by_address.get(address.lower())
            if owner is not None and owner != replacing:
                raise ValueError(f"user {user.alias!r}: address {address!r} already belongs to user {owner!r}")

    def _index(self, user: User) -> None:
        for address in user.addresses:
            self._by_address[address.lower()] = user.alias

    def _unindex(self, user: User) -> None:
        for address in user.addresses:
            self._by_address.pop(address.lower(), None)

    def add_user(self, user: User) -> None:
        if self._user_key(user.alias) is not None:
            raise ValueError(f"user {user.alias!r} already exists")
        self._check_addresses(user, None)
        user = copy.deepcopy(user)
        self._users[user.alias] = user
        self._index(user)
        self._changed()

    def update_user(self, alias: str, **fields: object) -> None:
        old = self._users[self._require_user(alias)]
        new = _replace(old, f"user {old.alias!r}", fields, ("alias",))
        if new == old:
            return
        self._check_addresses(new, old.alias)
        self._unindex(old)
        self._users[old.alias] = new
        self._index(new)
        self._changed()

    def remove_user(self, alias: str) -> None:
        user = self._users.pop(self._require_user(alias))
        self._unindex(user)
        self._changed()

    def _require_user(self, alias: str) -> str:
        key = self._user_key(alias)
        if key is None:
            raise ValueError(f"no user {alias!r}")
        return key

    def find_address(self, address: str) -> User | None:
        """The user owning `address`, matched case-insensitively in full (as Exchange does)."""
        alias = self._by_address.get(address.lower())
        return self._users[alias] if alias is not None else None

    def authenticate(self, name: str, password: str) -> User | None:
        """The user whose alias or any address is `name` (case-insensitive), if the password matches."""
        key = self._user_key(name)
        user = self._users[key] if key is not None else self.find_address(name)
        if user is None:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        return user

    # -- public folders ---------------------------------------------------------------------------
    def _folder_key(self, path: str) -> str | None:
        folded = path.lower()
        return next((key for key in self._folders if key.lower() == folded), None)

    def add_public_folder(self, folder: PublicFolder) -> None:
        if self._folder_key(folder.path) is not None:
            raise ValueError(f"public folder {folder.path!r} already exists")
        if folder.newsgroup is not None:
            for other in self._folders.values():
                if other.newsgroup and other.newsgroup.lower() == folder.newsgroup.lower():
                    raise ValueError(f"public folder {folder.path!r}: newsgroup {folder.newsgroup!r} "
                                     f"is already published by {other.path!r}")
        self._folders[folder.path] = copy.deepcopy(folder)
        self._changed()

    def remove_public_folder(self, path: str) -> None:
        key = self._folder_key(path)
        if key is None:
            raise ValueError(f"no public folder {path!r}")
        del self._folders[key]
        self._changed()

    # -- virtual servers --------------------------------------------------------------------------
    def _check_binding(self, server: VirtualServer) -> None:
        if server.port == 0:
            return
        for other in self._servers.values():
            if other.id != server.id and (other.bind, other.port) == (server.bind, server.port):
                raise ValueError(f"virtual server {server.id!r}: {server.bind}:{server.port} is already "
                                 f"used by {other.id!r}; pick another port or 0")

    def add_virtual_server(self, server: VirtualServer) -> None:
        if server.id in self._servers:
            raise ValueError(f"virtual server {server.id!r} already exists")
        self._check_binding(server)
        self._servers[server.id] = copy.deepcopy(server)
        self._changed()

    def update_virtual_server(self, id: str, **fields: object) -> None:
        """Change fields of a virtual server; `limits` may be a `Limits` or a dict of limits to change."""
        old = self._require_server(id)
        limits = fields.get("limits")
        if isinstance(limits, Mapping):
            fields = {**fields, "limits": _replace(old.limits, f"virtual server {id!r}: limits", limits, ())}
        new = _replace(old, f"virtual server {id!r}", fields, ("id", "protocol"))
        if new == old:
            return
        self._check_binding(new)
        self._servers[id] = new
        self._changed()

    def remove_virtual_server(self, id: str) -> None:
        self._require_server(id)
        del self._servers[id]
        self._changed()

    def _require_server(self, id: str) -> VirtualServer:
        if id not in self._servers:
            raise ValueError(f"no virtual server {id!r}; known: {', '.join(self._servers) or 'none'}")
        return self._servers[id]

    def virtual_servers_of(self, protocol: str) -> list[VirtualServer]:
        return [vs for vs in self._servers.values() if vs.protocol == protocol.lower()]

    # -- event sinks ------------------------------------------------------------------------------
    def add_sink(self, binding: SinkBinding) -> None:
        if binding.id in self._sinks:
            raise ValueError(f"sink binding {binding.id!r} already exists")
        self._sinks[binding.id] = copy.deepcopy(binding)
        self._changed()

    def remove_sink(self, id: str) -> None:
        if id not in self._sinks:
            raise ValueError(f"no sink binding {id!r}")
        del self._sinks[id]
        self._changed()

    # -- whole-directory forms ----------------------------------------------------------------------
    @classmethod
    def minimal(cls) -> Directory:
        """Two users, one SMTP and one POP3 virtual server: the smallest useful organization."""
        d = cls(Organization(name="Wireproof"))
        d.add_local_domain("wireproof.test")
        d.add_user(User("alice", "Alice Archer", "alice-pw", ["alice@wireproof.test", "postmaster@wireproof.test"]))
        d.add_user(User("bob", "Bob Baker", "bob-pw", ["bob@wireproof.test"]))
        d.add_virtual_server(VirtualServer("smtp-1", "smtp", name="Default SMTP Virtual Server"))
        d.add_virtual_server(VirtualServer("pop3-1", "pop3", name="Default POP3 Virtual Server",
                                           auth_methods=["USER", "APOP", "PLAIN", "LOGIN"]))
        d.add_public_folder(PublicFolder("Announcements", "News for everyone in the organization"))
        return d

    @classmethod
    def standard(cls) -> Directory:
        """The simulator's default: the minimal organization with IMAP4, NNTP and HTTP virtual servers as well."""
        d = cls.minimal()
        # RFC 7162 4: IMAP servers should take command lines of 8192 octets and more (long UID sets)
        d.add_virtual_server(VirtualServer("imap-1", "imap", name="Default IMAP4 Virtual Server",
                                           limits=Limits(line_length=65536)))
        # Public folders are newsgroups: one open to anyone's test posts
        d.add_public_folder(PublicFolder("Wireproof Test", "Scratch group for conformance runs", "wireproof.test",
                                         scratch=True))
        d.add_virtual_server(VirtualServer("nntp-1", "nntp", name="Default NNTP Virtual Server",
                                           auth_methods=["USER", "PLAIN"]))
        # Exchange's "Default Web Site": /exchange/<alias>/ and /public/ over WebDAV, Basic authentication
        d.add_virtual_server(VirtualServer("http-1", "http", name="Default Web Site", tls="none",
                                           auth_methods=["BASIC"]))
        return d

    def to_dict(self) -> dict:
        """Plain data in the shape of the TOML file (no usn: it counts changes, it is not configuration)."""
        def plain(obj) -> dict:
            return {k: v for k, v in dataclasses.asdict(obj).items() if v is not None}

        return {
            "organization": plain(self._organization),
            "local_domains": list(self._domains),
            "users": [plain(u) for u in self._users.values()],
            "public_folders": [plain(f) for f in self._folders.values()],
            "virtual_servers": [plain(v) for v in self._servers.values()],
            "sinks": [plain(s) for s in self._sinks.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Directory:
        """Build a directory from `to_dict`'s shape; errors are one line naming the key and the fix."""
        return _DataReader().read(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Directory):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # mutable, compared by content

    def __repr__(self) -> str:
        return (f"<Directory {self._organization.name!r} usn={self.usn} users={len(self._users)} "
                f"virtual_servers={len(self._servers)}>")


class _DataReader:
    """Strict reader of `Directory.to_dict`'s shape (which is also the TOML file's shape)."""

    sections: ClassVar[dict] = {
        # section: (dataclass, adder, identifying key)
        "users": (User, Directory.add_user, "alias"),
        "public_folders": (PublicFolder, Directory.add_public_folder, "path"),
        "virtual_servers": (VirtualServer, Directory.add_virtual_server, "id"),
        "sinks": (SinkBinding, Directory.add_sink, "id"),
    }
    top_level: ClassVar[list[str]] = ["organization", "local_domains", *sections]

    def read(self, data: Mapping) -> Directory:
        if not isinstance(data, Mapping):
            raise ValueError(f"a directory must be a table of sections, got {type(data).__name__}")
        self._check_keys("top level", data, self.top_level, [])
        organization = None
        if "organization" in data:
            organization = self._build(Organization, data["organization"], "[organization]")
        directory = Directory(organization)
        domains = data.get("local_domains", [])
        if not isinstance(domains, list):
            raise ValueError(f"local_domains: must be a list of strings like [\"example.test\"], got {domains!r}")
        for domain in domains:
            try:
                directory.add_local_domain(domain)
            except ValueError as exc:
                raise ValueError(f"local_domains: {exc}") from None
        for section, (kind, add, key) in self.sections.items():
            tables = data.get(section, [])
            if not isinstance(tables, list):
                raise ValueError(f"{section}: must be an array of tables; write each entry as [[{section}]]")
            for number, table in enumerate(tables, 1):
                where = f"[[{section}]] #{number}"
                name = table.get(key) if isinstance(table, Mapping) else None
                named = f"{where} ({key} {name!r})" if isinstance(name, str) else where
                item = self._build(kind, table, named)
                try:
                    add(directory, item)
                except ValueError as exc:  # these messages name the entry themselves
                    raise ValueError(f"{where if repr(name) in str(exc) else named}: {exc}") from None
        return directory

    def _build(self, kind: type, table: object, where: str, prefix: str = ""):
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}: {prefix.rstrip('.') or 'entry'} must be a table, got {table!r}")
        fields = dataclasses.fields(kind)
        required = [f.name for f in fields
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        self._check_keys(where, table, [f.name for f in fields], required, prefix)
        values = dict(table)
        if kind is VirtualServer and "limits" in values:
            values["limits"] = self._build(Limits, values["limits"], where, "limits.")
        try:
            return kind(**copy.deepcopy(values))
        except ValueError as exc:
            raise ValueError(f"{where}: {prefix}{exc}") from None

    @staticmethod
    def _check_keys(where: str, table: Mapping, known: list[str], required: list[str], prefix: str = "") -> None:
        for key in table:
            if key not in known:
                raise ValueError(f"{where}: unknown key '{prefix}{key}'{did_you_mean(str(key), known)}; "
                                 f"known keys: {', '.join(known)}")
        for key in required:
            if key not in table:
                raise ValueError(f"{where}: missing key '{prefix}{key}'; add {key} = ...")
