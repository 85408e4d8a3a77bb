"""What the 移交登记表 (transfer form) states, gathered as plain data for the face to render.

Counts of items and bytes, the package digest, the 四性 results of the package audit, and the
PREMIS events behind the package: capture (each version's capture), fixity (the digests
computed when each WARC file was closed, and the last fixity check), appraisal (each keep
decision, with its event number and hash) and transfer (this package's events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.transfer.contents import Item
from warc_store import Collection


@dataclass
class PremisSummary:
    type: str  # PREMIS event type
    type_zh: str
    count: int
    first: str
    last: str
    detail: str


@dataclass
class FormData:
    transfer_id: str
    created_at: str
    actor: str
    selection: str
    demo: bool
    items: list[dict[str, str]]  # 档号, 题名, 责任者, 日期, 保管期限, per post
    discarded: int
    unappraised: int
    payload_files: int
    payload_bytes: int
    payload_sha256: str
    warc_bytes: int
    packages: list[dict[str, Any]]  # each WACZ: path, bytes, sha256, warc files
    audit: list[dict[str, Any]] = field(default_factory=list)  # rows of the package audit
    audit_ok: bool = True
    premis: list[PremisSummary] = field(default_factory=list)
    seals: list[str] = field(default_factory=list)


def item_rows(items: Sequence[Item]) -> list[dict[str, str]]:
    rows = []
    for item in items:
        current = item.view.versions[-1] if item.view.versions else None
        rows.append({"档号": item.code,
                     "题名": (current.title or current.text[:40]) if current else "",
                     "责任者": str(item.post.get("account_name") or item.view.account),
                     "日期": (item.view.published_at or item.view.first_captured)[:10],
                     "保管期限": item.decision.retention})
    return rows


def premis_events(items: Sequence[Item], collections: dict[str, Collection], files: set[str],
                  transfer_events: dict[str, tuple[int, str]], when: str) -> list[PremisSummary]:
    captures = sorted(v.captured_at for item in items for v in item.view.versions)
    appraisals = sorted(item.decision.at for item in items)
    fixity: list[str] = []
    checks: list[str] = []
    for collection in collections.values():
        for event in collection.events.entries():
            detail = event.get("detail") or {}
            if event.get("type") == "message digest calculation" and detail.get("file") in files:
                fixity.append(str(event.get("time") or event.get("at") or ""))
            elif event.get("type") == "fixity check":
                checks.append(str(event.get("time") or event.get("at") or ""))
    out = [
        PremisSummary("capture", "采集", len(captures), _first(captures), _last(captures),
                      f"{len(captures)} post versions captured, each in a WARC metadata record"),
        PremisSummary("message digest calculation", "摘要计算", len(fixity), _first(sorted(fixity)),
                      _last(sorted(fixity)), f"SHA-256 and SM3 of {len(files)} WARC files when closed"),
        PremisSummary("fixity check", "固定性检查", len(checks), _first(sorted(checks)),
                      _last(sorted(checks)), "weidang verify / audit of the collection"),
        PremisSummary("appraisal", "鉴定", len(appraisals), _first(appraisals), _last(appraisals),
                      "keep decisions with 档号; events " + ", ".join(
                          str(item.decision.event_seq) for item in items[:20])
                      + (" …" if len(items) > 20 else "")),
        PremisSummary("transfer", "移交", len(transfer_events), when, when, "; ".join(
            f"{name} event {seq} ({digest[:16]}…)" for name, (seq, digest) in transfer_events.items())),
    ]
    return out


def _first(values: Sequence[str]) -> str:
    return values[0] if values else ""


def _last(values: Sequence[str]) -> str:
    return values[-1] if values else ""
