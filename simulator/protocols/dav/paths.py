"""Request URIs to store URLs, and who may touch what.

The URL space is the store's: /exchange/<alias>/... (one mailbox per user) and /public/...; "/" and
/exchange/ are read-only collections above them; nothing else exists. Every URI is checked before the
store sees it: percent-escapes must be valid UTF-8, and no segment may be empty, a dot segment, or decode
to a slash, backslash, NUL or other control character (so %2e%2e, %2f, %5c, %00 are all refused with
400). There is no file system behind the store, but nothing outside the store can be named either.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote, urljoin, urlsplit

from ...store.naming import quote_segment
from .errors import DavError

SUBMISSION = "##DavMailSubmissionURI##"
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_RAW_SUBMISSION = re.compile(r"^/exchange/([^/#?]+)/##DavMailSubmissionURI##/?$", re.IGNORECASE)


class Area(Enum):
    SERVER_ROOT = "server root"  # "/" (and "*" for OPTIONS)
    EXCHANGE_ROOT = "exchange root"  # "/exchange/": the user's own mailbox below it
    STORE = "store"  # a folder, item or attachment URL of the store
    SUBMISSION = "submission"  # /exchange/<alias>/##DavMailSubmissionURI##/


@dataclass(frozen=True)
class Target:
    area: Area
    names: tuple[str, ...]  # decoded segments
    slash: bool  # the URI ended in "/"
    alias: str | None = None  # whose mailbox, under /exchange/<alias>/

    @property
    def folder_url(self) -> str:
        return "/" + "".join(quote_segment(n) + "/" for n in self.names)

    @property
    def item_url(self) -> str:
        return "/" + "/".join(quote_segment(n) for n in self.names)

    @property
    def url(self) -> str:
        """As the client named it (canonically encoded, trailing slash kept)."""
        return self.folder_url if self.slash else self.item_url

    @property
    def parent_url(self) -> str:
        return "/" + "".join(quote_segment(n) + "/" for n in self.names[:-1])

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else ""

    def child(self, name: str, slash: bool = False) -> Target:
        return Target(Area.STORE, self.names + (name,), slash, self.alias)


def _segment(raw: str) -> str:
    if _ESCAPE.search(raw):
        raise DavError(400, f"malformed percent-escape in {raw!r}", "rfc3986#2.1")
    try:
        name = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise DavError(400, f"percent-escapes in {raw!r} are not UTF-8", "rfc3986#2.5") from None
    if name in ("", ".", ".."):
        raise DavError(400, f"empty or dot segment {raw!r} in the request URI", "rfc3986#5.2.4")
    if any(ch in "/\\" or unicodedata.category(ch) == "Cc" for ch in name):
        raise DavError(400, f"segment {raw!r} decodes to a slash, backslash or control character", "rfc3986#2.2")
    return name


def parse_path(path: str) -> Target:
    """An absolute path (no query, no fragment) to a Target; 400 when malformed, 404 outside the store."""
    if not path.startswith("/"):
        raise DavError(400, f"not an absolute path: {path[:80]!r}", "rfc9112#3.2")
    match = _RAW_SUBMISSION.match(path)
    if match:
        return Target(Area.SUBMISSION, ("exchange", _segment(match.group(1)), SUBMISSION), True,
                      _segment(match.group(1)))
    if "#" in path:
        raise DavError(400, "a request URI has no fragment", "rfc9110#7.1")
    raws = path[1:].split("/")
    slash = raws[-1] == ""
    if slash:
        raws.pop()
    names = tuple(_segment(raw) for raw in raws)
    if not names:
        return Target(Area.SERVER_ROOT, (), True)
    top = names[0].lower()
    if top == "exchange":
        if len(names) == 1:
            return Target(Area.EXCHANGE_ROOT, ("exchange",), True)
        names = ("exchange",) + names[1:]
        if len(names) == 3 and names[2].lower() == SUBMISSION.lower():
            return Target(Area.SUBMISSION, names, True, names[1])
        return Target(Area.STORE, names, slash, names[1])
    if top == "public":
        return Target(Area.STORE, ("public",) + names[1:], slash or len(names) == 1)
    raise DavError(404, "nothing here: only /exchange/ and /public/ exist", "rfc9110#15.5.5")


def parse_target(raw: str) -> Target:
    """The request-target of a request line (origin-form, or absolute-form; RFC 9112 3.2)."""
    if raw == "*":
        return Target(Area.SERVER_ROOT, (), True)
    if raw.startswith(("http://", "https://")):
        raw = urlsplit(raw).path or "/"
    else:
        match = _RAW_SUBMISSION.match(raw.partition("?")[0])
        if match:
            return parse_path(raw.partition("?")[0])
        raw = raw.partition("?")[0]
    return parse_path(raw)


def same_authority(url: str, host: str, scheme: str) -> bool:
    """Whether an absolute URL names this server (`host` as the Host header gave it)."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    mine = urlsplit(f"{scheme}://{host}")
    try:
        return (parts.hostname or "").lower() == (mine.hostname or "").lower() and \
            (parts.port or default) == (mine.port or (443 if scheme == "https" else 80))
    except ValueError:
        return False


def resolve_href(href: str, base: Target, host: str, scheme: str, *, foreign_status: int = 400) -> Target:
    """An href from a header or body (Destination, If tags, DAV:target, SCOPE) to a Target: absolute URLs
    must name this server (else `foreign_status`: 502 for Destination, RFC 4918 9.8.5), relative ones are
    resolved against the request URI; dot segments are refused before resolution, never resolved away."""
    href = href.strip()
    if not href:
        raise DavError(400, "empty href", "rfc4918#8.3")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href):
        if not href.lower().startswith(("http://", "https://")) or not same_authority(href, host, scheme):
            raise DavError(foreign_status, f"{href[:120]} is not on this server", "rfc4918#9.8.5")
        parts = urlsplit(href)
        path = parts.path or "/"
    else:
        path = href.partition("?")[0]
        if "#" in path and not _RAW_SUBMISSION.match(path):
            path = path.partition("#")[0]
    for raw in path.split("/"):
        if raw and _segment(raw) in (".", ".."):  # _segment raises for dot segments already
            pass
    if not path.startswith("/"):
        path = urljoin(base.folder_url if base.slash or base.area is not Area.STORE else base.parent_url, path)
    return parse_path(path)


def authorize(target: Target, alias: str, write: bool) -> None:
    """A user reads and writes their own mailbox and the public folders; never another user's mailbox;
    the roots above them are read-only."""
    if target.area is Area.STORE and target.alias is not None and target.alias.casefold() != alias.casefold():
        raise DavError(403, "that mailbox belongs to another user", "rfc9110#15.5.4")
    if target.area is Area.SUBMISSION and target.alias.casefold() != alias.casefold():
        raise DavError(403, "that submission URI belongs to another user", "rfc9110#15.5.4")
    if write and target.area in (Area.SERVER_ROOT, Area.EXCHANGE_ROOT):
        raise DavError(403, "the roots above the mailboxes and public folders are read-only", "rfc9110#15.5.4")
