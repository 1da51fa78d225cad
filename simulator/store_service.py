"""The store side of ExIPC: the operations virtual servers may ask of the store, run on the store thread.

Each `op_<name>` is one request type. Bodies come in and go out as blob handles; the heap is shared with
the protocol servers, the store itself belongs to this thread alone.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .store import BlobHandle, BlobHeap, Store
from .store_dav import DavStoreOps
from .store_imap import ImapStoreOps
from .store_nntp import NntpStoreOps

INBOX = "Inbox"
QUEUE_ALIAS = "smtp-queue"  # where mail for other domains waits for a route (routing arrives later)


class StoreService(ImapStoreOps, NntpStoreOps, DavStoreOps):
    def __init__(self, path: str, heap: BlobHeap) -> None:
        self.store = Store(path)
        self.heap = heap
        self.locks: dict[str, int] = {}  # alias -> owner holding its POP3 maildrop

    def close(self) -> None:
        self.store.close()

    @staticmethod
    def inbox(alias: str) -> str:
        return f"/exchange/{alias}/{INBOX}/"

    def op_ensure_mailboxes(self, aliases: list[str]) -> int:
        for alias in aliases:
            self.store.create_mailbox(alias)
        return len(aliases)

    def op_ensure_public_folders(self, paths: list[str]) -> int:
        """Public folders from the directory ("Marketing/News"), created with their parents."""
        from .store.naming import child_url

        for path in paths:
            url = "/public/"
            for name in path.split("/"):
                url = child_url(url, name, folder=True)
                if self.store.folder(url) is None:
                    self.store.create_folder(url)
        return len(paths)

    def op_deliver(self, alias: str, prefix: bytes, blob: BlobHandle, folder: str = INBOX) -> str:
        """Final delivery into a mailbox: the trace fields, then the body, committed before the reply."""
        self.store.create_mailbox(alias)
        item = self.store.add_item(f"/exchange/{alias}/{folder}/", prefix + self.heap.view(blob))
        return item.url

    def op_enqueue_remote(self, recipients: list[str], sender: str, prefix: bytes, blob: BlobHandle,
                          queue_id: str) -> str:
        """Mail for other domains waits in the transport queue, with its envelope as properties."""
        self.store.create_mailbox(QUEUE_ALIAS)
        ns = "http://schemas.microsoft.com/exchange/"
        item = self.store.add_item(f"/exchange/{QUEUE_ALIAS}/Outbox/", prefix + self.heap.view(blob), props={
            (ns, "queue-id"): queue_id, (ns, "envelope-sender"): sender,
            (ns, "envelope-recipients"): " ".join(recipients), (ns, "queue-state"): "awaiting route"})
        return item.url

    def op_lock(self, alias: str, owner: int) -> bool:
        holder = self.locks.setdefault(alias, owner)
        return holder == owner

    def op_unlock(self, alias: str, owner: int) -> bool:
        if self.locks.get(alias) == owner:
            del self.locks[alias]
            return True
        return False

    def op_maildrop(self, alias: str) -> list[tuple[str, str, int]]:
        """(key, uidl, size) per message of the Inbox; UIDLs are UIDVALIDITY and UID, stable across sessions."""
        folder = self.store.folder(self.inbox(alias))
        if folder is None:
            return []
        return [(item.url, f"{folder.uidvalidity}.{item.uid}", item.size) for item in self.store.items(folder.url)]

    def op_fetch(self, key: str) -> BlobHandle:
        return self.heap.put(self.store.body(key))

    def op_delete(self, keys: list[str]) -> int:
        by_folder: dict[str, list[int]] = {}
        for key in keys:
            item = self.store.item(key)
            if item is None:
                continue  # already gone (another view of the store removed it): nothing to undo
            by_folder.setdefault(item.folder_url, []).append(item.uid)
        return sum(self.store.delete_items(folder, uids) for folder, uids in by_folder.items())

    def op_query(self, fn: Callable[[Store], Any]) -> Any:
        return fn(self.store)
