"""Shared fixtures. Tests never reach the real platforms; see tests/test_emulator_* for the stand-in."""

from __future__ import annotations

import os
import signal

import pytest

# Harvests in tests render no pages unless a test turns browser capture on (with --set
# CRAWLER_BROWSER_ENABLED=true): the shared machine cannot afford Chromium for every harvest.
os.environ.setdefault("WEIDANG_CRAWLER_BROWSER_ENABLED", "false")

# A shell runs a background job (`pytest &` in a script, nohup) with Ctrl+C ignored, and every
# program the tests start inherits that: Python then installs no KeyboardInterrupt, so the tests
# that press Ctrl+C (SIGINT) on `weidang emulator` and `weidang demo --serve` waited forever.
# The tests start those programs as a terminal would, with Ctrl+C reaching them.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def english_messages(request, monkeypatch):
    """Tests check wording in English, the text in the code: every test (and the commands it
    starts) speaks English, unless it is marked ``default_language`` to see what a person gets
    without choosing (Chinese; the web's tests and the command line's Chinese tests)."""
    from weidang import i18n

    monkeypatch.setattr(i18n, "_chosen", None)  # a command run in this process chose its own
    if request.node.get_closest_marker("default_language") is None:
        monkeypatch.setenv("WEIDANG_LANG", "en")


WORKERS = 3  # two cores: a third worker runs while the others wait on subprocesses and servers


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject's addopts): the whole suite on ``WORKERS`` workers, one test file
    (or tests of one file) in this process, where workers would only add their start-up."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist reads it
    files = {str(arg).split("::")[0] for arg in config.args}
    return 0 if len(files) == 1 and files.pop().endswith(".py") else WORKERS


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh weidang home that no other test sees."""
    root = tmp_path / "home"
    monkeypatch.setenv("WEIDANG_HOME", str(root))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return root


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The platform emulator as a subprocess (`python -m emulator`), shared by a test session.

    Yields an EmulatorClient (tests/emulator_client.py): `.proxy_url`, `.ca_path`, `.fetch(url)`
    through the proxy, `.world()`, `.load_plan(toml)`, `.clear_plan()`, `.control(method, path)`.
    Its world: 3 generated accounts per platform with 25 posts each, seed 1, plus the recorded
    accounts. Tests that change the world should use their own `emulator.Emulator` instead.
    """
    from emulator_client import start_subprocess

    client, _ = start_subprocess(tmp_path_factory.mktemp("emulator-state"),
                                 "--accounts", "3", "--posts", "25", "--seed", "1")
    try:
        yield client
    finally:
        client.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogs(request, tmp_path):
    """Fresh catalogs (``catalogs.open(name)``) on SQLite, and on PostgreSQL when
    ``WEIDANG_TEST_POSTGRES_URL`` names a server that answers (else that half is skipped)."""
    from catalog_helpers import Catalogs, postgres_url

    if request.param == "postgresql":
        url, reason = postgres_url()
        if url is None:
            pytest.skip(reason)
    place = Catalogs(request.param, tmp_path)
    try:
        yield place
    finally:
        place.close()
