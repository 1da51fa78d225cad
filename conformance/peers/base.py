"""Shared plumbing for real peer servers: ports, processes, workdirs, TLS, profiles.

Every peer binds 127.0.0.1 only, on ports picked here, and is tracked by the
PIDs it was started with, so stopping it never depends on a process name.
"""
from __future__ import annotations

import abc
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
LOCAL_DOMAIN = "wireproof.test"
RELAY_DOMAIN = "example.com"  # non-local; only ever used for open-relay probes
START_TIMEOUT = 10.0  # seconds until every port must accept connections
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL


class PeerUnavailable(RuntimeError):
    """The peer cannot run here: a binary is missing or root is needed."""


class PeerStartError(RuntimeError):
    """The peer was started but did not come up; the message has its log tail."""


@dataclass(frozen=True)
class Account:
    user: str
    password: str
    address: str


def default_accounts() -> list[Account]:
    return [Account(u, f"{u}-pw", f"{u}@{LOCAL_DOMAIN}") for u in ("alice", "bob")]


# --- checks -----------------------------------------------------------------

def need_binary(name: str, package: str) -> str:
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if not path:
        raise PeerUnavailable(f"{name} not found: apt-get install -y {package}")
    return path


def need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise PeerUnavailable(f"{what} must be started as root (it switches to its own users)")


def version_line(argv: list[str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    return (out.stdout or out.stderr).strip().splitlines()[0]


# --- ports ------------------------------------------------------------------

def free_ports(n: int) -> list[int]:
    """n distinct free ports on 127.0.0.1 (all held open at once, then released).

    There is a small window before the server binds them; start_peer retries
    once when a server reports the address in use.
    """
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_accepts(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def listening_ports(pids: list[int]) -> set[int]:
    """TCP ports in LISTEN state whose socket is held by one of pids (Linux /proc)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            pass
    ports = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_for_ports(ports: list[int], procs: list["Process"], timeout: float = START_TIMEOUT) -> None:
    """Return once the processes listen on every port; fail early if one dies.

    A listening socket accepts connections (the kernel completes them), so this
    is the readiness test, without connecting: a probe connection makes Dovecot
    spawn a login process, and stopping it while that process still starts up
    takes ~5 s. Matching socket inodes also proves the port is ours, not a
    process that grabbed it after free_ports() released it.
    """
    deadline = time.monotonic() + timeout
    while True:
        for proc in procs:
            if proc.poll() is not None:
                raise PeerStartError(
                    f"{proc.name} exited with status {proc.returncode} during start-up\n{proc.log_tail()}")
        pending = sorted(set(ports) - listening_ports([p.pid for p in procs]))
        if not pending:
            return
        if time.monotonic() > deadline:
            tails = "\n".join(p.log_tail() for p in procs)
            raise PeerStartError(f"ports {pending} not listening after {timeout:.0f} s\n{tails}")
        time.sleep(0.02)


# --- processes --------------------------------------------------------------

def _pids_in_group(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def pids_with_arg(marker: str) -> list[int]:
    """PIDs whose command line contains marker (e.g. our own config path)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in pids if _alive(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # zombies are dead
    except OSError:
        return False


class Process:
    """One server process in its own session (pgid == pid), logging to a file."""

    def __init__(self, name: str, argv: list[str], log_path: Path, stdout=None,
                 extra_logs: tuple[Path, ...] = (), **popen_kw):
        self.name = name
        self.log_path = log_path
        self.extra_logs = extra_logs  # the server's own log files, shown on failure
        log = open(log_path, "ab")
        try:
            self.popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=stdout or log, stderr=log,
                start_new_session=True, close_fds=True, **popen_kw)
        finally:
            log.close()
        self.pid = self.popen.pid

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def log_tail(self, lines: int = 15) -> str:
        out = []
        for path in (self.log_path, *self.extra_logs):
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            if text:
                out.append(f"--- tail of {path} ---\n" + "\n".join(text))
        return "\n".join(out) or f"({self.name} wrote no log)"

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, bounded wait, SIGKILL; then clear any child left in its group."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        leftovers = _pids_in_group(self.pid)
        _signal_all(leftovers, signal.SIGTERM)
        _signal_all(_wait_gone(leftovers, timeout), signal.SIGKILL)


def stop_stragglers(marker: str, timeout: float = STOP_TIMEOUT) -> None:
    """Stop processes that left our process group but still run our config."""
    pids = pids_with_arg(marker)
    _signal_all(pids, signal.SIGTERM)
    _signal_all(_wait_gone(pids, timeout), signal.SIGKILL)


# --- workdir and ownership --------------------------------------------------

def ids(user: str) -> tuple[int, int]:
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


def gid(group: str) -> int:
    return grp.getgrnam(group).gr_gid


def make_dir(path: Path, owner: str | None = None, mode: int = 0o755) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    if owner:
        os.chown(path, *ids(owner))
    return path


def write_file(path: Path, text: str, mode: int = 0o644, group: str | None = None) -> Path:
    path.write_text(text)
    path.chmod(mode)
    if group:
        os.chown(path, 0, gid(group))
    return path


class Workdir:
    """A peer's directory tree; a temp one (workdir=None) is removed on cleanup."""

    def __init__(self, path: str | os.PathLike | None):
        self.temporary = path is None
        raw = tempfile.mkdtemp(prefix="wireproof-peer-") if path is None else path
        # Resolved, because Exim matches its -C path literally against trusted_configs.
        self.path = Path(raw).resolve()
        # Servers switch to their own users (mail, Debian-exim, dovecot): they must traverse it.
        make_dir(self.path, mode=0o755)

    def cleanup(self) -> None:
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)


# --- TLS --------------------------------------------------------------------

@dataclass(frozen=True)
class TlsFiles:
    cafile: Path
    certfile: Path  # leaf first, then any intermediates
    keyfile: Path


def make_tls(workdir: Path) -> TlsFiles:
    import trustme  # imported late so `list` works without it

    tls = make_dir(workdir / "tls")
    ca = trustme.CA(organization_name="wireproof test CA")
    leaf = ca.issue_cert("localhost", "127.0.0.1", "mx." + LOCAL_DOMAIN)
    files = TlsFiles(tls / "ca.pem", tls / "server.pem", tls / "server.key")
    ca.cert_pem.write_to_path(str(files.cafile))
    files.certfile.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(files.keyfile))
    # A throwaway test key, read by servers under three different users
    # (root, Debian-exim, mail): world-readable inside a temp tree is acceptable.
    for f in (files.cafile, files.certfile, files.keyfile):
        f.chmod(0o644)
    return files


# --- profile ----------------------------------------------------------------

def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_profile(name: str, software: str, endpoints: dict[str, str], cafile: Path,
                   accounts: list[Account], smtp: bool, pop3_fill: str | None = None) -> str:
    """The TOML target profile (format fixed by the brief; tomllib reads it back). `pop3_fill` names the
    channel through which the POP3 checks put messages into a maildrop ("smtp" or "imap")."""
    imap = endpoints["imap"].removeprefix("imap://") if "imap" in endpoints else None  # WebDAV peers: none
    first = accounts[0]
    out = [f"name = {_q(name)}", f"software = {_q(software)}", "", "[endpoints]"]
    out += [f"{k} = {_q(v)}" for k, v in endpoints.items()]
    if smtp:
        out += ["", "[smtp]", f"local_domain = {_q(LOCAL_DOMAIN)}", f"relay_domain = {_q(RELAY_DOMAIN)}"]
    if pop3_fill:
        out += ["", "[pop3]", f"fill = {_q(pop3_fill)}"]
    out += ["", "[tls]", f"cafile = {_q(str(cafile))}"]
    for a in accounts:
        out += ["", "[[accounts]]", f"user = {_q(a.user)}", f"password = {_q(a.password)}",
                f"address = {_q(a.address)}"]
    if imap is None:
        return "\n".join(out + [""])
    out += ["", "[readback]", f"url = {_q(f'imap://{first.user}:{first.password}@{imap}/INBOX')}",
            f"address = {_q(first.address)}", ""]
    return "\n".join(out)


# --- the peer object --------------------------------------------------------

class Peer(abc.ABC):
    """A started set of server processes plus what a client needs to use them."""

    name = ""
    has_smtp = True  # writes the [smtp] profile section
    pop3_fill: str | None = None  # writes [pop3] fill: how POP3 checks fill a maildrop ("smtp" or "imap")

    @classmethod
    @abc.abstractmethod
    def check(cls) -> None:
        """Raise PeerUnavailable if this peer cannot run here."""

    def __init__(self, workdir: str | os.PathLike | None = None):
        self.check()
        self._workdir = Workdir(workdir)
        self.workdir = self._workdir.path
        self.local_domain = LOCAL_DOMAIN
        self.relay_domain = RELAY_DOMAIN
        self.accounts = default_accounts()
        self.software = ""
        self.endpoints: dict[str, str] = {}
        self.profile_path = self.workdir / "profile.toml"
        self.tls: TlsFiles | None = None
        self._procs: list[Process] = []
        self._stopped = False

    @property
    def cafile(self) -> str:
        return str(self.tls.cafile)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def start(self) -> "Peer":
        try:
            self.tls = make_tls(self.workdir)
            self._start()
            write_file(self.profile_path, render_profile(
                self.name, self.software, self.endpoints, self.tls.cafile, self.accounts, self.has_smtp,
                self.pop3_fill))
        except BaseException:
            self.stop()
            raise
        return self

    @abc.abstractmethod
    def _start(self) -> None:
        """Start the processes and fill in software and endpoints."""

    def _after_stop(self) -> None:
        """Hook: undo what _start did outside the processes."""

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            for proc in reversed(self._procs):  # the SMTP side first, then its mail store
                proc.stop()
            self._after_stop()
        finally:
            self._workdir.cleanup()

    def __enter__(self) -> "Peer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.software} {self.endpoints}>"
