"""Finding checks: Python probes register with `@probe`, scripts are parsed from `scenarios/<protocol>/*.wire`.

Grepping a check id finds its definition in one step: probes carry the id in their decorator, scripts on
their `check` line.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import functools
import importlib
import importlib.resources
import inspect
from pathlib import Path
from typing import Callable, Iterable

from .model import Check, Kind, Level

_REGISTERED: dict[str, Check] = {}


class RegistryError(Exception):
    """The suite itself is broken (a script that does not parse, a duplicate id): a harness bug."""


def probe(check_id: str, *, rfc: str | Iterable[str], level: str, requirement: str, needs: Iterable[str] = (),
          tags: Iterable[str] = (), timeout: float | None = None, exclusive: bool = False,
          kind: Kind = Kind.PROBE) -> Callable:
    """Register an async function `fn(ctx)` as the check of one requirement."""

    def register(fn: Callable) -> Callable:
        refs = tuple(rfc.split()) if isinstance(rfc, str) else tuple(rfc)
        source = f"{_relative(inspect.getsourcefile(fn))}:{inspect.getsourcelines(fn)[1]}"
        check = Check(id=check_id, protocol=check_id.split(".", 1)[0], rfc=refs, level=Level.parse(level),
                      requirement=" ".join(requirement.split()), kind=kind, run=fn, needs=frozenset(needs),
                      tags=frozenset(tags), source=source, timeout=timeout, exclusive=exclusive)
        if check_id in _REGISTERED and _REGISTERED[check_id].source != source:
            raise RegistryError(f"check id {check_id} is defined twice: {_REGISTERED[check_id].source} and {source}")
        _REGISTERED[check_id] = check
        return fn

    return register


def _relative(path: str | None) -> str:
    if not path:
        return "?"
    p = Path(path)
    for anchor in ("scenarios", "conformance"):
        if anchor in p.parts:
            return "/".join(p.parts[p.parts.index(anchor):])
    return p.name


def _script_checks(protocol: str, resource, rel: str | None = None) -> list[Check]:
    """The checks of one .wire file (`rel`: its path as reports name it)."""
    from .context import CheckContext
    from .script.executor import ScriptRun
    from .script.parser import ScriptError, parse

    rel = rel or f"scenarios/{protocol}/{resource.name}"
    try:
        file = parse(resource.read_text(encoding="utf-8"), rel)
    except ScriptError as exc:
        raise RegistryError(str(exc)) from None
    checks = []
    for sc in file.checks:
        async def run(ctx: CheckContext, _file=file, _sc=sc) -> None:
            await ScriptRun(ctx, protocol).run(_file, _sc)

        h = sc.header
        try:
            timeout = float(h["timeout"]) if "timeout" in h else None
            checks.append(Check(
                id=sc.id, protocol=protocol, rfc=tuple(h["rfc"].split()), level=sc.level,
                requirement=" ".join(h["requirement"].split()), kind=Kind.SCRIPT, run=run,
                needs=frozenset(h.get("needs", "").split()), tags=frozenset(h.get("tags", "").split()),
                source=f"{rel}:{sc.line}", timeout=timeout, exclusive=h.get("exclusive", "") == "yes"))
        except (ValueError, KeyError) as exc:
            raise RegistryError(f"{rel}:{sc.line}: {exc}") from None
    return checks


@functools.cache
def all_checks() -> tuple[Check, ...]:
    root = importlib.resources.files("scenarios")
    found: dict[str, Check] = {}
    for proto_dir in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")),
                            key=lambda p: p.name):
        protocol = proto_dir.name
        for res in sorted(proto_dir.iterdir(), key=lambda p: p.name):
            if res.name.endswith(".py") and res.name != "__init__.py":
                importlib.import_module(f"scenarios.{protocol}.{res.name[:-3]}")
            elif res.name.endswith(".wire"):
                for check in _script_checks(protocol, res):
                    if check.id in found:
                        raise RegistryError(f"check id {check.id} is defined twice: {found[check.id].source} "
                                            f"and {check.source}")
                    found[check.id] = check
    for check_id, check in _REGISTERED.items():
        if check_id in found:
            raise RegistryError(f"check id {check_id} is defined twice: {found[check_id].source} and {check.source}")
        found[check_id] = check
    return tuple(sorted((_mark_extension(c) for c in found.values()), key=lambda c: c.id))


# Capabilities (discovery keywords) that only a protocol extension offers: a check that needs one of them tests the
# extension, not the base protocol, and is tagged so (reports count base and extension checks apart). A keyword
# here also stands for its `KEYWORD=argument` forms. IMAP tags its extension checks one by one in scenarios/imap.
EXTENSION_NEEDS = {
    "smtp": {"8BITMIME", "AUTH", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES", "PIPELINING", "SIZE", "STARTTLS"},
    "pop3": {"CAPA", "SASL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"},  # RFC 2449, 5034, 2595
    "nntp": {"AUTHINFO", "SASL", "STARTTLS"},  # RFC 4643, 4642
    "webdav": {"HTTPMAIL", "DASL", "METHOD=SEARCH", "METHOD=BPROPFIND", "METHOD=BPROPPATCH", "METHOD=BCOPY",
               "METHOD=BMOVE", "METHOD=BDELETE", "METHOD=X-MS-ENUMATTS"},  # Exchange's WebDAV extensions
}


def _mark_extension(check: Check) -> Check:
    keywords = EXTENSION_NEEDS.get(check.protocol, set())
    if any(need in keywords or need.split("=", 1)[0] in keywords for need in check.needs):
        return dataclasses.replace(check, tags=check.tags | {"extension"})
    return check


def select(checks: Iterable[Check], *, ids: list[str] | None = None, tags: list[str] | None = None,
           exclude: list[str] | None = None, protocols: list[str] | None = None) -> list[Check]:
    """Id globs are ORed, tags are ORed, and the groups are ANDed; `exclude` globs win."""
    out = []
    for c in checks:
        if protocols and c.protocol not in protocols:
            continue
        if ids and not any(fnmatch.fnmatchcase(c.id, g) for g in ids):
            continue
        if tags and not (c.tags & set(tags)):
            continue
        if exclude and any(fnmatch.fnmatchcase(c.id, g) for g in exclude):
            continue
        out.append(c)
    return out
