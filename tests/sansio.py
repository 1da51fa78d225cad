"""Driving a simulator protocol core (sans-I/O: receive_data / next_event / data_to_send) in memory.

The SMTP, POP3, IMAP and NNTP machine tests feed every conversation twice, whole and one byte at a time, and
compare; this is the one feeding loop they share. What answers the core's events stays in each test module.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest

TLS = object()  # a step: the adapter finished the TLS handshake, call tls_established()


def drive(server, steps: tuple, answer: Callable[[object, object], None], *, bytewise: bool,
          max_events: int = 10_000) -> tuple[bytes, bytes, list[object]]:
    """Feed `steps` (bytes, or TLS) to `server`, handing each event it raises to `answer(server, event)`.

    With `bytewise` each step is fed one byte at a time. Returns the greeting, everything written after it, and
    the events in the order they were raised.
    """
    greeting = server.data_to_send()
    events: list[object] = []

    def pump() -> None:
        for _ in range(max_events):
            event = server.next_event()
            if event is None:
                return
            events.append(event)
            answer(server, event)
        pytest.fail("next_event() never ran dry")

    out = bytearray()
    for step in steps:
        if step is TLS:
            server.tls_established()
            pump()
        else:
            for piece in ([step[i:i + 1] for i in range(len(step))] if bytewise else [step]):
                server.receive_data(piece)
                pump()
        out += server.data_to_send()
    return greeting, bytes(out), events
