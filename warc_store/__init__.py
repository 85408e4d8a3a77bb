"""The bytes: WARC files, fixity, manifests, the audit log, and verification.

warc_store imports neither Scrapy nor anything else of weidang; everything above writes through
``CaptureWriter`` and reads through the functions of ``reader`` exported here (``iter_records``,
``read_record``, ``read_record_at``, ``read_warcinfo``, ``metadata_entries``).
"""

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

__all__ = [
    "DEMO_FIELD", "OPEN_SUFFIX", "CaptureWriter", "Collection", "CollectionLocked",
    "DamagedRecord", "ExchangeRecords", "HttpRequest", "HttpResponse", "IndexEntry",
    "RecordNotFound", "Recovered", "RedactionPolicy", "Seal", "StoreConfig", "StoreError",
    "StoredRecord", "VerifyReport", "check_files", "iter_records", "make_seal", "metadata_entries",
    "read_record", "read_record_at", "read_warcinfo", "recover", "verify_collection", "warc_path",
]
