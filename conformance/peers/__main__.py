"""python -m conformance.peers start NAME [--workdir DIR] | list | install

`start` runs the peer until SIGINT or SIGTERM, then stops it cleanly.
Exit status: 0 ok, 2 the peer cannot run here or did not start.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from . import PEERS, PeerStartError, PeerUnavailable, start_peer


def cmd_list() -> int:
    for name, cls in PEERS.items():
        try:
            cls.check()
            print(f"{name:10} available")
        except PeerUnavailable as exc:
            print(f"{name:10} unavailable: {exc}")
    return 0


def cmd_start(name: str, workdir: str | None) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    t0 = time.monotonic()
    try:
        peer = start_peer(name, workdir=workdir)
    except (PeerUnavailable, PeerStartError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    with peer:
        print(f"{peer.name}: {peer.software}, up in {time.monotonic() - t0:.2f} s, pids {peer.pids}")
        for key, url in peer.endpoints.items():
            print(f"  {key:6} {url}")
        for a in peer.accounts:
            print(f"  account {a.user} / {a.password} <{a.address}>")
        print(f"  cafile  {peer.cafile}")
        print(f"  profile {peer.profile_path}")
        print("Ctrl-C or SIGTERM stops it.", flush=True)
        stop.wait()
        print("stopping", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.peers", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="show which peers can run here")
    sub.add_parser("install", help="install the Debian packages the peers need (as root)")
    start = sub.add_parser("start", help="start a peer and wait for SIGINT/SIGTERM")
    start.add_argument("name", choices=sorted(PEERS))
    start.add_argument("--workdir", help="keep files here (default: a temp dir removed on stop)")
    args = ap.parse_args(argv)
    if args.cmd == "install":
        from .install import install

        status, message = install()
        print(message, file=sys.stderr if status else sys.stdout)
        return status
    return cmd_list() if args.cmd == "list" else cmd_start(args.name, args.workdir)


if __name__ == "__main__":
    sys.exit(main())
