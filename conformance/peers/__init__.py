"""Real third-party peer servers (Exim, aiosmtpd, Dovecot) on 127.0.0.1, for tests and CI.

    with start_peer("exim") as peer:
        peer.endpoints["smtp"], peer.accounts[0], peer.cafile, peer.profile_path
"""
from __future__ import annotations

import os

from .aiosmtpd import AiosmtpdPeer
from .apache import ApachePeer
from .base import Account, Peer, PeerStartError, PeerUnavailable
from .dovecot import DovecotPeer
from .exim import EximPeer
from .inn import InnPeer
from .wsgidav import WsgidavPeer

__all__ = ["start_peer", "PEERS", "PeerUnavailable", "PeerStartError", "Peer", "Account"]

PEERS: dict[str, type[Peer]] = {"exim": EximPeer, "aiosmtpd": AiosmtpdPeer, "dovecot": DovecotPeer, "inn": InnPeer,
                                "apache-dav": ApachePeer, "wsgidav": WsgidavPeer}


def start_peer(name: str, workdir: str | os.PathLike | None = None) -> Peer:
    """Start the named peer and return it once every port accepts connections.

    Use it as a context manager (or call .stop()). Raises PeerUnavailable when the
    peer cannot run here, PeerStartError when it started but did not come up.
    """
    try:
        cls = PEERS[name]
    except KeyError:
        raise ValueError(f"unknown peer {name!r}; known: {', '.join(PEERS)}") from None
    for attempt in (1, 2):
        try:
            return cls(workdir).start()
        except PeerStartError as exc:
            # Ports are picked before the server binds them; another process may
            # take one in between. Retry once with fresh ports.
            if attempt == 2 or "in use" not in str(exc):
                raise
    raise AssertionError("unreachable")
