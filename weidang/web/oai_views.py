"""OAI-PMH 2.0 at ``/oai``: other archives harvest the records this one keeps and has opened.

A record is a post that is open (``catalog.open_access``) and whose current appraisal is a keep
(``catalog.appraisal``): an archival record another archive may copy. Two metadata formats:
``oai_dc`` (Dublin Core) and ``dat46``, the DA/T 46 elements the catalog holds today (档号, 题名,
责任者, 日期, 保管期限, …), described by the schema served at ``/oai/dat46.xsd``. Sets are the
platforms (``weibo``, ``wechat``). A record's datestamp is when what it shows last changed: its
last capture, its opening or its appraisal (``catalog.open_access.changed_at``). Lists come
``WEB_OAI_PAGE_SIZE`` records at a time with a resumption token that names where the next page
starts, so tokens never expire and need no server state. Like the JSON API, no login: only
open records are shown.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from lxml import etree
from sqlalchemy import Connection, func, select

from catalog.open_access import open_posts
from catalog.schema import posts
from harvesters.dates import SHANGHAI
from weidang.web.open_data import open_record

blueprint = Blueprint("oai", __name__)
OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DAT46 = "urn:weidang:dat46:1"
DAT46_XSD = Path(__file__).parent / "dat46.xsd"
FORMATS = {
    "oai_dc": (OAI_DC, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "dat46": (DAT46, None),  # served by this server: /oai/dat46.xsd
}
SETS = {"weibo": "微博 Weibo", "wechat": "微信公众号 WeChat"}
ID_PREFIX = "oai:weidang:"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# What each verb takes besides itself: (required, optional, exclusive).
VERBS: dict[str, tuple[set[str], set[str], str | None]] = {
    "Identify": (set(), set(), None),
    "ListMetadataFormats": (set(), {"identifier"}, None),
    "ListSets": (set(), set(), "resumptionToken"),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
    "GetRecord": ({"identifier", "metadataPrefix"}, set(), None),
}


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@blueprint.route("/oai/dat46.xsd")
def dat46_schema() -> Response:
    return Response(DAT46_XSD.read_bytes(), mimetype="application/xml")


@blueprint.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    args = request.values if request.method == "POST" else request.args
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    etree.SubElement(root, f"{{{OAI}}}responseDate").text = _stamp(dt.datetime.now(dt.UTC))
    req = etree.SubElement(root, f"{{{OAI}}}request")
    req.text = url_for("oai.endpoint", _external=True)
    try:
        verb, given = _check(args)
        for name, value in given.items():
            req.set(name, value)
        req.set("verb", verb)
        with current_app.config["DB"].read() as conn:
            root.append(HANDLERS[verb](conn, given))
    except OaiError as exc:
        error = etree.SubElement(root, f"{{{OAI}}}error", code=exc.code)
        error.text = str(exc)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, mimetype="text/xml", content_type="text/xml; charset=utf-8")


def _check(args: Any) -> tuple[str, dict[str, str]]:
    verbs = args.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "verb is missing, repeated or not an OAI-PMH verb")
    verb = verbs[0]
    given: dict[str, str] = {}
    for name in args:
        if name == "verb":
            continue
        values = args.getlist(name)
        if len(values) != 1:
            raise OaiError("badArgument", f"{name} is repeated")
        given[name] = values[0]
    required, optional, exclusive = VERBS[verb]
    if exclusive and exclusive in given:
        if len(given) != 1:
            raise OaiError("badArgument", f"{exclusive} must be the only argument besides verb")
        return verb, given
    unknown = set(given) - required - optional
    if unknown:
        raise OaiError("badArgument", "unknown argument(s): " + ", ".join(sorted(unknown)))
    missing = required - set(given)
    if missing:
        raise OaiError("badArgument", "missing argument(s): " + ", ".join(sorted(missing)))
    return verb, given


def _identify(conn: Connection, _given: dict[str, str]) -> etree._Element:
    settings = current_app.config["SETTINGS"]
    out = etree.Element(f"{{{OAI}}}Identify")
    earliest = conn.execute(select(func.min(posts.c.last_captured))).scalar()
    for name, value in (("repositoryName", str(settings["WEB_OAI_REPOSITORY_NAME"])),
                        ("baseURL", url_for("oai.endpoint", _external=True)),
                        ("protocolVersion", "2.0"),
                        ("adminEmail", str(settings["WEB_OAI_ADMIN_EMAIL"])),
                        ("earliestDatestamp", _datestamp(earliest) if earliest else "2000-01-01T00:00:00Z"),
                        ("deletedRecord", "transient"),  # a record closed again just disappears
                        ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
        etree.SubElement(out, f"{{{OAI}}}{name}").text = value
    return out


def _metadata_formats(conn: Connection, given: dict[str, str]) -> etree._Element:
    if "identifier" in given:
        _record_row(conn, given["identifier"])
    out = etree.Element(f"{{{OAI}}}ListMetadataFormats")
    for prefix, (namespace, schema) in FORMATS.items():
        fmt = etree.SubElement(out, f"{{{OAI}}}metadataFormat")
        etree.SubElement(fmt, f"{{{OAI}}}metadataPrefix").text = prefix
        etree.SubElement(fmt, f"{{{OAI}}}schema").text = schema or url_for("oai.dat46_schema",
                                                                           _external=True)
        etree.SubElement(fmt, f"{{{OAI}}}metadataNamespace").text = namespace
    return out


def _sets(_conn: Connection, given: dict[str, str]) -> etree._Element:
    if "resumptionToken" in given:
        raise OaiError("badResumptionToken", "ListSets comes in one answer: there is no next page")
    out = etree.Element(f"{{{OAI}}}ListSets")
    for spec, name in SETS.items():
        item = etree.SubElement(out, f"{{{OAI}}}set")
        etree.SubElement(item, f"{{{OAI}}}setSpec").text = spec
        etree.SubElement(item, f"{{{OAI}}}setName").text = name
    return out


def _list(verb: str) -> Any:
    def handler(conn: Connection, given: dict[str, str]) -> etree._Element:
        query = _decode(given["resumptionToken"]) if "resumptionToken" in given else _query(given)
        size = int(current_app.config["SETTINGS"]["WEB_OAI_PAGE_SIZE"])
        rows = open_posts(conn, platform=query["set"], since=query["from"], until=query["until"],
                          after=tuple(query["after"]) if query["after"] else None, limit=size + 1,
                          kept=True)
        if not rows:
            if "resumptionToken" in given:
                raise OaiError("badResumptionToken", "the token points past the last record")
            raise OaiError("noRecordsMatch", "no kept and open record matches")
        out = etree.Element(f"{{{OAI}}}{verb}")
        for row in rows[:size]:
            if verb == "ListIdentifiers":
                out.append(_header(row))
            else:
                out.append(_record(conn, row, query["prefix"]))
        if len(rows) > size or "resumptionToken" in given:
            token = etree.SubElement(out, f"{{{OAI}}}resumptionToken")
            if len(rows) > size:
                last = rows[size - 1]
                token.text = _encode({**query, "after": [last.changed_at, last.platform,
                                                         last.post_id]})
        return out
    return handler


def _get_record(conn: Connection, given: dict[str, str]) -> etree._Element:
    prefix = _prefix(given["metadataPrefix"])
    row = _record_row(conn, given["identifier"])
    out = etree.Element(f"{{{OAI}}}GetRecord")
    out.append(_record(conn, row, prefix))
    return out


def _record_row(conn: Connection, identifier: str) -> Any:
    key = identifier[len(ID_PREFIX):] if identifier.startswith(ID_PREFIX) else ""
    platform, _, post_id = key.partition(":")
    rows = open_posts(conn, keys=[(platform, post_id)], limit=1, kept=True) if post_id else []
    if not rows:
        raise OaiError("idDoesNotExist", f"{identifier} is not a kept and open record here")
    return rows[0]


def _query(given: dict[str, str]) -> dict[str, Any]:
    prefix = _prefix(given["metadataPrefix"])
    spec = given.get("set")
    if spec is not None and spec not in SETS:
        raise OaiError("badArgument", f"there is no set {spec}; ListSets names them")
    start, end = given.get("from"), given.get("until")
    for value in (start, end):
        if value is not None and not (_DAY.fullmatch(value) or _SECOND.fullmatch(value)):
            raise OaiError("badArgument", f"{value} is not a UTC date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)")
    if start and end and len(start) != len(end):
        raise OaiError("badArgument", "from and until must have the same granularity")
    bounds = (_bound(start, end=False), _bound(end, end=True))
    if bounds[0] and bounds[1] and bounds[0] > bounds[1]:
        raise OaiError("badArgument", "from is later than until")
    return {"prefix": prefix, "set": spec, "from": bounds[0], "until": bounds[1], "after": None}


def _prefix(value: str) -> str:
    if value not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"{value} is not a format here: oai_dc or dat46")
    return value


def _bound(value: str | None, *, end: bool) -> str | None:
    """A from/until as the catalog writes its times (microseconds, Z), inclusive."""
    if value is None:
        return None
    try:
        moment = (dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value
                  else dt.datetime.fromisoformat(value + ("T23:59:59+00:00" if end else "T00:00:00+00:00")))
    except ValueError:
        raise OaiError("badArgument", f"{value} is not a date") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (".999999Z" if end else ".000000Z")


def _encode(query: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(query, separators=(",", ":")).encode()).decode()


def _decode(token: str) -> dict[str, Any]:
    try:
        query = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        if not isinstance(query, dict) or set(query) != {"prefix", "set", "from", "until", "after"}:
            raise ValueError
        _prefix(query["prefix"])
        after = query["after"]
        if not (isinstance(after, list) and len(after) == 3 and all(isinstance(a, str) for a in after)):
            raise ValueError
        if query["set"] is not None and query["set"] not in SETS:
            raise ValueError
        return query
    except (ValueError, UnicodeError, binascii.Error, OaiError, TypeError):
        raise OaiError("badResumptionToken", "the resumption token is not one this server gave") from None


def _header(row: Any) -> etree._Element:
    header = etree.Element(f"{{{OAI}}}header")
    etree.SubElement(header, f"{{{OAI}}}identifier").text = f"{ID_PREFIX}{row.platform}:{row.post_id}"
    etree.SubElement(header, f"{{{OAI}}}datestamp").text = _datestamp(row.changed_at)
    etree.SubElement(header, f"{{{OAI}}}setSpec").text = row.platform
    return header


def _record(conn: Connection, row: Any, prefix: str) -> etree._Element:
    record = etree.Element(f"{{{OAI}}}record")
    record.append(_header(row))
    metadata = etree.SubElement(record, f"{{{OAI}}}metadata")
    data = open_record(conn, row.platform, row.post_id)
    metadata.append(_dublin_core(data) if prefix == "oai_dc" else _dat46(data))
    return record


def _dublin_core(data: dict[str, Any]) -> etree._Element:
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    fields = [("title", data["title"] or _first_line(data["text"])), ("creator", data["account_name"]),
              ("date", data["published_at"] or ""), ("description", data["text"]),
              ("identifier", data["url"]), ("identifier", data["id"]),
              ("identifier", data["archival_code"] or ""), ("publisher", SETS[data["platform"]]),
              ("type", "Text"), ("format", "text/html"), ("language", "zh"),
              ("source", data["url"])]
    for name, value in fields:
        if value:
            etree.SubElement(dc, f"{{{DC}}}{name}").text = _xml_text(value)
    return dc


def _dat46(data: dict[str, Any]) -> etree._Element:
    """The DA/T 46 elements the catalog holds; 档号 and 保管期限 when the post is kept."""
    root = etree.Element(f"{{{DAT46}}}文件", nsmap={"dat46": DAT46})
    current = next((v for v in data["versions"] if v["version"] == data["current_version"]),
                   data["versions"][-1] if data["versions"] else None)
    published = _china_day(data["published_at"])
    for name, value in (("档号", data["archival_code"]), ("题名", data["title"] or _first_line(data["text"])),
                        ("责任者", data["account_name"]), ("日期", published),
                        ("保管期限", data["retention"]), ("正文", data["text"]),
                        ("网址", data["url"]), ("捕获时间", data["last_captured"]),
                        ("计算机文件名", current["warc_file"] if current else ""),
                        ("电子文件号", current["warc_record_id"] if current else ""),
                        ("文件状态", data["status"]), ("标识符", data["id"])):
        if value:
            etree.SubElement(root, f"{{{DAT46}}}{name}").text = _xml_text(value)
    return root


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:60]


def _xml_text(value: str) -> str:
    """Text XML 1.0 can carry: control characters a post may hold are left out."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", str(value))


def _china_day(utc_text: str | None) -> str:
    """DA/T 46 日期: the publication day in China time, YYYYMMDD."""
    if not utc_text:
        return ""
    moment = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    return moment.astimezone(SHANGHAI).strftime("%Y%m%d")


def _datestamp(utc_text: str) -> str:
    return utc_text[:19] + "Z"


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


HANDLERS = {"Identify": _identify, "ListMetadataFormats": _metadata_formats, "ListSets": _sets,
            "ListIdentifiers": _list("ListIdentifiers"), "ListRecords": _list("ListRecords"),
            "GetRecord": _get_record}
