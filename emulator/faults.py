"""The fault plan: which requests get which fault, and when the world changes.

One TOML file (see emulator/plans/example.toml for every field) holds `[[rule]]` tables, each
matching requests and naming a fault, and `[[mutation]]` tables, each changing the world once
(after some requests, at a time, or when the control API triggers it).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import random
import re
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.exchange import Request, Response, json_response

FAULTS = ("status", "weibo_captcha", "wechat_ret", "wechat_errcode", "delay", "truncate",
          "invalid_utf8", "drop", "body", "encode")
# Faults that change the normal answer instead of replacing it.
WRAPPING = ("delay", "truncate", "invalid_utf8", "encode")
# Content codings the proxy can answer in (a rule's `encoding`); gzip is the default.
ENCODINGS = ("gzip", "deflate", "br", "zstd", "identity")
WECHAT_RET_MESSAGES = {200013: "freq control", 200003: "invalid session", 200002: "invalid args"}
WECHAT_ERRMSGS = {45009: "reach max api daily quota limit", 45011: "api minute-quota reach limit",
                  40001: "invalid credential, access_token is invalid or not latest",
                  42001: "access_token expired", -1: "system error", 48001: "api unauthorized"}
CAPTCHA_URL = "https://m.weibo.cn/api/geetest?testType=1&backUrl=/"
_STATUS_PAGES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                 504: "Gateway Time-out"}
_RULE_KEYS = {"name", "client", "host", "path", "path_regex", "method", "query", "nth", "after", "every",
              "probability", "times", "fault", "status", "body", "content_type", "ret",
              "err_msg", "errcode", "errmsg", "url", "seconds", "keep", "bytes", "delay",
              "encoding"}
_MUTATION_KEYS = {"name", "op", "platform", "id", "uid", "biz", "mid", "idx", "text", "title",
                  "recorded", "after_requests", "host", "path", "at", "on_control"}


class FaultPlanError(ValueError):
    """A fault plan that cannot be used, said in one sentence."""


@dataclass
class Selector:
    host: str = "*"
    client: str = "*"  # glob on the address the request came from
    path: str = "*"
    path_regex: re.Pattern[str] | None = None
    method: str | None = None
    query: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> Selector:
        regex = table.get("path_regex")
        return cls(host=str(table.get("host", "*")), client=str(table.get("client", "*")),
                   path=str(table.get("path", "*")),
                   path_regex=re.compile(regex) if regex else None,
                   method=str(table["method"]).upper() if table.get("method") else None,
                   query={str(k): str(v) for k, v in (table.get("query") or {}).items()})

    def matches(self, request: Request) -> bool:
        if not fnmatch.fnmatchcase(request.host, self.host):
            return False
        if not fnmatch.fnmatchcase(request.client, self.client):
            return False
        if self.path_regex is not None:
            if not self.path_regex.search(request.path):
                return False
        elif not fnmatch.fnmatchcase(request.path, self.path):
            return False
        if self.method and request.method != self.method:
            return False
        query = request.query
        return all(name in query and fnmatch.fnmatchcase(query[name], pattern)
                   for name, pattern in self.query.items())


@dataclass
class Rule:
    table: dict[str, Any]
    selector: Selector
    rng: random.Random
    seen: int = 0
    fired: int = 0

    @property
    def name(self) -> str:
        return str(self.table.get("name") or self.table["fault"])

    def due(self) -> bool:
        """Count one matching request and say whether the fault applies to it."""
        self.seen += 1
        table, n = self.table, self.seen
        if table.get("nth") is not None and n not in _int_list(table["nth"]):
            return False
        if n <= int(table.get("after", 0)):
            return False
        every = int(table.get("every", 0))
        if every and (n - int(table.get("after", 0))) % every:
            return False
        if int(table.get("times", 0)) and self.fired >= int(table["times"]):
            return False
        if self.rng.random() >= float(table.get("probability", 1.0)):
            return False
        self.fired += 1
        return True


def _int_list(value: Any) -> list[int]:
    return [int(v) for v in value] if isinstance(value, list) else [int(value)]


@dataclass
class Mutation:
    table: dict[str, Any]
    selector: Selector
    seen: int = 0
    applied: bool = False

    @property
    def name(self) -> str:
        return str(self.table.get("name") or self.table.get("on_control") or self.table["op"])

    def due(self, request: Request | None, now: dt.datetime) -> bool:
        if self.applied or "on_control" in self.table:
            return False
        if "at" in self.table:
            at = self.table["at"]
            when = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            return now >= when
        if "after_requests" in self.table:
            if request is None or not self.selector.matches(request):
                return False
            self.seen += 1
            return self.seen > int(self.table["after_requests"])
        return True  # no trigger: applies as soon as the plan is loaded


class FaultPlan:
    """Parsed rules and mutations, with their counters; safe to share between threads."""

    def __init__(self, data: dict[str, Any] | None = None, source: str = "plan") -> None:
        data = data or {}
        self.source = source
        self._lock = threading.Lock()
        seed = int(data.get("seed", 0))
        unknown = set(data) - {"seed", "rule", "mutation", "description", "per_address_rps"}
        if unknown:
            raise FaultPlanError(f"the fault plan {source} has unknown entries: "
                                 f"{', '.join(sorted(unknown))}")
        self.rules = [self._rule(t, seed + n) for n, t in enumerate(data.get("rule", []))]
        self.per_address_rps = float(data.get("per_address_rps", 0))
        if self.per_address_rps < 0:
            raise FaultPlanError(f"per_address_rps in the fault plan {source} must be 0 (no limit) "
                                 "or a positive number of requests per second")
        self._next_answer: dict[str, float] = {}
        self.mutations = [self._mutation(t) for t in data.get("mutation", [])]

    def _rule(self, table: dict[str, Any], seed: int) -> Rule:
        unknown = set(table) - _RULE_KEYS
        if unknown:
            raise FaultPlanError(f"a rule in the fault plan {self.source} has unknown fields: "
                                 f"{', '.join(sorted(unknown))}")
        if table.get("fault") not in FAULTS:
            raise FaultPlanError(f"each rule in the fault plan {self.source} needs fault = one "
                                 f"of {', '.join(FAULTS)}")
        if table.get("encoding", "gzip") not in ENCODINGS:
            raise FaultPlanError(f"a rule's encoding in the fault plan {self.source} must be one "
                                 f"of {', '.join(ENCODINGS)}")
        try:
            return Rule(table, Selector.from_table(table), random.Random(seed))
        except re.error as exc:
            raise FaultPlanError(f"a rule's path_regex in {self.source} is invalid: {exc}") from exc

    def _mutation(self, table: dict[str, Any]) -> Mutation:
        unknown = set(table) - _MUTATION_KEYS
        if unknown or table.get("op") not in ("add", "delete", "edit", "block"):
            raise FaultPlanError(f"a mutation in the fault plan {self.source} needs op = add, "
                                 "delete, edit or block and only the documented fields")
        return Mutation(table, Selector.from_table(table))

    @classmethod
    def from_text(cls, text: str, source: str = "plan") -> FaultPlan:
        try:
            return cls(tomllib.loads(text), source)
        except tomllib.TOMLDecodeError as exc:
            raise FaultPlanError(f"the fault plan {source} is not valid TOML ({exc})") from exc

    @classmethod
    def from_file(cls, path: str | Path) -> FaultPlan:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise FaultPlanError(f"the fault plan {path} cannot be read ({exc.strerror})") from exc
        return cls.from_text(text, str(path))

    def due_mutations(self, request: Request | None) -> list[Mutation]:
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            due = [m for m in self.mutations if m.due(request, now)]
            for mutation in due:
                mutation.applied = True
            return due

    def triggered(self, name: str) -> list[Mutation]:
        with self._lock:
            due = [m for m in self.mutations
                   if m.table.get("on_control") == name and not m.applied]
            for mutation in due:
                mutation.applied = True
            return due

    def throttle(self, client: str) -> None:
        """The platforms' per-address limit: each address gets at most ``per_address_rps``
        answers a second; a faster one waits (as if the platform were slow to it)."""
        if self.per_address_rps <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_answer.get(client, now))
            self._next_answer[client] = slot + 1 / self.per_address_rps
        if slot > now:
            time.sleep(slot - now)

    def fault_for(self, request: Request) -> Rule | None:
        """The first rule that matches and is due; every matching rule counts the request."""
        with self._lock:
            chosen = None
            for rule in self.rules:
                if rule.selector.matches(request) and rule.due() and chosen is None:
                    chosen = rule
            return chosen

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"source": self.source,
                    "rules": [{"name": r.name, "seen": r.seen, "fired": r.fired}
                              for r in self.rules],
                    "mutations": [{"name": m.name, "applied": m.applied}
                                  for m in self.mutations]}


def replacement(rule: Rule) -> Response | None:
    """The answer a replacing fault gives instead of the normal one (None for wrapping faults)."""
    table, kind = rule.table, rule.table["fault"]
    response: Response | None = None
    if kind == "status":
        status = int(table.get("status", 500))
        default = ""
        if status in _STATUS_PAGES:
            default = (f"<html>\r\n<head><title>{status} {_STATUS_PAGES[status]}</title></head>\r\n"
                       f"<body>\r\n<center><h1>{status} {_STATUS_PAGES[status]}</h1></center>\r\n"
                       "</body>\r\n</html>\r\n")
        response = Response(status=status, body=str(table.get("body", default)).encode(),
                            content_type=str(table.get("content_type", "text/html")))
    elif kind == "weibo_captcha":
        response = json_response({"ok": -100, "errno": "-100",
                                  "url": str(table.get("url", CAPTCHA_URL))})
    elif kind == "wechat_ret":
        ret = int(table.get("ret", 200013))
        message = str(table.get("err_msg", WECHAT_RET_MESSAGES.get(ret, "error")))
        response = json_response({"base_resp": {"ret": ret, "err_msg": message}}, weibo=False)
    elif kind == "wechat_errcode":
        code = int(table.get("errcode", 45009))
        message = str(table.get("errmsg", WECHAT_ERRMSGS.get(code, "error")))
        response = json_response({"errcode": code, "errmsg": f"{message} rid: 0000-emulator"},
                                 weibo=False)
    elif kind == "body":
        response = Response(status=int(table.get("status", 200)),
                            body=str(table.get("body", "")).encode("utf-8"),
                            content_type=str(table.get("content_type", "text/plain")))
    elif kind == "drop":
        response = Response(drop=True)
    if response is not None:
        response.delay = float(table.get("delay", 0))
        response.fault = rule.name
        response.encoding = table.get("encoding")
    return response


def wrap(rule: Rule, response: Response) -> Response:
    """Apply a wrapping fault (delay, truncate, invalid_utf8) to the normal answer."""
    table, kind = rule.table, rule.table["fault"]
    response.fault = rule.name
    response.delay = float(table.get("seconds", table.get("delay", 0)))
    response.encoding = table.get("encoding", response.encoding)
    if kind == "truncate":
        if "bytes" in table:
            response.truncate_to = int(table["bytes"])
        else:
            response.truncate_to = int(len(response.body) * float(table.get("keep", 0.5)))
    elif kind == "invalid_utf8":
        body = response.body
        at = body.find(b'":"')
        at = at + 3 if at >= 0 else len(body) // 2
        response.body = body[:at] + b"\xc3\x28\xff" + body[at:]
    return response
