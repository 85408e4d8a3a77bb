"""Whether a scheduled run may start: pauses, backoff, a harvest already running, the cap."""

from __future__ import annotations

import datetime as dt

from catalog.runs import Pause, Run
from catalog.schema import iso
from schedules.decide import decide
from schedules.plan import JobPlan

NOW = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
KEY = "weibo:1669879400"
PLAN = JobPlan(KEY, "county_login", 3600, None, 0)
DAY = 86400


def _run(started_minutes_ago: float, outcome: str | None) -> Run:
    started = NOW - dt.timedelta(minutes=started_minutes_ago)
    ended = None if outcome is None else iso(started + dt.timedelta(minutes=1))
    return Run(f"r{started_minutes_ago}", KEY, "harvest", iso(started), ended, outcome, "", "",
               0, 0, 0, 0, 0, 0, 0, None, None)


def _pause(scope: str, until: dt.datetime | None = None, reason: str = "refused") -> Pause:
    return Pause(1, scope, reason, "", iso(NOW - dt.timedelta(hours=1)), iso(until) if until else None,
                 None, None)


def _decide(history=(), pauses=(), running=(), capacity=2, plan=PLAN):
    return decide(KEY, plan, list(history), list(pauses), set(running), capacity, NOW, DAY)


def test_an_account_with_nothing_against_it_starts():
    decision = _decide(history=[_run(70, "ok")])
    assert decision.start and decision.what == "start" and decision.retry_at is None


def test_a_removed_account_is_skipped():
    decision = _decide(plan=None)
    assert (decision.start, decision.what) == (False, "skipped-removed")


def test_a_pause_of_its_platform_login_or_self_stops_it_and_says_which():
    for scope in ("platform:weibo", "login:county_login", KEY):
        decision = _decide(pauses=[_pause(scope, reason="Weibo answered 418")])
        assert decision.what == "skipped-paused", scope
        assert decision.reason == f"{scope} is paused: Weibo answered 418 (until cleared)"
        assert decision.retry_at is None  # only the archivist ends it: the next scheduled run


def test_pauses_of_other_platforms_logins_and_accounts_do_not_stop_it():
    others = [_pause("platform:wechat"), _pause("login:another_login"), _pause("weibo:7000000001")]
    assert _decide(pauses=others).start


def test_an_account_without_a_named_login_is_its_own_login():
    plan = JobPlan(KEY, None, 3600, None, 0)
    assert _decide(plan=plan, pauses=[_pause(f"login:{KEY}")]).what == "skipped-paused"


def test_pauses_that_all_expire_retry_right_after_the_last_one():
    soon, later = NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(hours=3)
    decision = _decide(pauses=[_pause("platform:weibo", soon), _pause(KEY, later)])
    assert decision.what == "skipped-paused" and "(until " in decision.reason
    assert decision.retry_at == later + dt.timedelta(seconds=1)
    # one of them until cleared: no retry time, whatever the others say
    assert _decide(pauses=[_pause("platform:weibo", soon), _pause(KEY)]).retry_at is None


def test_failures_in_a_row_back_off_with_the_period_doubling():
    one = _decide(history=[_run(30, "failed")])  # 1 h after the failed start
    assert one.what == "skipped-backoff"
    assert one.retry_at == NOW + dt.timedelta(minutes=30)
    assert iso(NOW + dt.timedelta(minutes=30)) in one.reason
    three = _decide(history=[_run(300, "failed"), _run(400, "stopped"), _run(500, "failed")])
    assert three.retry_at == NOW - dt.timedelta(minutes=300) + dt.timedelta(hours=7)


def test_a_success_ends_the_backoff_and_a_backoff_over_lets_it_start():
    assert _decide(history=[_run(30, "ok"), _run(90, "failed")]).start
    assert _decide(history=[_run(61, "failed")]).start  # 1 h passed since that failed start
    assert _decide(history=[_run(5, None), _run(30, "ok")]).start  # an open run is not a failure


def test_a_pause_is_told_before_a_backoff():
    decision = _decide(history=[_run(30, "failed")], pauses=[_pause("platform:weibo")])
    assert decision.what == "skipped-paused"


def test_an_account_already_being_harvested_is_not_started_twice():
    decision = _decide(running={KEY})
    assert decision.what == "skipped-busy" and KEY in decision.reason


def test_no_start_beyond_the_cap_and_a_retry_soon():
    decision = _decide(running={"weibo:1", "weibo:2"}, capacity=2)
    assert decision.what == "skipped-capacity" and decision.retry_at is not None
    assert decision.retry_at > NOW
    assert _decide(running={"weibo:1"}, capacity=2).start
