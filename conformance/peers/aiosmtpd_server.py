"""Run aiosmtpd as a peer: `python -m conformance.peers.aiosmtpd_server --port P ...`.

Configured as an ordinary user of the library would: its Controller, its
Mailbox handler, STARTTLS from an ssl context, AUTH through an authenticator.
Every accepted message, whatever its recipients, goes into the one Maildir
given (aiosmtpd has no notion of local users); the peer serves that Maildir as
the first account's INBOX over Dovecot.

Prints `READY <port>` on stdout once listening, stops on SIGTERM or SIGINT.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


class PasswordAuthenticator:
    """aiosmtpd authenticator checking LoginPassword against a fixed user list."""

    def __init__(self, users: dict[str, str]):
        self.users = {u.encode(): p.encode() for u, p in users.items()}

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            expected = self.users.get(auth_data.login)
            if expected is not None and hmac.compare_digest(expected, auth_data.password):
                return AuthResult(success=True, auth_data=auth_data.login.decode())
        return AuthResult(success=False, handled=False)  # aiosmtpd replies 535


def parse_user(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not (user and sep):
        raise argparse.ArgumentTypeError(f"expected user:password, got {text!r}")
    return user, password


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.peers.aiosmtpd_server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True, help="picked by the parent (port 0 fails in 1.4.6)")
    ap.add_argument("--hostname", default="mx.wireproof.test", help="name in the banner and EHLO reply")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", type=parse_user, action="append", default=[], help="user:password, repeatable")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    os.makedirs(os.path.dirname(os.path.abspath(args.maildir)), exist_ok=True)
    controller = Controller(
        Mailbox(args.maildir),
        hostname=args.host,
        port=args.port,
        server_hostname=args.hostname,  # else socket.getfqdn(), which may wait on DNS
        tls_context=tls,  # STARTTLS
        require_starttls=False,
        auth_required=False,
        auth_require_tls=True,  # aiosmtpd's default: no AUTH before STARTTLS
        authenticator=PasswordAuthenticator(dict(args.user)),
    )

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    controller.start()
    try:
        print(f"READY {args.port}", flush=True)
        stop.wait()
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
