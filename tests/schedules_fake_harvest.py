"""A stand-in for `weidang harvest ACCOUNT --json` in daemon tests: fast, and told what to do.

Usage: python schedules_fake_harvest.py HOME ACCOUNT --json. HOME/fake.json says, per account,
``sleep`` seconds, ``outcome`` (ok, failed, stopped) with its ``reason`` and ``advice``,
``error`` (a sentence printed as `Error: ...`, exit 1, no run recorded), or ``skipped`` (busy,
paused or removed: the face's JSON for a harvest that did not run, with ``reason`` as its
sentence, exit 1), ``prepare`` seconds spent before the run is opened, ``warnings`` (sentences
in its summary), ``pause`` and ``alert`` (a skip's pause, and whether its login check made it
just now) and ``login_notices``. Every start and end is appended to HOME/fake.log.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    home, account = Path(sys.argv[1]), sys.argv[2]
    plan_file = home / "fake.json"
    plan = json.loads(plan_file.read_text()).get(account, {}) if plan_file.exists() else {}
    with open(home / "fake.log", "a") as log:
        event = {"account": account, "event": "start", "t": time.time(), "pid": os.getpid()}
        log.write(json.dumps(event) + "\n")
    if plan.get("error"):
        print(f"Error: {plan['error']}", file=sys.stderr)
        return 1
    if plan.get("skipped"):
        print(json.dumps([{"account": account, "outcome": "skipped", "why": plan["skipped"],
                           "reason": plan.get("reason", ""), "pause": plan.get("pause"),
                           "alert": plan.get("alert", False)}]))
        print(f"Error: {plan.get('reason', '')}", file=sys.stderr)
        return 1
    # The catalog (and SQLAlchemy) loads after the start is logged: a loaded machine's slow
    # imports are the harvest's preparation, not a later start.
    from catalog.db import Database
    from catalog.runs import RunLog

    time.sleep(float(plan.get("prepare", 0)))
    db = Database(home / "catalog.sqlite")
    runs = RunLog(db)
    run_id = runs.start(account)
    time.sleep(float(plan.get("sleep", 0)))
    outcome = plan.get("outcome", "ok")
    runs.finish(run_id, outcome, reason=plan.get("reason", ""), posts_new=1)
    db.close()
    with open(home / "fake.log", "a") as log:
        log.write(json.dumps({"account": account, "event": "end", "t": time.time()}) + "\n")
    print(json.dumps([{"account": account, "harvest_id": run_id, "outcome": outcome,
                       "reason": plan.get("reason", ""), "advice": plan.get("advice", ""), "posts_new": 1,
                       "posts_edited": 0, "posts_deleted": 0,
                       "warnings": plan.get("warnings", []),
                       "login_notices": plan.get("login_notices", [])}]))
    return 0 if outcome == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
