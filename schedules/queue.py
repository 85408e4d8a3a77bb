"""Harvest jobs on a message queue (Celery on RabbitMQ or Redis): the one task and its app.

- One task, ``weidang.harvest(account)``. The worker runs it exactly as the daemon runs a local
  harvest: the face's ``harvest ACCOUNT --json`` in a child process (Scrapy's reactor cannot
  restart in one process), read with ``child.read_result``. The task returns what the child
  printed, so the daemon settles a queued run with the same code as a local one.
- Late acknowledgement, prefetch 1: a job is acknowledged only after its harvest ended, so a job
  whose worker dies (kill -9, power loss) is delivered again to another worker.
- One queue per platform (``PREFIX.harvest.weibo``): a worker serves the platforms it has an
  address and logins for, and a platform refusal stops only what waits in that platform's queue,
  and only for the workers sharing the refused egress (``schedules.egress``).
"""

from __future__ import annotations

import signal
from typing import Any

from celery import Celery
from celery.exceptions import Reject
from celery.signals import worker_ready

from catalog.secret_shapes import scrub_secrets
from schedules.child import ends_with_parent, start_child
from schedules.config import QueueConfig
from schedules.egress import EgressGate

HARVEST_TASK = "weidang.harvest"
PLATFORMS = ("weibo", "wechat")
STDERR_KEEP = 4000  # characters of the child's stderr sent back: its last sentences


def make_app(config: QueueConfig, gate: EgressGate | None = None) -> Celery:
    """The Celery app of the daemon and of the workers (the same settings on both sides); a
    worker's ``gate`` keeps it off the platforms that refused its egress."""
    app = Celery("weidang", broker=config.broker_url, backend=config.backend, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # acknowledged when the harvest ended, not when it was received
        task_reject_on_worker_lost=True,  # a pool process that died: the job goes back
        worker_prefetch_multiplier=1,  # a worker holds no job it is not running
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_default_queue=f"{config.prefix}.harvest", result_expires=7 * 86400,
        broker_connection_retry_on_startup=True,
        # The broker (and with it Redis' results) restarted or cut off: a worker keeps its
        # finished harvest's result and stores it once the backend answers, instead of failing.
        result_backend_always_retry=True,
        broker_transport_options={"visibility_timeout": config.redis_visibility_seconds},
        result_backend_transport_options={"visibility_timeout": config.redis_visibility_seconds},
        worker_hijack_root_logger=False, worker_send_task_events=False,
    )
    command = list(config.worker_command)

    @app.task(name=HARVEST_TASK, bind=True)
    def harvest(task: Any, account: str) -> dict[str, Any]:
        platform = account.partition(":")[0]
        if gate is not None and not gate.check(platform):
            raise Reject("the platform refused this worker's egress", requeue=True)
        result = run_harvest(command, account)
        if gate is not None:
            gate.check(platform)  # refused during this harvest: take no more of its jobs
        return result

    if gate is not None:
        worker_ready.connect(lambda sender, **_: gate.start(app, sender.hostname), weak=False)
    return app


def run_harvest(command: list[str], account: str) -> dict[str, Any]:
    """One harvest in a child that dies with the worker (so a killed worker leaves no harvest
    behind to hold the account's lock while another worker runs the job again)."""
    if not command:
        raise RuntimeError("this process is not a weidang worker: it has no harvest command")
    # SIGKILL: its WARC file stays ``.open`` and is recovered when the worker starts again
    proc = start_child(command, account, preexec=ends_with_parent(signal.SIGKILL))
    try:
        out, err = proc.communicate()
    except BaseException:
        proc.kill()
        raise
    return {"returncode": proc.returncode, "stdout": out, "stderr": scrub_secrets(err[-STDERR_KEEP:])}


def safe_url(url: str) -> str:
    """An address to print: its password replaced (the scrubber then takes any key in it)."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if at:
        user = userinfo.partition(":")[0]
        rest = f"{user}:***@{host}" if user else f"***@{host}"
    return scrub_secrets(scheme + sep + rest)
