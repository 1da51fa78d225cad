"""IMAP: FETCH 1:1000 (BODY[]) and the login rate, of the simulator and of Dovecot, measured in one run.

    python bench/imap.py [--messages 1000] [--size 550] [--runs 10] [--logins 200] [--no-peer]

Both servers get the same mailbox: `--messages` messages of about `--size` octets, APPENDed into a scratch
mailbox that is deleted afterwards. FETCH is timed from sending the command to reading its tagged OK on a
raw socket (no client library parsing in the measurement); logins are connect + greeting + LOGIN + LOGOUT,
one after another. Figures are medians; compare the ratios, measured on one machine in one run.
"""
from __future__ import annotations

import argparse
import imaplib
import secrets
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import Simulator  # noqa: E402


class Wire:
    """A socket with a read buffer: read_line_with(marker) returns the octets up to and including the
    line that holds `marker` (the tagged completion), keeping whatever came after for the next call."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.buf = bytearray()

    def until(self, marker: bytes) -> int:
        start = 0
        while True:
            at = self.buf.find(marker, start)
            if at >= 0:
                end = self.buf.find(b"\r\n", at)
                if end >= 0:
                    taken = end + 2
                    del self.buf[:taken]
                    return taken
            start = max(0, len(self.buf) - len(marker))
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()


def fill(host: str, port: int, user: str, password: str, mailbox: str, count: int, size: int) -> None:
    imap = imaplib.IMAP4(host, port)
    imap.login(user, password)
    imap.create(mailbox)
    pad = ("x" * 76 + "\r\n") * max(0, (size - 120) // 78)
    for n in range(count):
        imap.append(mailbox, None, None, f"Subject: bench {n}\r\nFrom: bench@example.org\r\n\r\n{pad}".encode())
    imap.logout()


def time_fetch(host: str, port: int, user: str, password: str, mailbox: str, runs: int) -> tuple[list[float], int]:
    wire = Wire(host, port)
    wire.until(b"* OK")
    wire.send(f'l LOGIN {user} "{password}"\r\ns SELECT "{mailbox}"\r\n'.encode())
    wire.until(b"\r\ns OK")
    times, octets = [], 0
    for n in range(runs):
        t0 = time.perf_counter()
        wire.send(f"f{n} FETCH 1:* (BODY[])\r\n".encode())
        octets = wire.until(f"\r\nf{n} OK".encode())
        times.append(time.perf_counter() - t0)
    wire.send(b"z LOGOUT\r\n")
    wire.close()
    return times, octets


def login_rate(host: str, port: int, user: str, password: str, count: int) -> float:
    t0 = time.perf_counter()
    for _ in range(count):
        wire = Wire(host, port)
        wire.until(b"* OK")
        wire.send(f'a LOGIN {user} "{password}"\r\nb LOGOUT\r\n'.encode())
        wire.until(b"b OK")
        wire.close()
    return count / (time.perf_counter() - t0)


def cleanup(host: str, port: int, user: str, password: str, mailbox: str) -> None:
    imap = imaplib.IMAP4(host, port)
    imap.login(user, password)
    imap.delete(mailbox)
    imap.logout()


def measure(label: str, host: str, port: int, user: str, password: str, args) -> dict:
    mailbox = f"bench-{secrets.token_hex(3)}"
    fill(host, port, user, password, mailbox, args.messages, args.size)
    try:
        times, octets = time_fetch(host, port, user, password, mailbox, args.runs)
        rate = login_rate(host, port, user, password, args.logins)
    finally:
        cleanup(host, port, user, password, mailbox)
    return {"label": label, "fetch_ms": statistics.median(times) * 1000, "octets": octets, "logins": rate}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--size", type=int, default=550)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--logins", type=int, default=200)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    rows = []
    with Simulator() as sim:
        rows.append(measure("simulator", *sim.address("imap"), "alice", "alice-pw", args))
    if not args.no_peer:
        from conformance.peers import start_peer

        with start_peer("dovecot") as peer:
            host, port = peer.endpoints["imap"].split("//")[1].rsplit(":", 1)
            account = peer.accounts[0]
            rows.append(measure(f"Dovecot ({peer.software})", host, int(port), account.user, account.password, args))
    base = rows[0]
    print(f"FETCH 1:{args.messages} (BODY[]) of ~{args.size}-octet messages, median of {args.runs}; "
          f"{args.logins} sequential logins")
    print(f"{'server':32} {'FETCH ms':>9} {'octets':>9} {'logins/s':>9} {'FETCH x sim':>12} {'logins x sim':>13}")
    for r in rows:
        print(f"{r['label']:32} {r['fetch_ms']:9.1f} {r['octets']:9d} {r['logins']:9.0f} "
              f"{r['fetch_ms'] / base['fetch_ms']:12.2f} {r['logins'] / base['logins']:13.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
