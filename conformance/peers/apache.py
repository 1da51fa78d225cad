"""Apache 2.4 with mod_dav and mod_dav_fs (WebDAV) from a standalone config, serving <workdir>/apache/dav as /dav/.

Only the modules the WebDAV endpoint needs are loaded (an MPM, authn/authz, Basic authentication, alias,
mime, dav, dav_fs); the DAV root, the lock database, the pid file and the logs all live in the workdir.
Started as root, Apache's children run as www-data, which owns the DAV root and the lock directory.
Protocol behaviour stays at mod_dav's defaults (DavDepthInfinity off, so PROPFIND Depth: infinity is
refused with 403 and DAV:propfind-finite-depth).
"""
from __future__ import annotations

import base64
import hashlib
import os

from .base import (HOST, Peer, Process, free_ports, make_dir, need_binary, need_root, stop_stragglers,
                   version_line, wait_for_ports, write_file)

MODULES = "/usr/lib/apache2/modules"
WWW_USER = "www-data"

CONF = """\
# wireproof peer: Apache httpd with mod_dav/mod_dav_fs, nothing else.
ServerRoot "{dir}"
DefaultRuntimeDir "{dir}/run"
PidFile "{dir}/run/httpd.pid"
Mutex file:{dir}/run default
ErrorLog "{dir}/error.log"
LogLevel warn
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authn_file_module {modules}/mod_authn_file.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule auth_basic_module {modules}/mod_auth_basic.so
LoadModule alias_module {modules}/mod_alias.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule dav_module {modules}/mod_dav.so
LoadModule dav_fs_module {modules}/mod_dav_fs.so
{user}
Listen {host}:{port}
ServerName {host}
TypesConfig /etc/mime.types
# One process with threads, enough for tests: mod_dav_fs keeps locks in an SDBM file (DavLockDB), and with
# several processes writing it at once a lock could be lost under the suite's parallel checks. Keep-alive
# stays at Apache's default.
StartServers 1
ServerLimit 1
ThreadsPerChild 32
MaxRequestWorkers 32
DavLockDB "{dir}/lock/DavLock"
<Directory />
    Require all denied
    AllowOverride None
</Directory>
Alias /dav "{root}"
<Directory "{root}">
    Dav On
{auth}
</Directory>
"""

AUTH = """\
    AuthType Basic
    AuthName "wireproof"
    AuthBasicProvider file
    AuthUserFile "{dir}/htpasswd"
    Require valid-user"""


def htpasswd_line(user: str, password: str) -> str:
    """An htpasswd entry in the {SHA} scheme (Apache reads it on every platform)."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{{SHA}}{digest}\n"


class ApachePeer(Peer):
    name = "apache-dav"
    has_smtp = False
    auth = True  # Basic authentication on /dav/ with the peer's accounts (False: anonymous access)

    @classmethod
    def check(cls) -> None:
        need_binary("apache2", "apache2")
        if not os.path.exists(f"{MODULES}/mod_dav_fs.so"):
            from .base import PeerUnavailable

            raise PeerUnavailable(f"mod_dav_fs not found in {MODULES}: apt-get install -y apache2")
        need_root("Apache")

    def _start(self) -> None:
        binary = need_binary("apache2", "apache2")
        d = make_dir(self.workdir / "apache")
        make_dir(d / "run")
        root = make_dir(d / "dav", owner=WWW_USER)
        make_dir(d / "lock", owner=WWW_USER)
        (port,) = free_ports(1)
        write_file(d / "htpasswd", "".join(htpasswd_line(a.user, a.password) for a in self.accounts),
                   mode=0o640, group=WWW_USER)
        user = f"User {WWW_USER}\nGroup {WWW_USER}" if os.geteuid() == 0 else ""
        conf = CONF.format(dir=d, modules=MODULES, user=user, host=HOST, port=port, root=root,
                           auth=AUTH.format(dir=d) if self.auth else "    Require all granted")
        conf_path = write_file(d / "httpd.conf", conf)
        # `apache2 -v` prints "Server version: Apache/2.4.62 (Debian)".
        self.software = version_line([binary, "-v"]).split(":", 1)[1].strip().replace("/", " ", 1) + " mod_dav"
        env = dict(os.environ, APACHE_RUN_DIR=str(d / "run"), APACHE_LOG_DIR=str(d))
        self._conf = str(conf_path)
        proc = Process("apache2", [binary, "-f", str(conf_path), "-DFOREGROUND"], d / "stderr.log",
                       extra_logs=(d / "error.log",), env=env)
        self._procs.append(proc)
        wait_for_ports([port], [proc])
        self.endpoints = {"webdav": f"http://{HOST}:{port}/dav/"}

    def _after_stop(self) -> None:
        stop_stragglers(getattr(self, "_conf", "") or str(self.workdir))
