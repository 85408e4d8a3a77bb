"""The capture book alone: posts offered as the spider offers them, recorded into a real WARC
collection and catalog under tmp_path."""

from __future__ import annotations

from dataclasses import replace

import pytest
from catalog_helpers import FIRST, LISTING_URL, PAGE1, timeline
from crawler_units import build_harvest, sample

from crawler.book import CaptureBook
from harvesters import Purpose, WeiboHarvester
from harvesters.records import Post
from warc_store import ExchangeRecords, HttpRequest, HttpResponse

CUT = "4649031014551911"  # cut short in the listing, one picture
WHOLE = "4648004356937383"  # whole in the listing, one picture
LONG_TEXT = "mweibo_statuses_extend_longTextContent_with_counts_4649031014551911.json"


@pytest.fixture
def harvest(tmp_path):
    with build_harvest(tmp_path) as parts:
        yield parts


def listed(post_id: str) -> Post:
    return next(p for p in timeline(PAGE1, FIRST)[1] if p.post_id == post_id)


def fetched(harvest, url: str, body: bytes, ctype: str = "application/json") -> ExchangeRecords:
    return harvest.writer.write_exchange(HttpRequest("GET", url, [("Host", "m.weibo.cn")]),
                                         HttpResponse(200, "OK", [("Content-Type", ctype)], body))


def roles(harvest, post_id: str) -> list[str]:
    [version] = harvest.posts.versions("weibo", post_id)
    return [e.role for e in version.evidence]


def test_a_new_post_is_recorded_once_its_media_are_in(harvest):
    book, post = harvest.book, listed(WHOLE)
    listing = fetched(harvest, LISTING_URL, b'{"ok":1}')
    assert book.offer(post, listing, Purpose.TIMELINE.role) == post  # new: its media are asked
    book.expect_media(CaptureBook.key(post), 1)
    assert book.waiting(CaptureBook.key(post)) == 1
    book.page_done()
    assert harvest.posts.versions("weibo", WHOLE) == []  # not before its picture
    picture = fetched(harvest, post.media[0].url, b"\xff\xd8 picture", "image/jpeg")
    book.media_done(CaptureBook.key(post), picture, ok=True)
    book.page_done()
    assert book.waiting(CaptureBook.key(post)) is None
    assert roles(harvest, WHOLE) == ["listing", "media"]
    assert (harvest.summary.posts_new, book.posts_seen) == (1, 1)


def test_a_post_cut_short_waits_for_its_long_text_then_keeps_both_answers(harvest):
    book, cut = harvest.book, listed(CUT)
    key = CaptureBook.key(cut)
    assert not cut.long_text_complete
    assert book.offer(cut, fetched(harvest, LISTING_URL, b"{}"), "listing", follow_ups=1) is None
    assert book.waiting(key) == 1
    weibo = WeiboHarvester(follow_media=False)
    spec = weibo.long_text_request(cut)
    result = weibo.parse(spec, 200, {}, sample(LONG_TEXT), FIRST)
    [whole] = result.posts
    assert whole.long_text_complete
    decided = book.offer(whole, fetched(harvest, spec.url, sample(LONG_TEXT)), spec.purpose.role)
    assert decided is not None and decided.text == whole.text
    book.expect_media(key, 0)  # without media: recorded now
    book.answered(key)  # the long text's own answer: nothing left to wait for
    book.page_done()
    assert roles(harvest, CUT) == ["listing", "long_text"]
    assert harvest.summary.posts_new == 1 and harvest.summary.posts_incomplete == 0


def test_a_post_whose_long_text_failed_is_recorded_as_incomplete_at_the_end(harvest):
    book, cut = harvest.book, listed(CUT)
    book.offer(cut, fetched(harvest, LISTING_URL, b"{}"), "listing", follow_ups=1)
    book.answered(CaptureBook.key(cut))  # the long text failed: still undecided
    assert harvest.posts.versions("weibo", CUT) == []
    book.close()
    assert [v.outcome for v in harvest.posts.versions("weibo", CUT)] == ["new"]
    assert harvest.summary.posts_incomplete == 1


def record_new(harvest, post: Post) -> None:
    assert harvest.book.offer(post, fetched(harvest, LISTING_URL, b"{}"), "listing") == post
    harvest.book.expect_media(CaptureBook.key(post), 0)
    harvest.book.close()


def test_a_post_seen_again_unchanged_is_counted_once_and_not_written(tmp_path):
    post = listed(WHOLE)
    with build_harvest(tmp_path) as first:
        record_new(first, post)
    with build_harvest(tmp_path, harvest_id="run-2", day=26) as harvest:
        book = harvest.book
        listing = fetched(harvest, LISTING_URL, b"{}")
        assert book.offer(post, listing, "listing") is None  # unchanged: finished at once
        assert book.offer(post, listing, "listing") is None  # an overlapping page shows it again
        book.close()
        assert (harvest.summary.posts_new, harvest.summary.posts_unchanged) == (0, 1)
        assert [v.harvest_id for v in harvest.posts.versions("weibo", WHOLE)] == ["run-1"]


def test_a_cut_post_held_whole_with_the_same_edit_count_needs_no_long_text(tmp_path):
    cut = listed(CUT)
    weibo = WeiboHarvester(follow_media=False)
    [whole] = weibo.parse(weibo.long_text_request(cut), 200, {}, sample(LONG_TEXT), FIRST).posts
    with build_harvest(tmp_path) as first:
        assert not first.book.held_whole(cut)  # nothing held yet: its long text is asked for
        first.book.look_up([cut])  # ... which an answer's look-up tells without another question
        first.posts.current_post = None  # type: ignore[assignment, method-assign]
        assert not first.book.held_whole(cut)
        record_new(first, whole)
    with build_harvest(tmp_path, harvest_id="run-2", day=26) as harvest:
        book = harvest.book
        assert book.held_whole(cut) and not book.held_whole(whole)  # a whole post asks nothing
        assert not book.held_whole(replace(cut, edit_count=cut.edit_count + 1))  # edited since
        assert not book.held_whole(replace(cut, media=[]))  # its pictures differ
        assert book.offer(cut, fetched(harvest, LISTING_URL, b"{}"), "listing", held_whole=True) is None
        assert book.seen(cut) and book.waiting(CaptureBook.key(cut)) is None
        book.close()
        assert (harvest.summary.posts_unchanged, harvest.summary.posts_edited) == (1, 0)
        assert [v.harvest_id for v in harvest.posts.versions("weibo", CUT)] == ["run-1"]


def test_a_rechecked_post_found_deleted_is_an_event_recorded_once(tmp_path):
    post = listed(WHOLE)
    with build_harvest(tmp_path) as first:
        record_new(first, post)
    with build_harvest(tmp_path, harvest_id="run-2", day=26) as harvest:
        book = harvest.book
        key = book.rechecking(Post("weibo", post.account_id, WHOLE, url=post.url))
        answer = fetched(harvest, post.url, b'{"ok":0,"msg":"deleted"}')
        assert book.unavailable(key, None, "deleted", "the post was deleted", answer)
        assert book.unavailable(key, None, "deleted", "seen deleted again", answer)
        assert harvest.posts.status("weibo", WHOLE) == "deleted"
        assert harvest.summary.posts_deleted == 1
        # no post known under the key: the account itself is what is gone
        assert not book.unavailable(None, None, "deleted", "account gone", answer)


def test_a_post_held_for_its_page_is_written_once_with_what_the_browser_captured(harvest):
    """With browser capture the record waits for the page; a second sighting in the same harvest
    is not taken for new again, and the record links what ``write_held`` was given."""
    from catalog.metadata import BrowserLinks, read_metadata
    from warc_store import read_record

    book, post = harvest.book, listed(WHOLE)
    book.render = True
    listing = fetched(harvest, LISTING_URL, b'{"ok":1}')
    assert book.offer(post, listing, Purpose.TIMELINE.role) == post
    book.expect_media(CaptureBook.key(post), 0)
    book.page_done()
    assert book.held == [post] and harvest.posts.versions("weibo", WHOLE) == []
    assert book.offer(post, listing, Purpose.TIMELINE.role) is None  # seen again: unchanged
    page = fetched(harvest, f"https://m.weibo.cn/detail/{WHOLE}", b"<html>", "text/html")
    links = BrowserLinks(url=page.url, page_record_id=page.response_id, exchanges=1)
    book.write_held(lambda shown: links if shown.post_id == WHOLE else None)
    [version] = harvest.posts.versions("weibo", WHOLE)
    assert book.held == [] and version.version == 1
    meta = read_metadata(read_record(harvest.writer.collection, version.metadata_record_id).payload)
    assert meta.browser == links
    assert (harvest.summary.posts_new, harvest.summary.posts_unchanged) == (1, 0)


def test_a_long_text_answer_leaves_the_listed_post_as_it_was():
    """The follow-up's post is rebuilt from the request's copy: the answer's counts must not
    reach the listed post, whose metadata record may already hold its own (catalog == rebuild)."""
    cut = listed(CUT)
    before = (dict(cut.counts), dict(cut.extras))
    weibo = WeiboHarvester(follow_media=False)
    [whole] = weibo.parse(weibo.long_text_request(cut), 200, {}, sample(LONG_TEXT), FIRST).posts
    assert whole.counts != before[0]  # the answer brings its own counts...
    assert (cut.counts, cut.extras) == before  # ...to the whole post only
