"""Per-protocol knowledge the generic script executor needs: how to open a session and what one
"unit" of server output is (an SMTP reply, a POP3 response with its data lines, an IMAP tagged response
and its untagged lines, ...). Scripts match a unit's `head` with `S:` and its `body` lines with `has:`/`lacks:`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class Unit:
    head: str  # the line an `S:` pattern is matched against
    body: list[str]  # the lines `has:`/`lacks:` look through
    shown: str  # the unit as received, for evidence


class Dialect(Protocol):
    protocol: str

    async def open(self, ctx, label: str): ...

    async def read_unit(self, client, timeout: float | None = None) -> Unit: ...

    async def send(self, client, data: bytes) -> None: ...

    async def starttls(self, client, ctx) -> None: ...

    def wire(self, client): ...

    # Optional: `scope(ctx, header)`, an async context manager around a whole check that yields extra
    # script variables (POP3 holds the maildrop's run-wide lock there). Dialects without it need none.


def dialect_for(protocol: str) -> Dialect:
    from .http_script import HttpDialect
    from .imap_script import ImapDialect
    from .nntp_script import NntpDialect
    from .pop3_script import Pop3Dialect
    from .smtp_script import SmtpDialect

    known = {"smtp": SmtpDialect, "pop3": Pop3Dialect, "imap": ImapDialect, "nntp": NntpDialect,
             "webdav": HttpDialect}
    if protocol not in known:
        raise KeyError(f"no script dialect for protocol {protocol!r}")
    return known[protocol]()
