"""Exceptions of the WARC store; their messages are written for archivists and auditors."""


class StoreError(Exception):
    """Something the store cannot do as asked."""


class CollectionLocked(StoreError):
    """Another process holds the collection lock for longer than we may wait."""


class RecordNotFound(StoreError):
    """No record with that id or URL is in the collection's index."""
