"""A backfill across runs: which part of the listing this run walks, and what it leaves for the next.

A backfill run follows two walks of the account's listing, told apart by ``meta["chain"]``:
the *top* walk (new posts, stopping at the first one the archive holds, as any incremental
harvest) and the *backfill* walk, which starts at the top on the backfill's first run and at
the saved cursor on the next ones, never stops at known posts, and stops after ``max_pages``
pages (politeness: a 20,000-post account is walked over many runs, not in one). The cursor of
the next page it did not walk is saved in the catalog when the run ends (``catalog.backfills``);
a run killed before that saves nothing, and the next run walks its part again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.backfills import Backfills, progress_note
from catalog.db import Database
from catalog.runs import RunLog
from crawler.job import HarvestJob, HarvestSummary
from harvesters import ParseResult, RequestSpec


@dataclass
class BackfillWalk:
    max_pages: int
    cursor_of: Callable[[RequestSpec], dict[str, Any] | None]
    frontier: dict[str, Any] | None = None  # the first page not walked yet
    pages: int = 0
    ended: bool = False  # the listing's last page was reached
    cut: bool = False  # stopped by the page budget: the next run goes on

    def next_pages(self, spec: RequestSpec, result: ParseResult) -> list[RequestSpec]:
        """The pages to ask for after this answer of the backfill walk (none past the budget)."""
        if spec.purpose.is_page and not spec.meta.get("overlap"):
            self.pages += 1  # a page walked again for safety (offsets shift) is not progress
        if not result.next_requests:
            if result.end_of_listing:
                self.ended, self.frontier = True, None
            return []
        for request in result.next_requests:
            request.meta["chain"] = "backfill"
        self.frontier = self.cursor_of(result.next_requests[0]) or self.frontier
        if spec.purpose.is_page and not spec.meta.get("overlap") and self.pages >= self.max_pages:
            self.cut = True
            return []
        return list(result.next_requests)


def record_backfill(db: Database, clock: Any, job: HarvestJob, walk: BackfillWalk | None,
                    summary: HarvestSummary) -> None:
    """Save where the backfill stands after this run, and put its progress in the summary."""
    if walk is None or not job.backfill:
        return
    # A walk that ran out without being cut, in a run that was not stopped, reached the end
    # (a feed, a list of URLs: one page or none).
    finished = walk.ended or (not walk.cut and walk.frontier is None and summary.outcome == "ok")
    state = Backfills(db, clock).record(job.account, job.harvest_id, begun=job.backfill == "start",
                                        cursor=walk.frontier, finished=finished, pages=walk.pages)
    posts = summary.reported_total if summary.reported_unit == "posts" else None
    summary.backfill = {"state": "finished" if state.finished else "continuing",
                        "pages": state.pages, "runs": state.runs,
                        "started_at": state.started_at,
                        "note": progress_note(state, summary.captured_total, posts)}


def backfill_plan(db: Database, runs: RunLog, key: str, full: bool) -> tuple[str, dict[str, Any]]:
    """Whether this harvest begins a backfill, goes on with one (from where), or is incremental.

    ``--full`` and an account's first harvest begin one; it goes on at each harvest until its
    walk reaches the end of the listing. An account harvested whole before backfills were
    recorded (a run that walked its listing to the end) needs none.
    """
    state = Backfills(db).get(key)
    if full:
        return "start", {}
    if state is None:
        walked = any(r.outcome == "ok" or (r.outcome == "partial" and not r.reason)
                     for r in runs.history(key, 1000))
        return ("", {}) if walked else ("start", {})
    if state.finished:
        return "", {}
    return ("resume", state.cursor) if state.cursor else ("start", {})
