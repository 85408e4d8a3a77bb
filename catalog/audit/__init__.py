"""The 四性 audit (DA/T 70: authenticity, integrity, usability, security) of a collection.

Checks live one module per property and register themselves (``model.check``); ``run_audit``
runs every registered check and collects one row each. The report's rendering (HTML, terminal)
belongs to the command line above."""

from __future__ import annotations

import datetime as dt

from catalog.audit import authenticity, integrity, security, usability  # noqa: F401  (registers)
from catalog.audit.model import (
    CHECKS,
    AuditContext,
    AuditReport,
    Check,
    CheckResult,
    Outcome,
    Property,
    Result,
    check,
)

__all__ = ["CHECKS", "AuditContext", "AuditReport", "Check", "CheckResult", "Outcome", "Property",
           "Result", "check", "run_audit"]


def run_audit(ctx: AuditContext, kind: str = "collection") -> AuditReport:
    """Every registered check on ``ctx``, in the order of the four properties."""
    report = AuditReport(target=str(ctx.collection.root), kind=kind,
                         started_at=ctx.now.isoformat())
    order = list(Property)
    for item in sorted(CHECKS, key=lambda c: order.index(c.property)):
        report.results.append(CheckResult(item, item.run(ctx)))
    report.finished_at = dt.datetime.now(dt.UTC).isoformat()
    return report
