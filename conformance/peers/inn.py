"""INN 2.7 (NNTP): a private innd + nnrpd tree under the workdir, on its own loopback port.

Every INN tool reads `$INNCONF`, so the whole server (configuration, active file, history, spool,
overview, logs, control socket) lives under <workdir>/inn and nothing in /etc/news or /var/spool/news is
used. innd runs as user news (setpriv) in the foreground; reader connections are handed to nnrpd (nothing
is listed in incoming.conf, so no connection counts as a peer feed). readers.conf lets 127.0.0.1 read and
post without logging in, and lets the account log in with AUTHINFO USER/PASS (ckpasswd over a crypt(3)
password file). AUTHINFO SASL PLAIN goes through Cyrus SASL and a sasldb of its own (saslpasswd2, Debian's sasl2-bin).
STARTTLS comes from inn.conf's tls* settings and the peer's test CA.

Scratch groups are created with `ctlinnd newgroup` once innd is up. Stopping: `ctlinnd shutdown`, then
the PID (SIGTERM, SIGKILL) if innd is still there; the temporary tree is removed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from .base import (HOST, LOCAL_DOMAIN, Account, Peer, PeerStartError, PeerUnavailable, Process, _q, free_ports,
                   make_dir, need_root, stop_stragglers, wait_for_ports, write_file)

INN_BIN = Path("/usr/lib/news/bin")
NEWS = "news"
GROUPS = ("wireproof.test", "wireproof.test.posting")  # postable scratch groups, given to the suite
READONLY_GROUP = "wireproof.test.readonly"  # exists, no local posting ("n")
CTLINND_TIMEOUT = 15.0

INN_CONF = """\
# wireproof peer: a private INN tree. Every path is under {dir}.
organization: "wireproof INN peer"
pathhost: {pathhost}
domain: {domain}
server: {host}
bindaddress: {host}
port: {port}
mta: "/bin/true %s"
ovmethod: tradindexed
hismethod: hisv6
enableoverview: true
storeonxref: true
wireformat: true
artcutoff: 10
docancels: "require-auth"
pgpverify: false
allownewnews: true
noreader: false
readerswhenstopped: false
nnrpdcheckart: true
nnrpdloadlimit: 0
maxconnections: 0
nicekids: 0
nicennrpd: 0
doinnwatch: false
logipaddr: true
initialtimeout: 30
clienttimeout: 300
addinjectiondate: true
addinjectionpostinghost: true
checkincludedtext: false
tlscafile: {tls_ca}
tlscertfile: {tls_cert}
tlskeyfile: {tls_key}
pathnews: {dir}
pathbin: {bin}
pathcontrol: {bin}/control
pathfilter: {dir}/filter
pathdb: {dir}/db
pathetc: {dir}/etc
pathrun: {dir}/run
pathlog: {dir}/log
pathhttp: {dir}/http
pathtmp: {dir}/tmp
pathspool: {dir}/spool
patharticles: {dir}/spool/articles
pathoverview: {dir}/spool/overview
pathoutgoing: {dir}/spool/outgoing
pathincoming: {dir}/spool/incoming
patharchive: {dir}/spool/archive
"""

READERS_CONF = """\
# wireproof peer: readers from 127.0.0.1 read and post without logging in (identity <localhost>);
# the account may log in with AUTHINFO USER/PASS, checked by ckpasswd against a crypt(3) password file.
auth "localhost" {{
    hosts: "127.0.0.1, localhost, ::1"
    default: "<localhost>"
}}
auth "accounts" {{
    hosts: "127.0.0.1, localhost, ::1"
    auth: "ckpasswd -f {passwd}"
}}
access "everyone" {{
    users: "*"
    newsgroups: "*"
    access: RPAN
}}
"""

SASL_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {db}
mech_list: PLAIN LOGIN
"""

ACTIVE = """\
control 0000000000 0000000001 n
control.cancel 0000000000 0000000001 n
junk 0000000000 0000000001 n
"""

NEWSFEEDS = "ME:*::\n"
STORAGE_CONF = """\
method tradspool {
    newsgroups: *
    class: 0
}
"""
EXPIRE_CTL = "/remember/:10\n*:A:never:never:never\n"


def check_inn() -> None:
    for name in ("innd", "nnrpd", "ctlinnd", "makedbz", "auth/passwd/ckpasswd"):
        if not (INN_BIN / name).exists():
            raise PeerUnavailable(f"INN's {name} not found in {INN_BIN}: apt-get install -y inn2 "
                                  "(or python -m conformance.peers install)")
    if not shutil.which("setpriv"):
        raise PeerUnavailable("setpriv not found: apt-get install -y util-linux")
    need_root("INN")


def _crypt(password: str) -> str:
    """A SHA-512 crypt(3) hash, as ckpasswd -f expects (the password file is user:hash lines)."""
    done = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True,
                          timeout=10)
    if done.returncode != 0:
        raise PeerStartError(f"openssl passwd -6 failed: {done.stderr.strip()}")
    return done.stdout.strip()


class InnPeer(Peer):
    name = "inn"
    has_smtp = False

    @classmethod
    def check(cls) -> None:
        check_inn()

    def __init__(self, workdir=None):
        super().__init__(workdir)
        self.accounts = [Account("alice", "alice-pw", f"alice@{LOCAL_DOMAIN}")]
        self.groups = list(GROUPS)
        self.dir = self.workdir / "inn"
        self.conf = self.dir / "etc" / "inn.conf"
        # nnrpd's Cyrus SASL reads <SASL_CONF_PATH>/INN.conf (innd passes its environment on to nnrpd).
        self.env = dict(os.environ, INNCONF=str(self.conf), HOME=str(self.dir), SASL_CONF_PATH=str(self.dir / "sasl"))
        self.innd: Process | None = None

    # --- life cycle ---------------------------------------------------------------------------------------

    def _start(self) -> None:
        (port,) = free_ports(1)
        self._write_tree(port)
        self.innd = Process("innd", self._as_news([str(INN_BIN / "innd"), "-d", "-f"]), self.dir / "log" / "innd.out",
                            extra_logs=(self.dir / "log" / "news.err", self.dir / "log" / "news.notice"),
                            env=self.env, cwd=str(self.dir))
        self._procs.append(self.innd)
        wait_for_ports([port], [self.innd])
        self._wait_ready()
        for group in self.groups:
            self.ctlinnd("newgroup", group, "y", "wireproof")
        self.ctlinnd("newgroup", READONLY_GROUP, "n", "wireproof")
        self.software = f"INN {self._version()}"
        self.endpoints = {"nntp": f"nntp://{HOST}:{port}"}

    def stop(self) -> None:
        if self._stopped:
            return
        if self.innd is not None and self.innd.poll() is None:
            try:
                self.ctlinnd("shutdown", "wireproof peer stopping", check=False, timeout=5.0)
                self.innd.popen.wait(5.0)
            except (subprocess.TimeoutExpired, PeerStartError, OSError):
                pass  # Process.stop below signals the PID
        super().stop()
        stop_stragglers(str(self.dir))

    # --- helpers ------------------------------------------------------------------------------------------

    def _as_news(self, argv: list[str]) -> list[str]:
        return ["setpriv", f"--reuid={NEWS}", f"--regid={NEWS}", "--init-groups", *argv]

    def ctlinnd(self, *args: str, check: bool = True, timeout: float = CTLINND_TIMEOUT) -> str:
        done = subprocess.run(self._as_news([str(INN_BIN / "ctlinnd"), "-s", "-t", str(int(timeout)), *args]),
                              env=self.env, capture_output=True, text=True, timeout=timeout + 5, cwd=str(self.dir))
        if check and done.returncode != 0:
            tail = self.innd.log_tail() if self.innd else ""
            raise PeerStartError(f"ctlinnd {' '.join(args)} failed ({done.returncode}): "
                                 f"{(done.stdout + done.stderr).strip()}\n{tail}")
        return done.stdout

    def _wait_ready(self) -> None:
        """innd listens before it has opened its control channel; wait until ctlinnd gets an answer."""
        deadline = time.monotonic() + 10.0
        while True:
            done = subprocess.run(self._as_news([str(INN_BIN / "ctlinnd"), "-s", "-t", "2", "mode"]), env=self.env,
                                  capture_output=True, text=True, timeout=10, cwd=str(self.dir))
            if done.returncode == 0:
                return
            if self.innd.poll() is not None or time.monotonic() > deadline:
                raise PeerStartError(f"innd does not answer ctlinnd: {(done.stdout + done.stderr).strip()}\n"
                                     f"{self.innd.log_tail()}")
            time.sleep(0.05)

    def _version(self) -> str:
        done = subprocess.run(self._as_news([str(INN_BIN / "innconfval"), "-v"]), env=self.env,
                              capture_output=True, text=True, timeout=10)
        words = (done.stdout or done.stderr).split()
        return next((w for w in words if w[:1].isdigit()), "2.7")

    def _write_tree(self, port: int) -> None:
        d = make_dir(self.dir, owner=NEWS)
        for sub in ("etc", "db", "run", "log", "http", "tmp", "filter", "spool", "spool/articles",
                    "spool/overview", "spool/outgoing", "spool/incoming", "spool/archive"):
            make_dir(d / sub, owner=NEWS, mode=0o775 if sub == "run" else 0o755)
        tls = make_dir(d / "tls", owner=NEWS, mode=0o750)
        # nnrpd reads the key as user news and wants it private to news.
        for src, name, mode in ((self.tls.cafile, "ca.pem", 0o644), (self.tls.certfile, "server.pem", 0o644),
                                (self.tls.keyfile, "server.key", 0o600)):
            shutil.copyfile(src, tls / name)
            (tls / name).chmod(mode)
            os.chown(tls / name, *_news_ids())
        self._write_sasl(make_dir(d / "sasl", owner=NEWS, mode=0o750))
        passwd = d / "etc" / "passwd"
        write_file(passwd, "".join(f"{a.user}:{_crypt(a.password)}\n" for a in self.accounts), mode=0o640)
        files = {
            "etc/inn.conf": INN_CONF.format(dir=d, bin=INN_BIN, host=HOST, port=port, domain=LOCAL_DOMAIN,
                                            pathhost=f"news.{LOCAL_DOMAIN}", tls_ca=tls / "ca.pem",
                                            tls_cert=tls / "server.pem", tls_key=tls / "server.key"),
            "etc/readers.conf": READERS_CONF.format(passwd=passwd),
            "etc/newsfeeds": NEWSFEEDS,
            "etc/incoming.conf": "# no peers: every connection is a reader, handed to nnrpd\n",
            "etc/storage.conf": STORAGE_CONF,
            "etc/expire.ctl": EXPIRE_CTL,
            "etc/moderators": "",
            "etc/distrib.pats": "",
            "etc/distributions": "",
            "etc/subscriptions": "",
            "etc/localgroups": "",
            "etc/control.ctl": "",
            "etc/control.ctl.local": "",
            "etc/inn-secrets.conf": "",
            "etc/passwd.nntp": "",
            "db/active": ACTIVE,
            "db/active.times": "",
            "db/newsgroups": "",
            "db/history": "",
        }
        for rel, text in files.items():
            write_file(d / rel, text)
        for path in d.rglob("*"):
            if path.parent.name != "tls":
                os.chown(path, *_news_ids())
        done = subprocess.run(self._as_news([str(INN_BIN / "makedbz"), "-i", "-o"]), env=self.env,
                              capture_output=True, text=True, cwd=str(d / "db"), timeout=30)
        if done.returncode != 0:
            raise PeerStartError(f"makedbz -i -o failed: {(done.stdout + done.stderr).strip()}")

    def _write_sasl(self, sasl: Path) -> None:
        """AUTHINFO SASL: Cyrus SASL checks passwords against a sasldb of our own (saslpasswd2 writes it)."""
        db = sasl / "sasldb2"
        write_file(sasl / "INN.conf", SASL_CONF.format(db=db))
        if shutil.which("saslpasswd2", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            for a in self.accounts:
                done = subprocess.run(["saslpasswd2", "-f", str(db), "-c", "-p", a.user], input=a.password,
                                      capture_output=True, text=True, timeout=10)
                if done.returncode != 0:
                    raise PeerStartError(f"saslpasswd2 for {a.user} failed: {(done.stdout + done.stderr).strip()}")
            os.chown(db, *_news_ids())
            db.chmod(0o640)

    def start(self) -> "Peer":
        """Like Peer.start, with an NNTP profile: no read-back mailbox, an [nntp] section."""
        from .base import make_tls

        try:
            self.tls = make_tls(self.workdir)
            self._start()
            write_file(self.profile_path, self.render_profile())
        except BaseException:
            self.stop()
            raise
        return self

    def render_profile(self) -> str:
        out = [f"name = {_q(self.name)}", f"software = {_q(self.software)}", "", "[endpoints]"]
        out += [f"{k} = {_q(v)}" for k, v in self.endpoints.items()]
        out += ["", "[nntp]", "groups = [" + ", ".join(_q(g) for g in self.groups) + "]", "post = true"]
        out += ["", "[tls]", f"cafile = {_q(str(self.tls.cafile))}"]
        for a in self.accounts:
            out += ["", "[[accounts]]", f"user = {_q(a.user)}", f"password = {_q(a.password)}",
                    f"address = {_q(a.address)}"]
        return "\n".join(out) + "\n"


def _news_ids() -> tuple[int, int]:
    from .base import ids

    return ids(NEWS)
