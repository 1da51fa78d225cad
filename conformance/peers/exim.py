"""Exim 4 (SMTP) from its own config, delivering into Dovecot's maildirs.

Mail sent over SMTP to a local account is read back over IMAP/POP3 from the
Dovecot started alongside. Mail an authenticated client sends to other domains
goes to a :blackhole: router: nothing ever leaves the machine.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
from pathlib import Path

from .base import (HOST, Peer, PeerStartError, Process, free_ports, make_dir, need_binary,
                   need_root, stop_stragglers, wait_for_ports, write_file)
from .dovecot import Dovecot, check_dovecot

EXIM_USER = "Debian-exim"  # Debian's compiled-in exim_user
TRUSTED_CONFIGS = Path("/etc/exim4/trusted_configs")  # Debian's TRUSTED_CONFIG_LIST
CONF_NAME = "wireproof-exim.conf"  # distinctive, so stale entries we left can be pruned

# Exim's own text, untouched by Python formatting: the per-run values come in
# as Exim macros (WP_*) defined in a prelude.
CONF = r"""# wireproof peer: Exim as a small production-like MX + submission server.
# Protocol behaviour is left at Exim's defaults unless a line says why.
primary_hostname = mx.WP_DOMAIN
qualify_domain = WP_DOMAIN
domainlist local_domains = WP_DOMAIN

local_interfaces = WP_HOST
daemon_smtp_ports = WP_SMTP_PORT : WP_SMTPS_PORT
tls_on_connect_ports = WP_SMTPS_PORT
# Exit at once if a port is taken (default: retry 9 times, 30 s apart), so
# start_peer can retry with fresh ports.
daemon_startup_retries = 0
spool_directory = WP_DIR/spool
log_file_path = WP_DIR/log/%slog
# No DNS or ident lookups: the only network here is loopback.
host_lookup =
rfc1413_hosts =
keep_environment =
# Default 10: from the 11th message on one connection Exim only queues (no
# queue runner here, so it would never be delivered).
smtp_accept_queue_per_connection = 0
message_size_limit = 1M
dsn_advertise_hosts = *

tls_advertise_hosts = *
tls_certificate = WP_TLS_CERT
tls_privatekey = WP_TLS_KEY

acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl

# Shaped like Exim's shipped default, except that unknown local users are
# refused even after AUTH. Non-local recipients verify through the sink router.
acl_check_rcpt:
  accept  hosts = :
  deny    domains = +local_domains
          local_parts = ^[.] : ^.*[@%!/|]
          message = Restricted characters in address
  deny    domains = !+local_domains
          local_parts = ^[./|] : ^.*[@%!] : ^.*/\\.\\./
          message = Restricted characters in address
  require verify = recipient
  accept  domains = +local_domains
  accept  authenticated = *
          control = submission
  deny    message = relay not permitted

# From Exim's shipped default configuration.
acl_check_data:
  deny    condition = ${if > {$max_received_linelength}{998}}
          message = maximum allowed line length is 998 octets, \
                    got $max_received_linelength
  accept

begin routers

postmaster:
  driver = redirect
  domains = +local_domains
  local_parts = postmaster
  data = WP_FIRST_USER@WP_DOMAIN

local_user:
  driver = accept
  domains = +local_domains
  local_parts = WP_LOCAL_USERS
  transport = maildir

# Authenticated mail to other domains is accepted and dropped.
sink:
  driver = redirect
  domains = ! +local_domains
  data = :blackhole:

begin transports

maildir:
  driver = appendfile
  maildir_format
  # $local_part_data comes from the router's list, so it is untainted.
  directory = WP_MAILDIRS/$local_part_data/Maildir
  user = mail
  group = mail
  delivery_date_add
  envelope_to_add
  return_path_add

begin retry

# Exim's default rule.
*   *   F,2h,15m; G,16h,1h,1.5; F,4d,6h

begin authenticators

# Plaintext mechanisms offered only after STARTTLS, as in Exim's example config.
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and{{!eq{$auth3}{}}{eq{$auth3}{${lookup{$auth2}lsearch{WP_PASSWD}}}}}}
  server_set_id = $auth2
  server_advertise_condition = ${if eq{$tls_in_cipher}{}{}{*}}

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and{{!eq{$auth2}{}}{eq{$auth2}{${lookup{$auth1}lsearch{WP_PASSWD}}}}}}
  server_set_id = $auth1
  server_advertise_condition = ${if eq{$tls_in_cipher}{}{}{*}}
"""


def _edit_trusted(add: str | None = None, remove: str | None = None) -> None:
    """Add or remove one line of TRUSTED_CONFIGS, atomically and under a lock.

    Exim re-reads the list on every re-exec (each delivery), so the file is
    replaced by rename, never rewritten in place. Entries of ours whose config
    no longer exists (a peer that was killed) are pruned on the way.
    """
    lock_path = Path(tempfile.gettempdir()) / "wireproof-exim-trusted.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lines = TRUSTED_CONFIGS.read_text().splitlines() if TRUSTED_CONFIGS.exists() else []
        keep = [ln for ln in lines
                if ln != remove and not (ln.endswith("/" + CONF_NAME) and not os.path.exists(ln))]
        if add and add not in keep:
            keep.append(add)
        if keep == lines and TRUSTED_CONFIGS.exists():
            return
        tmp = TRUSTED_CONFIGS.with_name(TRUSTED_CONFIGS.name + ".wireproof-tmp")
        tmp.write_text("".join(ln + "\n" for ln in keep))
        os.chown(tmp, 0, 0)
        tmp.chmod(0o644)  # Exim ignores the list unless root-owned and not group/other-writable
        os.replace(tmp, TRUSTED_CONFIGS)


class EximPeer(Peer):
    name = "exim"
    pop3_fill = "smtp"  # Exim delivers into the Dovecot maildirs the POP3 endpoint serves
    conf: Path | None = None  # set once written; trusted_configs holds it until stop

    @classmethod
    def check(cls) -> None:
        need_binary("exim4", "exim4-daemon-light")
        check_dovecot()
        need_root("Exim")  # only root may add to trusted_configs; without it deliveries freeze

    def _start(self) -> None:
        exim = need_binary("exim4", "exim4-daemon-light")
        dovecot = Dovecot(self.workdir, self.tls, self.accounts)
        self._procs.append(dovecot.start())

        d = make_dir(self.workdir / "exim")
        make_dir(d / "spool", owner=EXIM_USER, mode=0o750)
        make_dir(d / "log", owner=EXIM_USER, mode=0o750)
        # Authenticators run in the receiving process, as EXIM_USER.
        write_file(d / "passwd", "".join(f"{a.user}: {a.password}\n" for a in self.accounts),
                   mode=0o640, group=EXIM_USER)
        smtp, smtps = free_ports(2)
        macros = {"WP_DOMAIN": self.local_domain, "WP_HOST": HOST, "WP_SMTP_PORT": smtp,
                  "WP_SMTPS_PORT": smtps, "WP_DIR": d, "WP_TLS_CERT": self.tls.certfile,
                  "WP_TLS_KEY": self.tls.keyfile, "WP_PASSWD": d / "passwd",
                  "WP_MAILDIRS": dovecot.mail, "WP_FIRST_USER": self.accounts[0].user,
                  "WP_LOCAL_USERS": " : ".join(a.user for a in self.accounts)}
        self.conf = d / CONF_NAME
        write_file(self.conf, "".join(f"{k} = {v}\n" for k, v in macros.items()) + "\n" + CONF)
        _edit_trusted(add=str(self.conf))

        # -bV checks the config and names the version ("Exim version 4.96 #2 ...").
        check = subprocess.run([exim, "-C", str(self.conf), "-bV"],
                               capture_output=True, text=True, timeout=10)
        if check.returncode != 0:
            raise PeerStartError(f"exim rejected {self.conf}:\n{check.stdout}{check.stderr}")
        self.software = "Exim " + check.stdout.split()[2]

        proc = Process("exim", [exim, "-C", str(self.conf), "-bdf", "-oP", str(d / "exim.pid")],
                       d / "log" / "stderr.log", extra_logs=(d / "log" / "mainlog", d / "log" / "paniclog"))
        self._procs.append(proc)
        wait_for_ports([smtp, smtps], [proc])
        self.endpoints = {"smtp": f"smtp://{HOST}:{smtp}", "smtps": f"smtps://{HOST}:{smtps}",
                          **dovecot.endpoints}

    def _after_stop(self) -> None:
        if self.conf is None:
            return
        # Exim forks and re-executes itself for each delivery; such a process can
        # outlive the daemon and its process group, but it carries "-C <conf>".
        stop_stragglers(str(self.conf))
        _edit_trusted(remove=str(self.conf))
