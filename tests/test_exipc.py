"""ExIPC (simulator/exipc.py): the bounded queues between a virtual server's event loop and the store's
worker thread, tested with a small fake store service. No sockets, no store, every wait bounded."""
from __future__ import annotations

import asyncio
import queue
import threading

import pytest

from simulator.exipc import Channel, CountedQueue, StoreCallError, StoreWorker

WAIT = 5.0  # seconds: the bound on every wait in this file


class FakeService:
    """A store service: `op_*` methods, `close()`. `op_slow` holds the worker until `release` is set."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.release = threading.Event()
        self.holding = threading.Event()  # set while op_slow is holding the worker
        self.closed = False
        self.closed_in: int | None = None
        self.served: list[object] = []

    def op_echo(self, value):
        self.served.append(value)
        return value

    def op_fail(self, why: str):
        raise ValueError(why)

    def op_slow(self, value):
        self.holding.set()
        assert self.release.wait(WAIT), "the test never released the worker"
        self.served.append(value)
        return value

    def close(self) -> None:
        self.closed = True
        self.closed_in = threading.get_ident()


@pytest.fixture
def worker():
    made: list[FakeService] = []

    def make() -> FakeService:
        made.append(FakeService())
        return made[-1]

    w = StoreWorker(make)
    w.start()
    w.made = made  # type: ignore[attr-defined]
    yield w
    if made:
        made[0].release.set()  # never leave the worker held
    w.stop(WAIT)
    assert not w.is_alive()


def service(w: StoreWorker) -> FakeService:
    return w.service


def run(coro):
    """Run a coroutine on a fresh event loop, bounded."""
    async def bounded():
        return await asyncio.wait_for(coro, WAIT)
    return asyncio.run(bounded())


async def until(condition, what: str) -> None:
    for _ in range(int(WAIT / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    pytest.fail(f"timed out waiting for {what}")


# --- calls and replies ----------------------------------------------------------------------------------------


def test_a_call_returns_the_value_of_the_op(worker):
    async def main():
        channel = Channel("smtp/1", worker)
        return await channel.call("echo", value={"alias": "alice", "size": 42})
    assert run(main()) == {"alias": "alice", "size": 42}


def test_replies_go_to_their_own_callers_when_many_calls_are_in_flight(worker):
    async def main():
        smtp, pop3 = Channel("smtp/1", worker), Channel("pop3/1", worker)
        calls = []
        for i in range(100):
            calls.append(smtp.call("echo", value=("smtp", i)))
            calls.append(pop3.call("echo", value=("pop3", i)))
        return await asyncio.gather(*calls)
    results = run(main())
    assert results == [(name, i) for i in range(100) for name in ("smtp", "pop3")]


def test_an_exception_in_an_op_reaches_the_caller_as_store_call_error_naming_it(worker):
    async def main():
        channel = Channel("smtp/1", worker)
        with pytest.raises(StoreCallError, match=r"^ValueError: mailbox is full$"):
            await channel.call("fail", why="mailbox is full")
        return await channel.call("echo", value="still serving")  # a failed op does not stop the worker
    assert run(main()) == "still serving"


def test_an_unknown_op_is_a_store_call_error(worker):
    async def main():
        channel = Channel("smtp/1", worker)
        with pytest.raises(StoreCallError, match="unknown store operation 'nope'"):
            await channel.call("nope", x=1)
        with pytest.raises(StoreCallError, match="TypeError"):  # wrong arguments: the op raised
            await channel.call("echo", wrong=1)
    run(main())


def test_a_reply_for_a_caller_that_went_away_is_dropped_and_later_calls_are_unaffected(worker):
    async def main():
        channel = Channel("smtp/1", worker)
        held = asyncio.ensure_future(channel.call("slow", value="abandoned"))
        await until(service(worker).holding.is_set, "the worker to hold")
        held.cancel()
        with pytest.raises(asyncio.CancelledError):
            await held
        service(worker).release.set()
        value = await channel.call("echo", value="next")
        return value, channel.stats()
    value, stats = run(main())
    assert value == "next"
    assert stats["outbound"]["dequeued"] == 2 and stats["outbound"]["depth"] == 0


# --- backpressure and counters -------------------------------------------------------------------------------------


def test_a_full_inbound_queue_makes_callers_wait_then_all_complete_in_order_and_counters_are_exact(worker):
    callers = 6

    async def main():
        channel = Channel("smtp/1", worker, maxsize=2)
        done: list[int] = []

        async def caller(i: int):
            value = await channel.call("slow", value=i)
            done.append(i)
            return value

        tasks = [asyncio.ensure_future(caller(i)) for i in range(callers)]
        # the worker takes request 0 and is held inside it; requests 1 and 2 fill the queue
        await until(lambda: service(worker).holding.is_set() and channel.inbound.stats()["depth"] == 2,
                    "the queue to fill")
        for _ in range(20):
            await asyncio.sleep(0)  # give the waiting callers every chance to (wrongly) get in
        held = channel.stats()
        assert not any(t.done() for t in tasks)
        service(worker).release.set()
        results = await asyncio.gather(*tasks)
        return held, results, done, channel.stats()

    held, results, done, stats = run(main())
    assert held["inbound"] == {"depth": 2, "high_water": 2, "enqueued": 3, "dequeued": 1, "capacity": 2}
    assert results == list(range(callers))
    assert done == list(range(callers))  # completion in the order the calls were made
    assert service(worker).served == list(range(callers))  # and served in that order
    assert stats["inbound"] == {"depth": 0, "high_water": 2, "enqueued": callers, "dequeued": callers,
                                "capacity": 2}
    out = stats["outbound"]
    assert (out["depth"], out["enqueued"], out["dequeued"], out["capacity"]) == (0, callers, callers, 2)
    assert 1 <= out["high_water"] <= 2


def test_counters_after_a_series_of_calls_are_exact():
    q = CountedQueue("t", 3)
    assert q.stats() == {"depth": 0, "high_water": 0, "enqueued": 0, "dequeued": 0, "capacity": 3}
    for i in range(3):
        q.put_nowait(i)
    with pytest.raises(queue.Full):
        q.put_nowait(3)  # a refused put is not counted
    assert [q.get_nowait() for _ in range(2)] == [0, 1]
    q.put(9, timeout=WAIT)
    assert q.stats() == {"depth": 2, "high_water": 3, "enqueued": 4, "dequeued": 2, "capacity": 3}


# --- the worker thread ---------------------------------------------------------------------------------------------


def test_the_worker_creates_its_service_in_its_own_thread(worker):
    svc = service(worker)
    assert svc.thread == worker.ident
    assert svc.thread != threading.get_ident()

    async def main():
        return await Channel("smtp/1", worker).call("echo", value=1)
    assert run(main()) == 1


def test_stop_joins_the_thread_and_closes_the_service_in_it():
    made: list[FakeService] = []
    w = StoreWorker(lambda: made.append(FakeService()) or made[-1])
    w.start()
    assert w.is_alive()
    ident = w.ident
    w.stop(WAIT)
    assert not w.is_alive()
    assert made[0].closed and made[0].closed_in == ident


def test_stop_serves_requests_already_rung_for_before_stopping():
    made: list[FakeService] = []
    w = StoreWorker(lambda: made.append(FakeService()) or made[-1])
    w.start()

    async def main():
        channel = Channel("smtp/1", w)
        calls = [asyncio.ensure_future(channel.call("echo", value=i)) for i in range(5)]
        await asyncio.sleep(0)  # every call is queued and has rung
        w.stop(WAIT)
        return await asyncio.gather(*calls)
    assert run(main()) == list(range(5))
    assert made[0].closed


def test_a_failing_service_constructor_makes_start_raise_it():
    class NoDisk(RuntimeError):
        pass

    def make():
        raise NoDisk("cannot open the store")

    w = StoreWorker(make)
    with pytest.raises(NoDisk, match="cannot open the store"):
        w.start()
    w.join(WAIT)
    assert not w.is_alive()
    assert w.service is None
