"""Conversations as pcap files, so Wireshark or `tshark -r` decodes them with their protocol's dissector.

The transcript holds the application bytes of each session (after TLS, in the clear), not packets, so the
TCP/IP framing is synthetic: each session becomes one TCP connection from 127.0.0.1:<40000 + n> to the
protocol's standard port (the port a dissector expects), with a handshake, one segment per recorded chunk
(split at the MSS), acknowledgements, and FIN at the end. Octets the transcript elided from a huge chunk
are skipped in sequence space, so Wireshark shows them as a capture gap instead of inventing content.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from .wire.transcript import decode_octets

STANDARD_PORTS = {"smtp": 25, "pop3": 110, "imap": 143, "nntp": 119, "webdav": 80, "http": 80}
CLIENT, SERVER = "127.0.0.1", "127.0.0.2"  # two addresses, so the direction reads at a glance
MSS = 1460
CLIENT_PORT_BASE = 40000


def _segments(data: bytes, elided: dict | None) -> Iterable[tuple[int, bytes]]:
    """(offset in the stream of this chunk, bytes) pieces of at most MSS octets; an elided middle is a gap."""
    parts = [(0, data)]
    if elided:
        at = int(elided["at"])
        parts = [(0, data[:at]), (at + int(elided["octets"]), data[at:])]
    for offset, part in parts:
        for i in range(0, len(part), MSS):
            yield offset + i, part[i:i + MSS]


def packets(events: list[dict[str, Any]], protocol: str, t0: float = 0.0) -> list:
    """The scapy packets of one check's transcript (all its sessions)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    port = STANDARD_PORTS.get(protocol, 80)
    out = []
    state: dict[str, dict[str, int]] = {}  # session -> next sequence numbers

    def pkt(session: str, t: float, from_client: bool, flags: str, payload: bytes = b""):
        st = state[session]
        src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
        sport, dport = (st["port"], port) if from_client else (port, st["port"])
        seq, ack = (st["c"], st["s"]) if from_client else (st["s"], st["c"])
        p = Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
                                                window=65535) / payload
        p.time = t0 + t
        out.append(p)

    def opened(session: str, t: float) -> None:
        if session in state:
            return
        state[session] = {"port": CLIENT_PORT_BASE + len(state), "c": 1000, "s": 5000}
        pkt(session, t, True, "S")
        state[session]["c"] += 1
        pkt(session, t, False, "SA")
        state[session]["s"] += 1
        pkt(session, t, True, "A")

    last_t = 0.0
    for ev in events:
        if ev["dir"] not in ("c", "s"):
            continue
        session, t, from_client = ev["session"], float(ev["t"]), ev["dir"] == "c"
        last_t = max(last_t, t)
        opened(session, t)
        side = "c" if from_client else "s"
        data = decode_octets(ev)
        start = state[session][side]
        for offset, piece in _segments(data, ev.get("elided")):
            state[session][side] = start + offset
            pkt(session, t, from_client, "PA", piece)
            state[session][side] = start + offset + len(piece)
        state[session][side] = start + len(data) + int((ev.get("elided") or {}).get("octets", 0))
        pkt(session, t, not from_client, "A")
    for session in state:
        pkt(session, last_t, True, "FA")
        state[session]["c"] += 1
        pkt(session, last_t, False, "FA")
        state[session]["s"] += 1
        pkt(session, last_t, True, "A")
    return out


def file_name(check_id: str, target: str, several_targets: bool) -> str:
    stem = f"{target}--{check_id}" if several_targets else check_id
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem) + ".pcap"


def write(doc: dict[str, Any], directory: str | Path) -> list[Path]:
    """One pcap per check with traffic, into `directory`; returns the files written."""
    from datetime import datetime

    from scapy.utils import wrpcap

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    started = doc.get("run", {}).get("started")
    t0 = datetime.fromisoformat(started).timestamp() if started else 0.0
    several = len({r.get("target") for r in doc["results"]}) > 1
    written = []
    for r in doc["results"]:
        pkts = packets(r.get("transcript") or [], r["protocol"], t0)
        if not pkts:
            continue
        path = out / file_name(r["id"], r.get("target", ""), several)
        wrpcap(str(path), pkts)
        written.append(path)
    return written
