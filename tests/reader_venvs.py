"""Independent readers (py-wacz, cdxj-indexer, pywb) in virtual environments of their own.

They pin dependencies that would clash with weidang's (pywb wants its own warcio and gevent;
py-wacz pins typer and frictionless), so each gets a venv, created once and kept under
``~/.cache/weidang-tests/`` (or ``$WEIDANG_TEST_CACHE``), keyed by the pinned version and the
Python version: later runs only check that it is there. A test that needs one is skipped, with
pip's own words as the reason, only when it cannot be installed (no route to the package index).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

# The versions the tests were written against; bump deliberately (the venv is rebuilt).
WACZ = "wacz==0.6.0"  # py-wacz: `wacz validate`, and cdxj-indexer (its dependency)
PYWB = "pywb==2.10.0"


def cache_root() -> Path:
    return Path(os.environ.get("WEIDANG_TEST_CACHE") or Path.home() / ".cache" / "weidang-tests")


def reader_venv(requirement: str) -> Path:
    """The bin/ folder of a venv with ``requirement`` installed; skips the test if pip fails."""
    py = f"py{sys.version_info.major}.{sys.version_info.minor}"
    name = requirement.replace("==", "-")
    key = hashlib.sha256(f"{requirement} {sys.version}".encode()).hexdigest()[:10]
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"{name}-{py}-{key}"
    done = venv / "installed.txt"
    with FileLock(str(root / f"{name}.lock"), timeout=900):  # parallel runs build it once
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)
            _build(venv, requirement)
            done.write_text(requirement + "\n", encoding="utf-8")
    return venv / "bin"


def _build(venv: Path, requirement: str) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                          "--disable-pip-version-check", requirement, "setuptools<81"],
                         capture_output=True, text=True, timeout=900)
    if pip.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        said = [line for line in (pip.stderr or pip.stdout).splitlines() if line.strip()]
        pytest.skip(f"{requirement} cannot be installed here (pip: {' / '.join(said[-3:])})")
