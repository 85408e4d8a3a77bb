"""The dispatch strategy the daemon uses, and what the queue's side prints and refuses."""

from __future__ import annotations

import logging

from filelock import FileLock
from queue_helpers import RABBITMQ

from catalog.db import Database
from catalog.pauses import for_refusal
from catalog.runs import RunLog
from harvesters import RateLimited
from schedules.child import Children
from schedules.config import DaemonConfig, QueueConfig
from schedules.dispatch import make_dispatch
from schedules.dispatch_queue import QueueDispatch
from schedules.egress import EgressGate
from schedules.queue import safe_url
from weidang.cli import main
from weidang.daemon_config import daemon_config
from weidang.home import Home


def test_the_setting_chooses_local_children_or_the_queue(tmp_path):
    log = logging.getLogger("test")
    home = Home(tmp_path / "home")
    local = daemon_config(home, home.settings())
    assert local.dispatch == "local" and isinstance(make_dispatch(local, log), Children)
    queued = daemon_config(home, home.settings(["SCHEDULES_DISPATCH=queue",
                                                "SCHEDULES_QUEUE_PREFIX=p1"]))
    dispatch = make_dispatch(queued, log)
    assert isinstance(dispatch, QueueDispatch) and dispatch.running() == set()
    assert queued.queue is not None and queued.queue.broker_url == RABBITMQ
    assert queued.queue.queue_of("weibo:1669879400") == "p1.harvest.weibo"
    assert queued.queue.backend == "rpc://"
    assert QueueConfig(broker_url="redis://:pw@h:6379/0").backend == "redis://:pw@h:6379/0"
    assert DaemonConfig(home.root, home.root / "c", []).dispatch == "local"  # as before


def test_a_broker_password_is_never_printed():
    assert safe_url("amqp://archive:Tr0ub4dor-3@mq.example:5672/weidang") == \
        "amqp://archive:***@mq.example:5672/weidang"
    assert safe_url("redis://:s3cret@127.0.0.1:6379/0") == "redis://***@127.0.0.1:6379/0"
    assert safe_url("amqp://127.0.0.1//") == "amqp://127.0.0.1//"


def test_a_worker_refuses_an_unknown_platform_in_plain_words(tmp_path, capsys):
    assert main(["--home", str(tmp_path / "home"), "worker", "--queues", "weibo,douyin"]) != 0
    err = capsys.readouterr().err
    assert "douyin is not a platform weidang harvests (it knows weibo, wechat)" in err
    assert "Traceback" not in err


def test_a_second_worker_with_the_same_name_on_one_home_is_refused(tmp_path, capsys):
    (tmp_path / "home" / "locks").mkdir(parents=True)
    held = FileLock(str(tmp_path / "home" / "locks" / "worker-a.lock"))
    with held:
        assert main(["--home", str(tmp_path / "home"), "--set", "SCHEDULES_WORKER_NAME=a",
                     "worker"]) != 0
    err = capsys.readouterr().err
    assert "another worker called a is running on this home" in err


class _Control:
    """Celery's remote control as the egress gate uses it: the commands it sent, to whom."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[str]]] = []

    def cancel_consumer(self, queue: str, destination: list[str], **_: object) -> None:
        self.sent.append(("cancel", queue, destination))

    def add_consumer(self, queue: str, destination: list[str], **_: object) -> None:
        self.sent.append(("add", queue, destination))


def test_a_worker_stops_taking_a_platform_refused_on_its_egress_and_takes_it_again(tmp_path):
    catalog = tmp_path / "catalog.sqlite"
    app = type("App", (), {"control": _Control()})()
    log = logging.getLogger("test")
    gates = {egress: EgressGate(catalog, egress, ["weibo", "wechat"], lambda p: f"q.{p}", log)
             for egress in ("gz", "sh")}
    for egress, gate in gates.items():
        gate._app, gate._hostname = app, f"{egress}@host"  # as the worker_ready signal sets them
    with Database(catalog) as db:
        runs = RunLog(db)
        runs.pause(for_refusal(RateLimited("418"), "weibo:1669879400", None, "gz"), "418")
        assert not gates["gz"].check("weibo") and gates["gz"].check("wechat")
        assert gates["sh"].check("weibo")  # another egress goes on
        assert not gates["gz"].check("weibo")  # asked once, not at every look
        assert app.control.sent == [("cancel", "q.weibo", ["gz@host"])]
        runs.clear("egress:gz:weibo")
        assert gates["gz"].check("weibo")
        assert app.control.sent[-1] == ("add", "q.weibo", ["gz@host"])
        runs.pause("platform:weibo", "418 without an egress")  # pauses every worker
        assert not gates["sh"].check("weibo") and not gates["gz"].check("weibo")
