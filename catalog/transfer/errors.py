"""What goes wrong with a transfer package, in plain words."""

from __future__ import annotations

from catalog.errors import CatalogError


class TransferError(CatalogError):
    """A package that cannot be made as asked; the message says why and what to do."""
