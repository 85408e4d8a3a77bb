"""Catalog failures, each told as one plain sentence for the archivist."""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every error raised by the catalog (accounts, credentials, the database)."""


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
