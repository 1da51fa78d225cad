"""The store operations the IMAP virtual server asks for over ExIPC (run on the store thread).

Folders are named by store URL here; the IMAP server maps mailbox names to URLs. Message bodies leave as
blob handles; everything else is small metadata.
"""
from __future__ import annotations

from dataclasses import dataclass

from .store import BlobHandle, BlobHeap, Store, StoreError

NS_EXCHANGE = "http://schemas.microsoft.com/exchange/"
# The subscription list is the user's, not the folders': it keeps names whose mailbox is gone (RFC 3501 6.3.9).
SUBSCRIPTIONS = (NS_EXCHANGE, "imap-subscriptions")


@dataclass(frozen=True)
class FolderInfo:
    url: str
    name: str
    parent_url: str | None
    content_class: str
    has_children: bool


@dataclass(frozen=True)
class Status:
    uidvalidity: int
    uidnext: int
    highestmodseq: int
    messages: int
    unseen: int
    deleted: int
    size: int


@dataclass(frozen=True)
class Row:
    """One message as a mailbox view needs it."""

    uid: int
    flags: frozenset[str]
    modseq: int
    internal_date: float
    size: int
    item_id: int


class ImapStoreOps:
    store: Store
    heap: BlobHeap

    def op_imap_folders(self, roots: list[str]) -> list[FolderInfo]:
        """Every folder below the given roots (a mailbox root, /public/), with what LIST needs."""
        out = []
        for root in roots:
            folders = self.store.folders(root, recursive=True)
            parents = {f.parent_url for f in folders}
            for f in folders:
                out.append(FolderInfo(f.url, f.name, f.parent_url, f.content_class, f.url in parents))
        return out

    def op_imap_subscriptions(self, root: str) -> list[str]:
        return list(self.store.props(root).get(SUBSCRIPTIONS) or [])

    def op_imap_set_subscribed(self, root: str, name: str, on: bool) -> None:
        names = [n for n in self.op_imap_subscriptions(root) if n != name]
        self.store.set_props(root, {SUBSCRIPTIONS: names + [name] if on else names})

    def op_imap_status(self, url: str) -> Status:
        return self._status(self._folder(url), self.store.items(url))

    def op_imap_snapshot(self, url: str) -> tuple[Status, list[Row]]:
        folder = self._folder(url)
        items = self.store.items(url)
        return self._status(folder, items), [Row(i.uid, i.flags, i.modseq, i.internal_date, i.size, i.id)
                                             for i in items]

    @staticmethod
    def _status(folder, items) -> Status:
        return Status(folder.uidvalidity, folder.uidnext, folder.highestmodseq, len(items),
                      sum(1 for i in items if "\\Seen" not in i.flags),
                      sum(1 for i in items if "\\Deleted" in i.flags), sum(i.size for i in items))

    def op_imap_bodies(self, url: str, uids: list[int]) -> list[tuple[int, int, BlobHandle]]:
        """(uid, item id, handle) for each UID still present, in the order asked."""
        out = []
        for uid in uids:
            item = self.store.item_by_uid(url, uid)
            if item is not None:
                out.append((uid, item.id, self.heap.put(self.store.body(item.url))))
        return out

    def op_imap_create(self, url: str) -> None:
        self.store.create_folder(url)

    def op_imap_delete(self, url: str) -> None:
        self.store.delete_folder(url)

    def op_imap_rename(self, url: str, new_url: str) -> None:
        self.store.rename_folder(url, new_url)

    def op_imap_append(self, url: str, blob: BlobHandle, flags: list[str], internal_date: float | None) -> tuple[int, int]:
        item = self.store.add_item(url, self.heap.view(blob), flags=flags, internal_date=internal_date)
        return self._folder(url).uidvalidity, item.uid

    def op_imap_store(self, url: str, uids: list[int], flags: list[str], mode: str,
                      unchanged_since: int | None) -> tuple[list[Row], list[int]]:
        """Flags changed as asked; with UNCHANGEDSINCE (RFC 7162 3.1.3) items modified after it are left
        alone and reported. Returns (the rows of the UIDs that exist, after the change; modified UIDs)."""
        modified = []
        if unchanged_since is not None:
            current = {i.uid: i for i in self.store.items(url)}
            modified = [u for u in uids if u in current and current[u].modseq > unchanged_since]
            uids = [u for u in uids if u not in modified]
        items = self.store.set_flags(url, uids, flags, mode) if uids else []
        return [Row(i.uid, i.flags, i.modseq, i.internal_date, i.size, i.id) for i in items], modified

    def op_imap_copy(self, url: str, uids: list[int], target: str, move: bool) -> tuple[int, list[tuple[int, int]]]:
        """COPY or MOVE: (target UIDVALIDITY, [(source uid, target uid)]) in source UID order."""
        folder = self._folder(target)
        pairs = []
        for uid in sorted(uids):
            item = self.store.item_by_uid(url, uid)
            if item is None:
                continue
            new = self.store.move_item(item.url, target) if move else self.store.copy_item(item.url, target)
            pairs.append((uid, new.uid))
        return folder.uidvalidity, pairs

    def op_imap_expunge(self, url: str, uids: list[int] | None) -> list[int]:
        """Remove the \\Deleted messages (only those among `uids` when given: UID EXPUNGE, RFC 4315)."""
        doomed = [i.uid for i in self.store.items(url) if "\\Deleted" in i.flags and (uids is None or i.uid in uids)]
        if doomed:
            self.store.delete_items(url, doomed)
        return doomed

    def op_imap_vanished(self, url: str, since: int) -> list[int]:
        return self.store.expunged_since(url, since)

    def _folder(self, url: str):
        folder = self.store.folder(url)
        if folder is None:
            raise StoreError(f"no such folder: {url}")
        return folder
