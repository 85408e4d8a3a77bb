"""What a harvest the platform did not refuse came to: ok, partial or failed, and why.

A harvest is never ``ok`` when it captured nothing it was meant to: one that could ask for
nothing (no login, no URL), or read no listing page while the platform may hold posts, failed;
one the platform (or the proxy) stopped answering is said to be unreachable, with the cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.job import HarvestJob, HarvestSummary
from crawler.reachability import unreachable_advice, unreachable_reason
from warc_store.lines import DISK_FULL, FREE_SPACE


@dataclass(frozen=True)
class Ending:
    """What the spider knew when it closed."""

    closed: str = ""  # why Scrapy closed the spider: "finished", "shutdown" (SIGTERM, Ctrl-C) ...
    not_started: str = ""  # why the harvester could ask for nothing (no login, no URL)
    no_answer: str = ""  # why the last request that got no answer got none, in words
    gave_up: bool = False  # it stopped asking after CRAWLER_UNREACHABLE_GIVE_UP_SECONDS
    posts_seen: int = -1  # posts any answer showed (-1: not known)
    disk_full: bool = False  # what it fetched could not all be stored: no space left
    give_up_seconds: float = 60.0


FIX_ACCOUNT = ("Fix the account's login in the credentials file (or its listing source, "
               "`weidang accounts`), then harvest again.")


def judge(summary: HarvestSummary, job: HarvestJob, ending: Ending) -> tuple[str, str, str]:
    """(outcome, reason, advice); the reason is one sentence, the advice says what to do."""
    if ending.not_started:
        return "failed", ending.not_started, FIX_ACCOUNT
    if ending.disk_full:  # whatever else went wrong follows from it
        return ("partial" if summary.exchanges else "failed",
                f"{DISK_FULL}, so the harvest stopped: what it fetched could not be stored",
                f"{FREE_SPACE[0].upper()}{FREE_SPACE[1:]}; the next harvest of {job.account} "
                "carries on.")
    # A `urls` source has no listing: it read something only if an article showed a post.
    listed = summary.pages > 0 or (job.source == "urls" and ending.posts_seen > 0)
    if ending.closed == "shutdown" and not ending.gave_up:  # SIGTERM or Ctrl-C: cut short, cleanly
        return ("partial", "the harvest was stopped before it finished; what it captured is kept",
                f"the next harvest of {job.account} carries on where this one stopped "
                f"(`weidang harvest {job.account}`, or the daemon's next run)")
    if ending.no_answer and (ending.gave_up or not listed):
        return ("partial" if listed else "failed",
                unreachable_reason(job.platform, ending.no_answer),
                unreachable_advice(ending.no_answer, job.proxy, ending.give_up_seconds))
    if not listed and job.source == "urls" and summary.errors:
        return ("failed", f"none of the listed articles could be read: {summary.errors[0]}",
                "Check the article addresses in the account's credentials entry (`urls`), "
                "then harvest again.")
    if not listed and summary.reported_total != 0:
        if summary.errors:
            return "failed", f"no listing page could be read: {summary.errors[0]}", FIX_ACCOUNT
        return ("failed", "the platform answered no listing page, so nothing was captured",
                "Check the account id and its listing source, then harvest again.")
    if listed and ending.posts_seen == 0 and summary.reported_total and not summary.errors:
        return ("failed", f"the listing showed no post, though the platform reports "
                          f"{summary.reported_total} {summary.reported_unit}",
                "Check the account's login and listing source (a login the platform no longer "
                "accepts can show an empty listing), then harvest again.")
    return ("partial" if summary.errors else "ok"), summary.reason, summary.advice
