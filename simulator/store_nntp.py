"""The store operations the NNTP virtual server asks for over ExIPC: newsgroups are public folders, and
article numbers are the UIDs of their items (ascending, never reused: what RFC 3977 6 asks of numbers)."""
from __future__ import annotations

from dataclasses import dataclass

from .store import BlobHandle, BlobHeap, Store

MAILHEADER = "urn:schemas:mailheader:"


@dataclass(frozen=True)
class GroupInfo:
    url: str
    uidvalidity: int
    next_number: int  # the number the next article will get
    articles: list[tuple[int, float]]  # (number, arrival time), ascending


class NntpStoreOps:
    store: Store
    heap: BlobHeap

    def op_nntp_group(self, url: str) -> GroupInfo | None:
        folder = self.store.folder(url)
        if folder is None:
            return None
        return GroupInfo(folder.url, folder.uidvalidity, folder.uidnext,
                         [(i.uid, i.internal_date) for i in self.store.items(folder.url)])

    def op_nntp_article(self, url: str, number: int) -> BlobHandle | None:
        item = self.store.item_by_uid(url, number)
        return None if item is None else self.heap.put(self.store.body(item.url))

    def op_nntp_find(self, urls: list[str], message_id: str) -> tuple[str, int] | None:
        """(group folder, number) of the article with this Message-ID in any of the groups."""
        for url in urls:
            for item in self.store.items(url):
                if self.store.props(item.url).get((MAILHEADER, "message-id"), "").strip() == message_id:
                    return url, item.uid
        return None

    def op_nntp_post(self, urls: list[str], blob: BlobHandle) -> list[tuple[str, int]]:
        """The article into every group it names; (folder, number) for each."""
        data = self.heap.view(blob)
        return [(url, self.store.add_item(url, data).uid) for url in urls]
