"""The blob heap: bodies shared by handle, counted references, no copies, safe across threads."""
from __future__ import annotations

import threading

import pytest

from simulator.store import BlobHandle, BlobHeap


def test_put_keeps_bytes_as_they_are_and_view_is_zero_copy():
    heap = BlobHeap()
    data = b"From: a@example.com\r\n\r\nbody\r\n" * 1000
    handle = heap.put(data)
    assert handle == BlobHandle(handle.id, len(data))
    view = heap.view(handle)
    assert view.obj is data  # the heap's view points into the caller's very object
    assert view.readonly
    assert heap.view(handle).obj is data


def test_view_of_bytes_is_kept_without_copy():
    data = b"0123456789"
    heap = BlobHeap()
    handle = heap.put(memoryview(data)[2:8])
    assert handle.size == 6
    view = heap.view(handle)
    assert view.obj is data
    assert view.tobytes() == b"234567"


def test_mutable_buffer_is_frozen_so_later_writes_do_not_change_the_blob():
    buffer = bytearray(b"original")
    heap = BlobHeap()
    handle = heap.put(buffer)
    buffer[:] = b"changed!"
    assert heap.view(handle).tobytes() == b"original"
    assert heap.view(handle).readonly


def test_blob_is_freed_only_when_the_last_holder_releases():
    heap = BlobHeap()
    handle = heap.put(b"x" * 10)
    assert heap.acquire(handle) is handle
    heap.release(handle)
    assert heap.view(handle).tobytes() == b"x" * 10  # one holder left
    heap.release(handle)
    with pytest.raises(KeyError, match=f"blob {handle.id}.*freed"):
        heap.view(handle)


def test_releasing_or_acquiring_a_freed_handle_is_an_error():
    heap = BlobHeap()
    handle = heap.put(b"once")
    heap.release(handle)
    with pytest.raises(KeyError, match="release"):
        heap.release(handle)
    with pytest.raises(KeyError, match="acquire"):
        heap.acquire(handle)
    assert heap.stats() == {"live": 0, "bytes": 0, "allocated": 1, "freed": 1}


def test_views_taken_before_the_free_stay_readable():
    heap = BlobHeap()
    handle = heap.put(b"still here")
    view = heap.view(handle)
    heap.release(handle)
    assert view.tobytes() == b"still here"


def test_stats_count_live_blobs_bytes_and_totals():
    heap = BlobHeap()
    a = heap.put(b"a" * 3)
    b = heap.put(b"b" * 5)
    heap.acquire(b)
    assert heap.stats() == {"live": 2, "bytes": 8, "allocated": 2, "freed": 0}
    heap.release(a)
    heap.release(b)
    assert heap.stats() == {"live": 1, "bytes": 5, "allocated": 2, "freed": 1}
    heap.release(b)
    assert heap.stats() == {"live": 0, "bytes": 0, "allocated": 2, "freed": 2}


def test_concurrent_puts_and_releases_keep_ids_unique_and_stats_consistent():
    heap = BlobHeap()
    threads, rounds = 8, 500
    start = threading.Barrier(threads)
    seen: list[list[int]] = [[] for _ in range(threads)]
    kept: list[BlobHandle] = []
    kept_lock = threading.Lock()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            churn(n)
        except BaseException as exc:  # noqa: BLE001 -- a failure in a thread must fail the test
            errors.append(exc)

    def churn(n: int) -> None:
        payload = bytes([n]) * 64
        start.wait(timeout=10)
        for i in range(rounds):
            handle = heap.put(payload)
            seen[n].append(handle.id)
            heap.acquire(handle)
            assert heap.view(handle).obj is payload
            heap.release(handle)
            if i % 10 == 0:  # every tenth blob outlives its thread
                with kept_lock:
                    kept.append(handle)
            else:
                heap.release(handle)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert not any(w.is_alive() for w in workers)
    assert not errors
    ids = [i for per_thread in seen for i in per_thread]
    assert len(ids) == len(set(ids)) == threads * rounds
    assert heap.stats() == {"live": len(kept), "bytes": 64 * len(kept),
                            "allocated": threads * rounds, "freed": threads * rounds - len(kept)}
    for handle in kept:
        heap.release(handle)
    assert heap.stats()["live"] == 0 and heap.stats()["bytes"] == 0
