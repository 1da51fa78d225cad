"""Dovecot 2.3 (IMAP4 + POP3) from its own config file, serving <workdir>/mail/%u/Maildir.

Also the read-back store for the SMTP peers: they deliver into the same maildirs.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .base import (HOST, Account, Peer, PeerUnavailable, Process, TlsFiles, free_ports, make_dir,
                   need_binary, need_root, version_line, wait_for_ports, write_file)

DH_PARAMS = Path("/usr/share/dovecot/dh.pem")  # shipped by dovecot-core; Debian sets ssl_dh to it

CONF = """\
# wireproof peer: a private Dovecot instance (own names and dirs, so it never
# clashes with a system Dovecot or another peer).
instance_name = {instance}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
# No metrics: nothing reads them, and a login process that starts just
# before shutdown would wait 5 s for the stats process (and so would stop()).
stats_writer_socket_path =
listen = {host}
protocols = imap pop3

ssl = yes
ssl_cert = <{tls.certfile}
ssl_key = <{tls.keyfile}
{dh}
# Dovecot's default. 127.0.0.1 counts as a secured connection, so plaintext
# LOGIN/USER+PASS still work from there; other sources get LOGINDISABLED.
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={mail}/%u
}}
first_valid_uid = 8
mail_location = maildir:{mail}/%u/Maildir
# Special-use mailboxes (RFC 6154), created and subscribed at first login, so
# the IMAP suite's SPECIAL-USE checks have something to look at.
namespace inbox {{
  inbox = yes
  mailbox Drafts {{
    auto = subscribe
    special_use = \\Drafts
  }}
  mailbox Sent {{
    auto = subscribe
    special_use = \\Sent
  }}
  mailbox Trash {{
    auto = subscribe
    special_use = \\Trash
  }}
  mailbox Junk {{
    auto = subscribe
    special_use = \\Junk
  }}
}}
# Tests open many sessions per user from one address (default 10).
mail_max_userip_connections = 50
# No mailbox list index. With it, Dovecot 2.3's maildir CREATE races with other
# sessions of the same user: one that refreshes the list index while a CREATE
# is half done opens the new directory and fills in cur/new/tmp, and the CREATE
# then fails with NO [ALREADYEXISTS] for a name that did not exist (about once
# per IMAP suite run with four checks at a time). See docs/peer-results.md.
mailbox_list_index = no

service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
"""


def check_dovecot() -> None:
    need_binary("dovecot", "dovecot-imapd dovecot-pop3d")
    for proto, pkg in (("imap", "dovecot-imapd"), ("pop3", "dovecot-pop3d")):
        if not Path(f"/usr/lib/dovecot/{proto}").exists():
            raise PeerUnavailable(f"Dovecot's {proto} server not found: apt-get install -y {pkg}")
    need_root("Dovecot")


class Dovecot:
    """One Dovecot instance; used alone (DovecotPeer) or as an SMTP peer's mail store."""

    def __init__(self, workdir: Path, tls: TlsFiles, accounts: list[Account]):
        self.dir = make_dir(workdir / "dovecot")
        # Dovecot's unprivileged processes run as user mail: the mail tree is theirs.
        self.mail = make_dir(workdir / "mail", owner="mail", mode=0o700)
        self.tls = tls
        self.accounts = accounts
        self.ports = dict(zip(("imap", "pop3", "imaps", "pop3s"), free_ports(4)))
        self.binary = need_binary("dovecot", "dovecot-core")
        # `dovecot --version` prints "2.3.19.1 (9b53102964)".
        self.software = "Dovecot " + version_line([self.binary, "--version"]).split()[0]
        self.conf = self.dir / "dovecot.conf"

    def maildir(self, user: str) -> Path:
        return self.mail / user / "Maildir"

    @property
    def endpoints(self) -> dict[str, str]:
        return {k: f"{k}://{HOST}:{p}" for k, p in self.ports.items()}

    def start(self) -> Process:
        # The auth process runs as user dovecot and reads the passwd-file.
        write_file(self.dir / "passwd", "".join(f"{a.user}:{{PLAIN}}{a.password}\n" for a in self.accounts),
                   mode=0o640, group="dovecot")
        instance = "wireproof-" + hashlib.sha1(str(self.dir).encode()).hexdigest()[:8]
        dh = f"ssl_dh = <{DH_PARAMS}" if DH_PARAMS.exists() else ""
        write_file(self.conf, CONF.format(instance=instance, dir=self.dir, mail=self.mail, host=HOST,
                                          tls=self.tls, dh=dh, **self.ports))
        log = self.dir / "dovecot.log"
        proc = Process("dovecot", [self.binary, "-F", "-c", str(self.conf)], log)
        try:
            wait_for_ports(list(self.ports.values()), [proc])
        except BaseException:
            proc.stop()
            raise
        return proc


class DovecotPeer(Peer):
    name = "dovecot"
    has_smtp = False
    pop3_fill = "imap"  # no SMTP here: the POP3 checks APPEND their messages over IMAP

    @classmethod
    def check(cls) -> None:
        check_dovecot()

    def _start(self) -> None:
        dovecot = Dovecot(self.workdir, self.tls, self.accounts)
        self._procs.append(dovecot.start())
        self.software = dovecot.software
        self.endpoints = dovecot.endpoints
