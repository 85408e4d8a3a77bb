"""`weidang show PLATFORM:POST_ID`: everything the archive holds about one post."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from weidang.appraising import collection_source, parse_post
from weidang.citation import DEMO_NOTE, captured, published
from weidang.context import AppContext, pass_app
from weidang.store import catalog_db

if TYPE_CHECKING:
    from catalog.post_record import PostView, RecordPlace
    from warc_store import Collection

_ANSWER_CHARS = 200  # of the platform's answer, shown as proof of a deletion


@click.command("show", short_help="Show what the archive holds about one post: versions, status, evidence.")
@click.argument("post", metavar="PLATFORM:POST_ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON document for machines.")
@pass_app
def command(app: AppContext, post: str, as_json: bool) -> int:
    """Show a post's versions (with what changed), status events with their evidence, media,
    appraisal and 档号, and how to cite it."""
    from catalog.index_feed import documents_for  # noqa: PLC0415 - SQLAlchemy loads with the catalog
    from catalog.post_record import post_record  # noqa: PLC0415

    platform, post_id = parse_post(post)
    collections = collection_source(app)
    with catalog_db(app.home, app.settings) as db:
        with db.read() as conn:
            view = post_record(conn, platform, post_id, collections)
        documents = documents_for(db, collections, posts=[(platform, post_id)])
    current = next((d for d in documents if d.version == view.current_version), None) or \
        (documents[-1] if documents else None)
    data = view.to_dict()
    for status, shown in zip(data["statuses"], view.statuses, strict=True):
        status["answer"] = _answer(collections(shown.collection), shown.evidence)
    data["citation"] = _citation(current) if current is not None else None
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for line in _lines(view, data):
        click.echo(line)
    return 0


def _answer(collection: Collection | None, place: RecordPlace | None) -> dict[str, Any] | None:
    """The platform's answer a status event rests on, read back from the WARC."""
    from warc_store import read_record_at  # noqa: PLC0415

    if collection is None or place is None or not place.warc_file or place.offset is None:
        return None
    record = read_record_at(collection, place.warc_file, place.offset)
    body = record.payload[:_ANSWER_CHARS * 4].decode("utf-8", "replace")[:_ANSWER_CHARS]
    return {"uri": record.uri, "http_status": record.http_status, "date": record.date,
            "body_start": body}


def _citation(doc: Any) -> dict[str, Any]:
    account = f"{doc.account_name} ({doc.account_id})" if doc.account_name else doc.account_id
    text = (f"{account}: {doc.title or doc.text[:40]}. {doc.platform}, {doc.url}, published "
            f"{published(doc.published_at)}, captured {captured(doc.captured_at)}; WARC "
            f"{doc.warc_file or '(file unknown)'} record {doc.warc_record_id}, payload SHA-256 "
            f"{doc.payload_sha256 or '(unknown)'}.")
    return {"text": text, "warc_file": doc.warc_file, "record_id": doc.warc_record_id,
            "payload_sha256": doc.payload_sha256, "demo": doc.demo}


def _place(place: dict[str, Any] | None) -> str:
    if not place:
        return "(none)"
    where = f" in {place['warc_file']} at byte {place['offset']}" if place.get("warc_file") \
        else " (not in the collection's index)"
    return f"record {place['record_id']}{where}"


def _lines(view: PostView, data: dict[str, Any]) -> list[str]:
    out = [f"{view.platform}:{view.post_id}  account {view.account}  status {view.status}",
           f"  address {view.url or '(none)'}",
           f"  published {view.published_at or '(unknown)'}; captured first {view.first_captured}, "
           f"last {view.last_captured} (times UTC); seen {len(view.sightings)} times"]
    out.append(f"Versions ({len(view.versions)}):")
    for v, shown in zip(view.versions, data["versions"], strict=True):
        out.append(f"  version {v.version} ({v.outcome}), captured {v.captured_at}, harvest "
                   f"{v.harvest_id}; metadata {_place(shown['metadata_record'])}")
        out.append(f"    {' '.join((v.title or v.text).split())[:80]}")
        out.extend(f"    {line}" for line in v.diff.splitlines())
        out.extend(f"    {line}" for line in _browser_lines(shown["browser"]))
    out.append(f"Status events ({len(view.statuses)}):")
    for s in data["statuses"]:
        out.append(f"  {s['status']} ({s['reason']}), found {s['found_at']}, harvest {s['harvest_id']}")
        out.append(f"    evidence: {_place(s['evidence'])}")
        if s.get("answer"):
            a = s["answer"]
            out.append(f"    the platform answered {a['http_status']} to {a['uri']}: {a['body_start']!r}")
        out.append(f"    metadata {_place(s['metadata_record'])}")
    out.append(f"Media ({len(view.media)}):")
    for m in view.media:
        out.append(f"  v{m['version']} #{m['position']} {m['kind']} {m['url']}: "
                   + (_place(m) if m.get("record_id") else "not fetched"))
    return out + _appraisal_lines(view, data)


def _browser_lines(browser: dict[str, Any] | None) -> list[str]:
    """The version's page as Chromium rendered it: the page's response and its renditions."""
    if browser is None:
        return []
    out = [f"browser capture of {browser['url']}: {browser['exchanges']} exchanges, "
           f"{browser['images_loaded']} of {browser['images_total']} pictures loaded"]
    for name, label in (("page", "page response"), ("screenshot", "screenshot (PNG)"),
                        ("dom", "rendered DOM (HTML)"), ("pdf", "PDF rendition")):
        if browser.get(name):
            out.append(f"  {label}: {_place(browser[name])}")
    out += [f"  problem: {p}" for p in browser["problems"]]
    return out


def _appraisal_lines(view: PostView, data: dict[str, Any]) -> list[str]:
    out = [f"Appraisal ({len(view.decisions)} decisions):" if view.decisions else
           "Appraisal: not appraised yet (`weidang appraise`)."]
    for d in view.decisions:
        out.append(f"  {d['at']} {d['decision']} {d['retention']} by {d['reviewer']}"
                   + (f", 档号 {d['code']}" if d["code"] else "")
                   + (f": {d['reason']}" if d["reason"] else "")
                   + (f" [{d['classification']}]" if d["classification"] else "")
                   + f" (event {d['event_seq']} of {d['collection']})")
    for c in view.codes:
        out.append(f"  档号 {c['code']} {'current' if c['current'] else 'reserved (not current)'}")
    citation = data.get("citation")
    if citation:
        out.append("Cite as:" + (f" ({DEMO_NOTE})" if citation["demo"] else ""))
        out.append(f"  {citation['text']}")
    return out
