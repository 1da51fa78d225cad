"""Patterns for server lines in scenario scripts, and escapes for client lines.

A pattern matches the start of a line, case-insensitively, and must end where a word ends:
`250` matches "250 OK" and "250", not "2500"; `SIZE` matches "SIZE 1000000", not "SIZEX".

    ...            any text, possibly empty
    ${name}        the value of a variable
    {name}         capture one word (no spaces) into the variable `name`
    {name:regex}   capture what the regular expression matches
    {:regex}       match a regular expression, capture nothing
    5xx  250|251   a three-digit code with `x` for any digit, and alternatives (the first word, or the second
                   after an HTTP version: `HTTP/1.1 201|204 ...`)
    \\{ \\$ \\.       a literal brace, dollar or dot (so `\\...` is three literal dots)

Client lines (`C:`/`C=`) take `${name}` and the escapes \\r \\n \\t \\\\ \\$ \\xNN.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CODE_WORD_RE = re.compile(r"^[0-9x]{3}(?:\|[0-9x]{3})*$")
HTTP_VERSION_RE = re.compile(r"^HTTP/\d\.\d$")  # `HTTP/1.1 201|204 ...`: the code word follows the version
VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PatternError(ValueError):
    pass


class UndefinedVariable(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"variable ${{{self.name}}} is not defined"


@dataclass(frozen=True)
class Pattern:
    source: str

    def __post_init__(self) -> None:
        # Compile once with dummy variables so syntax errors surface when the script is parsed.
        self._regex(lambda name: "x")

    def _regex(self, lookup) -> re.Pattern:
        text = self.source
        out: list[str] = []
        captures: list[str] = []
        open_end = False  # the pattern ends in an unescaped `...`: no word boundary required
        i = 0
        first, _, rest = text.partition(" ")
        if CODE_WORD_RE.match(first) and any(c.isdigit() for c in first):
            alts = [a.replace("x", r"\d") for a in first.split("|")]
            out.append("(?:" + "|".join(alts) + ")")
            i = len(first)
        elif HTTP_VERSION_RE.match(first):  # an HTTP status line: the code word is the second word
            second = rest.split(" ", 1)[0]
            if CODE_WORD_RE.match(second) and any(c.isdigit() for c in second):
                alts = [a.replace("x", r"\d") for a in second.split("|")]
                out.append(re.escape(first) + r"\s+(?:" + "|".join(alts) + r")(?!\d)")
                i = len(first) + 1 + len(second)
        while i < len(text):
            c = text[i]
            open_end = False
            if text.startswith("...", i):
                out.append(".*?")
                i += 3
                open_end = True
            elif c == "\\" and i + 1 < len(text):
                out.append(re.escape(text[i + 1]))
                i += 2
            elif text.startswith("${", i):
                end = text.find("}", i)
                if end < 0:
                    raise PatternError(f"unclosed ${{ in pattern {self.source!r}")
                out.append(re.escape(lookup(text[i + 2:end])))
                i = end + 1
            elif c == "{":
                end = _closing_brace(text, i)
                name, _, rx = text[i + 1:end].partition(":")
                if name and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                    raise PatternError(f"bad capture name {name!r} in pattern {self.source!r}")
                body = rx if rx else r"\S+"
                try:
                    re.compile(body)
                except re.error as exc:
                    raise PatternError(f"bad regular expression {body!r} in pattern {self.source!r}: {exc}") from None
                if name:
                    captures.append(name)
                    out.append(f"(?P<{name}>{body})")
                else:
                    out.append(f"(?:{body})")
                i = end + 1
            elif c == " ":
                while i < len(text) and text[i] == " ":
                    i += 1
                if text.startswith("...", i):
                    out.append(r"(?:\s.*?)?")  # "250 ..." also matches a bare "250"
                    i += 3
                    open_end = True
                else:
                    out.append(r"\s+")  # one space in a script stands for any run of white space
            else:
                out.append(re.escape(c))
                i += 1
        tail = "" if open_end else r"(?=\s|$)"
        try:
            return re.compile("^" + "".join(out) + tail, re.IGNORECASE | re.DOTALL)
        except re.error as exc:
            raise PatternError(f"pattern {self.source!r} does not compile: {exc}") from None

    def match(self, line: str, variables: dict[str, str]) -> dict[str, str] | None:
        """Captured variables if `line` matches, else None."""
        def lookup(name: str) -> str:
            if name not in variables:
                raise UndefinedVariable(name)
            return variables[name]

        m = self._regex(lookup).match(line)
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise PatternError(f"unclosed {{ in pattern {text!r}")


def expand(text: str, variables: dict[str, str]) -> bytes:
    """A client line as octets: variables substituted, escapes decoded."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            simple = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\", "$": b"$", "0": b"\0"}
            if nxt in simple:
                out += simple[nxt]
                i += 2
                continue
            if nxt == "x" and re.match(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4]):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            raise PatternError(f"unknown escape \\{nxt} in {text!r} (known: \\r \\n \\t \\\\ \\$ \\0 \\xNN)")
        m = VAR_RE.match(text, i)
        if m:
            if m.group(1) not in variables:
                raise UndefinedVariable(m.group(1))
            out += variables[m.group(1)].encode("utf-8")
            i = m.end()
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def check_expand_syntax(text: str) -> None:
    """Raise PatternError for escapes that can never work, whatever the variables."""
    expand(VAR_RE.sub("", text), {})
