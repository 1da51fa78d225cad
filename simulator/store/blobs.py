"""The blob heap: message bodies shared between the protocol servers and the store by handle.

A body crosses the ExIPC queues as a small BlobHandle; whoever holds one reads the bytes through a
zero-copy memoryview. Holders count themselves in (acquire) and out (release); the heap drops its
reference when the count reaches zero. Views handed out earlier stay valid after that (Python keeps
the buffer alive for them); the handle does not.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class BlobHandle:
    id: int
    size: int


class BlobHeap:
    """Thread-safe: every protocol thread and the store worker share one heap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[int, tuple[bytes | memoryview, int]] = {}  # id -> (payload, refcount)
        self._next_id = 1
        self._bytes = 0
        self._allocated = 0
        self._freed = 0

    def put(self, data: bytes | bytearray | memoryview) -> BlobHandle:
        """Keep `data` with one reference. bytes (and views of bytes) are kept as they are;
        a mutable buffer is copied once, so later writes by its owner cannot change the blob."""
        if isinstance(data, bytes):
            payload: bytes | memoryview = data
        elif isinstance(data, memoryview) and isinstance(data.obj, bytes) and data.c_contiguous:
            payload = data.cast("B")
        else:
            payload = bytes(data)
        size = len(payload)
        with self._lock:
            handle = BlobHandle(self._next_id, size)
            self._next_id += 1
            self._blobs[handle.id] = (payload, 1)
            self._bytes += size
            self._allocated += 1
        return handle

    def _live(self, handle: BlobHandle, action: str) -> tuple[bytes | memoryview, int]:
        try:
            return self._blobs[handle.id]
        except KeyError:
            raise KeyError(f"cannot {action} blob {handle.id}: it was freed or never put in this heap") from None

    def view(self, handle: BlobHandle) -> memoryview:
        with self._lock:
            payload, _ = self._live(handle, "view")
        return memoryview(payload)

    def acquire(self, handle: BlobHandle) -> BlobHandle:
        with self._lock:
            payload, refs = self._live(handle, "acquire")
            self._blobs[handle.id] = (payload, refs + 1)
        return handle

    def release(self, handle: BlobHandle) -> None:
        with self._lock:
            payload, refs = self._live(handle, "release")
            if refs > 1:
                self._blobs[handle.id] = (payload, refs - 1)
                return
            del self._blobs[handle.id]
            self._bytes -= len(payload)
            self._freed += 1

    def stats(self) -> dict:
        with self._lock:
            return {"live": len(self._blobs), "bytes": self._bytes,
                    "allocated": self._allocated, "freed": self._freed}
