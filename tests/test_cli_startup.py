"""`weidang --help` and `weidang COMMAND --help` start without loading the heavy libraries: a
command loads Scrapy, APScheduler, SQLAlchemy, the emulator, Elasticsearch or openpyxl only when
it needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WEIDANG = str(Path(sys.executable).with_name("weidang"))
HEAVY = ("scrapy", "twisted", "apscheduler", "sqlalchemy", "emulator", "elasticsearch", "openpyxl")
# Runs the real command line in a fresh interpreter, then says which heavy packages it loaded.
PROBE = """
import json, sys
from weidang.cli import main
sys.argv[0] = "weidang"
try:
    code = main(sys.argv[1:])
finally:
    heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(%r)))
    print(json.dumps(heavy), file=sys.stderr)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, WEIDANG_HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "xdg"),
                HOME=str(tmp_path))


def _loaded(tmp_path: Path, *args: str) -> tuple[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE % json.dumps(HEAVY), *args], capture_output=True,
                          text=True, env=_env(tmp_path), timeout=120)
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def _commands() -> list[str]:
    from weidang.cli import cli

    return sorted(cli.list_commands(None))  # type: ignore[arg-type]


def test_importing_the_command_line_loads_no_heavy_library(tmp_path):
    code = ("import json, sys, weidang.cli; "
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(tmp_path), timeout=120)
    assert json.loads(done.stdout) == []


def test_help_lists_every_command_and_loads_no_heavy_library(tmp_path):
    out, heavy = _loaded(tmp_path, "--help")
    assert heavy == []
    listed = {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(_commands()) and {"accounts", "harvest", "run", "demo", "emulator"} <= listed


@pytest.mark.parametrize("command", _commands())
def test_each_command_help_loads_no_heavy_library(tmp_path, command):
    out, heavy = _loaded(tmp_path, command, "--help")
    assert heavy == [] and f"Usage: weidang {command}" in out.replace("\n", " ")


def test_a_command_that_needs_a_library_still_loads_it(tmp_path):
    _, heavy = _loaded(tmp_path, "status")
    assert "apscheduler" in heavy


def test_verify_loads_no_html_parser_nor_search_code(tmp_path):
    """An audit's verify starts in the time of its own work: its wall time is set against
    `warcio check` (bench/warc_verify.py), and lxml alone took longer to load than the rest."""
    from warc_store import Collection

    Collection.create(tmp_path / "collection")
    unwanted = ["lxml", "catalog.search.base", "catalog.search.query"]
    probe = PROBE.replace('name.split(".")[0]', "name")  # whole module names, not packages
    done = subprocess.run([sys.executable, "-c", probe % json.dumps(unwanted),
                           "verify", str(tmp_path / "collection")],
                          capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert "0 " in done.stdout and json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_an_emulator_error_is_still_one_sentence(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text("[[rule]]\nno_such_key = 1\n", encoding="utf-8")
    done = subprocess.run([WEIDANG, "emulator", "--plan", str(plan)], capture_output=True, text=True,
                          env=_env(tmp_path), timeout=120)
    assert done.returncode == 1 and done.stderr.startswith("Error: ")
    assert "unexpectedly" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_every_error_written_for_people_is_found_once_its_layer_is_loaded():
    import importlib

    from weidang.errors import USER_ERROR_NAMES, user_errors

    for module in USER_ERROR_NAMES:
        importlib.import_module(module)
    found = user_errors()
    assert [c.__name__ for c in found] == list(USER_ERROR_NAMES.values())
    assert all(issubclass(c, Exception) for c in found)
