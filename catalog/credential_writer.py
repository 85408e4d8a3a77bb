"""Writing one login into ``credentials.toml``, for `weidang login`.

The file is the archivist's: other tables, comments and their order stay as they were (tomlkit
round-trips them). The new text goes to a private temporary file beside it (mode 0600 from the
moment it exists, so no other user ever sees the secret) and replaces the file in one rename.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from catalog.errors import CredentialsError


def save_login(path: Path, name: str, fields: Mapping[str, str]) -> None:
    """Set the table ``[name]`` to ``fields`` (replacing an older login of that name)."""
    path = Path(path)
    document = _read(path)
    table = tomlkit.table()
    for key, value in fields.items():
        table.add(key, value)
    document[name] = table
    _write_private(path, tomlkit.dumps(document))


def _read(path: Path) -> tomlkit.TOMLDocument:
    if not path.exists():
        return tomlkit.document()
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except TOMLKitError as exc:
        # tomlkit's message names line and column only, never the text there.
        raise CredentialsError(f"{path} is not valid TOML ({exc}); fix it before logging in, "
                               "so that the logins it holds are not lost") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{path} cannot be read ({exc.__class__.__name__})") from None


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(temporary, flags, stat.S_IRUSR | stat.S_IWUSR)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if os.name == "posix":
            os.chmod(temporary, 0o600)  # whatever the umask took away, never more than this
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if os.name == "posix":
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
