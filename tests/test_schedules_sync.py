"""What a sync of the catalog's schedules to the daemon's jobs changes: plain data, no scheduler."""

from __future__ import annotations

import datetime as dt

from schedules.sync import Changes, Placement, changes, placement, problems_to_tell

NOW = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
HOURLY = "every 3600s jitter 0s"
DAILY = "cron 0 6 * * * jitter 0s"


def test_new_accounts_are_added_changed_schedules_replaced_gone_accounts_removed():
    wanted = {"weibo:1": HOURLY, "weibo:2": DAILY, "weibo:3": HOURLY}
    scheduled = {"weibo:2": HOURLY, "weibo:3": HOURLY, "weibo:4": HOURLY}
    todo = changes(wanted, scheduled)
    assert todo == Changes(add=("weibo:1",), replace=("weibo:2",), remove=("weibo:4",))
    assert todo  # something to do


def test_nothing_changed_means_nothing_to_do_except_rechecking_at_start():
    same = {"weibo:1": HOURLY, "wechat:MzA=": DAILY}
    assert not changes(same, dict(same))
    assert changes(same, dict(same)) == Changes()
    at_start = changes(same, dict(same), catch_up=True)
    assert not at_start and at_start.recheck == ("weibo:1", "wechat:MzA=")


def test_a_recheck_never_includes_what_is_added_or_replaced():
    todo = changes({"weibo:1": HOURLY, "weibo:2": DAILY}, {"weibo:2": HOURLY}, catch_up=True)
    assert todo.add == ("weibo:1",) and todo.replace == ("weibo:2",) and todo.recheck == ()


def test_an_empty_catalog_removes_every_job():
    assert changes({}, {"weibo:1": HOURLY}).remove == ("weibo:1",)


def test_an_account_never_run_is_due_at_once_and_counted_from_now():
    assert placement(None, False, 3600, NOW) == (placement(None, True, 3600, NOW))
    where = placement(None, False, 3600, NOW)
    assert where.due and where.anchor == NOW


def test_a_run_within_its_period_is_not_due_and_anchors_the_schedule():
    last = NOW - dt.timedelta(minutes=10)
    where = placement(last, True, 3600, NOW)
    assert not where.due and where.anchor == last


def test_a_period_over_or_a_run_cut_off_is_due():
    assert placement(NOW - dt.timedelta(hours=1), True, 3600, NOW).due  # exactly one period
    assert placement(NOW - dt.timedelta(hours=2), True, 3600, NOW).due
    assert placement(NOW - dt.timedelta(minutes=1), False, 3600, NOW).due  # killed mid-run


def test_a_run_in_flight_is_never_due_again_whatever_the_catalog_shows():
    """Queued or running in this daemon: no run yet (preparing), one not ended, or one a period old."""
    for last, ended in ((None, False), (NOW - dt.timedelta(minutes=1), False),
                        (NOW - dt.timedelta(hours=2), True)):
        assert placement(last, ended, 3600, NOW, in_flight=True) == Placement(NOW, False)


def test_an_unrunnable_schedule_is_told_once_and_again_only_if_its_problem_changes():
    found = {"weibo:2": "the schedule of weibo:2 cannot be run (too long)"}
    assert problems_to_tell({}, found) == found
    assert problems_to_tell(found, found) == {}
    changed = {"weibo:2": "the schedule of weibo:2 cannot be run (bad cron)"}
    assert problems_to_tell(found, changed) == changed
    assert problems_to_tell(found, {}) == {}
