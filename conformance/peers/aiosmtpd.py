"""aiosmtpd (SMTP, PyPI) as a peer: aiosmtpd_server.py in a subprocess, Dovecot for read-back.

aiosmtpd writes every message it accepts into accounts[0]'s Maildir, whatever
the recipients, and Dovecot serves that Maildir as accounts[0]'s INBOX.
"""
from __future__ import annotations

import importlib.metadata
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from .base import (HOST, START_TIMEOUT, STOP_TIMEOUT, Peer, PeerStartError, PeerUnavailable,
                   Process, free_ports, make_dir, wait_for_ports)
from .dovecot import Dovecot, check_dovecot

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # so the child can import conformance


def _read_ready(proc: Process, timeout: float) -> str:
    """The child's first stdout line, or PeerStartError (with its log) if none comes."""
    sel = selectors.DefaultSelector()
    sel.register(proc.popen.stdout, selectors.EVENT_READ)
    try:
        line = proc.popen.stdout.readline().decode().strip() if sel.select(timeout) else None
    finally:
        sel.close()
        proc.popen.stdout.close()  # it prints nothing after READY
    if line:
        return line
    if line is None:
        raise PeerStartError(f"aiosmtpd did not print READY within {timeout:.0f} s\n{proc.log_tail()}")
    try:
        proc.popen.wait(STOP_TIMEOUT)  # stdout closed: it is exiting
    except subprocess.TimeoutExpired:
        pass
    raise PeerStartError(f"aiosmtpd exited with status {proc.returncode} before READY\n{proc.log_tail()}")


class AiosmtpdPeer(Peer):
    name = "aiosmtpd"
    # Its handler stores every message in accounts[0]'s Maildir whatever the recipient, so SMTP cannot
    # fill another account's maildrop: the POP3 checks APPEND over IMAP instead.
    pop3_fill = "imap"

    @classmethod
    def check(cls) -> None:
        try:
            importlib.metadata.version("aiosmtpd")
        except importlib.metadata.PackageNotFoundError:
            raise PeerUnavailable(
                f"aiosmtpd not installed for {sys.executable}: pip install aiosmtpd") from None
        check_dovecot()  # read-back store

    def _start(self) -> None:
        dovecot = Dovecot(self.workdir, self.tls, self.accounts)
        self._procs.append(dovecot.start())
        self.software = "aiosmtpd " + importlib.metadata.version("aiosmtpd")

        # The child runs as us (root): user mail cannot reach this interpreter.
        # Pre-creating the Maildir as mail keeps it usable by Dovecot; the files
        # aiosmtpd adds are mode 0644 inside it.
        maildir = dovecot.maildir(self.accounts[0].user)
        for path in (maildir.parent, maildir, maildir / "cur", maildir / "new", maildir / "tmp"):
            make_dir(path, owner="mail", mode=0o700)

        (port,) = free_ports(1)
        d = make_dir(self.workdir / "aiosmtpd")
        argv = [sys.executable, "-m", "conformance.peers.aiosmtpd_server", "--host", HOST,
                "--port", str(port), "--hostname", f"mx.{self.local_domain}", "--maildir", str(maildir),
                "--cert", str(self.tls.certfile), "--key", str(self.tls.keyfile)]
        argv += [x for a in self.accounts for x in ("--user", f"{a.user}:{a.password}")]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p))
        proc = Process("aiosmtpd", argv, d / "aiosmtpd.log", stdout=subprocess.PIPE, env=env)
        self._procs.append(proc)

        deadline = time.monotonic() + START_TIMEOUT
        line = _read_ready(proc, START_TIMEOUT)
        if line != f"READY {port}":
            raise PeerStartError(f"aiosmtpd printed {line!r}, expected 'READY {port}'\n{proc.log_tail()}")
        wait_for_ports([port], [proc], timeout=max(deadline - time.monotonic(), 1.0))
        self.endpoints = {"smtp": f"smtp://{HOST}:{port}", **dovecot.endpoints}
