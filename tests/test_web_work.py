"""The web's work shelf: work beside the queue (a QR login waiting on a person) is capped, one
per person, and a failure's traceback reaches the log without a secret in it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest

from weidang.web import work as shelf_module
from weidang.web.work import BESIDE_LIMIT, ShelfFull, WorkShelf


def _shelf() -> WorkShelf:
    return WorkShelf(lambda: dt.datetime.now(dt.UTC), lambda work, exc: f"failed: {exc}")


def _ended(work, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds  # a bound on waiting, not a timing
    while not work.over and time.monotonic() < deadline:
        time.sleep(0.01)
    assert work.over


def test_one_waiting_login_per_person_and_a_few_in_all():
    shelf, release = _shelf(), threading.Event()

    def wait(work) -> None:
        release.wait(30)

    first = shelf.start("QR", "keeper", "zh_CN", wait, beside=True)
    with pytest.raises(ShelfFull) as again:
        shelf.start("QR", "keeper", "zh_CN", wait, beside=True)
    assert again.value.mine is first
    others = [shelf.start("QR", f"archivist{n}", "zh_CN", wait, beside=True) for n in range(BESIDE_LIMIT - 1)]
    with pytest.raises(ShelfFull) as full:
        shelf.start("QR", "latecomer", "zh_CN", wait, beside=True)
    assert full.value.mine is None
    shelf.start("audit", "latecomer", "zh_CN", lambda work: None)  # the queue is not capped by it
    release.set()
    for work in (first, *others):
        _ended(work)
    later = shelf.start("QR", "keeper", "zh_CN", lambda work: None, beside=True)
    _ended(later)
    assert later.state == "done"


def test_a_failed_works_traceback_is_logged_without_the_cookie(caplog):
    def leaks(work) -> None:
        raise RuntimeError("the browser held cookie=SUB_2A25Lq9xDeRhGeNP6lUW8yfK in its state")

    with caplog.at_level(logging.ERROR, logger=shelf_module.__name__):
        work = _shelf().start("QR", "keeper", "zh_CN", leaks, beside=True)
        _ended(work)
    assert work.state == "failed"
    logged = caplog.text
    assert "RuntimeError" in logged and "Traceback" in logged
    assert "SUB_2A25Lq9xDeRhGeNP6lUW8yfK" not in logged


def test_a_second_qr_login_of_the_same_person_leads_back_to_the_first(tmp_path, monkeypatch):
    from test_web_accounts import PASSWORD, client_of, flashes

    from catalog.users import add_user
    from weidang.home import Home
    from weidang.web import create_app, login_views

    release = threading.Event()
    monkeypatch.setattr(login_views, "qr_login_job", lambda *args: lambda work: release.wait(30))
    home = Home(tmp_path / "home")
    app = create_app(home, home.settings([]), environ={})
    with app.config["DB"].write() as conn:
        add_user(conn, "keeper", "archivist", PASSWORD, "test")
    keeper = client_of(app, "keeper")
    form = {"csrf_token": keeper.token, "name": "web_weibo", "platform": "weibo"}
    first = keeper.post("/accounts/logins/qr?lang=zh_CN", data=form)
    second = keeper.post("/accounts/logins/qr?lang=zh_CN", data=form)
    release.set()
    assert first.status_code == second.status_code == 302
    assert second.location == first.location and "/work/" in first.location
    shown = flashes(keeper.get(second.location + "?lang=zh_CN").text)
    assert any("扫码登录仍在等待扫描" in f for f in shown), shown
