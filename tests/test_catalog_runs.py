"""The run history and the pauses: authoritative rows, every change logged as an event."""

from __future__ import annotations

import datetime as dt

import pytest
from catalog_helpers import execute, stored_bytes
from sqlalchemy.exc import DBAPIError
from store_helpers import StepClock

from catalog.errors import InvalidAccount
from catalog.pauses import PauseScope, for_refusal, pause_length, scopes_for
from catalog.runs import INTERRUPTED, RunError, RunLog, stopping
from harvesters import CaptchaRequired, LoginExpired, RateLimited

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
ACCOUNT = "weibo:1669879400"


@pytest.fixture
def runs(catalogs):
    return RunLog(catalogs.open(), StepClock(T0, dt.timedelta(minutes=1)))


def test_a_run_is_started_finished_and_kept_in_the_history(runs):
    run_id = runs.start(ACCOUNT, "full")
    assert run_id.startswith("20261125T080100Z-weibo-1669879400-")
    running = runs.last(ACCOUNT)
    assert running is not None and (running.run_id, running.outcome, running.ended_at) == (run_id, None, None)
    run = runs.finish(run_id, "partial", reason="3 pictures could not be fetched", advice="",
                      posts_new=40, posts_edited=2, posts_unchanged=8, posts_deleted=1,
                      bytes_written=123456, requests=70, errors=3, reported_total=52, captured_total=50)
    assert (run.kind, run.outcome, run.started_at, run.ended_at) == (
        "full", "partial", "2026-11-25T08:01:00.000000Z", "2026-11-25T08:02:00.000000Z")
    assert (run.posts_new, run.bytes_written, run.errors, run.gap) == (40, 123456, 3, 2)
    second = runs.start(ACCOUNT, run_id="harvest-2")
    runs.finish(second, "ok", reported_total=None, captured_total=50)
    assert [r.run_id for r in runs.history(ACCOUNT)] == ["harvest-2", run_id]
    assert runs.last(ACCOUNT).gap is None and runs.last("weibo:1959830294") is None
    assert [e["action"] for e in runs.events(run_id)] == ["run started", "run finished"]
    assert runs.events(run_id)[1]["details"]["reported_total"] == 52


def test_a_run_left_open_by_a_dead_process_is_closed_as_failed_when_the_next_starts(runs):
    dead = runs.start(ACCOUNT)
    other = runs.start("wechat:MzAxMzgxNzUxOA==")
    fresh = runs.start(ACCOUNT)
    closed = runs.get(dead)
    assert closed is not None and (closed.outcome, closed.reason) == ("failed", INTERRUPTED)
    assert runs.get(other).ended_at is None and runs.get(fresh).ended_at is None
    assert runs.events(dead)[-1]["action"] == "run interrupted"
    assert runs.events(dead)[-1]["details"] == {"found_by": fresh}


def test_runs_refuse_what_they_cannot_record(runs):
    run_id = runs.start(ACCOUNT)
    with pytest.raises(RunError, match="not 'done'"):
        runs.finish(run_id, "done")
    runs.finish(run_id, "stopped", reason="Weibo asks for a captcha", advice="wait 3 hours")
    with pytest.raises(RunError, match="already ended"):
        runs.finish(run_id, "ok")
    with pytest.raises(RunError, match="no run nope"):
        runs.finish("nope", "ok")
    with pytest.raises(RunError, match="not 'daily'"):
        runs.start(ACCOUNT, "daily")
    with pytest.raises(RunError, match="already recorded"):
        runs.start("weibo:1959830294", run_id=run_id)
    with pytest.raises(InvalidAccount):
        runs.start("weibo:abc")


def test_the_history_is_never_deleted_and_its_events_never_changed(runs):
    run_id = runs.start(ACCOUNT)
    for statement in ("DELETE FROM runs", "DELETE FROM catalog_events",
                      "UPDATE catalog_events SET action = 'x'", "DELETE FROM pauses"):
        if "pauses" in statement:
            runs.pause("platform:weibo", "rate limited")
        with pytest.raises(DBAPIError, match="append-only|never deleted"):
            execute(runs.db, statement)
    assert runs.get(run_id) is not None


def test_pauses_stop_what_is_behind_them_until_they_expire_or_are_cleared(runs):
    now = T0 + dt.timedelta(hours=1)
    limited = runs.pause("platform:weibo", "Weibo answered 418 (rate limited)",
                         "nothing to do: harvests resume by themselves", until=now + dt.timedelta(hours=3))
    login = runs.pause("login:weibo-main", "the Weibo login has expired",
                       "refresh the cookie of weibo-main in credentials.toml")
    assert {p.scope for p in runs.active_pauses(now)} == {"platform:weibo", "login:weibo-main"}
    assert runs.active_pauses(now + dt.timedelta(hours=4)) == [login]  # the rate limit expired
    # An account is stopped by its platform's pause, its login's pause and its own.
    assert runs.pauses_for(ACCOUNT, "weibo-main", now) == [limited, login]
    assert runs.pauses_for(ACCOUNT, None, now) == [limited]
    assert runs.pauses_for("wechat:MzAxMzgxNzUxOA==", "wechat-main", now) == []
    own = runs.pause(ACCOUNT, "the account asks to be left alone")
    assert runs.pauses_for(ACCOUNT, None, now + dt.timedelta(hours=4)) == [own]

    # Pausing again extends the pause in force rather than adding another.
    extended = runs.pause("platform:weibo", "Weibo answered 418 again", until=now + dt.timedelta(hours=6))
    assert extended.id == limited.id and extended.until == "2026-11-25T15:00:00.000000Z"
    assert runs.clear("login:weibo-main") == 1 and runs.clear("login:weibo-main") == 0
    assert {p.scope for p in runs.active_pauses(now)} == {"platform:weibo", ACCOUNT}
    assert [e["action"] for e in runs.events("platform:weibo")] == ["paused", "pause extended"]
    assert [e["action"] for e in runs.events("login:weibo-main")] == ["paused", "pause cleared"]
    for scope in ("platform:twitter", "login:", "weibo:abc", "everything"):
        with pytest.raises((RunError, InvalidAccount)):
            runs.pause(scope, "x")


def test_a_secret_in_a_reason_never_reaches_the_append_only_history(runs):
    """The crawler scrubs what it knows; the catalog still refuses to keep anything shaped like a
    secret (an access token, a labelled session cookie) in runs, pauses or events."""
    token = "80_" + "AbC9dEf1" * 12
    reason = f"refused (at https://api.weixin.qq.com/x?access_token={token}); slave_sid=SzVxcUdrNmF3T2"
    run_id = runs.start(ACCOUNT)
    runs.pause("login:gov", reason, advice=f"token {token}", run_id=run_id)
    runs.finish(run_id, "stopped", reason=reason, advice=f"token {token}")
    raw = stored_bytes(runs.db)
    assert token.encode() not in raw and b"SzVxcUdrNmF3T2" not in raw
    stored = runs.last(ACCOUNT)
    assert stored is not None
    assert stored.reason == ("refused (at https://api.weixin.qq.com/x?access_token=REDACTED); "
                             "slave_sid=REDACTED")
    assert stored.advice == "token REDACTED"


def test_a_secret_an_older_version_wrote_is_not_shown_again(runs):
    token = "80_" + "AbC9dEf1" * 12
    execute(runs.db, "INSERT INTO runs (run_id, account, kind, started_at, ended_at, outcome, reason, "
            "advice) VALUES ('old', :account, 'harvest', '2026-01-01T00:00:00Z', "
            "'2026-01-01T00:01:00Z', 'stopped', :reason, '')",
            account=ACCOUNT, reason=f"refused (at https://x/?access_token={token})")
    execute(runs.db, "INSERT INTO pauses (scope, reason, advice, since) VALUES ('login:gov', :reason, "
            "'', '2026-01-01T00:00:00Z')", reason=f"token {token}")
    shown = [runs.last(ACCOUNT), *runs.active_pauses(T0)]
    assert [s.reason for s in shown] == ["refused (at https://x/?access_token=REDACTED)", "token REDACTED"]


@pytest.mark.parametrize("refusal,credentials,label,health", [
    (LoginExpired("the cookie is no longer accepted"), "weibo-main", "login:weibo-main", "login expired"),
    # no named login: the account is its own login, and its pause still reads "login expired"
    (LoginExpired("Weibo wants a login"), None, f"login:{ACCOUNT}", "login expired"),
    (RateLimited("418"), None, "platform:weibo", "rate limited"),
    (CaptchaRequired("captcha"), "weibo-main", "platform:weibo", "rate limited")])
def test_a_refusal_pauses_one_scope_that_stops_the_account_and_is_named_by_its_kind(
        runs, refusal, credentials, label, health):
    scope = for_refusal(refusal, ACCOUNT, credentials)
    assert scope.label() == label and PauseScope.parse(label) == scope
    pause = runs.pause(scope, str(refusal), refusal.advice, run_id="r1")
    assert pause.scope == label and pause.target.health == health
    assert runs.pauses_for(ACCOUNT, credentials) == [pause]
    assert stopping(runs.active_pauses(), ACCOUNT, credentials) == [pause]
    assert runs.pauses_for("weibo:1669879401", "other-login") == ([pause] if health == "rate limited"
                                                                  else [])
    assert (pause_length(refusal) is None) == (health == "login expired")


def test_a_rate_limit_on_an_egress_stops_the_platform_for_that_egress_only(runs):
    scope = for_refusal(RateLimited("418"), ACCOUNT, None, egress="gz-line")
    assert scope.label() == "egress:gz-line:weibo" and PauseScope.parse(scope.label()) == scope
    assert scope.health == "rate limited on an egress"
    pause = runs.pause(scope, "418", run_id="r1")
    assert runs.pauses_for(ACCOUNT, None, egress="gz-line") == [pause]
    assert runs.pauses_for("weibo:1669879401", None, egress="gz-line") == [pause]
    assert runs.pauses_for(ACCOUNT, None, egress="sh-line") == []  # another egress goes on
    assert runs.pauses_for(ACCOUNT, None) == []  # nor does it stop the platform everywhere
    assert runs.pauses_for("wechat:MzAxMzgxNzUxOA==", None, egress="gz-line") == []
    # An expired login is the login's, whatever the egress.
    login = for_refusal(LoginExpired("expired"), ACCOUNT, "weibo-main", egress="gz-line")
    assert login.label() == "login:weibo-main"


def test_stored_scopes_are_read_back_as_their_kind(runs):
    assert PauseScope.parse("platform:wechat") == PauseScope.platform("wechat")
    assert PauseScope.parse(ACCOUNT).health == "paused"  # as rows stored before this type say
    assert PauseScope.parse("login:wechat:MzAxMzgxNzUxOA==").health == "login expired"
    assert [s.label() for s in scopes_for(ACCOUNT, None)] == ["platform:weibo", f"login:{ACCOUNT}",
                                                              ACCOUNT]


def test_every_accounts_newest_run_is_read_at_once_as_one_by_one(runs):
    other = "weibo:1669879401"
    for account in (ACCOUNT, other, ACCOUNT):
        runs.finish(runs.start(account), "ok")
    runs.start(other)  # still running
    assert runs.latest() == {ACCOUNT: runs.last(ACCOUNT), other: runs.last(other)}
    assert runs.latest()[other].ended_at is None
