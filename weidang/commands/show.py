"""`weidang show PLATFORM:POST_ID`: everything the archive holds about one post."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from weidang.appraising import collection_source, parse_post
from weidang.citation import DEMO_NOTE, captured, published
from weidang.context import AppContext, pass_app
from weidang.i18n import _, china_time
from weidang.store import catalog_db

if TYPE_CHECKING:
    from catalog.post_record import PostView, RecordPlace
    from warc_store import Collection

_ANSWER_CHARS = 200  # of the platform's answer, shown as proof of a deletion
_COMMENTS_SHOWN = 5  # the first comments listed; --json and the catalog hold them all


@click.command("show", short_help="Show what the archive holds about one post: versions, status, evidence.")
@click.argument("post", metavar="PLATFORM:POST_ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON document for machines.")
@pass_app
def command(app: AppContext, post: str, as_json: bool) -> int:
    """Show a post's versions (with what changed), status events with their evidence, media,
    appraisal and 档号, and how to cite it."""
    from catalog.comments import CommentCatalog  # noqa: PLC0415 - SQLAlchemy loads with the catalog
    from catalog.index_feed import documents_for  # noqa: PLC0415
    from catalog.post_record import post_record  # noqa: PLC0415

    platform, post_id = parse_post(post)
    collections = collection_source(app)
    with catalog_db(app.home, app.settings) as db:
        with db.read() as conn:
            view = post_record(conn, platform, post_id, collections)
        documents = documents_for(db, collections, posts=[(platform, post_id)])
        comments = CommentCatalog(db).for_post(platform, post_id)
    current = next((d for d in documents if d.version == view.current_version), None) or \
        (documents[-1] if documents else None)
    data = view.to_dict()
    for status, shown in zip(data["statuses"], view.statuses, strict=True):
        status["answer"] = _answer(collections(shown.collection), shown.evidence)
    data["citation"] = _citation(current) if current is not None else None
    data["comments"] = [asdict(c) for c in comments]
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
    text = _("%(account)s: %(title)s. %(platform)s, %(url)s, published %(published)s, captured "
             "%(captured)s; WARC %(file)s record %(record)s, payload SHA-256 %(digest)s.",
             account=account, title=doc.title or doc.text[:40], platform=doc.platform, url=doc.url,
             published=published(doc.published_at), captured=captured(doc.captured_at),
             file=doc.warc_file or _("(file unknown)"), record=doc.warc_record_id,
             digest=doc.payload_sha256 or _("(unknown)"))
    return {"text": text, "warc_file": doc.warc_file, "record_id": doc.warc_record_id,
            "payload_sha256": doc.payload_sha256, "demo": doc.demo}


def _place(place: dict[str, Any] | None) -> str:
    if not place:
        return _("(none)")
    if place.get("warc_file"):
        return _("record %(record)s in %(file)s at byte %(offset)s", record=place["record_id"],
                 file=place["warc_file"], offset=place["offset"])
    return _("record %(record)s (not in the collection's index)", record=place["record_id"])


def _lines(view: PostView, data: dict[str, Any]) -> list[str]:
    # Times for people in China time with the offset; the JSON keeps the catalog's UTC.
    out = [f"{view.platform}:{view.post_id}  " + _("account %(account)s  status %(status)s",
                                                   account=view.account, status=_(view.status)),
           "  " + _("address %(url)s", url=view.url or _("(none)")),
           "  " + _("published %(published)s; captured first %(first)s, last %(last)s; seen %(n)s times",
                    published=china_time(view.published_at, seconds=True) or _("(unknown)"),
                    first=china_time(view.first_captured, seconds=True),
                    last=china_time(view.last_captured, seconds=True), n=len(view.sightings))]
    out.append(_("Versions (%(n)s):", n=len(view.versions)))
    for v, shown in zip(view.versions, data["versions"], strict=True):
        out.append("  " + _("version %(n)s (%(outcome)s), captured %(when)s, harvest %(harvest)s; "
                            "metadata %(place)s", n=v.version, outcome=_(v.outcome),
                            when=china_time(v.captured_at, seconds=True), harvest=v.harvest_id,
                            place=_place(shown["metadata_record"])))
        out.append(f"    {' '.join((v.title or v.text).split())[:80]}")
        out.extend(f"    {line}" for line in v.diff.splitlines())
        out.extend(f"    {line}" for line in _browser_lines(shown["browser"]))
    out.append(_("Status events (%(n)s):", n=len(view.statuses)))
    for s in data["statuses"]:
        out.append("  " + _("%(status)s (%(reason)s), found %(when)s, harvest %(harvest)s",
                            status=_(s["status"]), reason=s["reason"],
                            when=china_time(s["found_at"], seconds=True), harvest=s["harvest_id"]))
        out.append("    " + _("evidence: %(place)s", place=_place(s["evidence"])))
        if s.get("answer"):
            a = s["answer"]
            out.append("    " + _("the platform answered %(status)s to %(uri)s: %(body)s",
                                  status=a["http_status"], uri=a["uri"], body=repr(a["body_start"])))
        out.append("    " + _("metadata %(place)s", place=_place(s["metadata_record"])))
    out.append(_("Media (%(n)s):", n=len(view.media)))
    for m in view.media:
        out.append(f"  v{m['version']} #{m['position']} {m['kind']} {m['url']}: "
                   + (_place(m) if m.get("record_id") else _("not fetched")))
    return out + _comment_lines(data["comments"]) + _appraisal_lines(view, data)


def _comment_lines(comments: list[dict[str, Any]]) -> list[str]:
    """How many comments the archive holds under the post, and the first few."""
    if not comments:
        return []
    out = [_("Comments (%(n)s):", n=len(comments))]
    for c in comments[:_COMMENTS_SHOWN]:
        when = china_time(c["published_at"], seconds=True) if c["published_at"] else ""
        out.append(f"  {c['author_name'] or c['author_id']} {when}: {' '.join(c['text'].split())[:80]}")
    if len(comments) > _COMMENTS_SHOWN:
        out.append("  " + _("... and %(n)s more (weidang show --json lists them all).",
                            n=len(comments) - _COMMENTS_SHOWN))
    return out


def _browser_lines(browser: dict[str, Any] | None) -> list[str]:
    """The version's page as Chromium rendered it: the page's response and its renditions."""
    if browser is None:
        return []
    out = [_("browser capture of %(url)s: %(exchanges)s exchanges, %(loaded)s of %(total)s pictures "
             "loaded", url=browser["url"], exchanges=browser["exchanges"],
             loaded=browser["images_loaded"], total=browser["images_total"])]
    labels = (("page", _("page response")), ("screenshot", _("screenshot (PNG)")),
              ("dom", _("rendered DOM (HTML)")), ("pdf", _("PDF rendition")))
    for name, label in labels:
        if browser.get(name):
            out.append(f"  {label}: {_place(browser[name])}")
    out += ["  " + _("problem: %(problem)s", problem=p) for p in browser["problems"]]
    return out


def _appraisal_lines(view: PostView, data: dict[str, Any]) -> list[str]:
    out = [_("Appraisal (%(n)s decisions):", n=len(view.decisions)) if view.decisions else
           _("Appraisal: not appraised yet (`weidang appraise`).")]
    for d in view.decisions:
        out.append("  " + _("%(when)s %(decision)s %(retention)s by %(reviewer)s",
                            when=china_time(d["at"], seconds=True), decision=_(d["decision"]),
                            retention=d["retention"], reviewer=d["reviewer"])
                   + (f", 档号 {d['code']}" if d["code"] else "")
                   + (f": {d['reason']}" if d["reason"] else "")
                   + (f" [{d['classification']}]" if d["classification"] else "")
                   + " " + _("(event %(seq)s of %(collection)s)", seq=d["event_seq"],
                             collection=d["collection"]))
    for c in view.codes:
        out.append(f"  档号 {c['code']} " + (_("current") if c["current"] else _("reserved (not current)")))
    citation = data.get("citation")
    if citation:
        out.append(_("Cite as:") + (f" ({_(DEMO_NOTE)})" if citation["demo"] else ""))
        out.append(f"  {citation['text']}")
    return out
