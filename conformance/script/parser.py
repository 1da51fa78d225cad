"""Parser for scenario scripts (`.wire` files); the format is documented in docs/scenario-format.md."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Level
from .pattern import Pattern, PatternError, check_expand_syntax

HEADER_KEYS = {"rfc", "requirement", "needs", "tags", "timeout", "exclusive"}
LEVEL_WORDS = ("MUST", "SHOULD", "MAY")
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")


class ScriptError(ValueError):
    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class Step:
    line: int
    op: str  # send, send-raw, expect, has, lacks, closed, silent, starttls, session, close, set
    arg: str = ""
    level: Level | None = None  # set on the steps that prove the requirement
    comment: str = ""
    pattern: Pattern | None = None
    seconds: float = 0.0


@dataclass
class ScriptCheck:
    id: str
    line: int
    header: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    @property
    def level(self) -> Level:
        return next(s.level for s in self.steps if s.level is not None)


@dataclass
class ScriptFile:
    path: str
    preamble: str
    prelude: list[Step]
    checks: list[ScriptCheck]


def parse(text: str, path: str = "<script>") -> ScriptFile:
    preamble: list[str] = []
    prelude: list[Step] | None = None
    checks: list[ScriptCheck] = []
    current: list[Step] | None = None  # where steps go now
    check: ScriptCheck | None = None
    in_header = False
    last_key = ""
    comment: list[str] = []

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.strip()
        if in_header and check is not None:
            m = re.match(r"^([a-z]+):\s*(.*)$", stripped)
            if m and m.group(1) in HEADER_KEYS:
                last_key = m.group(1)
                if last_key in check.header:
                    raise ScriptError(path, number, f"header {last_key!r} given twice")
                check.header[last_key] = m.group(2)
                continue
            if stripped and raw[:1].isspace() and last_key and not _looks_like_step(stripped):
                check.header[last_key] += " " + stripped  # continuation of a long header value
                continue
            if m and not any(stripped.startswith(op) for op in ("has:", "lacks:")):
                raise ScriptError(path, number, f"unknown header {m.group(1)!r}; known: {', '.join(sorted(HEADER_KEYS))}")
            in_header = False
            _require_header(path, check)
        if not stripped:
            comment = [] if current is None else comment
            continue
        if stripped.startswith("#"):
            text_ = stripped.lstrip("#").strip()
            if current is None and not checks and prelude is None:
                preamble.append(text_)
            else:
                comment.append(text_)
            continue
        if stripped == "prelude":
            if checks or prelude is not None:
                raise ScriptError(path, number, "a prelude must come once, before the first check")
            prelude = []
            current = prelude
            comment = []
            continue
        if stripped.startswith("check ") or stripped == "check":
            check_id = stripped[6:].strip()
            if not check_id:
                raise ScriptError(path, number, "check needs an id, e.g. `check smtp.rset.clears-transaction`")
            if check is not None:
                _finish(path, check)
            check = ScriptCheck(id=check_id, line=number)
            checks.append(check)
            current = check.steps
            in_header = True
            last_key = ""
            comment = []
            continue
        if current is None:
            raise ScriptError(path, number, "steps must follow a `prelude` or `check ID` line")
        step = _parse_step(path, number, stripped)
        if step.level is not None and current is prelude:
            raise ScriptError(path, number, "the prelude sets the stage; mark assertions inside a check")
        step.comment = " ".join(comment)
        comment = []
        if step.op in ("has", "lacks"):
            earlier = current if current else (prelude or [])  # a check may look into the prelude's last reply
            prev = next((s for s in reversed(earlier) if s.op not in ("has", "lacks")), None)
            if prev is None or prev.op != "expect":
                raise ScriptError(path, number, f"`{step.op}:` must follow an `S:` step (it looks inside that reply)")
        current.append(step)

    if check is not None:
        if in_header:
            _require_header(path, check)
        _finish(path, check)
    if not checks:
        raise ScriptError(path, 1, "no `check ID` block in this file")
    seen: set[str] = set()
    for c in checks:
        if c.id in seen:
            raise ScriptError(path, c.line, f"check id {c.id} is defined twice in this file")
        seen.add(c.id)
    return ScriptFile(path=path, preamble="\n".join(preamble).strip(), prelude=prelude or [], checks=checks)


STEP_STARTS = ("C:", "C=", "S:", "has:", "lacks:", "MUST ", "SHOULD ", "MAY ", "#")
STEP_WORDS = {"closed", "silent", "starttls", "close", "session", "set"}


def _looks_like_step(text: str) -> bool:
    return text.startswith(STEP_STARTS) or text.split(" ", 1)[0] in STEP_WORDS


def _parse_step(path: str, number: int, text: str) -> Step:
    level = None
    word, _, rest = text.partition(" ")
    if word in LEVEL_WORDS:
        level = Level(word)
        text = rest.strip()
        if not text:
            raise ScriptError(path, number, f"{word} must be followed by the step it applies to")
    try:
        return _op(path, number, text, level)
    except PatternError as exc:
        raise ScriptError(path, number, str(exc)) from None


def _op(path: str, number: int, text: str, level: Level | None) -> Step:
    def arg_after(prefix: str) -> str:
        rest = text[len(prefix):]
        return rest[1:] if rest.startswith(" ") else rest

    if text.startswith("C:") or text.startswith("C="):
        arg = arg_after(text[:2])
        check_expand_syntax(arg)
        if level is not None:
            raise ScriptError(path, number, "a client line cannot be an assertion; mark the server's reply")
        return Step(number, "send" if text[1] == ":" else "send-raw", arg)
    for prefix, op in (("S:", "expect"), ("has:", "has"), ("lacks:", "lacks")):
        if text.startswith(prefix):
            arg = arg_after(prefix).strip()
            if not arg:
                raise ScriptError(path, number, f"`{prefix}` needs a pattern (use `...` to accept anything)")
            return Step(number, op, arg, level, pattern=Pattern(arg))
    word, _, rest = text.partition(" ")
    rest = rest.strip()
    if word == "closed" and not rest:
        return Step(number, "closed", level=level)
    if word == "silent":
        try:
            seconds = float(rest)
        except ValueError:
            raise ScriptError(path, number, "silent needs a number of seconds, e.g. `silent 0.5`") from None
        if not 0 < seconds <= 10:
            raise ScriptError(path, number, "silent takes between 0 and 10 seconds")
        return Step(number, "silent", rest, level, seconds=seconds)
    if level is not None:
        raise ScriptError(path, number, f"`{word}` is an action, not an assertion; it cannot be marked {level.value}")
    if word == "starttls" and not rest:
        return Step(number, "starttls")
    if word == "close" and not rest:
        return Step(number, "close")
    if word == "session":
        if not NAME_RE.match(rest):
            raise ScriptError(path, number, "session needs a short lowercase name, e.g. `session b`")
        return Step(number, "session", rest)
    if word == "set":
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s?(.*)$", rest)
        if not m:
            raise ScriptError(path, number, "set needs `set name = value`")
        check_expand_syntax(m.group(2))
        return Step(number, "set", rest)
    raise ScriptError(path, number, f"unknown step {text[:40]!r}; steps are C: C= S: has: lacks: closed silent "
                                    "starttls close session set")


def _require_header(path: str, check: ScriptCheck) -> None:
    for key in ("rfc", "requirement"):
        if not check.header.get(key):
            raise ScriptError(path, check.line, f"check {check.id} has no `{key}:` header")


def _finish(path: str, check: ScriptCheck) -> None:
    levels = {s.level for s in check.steps if s.level is not None}
    if not levels:
        raise ScriptError(path, check.line, f"check {check.id} asserts nothing: mark the step that proves the "
                                            "requirement with MUST, SHOULD or MAY")
    if len(levels) > 1:
        raise ScriptError(path, check.line, f"check {check.id} mixes {' and '.join(sorted(l.value for l in levels))}; "
                                            "one check states one requirement at one level")
