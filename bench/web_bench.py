"""Web UI latency: search page and post page p50/p95/p99 under concurrent users, against a
static file server serving the same pages.

    .venv/bin/python bench/web_bench.py                       # 100,000 posts, 20 users, 30 s
    .venv/bin/python bench/web_bench.py --posts 2000 --seconds 10
    .venv/bin/python bench/web_bench.py --dir D --reuse       # again on the home a run left in D

Builds a weidang home the way an archive gets one: generated Weibo accounts of the emulator
(its own process; ``--posts`` split into accounts of at most 2,500 posts) registered with
`weidang accounts import`, harvested API-only (no pictures, no browser, politeness off: the
in-process harvest of bench/harvest_bench.py, so every post has its WARC records and catalog
versions), indexed with `weidang index rebuild`, a researcher added with `weidang users add`.
Building the home takes most of the time (the harvest: about 10-20 ms a post on a shared
2-core machine); ``--dir D`` keeps it and ``--reuse`` skips building it again.

Then `weidang web --replay-port 0` serves it in its own process (waitress, 8 threads), a user
logs in through the login form (CSRF token, session cookie), and the load generator runs:
``--users`` threads in this process, each with its own keep-alive connection (http.client),
for ``--seconds`` after ``--warmup`` untimed seconds, alternately asking for a search page
(`/search?q=...`, 2- and 4-character queries cut from the archived posts' own text, a quarter
of them with `&page=2..5`) and the post page of a random archived post (`/posts/weibo:ID`).
Latency is from sending the request to the last byte of the answer; a user waits up to 300 s.
Before the load, a probe asks for 10 pages of each kind one at a time: the server's CPU-ms
per search page and per post page without contention.

The peer, in the same run and on the same loopback: one search page and one post page as
weidang served them, saved to files and served by a plain static file server (waitress with
the same 8 threads, in its own process, reading the file for each request; `/search...`
answers the saved search page, `/posts/...` the saved post page), under the same probe and
load generator for the same time. weidang p95 / peer p95 is what weidang's own work (session
check, search, catalog, templates) costs above bare HTTP serving on this machine.

Prints JSON lines: the machine (cores, load average), how the home was built, the counts
(posts and versions in the catalog, index documents, the queries and the saved pages), then
for each server the probe and for each page kind the requests, requests/s (over the wall time
until the last answer), p50/p95/p99/max in ms of the 200 answers, errors (non-200 answers and
failed connections; 5xx counted apart), the server process's and the load generator's CPU-ms
per request (both kinds together), and finally the ratios. No assertion on time, just
numbers: on a shared machine compare the ratios and the CPU-ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
WEIDANG = [str(ROOT / ".venv/bin/weidang")] if (ROOT / ".venv/bin/weidang").exists() \
    else [sys.executable, "-m", "weidang"]
FIRST_UID = 7000000001  # the emulator's first generated Weibo account
PER_ACCOUNT = 2500  # the emulator's world generation grows with the square of an account's posts
USER, PASSWORD = "bench-reader", "bench-password-0123"
USER_TIMEOUT = 300  # seconds a user waits for an answer (then it counts as a failed connection)
SERVER_THREADS = 8  # as `weidang web` (weidang.commands.web.THREADS)
KINDS = ("search", "post")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Targets:
    """What the users ask for: queries cut from the posts' text, and every post's key."""

    queries: list[str]
    keys: list[str]

    def path(self, kind: str, rng: random.Random) -> str:
        if kind == "post":
            return f"/posts/{rng.choice(self.keys)}"
        params = {"q": rng.choice(self.queries)}
        if rng.random() < 0.25:
            params["page"] = str(rng.randint(2, 5))
        return "/search?" + urlencode(params, quote_via=quote)


@dataclass(frozen=True)
class Sample:
    kind: str
    seconds: float
    status: int  # 0: the connection failed


# -- processes ----------------------------------------------------------------------------

class Children:
    """Every process this bench starts, stopped however it ends (Ctrl+C, SIGTERM, an error)."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[Any]] = []

    def start(self, args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(args, cwd=ROOT, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[Any]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[Any], path: str = "/login",
             seconds: float = 120) -> None:
    """Until the server on ``port`` answers ``path``; an error if its process ended first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} ended with status {proc.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            if fetch(conn, path)[0] < 500:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise RuntimeError(f"the server on port {port} did not answer within {seconds:.0f} s")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process ``pid`` has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the home -----------------------------------------------------------------------------

def weidang(home: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([*WEIDANG, *args], input=stdin, capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, WEIDANG_HOME=str(home)), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"weidang {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout.strip()


def harvest_child(home_dir: str, proxy: str, per_account: str, *uids: str) -> None:
    """In its own process (Scrapy's reactor runs once): every account API-only, into the home."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from crawler.harvest import run_harvests  # noqa: PLC0415
    from crawler.job import HarvestJob  # noqa: PLC0415
    from crawler.settings import Politeness  # noqa: PLC0415
    from weidang.home import Home, keep_private  # noqa: PLC0415
    from weidang.store import capture_writer, catalog_db, open_collection  # noqa: PLC0415

    keep_private()
    home = Home(Path(home_dir))
    settings = home.settings()
    now = datetime.now(UTC)
    jobs = [HarvestJob(platform="weibo", account_id=uid, harvest_id=f"weibo-{uid}-{now:%Y%m%dT%H%M%S%fZ}",
                       mode="full", max_pages=int(per_account) // 10 + 10, recheck_days=0,
                       media=False, browser=False, proxy=proxy) for uid in uids]
    polite = Politeness(delay=0, concurrency_per_host=8, autothrottle=False, retries=1)
    started = time.perf_counter()
    with catalog_db(home, settings) as db, capture_writer(
            open_collection(home, create=True), settings, {"weidang-harvest-id": "web-bench"}) as writer:
        summaries = run_harvests(jobs, writer=writer, db=db, politeness=polite,
                                 clock=lambda: datetime.now(UTC))
    print(json.dumps({"posts_new": sum(s.posts_new for s in summaries),
                      "seconds": round(time.perf_counter() - started, 1),
                      "exchanges": sum(s.exchanges for s in summaries),
                      "not_ok": [s.account for s in summaries if s.outcome != "ok"],
                      "errors": sum(len(s.errors) for s in summaries)}))


def start_emulator(children: Children, base: Path, accounts: int, per_account: int,
                   seed: int) -> tuple[subprocess.Popen[Any], str]:
    proc = children.start([sys.executable, "-m", "emulator", "--accounts", str(accounts),
                           "--posts", str(per_account), "--seed", str(seed),
                           "--state-dir", str(base / "emulator")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "PROXY http://127.0.0.1:PORT", once the world is generated
    if not line.startswith("PROXY "):
        raise RuntimeError(f"the emulator did not start: {line!r}")
    return proc, line.split()[1]


def build_home(children: Children, base: Path, home: Path, posts: int, seed: int) -> dict[str, Any]:
    """Accounts registered, harvested, indexed; a researcher to log in as. Returns the timings."""
    accounts = max(1, math.ceil(posts / PER_ACCOUNT))
    per_account = math.ceil(posts / accounts)
    uids = [str(FIRST_UID + n) for n in range(accounts)]
    t0 = time.perf_counter()
    emulator, proxy = start_emulator(children, base, accounts, per_account, seed)
    world_s = time.perf_counter() - t0
    try:
        listing = base / "accounts.csv"
        listing.write_text("account,browser\n" + "".join(f"weibo:{u},off\n" for u in uids),
                           encoding="utf-8")
        weidang(home, "accounts", "import", str(listing))
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "_harvest", str(home), proxy, str(per_account),
                              *uids], capture_output=True, text=True, cwd=ROOT, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"the harvest failed: {out.stderr[-3000:]}")
        harvest = json.loads(out.stdout.strip().splitlines()[-1])
        harvest_s = time.perf_counter() - t0
    finally:
        children.stop(emulator)
    t0 = time.perf_counter()
    weidang(home, "index", "rebuild")
    index_s = time.perf_counter() - t0
    weidang(home, "users", "add", USER, "--role", "researcher", "--password-stdin",
            stdin=PASSWORD + "\n")
    return {"accounts": accounts, "posts_per_account": per_account,
            "emulator_world_s": round(world_s, 1), "harvest_s": round(harvest_s, 1),
            "harvest_posts_per_s": round(harvest["posts_new"] / max(harvest["seconds"], 1e-9)),
            "harvest": harvest, "index_rebuild_s": round(index_s, 1)}


@contextmanager
def catalog(home: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{home / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def catalog_counts(home: Path) -> dict[str, int]:
    with catalog(home) as conn:
        posts, versions = (conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                           for t in ("posts", "versions"))
    index = sqlite3.connect(f"file:{home / 'index' / 'search.sqlite'}?mode=ro", uri=True)
    try:  # the embedded index (catalog.search.sqlite_fts): one row per post version
        docs = index.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
    finally:
        index.close()
    return {"posts_in_catalog": posts, "versions_in_catalog": versions, "index_documents": docs}


def sample_targets(home: Path, seed: int, count: int = 200) -> Targets:
    """2- and 4-character queries cut at random from random posts' text; every post's key."""
    rng = random.Random(seed)
    with catalog(home) as conn:
        keys = [f"{p}:{i}" for p, i in conn.execute("SELECT platform, post_id FROM posts")]
        texts = [t for (t,) in conn.execute("SELECT text FROM versions ORDER BY random() LIMIT ?",
                                            (count * 4,))]
    runs = [run for text in texts for run in CJK_RUN.findall(text or "")]
    queries: list[str] = []
    while runs and len(queries) < count:
        run = rng.choice(runs)
        size = 2 if len(queries) % 2 == 0 else 4
        start = rng.randrange(len(run) - size + 1)
        queries.append(run[start:start + size])
    if not queries or not keys:
        raise RuntimeError("the catalog holds no posts (or none with Chinese text)")
    return Targets(queries, keys)


# -- HTTP ---------------------------------------------------------------------------------

def fetch(conn: http.client.HTTPConnection, path: str, cookie: str = "", method: str = "GET",
          body: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def session_cookie(headers: dict[str, str]) -> str:
    return headers.get("set-cookie", "").split(";", 1)[0]


def log_in(port: int) -> str:
    """Log in through the form, as a browser does; the session cookie to send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, headers, page = fetch(conn, "/login")
    token = CSRF.search(page.decode("utf-8"))
    if status != 200 or token is None:
        raise RuntimeError(f"the login page answered {status} without a CSRF token")
    form = urlencode({"name": USER, "password": PASSWORD, "csrf_token": token.group(1)})
    status, answered, _ = fetch(conn, "/login", session_cookie(headers), "POST", form)
    cookie = session_cookie(answered)
    if status != 302 or not cookie:
        raise RuntimeError(f"the login answered {status}, not a redirect with a session")
    conn.close()
    return cookie


def save_pages(port: int, cookie: str, targets: Targets, folder: Path, seed: int) -> dict[str, int]:
    """One search page and one post page as weidang serves them, for the peer to serve."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    rng, sizes = random.Random(seed), {}
    for kind in KINDS:
        path = targets.path(kind, rng) if kind == "post" else "/search?q=" + quote(targets.queries[0])
        status, _, page = fetch(conn, path, cookie)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        (folder / f"{kind}.html").write_bytes(page)
        sizes[f"saved_{kind}_page_bytes"] = len(page)
    conn.close()
    return sizes


def peer_child(folder: str, port: str) -> None:
    """In its own process, as weidang web is: the saved pages served as static files."""
    from waitress import create_server  # noqa: PLC0415

    root = Path(folder)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        name = "search.html" if environ["PATH_INFO"].startswith("/search") else "post.html"
        data = (root / name).read_bytes()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(data)))])
        return [data]

    create_server(app, host="127.0.0.1", port=int(port), threads=SERVER_THREADS, ident="peer").run()


# -- the load generator -------------------------------------------------------------------

def user(port: int, cookie: str, targets: Targets, seed: int, stop: float,
         out: list[Sample]) -> None:
    """One user: alternately a search page and a post page until ``stop`` (monotonic)."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=USER_TIMEOUT)
    n = seed % 2
    while time.monotonic() < stop:
        kind = KINDS[n % 2]
        n += 1
        path = targets.path(kind, rng)
        t0 = time.perf_counter()
        try:
            status, _, _ = fetch(conn, path, cookie)
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=USER_TIMEOUT)
            time.sleep(0.1)  # a server that went away is not asked again in a tight loop
        out.append(Sample(kind, time.perf_counter() - t0, status))
    conn.close()


def load(port: int, cookie: str, targets: Targets, users: int, seconds: float,
         seed: int) -> tuple[list[Sample], float]:
    """``users`` users for ``seconds``; the samples and the wall time until the last answer."""
    start = time.monotonic()
    found: list[list[Sample]] = [[] for _ in range(users)]
    # daemon threads: Ctrl+C ends the bench at once, not when the users' time is up
    threads = [threading.Thread(target=user, args=(port, cookie, targets, seed + n, start + seconds,
                                                   found[n]), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [s for samples in found for s in samples], time.monotonic() - start


def probe(port: int, pid: int, cookie: str, targets: Targets, seed: int, count: int = 10) -> dict[str, float]:
    """The server's CPU-ms for one page of each kind, asked one at a time (no other load)."""
    conn, rng, out = http.client.HTTPConnection("127.0.0.1", port, timeout=600), random.Random(seed), {}
    for kind in KINDS:
        before = process_cpu(pid)
        for _ in range(count):
            fetch(conn, targets.path(kind, rng), cookie)
        out[f"{kind}_server_cpu_ms_alone"] = round(1e3 * (process_cpu(pid) - before) / count, 1)
    conn.close()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else math.nan


def measure(server: str, port: int, pid: int, cookie: str, targets: Targets,
            args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Warm-up, then the timed load; one summary per page kind (printed as a JSON line)."""
    print(json.dumps({"server": server, "probe": probe(port, pid, cookie, targets, args.seed)}),
          flush=True)
    load(port, cookie, targets, args.users, args.warmup, args.seed + 1000)
    server_cpu, own_cpu = process_cpu(pid), time.process_time()
    samples, wall = load(port, cookie, targets, args.users, args.seconds, args.seed)
    server_cpu, own_cpu = process_cpu(pid) - server_cpu, time.process_time() - own_cpu
    out = {}
    for kind in KINDS:
        mine = [s for s in samples if s.kind == kind]
        ok = [s.seconds * 1e3 for s in mine if s.status == 200]
        out[kind] = {"server": server, "page": kind, "users": args.users, "seconds": round(wall, 1),
                     "requests": len(mine), "requests_per_s": round(len(mine) / wall, 1),
                     "p50_ms": round(pct(ok, .5), 1), "p95_ms": round(pct(ok, .95), 1),
                     "p99_ms": round(pct(ok, .99), 1), "max_ms": round(max(ok, default=math.nan), 1),
                     "errors": sum(s.status != 200 for s in mine),
                     "errors_5xx": sum(s.status >= 500 for s in mine),
                     "failed_connections": sum(s.status == 0 for s in mine)}
    total = max(len(samples), 1)
    for kind in KINDS:  # CPU is for both kinds together: per request of either
        out[kind]["server_cpu_ms_per_request"] = round(1e3 * server_cpu / total, 2)
        out[kind]["loadgen_cpu_ms_per_request"] = round(1e3 * own_cpu / total, 2)
        print(json.dumps(out[kind], ensure_ascii=False), flush=True)
    return out


# -- the run ------------------------------------------------------------------------------

def prepare(children: Children, work: Path, args: argparse.Namespace) -> Path:
    """The home: reused when --reuse finds one built with the same --posts and --seed."""
    home, stamp = work / "home", work / "built.json"
    built = {"posts": args.posts, "seed": args.seed}
    if args.reuse and stamp.exists() and json.loads(stamp.read_text()) == built:
        print(json.dumps({"setup": "reused", "home": str(home)}), flush=True)
        return home
    stamp.unlink(missing_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(work / "emulator", ignore_errors=True)
    timings = build_home(children, work, home, args.posts, args.seed)
    stamp.write_text(json.dumps(built))
    print(json.dumps({"setup": timings, "home": str(home)}, ensure_ascii=False), flush=True)
    return home


def run(children: Children, work: Path, args: argparse.Namespace) -> None:
    print(json.dumps({"machine": {"cores": os.cpu_count(), "load_average": os.getloadavg(),
                                  "python": sys.version.split()[0]}}), flush=True)
    home = prepare(children, work, args)
    targets = sample_targets(home, args.seed)
    port, peer_port = free_port(), free_port()
    log = (work / "web.log").open("ab")
    web = children.start([*WEIDANG, "web", "--port", str(port), "--replay-port", "0"],
                         env=dict(os.environ, WEIDANG_HOME=str(home)), stdout=log, stderr=log)
    wait_for(port, web)
    cookie = log_in(port)
    sizes = save_pages(port, cookie, targets, work / "peer", args.seed)
    print(json.dumps({"counts": {**catalog_counts(home), "queries": len(targets.queries),
                                 "query_examples": targets.queries[:6], **sizes}},
                     ensure_ascii=False), flush=True)
    ours = measure("weidang", port, web.pid, cookie, targets, args)
    children.stop(web)
    peer = children.start([sys.executable, __file__, "_peer", str(work / "peer"), str(peer_port)],
                          stdout=log, stderr=log)
    wait_for(peer_port, peer, "/search")
    theirs = measure("peer", peer_port, peer.pid, "", targets, args)
    children.stop(peer)
    log.close()
    ratios = {f"{kind}_{q}_weidang_over_peer": round(ours[kind][q] / theirs[kind][q], 1)
              for kind in KINDS for q in ("p50_ms", "p95_ms")}
    print(json.dumps({"ratios": ratios, "load_average_after": os.getloadavg(),
                      "work_dir": str(work) if args.dir else None}), flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("_harvest", "_peer"):  # the bench's own children
        (harvest_child if sys.argv[1] == "_harvest" else peer_child)(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20, help="concurrent users (threads)")
    parser.add_argument("--seconds", type=float, default=30, help="timed load per server")
    parser.add_argument("--warmup", type=float, default=3, help="untimed load before it")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="work directory, kept (default: a temporary one, "
                        "removed at the end)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the home an earlier run left in --dir (same --posts, --seed)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="weidang-bench-web-"))
    work.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    children = Children()
    try:
        run(children, work, args)
    finally:
        children.stop_all()
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
