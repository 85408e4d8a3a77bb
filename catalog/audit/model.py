"""The parts of a 四性 audit: checks, their results, what they run on, and the report.

A check is a plain function registered with its property and its titles (Chinese first); new
checks (transfer packages, 档号 once appraisal exists) are added by registering more functions,
nothing else changes. Every check answers passed, failed or not applicable, with evidence: the
files, records and posts it is about, in words an auditor can follow up.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from catalog.db import Database
from warc_store import Collection, Seal, VerifyReport, verify_collection
from warc_store.timestamp import TsaConfig


class Property(enum.Enum):
    """The four properties of DA/T 70, in the order the report lists them."""

    AUTHENTICITY = ("authenticity", "真实性")
    INTEGRITY = ("integrity", "完整性")
    USABILITY = ("usability", "可用性")
    SECURITY = ("security", "安全性")

    @property
    def key(self) -> str:
        return self.value[0]

    @property
    def zh(self) -> str:
        return self.value[1]


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    evidence: list[str] = field(default_factory=list)  # one finding (or one fact checked) a line

    @classmethod
    def of(cls, problems: list[str], checked: str) -> Result:
        """Failed with ``problems`` as evidence, else passed with what was ``checked``."""
        if problems:
            return cls(Outcome.FAILED, _capped(problems))
        return cls(Outcome.PASSED, [checked])

    @classmethod
    def not_applicable(cls, reason: str) -> Result:
        return cls(Outcome.NOT_APPLICABLE, [reason])


EVIDENCE_LINES = 50  # a broken archive can yield thousands of findings: the first ones and a count


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= EVIDENCE_LINES:
        return lines
    return lines[:EVIDENCE_LINES] + [f"... and {len(lines) - EVIDENCE_LINES} more"]


@dataclass
class AuditContext:
    """What the checks look at: one collection, its home's catalog (None when there is none) and
    the home's folder (for the secret and permission checks)."""

    collection: Collection
    collection_name: str
    db: Database | None
    home_root: Any = None  # pathlib.Path of the home, or None when auditing a bare collection
    seal: Seal | None = None
    workers: int = 0
    tsa: TsaConfig | None = None  # who may sign the seals' time-stamps (the CA); None: not checked
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @cached_property
    def verify(self) -> VerifyReport:
        """The collection's full verification, run once and shared by the checks that need it."""
        return verify_collection(self.collection, self.workers, self.seal, tsa=self.tsa)


Runner = Callable[[Any], Result]  # takes the context of its kind: AuditContext, or PackageContext


@dataclass(frozen=True)
class Check:
    id: str
    property: Property
    title_zh: str
    title_en: str
    run: Runner
    kind: str = "collection"  # what it audits: "collection", or "package" (a transfer package)


CHECKS: list[Check] = []


def check(check_id: str, prop: Property, title_zh: str, title_en: str,
          kind: str = "collection") -> Callable[[Runner], Runner]:
    """Register a check function for audits of ``kind`` (the report keeps the order of registration)."""
    def register(run: Runner) -> Runner:
        if any(c.id == check_id and c.kind == kind for c in CHECKS):
            raise ValueError(f"two audit checks are named {check_id}")
        CHECKS.append(Check(check_id, prop, title_zh, title_en, run, kind))
        return run
    return register


@dataclass(frozen=True)
class CheckResult:
    check: Check
    result: Result

    def to_json(self) -> dict[str, Any]:
        c = self.check
        return {"id": c.id, "property": c.property.key, "property_zh": c.property.zh,
                "title_zh": c.title_zh, "title_en": c.title_en,
                "result": self.result.outcome.value, "evidence": list(self.result.evidence)}


@dataclass
class AuditReport:
    target: str
    kind: str  # "collection" or "package"
    started_at: str
    finished_at: str = ""
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.result.outcome is Outcome.FAILED]

    def counts(self) -> dict[str, int]:
        return {o.value: sum(r.result.outcome is o for r in self.results) for o in Outcome}

    def to_json(self) -> dict[str, Any]:
        return {"format": "weidang-audit/1", "target": self.target, "kind": self.kind,
                "started_at": self.started_at, "finished_at": self.finished_at, "ok": self.ok,
                "counts": self.counts(), "checks": [r.to_json() for r in self.results]}
