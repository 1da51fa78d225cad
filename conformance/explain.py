"""`wireproof explain <protocol> [topic]`: a short walkthrough against the in-process simulator, printed as the
conversation it was, annotated line by line.

Walkthroughs are ordinary scripts (docs/scenario-format.md) kept in scenarios/<protocol>/walkthroughs/: their
comments say why the server answers as it does and the MUST/SHOULD steps are real assertions, so a
walkthrough whose lesson stopped being true fails instead of teaching something wrong.
"""
from __future__ import annotations

import asyncio
import importlib.resources
import textwrap

from rich.console import Console
from rich.markup import escape

from .context import RunOptions
from .discovery import DISCOVERERS
from .errors import UsageError
from .model import Check
from .registry import _script_checks
from .runner import execute
from .script.parser import parse
from .wire.transcript import event_lines, printable

STYLE = {"C": "bold blue", "S": "default", "*": "dim italic", "#": "green"}


def walkthroughs() -> dict[str, dict[str, object]]:
    """protocol -> topic -> resource, for every walkthrough shipped."""
    out: dict[str, dict[str, object]] = {}
    for proto_dir in importlib.resources.files("scenarios").iterdir():
        folder = proto_dir / "walkthroughs"
        if proto_dir.is_dir() and folder.is_dir():
            topics = {f.name[:-5]: f for f in folder.iterdir() if f.name.endswith(".wire")}
            if topics:
                out[proto_dir.name] = dict(sorted(topics.items()))
    return dict(sorted(out.items()))


def choose(protocol: str | None, topic: str | None):
    known = walkthroughs()
    if protocol is None:
        return None
    if protocol not in known:
        raise UsageError(f"no walkthroughs for {protocol!r}; choose one of {', '.join(known)} "
                         "(`wireproof explain` lists them)")
    topics = known[protocol]
    if topic is None:
        topic = "basics" if "basics" in topics else next(iter(topics))
    if topic not in topics:
        raise UsageError(f"{protocol} has no walkthrough {topic!r}; choose one of {', '.join(topics)}")
    return topic, topics[topic]


def render(console: Console, check: Check, preamble: str, result, others: list[str]) -> None:
    console.print(f"[bold]{check.protocol.upper()} walkthrough · {check.id.rsplit('.', 1)[-1]}[/]")
    console.print(escape(check.requirement))
    if preamble:
        console.print()
        console.print(escape(preamble), style="italic")
    console.print()
    # The lesson ends with its last assertion; what follows is the harness tidying up (scratch mailboxes).
    # It starts with its first comment (and the connection note before it): what comes earlier is the harness
    # preparing (a scratch WebDAV collection).
    events = result.transcript
    last = max((o.get("event", 0) for o in result.observations), default=len(events))
    first = next((i for i, ev in enumerate(events) if ev["dir"] == "#"), 0)
    while first > 0 and events[first - 1]["dir"] == "*":
        first -= 1
    for ev in events[first:last]:
        who = {"c": "C", "s": "S", "*": "*", "#": "#"}[ev["dir"]]
        if who == "#":
            console.print()
            for line in textwrap.wrap(ev["note"], 96):
                console.print(f"  [green]# {escape(line)}[/]")
            continue
        for line in event_lines(ev):
            console.print(f"  [{STYLE[who]}]{who}: {escape(printable(line))}[/]")
    console.print()
    console.print("References: " + ", ".join(check.rfc))
    verdict = result.verdict.value
    if verdict == "pass":
        console.print("Every step marked MUST/SHOULD held on the wire.", style="dim")
    else:
        console.print(f"[bold red]The simulator did not behave as this walkthrough teaches ({verdict}):[/] "
                      f"{escape(printable(result.reason))}")
    if others:
        console.print(f"Other {check.protocol} topics: {', '.join(others)} "
                      f"(wireproof explain {check.protocol} TOPIC)", style="dim")


def cmd_explain(args) -> int:
    console = Console(highlight=False, soft_wrap=True)
    picked = choose(args.protocol, args.topic)
    if picked is None:
        for proto, topics in walkthroughs().items():
            console.print(f"{proto:7} {', '.join(topics)}")
        console.print("wireproof explain PROTOCOL [TOPIC] runs one against the built-in simulator", style="dim")
        return 0
    topic, resource = picked
    rel = f"scenarios/{args.protocol}/walkthroughs/{resource.name}"
    text = resource.read_text(encoding="utf-8")
    (check,) = _script_checks(args.protocol, resource, rel)
    preamble = " ".join(parse(text, rel).preamble.split())

    from .sim_target import embedded_simulator
    from .target import load_profile

    with embedded_simulator() as (_sim, profile):
        target = load_profile(profile)
        options = RunOptions(check_timeout=20.0)

        async def go():
            caps = {check.protocol: await DISCOVERERS[check.protocol](target, options)}
            return await execute(check, target, caps, options, 30.0)

        result = asyncio.run(go())
    others = [t for t in walkthroughs()[args.protocol] if t != topic]
    render(console, check, preamble, result, others)
    return 0 if result.verdict.value == "pass" else 1
