"""The raw Session, the transcript, and the SMTP reply reader, on real sockets against fake servers."""
from __future__ import annotations

import asyncio
import base64

import pytest

from conformance.dialects.smtp import Reply, SmtpClient
from conformance.wire.session import ConnectFailed, ConnectionClosed, ReadTimeout, Session
from conformance.wire.transcript import MAX_CHUNK, Transcript, decode_octets, encode_octets, render_event

from fakes import FakeServer, Raw, Silent, free_port

pytestmark = pytest.mark.timeout(60)

MULTILINE = b"250-fake.example greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"


def read_reply_from(data: bytes, *, byte_at_a_time: bool = False) -> tuple[Reply, Transcript]:
    """Connect to a server that sends `data`, read one SMTP reply, return it and the transcript."""
    transcript = Transcript()

    async def go() -> Reply:
        wire = await Session.open("127.0.0.1", server.port, transcript=transcript, read_timeout=5.0)
        try:
            return await SmtpClient(wire).read_reply()
        finally:
            await wire.close()

    with FakeServer(Raw(data, byte_at_a_time=byte_at_a_time)) as server:
        return asyncio.run(go()), transcript


def wire_events(transcript: Transcript, direction: str = "s") -> list[bytes]:
    return [decode_octets(ev) for ev in transcript.events if ev["dir"] == direction]


def test_multiline_reply_is_one_reply_with_every_line():
    reply, transcript = read_reply_from(MULTILINE)
    assert reply.code == 250
    assert reply.lines == ["fake.example greets you", "PIPELINING", "SIZE 1000", "8BITMIME"]
    assert b"".join(reply.raw) == MULTILINE
    assert reply.problems == []
    assert b"".join(wire_events(transcript)) == MULTILINE


def test_reply_sent_one_byte_at_a_time_parses_identically():
    whole, _ = read_reply_from(MULTILINE)
    trickled, _ = read_reply_from(MULTILINE, byte_at_a_time=True)
    assert (trickled.code, trickled.lines, trickled.raw, trickled.problems) == (
        whole.code, whole.lines, whole.raw, whole.problems)


def test_bare_lf_line_end_is_recorded_as_a_problem():
    reply, _ = read_reply_from(b"250-first\n250 last\r\n")
    assert reply.code == 250 and reply.lines == ["first", "last"]
    assert len(reply.problems) == 1 and "bare LF" in reply.problems[0]


def test_bare_lf_sent_byte_by_byte_gives_the_same_problem():
    whole, _ = read_reply_from(b"250-first\n250 last\r\n")
    trickled, _ = read_reply_from(b"250-first\n250 last\r\n", byte_at_a_time=True)
    assert trickled.problems == whole.problems


def test_line_without_code_is_returned_with_a_problem_instead_of_raising():
    reply, _ = read_reply_from(b"hello there\r\n")
    assert reply.code == 0
    assert reply.lines == ["hello there"]
    assert "no three-digit code" in reply.problems[0]


def test_missing_separator_after_the_code_is_a_problem():
    reply, _ = read_reply_from(b"250ok\r\n")
    assert reply.code == 250
    assert any("no space or hyphen" in p for p in reply.problems)


def test_mixed_codes_in_a_multiline_reply_are_flagged():
    reply, _ = read_reply_from(b"250-first\r\n251-second\r\n250 last\r\n")
    assert reply.code == 250
    assert len(reply.lines) == 3
    assert reply.problems == ["line 2 of a multi-line reply has code 251, the first had 250"]


def test_server_closing_mid_reply_raises_connection_closed_with_the_partial_bytes_recorded():
    transcript = Transcript()

    async def go():
        wire = await Session.open("127.0.0.1", server.port, transcript=transcript, read_timeout=5.0)
        with pytest.raises(ConnectionClosed) as info:
            await SmtpClient(wire).read_reply()
        assert wire.closed
        return info.value

    with FakeServer(Raw(b"250-complete line\r\n250 half a li", then="close")) as server:
        exc = asyncio.run(go())
    assert exc.partial == b"250 half a li"
    assert "middle of a line" in str(exc)
    assert wire_events(transcript) == [b"250-complete line\r\n", b"250 half a li"]
    assert transcript.events[-1]["note"] == "server closed the connection"


def test_silent_server_gives_read_timeout_within_the_read_timeout():
    transcript = Transcript()

    async def go():
        wire = await Session.open("127.0.0.1", server.port, transcript=transcript, read_timeout=0.3)
        try:
            with pytest.raises(ReadTimeout, match="0.3 s"):
                await asyncio.wait_for(SmtpClient(wire).read_reply(), 10)
            with pytest.raises(ReadTimeout):
                await asyncio.wait_for(wire.wait_closed(), 10)  # it never closes either
        finally:
            await wire.close()

    with FakeServer(Silent()) as server:
        asyncio.run(go())
    notes = [ev["note"] for ev in transcript.events if ev["dir"] == "*"]
    assert "no complete line within 0.3 s" in notes


def test_connect_to_a_closed_port_is_connect_failed_and_noted():
    transcript = Transcript()
    port = free_port()
    with pytest.raises(ConnectFailed, match=f"127.0.0.1:{port}"):
        asyncio.run(Session.open("127.0.0.1", port, transcript=transcript, connect_timeout=2.0))
    assert transcript.events[0]["dir"] == "*" and "failed" in transcript.events[0]["note"]


def test_sent_bytes_are_recorded_exactly():
    transcript = Transcript()

    async def go():
        wire = await Session.open("127.0.0.1", server.port, transcript=transcript)
        await wire.send(b"NOOP\nRSET\r\n\x00\xff")
        await wire.close()

    with FakeServer(Silent()) as server:
        asyncio.run(go())
    assert wire_events(transcript, "c") == [b"NOOP\nRSET\r\n\x00\xff"]


# --- transcript encoding and rendering ---------------------------------------------------------------------


def test_non_utf8_bytes_from_the_server_are_stored_as_base64_and_round_trip():
    data = b"250 caf\xe9 \xff\xfe\r\n"
    reply, transcript = read_reply_from(data)
    (event,) = [ev for ev in transcript.events if ev["dir"] == "s"]
    assert "text" not in event
    assert base64.b64decode(event["b64"]) == data
    assert decode_octets(event) == data
    assert reply.code == 250 and "\\xe9" in reply.lines[0]


@pytest.mark.parametrize("data", [b"", b"plain", "ünïcode".encode(), b"\x00\x01\r\n", bytes(range(256))])
def test_encode_then_decode_octets_is_the_identity(data):
    assert decode_octets(encode_octets(data)) == data


def test_oversized_chunk_is_elided_in_the_middle_keeping_both_ends():
    t = Transcript()
    data = b"A" * MAX_CHUNK + b"B" * MAX_CHUNK
    t.record("a", "c", data)
    (ev,) = t.events
    assert ev["len"] == len(data)
    assert decode_octets(ev) == b"A" * (MAX_CHUNK // 2) + b"B" * (MAX_CHUNK // 2)
    assert render_event(ev).endswith(f"[{MAX_CHUNK} octets elided]")


def test_render_event_shows_bare_cr_and_lf_as_escapes():
    t = Transcript(clock=lambda: 0.0)
    t.record("a", "s", b"250 one\r\n250 bare\nlf\r\n")
    t.record("a", "c", b"DATA\rmore")
    reply_text, client_text = (render_event(ev) for ev in t.events)
    assert reply_text.splitlines() == ["   0.0000 a S: 250 one", "   0.0000 a S: 250 bare\\nlf"]
    assert client_text == "   0.0000 a C: DATA\\rmore  [no CRLF]"


def test_render_event_shows_notes_and_comments():
    t = Transcript(clock=lambda: 0.0)
    t.note("a", "connected")
    t.comment("b", "why this step")
    assert [render_event(ev) for ev in t.events] == ["   0.0000 a *: connected", "   0.0000 b #: why this step"]
