"""The dispatch strategy the daemon uses, and what the queue's side prints and refuses."""

from __future__ import annotations

import logging

from filelock import FileLock
from queue_helpers import RABBITMQ

from schedules.child import Children
from schedules.config import DaemonConfig, QueueConfig
from schedules.dispatch import make_dispatch
from schedules.dispatch_queue import QueueDispatch
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
