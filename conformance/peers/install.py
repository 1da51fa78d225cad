"""Installing the real peers on a Debian machine: `python -m conformance.peers install`.

Debian packages start their daemons on the standard ports as soon as they are installed; a
policy-rc.d that exits 101 stops that, so only the private instances the tests start ever run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGES = {  # binary -> Debian package
    "exim4": "exim4-daemon-light",
    "dovecot": "dovecot-imapd",
    "doveadm": "dovecot-core",
    "swaks": "swaks",
    "curl": "curl",  # an interop client of the simulator's tests
    "tshark": "tshark",  # reads back the --pcap export in the tests
    "chromium": "chromium",  # the report's browser test (Playwright drives Debian's Chromium)
    "saslpasswd2": "sasl2-bin",  # the INN peer's SASL password database (AUTHINFO SASL PLAIN)
    "apache2": "apache2",  # the WebDAV peer (mod_dav, mod_dav_fs ship with it)
    "litmus": "litmus",  # the WebDAV test suite the peers are sanity-checked with
}
EXTRA = ["dovecot-pop3d"]
POLICY = Path("/usr/sbin/policy-rc.d")
INND = Path("/usr/lib/news/bin/innd")  # inn2 keeps its daemons off PATH
INN_CONF = Path("/etc/news/inn.conf")


def missing() -> list[str]:
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    packages = [pkg for binary, pkg in PACKAGES.items() if not shutil.which(binary, path=path)]
    if not Path("/usr/lib/dovecot/pop3").exists():
        packages += EXTRA
    if not INND.exists():
        packages.append("inn2")
    return sorted(set(packages))


def _fix_inn2(env: dict) -> subprocess.CompletedProcess | None:
    """inn2's post-install step fails when the host name has no domain ("hostname does not resolve or domain
    not set in inn.conf"): give the system inn.conf a domain (the peer uses its own inn.conf) and configure
    the half-installed package again. None when there is nothing to fix."""
    if not INN_CONF.exists():
        return None
    text = INN_CONF.read_text()
    if not any(line.split(":", 1)[0].strip() == "domain" and line.split(":", 1)[1].strip()
               for line in text.splitlines() if ":" in line and not line.lstrip().startswith("#")):
        INN_CONF.write_text(text.rstrip("\n") + "\n# added by wireproof (python -m conformance.peers install)\n"
                            "domain: localdomain\n")
    return subprocess.run(["dpkg", "--configure", "-a"], env=env, capture_output=True, text=True)


def install() -> tuple[int, str]:
    """(exit status, message). Installs only what is missing."""
    todo = missing()
    if not todo:
        return 0, "peers: every package is installed (exim4, dovecot imap/pop3, inn2, apache2, litmus, swaks)"
    if os.geteuid() != 0:
        return 2, f"peers: installing {' '.join(todo)} needs root; run as root or `apt-get install -y {' '.join(todo)}`"
    if not shutil.which("apt-get"):
        return 2, f"peers: no apt-get here; install {' '.join(todo)} with this system's package manager"
    if not POLICY.exists():
        POLICY.write_text("#!/bin/sh\n# keep package installs from starting daemons on standard ports\nexit 101\n")
        POLICY.chmod(0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *todo]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0 and argv[1] == "install" and "inn2" in todo:
            done = _fix_inn2(env) or done
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            return 2, f"peers: `{' '.join(argv)}` failed ({done.returncode}):\n{tail}"
    return 0, f"peers: installed {' '.join(todo)}"
