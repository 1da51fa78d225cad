"""The embedded simulator as a target, and `wireproof serve`.

This is the one module of the harness that imports `simulator`, and only to start it: the checks talk to
it over sockets like to any other server, so the harness stays an independent oracle.
"""
from __future__ import annotations

import contextlib
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import tomli_w

from .errors import SetupError, UsageError


def _simulator(directory_file: str | None, demo: bool, data: str | None, seed: int = 0):
    from simulator import Simulator, SimulatorError
    from simulator.demo import build_demo
    from simulator.directory_toml import load_toml

    if directory_file and demo:
        raise UsageError("--directory and --demo exclude each other; choose one")
    try:
        directory = load_toml(directory_file) if directory_file else build_demo(seed) if demo else None
    except FileNotFoundError:
        raise UsageError(f"directory file {directory_file} does not exist; give a TOML directory "
                         "(see docs/directory-format.md)") from None
    except ValueError as exc:
        raise UsageError(f"directory file {directory_file}: {exc}") from None
    try:
        return Simulator(directory, data=data).start()
    except SimulatorError as exc:
        raise SetupError(str(exc)) from None


@contextlib.contextmanager
def embedded_simulator(directory_file: str | None = None, demo: bool = False,
                       data: str | None = None) -> Iterator[tuple[object, Path]]:
    """Start the simulator in this process; yields it and the path of a target profile for it."""
    sim = _simulator(directory_file, demo, data)
    try:
        with tempfile.TemporaryDirectory(prefix="wireproof-sim-profile-") as tmp:
            path = Path(tmp) / "profile.toml"
            path.write_text(tomli_w.dumps(sim.profile()), encoding="utf-8")
            yield sim, path
    finally:
        sim.stop()


def serve(directory_file: str | None, demo: bool, data: str | None, profile_out: str | None) -> int:
    """Run the simulator in the foreground until Ctrl-C or SIGTERM, printing what a client needs."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sim = _simulator(directory_file, demo, data)
    try:
        profile = sim.profile()
        print(f"wireproof simulator {sim.hostname} up in {sim.started_in * 1000:.0f} ms"
              + (f", store in {data}" if data else ", store in memory"))
        for sid, url in sim.endpoints.items():
            host = sim.hosts[sid]
            print(f"  {sid:10} {url:28} {host.config.name} (TLS: {host.config.tls})")
        for account in profile["accounts"][:10]:
            print(f"  account {account['user']} / {account['password']} <{account['address']}>")
        if len(profile["accounts"]) > 10:
            print(f"  ... and {len(profile['accounts']) - 10} more accounts")
        print(f"  CA certificate {sim.cafile}")
        if profile_out:
            Path(profile_out).write_text(tomli_w.dumps(profile), encoding="utf-8")
            print(f"  target profile {profile_out} (wireproof run --profile {profile_out})")
        print("Ctrl-C stops it.", flush=True)
        stop.wait()
        print("stopping", flush=True)
    finally:
        sim.stop()
    return 0
