"""ExIPC: the queues between the protocol virtual servers and the store.

In Exchange 2003 the protocol servers ran inside IIS and the store in its own process; they talked over
shared-memory queues (ExIPC), passing message bodies as handles into a shared heap. Here each virtual
server has a `Channel` with one inbound queue (requests to the store) and one outbound queue (replies),
both bounded; the store runs on its own worker thread (`StoreWorker`), because SQLite calls block and the
protocol event loop must never wait on the disk. The queues are the only way across.

    value = await channel.call("deliver", alias="alice", prefix=b"Received: ...", blob=handle)

Requests and replies are correlated by id. A full inbound queue makes the caller wait (backpressure)
instead of growing without bound. Every queue counts depth, high-water mark, enqueued and dequeued.
"""
from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable


class CountedQueue:
    """A bounded thread-safe FIFO that keeps the figures an operator watches."""

    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self._q: queue.Queue = queue.Queue(maxsize)
        self._lock = threading.Lock()
        self.high_water = 0
        self.enqueued = 0
        self.dequeued = 0

    def put_nowait(self, item: Any) -> None:
        self._q.put_nowait(item)  # queue.Full when full
        self._count_in()

    def put(self, item: Any, timeout: float | None = None) -> None:
        self._q.put(item, timeout=timeout)
        self._count_in()

    def get_nowait(self) -> Any:
        item = self._q.get_nowait()
        with self._lock:
            self.dequeued += 1
        return item

    def _count_in(self) -> None:
        with self._lock:
            self.enqueued += 1
            self.high_water = max(self.high_water, self._q.qsize())

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"depth": self._q.qsize(), "high_water": self.high_water, "enqueued": self.enqueued,
                    "dequeued": self.dequeued, "capacity": self._q.maxsize}


@dataclass
class Request:
    id: int
    op: str
    args: dict[str, Any]


@dataclass
class Reply:
    id: int
    value: Any = None
    error: str | None = None


class StoreCallError(Exception):
    """The store refused or failed a request; the message says why."""


class Channel:
    """One virtual server's two queues. `call` is used on the event loop; the worker thread serves it."""

    def __init__(self, name: str, worker: "StoreWorker", maxsize: int = 256) -> None:
        self.name = name
        self.inbound = CountedQueue(f"{name}/inbound", maxsize)
        self.outbound = CountedQueue(f"{name}/outbound", maxsize)
        self._worker = worker
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._space: asyncio.Event | None = None

    async def call(self, op: str, **args: Any) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop, self._space = loop, asyncio.Event()
        request = Request(next(self._ids), op, args)
        future = loop.create_future()
        self._waiting[request.id] = future
        try:
            while True:
                try:
                    self.inbound.put_nowait(request)
                    break
                except queue.Full:
                    self._space.clear()
                    await self._space.wait()  # the worker sets it when it takes a request
            self._worker.ring(self)
            return await future
        finally:
            self._waiting.pop(request.id, None)

    # --- called from the worker thread ------------------------------------------------------------------

    def take(self) -> Request | None:
        try:
            request = self.inbound.get_nowait()
        except queue.Empty:
            return None
        self._notify(self._space.set if self._space else None)
        return request

    def answer(self, reply: Reply) -> None:
        self.outbound.put(reply)
        self._notify(self._drain)

    def _notify(self, callback: Callable[[], None] | None) -> None:
        if callback is None or self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(callback)
        except RuntimeError:
            pass  # the loop has closed: the simulator is stopping and nobody waits for this any more

    # --- back on the event loop ---------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            try:
                reply = self.outbound.get_nowait()
            except queue.Empty:
                return
            future = self._waiting.get(reply.id)
            if future is None or future.done():
                continue  # the caller went away (its session was cancelled); nothing waits for this reply
            if reply.error is not None:
                future.set_exception(StoreCallError(reply.error))
            else:
                future.set_result(reply.value)

    def stats(self) -> dict[str, dict[str, int]]:
        return {"inbound": self.inbound.stats(), "outbound": self.outbound.stats()}


class StoreWorker(threading.Thread):
    """The store side: one thread that owns the store and serves every channel's requests in turn."""

    def __init__(self, make_service: Callable[[], Any]) -> None:
        super().__init__(name="wireproof-store", daemon=True)
        self._make_service = make_service
        self._doorbell: queue.SimpleQueue = queue.SimpleQueue()  # which channel has a request waiting
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.service: Any = None  # created in this thread (SQLite connections belong to their thread)

    def start(self) -> None:
        super().start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    def ring(self, channel: Channel | None) -> None:
        self._doorbell.put(channel)

    def stop(self, timeout: float = 5.0) -> None:
        self._doorbell.put(None)
        self.join(timeout)

    def run(self) -> None:
        try:
            self.service = self._make_service()
        except BaseException as exc:  # reported to start() in the other thread
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (channel := self._doorbell.get()) is not None:
                request = channel.take()
                if request is not None:
                    channel.answer(self._serve(request))
        finally:
            self.service.close()

    def _serve(self, request: Request) -> Reply:
        handler = getattr(self.service, f"op_{request.op}", None)
        if handler is None:
            return Reply(request.id, error=f"unknown store operation {request.op!r}")
        try:
            return Reply(request.id, value=handler(**request.args))
        except BaseException as exc:  # whatever happens, the caller gets an answer and the worker lives on
            return Reply(request.id, error=f"{type(exc).__name__}: {exc}")
