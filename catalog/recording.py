"""Write a post's metadata record and record it in the catalog, with the very same values.

A rebuild reads back what the metadata record says, so the catalog must be told exactly that:
the same capture time, harvest id and evidence. Going through these two functions (rather than
``post_metadata`` + ``write_metadata`` + ``record_version`` by hand) makes that hold by
construction: a second reading of the clock for the catalog is the classic way to break it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from catalog.metadata import Evidence, post_metadata, status_metadata
from catalog.posts import Decision, PostCatalog
from harvesters.records import Post
from warc_store import CaptureWriter


def write_post_version(writer: CaptureWriter, catalog: PostCatalog, post: Post, decision: Decision,
                       evidence: Sequence[Evidence | Mapping[str, Any]], harvest_id: str,
                       captured_at: dt.datetime, account: str | None = None) -> tuple[str, int]:
    """Write the metadata record of ``post`` then record it; returns (record id, version held)."""
    proofs = [Evidence.of(e) for e in evidence]
    uri, body, ctype = post_metadata(post, decision.version, decision.outcome, harvest_id, proofs,
                                     captured_at, account)
    written = writer.write_metadata(uri, body, ctype, refers_to=[p.record_id for p in proofs])
    version = catalog.record_version(post, decision.version, decision.outcome, written.record_id,
                                     proofs, harvest_id, captured_at)
    return written.record_id, version


def write_post_status(writer: CaptureWriter, catalog: PostCatalog, platform: str, post_id: str,
                      account: str, status: str, reason: str,
                      evidence: Sequence[Evidence | Mapping[str, Any]], harvest_id: str,
                      captured_at: dt.datetime) -> tuple[str, bool]:
    """Write a status event's metadata record then record it; returns (record id, newly recorded)."""
    proofs = [Evidence.of(e) for e in evidence]
    uri, body, ctype = status_metadata(platform, post_id, account, status, reason, harvest_id, proofs,
                                       captured_at, catalog.current_version(platform, post_id) or 0)
    written = writer.write_metadata(uri, body, ctype, refers_to=[p.record_id for p in proofs])
    proof = next((p.record_id for p in proofs if p.role == "recheck"),
                 proofs[0].record_id if proofs else None)
    recorded = catalog.record_status(platform, post_id, status, reason, proof, written.record_id,
                                     harvest_id, captured_at)
    return written.record_id, recorded
