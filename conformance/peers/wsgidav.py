"""WsgiDAV 4 (WebDAV, PyPI) on cheroot, started as `wsgidav --config FILE`, serving <workdir>/wsgidav/root as /dav/.

The configuration turns on what a WebDAV class 2 server needs and WsgiDAV leaves off by default: a property
manager (`property_manager: true`; without it PROPPATCH fails) and lock storage. Basic authentication with
the peer's accounts (no Digest, so a client that offers Basic is not sent elsewhere); the HTML directory
browser is off, so GET on a collection is what WsgiDAV itself answers.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
from pathlib import Path

from .base import HOST, Peer, PeerUnavailable, Process, free_ports, make_dir, wait_for_ports, write_file


class WsgidavPeer(Peer):
    name = "wsgidav"
    has_smtp = False
    auth = True

    @classmethod
    def check(cls) -> None:
        for dist in ("wsgidav", "cheroot"):
            try:
                importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                raise PeerUnavailable(f"{dist} not installed for {sys.executable}: pip install wsgidav cheroot") \
                    from None
        if not _wsgidav_command():
            raise PeerUnavailable(f"the wsgidav command is not next to {sys.executable}: pip install wsgidav")

    def _start(self) -> None:
        d = make_dir(self.workdir / "wsgidav")
        root = make_dir(d / "root")
        (port,) = free_ports(1)
        users = {a.user: {"password": a.password} for a in self.accounts}
        config = {
            "host": HOST,
            "port": port,
            "server": "cheroot",
            "provider_mapping": {"/dav": str(root)},
            "property_manager": True,
            "lock_storage": True,
            "http_authenticator": {"domain_controller": None, "accept_basic": True, "accept_digest": False,
                                   "default_to_digest": False},
            "simple_dc": {"user_mapping": {"*": users if self.auth else True}},
            "dir_browser": {"enable": False},
            "verbose": 2,
            "logging": {"enable_loggers": []},
        }
        # JSON is YAML: WsgiDAV reads the file with its YAML loader.
        conf = write_file(d / "wsgidav.yaml", json.dumps(config, indent=1))
        self.software = "WsgiDAV " + importlib.metadata.version("wsgidav") + " (cheroot " + \
            importlib.metadata.version("cheroot") + ")"
        proc = Process("wsgidav", [_wsgidav_command(), "--config", str(conf)], d / "wsgidav.log")
        self._procs.append(proc)
        wait_for_ports([port], [proc])
        self.endpoints = {"webdav": f"http://{HOST}:{port}/dav/"}


def _wsgidav_command() -> str | None:
    """The wsgidav console script of this interpreter's environment (else the one on PATH)."""
    here = Path(sys.executable).parent / "wsgidav"
    if here.exists():
        return str(here)
    return shutil.which("wsgidav", path=os.environ.get("PATH", ""))
