"""What a check is, what a verdict is, and the outcomes a check can raise.

A check states one requirement. Running it yields exactly one verdict:

    pass   every assertion the check made held, and it made at least one
    fail   an assertion of a MUST-level requirement did not hold
    warn   an assertion of a SHOULD- or MAY-level requirement did not hold
    skip   the requirement does not apply to this target (reason given)
    error  the harness could not decide (timeout, connection lost, setup refused)
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable


class Level(str, enum.Enum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @classmethod
    def parse(cls, text: str) -> "Level":
        # "MUST NOT" and "SHOULD NOT" grade like their positive forms.
        word = text.strip().upper().replace(" NOT", "")
        aliases = {"REQUIRED": "MUST", "SHALL": "MUST", "RECOMMENDED": "SHOULD", "OPTIONAL": "MAY"}
        word = aliases.get(word, word)
        try:
            return cls(word)
        except ValueError:
            raise ValueError(f"unknown requirement level {text!r} (use MUST, SHOULD or MAY)") from None


class Verdict(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"
    ERROR = "error"


class Kind(str, enum.Enum):
    SCRIPT = "script"
    PROBE = "probe"
    PROPERTY = "property"


ID_RE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)+$")
# An RFC section, or a Microsoft Open Specification's (Exchange's WebDAV extensions are specified there,
# e.g. ms-xwdsearch#2.2.1); the report links both.
RFC_RE = re.compile(r"^(?:rfc\d+|ms-[a-z0-9]+)(?:#[A-Za-z0-9.-]+)?$")


@dataclass(frozen=True)
class Check:
    id: str
    protocol: str
    rfc: tuple[str, ...]
    level: Level
    requirement: str
    kind: Kind
    run: Callable[[Any], Awaitable[None]]
    needs: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    source: str = ""  # file (and line) the check is defined in
    timeout: float | None = None  # overrides the run's per-check timeout
    exclusive: bool = False  # must not run beside other checks (connection limits, timing)

    def __post_init__(self) -> None:
        if not ID_RE.match(self.id):
            raise ValueError(f"check id {self.id!r} must be dotted lowercase words, e.g. smtp.rset.clears-transaction")
        if not self.id.startswith(self.protocol + "."):
            raise ValueError(f"check id {self.id!r} must start with its protocol {self.protocol!r}")
        if not self.rfc:
            raise ValueError(f"check {self.id} cites no RFC section")
        for ref in self.rfc:
            if not RFC_RE.match(ref):
                raise ValueError(f"check {self.id}: RFC reference {ref!r} must look like rfc5321#4.5.2 (or ms-xwdsearch#2.2.1)")
        if not self.requirement.strip():
            raise ValueError(f"check {self.id} states no requirement")

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "protocol": self.protocol,
            "rfc": list(self.rfc),
            "level": self.level.value,
            "kind": self.kind.value,
            "requirement": self.requirement,
            "needs": sorted(self.needs),
            "tags": sorted(self.tags),
            "source": self.source,
        }


# --- outcomes a running check raises ---------------------------------------------------------


class CheckOutcome(Exception):
    """Base of the exceptions that end a check with a verdict other than pass."""


class Violation(CheckOutcome):
    """An assertion of the check's requirement did not hold (fail or warn, by level)."""

    def __init__(self, message: str, expected: str = "", observed: str = "") -> None:
        super().__init__(message)
        self.expected = expected
        self.observed = observed


class Skip(CheckOutcome):
    """The requirement does not apply to this target."""


class Undecided(CheckOutcome):
    """The check could not reach the point where the requirement is observable."""

    def __init__(self, message: str, expected: str = "", observed: str = "") -> None:
        super().__init__(message)
        self.expected = expected
        self.observed = observed


@dataclass
class Result:
    check: Check
    target: str
    verdict: Verdict
    reason: str = ""
    expected: str = ""
    observed: str = ""
    duration_s: float = 0.0
    transcript: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    harness_bug: bool = False  # the error came from the harness itself, not the target

    def to_json(self) -> dict[str, Any]:
        c = self.check
        doc = {
            "id": c.id,
            "protocol": c.protocol,
            "target": self.target,
            "verdict": self.verdict.value,
            "level": c.level.value,
            "rfc": list(c.rfc),
            "requirement": c.requirement,
            "kind": c.kind.value,
            "tags": sorted(c.tags),
            "source": c.source,
            "reason": self.reason,
            "expected": self.expected,
            "observed": self.observed,
            "duration_s": round(self.duration_s, 4),
            "observations": self.observations,
            "transcript": self.transcript,
        }
        if self.seed is not None:
            doc["seed"] = self.seed
        if self.harness_bug:
            doc["harness_bug"] = True
        return doc


def grade(level: Level) -> Verdict:
    """The verdict a broken requirement of this level earns."""
    return Verdict.FAIL if level is Level.MUST else Verdict.WARN
