"""Exceptions of the WARC store; their messages are written for archivists and auditors."""


class StoreError(Exception):
    """Something the store cannot do as asked."""


class CollectionLocked(StoreError):
    """Another process holds the collection lock for longer than we may wait."""


class RecordNotFound(StoreError):
    """No record with that id or URL is in the collection's index."""


class DamagedRecord(StoreError):
    """A WARC file cannot be read further: a record cut short, a damaged gzip member, or bytes
    that are not WARC."""

    def __init__(self, filename: str, reason: str, offset: int | None = None) -> None:
        where = f" at offset {offset}" if offset is not None else ""
        super().__init__(f"the WARC file {filename} is damaged{where} ({reason}); "
                         "run `weidang verify` on it")
        self.filename = filename
        self.reason = reason
        self.offset = offset
