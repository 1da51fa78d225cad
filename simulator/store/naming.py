"""Item names and URLs, the way Exchange 2003 made them.

A message's name is its Subject made safe as a file name (Exchange's store was also a file system,
ExIFS), plus ".EML". URLs are paths whose segments are those names percent-encoded; callers may hand
us any equivalent spelling (unencoded spaces, lower-case hex) and get the canonical one back.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote

EXCHANGE_ROOT = "/exchange/"
PUBLIC_ROOT = "/public/"
EXTENSION = ".EML"
MAX_STEM = 200
NO_SUBJECT = "No Subject"

# Characters Windows forbids in file names; Exchange replaced them in item names.
_FORBIDDEN = frozenset('/\\:*?"<>|')
# RFC 3986 pchar sub-delims and "@" stay readable; ":" is encoded so no segment looks like a scheme.
_SAFE = "!$&'()*+,;=@"


def stem(subject: str | None) -> str:
    """The readable base of an item name: forbidden and control characters become "_"."""
    text = "".join("_" if ch in _FORBIDDEN or unicodedata.category(ch) == "Cc" else ch
                   for ch in subject or "")
    text = text.strip()[:MAX_STEM].rstrip()
    return text or NO_SUBJECT


def unique_name(base: str, taken: set[str]) -> str:
    """`base`.EML, or the first free `base`-N.EML (N from 2); `taken` holds case-folded names,
    because Exchange's names were case-insensitive like the file system beneath them."""
    name = base + EXTENSION
    if name.casefold() not in taken:
        return name
    # Among len(taken) + 1 candidates at least one is free.
    for n in range(2, len(taken) + 3):
        name = f"{base}-{n}{EXTENSION}"
        if name.casefold() not in taken:
            return name
    raise AssertionError("unreachable: a free name always exists")


def quote_segment(name: str) -> str:
    return quote(name, safe=_SAFE)


def _segments(url: str) -> list[str]:
    if not url.startswith("/"):
        raise ValueError(f"URL must be an absolute path: {url!r}")
    segments = url.strip("/").split("/")
    names = [unquote(s) for s in segments]  # split first, so an encoded "/" (%2F) stays in its segment
    for name in names:
        if name in ("", ".", ".."):  # dot segments mean something else to every URL resolver
            raise ValueError(f"URL has an empty or dot path segment: {url!r}")
        if any(unicodedata.category(ch) == "Cc" for ch in name):
            raise ValueError(f"URL has a control character: {url!r}")
    return [quote_segment(name) for name in names]


def folder_url(url: str) -> str:
    """Canonical folder URL: encoded segments, trailing slash."""
    return "/" + "".join(s + "/" for s in _segments(url))


def item_url(url: str) -> str:
    """Canonical item URL: encoded segments, no trailing slash."""
    if url.endswith("/"):
        raise ValueError(f"item URL must not end with '/': {url!r}")
    return "/" + "/".join(_segments(url))


def split(url: str) -> tuple[str, str]:
    """(parent folder URL, readable last name) of a canonical folder or item URL."""
    head, _, last = url.rstrip("/").rpartition("/")
    return head + "/", unquote(last)


def names(url: str) -> list[str]:
    """The readable names along a canonical URL."""
    return [unquote(s) for s in url.strip("/").split("/")]


def child_url(parent: str, name: str, *, folder: bool) -> str:
    return parent + quote_segment(name) + ("/" if folder else "")


def mailbox_url(alias: str) -> str:
    return EXCHANGE_ROOT + quote_segment(alias) + "/"


def subtree_bounds(url: str) -> tuple[str, str]:
    """[low, high) bounds of every URL under a folder URL, for an indexed range scan
    ("0" is the character after "/"), with no LIKE escaping of the "%" that encoded URLs contain."""
    return url, url[:-1] + "0"
