"""`wireproof serve`: prints what a client needs, serves, and stops cleanly on Ctrl-C."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import tomllib


def test_serve_demo_prints_its_endpoints_serves_and_stops_cleanly_on_ctrl_c(tmp_path):
    profile = tmp_path / "profile.toml"
    child = subprocess.Popen([sys.executable, "-m", "conformance.cli", "serve", "--demo", "--profile-out",
                              str(profile)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not profile.exists():
            assert time.monotonic() < deadline and child.poll() is None, child.stderr.read()
            time.sleep(0.02)
        endpoints = tomllib.loads(profile.read_text())["endpoints"]
        assert sorted(endpoints) == ["imap-1", "imap-2", "pop3-1", "pop3-2", "smtp-1", "smtp-2", "webdav"]  # the demo
        host, port = endpoints["smtp-1"].split("//")[1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            assert s.recv(200).startswith(b"220 ")
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "smtp-1" in out and "Default SMTP Virtual Server" in out and "account " in out
    assert out.rstrip().endswith("stopping")


def test_serve_refuses_a_missing_directory_file_with_exit_2():
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "serve", "--directory", "/nonexistent.toml"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "does not exist" in done.stderr
