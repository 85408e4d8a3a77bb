"""The bytes: WARC files, fixity, manifests, the audit log, and verification.

warc_store imports neither Scrapy nor anything else of weidang; everything above writes through
``CaptureWriter`` and reads through ``read_record``.
"""

from warc_store.capture import CaptureWriter, ExchangeRecords, HttpRequest, HttpResponse
from warc_store.collection import Collection, StoreConfig
from warc_store.errors import CollectionLocked, RecordNotFound, StoreError
from warc_store.reader import StoredRecord, read_record
from warc_store.recovery import Recovered, recover
from warc_store.redaction import RedactionPolicy
from warc_store.seal import Seal, make_seal
from warc_store.verify import VerifyReport, check_files, verify_collection

__all__ = [
    "CaptureWriter", "Collection", "CollectionLocked", "ExchangeRecords", "HttpRequest",
    "HttpResponse", "RecordNotFound", "Recovered", "RedactionPolicy", "Seal", "StoreConfig",
    "StoreError", "StoredRecord", "VerifyReport", "check_files", "make_seal", "read_record",
    "recover", "verify_collection",
]
