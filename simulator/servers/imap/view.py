"""A session's view of its selected mailbox, and the hub that tells every view when the mailbox changed.

The store is the one source of truth; a view keeps only what IMAP makes per-session: the map from
sequence numbers to UIDs, the flags the client was last told, and which messages are \\Recent for it.
When anything changes a mailbox (another IMAP session, an SMTP delivery, a POP3 deletion), the hub marks
the other views of it stale; each catches up at the next point where it may speak: EXISTS and flag
changes after any command, EXPUNGE only where RFC 3501 7.4.1 allows (not during FETCH, STORE or SEARCH).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ...protocols.imap import encode


@dataclass(eq=False)  # identity matters: the hub keeps views in sets
class View:
    url: str
    readonly: bool
    uidvalidity: int
    uids: list[int] = field(default_factory=list)  # index + 1 = sequence number
    flags: dict[int, frozenset[str]] = field(default_factory=dict)
    modseqs: dict[int, int] = field(default_factory=dict)
    recent: set[int] = field(default_factory=set)
    stale: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set when stale, for IDLE

    def seq(self, uid: int) -> int:
        return self.uids.index(uid) + 1

    def uid_at(self, seq: int) -> int:
        return self.uids[seq - 1]

    @property
    def max_uid(self) -> int:
        return self.uids[-1] if self.uids else 0


class MailboxHub:
    def __init__(self) -> None:
        self._views: dict[str, set[View]] = {}
        self._recent_mark: dict[str, int] = {}  # per mailbox: UIDs up to this are no longer new to anyone

    @staticmethod
    def _key(url: str) -> str:
        return url.casefold()

    def attach(self, view: View) -> None:
        self._views.setdefault(self._key(view.url), set()).add(view)

    def detach(self, view: View) -> None:
        views = self._views.get(self._key(view.url))
        if views is not None:
            views.discard(view)

    def changed(self, url: str, by: View | None = None) -> None:
        """Something changed in the mailbox at `url`; every view but the one that did it must catch up."""
        for view in self._views.get(self._key(url), ()):
            if view is not by:
                view.stale = True
                view.wake.set()

    def claim_recent(self, url: str, uids: list[int]) -> set[int]:
        """RFC 3501 2.3.1.1: a message is \\Recent in exactly one session, the first that learns of it."""
        key = self._key(url)
        mark = self._recent_mark.get(key, 0)
        fresh = {u for u in uids if u > mark}
        if uids:
            self._recent_mark[key] = max(mark, max(uids))
        return fresh

    def unclaimed(self, url: str, uids: list[int]) -> set[int]:
        """The messages still new to every session: what EXAMINE and STATUS report as RECENT without
        taking \\Recent away from the session that will SELECT the mailbox."""
        mark = self._recent_mark.get(self._key(url), 0)
        return {u for u in uids if u > mark}

    def renamed(self, old: str, new: str) -> None:
        for view in self._views.pop(self._key(old), set()):
            view.url = new
            self.attach(view)
        if self._key(old) in self._recent_mark:
            self._recent_mark[self._key(new)] = self._recent_mark.pop(self._key(old))


@dataclass
class Rows:
    """What the store says the mailbox holds now: UID -> (flags, modseq), and the UIDs in order."""

    flags: dict[int, frozenset[str]]
    modseqs: dict[int, int]

    @property
    def uids(self) -> list[int]:
        return sorted(self.flags)


def catch_up(view: View, rows: Rows, hub: MailboxHub, *, allow_expunge: bool, condstore: bool, qresync: bool,
             rev2: bool) -> list[bytes]:
    """The untagged responses that bring the client's picture of the mailbox up to `rows`, applied to
    the view. Held-back expunges leave the view stale so they go out at the next allowed point."""
    out: list[bytes] = []
    current = set(rows.flags)
    gone = [u for u in view.uids if u not in current]
    if gone and allow_expunge:
        if qresync:
            out.append(b"VANISHED " + encode.uid_set(gone))  # RFC 7162 3.2.10
            view.uids = [u for u in view.uids if u in current]
        else:
            for uid in gone:
                out.append(b"%d EXPUNGE" % view.seq(uid))
                view.uids.remove(uid)
        for uid in gone:
            view.flags.pop(uid, None)
            view.modseqs.pop(uid, None)
            view.recent.discard(uid)
    for uid in view.uids:
        if uid in current and (rows.flags[uid] != view.flags.get(uid)
                               or (condstore and rows.modseqs[uid] != view.modseqs.get(uid))):
            view.flags[uid], view.modseqs[uid] = rows.flags[uid], rows.modseqs[uid]
            data = [b"FLAGS " + encode.flag_list(sorted(rows.flags[uid] | _recent(view, uid)))]
            if qresync or condstore:
                data.insert(0, b"UID %d" % uid)
                data.append(b"MODSEQ (%d)" % rows.modseqs[uid])
            out.append(b"%d FETCH (" % view.seq(uid) + b" ".join(data) + b")")
    new = [u for u in rows.uids if u > view.max_uid]
    if new:
        view.uids.extend(new)
        for uid in new:
            view.flags[uid], view.modseqs[uid] = rows.flags[uid], rows.modseqs[uid]
        if not view.readonly:
            view.recent |= hub.claim_recent(view.url, new)
        out.append(b"%d EXISTS" % len(view.uids))
        if not rev2:
            out.append(b"%d RECENT" % len(view.recent))
    view.stale = bool(gone) and not allow_expunge
    if not view.stale:
        view.wake.clear()
    return out


def _recent(view: View, uid: int) -> frozenset[str]:
    return frozenset({"\\Recent"}) if uid in view.recent else frozenset()
