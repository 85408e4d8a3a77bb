"""Logins, read by reference: the catalog stores a NAME, the secrets live here and nowhere else.

``HOME/credentials.toml`` holds one table per name, readable by its owner only (chmod 600)::

    [gov_weibo_login]
    cookie = "SUB=...; SUBP=..."

    [county_wechat_api]
    appid = "wx..."
    secret = "..."

Environment variables ``WEIDANG_CRED_<NAME>_<FIELD>`` (NAME upper case, ``-`` as ``_``) add to or
replace the file's fields, e.g. ``WEIDANG_CRED_GOV_WEIBO_LOGIN_COOKIE``. ``urls`` from the
environment is split at white space.

Nothing here logs or prints a value: ``Credentials`` hides them in its repr, and ``secrets`` lists
every value the WARC store must redact (cookies also as their single values, since a server may
echo one alone).
"""

from __future__ import annotations

import os
import stat
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import CredentialsError
from warc_store.redaction import SESSION_VALUE_LENGTH  # one rule for what a session cookie is

ENV_PREFIX = "WEIDANG_CRED_"
# Fields that address something rather than prove who you are; every other field is a secret.
PUBLIC_FIELDS = frozenset({"appid", "fakeid", "feed_url", "url", "urls", "source", "user_agent"})


@dataclass(frozen=True)
class Credentials:
    name: str
    fields: dict[str, Any] = field(repr=False)
    secrets: tuple[str, ...] = field(repr=False)

    def __repr__(self) -> str:  # never the values, so a log line or traceback cannot leak them
        return f"Credentials(name={self.name!r}, fields={sorted(self.fields)})"


class CredentialStore:
    """Reads ``credentials.toml`` and ``WEIDANG_CRED_*`` variables; ``strict`` refuses a shared file."""

    def __init__(self, path: Path, environ: Mapping[str, str] | None = None, strict: bool = True) -> None:
        self.path = Path(path)
        self.environ = os.environ if environ is None else environ
        self.strict = strict
        self._file: dict[str, Any] | None = None

    def names(self) -> list[str]:
        env_names = {_env_name(k) for k in self.environ if k.startswith(ENV_PREFIX)}
        return sorted(set(self._read_file()) | {n for n in env_names if n})

    def get(self, name: str) -> Credentials:
        values: dict[str, Any] = {}
        table = self._lookup_file(name)
        if table is not None:
            if not isinstance(table, dict):
                raise CredentialsError(f"[{name}] in {self.path} should be a table of fields such as "
                                       "cookie = \"...\"")
            values.update({str(k).lower(): v for k, v in table.items()})
        prefix = ENV_PREFIX + name.upper().replace("-", "_") + "_"
        for key, value in self.environ.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                fieldname = key[len(prefix):].lower()
                values[fieldname] = value.split() if fieldname == "urls" else value
        if not values:
            raise CredentialsError(
                f"no credentials named {name} were found in {self.path} or in {prefix}* environment "
                f"variables; add a [{name}] table to the file")
        return Credentials(name, values, secret_values(values))

    def _lookup_file(self, name: str) -> Any:
        data = self._read_file()
        if name in data:
            return data[name]
        # TOML keys are case-sensitive but environment names are not; accept either spelling.
        folded = {k.lower().replace("-", "_"): v for k, v in data.items()}
        return folded.get(name.lower().replace("-", "_"))

    def _read_file(self) -> dict[str, Any]:
        if self._file is not None:
            return self._file
        if not self.path.exists():
            self._file = {}
            return self._file
        self._check_permissions()
        try:
            self._file = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            # The decoder's message gives line and column only, never the text around them.
            raise CredentialsError(f"{self.path} is not valid TOML ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialsError(f"{self.path} cannot be read ({exc.__class__.__name__})") from None
        return self._file

    def _check_permissions(self) -> None:
        if os.name != "posix":
            return
        mode = self.path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            message = (f"{self.path} can be read by other users (mode {stat.filemode(mode)}); make it "
                       f"private with `chmod 600 {self.path}`")
            if self.strict:
                raise CredentialsError(message)
            warnings.warn(message, stacklevel=3)




def unknown_logins(store: CredentialStore, references: Iterable[str | None]) -> list[str]:
    """The logins named by ``references`` (accounts' ``credentials``) that ``store`` does not
    hold, each once, in order: an account list may name a login not made yet, and the archivist
    should hear of it before a harvest fails on it."""
    out: list[str] = []
    for name in references:
        if not name or name in out:
            continue
        try:
            store.get(name)
        except CredentialsError:
            out.append(name)
    return out


def secret_values(values: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for name, value in values.items():
        if name in PUBLIC_FIELDS:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            found.append(text)
            if name == "cookie":
                for pair in text.split(";"):
                    _, sep, cookie_value = pair.partition("=")
                    # Session cookies are long random strings; short values (a user name such as
                    # WeChat's slave_user=gh_..., a uid, a flag) are public and occur in pages,
                    # where replacing them would falsify the evidence. The Cookie header itself
                    # is always redacted whole.
                    if sep and len(cookie_value.strip()) >= SESSION_VALUE_LENGTH:
                        found.append(cookie_value.strip())
    return tuple(dict.fromkeys(found))


def _env_name(key: str) -> str:
    """Best guess of the NAME in WEIDANG_CRED_<NAME>_<FIELD> (FIELD is the last part)."""
    rest = key[len(ENV_PREFIX):].lower()
    for two_words in ("_feed_url", "_user_agent", "_access_token"):
        if rest.endswith(two_words):
            return rest[: -len(two_words)]
    return rest.rpartition("_")[0]
