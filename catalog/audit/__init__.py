"""The 四性 audit (DA/T 70: authenticity, integrity, usability, security) of a collection, or of
a transfer package (``run_audit(ctx, "package")``, checks in ``package``).

Checks live one module per property and register themselves (``model.check``); ``run_audit``
runs every registered check and collects one row each. The report's rendering (HTML, terminal)
belongs to the command line above."""

from __future__ import annotations

import datetime as dt
from typing import Any

# (imported to register their checks)
from catalog.audit import authenticity, integrity, package, security, usability  # noqa: F401
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
from catalog.audit.package import PackageContext

__all__ = ["CHECKS", "AuditContext", "AuditReport", "Check", "CheckResult", "Outcome",
           "PackageContext", "Property", "Result", "check", "run_audit"]


def run_audit(ctx: Any, kind: str = "collection") -> AuditReport:
    """Every check registered for ``kind`` on ``ctx`` (an AuditContext for a collection, a
    ``package.PackageContext`` for a transfer package), in the order of the four properties."""
    target = ctx.folder if kind == "package" else ctx.collection.root
    report = AuditReport(target=str(target), kind=kind, started_at=ctx.now.isoformat())
    order = list(Property)
    for item in sorted((c for c in CHECKS if c.kind == kind), key=lambda c: order.index(c.property)):
        report.results.append(CheckResult(item, item.run(ctx)))
    report.finished_at = dt.datetime.now(dt.UTC).isoformat()
    return report
