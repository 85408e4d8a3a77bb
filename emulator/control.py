"""The control API at http://emulator.control/ (through the proxy, or the emulator's own address).

    GET  /world                 accounts, ids and credentials (JSON)
    GET  /requests[?host=&path=] the requests answered so far, oldest first
    GET  /counters              totals by host, by host+path and by fault
    POST /reset                 forget the requests answered so far
    GET  /plan                  the loaded fault plan, with per-rule counters
    POST /plan                  load the TOML in the body as the fault plan
    DELETE /plan                no faults from now on
    POST /mutate                change the world: JSON like {"op":"delete","id":"49..."}
    POST /trigger/<name>        apply the plan's mutations with on_control = "<name>"
    POST /expire-tokens         every WeChat access token handed out expires (42001)
    GET  /login                 QR logins showing and sessions handed out (no secrets)
    POST /login/scan            the phone scans the newest QR code: {"platform":"weibo"|"wechat",
                                "confirm": true} (false: scanned, not yet confirmed)
    POST /login/expire          the sessions QR logins handed out end: {"platform": ...} or {}
    GET  /ca.pem                the certificate authority to trust for HTTPS
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.exchange import Request, Response, plain_json
from emulator.faults import FaultPlan, FaultPlanError
from emulator.world import WorldError

if TYPE_CHECKING:
    from emulator.server import Emulator


def _json(value: object, status: int = 200) -> Response:
    return Response(status=status, body=plain_json(value))


def handle(emulator: Emulator, request: Request) -> Response:
    method, path = request.method, request.path.rstrip("/") or "/"
    try:
        if method == "GET" and path == "/world":
            return _json(emulator.world.summary())
        if method == "GET" and path == "/requests":
            query = request.query
            return _json(emulator.requests(host=query.get("host"), path=query.get("path")))
        if method == "GET" and path == "/counters":
            return _json(emulator.counters())
        if method == "POST" and path == "/reset":
            emulator.reset_counters()
            return _json({"ok": True})
        if path == "/plan":
            if method == "GET":
                return _json(emulator.plan.describe())
            if method == "POST":
                emulator.load_plan(FaultPlan.from_text(request.body.decode("utf-8"), "control"))
                return _json(emulator.plan.describe())
            if method == "DELETE":
                emulator.load_plan(FaultPlan())
                return _json({"ok": True})
        if method == "POST" and path == "/mutate":
            spec = request.json_body()
            if not isinstance(spec, dict):
                return _json({"error": "The body must be a JSON object."}, 400)
            return _json(emulator.mutate(spec))
        if method == "POST" and path.startswith("/trigger/"):
            return _json({"applied": emulator.trigger(path.removeprefix("/trigger/"))})
        if method == "POST" and path == "/expire-tokens":
            return _json({"expired": emulator.wechat.expire_tokens()})
        if path.startswith("/login"):
            return _login(emulator, method, path, request)
        if method == "GET" and path == "/ca.pem":
            return Response(body=emulator.ca.cert_path.read_bytes(),
                            content_type="application/x-pem-file")
        if method == "GET" and path == "/":
            return Response(body=(__doc__ or "").encode(), content_type="text/plain; charset=utf-8")
    except (FaultPlanError, WorldError, ValueError, KeyError) as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"error": f"No control endpoint {method} {path}."}, 404)


def _login(emulator: Emulator, method: str, path: str, request: Request) -> Response:
    spec = request.json_body() if method == "POST" else {}
    if not isinstance(spec, dict):
        return _json({"error": "The body must be a JSON object."}, 400)
    if method == "GET" and path == "/login":
        return _json(emulator.logins.describe())
    if method == "POST" and path == "/login/scan":
        platform = str(spec.get("platform", ""))
        return _json(emulator.logins.scan(platform, bool(spec.get("confirm", True))))
    if method == "POST" and path == "/login/expire":
        return _json({"expired": emulator.logins.expire(spec.get("platform"))})
    return _json({"error": f"No control endpoint {method} {path}."}, 404)
