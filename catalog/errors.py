"""Catalog failures, each told as one plain sentence for the archivist."""

from __future__ import annotations

from typing import Any, Self


def N_(message: str) -> str:  # noqa: N802 - the name message extraction looks for
    """Marks ``message`` for the message catalog (weidang/locale/babel.cfg); returns it as is."""
    return message


class CatalogError(Exception):
    """Base of every error raised by the catalog (accounts, credentials, the database).

    An error made with ``told`` also keeps its English message ``template`` (marked with ``N_``
    for the face's message catalog) and its ``values``, so that a face can tell it in the
    reader's language; ``str()`` is always the English sentence.
    """

    template: str | None = None
    values: dict[str, Any] | None = None

    @classmethod
    def told(cls, template: str, **values: Any) -> Self:
        error = cls(template % values if values else template)
        error.template, error.values = template, values
        return error


class InvalidAccount(CatalogError):
    """An account name or one of its fields is not acceptable."""


class UnknownAccount(CatalogError):
    """The account is not in the catalog."""


class DuplicateAccount(CatalogError):
    """The account is already registered."""


class CredentialsError(CatalogError):
    """The credentials file or variables cannot be used."""


class AccountFileError(CatalogError):
    """An account list (TOML, CSV, XLSX) cannot be read or has bad rows."""


class DatabaseError(CatalogError):
    """The catalog database cannot be opened or is newer than this weidang."""
