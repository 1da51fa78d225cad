"""An acknowledged message survives kill -9: the store commits before the 250 after DATA goes out."""
from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
import tomllib

from simulator.store import Store


def wait_for(path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s"
        time.sleep(0.02)


def test_every_message_acknowledged_with_250_survives_kill_9_under_load(tmp_path):
    data, profile = tmp_path / "data", tmp_path / "profile.toml"
    child = subprocess.Popen([sys.executable, "-m", "conformance.cli", "serve", "--data", str(data),
                              "--profile-out", str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(profile, 20)
        endpoints = tomllib.loads(profile.read_text())["endpoints"]
        host, port = endpoints["smtp-1"].split("//")[1].rsplit(":", 1)
        acked: list[str] = []
        stop = threading.Event()

        def load(worker: int) -> None:
            n = 0
            while not stop.is_set():
                token = f"w{worker}-n{n}"
                n += 1
                try:
                    with smtplib.SMTP(host, int(port), timeout=5) as s:
                        s.sendmail("load@example.org", ["alice@wireproof.test"],
                                   f"Subject: {token}\r\n\r\n{token}\r\n".encode())
                    acked.append(token)  # sendmail returned: the server said 250 after the data
                except (OSError, smtplib.SMTPException):
                    return  # the server died under us; only acknowledged messages count

        threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)  # in the middle of the load, no chance to clean up
        child.wait(10)
        stop.set()
        for t in threads:
            t.join(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert len(acked) >= 60, f"only {len(acked)} messages acknowledged before the kill"
    store = Store(str(data / "store.sqlite"))
    try:
        stored = {store.body(i.url).split(b"\r\n\r\n", 1)[1].strip().decode()
                  for i in store.items("/exchange/alice/Inbox/")}
    finally:
        store.close()
    lost = [token for token in acked if token not in stored]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged messages lost: {lost[:5]}"
