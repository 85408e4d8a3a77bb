"""Open to other archives: the JSON API checked by schemathesis against its own OpenAPI
description, and OAI-PMH harvested by an independent harvester (oaipmh-scythe) from a
`weidang web` the test starts, its answers checked as XML. The archive is made by real harvests
of the emulator (tests/web_archive.py); an administrator opens the Weibo account but keeps one
of its posts closed, and the account's posts are appraised and kept (档号 given)."""

from __future__ import annotations

import datetime as dt
from urllib.request import urlopen

import pytest
import web_archive
from lxml import etree

from catalog.open_access import set_open
from catalog.schema import iso
from weidang.home import Home
from weidang.web import create_app
from weidang.web.oai_views import DAT46, DAT46_XSD, DC, OAI, OAI_DC

pytestmark = pytest.mark.slow
schemathesis = pytest.importorskip("schemathesis")
scythe = pytest.importorskip("oaipmh_scythe")
hypothesis = pytest.importorskip("hypothesis")
PAGE = 4  # OAI records per answer: small, so that harvests need resumption tokens


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    built = web_archive.build(tmp_path_factory)
    archive = next(built)
    _appraise_and_open(archive)
    yield archive
    built.close()


def _appraise_and_open(web) -> None:
    run = web.archive.weidang
    run("accounts", "codes", web_archive.WEIBO, "--fonds", "0194", "--category", "XM", "--unit", "BGS",
        check=True)
    run("appraise", "--keep", "--retention", "永久", "--account", web_archive.WEIBO,
        "--reviewer", "王芳", check=True)
    app = flask_app_of(web)
    now = iso(dt.datetime.now(dt.UTC))
    with app.config["DB"].write() as conn:
        set_open(conn, "account", web_archive.WEIBO, True, "boss", now)
        set_open(conn, "post", web.hostile, False, "boss", now, "不宜公开")


def flask_app_of(web):
    home = Home(web.home)
    return create_app(home, home.settings(), environ={})


@pytest.fixture(scope="module")
def app(web):
    return flask_app_of(web)


@pytest.fixture(scope="module")
def server(web):
    yield from web_archive.serve(web, {"WEIDANG_WEB_OAI_PAGE_SIZE": str(PAGE)})


def open_weibo_posts(web) -> set[str]:
    rows = web.archive.rows("SELECT platform, post_id FROM posts WHERE account = ?", web_archive.WEIBO)
    return {f"{p}:{i}" for p, i in rows} - {web.hostile}


# -- the JSON API --------------------------------------------------------------------------------
def test_the_api_serves_open_posts_only_without_a_login(web, app):
    client = app.test_client()
    found = client.get("/api/v1/search?q=疫情").get_json()
    assert found["total"] >= 1 and {h["id"] for h in found["hits"]} <= open_weibo_posts(web)
    everything = client.get("/api/v1/search?per_page=100").get_json()
    ids = {h["id"] for h in everything["hits"]}
    assert ids and ids <= open_weibo_posts(web) and web.hostile not in ids
    assert not any(i.startswith("wechat:") for i in ids)
    record = client.get(f"/api/v1/posts/{web.edited}").get_json()
    assert len(record["versions"]) == 2 and record["archival_code"].startswith("0194-XM·")
    assert record["retention"] == "永久" and "reviewer" not in str(record)
    assert client.get(f"/api/v1/posts/{web.hostile}").status_code == 404  # closed: as if not held
    wechat = web.archive.rows("SELECT post_id FROM posts WHERE platform = 'wechat' LIMIT 1")[0][0]
    assert client.get(f"/api/v1/posts/wechat:{wechat}").status_code == 404
    assert "Set-Cookie" not in client.get("/api/v1/search").headers


def test_the_api_keeps_to_its_openapi_description(app):
    """Requests schemathesis makes from the description (its pytest plugin does not load under
    this pytest, so its strategies are driven here): no server error, and every answer's status,
    content type and body as the description says."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/api/v1/search", "/api/v1/posts/{key}", "/api/v1/open"}
    for operation in operations:
        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=40, deadline=None, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def conforms(case):
            case.call_and_validate()
        conforms()


# -- OAI-PMH -------------------------------------------------------------------------------------
def oai(server, query: str) -> etree._Element:
    with urlopen(f"{server.url}/oai?{query}", timeout=60) as answer:
        assert answer.headers["Content-Type"].startswith("text/xml")
        return etree.fromstring(answer.read())


def check_envelope(root: etree._Element) -> None:
    """What every OAI-PMH 2.0 answer must be: OAI-PMH, responseDate (UTC, seconds), request."""
    assert root.tag == f"{{{OAI}}}OAI-PMH"
    first, second, *rest = list(root)
    assert first.tag == f"{{{OAI}}}responseDate"
    dt.datetime.strptime(first.text, "%Y-%m-%dT%H:%M:%SZ")
    assert second.tag == f"{{{OAI}}}request" and second.text.endswith("/oai")
    assert len(rest) >= 1


def test_an_independent_harvester_gets_every_kept_open_record_page_by_page(web, server):
    harvester = scythe.Scythe(f"{server.url}/oai", timeout=60)
    identify = harvester.identify()
    assert identify.protocolVersion == "2.0" and identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    formats = {f.metadataPrefix for f in harvester.list_metadata_formats()}
    assert formats == {"oai_dc", "dat46"}
    assert {s.setSpec for s in harvester.list_sets()} == {"weibo", "wechat"}
    headers = list(harvester.list_identifiers(metadata_prefix="oai_dc"))
    expected = {f"oai:weidang:{key}" for key in open_weibo_posts(web)}
    assert len(expected) > PAGE  # so the harvest above went through resumption tokens
    assert [h.identifier for h in headers] and {h.identifier for h in headers} == expected
    assert len(headers) == len(expected)  # each once
    records = list(harvester.list_records(metadata_prefix="dat46", set_="weibo"))
    assert {r.header.identifier for r in records} == expected
    one = harvester.get_record(identifier=f"oai:weidang:{web.edited}", metadata_prefix="oai_dc")
    assert one.metadata["identifier"][0].startswith("http")
    assert any(i.startswith("0194-XM·") for i in one.metadata["identifier"])


def test_every_answer_is_well_formed_oai_pmh_and_records_validate(web, server):
    schema = etree.XMLSchema(etree.parse(str(DAT46_XSD)))
    for query in ("verb=Identify", "verb=ListMetadataFormats", "verb=ListSets",
                  "verb=ListIdentifiers&metadataPrefix=oai_dc",
                  f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:weidang:{web.edited}"):
        check_envelope(oai(server, query))
    page = oai(server, "verb=ListRecords&metadataPrefix=dat46")
    check_envelope(page)
    documents = page.findall(f".//{{{DAT46}}}文件")
    assert len(documents) == PAGE
    for document in documents:
        schema.assertValid(etree.ElementTree(document))
        assert document.find(f"{{{DAT46}}}档号").text.startswith("0194-XM·")
        assert document.find(f"{{{DAT46}}}保管期限").text == "永久"
    token = page.find(f".//{{{OAI}}}resumptionToken")
    assert token is not None and token.text
    dc = oai(server, "verb=ListRecords&metadataPrefix=oai_dc").find(f".//{{{OAI_DC}}}dc")
    assert {child.tag for child in dc} <= {f"{{{DC}}}{n}" for n in (
        "title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
        "format", "identifier", "source", "language", "relation", "coverage", "rights")}


@pytest.mark.parametrize("query, code", [
    ("verb=Nonsense", "badVerb"), ("", "badVerb"),
    ("verb=ListRecords", "badArgument"),
    ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=wechat", "noRecordsMatch"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2000-01-01&until=1999-01-01", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=yesterday", "badArgument"),
    ("verb=ListRecords&resumptionToken=not-a-token", "badResumptionToken"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:weidang:weibo:1", "idDoesNotExist"),
])
def test_wrong_requests_get_the_protocols_error_codes(web, server, query, code):
    root = oai(server, query)
    check_envelope(root)
    assert root.find(f"{{{OAI}}}error").get("code") == code


def test_a_closed_post_is_not_served_by_oai_either(web, server):
    root = oai(server, f"verb=GetRecord&metadataPrefix=dat46&identifier=oai:weidang:{web.hostile}")
    assert root.find(f"{{{OAI}}}error").get("code") == "idDoesNotExist"
