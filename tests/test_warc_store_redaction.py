"""Secrets never reach the archive, and a redacted record says what was removed."""

from __future__ import annotations

import gzip
import random
import zlib

import brotli
import pytest
from store_helpers import StepClock

from crawler.settings import Politeness, scrapy_settings
from warc_store import CaptureWriter, Collection, HttpRequest, HttpResponse, RedactionPolicy, read_record
from warc_store.redaction import (
    _DECODERS,
    DECODED_ENCODINGS,
    REDACTION_HEADER,
    Redaction,
    _param_pattern,
    decode_body,
    zstd,
)

SECRET_COOKIE = "SUB=_2A25L-secret-cookie-0123456789"
SECRET_TOKEN = "ACCESS-TOKEN-77f1c0ffee"
APP_SECRET = "appsecret-d41d8cd98f00b204"


def _every_byte(root):
    """Every file the store wrote, as stored and (for gzip files) decompressed."""
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            yield path, data
            if data[:2] == b"\x1f\x8b":
                out, pos = b"", 0
                while pos < len(data):
                    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    out += d.decompress(data[pos:])
                    pos = len(data) - len(d.unused_data)
                yield path, out


def test_configured_secrets_appear_in_no_byte_of_any_file(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    policy = RedactionPolicy.build(secret_values=[SECRET_COOKIE, SECRET_TOKEN, APP_SECRET])
    gz_body = gzip.compress(f'{{"token":"{SECRET_TOKEN}","ok":1}}'.encode())
    with CaptureWriter(collection, redaction=policy) as w:
        w.write_exchange(
            HttpRequest("GET", "https://api.weixin.qq.com/cgi-bin/freepublish/batchget"
                        f"?access_token={SECRET_TOKEN}",
                        [("Cookie", SECRET_COOKIE), ("Authorization", f"Bearer {SECRET_TOKEN}"),
                         ("Referer", f"https://mp.weixin.qq.com/cgi-bin/home?token={SECRET_TOKEN}")],
                        f'{{"appsecret":"{APP_SECRET}"}}'.encode()),
            HttpResponse(200, "OK", [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                                     ("Set-Cookie", f"{SECRET_COOKIE}; path=/; HttpOnly"),
                                     ("Location", f"https://mp.weixin.qq.com/?token={SECRET_TOKEN}&lang=zh")],
                         gz_body))
        w.write_metadata(f"urn:x?secret={APP_SECRET}", f"post seen with {SECRET_TOKEN}".encode(),
                         "text/plain")
    seen = 0
    for path, data in _every_byte(collection.root):
        seen += 1
        for secret in (SECRET_COOKIE, SECRET_TOKEN, APP_SECRET, "_2A25L-secret"):
            assert secret.encode() not in data, f"{secret} leaked into {path}"
    assert seen >= 4  # warc (twice), index, manifest, events


def test_default_policy_redacts_login_headers_and_token_params_and_says_so(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    with CaptureWriter(collection) as w:
        ex = w.write_exchange(
            HttpRequest("GET",
                        "https://mp.weixin.qq.com/cgi-bin/appmsg?action=list_ex&token=1234567&fakeid=MzA",
                        [("Cookie", "slave_sid=abc; data_ticket=xyz")]),
            HttpResponse(200, "OK", [("Set-Cookie", "slave_sid=abc; Path=/"),
                                     ("Set-Cookie", "bizuin=1; Path=/"),
                                     ("Content-Type", "application/json")], b'{"base_resp":{"ret":0}}'))
    assert ex.url == "https://mp.weixin.qq.com/cgi-bin/appmsg?action=list_ex&token=REDACTED&fakeid=MzA"
    response = read_record(collection, ex.response_id)
    request = read_record(collection, ex.request_id)
    assert response.uri == ex.url and request.uri == ex.url
    # both Set-Cookie lines kept, names kept, values gone
    assert [v for k, v in response.http_headers if k == "Set-Cookie"] == [
        "slave_sid=REDACTED; Path=/", "bizuin=REDACTED; Path=/"]
    assert dict(request.http_headers)["Cookie"] == "slave_sid=REDACTED; data_ticket=REDACTED"
    assert "header:Set-Cookie" in response.header(REDACTION_HEADER)
    assert "param:token" in response.header(REDACTION_HEADER)
    assert "header:Cookie" in request.header(REDACTION_HEADER)
    assert response.payload == b'{"base_resp":{"ret":0}}'


def test_unredacted_record_has_no_redaction_header_and_pictures_are_untouched(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    jpeg = b"\xff\xd8\xff\xe0token=abc" + bytes(range(256))
    with CaptureWriter(collection) as w:
        ex = w.write_exchange(HttpRequest("GET", "https://wx1.sinaimg.cn/large/a.jpg"),
                              HttpResponse(200, "OK", [("Content-Type", "image/jpeg")], jpeg))
    record = read_record(collection, ex.response_id)
    assert record.header(REDACTION_HEADER) is None
    assert record.payload == jpeg


def _encoders():
    return {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
            "zstd": zstd.compress, "gzip, br": lambda b: brotli.compress(gzip.compress(b))}


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", "gzip, br"])
def test_a_secret_inside_any_encoded_body_is_redacted(tmp_path, encoding):
    collection = Collection.create(tmp_path / "c", StepClock())
    policy = RedactionPolicy.build(secret_values=[SECRET_TOKEN])
    body = f'{{"echo":"{SECRET_TOKEN}","next":"https://x/?pass_ticket=abcdef"}}'.encode()
    with CaptureWriter(collection, redaction=policy) as w:
        ex = w.write_exchange(HttpRequest("GET", "https://mp.weixin.qq.com/cgi-bin/x"),
                              HttpResponse(200, "OK", [("Content-Type", "application/json"),
                                                       ("Content-Encoding", encoding)],
                                           _encoders()[encoding](body)))
    record = read_record(collection, ex.response_id)
    assert record.payload == (b'{"echo":"REDACTED","next":"https://x/?pass_ticket=REDACTED"}')
    assert f"content-encoding:{encoding}-decoded" in record.header(REDACTION_HEADER)
    assert "content-encoding" not in {k.lower() for k, _ in record.http_headers}


def test_every_coding_the_crawler_asks_for_is_one_redaction_decodes():
    asked = scrapy_settings(Politeness())["DEFAULT_REQUEST_HEADERS"]["Accept-Encoding"]
    assert [c.strip() for c in asked.split(",")] == list(DECODED_ENCODINGS)
    assert set(DECODED_ENCODINGS) <= set(_DECODERS)


def test_a_secret_learnt_during_the_run_is_redacted_from_later_records_and_messages(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    obtained = "80_" + "Ab9" * 30
    with CaptureWriter(collection) as w:
        w.learn_secrets([obtained])
        ex = w.write_exchange(HttpRequest("GET", "https://api.weixin.qq.com/cgi-bin/x"),
                              HttpResponse(200, "OK", [("Content-Type", "application/json")],
                                           f'{{"seen":"{obtained}"}}'.encode()))
        message = w.scrub(f"refused (at https://api.weixin.qq.com/x?access_token=abc123). Said {obtained}")
    assert read_record(collection, ex.response_id).payload == b'{"seen":"REDACTED"}'
    assert message == "refused (at https://api.weixin.qq.com/x?access_token=REDACTED). Said REDACTED"


def test_a_session_the_platform_sets_is_a_secret_from_then_on(tmp_path):
    collection = Collection.create(tmp_path / "c", StepClock())
    session = "Sz" + "Vxc9Ud" * 8
    with CaptureWriter(collection) as w:
        first = w.write_exchange(
            HttpRequest("GET", "https://mp.weixin.qq.com/cgi-bin/login"),
            HttpResponse(200, "OK", [("Set-Cookie", f"slave_sid={session}; Path=/"),
                                     ("Set-Cookie", "slave_user=gh_6bab8b88e75e; Path=/"),
                                     ("Content-Type", "text/html")], b"<p>gh_6bab8b88e75e</p>"))
        later = w.write_exchange(
            HttpRequest("GET", f"https://mp.weixin.qq.com/cgi-bin/home?sid={session}"),
            HttpResponse(200, "OK", [("Content-Type", "text/html")], f"<p>{session}</p>".encode()))
        message = w.scrub(f"refused with {session}")
    assert read_record(collection, first.response_id).payload == b"<p>gh_6bab8b88e75e</p>"
    assert read_record(collection, later.response_id).payload == b"<p>REDACTED</p>"
    assert session not in later.url and message == "refused with REDACTED"


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress"])
def test_a_body_that_cannot_be_decoded_is_scanned_raw_and_says_so(tmp_path, encoding):
    collection = Collection.create(tmp_path / "c", StepClock())
    policy = RedactionPolicy.build(secret_values=[SECRET_TOKEN])
    # labelled as encoded, but broken (or not encoded at all): the secret lies in the raw bytes
    echo = b"\x8b\x02\x80" + f'{{"echo":"{SECRET_TOKEN}"}}'.encode() + b"\x03"
    corrupt = brotli.compress(b'{"nothing":"secret"}' * 20)[:-6]  # cut short
    with CaptureWriter(collection, redaction=policy) as w:
        ids = [w.write_exchange(HttpRequest("GET", "https://mp.weixin.qq.com/cgi-bin/x"),
                                HttpResponse(200, "OK", [("Content-Type", "application/json"),
                                                         ("Content-Encoding", encoding)],
                                             body)).response_id for body in (echo, corrupt)]
    echoed, broken = (read_record(collection, i) for i in ids)
    assert SECRET_TOKEN.encode() not in echoed.payload and b'"echo":"REDACTED"' in echoed.payload
    assert {f"body-not-decoded:{encoding}", "body", "secret-value"} <= set(
        echoed.header(REDACTION_HEADER).split("; "))
    assert ("Content-Encoding", encoding) in echoed.http_headers  # still as it arrived, bytes replaced
    # nothing found in it, yet the record says redaction could not look inside; bytes untouched
    assert broken.payload == corrupt and broken.header(REDACTION_HEADER) == f"body-not-decoded:{encoding}"


ENCODE = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress, "zstd": zstd.compress}


@pytest.mark.parametrize("coding", sorted(ENCODE))
def test_a_body_is_decoded_only_up_to_the_limit(coding):
    data = bytes(range(256)) * 40
    encoded = ENCODE[coding](data)
    assert decode_body(encoded, coding, limit=len(data)) == data
    assert decode_body(encoded, coding, limit=len(data) - 1) is None
    assert decode_body(encoded[:-4], coding) is None  # cut short, as before


def test_bodies_in_several_members_or_frames_and_raw_deflate_still_decode_whole():
    assert decode_body(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip") == b"abcd"
    assert decode_body(zstd.compress(b"ab") + zstd.compress(b"cd"), "zstd") == b"abcd"
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decode_body(raw.compress(b"abcd") + raw.flush(), "deflate") == b"abcd"
    assert decode_body(gzip.compress(zstd.compress(b"ab")), "zstd, gzip") == b"ab"
    assert decode_body(gzip.compress(b"ab") * 3, "gzip", limit=6) == b"ababab"
    assert decode_body(gzip.compress(b"ab") * 3, "gzip", limit=5) is None


@pytest.mark.parametrize("coding", sorted(ENCODE))
def test_a_body_that_inflates_past_the_limit_is_kept_as_it_arrived_and_says_why(
        tmp_path, monkeypatch, coding):
    """A small body that inflates without end (a "zip bomb") is not decoded: the harvest goes
    on, the answer is kept as it came, its raw bytes still scanned, and its record says why."""
    monkeypatch.setattr("warc_store.redaction.DECODED_LIMIT", 1 << 20)
    bomb = ENCODE[coding](b"\0" * (4 << 20) + SECRET_TOKEN.encode())
    collection = Collection.create(tmp_path / "c", StepClock())
    policy = RedactionPolicy.build(secret_values=[SECRET_TOKEN])
    headers = [("Content-Type", "application/json"), ("Content-Encoding", coding)]
    with CaptureWriter(collection, redaction=policy) as w:
        ids = [w.write_exchange(HttpRequest("GET", f"https://m.weibo.cn/api/{n}"),
                                HttpResponse(200, "OK", headers, body)).response_id
               for n, body in enumerate((bomb, ENCODE[coding](SECRET_TOKEN.encode())))]
    kept, next_one = (read_record(collection, i) for i in ids)
    # raw bytes still scanned: zstd keeps the token's bytes as they were, so they are replaced
    assert kept.payload == bomb.replace(SECRET_TOKEN.encode(), b"REDACTED")
    assert ("Content-Encoding", coding) in kept.http_headers
    assert {f"body-not-decoded:{coding}", "body-too-large-to-decode"} <= set(
        kept.header(REDACTION_HEADER).split("; "))
    assert next_one.payload == b"REDACTED"  # the next answer is decoded and redacted as ever


@pytest.mark.parametrize("name", ["token", "TOKEN", "Access_Token", "\u212aey", "\u017fecret",
                                  "u\u0131n", "u\u0130n", "pass_ticket"])
def test_a_secret_parameter_in_text_is_found_however_its_name_is_cased(name):
    """The quick search that lets most bodies skip the pattern must never skip one it matches:
    letters other scripts case onto ASCII (the Kelvin sign, the long s, Turkish i) included."""
    text = f'{{"url": "https://mp.weixin.qq.com/s?__biz=MzA&{name}=s3cr3t&idx=1"}}'
    scrubbed = RedactionPolicy.build().scrub(text)
    assert "s3cr3t" not in scrubbed and f"&{name}=REDACTED&idx=1" in scrubbed
    assert RedactionPolicy.build().scrub(text.replace(f"&{name}=", "&name=")) == \
        text.replace(f"&{name}=", "&name=")


@pytest.mark.parametrize("name", ["token", "TOKEN", "Access_Token", "\u212aey", "\u017fecret",
                                  "u\u0131n", "u\u0130n", "pass_ticket"])
def test_a_secret_parameter_in_a_body_or_a_header_is_found_however_its_name_is_cased(name):
    """Bodies are searched as bytes before any is decoded, header lists all at once: neither
    quick look may miss what the pattern matches."""
    text = f'{{"url": "https://mp.weixin.qq.com/s?__biz=MzA&{name}=s3cr3t&idx=1"}}'
    note = Redaction()
    body, _ = RedactionPolicy.build().body(text.encode("utf-8"), [("Content-Type", "application/json")],
                                           note)
    assert b"s3cr3t" not in body and f"&{name}=REDACTED&idx=1".encode() in body
    assert note.items == {"body", f"param:{name.lower()}"}
    headers = [("Server", "x"), ("Location", f"/s?{name}=s3cr3t"), ("Vary", "Accept")]
    assert RedactionPolicy.build().headers_list(headers, Redaction())[1] == \
        ("Location", f"/s?{name}=REDACTED")
    plain = text.replace(f"&{name}=", "&name=").encode("utf-8")
    assert RedactionPolicy.build().body(plain, [("Content-Type", "application/json")], note)[0] is plain


def test_a_parameter_named_beyond_ascii_is_found_in_a_body_in_any_case():
    policy = RedactionPolicy.build(params=["ключ"])
    body, _ = policy.body('{"u": "/s?КЛЮЧ=s3cr3t"}'.encode(), [("Content-Type", "text/plain")],
                          Redaction())
    assert b"s3cr3t" not in body


def test_a_secret_value_in_a_body_is_found_without_decoding_it_first():
    policy = RedactionPolicy.build(secret_values=["\u4e2d\u6587-s3cr3t-\u00e9"])
    raw = "前文 中文-s3cr3t-é 后文".encode() + b"\xff"  # not valid UTF-8 at its end
    body, _ = policy.body(raw, [("Content-Type", "text/html")], Redaction())
    assert body == "前文 REDACTED 后文".encode() + b"\xff"


def test_the_quick_look_at_bytes_misses_nothing_the_pattern_finds():
    """Texts made of the pieces that matter (names cased every way, letters other scripts case
    onto ASCII ones, separators, Chinese, stray bytes): wherever the pattern finds a secret
    parameter, the look at the bytes says the body must be searched."""
    policy = RedactionPolicy.build(params=[*RedactionPolicy.build().params, "ключ"])
    pattern = _param_pattern(policy.params)
    pieces = ["token", "ToKeN", "\u212aey", "key", "\u017fecret", "u\u0131n", "u\u0130n", "uin",
              "ключ", "КЛЮЧ", "=", "&", "?", ";", "&amp;", "\\u0026", "中文", "“", "x", "=v", " "]
    rng = random.Random(14)
    found = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        data = text.encode("utf-8") + rng.choice([b"", b"\xff", b"\xe4\xb8"])
        if pattern.search(data.decode("utf-8", "surrogateescape")):
            found += 1
            assert policy._bytes_may_hold(data), text
    assert found > 500
