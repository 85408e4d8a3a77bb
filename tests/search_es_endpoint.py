"""A small HTTP endpoint that answers like Elasticsearch 8 and records every request.

It is not a search engine: it stores what ``_bulk`` sends, returns stored documents for
``_search`` (with highlights a test scripts), and applies aliases. Tests script failures per
route (429, 500, 400 mapping errors) and can drop the product header to play a non-Elasticsearch
server. The real ``elasticsearch`` client talks to it over a real socket.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.decode("utf-8").splitlines() if line]


@dataclass
class Endpoint:
    product_header: bool = True
    version: str = "8.15.0"
    plugins: list[dict[str, str]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    # (METHOD, path regex) -> queue of (status, body) answered before the normal behaviour
    scripted: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    templates: dict[str, Any] = field(default_factory=dict)
    indices: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {id: source}
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> index
    metas: dict[str, dict[str, Any]] = field(default_factory=dict)  # index -> mapping _meta
    highlight: dict[str, list[str]] = field(default_factory=dict)  # highlight for every hit
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, method: str, path_regex: str, *answers: tuple[int, Any]) -> None:
        self.scripted.setdefault((method, path_regex), []).extend(answers)

    def sent(self, method: str, path_regex: str) -> list[Request]:
        return [r for r in self.requests
                if r.method == method and re.fullmatch(path_regex, r.path)]

    def resolve(self, name: str) -> str:
        return self.aliases.get(name, name)

    # -- behaviour -------------------------------------------------------------------------

    def answer(self, req: Request) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(req)
            for (method, regex), queue in self.scripted.items():
                if method == req.method and re.fullmatch(regex, req.path) and queue:
                    return queue.pop(0)
            return self._normal(req)

    def _normal(self, req: Request) -> tuple[int, Any]:
        parts = [p for p in req.path.split("/") if p]
        m = req.method
        if m == "GET" and not parts:
            return 200, {"name": "fake", "cluster_name": "weidang-test",
                         "version": {"number": self.version, "build_flavor": "default"},
                         "tagline": "You Know, for Search"}
        if parts[:2] == ["_cat", "plugins"]:
            return 200, self.plugins
        if parts[0] == "_index_template" and m == "PUT":
            self.templates[parts[1]] = req.json()
            return 200, {"acknowledged": True}
        if parts[0] == "_alias":
            found = {i: {"aliases": {a: {}}} for a, i in self.aliases.items() if a == parts[1]}
            if m == "HEAD":
                return (200 if found else 404), None
            return (200, found) if found else (404, {"error": "alias missing", "status": 404})
        if parts[0] == "_aliases" and m == "POST":
            for action in req.json()["actions"]:
                (verb, spec), = action.items()
                if verb == "add":
                    self.aliases[spec["alias"]] = spec["index"]
                elif verb == "remove" and self.aliases.get(spec["alias"]) == spec["index"]:
                    del self.aliases[spec["alias"]]
            return 200, {"acknowledged": True}
        if parts[-1] == "_mapping":  # only _meta: enough for the notes an index keeps
            index = self.resolve(parts[0])
            if m == "PUT":
                self.metas[index] = req.json().get("_meta", {})
                return 200, {"acknowledged": True}
            return 200, {index: {"mappings": {"_meta": self.metas.get(index, {})}}}
        if parts[-1] == "_bulk":
            return 200, self._bulk(req.ndjson())
        if parts[-1] == "_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if parts[-1] == "_count":
            return 200, {"count": len(self.indices.get(self.resolve(parts[0]), {}))}
        if parts[-1] == "_search":
            docs = self.indices.get(self.resolve(parts[0]), {})
            hits = [{"_index": self.resolve(parts[0]), "_id": k, "_score": 1.5, "_source": v,
                     **({"highlight": self.highlight} if self.highlight else {})}
                    for k, v in docs.items()]
            return 200, {"took": 1, "timed_out": False,
                         "hits": {"total": {"value": len(hits), "relation": "eq"},
                                  "max_score": 1.5, "hits": hits}}
        if len(parts) == 1 and m == "PUT":
            body = req.json() if req.body else {}
            self.indices[parts[0]] = {}
            for alias in body.get("aliases", {}):
                self.aliases[alias] = parts[0]
            return 200, {"acknowledged": True, "index": parts[0]}
        if len(parts) == 1 and m == "DELETE":
            self.indices.pop(parts[0], None)
            return 200, {"acknowledged": True}
        return 404, {"error": {"type": "fake_unknown_route", "reason": req.path}, "status": 404}

    def _bulk(self, lines: list[Any]) -> dict[str, Any]:
        items, i = [], 0
        while i < len(lines):
            (verb, meta), = lines[i].items()
            index = self.resolve(meta["_index"])
            docs = self.indices.setdefault(index, {})
            if verb == "delete":
                status = 200 if docs.pop(meta["_id"], None) is not None else 404
                i += 1
            else:
                status = 200 if meta["_id"] in docs else 201
                docs[meta["_id"]] = lines[i + 1]
                i += 2
            items.append({verb: {"_index": index, "_id": meta["_id"], "status": status}})
        return {"took": 1, "errors": False, "items": items}


class _Handler(BaseHTTPRequestHandler):
    endpoint: Endpoint
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(self.command, url.path, parse_qs(url.query),
                      {k.lower(): v for k, v in self.headers.items()}, body)
        status, payload = self.endpoint.answer(req)
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=8")
        if self.endpoint.product_header:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class EndpointServer:
    """Run an Endpoint on 127.0.0.1, port chosen by the OS, in a thread."""

    def __init__(self, endpoint: Endpoint | None = None) -> None:
        self.endpoint = endpoint or Endpoint()
        handler = type("Handler", (_Handler,), {"endpoint": self.endpoint})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> EndpointServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
