"""Run harvests: one Scrapy process, one spider per account, all writing through one WARC writer.

Scrapy's Twisted reactor cannot be restarted inside a process, so ``run_harvests`` runs once per
process: ``weidang harvest`` calls it directly, the daemon starts ``weidang harvest`` as a child
process for each run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from scrapy import signals as scrapy_signals
from scrapy.crawler import CrawlerProcess

from catalog.db import Database
from catalog.posts import PostCatalog
from catalog.runs import RunLog
from crawler import signals
from crawler.backfill import record_backfill
from crawler.book import CaptureBook
from crawler.job import HarvestJob, HarvestSummary
from crawler.settings import Politeness, scrapy_settings
from crawler.spider import HarvestSpider
from harvesters import CaptchaRequired, LoginExpired, Post, RateLimited
from warc_store import CaptureWriter

# How long a platform-wide refusal pauses everything behind it (Weibo's 418 lasts 2-3 hours).
PAUSE_FOR = {RateLimited: timedelta(hours=3), CaptchaRequired: timedelta(hours=3),
             LoginExpired: None}  # a login stays paused until the archivist refreshes it


def run_harvests(jobs: list[HarvestJob], *, writer: CaptureWriter, db: Database,
                 politeness: Politeness, clock: Callable[[], datetime],
                 progress: Callable[[str, int], None] | None = None,
                 record: bool = True) -> list[HarvestSummary]:
    """Harvest every job in this process; ``progress(account, payload_bytes)`` after each exchange."""
    process = CrawlerProcess(settings=scrapy_settings(politeness, record))
    runs = RunLog(db, clock)
    started: list[tuple[HarvestJob, HarvestSummary, CaptureBook, Any]] = []
    closed: dict[str, str] = {}  # harvest id -> why Scrapy closed its spider
    for job in jobs:
        summary = HarvestSummary(job.account, job.harvest_id)
        posts = PostCatalog(db)
        book = CaptureBook(job, writer, posts, summary, clock)
        since = clock() - timedelta(days=job.recheck_days)
        recheck = [Post(platform=job.platform, account_id=job.account_id, post_id=row.post_id,
                        url=row.url, captured_at=clock())
                   for row in posts.recent_posts(job.platform, job.account_id, since)
                   if row.status not in ("deleted", "blocked")] if job.recheck_days > 0 else []
        crawler = process.create_crawler(HarvestSpider)
        runs.start(job.account, "full" if job.mode == "full" else "harvest", run_id=job.harvest_id)
        process.crawl(crawler, job=job, book=book, catalog=posts, summary=summary, clock=clock,
                      recheck=recheck)
        crawler.signals.connect(book.close, signal=scrapy_signals.spider_closed)
        crawler.signals.connect(_close_reason(closed, job.harvest_id), signal=scrapy_signals.spider_closed,
                                weak=False)
        if progress is not None:
            crawler.signals.connect(_progress_handler(progress, job.account),
                                    signal=signals.warc_exchange_written, weak=False)
        started.append((job, summary, book, crawler))
    process.start()
    out = []
    for job, summary, _book, crawler in started:
        spider = crawler.spider
        stats = crawler.stats.get_stats() if crawler.stats else {}
        summary.exchanges = int(stats.get("warc/exchanges", 0))
        summary.revisits = int(stats.get("warc/revisits", 0))
        summary.bytes = int(stats.get("warc/payload_bytes", 0))
        summary.captured_total = PostCatalog(db).count(job.platform, job.account_id)
        summary.errors = [_without_secrets(e, job) for e in summary.errors]
        stop = getattr(spider, "stop", None)
        if stop is not None:
            summary.outcome = "stopped"
            # the platform's message may quote the request's address, login token and all
            summary.reason = _without_secrets(str(stop), job)
            summary.advice = _without_secrets(getattr(stop, "advice", ""), job)
            # a refused login pauses every account using it; without a login, the account itself
            scope = ((f"login:{job.credentials_ref}" if job.credentials_ref else job.account)
                     if isinstance(stop, LoginExpired) else f"platform:{job.platform}")
            duration = PAUSE_FOR.get(type(stop))
            runs.pause(scope, summary.reason, summary.advice,
                       until=clock() + duration if duration else None, run_id=job.harvest_id)
        elif closed.get(job.harvest_id) == "shutdown":  # SIGTERM or Ctrl-C: cut short, cleanly
            summary.outcome = "partial"
            summary.reason = "the harvest was stopped before it finished; what it captured is kept"
            summary.advice = f"run `weidang harvest {job.account} --full` to fetch what it did not reach"
        elif summary.errors:
            summary.outcome = "partial"
        summary.files = list(writer.files_closed)
        record_backfill(db, clock, job, getattr(spider, "backfill", None), summary)
        runs.finish(job.harvest_id, summary.outcome, reason=summary.reason, advice=summary.advice,
                    posts_new=summary.posts_new, posts_edited=summary.posts_edited,
                    posts_unchanged=summary.posts_unchanged, posts_deleted=summary.posts_deleted,
                    bytes_written=summary.bytes, requests=summary.requests,
                    errors=len(summary.errors),
                    # the run history compares posts with posts; a WeChat count of pushes is not
                    reported_total=summary.reported_total if summary.reported_unit == "posts" else None,
                    captured_total=summary.captured_total)
        out.append(summary)
    return out


def _close_reason(closed: dict[str, str], harvest_id: str) -> Callable[..., None]:
    def handler(reason: str = "", **_: Any) -> None:
        closed[harvest_id] = reason

    return handler


def _progress_handler(progress: Callable[[str, int], None], account: str) -> Callable[..., None]:
    def handler(response: Any = None, **_: Any) -> None:
        progress(account, len(response.body) if response is not None else 0)

    return handler


def _without_secrets(text: str, job: HarvestJob) -> str:
    """The text with every login value of the job replaced, as the WARC records have them."""
    for value in sorted(job.credentials.values(), key=len, reverse=True):
        if value and len(value) >= 4:
            text = text.replace(value, "REDACTED")
    return text
