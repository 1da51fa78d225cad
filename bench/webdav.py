"""WebDAV: PROPFIND Depth 1 and GET rates of the simulator, WsgiDAV and Apache mod_dav, measured in one run.

    python bench/webdav.py [--files 100] [--size 1024] [--seconds 3] [--clients 4] [--no-peer]

The simulator runs as `wireproof serve` in a process of its own, as the peers do (`--in-process` runs it in
this one instead, where its event loop shares the GIL with the client threads). Every server gets the same
scratch collection: `--files` resources of `--size` octets, PUT under the
WebDAV endpoint (the simulator: alice's mailbox; the peers: their /dav/ root) and deleted afterwards. Then,
for `--seconds` each, `--clients` threads with one persistent connection each send
  - PROPFIND Depth: 1 of the collection, asking for displayname, getcontentlength, getlastmodified,
    getetag and resourcetype (a client's directory listing), and
  - GET of the resources in turn,
with Basic credentials on every request. A request counts when its whole response was read with the status
expected (207, 200); anything else stops the run with an error. Compare the ratios: the figures are from one
machine, in one run, with the servers sharing the CPU with the client.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from simulator import Simulator

PROPFIND = (b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/>'
            b"<D:getcontentlength/><D:getlastmodified/><D:getetag/><D:resourcetype/></D:prop></D:propfind>")


class Server:
    def __init__(self, label: str, url: str, user: str, password: str) -> None:
        parts = urlsplit(url)
        self.label, self.host, self.port = label, parts.hostname, parts.port or 80
        self.root = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, conn, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             expect: tuple[int, ...] = (200,)) -> bytes:
        conn.request(method, path, body=body, headers={"Authorization": self.auth, **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        if response.status not in expect:
            raise RuntimeError(f"{self.label}: {method} {path} answered {response.status} {response.reason}")
        return data


def prepare(server: Server, files: int, size: int) -> tuple[str, list[str]]:
    collection = f"{server.root}bench-{secrets.token_hex(4)}/"
    conn = server.connect()
    server.call(conn, "MKCOL", collection, expect=(201,))
    paths = [f"{collection}file-{n:04d}.txt" for n in range(files)]
    body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    for path in paths:
        server.call(conn, "PUT", path, body, {"Content-Type": "text/plain"}, expect=(201, 204))
    conn.close()
    return collection, paths


def cleanup(server: Server, collection: str) -> None:
    conn = server.connect()
    try:
        server.call(conn, "DELETE", collection, expect=(200, 204))
    finally:
        conn.close()


def rate(server: Server, seconds: float, clients: int, make_request) -> float:
    """Requests per second over `clients` threads for `seconds`; make_request(conn, n) does one request."""
    counts = [0] * clients
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)
    deadline: list[float] = []

    def worker(index: int) -> None:
        conn = server.connect()
        try:
            make_request(conn, index)  # the connection is open and warm before the clock starts
            start.wait()
            n = 0
            while time.perf_counter() < deadline[0]:
                make_request(conn, index + n * clients)
                n += 1
            counts[index] = n
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)
            if start.n_waiting:
                start.abort()
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    deadline.append(time.perf_counter() + 3600)
    try:
        start.wait(timeout=30)
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{server.label}: {errors[0]}") from errors[0]
    return sum(counts) / elapsed


def measure(server: Server, args) -> dict:
    collection, paths = prepare(server, args.files, args.size)
    try:
        listing = server.call(server.connect(), "PROPFIND", collection, PROPFIND,
                              {"Depth": "1", "Content-Type": "application/xml"}, expect=(207,))
        entries = len(re.findall(rb"</(?:[A-Za-z0-9_.-]+:)?response>", listing))
        propfind = rate(server, args.seconds, args.clients, lambda conn, n: server.call(
            conn, "PROPFIND", collection, PROPFIND, {"Depth": "1", "Content-Type": "application/xml"}, expect=(207,)))
        get = rate(server, args.seconds, args.clients,
                   lambda conn, n: server.call(conn, "GET", paths[n % len(paths)], expect=(200,)))
    finally:
        cleanup(server, collection)
    return {"label": server.label, "propfind": propfind, "get": get, "entries": entries}


@contextlib.contextmanager
def served_simulator():
    """`wireproof serve` in a process of its own, as the peers run: (WebDAV URL, user, password)."""
    with tempfile.TemporaryDirectory(prefix="wireproof-bench-") as tmp:
        profile = Path(tmp) / "profile.toml"
        child = subprocess.Popen([sys.executable, "-m", "conformance.cli", "serve", "--profile-out", str(profile)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
        try:
            deadline = time.monotonic() + 30
            while not profile.exists() or not profile.read_text():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the simulator did not start: {child.stderr.read().decode()[-500:]}")
                time.sleep(0.02)
            doc = tomllib.loads(profile.read_text())
            account = doc["accounts"][0]
            yield doc["endpoints"]["webdav"], account["user"], account["password"]
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--no-peer", action="store_true", help="the simulator only")
    ap.add_argument("--in-process", action="store_true",
                    help="run the simulator in this process (its loop then shares the GIL with the client threads)")
    args = ap.parse_args()
    rows = []
    if args.in_process:
        with Simulator() as sim:
            url = sim.profile()["endpoints"]["webdav"]
            rows.append(measure(Server("simulator (in-process)", url, "alice", "alice-pw"), args))
    else:
        with served_simulator() as (url, user, password):
            rows.append(measure(Server("simulator", url, user, password), args))
    if not args.no_peer:
        from conformance.peers import PeerUnavailable, start_peer

        for name in ("wsgidav", "apache-dav"):
            try:
                with start_peer(name) as peer:
                    account = peer.accounts[0]
                    server = Server(f"{peer.software}"[:32], peer.endpoints["webdav"], account.user,
                                    account.password)
                    rows.append(measure(server, args))
            except PeerUnavailable as exc:
                print(f"{name}: not measured ({exc})")
    base = rows[0]
    print(f"PROPFIND Depth 1 of a collection of {args.files} resources and GET of {args.size}-octet resources; "
          f"{args.clients} clients with persistent connections, {args.seconds:g} s each")
    print(f"{'server':32} {'entries':>7} {'PROPFIND/s':>10} {'GET/s':>8} {'PROPFIND x sim':>15} {'GET x sim':>10}")
    for r in rows:
        print(f"{r['label']:32} {r['entries']:7d} {r['propfind']:10.0f} {r['get']:8.0f} "
              f"{r['propfind'] / base['propfind']:15.2f} {r['get'] / base['get']:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
