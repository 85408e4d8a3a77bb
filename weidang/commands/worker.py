"""`weidang worker`: take harvest jobs from the message queue and run them (a Celery worker)."""

from __future__ import annotations

import logging
import re
import socket

import click
from filelock import FileLock, Timeout

from weidang.context import AppContext, pass_app
from weidang.home import Home
from weidang.i18n import _
from weidang.settings import Settings

PLATFORMS = ("weibo", "wechat")


def worker_name(configured: str) -> str:
    """The configured name, else this machine's host name made fit for a folder name."""
    if configured:
        return configured
    return re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()).strip(".-")[:57] or "worker"


@click.command("worker")
@click.option("--queues", default=",".join(PLATFORMS), show_default=True, metavar="PLATFORMS",
              help="Platforms whose jobs this worker takes, comma-separated.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Harvests this worker runs at once.")
@pass_app
def command(app: AppContext, queues: str, concurrency: int) -> int:
    """Run the harvests the daemon sends to the message queue, until stopped.

    The daemon sends them with SCHEDULES_DISPATCH=queue (README: "Many machines").

    Each harvest is the same as `weidang harvest ACCOUNT`, in a child process, writing to this
    worker's own collection, worker-NAME (NAME: SCHEDULES_WORKER_NAME, default the host name).
    A job is acknowledged only when its harvest ended: if this worker dies, another gets it.
    """
    from schedules.config import queue_name  # noqa: PLC0415
    from schedules.egress import EgressGate  # noqa: PLC0415
    from schedules.queue import make_app, safe_url  # noqa: PLC0415 - Celery only here
    from weidang.daemon_config import harvest_command, queue_config  # noqa: PLC0415 - the same
    from weidang.store import catalog_target  # noqa: PLC0415

    platforms = [p.strip() for p in queues.split(",") if p.strip()]
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown or not platforms:
        raise click.BadParameter(_("%(given)s is not a platform weidang harvests (it knows %(known)s)",
                                   given=", ".join(unknown) or "''", known=", ".join(PLATFORMS)),
                                 param_hint="--queues")
    settings, home = app.settings, app.home
    name = worker_name(str(settings["SCHEDULES_WORKER_NAME"]))
    collection = f"worker-{name}"
    (home.root / "locks").mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = FileLock(str(home.root / "locks" / f"{collection}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise click.ClickException(_("another worker called %(name)s is running on this home; give "
                                     "each worker its own SCHEDULES_WORKER_NAME", name=name)) from None
    try:
        if (home.collection_dir(collection) / "warcs").is_dir():
            _recover(home, settings, collection)
        config = queue_config(settings, harvest_command(home, app.overrides,
                                                        f"WARC_STORE_COLLECTION={collection}"))
        names = [queue_name(config.prefix, p) for p in platforms]
        click.echo(_("worker %(name)s: collection %(collection)s, queues %(queues)s, broker %(broker)s",
                     name=name, collection=collection, queues=", ".join(names),
                     broker=safe_url(config.broker_url)), err=True)
        # Threads, not Celery's process pool: each harvest is a child process anyway (Scrapy's
        # reactor), so a thread only waits for it; a child dies with the worker (queue.py).
        gate = EgressGate(catalog_target(home, settings), str(settings["CRAWLER_EGRESS"]),
                          platforms, config.queue_of_platform, logging.getLogger("weidang.worker"))
        make_app(config, gate).worker_main(["worker", "--pool", "threads", "--concurrency", str(concurrency),
                                      "--queues", ",".join(names), "--hostname", f"{name}@%h",
                                      "--loglevel", "INFO", "--without-gossip", "--without-mingle"])
    finally:
        lock.release()
    return 0


def _recover(home: Home, settings: Settings, name: str) -> None:
    """What a killed run of this worker left: its open WARC file closed, and the posts it wrote
    there but not yet in the catalog recorded (as every harvest does first; done at once here,
    since this worker's files are on its own disk, where no other worker's harvest repairs them)."""
    from catalog.rebuild import repair  # noqa: PLC0415
    from weidang.store import catalog_db, open_collection, recover_and_warn  # noqa: PLC0415

    collection = open_collection(home, name)
    recover_and_warn(collection)
    with catalog_db(home, settings) as db:
        added = repair(db, collection).added
    if added:
        click.echo(_("worker: recorded %(added)s metadata records that a killed harvest wrote to "
                     "%(name)s but not to the catalog", added=added, name=name), err=True)
