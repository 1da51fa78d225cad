"""Start-up time of the simulator with all its virtual servers, beside real peers measured in the same run.

    python bench/startup.py [--runs 20] [--peer-runs 3] [--no-peers]

"Up" means: every virtual server listening and one SMTP greeting read from it. The peers are timed the
same way, by their start_peer() (which returns once every port accepts connections) plus one greeting.
Figures are medians; compare only the ratios, measured on one machine in one run.
"""
from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import Simulator  # noqa: E402  (after the path tweak, so it runs from a checkout)
from simulator.demo import build_demo  # noqa: E402


def greet(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=5) as s:
        assert s.recv(100)[:3] in (b"220", b"+OK")


def time_simulator(runs: int, directory_factory) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sim = Simulator(directory_factory()).start()
        greet(*sim.address("smtp"))
        times.append(time.perf_counter() - t0)
        sim.stop()
    return times


def time_peer(name: str, runs: int) -> list[float]:
    from conformance.peers import start_peer

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with start_peer(name) as peer:
            host, port = peer.endpoints["smtp"].split("//")[1].rsplit(":", 1)
            greet(host, int(port))
            times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--peer-runs", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    rows = [("simulator, default directory (one SMTP, POP3, IMAP4, NNTP, HTTP)", time_simulator(args.runs, lambda: None)),
            ("simulator, demo directory (2 SMTP, 2 POP3, 2 IMAP4, 1 HTTP, 25 users)",
             time_simulator(args.runs, lambda: build_demo(0)))]
    if not args.no_peers:
        for name in ("exim", "aiosmtpd"):
            try:
                rows.append((f"peer {name} (+ Dovecot for read-back)", time_peer(name, args.peer_runs)))
            except Exception as exc:  # a peer that cannot run here is reported, not fatal
                print(f"peer {name}: not measured ({exc})")
    base = statistics.median(rows[0][1])
    print(f"{'what':58} {'median ms':>10} {'min ms':>8} {'x simulator':>12}")
    for label, times in rows:
        med = statistics.median(times)
        print(f"{label:58} {med * 1000:10.1f} {min(times) * 1000:8.1f} {med / base:12.1f}")
    print(f"target: the simulator up well under 150 ms -> {'met' if base < 0.150 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
