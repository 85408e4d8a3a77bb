"""The bytes: WARC files, fixity, manifests, the audit log, and verification.

warc_store imports neither Scrapy nor anything else of weidang; everything above writes through
``CaptureWriter`` and reads through the functions of ``reader`` exported here (``iter_records``,
``read_record``, ``read_record_at``, ``read_warcinfo``, ``metadata_entries``).

The names are loaded when first used (PEP 562), so that importing one submodule (``warc_store.lines``
by the command line's error handling) does not load warcio, surt and the time-stamp client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warc_store.capture import CaptureWriter, ExchangeRecords, HttpRequest, HttpResponse
    from warc_store.cdxj import IndexEntry
    from warc_store.collection import OPEN_SUFFIX, Collection, StoreConfig
    from warc_store.demo import DEMO_FIELD
    from warc_store.errors import CollectionLocked, DamagedRecord, RecordNotFound, StoreError
    from warc_store.reader import (
        StoredRecord,
        iter_records,
        metadata_entries,
        read_record,
        read_record_at,
        read_warcinfo,
        warc_path,
    )
    from warc_store.recovery import Recovered, recover
    from warc_store.redaction import RedactionPolicy
    from warc_store.seal import Seal, make_seal
    from warc_store.verify import VerifyReport, check_files, verify_collection

_EXPORTS = {
    "CaptureWriter": "warc_store.capture",
    "ExchangeRecords": "warc_store.capture",
    "HttpRequest": "warc_store.capture",
    "HttpResponse": "warc_store.capture",
    "IndexEntry": "warc_store.cdxj",
    "OPEN_SUFFIX": "warc_store.collection",
    "Collection": "warc_store.collection",
    "StoreConfig": "warc_store.collection",
    "DEMO_FIELD": "warc_store.demo",
    "CollectionLocked": "warc_store.errors",
    "DamagedRecord": "warc_store.errors",
    "RecordNotFound": "warc_store.errors",
    "StoreError": "warc_store.errors",
    "StoredRecord": "warc_store.reader",
    "iter_records": "warc_store.reader",
    "metadata_entries": "warc_store.reader",
    "read_record": "warc_store.reader",
    "read_record_at": "warc_store.reader",
    "read_warcinfo": "warc_store.reader",
    "warc_path": "warc_store.reader",
    "Recovered": "warc_store.recovery",
    "recover": "warc_store.recovery",
    "RedactionPolicy": "warc_store.redaction",
    "Seal": "warc_store.seal",
    "make_seal": "warc_store.seal",
    "VerifyReport": "warc_store.verify",
    "check_files": "warc_store.verify",
    "verify_collection": "warc_store.verify",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'warc_store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEMO_FIELD", "OPEN_SUFFIX", "CaptureWriter", "Collection", "CollectionLocked",
    "DamagedRecord", "ExchangeRecords", "HttpRequest", "HttpResponse", "IndexEntry",
    "RecordNotFound", "Recovered", "RedactionPolicy", "Seal", "StoreConfig", "StoreError",
    "StoredRecord", "VerifyReport", "check_files", "iter_records", "make_seal", "metadata_entries",
    "read_record", "read_record_at", "read_warcinfo", "recover", "verify_collection", "warc_path",
]
