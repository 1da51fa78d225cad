"""The `wireproof` command line.

Exit codes (stable, documented in the README):
    0  every verdict as expected (no fail or error; with --baseline: no regression)
    1  conformance failures or errors (with --baseline: regressions)
    2  usage or setup error (bad arguments, unreachable target, unusable profile)
    3  the harness itself broke (a bug in wireproof or one of its checks)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
from pathlib import Path

from . import __version__
from .errors import UsageError

EXIT_OK, EXIT_NONCONFORMANT, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise UsageError(f"{message} (see `wireproof {self.prog.split()[-1]} --help`)"
                         if self.prog != "wireproof" else f"{message} (see `wireproof --help`)")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="wireproof", description="Protocol conformance harness for SMTP, POP3, IMAP4, NNTP and WebDAV.")
    p.add_argument("--version", action="version", version=f"wireproof {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=Parser)

    ls = sub.add_parser("list", help="list the checks of the suite")
    ls.add_argument("--protocol", action="append", help="only this protocol (repeatable)")
    ls.add_argument("--select", action="append", metavar="GLOB", help="only check ids matching GLOB (repeatable)")
    ls.add_argument("--tag", action="append", help="only checks with this tag (repeatable)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")

    run = sub.add_parser("run", help="run the suite against a target")
    run.add_argument("targets", nargs="*", metavar="TARGET",
                     help="endpoint URLs of one server (smtp://host:port, smtps://, user:pass@, ?starttls=require), "
                          "peer:NAME to start a local reference peer (exim, aiosmtpd, dovecot, inn, apache-dav, wsgidav), or sim (the "
                          "embedded simulator, also what runs when no target is given)")
    run.add_argument("--profile", metavar="FILE", help="TOML target profile (endpoints, accounts, domains, read-back)")
    run.add_argument("--protocol", action="append", help="only this protocol (repeatable)")
    run.add_argument("--select", action="append", metavar="GLOB", help="only check ids matching GLOB (repeatable)")
    run.add_argument("--tag", action="append", help="only checks with this tag (repeatable)")
    run.add_argument("--exclude", action="append", metavar="GLOB", help="leave out check ids matching GLOB")
    run.add_argument("--out", metavar="DIR", help="write results.json, junit.xml and report.html into DIR")
    run.add_argument("--pcap", metavar="DIR", help="also write each check's conversation as DIR/<check>.pcap "
                     "(synthetic TCP/IP on the protocol's standard port, for Wireshark or tshark)")
    run.add_argument("--baseline", metavar="FILE", help="compare with expected verdicts; exit 1 only on regressions")
    run.add_argument("--write-baseline", metavar="FILE", help="write this run's verdicts as a baseline")
    run.add_argument("--jobs", type=int, default=4, help="checks run at once (default 4)")
    run.add_argument("--timeout", type=float, default=10.0, help="seconds per check (default 10)")
    run.add_argument("--read-timeout", type=float, default=5.0, help="seconds to wait for each server reply (default 5)")
    run.add_argument("--run-timeout", type=float, default=1800.0, help="seconds for the whole run (default 1800)")
    run.add_argument("--seed", type=int, help="seed for property-based checks (printed when not given)")
    run.add_argument("--max-examples", type=int, default=60, help="examples per property-based check (default 60)")
    run.add_argument("--strict", action="store_true", help="count SHOULD-level warnings as failures")
    run.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")

    srv = sub.add_parser("serve", help="run the simulator in the foreground until Ctrl-C")
    srv.add_argument("--demo", action="store_true", help="a realistic demo organization (users, domains, servers)")
    srv.add_argument("--directory", metavar="FILE", help="the directory as TOML (docs/directory-format.md)")
    srv.add_argument("--data", metavar="DIR", help="keep the store in DIR (default: in memory)")
    srv.add_argument("--profile-out", metavar="FILE", help="write a target profile for `wireproof run --profile`")

    rep = sub.add_parser("report", help="render report.html (and junit.xml) from results.json files")
    rep.add_argument("results", nargs="+", metavar="RESULTS_JSON")
    rep.add_argument("-o", "--output", default="report.html", metavar="FILE")
    rep.add_argument("--junit", metavar="FILE", help="also write JUnit XML")
    rep.add_argument("--pcap", metavar="DIR", help="also write each check's conversation as DIR/<check>.pcap")

    exp = sub.add_parser("explain", help="a walkthrough against the built-in simulator, annotated line by line")
    exp.add_argument("protocol", nargs="?", help="smtp, pop3, imap, nntp or webdav (none: list the walkthroughs)")
    exp.add_argument("topic", nargs="?", help="the walkthrough (default: basics)")

    cov = sub.add_parser("coverage", help="which catalogued RFC requirements the suite's checks cover")
    cov.add_argument("--protocol", action="append", help="only this protocol (repeatable)")
    cov.add_argument("--list", choices=("untested", "covered", "all"), dest="show",
                     help="also list requirements: the untested ones, the covered ones with their checks, or all")
    cov.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return cmd_list(args)
        if args.command == "run":
            return cmd_run(args, argv)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "explain":
            from .explain import cmd_explain

            return cmd_explain(args)
        if args.command == "coverage":
            from .coverage_cli import cmd_coverage

            return cmd_coverage(args)
        if args.command == "serve":
            from .sim_target import serve

            return serve(args.directory, args.demo, args.data, args.profile_out)
        build_parser().print_help()
        return EXIT_USAGE
    except UsageError as exc:
        print(f"wireproof: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("wireproof: interrupted", file=sys.stderr)
        return 130


def _checks(args):
    from .registry import RegistryError, all_checks, select

    try:
        checks = all_checks()
    except RegistryError as exc:
        print(f"wireproof: the suite itself is broken: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_HARNESS) from None
    known = {c.protocol for c in checks}
    for proto in args.protocol or []:
        if proto not in known:
            raise UsageError(f"unknown protocol {proto!r}; the suite has {', '.join(sorted(known))}")
    chosen = select(checks, ids=args.select, tags=args.tag, exclude=getattr(args, "exclude", None),
                    protocols=args.protocol)
    if not chosen:
        raise UsageError("the selection matches no check; try `wireproof list` to see ids and tags")
    return chosen


def cmd_list(args) -> int:
    checks = _checks(args)
    if args.json:
        print(json.dumps([c.describe() for c in checks], indent=1))
        return EXIT_OK
    for c in checks:
        print(f"{c.id:55} {c.level.value:6} {c.kind.value:8} {' '.join(c.rfc)}")
        print(f"    {c.requirement}")
    print(f"{len(checks)} checks")
    return EXIT_OK


def cmd_run(args, argv: list[str]) -> int:
    from . import baseline as baseline_mod
    from . import results as results_mod
    from .console import Console
    from .context import RunOptions
    from .runner import run_target

    for name, value in (("--jobs", args.jobs), ("--timeout", args.timeout), ("--read-timeout", args.read_timeout),
                        ("--run-timeout", args.run_timeout), ("--max-examples", args.max_examples)):
        if value <= 0:
            raise UsageError(f"{name} must be a positive number, not {value:g}")
    checks = _checks(args)
    expected = baseline_mod.load(args.baseline) if args.baseline else None
    if args.write_baseline and not Path(args.write_baseline).resolve().parent.is_dir():
        raise UsageError(f"--write-baseline {args.write_baseline}: its directory does not exist; create it first")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    options = RunOptions(check_timeout=args.timeout, read_timeout=min(args.read_timeout, args.timeout),
                         seed=seed, max_examples=args.max_examples)
    console = Console(quiet=args.quiet)

    with contextlib.ExitStack() as stack:
        target, target_args = _resolve_target(args, stack)
        if not {c.protocol for c in checks} & set(target.protocols()):
            raise UsageError(f"the target has no endpoint for {', '.join(sorted({c.protocol for c in checks}))}; "
                             "give one (e.g. smtp://host:port) or select checks of its protocols")
        console.start(target, len(checks), seed)
        run = asyncio.run(run_target(target, checks, options, jobs=args.jobs, run_timeout=args.run_timeout,
                                     on_result=console.result))
    doc = results_mod.build([run], argv=["wireproof", *argv], seed=seed,
                            target_args={target.name: target_args},
                            options={"timeout": args.timeout, "read_timeout": options.read_timeout,
                                     "jobs": args.jobs, "max_examples": args.max_examples, "strict": args.strict})
    comparison = None
    if expected is not None:
        comparison = baseline_mod.compare(expected, doc["results"])
        doc["baseline"] = {"file": args.baseline} | comparison.to_json()
    if args.out:
        write_outputs(doc, Path(args.out))
    if args.pcap:
        write_pcaps(doc, args.pcap)
    if args.write_baseline:
        try:
            Path(args.write_baseline).write_text(baseline_mod.render(doc["results"], target.name), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the baseline {args.write_baseline}: {exc.strerror}; "
                             "choose a writable path") from None
    code = exit_code(doc, comparison, strict=args.strict)
    console.summary(doc, comparison, code, args.out)
    return code


def exit_code(doc, comparison, *, strict: bool) -> int:
    results = doc["results"]
    if any(r.get("harness_bug") for r in results):
        return EXIT_HARNESS
    if comparison is not None:
        return EXIT_NONCONFORMANT if comparison.regressions else EXIT_OK
    bad = {"fail", "error"} | ({"warn"} if strict else set())
    return EXIT_NONCONFORMANT if any(r["verdict"] in bad for r in results) else EXIT_OK


def write_outputs(doc, out: Path) -> None:
    from reports import html, junit

    from . import results as results_mod

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out}: {exc.strerror}; choose a writable --out") from None
    try:
        results_mod.write(doc, out / "results.json")
        (out / "junit.xml").write_text(junit.render(doc), encoding="utf-8")
        (out / "report.html").write_text(html.render([doc]), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write into {out}: {exc.strerror}; choose a writable --out") from None


def write_pcaps(doc, directory: str) -> None:
    from . import pcap

    try:
        files = pcap.write(doc, directory)
    except OSError as exc:
        raise UsageError(f"cannot write pcap files into {directory}: {exc.strerror}; choose a writable --pcap") from None
    print(f"wrote {len(files)} pcap files into {directory}")


def cmd_report(args) -> int:
    from reports import html, junit

    from . import results as results_mod

    docs = [results_mod.load(p) for p in args.results]
    Path(args.output).write_text(html.render(docs), encoding="utf-8")
    if args.junit:
        Path(args.junit).write_text(junit.render(docs[0]), encoding="utf-8")
    for doc in docs if args.pcap else ():
        write_pcaps(doc, args.pcap)
    print(f"wrote {args.output}")
    return EXIT_OK


def _resolve_target(args, stack: contextlib.ExitStack):
    from .target import from_urls, load_profile

    if args.targets == ["sim"] or (not args.targets and not args.profile):
        from .sim_target import embedded_simulator

        _sim, profile = stack.enter_context(embedded_simulator())
        return load_profile(profile), ["sim"]
    peers = [t for t in args.targets if t.startswith("peer:")]
    urls = [t for t in args.targets if not t.startswith("peer:")]
    if peers:
        if len(peers) > 1 or urls or args.profile:
            raise UsageError("peer:NAME stands alone: give one peer, without URLs or --profile")
        from .peers import PEERS, PeerStartError, PeerUnavailable, start_peer

        name = peers[0].split(":", 1)[1]
        if name not in PEERS:
            raise UsageError(f"unknown peer {name!r}; known peers: {', '.join(sorted(PEERS))}")
        try:
            peer = stack.enter_context(start_peer(name))
        except (PeerUnavailable, PeerStartError) as exc:
            raise UsageError(f"peer {name} cannot start here: {exc}") from None
        return load_profile(peer.profile_path), [peers[0]]
    if "sim" in urls:
        raise UsageError("sim stands alone: give it without URLs or --profile")
    if args.profile:
        target = load_profile(args.profile)
        if urls:
            extra = from_urls(urls)
            target.endpoints.update(extra.endpoints)
        return target, ["--profile", args.profile, *urls]
    return from_urls(urls), urls


if __name__ == "__main__":
    raise SystemExit(main())
