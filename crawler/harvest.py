"""Run harvests: one Scrapy process, one spider per account, all writing through one WARC writer.

Scrapy's Twisted reactor cannot be restarted inside a process, so ``run_harvests`` runs once per
process: ``weidang harvest`` calls it directly, the daemon starts ``weidang harvest`` as a child
process for each run.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from scrapy import signals as scrapy_signals
from scrapy.crawler import CrawlerProcess

from catalog.db import Database
from catalog.pauses import for_refusal, pause_length
from catalog.posts import PostCatalog
from catalog.runs import RunLog
from catalog.secret_shapes import scrub_secrets
from crawler import signals
from crawler.backfill import record_backfill
from crawler.book import CaptureBook
from crawler.browser import BrowserSettings
from crawler.job import HarvestJob, HarvestSummary
from crawler.outcome import Ending, judge
from crawler.rendering import BrowserStage
from crawler.scrubbed_logs import scrubbed_logs
from crawler.settings import Politeness, scrapy_settings
from crawler.spider import HarvestSpider
from crawler.stopping import run_until_stopped
from harvesters import HarvestProblem, Post
from harvesters.records import WITHDRAWN
from warc_store import CaptureWriter


def run_harvests(jobs: list[HarvestJob], *, writer: CaptureWriter, db: Database,
                 politeness: Politeness, clock: Callable[[], datetime],
                 progress: Callable[[str, int], None] | None = None,
                 record: bool = True,
                 browser: BrowserSettings | None = None) -> list[HarvestSummary]:
    """Harvest every job in this process; ``progress(account, payload_bytes)`` after each exchange.

    With ``browser``, the pages of new posts and versions are rendered after the crawl
    (crawler.rendering), for the jobs whose account wants it."""
    process = CrawlerProcess(settings=scrapy_settings(politeness, record))
    runs = RunLog(db, clock)
    closed: dict[str, str] = {}  # harvest id -> why Scrapy closed its spider
    stage = BrowserStage(browser) if browser is not None and record else None
    started = [_start(process, job, writer, db, runs, clock, closed, progress,
                      render=stage is not None and not stage.note(job)) for job in jobs]
    # what Scrapy and Twisted log meanwhile (addresses with their tokens, tracebacks) too
    with scrubbed_logs(lambda text: _without_secrets(text, writer)):
        run_until_stopped(process)
        for job, _summary, book, _crawler in started:
            if job.harvest_id not in closed:  # abandoned at a stop: Scrapy never closed the spider
                book.close()
        try:
            with stage.stoppable() if stage is not None else nullcontext():
                for job, summary, book, crawler in started:
                    _render(stage, job, summary, book, crawler, writer,
                            closed.get(job.harvest_id, "shutdown"))
        finally:
            if stage is not None:
                stage.close()
    out = []
    for job, summary, _book, crawler in started:
        _settle(job, summary, crawler, writer, db, runs, clock,
                closed.get(job.harvest_id, "shutdown"), politeness.give_up)
        out.append(summary)
    return out


def _start(process: CrawlerProcess, job: HarvestJob, writer: CaptureWriter, db: Database,
           runs: RunLog, clock: Callable[[], datetime], closed: dict[str, str],
           progress: Callable[[str, int], None] | None, render: bool = False,
           ) -> tuple[HarvestJob, HarvestSummary, CaptureBook, Any]:
    """Open the job's run and set its spider up in the process (it runs with the others)."""
    summary = HarvestSummary(job.account, job.harvest_id)
    posts = PostCatalog(db, writer.collection.name)  # the collection it writes: a worker has its own
    book = CaptureBook(job, writer, posts, summary, clock, render=render)
    since = clock() - timedelta(days=job.recheck_days)
    recheck = [Post(platform=job.platform, account_id=job.account_id, post_id=row.post_id,
                    url=row.url, captured_at=clock())
               for row in posts.recent_posts(job.platform, job.account_id, since)
               if row.status not in WITHDRAWN] if job.recheck_days > 0 else []
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
    return job, summary, book, crawler


def _render(stage: BrowserStage | None, job: HarvestJob, summary: HarvestSummary,
            book: CaptureBook, crawler: Any, writer: CaptureWriter, closed: str) -> None:
    """Write the records the book held back, each with its page rendered when the harvest ran
    to its end; a harvest that was stopped, refused or cut off renders nothing more."""
    spider = crawler.spider if isinstance(crawler.spider, HarvestSpider) else None
    cut = closed != "finished" or spider is None or spider.state.refusal is not None \
        or spider.state.gave_up or spider.disk_full or book.disk_full
    render = None
    if stage is not None:
        render = stage.run(job, book.held, writer, summary) if not cut or not book.held else None
        if cut and book.held and not summary.browser_note:
            summary.browser_note = (f"The harvest did not run to its end, so the pages of "
                                    f"{len(book.held)} new posts were not rendered; their records "
                                    "are kept without.")
    book.write_held(render)


def _settle(job: HarvestJob, summary: HarvestSummary, crawler: Any, writer: CaptureWriter,
            db: Database, runs: RunLog, clock: Callable[[], datetime], closed: str,
            give_up: float) -> None:
    """Complete the summary from what the spider knew, and record the run's end (and a pause)."""
    spider = crawler.spider if isinstance(crawler.spider, HarvestSpider) else None
    stats = crawler.stats.get_stats() if crawler.stats else {}
    summary.exchanges = int(stats.get("warc/exchanges", 0))
    summary.revisits = int(stats.get("warc/revisits", 0))
    summary.bytes = int(stats.get("warc/payload_bytes", 0))
    summary.captured_total = PostCatalog(db).count(job.platform, job.account_id)
    stop = spider.state.refusal if spider is not None else None
    if stop is not None:
        summary.outcome = "stopped"
        summary.reason, summary.advice = stop.what(), stop.advice  # the reason without its advice
    else:  # a spider Scrapy never closed was abandoned at a stop: cut short, like a shutdown
        ending = spider.ending(closed, give_up) if spider is not None else Ending(
            closed=closed, give_up_seconds=give_up)
        summary.outcome, summary.reason, summary.advice = judge(summary, job, ending)
    summary.files = list(writer.files_closed)
    record_backfill(db, clock, job, spider.backfill if spider is not None else None, summary)
    _scrub_summary(summary, writer)  # the one place, before the summary leaves: whatever wrote it
    if stop is not None:
        _pause(runs, clock, job, stop, summary)
    runs.finish(job.harvest_id, summary.outcome, reason=summary.reason, advice=summary.advice,
                posts_new=summary.posts_new, posts_edited=summary.posts_edited,
                posts_unchanged=summary.posts_unchanged, posts_deleted=summary.posts_deleted,
                bytes_written=summary.bytes, requests=summary.requests,
                errors=len(summary.errors),
                # the run history compares posts with posts; a WeChat count of pushes is not
                reported_total=summary.reported_total if summary.reported_unit == "posts" else None,
                captured_total=summary.captured_total)


def _close_reason(closed: dict[str, str], harvest_id: str) -> Callable[..., None]:
    def handler(reason: str = "", **_: Any) -> None:
        closed[harvest_id] = reason

    return handler


def _progress_handler(progress: Callable[[str, int], None], account: str) -> Callable[..., None]:
    def handler(response: Any = None, **_: Any) -> None:
        progress(account, len(response.body) if response is not None else 0)

    return handler


def _pause(runs: RunLog, clock: Callable[[], datetime], job: HarvestJob, stop: HarvestProblem,
           summary: HarvestSummary) -> None:
    """Pause what the refusal applies to (the account, its login or the platform) for a while."""
    duration = pause_length(stop)
    runs.pause(for_refusal(stop, job.account, job.credentials_ref, job.egress), summary.reason,
               summary.advice, until=clock() + duration if duration else None, run_id=job.harvest_id)


def _scrub_summary(summary: HarvestSummary, writer: CaptureWriter) -> None:
    """Everything the summary says goes to the catalog, logs, alerts and the screen: no secret.

    The writer knows every secret value of the run (the credentials' secret fields, not public
    ones such as an article address, and tokens obtained during the run); the shapes catch the
    rest. The platform's message may quote the request's address, login token and all."""
    summary.reason = _without_secrets(summary.reason, writer)
    summary.advice = _without_secrets(summary.advice, writer)
    summary.errors = [_without_secrets(e, writer) for e in summary.errors]


def _without_secrets(text: str, writer: CaptureWriter) -> str:
    return scrub_secrets(writer.scrub(text))
