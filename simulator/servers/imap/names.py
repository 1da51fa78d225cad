"""IMAP mailbox names and store folders.

Two namespaces (RFC 2342): the personal one, "" with delimiter "/", is the user's mailbox
/exchange/<alias>/ (INBOX is its Inbox folder); the shared one, "Public Folders/", is /public/. Names on
the wire are modified UTF-7 (RFC 3501 5.1.3) unless the client enabled UTF8=ACCEPT.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...protocols.imap import encode
from ...store.naming import child_url, mailbox_url

DELIMITER = "/"
PUBLIC = "Public Folders"
PUBLIC_ROOT = "/public/"
SPECIAL_USE = {"sent items": "\\Sent", "deleted items": "\\Trash", "drafts": "\\Drafts", "junk e-mail": "\\Junk"}


class NameError_(ValueError):
    """A mailbox name that cannot name a folder; the message goes into the NO/BAD reply."""


@dataclass(frozen=True)
class Mailbox:
    name: str  # as shown in LIST (decoded; encoded on output)
    url: str  # the store folder; "" for the non-selectable "Public Folders" parent


class Namespaces:
    def __init__(self, alias: str, utf8: bool = False) -> None:
        self.root = mailbox_url(alias)
        self.utf8 = utf8

    # --- wire <-> text ----------------------------------------------------------------------------------

    def decode(self, wire: str) -> str:
        if self.utf8:
            return wire
        try:
            return encode.mutf7_decode(wire)
        except ValueError as exc:
            raise NameError_(f"mailbox name is not valid modified UTF-7: {exc}") from None

    def encode(self, name: str) -> bytes:
        return encode.astring(name if self.utf8 else encode.mutf7_encode(name))

    # --- text <-> store --------------------------------------------------------------------------------------

    def url(self, name: str) -> str:
        """The folder URL a (decoded) mailbox name stands for; NameError_ for names no folder can have."""
        segments = name.split(DELIMITER)
        if segments and segments[-1] == "":
            segments.pop()  # a trailing delimiter (CREATE foo/) names foo
        if not segments or any(s == "" or s in (".", "..") for s in segments):
            raise NameError_(f"mailbox name {name!r} has an empty or dot level")
        if any(ord(c) < 32 for c in name):
            raise NameError_("mailbox names cannot hold control characters")
        if segments[0].upper() == "INBOX":
            segments[0] = "Inbox"
        elif segments[0] == PUBLIC:
            url = PUBLIC_ROOT
            for s in segments[1:]:
                url = child_url(url, s, folder=True)
            return url
        url = self.root
        for s in segments:
            url = child_url(url, s, folder=True)
        return url

    def name(self, url: str, folder_names: list[str]) -> str:
        """The mailbox name of a store folder, given the readable names along its URL."""
        if url.startswith(PUBLIC_ROOT):
            return DELIMITER.join([PUBLIC] + folder_names[1:])
        rest = folder_names[2:]  # drop "exchange" and the alias
        if rest and rest[0].lower() == "inbox":
            rest[0] = "INBOX"
        return DELIMITER.join(rest)

    @staticmethod
    def is_inbox(name: str) -> bool:
        return name.upper() == "INBOX"


def special_use(name: str) -> str | None:
    """SPECIAL-USE attribute (RFC 6154) of a top-level personal folder, by Exchange's folder names."""
    if DELIMITER in name:
        return None
    return SPECIAL_USE.get(name.lower())


def list_matcher(reference: str, pattern: str) -> re.Pattern:
    """LIST's reference and pattern (RFC 3501 6.3.8): "*" matches anything, "%" anything but the
    delimiter; INBOX is case-insensitive."""
    full = reference + pattern if not pattern.startswith(DELIMITER) or not reference else reference + pattern[1:]
    head = ""
    if full[:5].upper() == "INBOX":
        head, full = "(?i:INBOX)", full[5:]
    body = "".join(".*" if ch == "*" else f"[^{re.escape(DELIMITER)}]*" if ch == "%" else re.escape(ch)
                   for ch in full)
    return re.compile(f"^{head}{body}$", re.DOTALL)
