"""The 四性 audit report for people: a self-contained HTML page (no script, no outside file) and
a terminal summary, Chinese first with English. Words are Chinese and English literals side by
side in this package (``WORDS`` and the template), not gettext: the report is bilingual on
every page, whatever the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

if TYPE_CHECKING:
    from catalog.audit import AuditReport

WORDS = {
    "passed": ("通过", "passed"),
    "failed": ("未通过", "failed"),
    "not_applicable": ("不适用", "not applicable"),
}
MARKS = {"passed": "✓", "failed": "✗", "not_applicable": "–"}


def render_html(report: AuditReport) -> str:
    env = Environment(loader=PackageLoader("weidang.audit_report", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html").render(report=report.to_json(), words=WORDS)


def summary_lines(report: AuditReport) -> list[str]:
    """One line per check, then its evidence when it failed, then the verdict."""
    lines = [f"四性检测 4-property audit: {report.target}"]
    for row in report.to_json()["checks"]:
        zh, en = WORDS[row["result"]]
        lines.append(f"  {MARKS[row['result']]} {row['property_zh']} {row['title_zh']} "
                     f"({row['title_en']}): {zh} {en}")
        if row["result"] != "passed":
            lines += [f"      {item}" for item in row["evidence"][:5]]
            if len(row["evidence"]) > 5:
                lines.append(f"      ... ({len(row['evidence']) - 5} more in the report)")
    counts = report.counts()
    verdict = "全部通过 all checks passed" if report.ok else "发现问题 PROBLEMS FOUND"
    lines.append(f"  {counts['passed']} 通过 passed, {counts['failed']} 未通过 failed, "
                 f"{counts['not_applicable']} 不适用 not applicable: {verdict}.")
    return lines
