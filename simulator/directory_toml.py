"""The directory as a TOML file that a person writes by hand (full reference: docs/directory-format.md).

    local_domains = ["wireproof.test"]          # before any [table]: TOML puts top-level keys first

    [organization]                              # optional; name defaults to "Wireproof"
    name = "Wireproof"
    admin_group = "First Administrative Group"  # optional
    server_name = "EXCH01"                      # optional, NetBIOS name
    fqdn = "exch01.wireproof.test"              # optional, used in greetings

    [[users]]                                   # one table per user
    alias = "alice"                             # mailbox /exchange/alice/, logon name
    display_name = "Alice Archer"
    password = "alice-pw"
    addresses = ["alice@wireproof.test", "postmaster@wireproof.test"]   # first is primary

    [[virtual_servers]]
    id = "smtp-1"                               # stable id, unique
    protocol = "smtp"                           # smtp | pop3 | imap | nntp | http
    name = "Default SMTP Virtual Server"        # optional
    bind = "127.0.0.1"                          # optional
    port = 0                                    # optional; 0 lets the OS pick
    tls = "starttls"                            # optional: none | starttls | implicit
    auth_methods = ["PLAIN", "LOGIN"]           # optional; POP3 also USER, APOP; NNTP also USER
    plaintext_auth = true                       # optional: AUTH allowed before TLS
    banner = ""                                 # optional; "" is the server's default greeting
    enabled = true                              # optional
    limits = { line_length = 4096, message_size = 10485760 }   # optional, any subset

    [[public_folders]]
    path = "Marketing/News"
    description = "Press releases"              # optional
    newsgroup = "wireproof.marketing.news"      # optional: also served over NNTP
    scratch = false                             # optional: open to test posts (NNTP checks)

    [[sinks]]
    id = "archive"
    event = "OnArrival"
    sink = "Wireproof.ArchiveSink"              # the sink to run (a ProgID in Exchange)
    priority = 24575                            # optional, 0 (first) .. 32767 (last)
    rule = ""                                   # optional
    enabled = true                              # optional

A key that is not listed is an error, and so is a value of the wrong type or out of range: loading
raises `ValueError` with one line naming the file, the entry, the key and the fix. `save_toml`
writes every key, in this order, and the file loads back equal.
"""
from __future__ import annotations

import math
import os
import tomllib

from simulator.directory import Directory

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def loads_toml(text: str, source: str = "<string>") -> Directory:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Directory.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def load_toml(path: str | os.PathLike[str]) -> Directory:
    with open(path, encoding="utf-8") as file:
        return loads_toml(file.read(), os.fspath(path))


def dumps_toml(directory: Directory) -> str:
    data = directory.to_dict()
    lines = [f"local_domains = {_value(data['local_domains'])}", "", "[organization]"]
    lines += [f"{key} = {_value(value)}" for key, value in data["organization"].items()]
    for section in ("users", "virtual_servers", "public_folders", "sinks"):
        for table in data[section]:
            lines += ["", f"[[{section}]]"]
            lines += [f"{key} = {_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def save_toml(directory: Directory, path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(dumps_toml(directory))


def _value(value: object) -> str:
    """One TOML value: the few types a directory holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # repr always keeps a '.' or an exponent, so it reads back as a float
    if isinstance(value, str):
        return '"' + "".join(_escape(ch) for ch in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_value(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ord(ch) < 0x20 or ord(ch) == 0x7F:  # TOML basic strings forbid raw control characters
        return f"\\u{ord(ch):04x}"
    return ch
