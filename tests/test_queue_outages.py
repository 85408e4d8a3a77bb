"""Outages with real services: the broker restarted mid-run, PostgreSQL briefly unreachable.
Workers wait and resume; no job is lost, none is harvested into a duplicate."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from catalog_helpers import Catalogs, postgres_url
from crawler_helpers import emulator_site
from queue_helpers import (
    RABBITMQ,
    check_archive,
    ended_runs,
    log_of,
    need_service,
    queue_archive,
    register,
    start,
    start_worker,
    stop,
    wait_for,
    worker_collections,
    writing,
)
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.slow

# Every timeline page waits, so harvests are still running when the outage begins.
PLAN = ('[[rule]]\nhost = "m.weibo.cn"\npath = "/api/container/getIndex"\n'
        'query = { containerid = "107603*" }\nfault = "delay"\nseconds = 0.5\n')

site = emulator_site(plan=PLAN, accounts=6, posts=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class PrivateRedis:
    """A redis-server of this test's own (the machine's Redis is never restarted), writing every
    change to its append-only file so that a restart keeps the queued jobs, as a broker must."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed: the broker-restart test starts its own")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.folder / "redis.log", "ab") as out:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                 str(self.folder), "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(lambda: _answers(self.port), 60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
        wait_for(lambda: not _answers(self.port), 60)


def test_the_broker_restarted_mid_run_loses_no_job(site, tmp_path):
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    archive = queue_archive(tmp_path / "home", site, f"redis://127.0.0.1:{redis.port}/0")
    expected = register(archive, weibo=6, wechat=0)
    workers = [start_worker(archive, f"b{i}") for i in (1, 2)]
    scheduler = start(archive, tmp_path / "scheduler.log", "run", "--once")
    try:
        folders = [archive.root / "collections" / f"worker-b{i}" / "warcs" for i in (1, 2)]
        wait_for(lambda: any(writing(f) for f in folders), 600)  # harvests under way
        redis.stop()
        # Down long enough for every side to notice (the workers' broker connections fail).
        wait_for(lambda: all("Cannot connect to redis" in log_of(archive, f"b{i}")
                             or "Connection to broker lost" in log_of(archive, f"b{i}")
                             for i in (1, 2)), 300)
        redis.start()
        assert scheduler.wait(900) == 0, (tmp_path / "scheduler.log").read_text()
    finally:
        stop(scheduler)
        for proc in workers:
            stop(proc)
        redis.stop()
    runs = ended_runs(archive)
    assert set(runs) == set(expected)
    assert all(outcomes[-1] == "ok" for outcomes in runs.values()), runs
    assert all(worker_collections(archive).values())
    check_archive(archive, expected)
    worker_logs = "".join(log_of(archive, f"b{i}") for i in (1, 2))
    assert "Connection to broker lost" in worker_logs or "Cannot connect to redis" in worker_logs


class Partition:
    """A TCP relay between the workers and PostgreSQL that can be cut and restored: while cut,
    new connections are refused and the open ones carry nothing (as when the network between
    them fails: packets lost, not connections reset); restored, everything goes on."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = _free_port()
        self.open = threading.Event()
        self.open.set()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self.open.wait()  # cut: the bytes wait, as on a failed link
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.open.clear()
        assert self._listener is not None
        self._listener.close()
        wait_for(lambda: not _answers(self.port), 60)

    def restore(self) -> None:
        self._listen()
        self.open.set()

    def close(self) -> None:
        self.open.set()
        if self._listener is not None:
            self._listener.close()
        for s in self._sockets:
            s.close()


@pytest.fixture
def pg_catalogs(tmp_path):
    url, reason = postgres_url()
    if url is None:
        pytest.skip(reason)
    place = Catalogs("postgresql", tmp_path)
    try:
        yield place
    finally:
        place.close()


def test_postgresql_briefly_unreachable_workers_wait_and_resume(site, tmp_path, pg_catalogs):
    need_service(5672, "RabbitMQ")
    direct = str(pg_catalogs.target("live"))
    parsed = make_url(direct)
    link = Partition((parsed.host or "127.0.0.1", parsed.port or 5432))
    through = direct.replace(f"{parsed.host}:{parsed.port or 5432}", f"127.0.0.1:{link.port}")
    if through == direct:
        through = direct.replace(f"@{parsed.host}/", f"@127.0.0.1:{link.port}/")
    assert f":{link.port}/" in through
    archive = queue_archive(tmp_path / "home", site, RABBITMQ, catalog_url=through)
    expected = register(archive, weibo=6, wechat=0)
    workers = [start_worker(archive, f"p{i}") for i in (1, 2)]
    scheduler = start(archive, tmp_path / "scheduler.log", "run", "--once")
    try:
        folders = [archive.root / "collections" / f"worker-p{i}" / "warcs" for i in (1, 2)]
        wait_for(lambda: any(writing(f) for f in folders), 600)  # harvests under way
        link.cut()
        # Cut long enough for the workers to find the catalog unreachable and say so.
        wait_for(lambda: any("cannot be" in log_of(archive, f"p{i}") for i in (1, 2)), 300)
        link.restore()
        assert scheduler.wait(900) == 0, (tmp_path / "scheduler.log").read_text()
    finally:
        stop(scheduler)
        for proc in workers:
            stop(proc)
        link.close()
    runs = ended_runs(archive)
    assert runs == {key: ["ok"] for key in expected}, runs
    logs = "".join(log_of(archive, f"p{i}") for i in (1, 2))
    assert "this worker's harvests wait for it" in logs and "the catalog answers again" in logs
    archive.catalog_url = direct  # read and rebuild without the relay
    check_archive(archive, expected, rebuild_url=str(pg_catalogs.target("rebuilt")))
