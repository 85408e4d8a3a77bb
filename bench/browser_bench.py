"""Browser capture: seconds per page, the pool's peak memory, and the WARC bytes it adds per post.

    .venv/bin/python bench/browser_bench.py [--articles 100] [--pictures 20]

Against the emulator (in this process), on WeChat articles of ``--pictures`` lazy pictures each
(every picture distinct, so none is a revisit). First one article alone (Chromium's start
included), then ``--articles`` different articles in a row. The peer, in the same run: the same
pages and pictures fetched plainly (urllib through the emulator, as the harvest fetches them)
and written with the same ``CaptureWriter.write_exchange``: what the browser costs on top of it.
The second peer: the same browser steps without the recording proxy (what recording costs).
The third: the steps before they were made faster (network idle awaited before the renditions,
the recording proxy polling for its close every 0.5 s), interleaved page by page with today's on
the same run's articles, so that the machine's load falls on both alike.
Peak memory is the PSS of the pool's Chromium processes, measured after each page (goal: at most
2 s a page and 500 MB). No assertion on time, just numbers.
"""

from __future__ import annotations

import argparse
import ssl
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from crawler.browser import BrowserCapture, BrowserResult, BrowserSettings  # noqa: E402
from crawler.browser import capture as capture_module  # noqa: E402
from crawler.browser import proxy as proxy_module  # noqa: E402
from crawler.browser.capture import IMAGES_JS, _left_ms, _load, _Rendered, _settle_pictures  # noqa: E402
from emulator import ids  # noqa: E402
from emulator.server import Emulator  # noqa: E402
from emulator.wechat_world import Article  # noqa: E402
from emulator.world import World  # noqa: E402
from warc_store import CaptureWriter, Collection, HttpRequest, HttpResponse  # noqa: E402


def with_pictures(article: Article, count: int) -> None:
    """Give the article ``count`` lazy pictures of its own, between paragraphs, as WeChat does."""
    style = "margin: 0px;padding: 0px;max-width: 100%;box-sizing: border-box !important;"
    blocks, images = [], []
    for n in range(count):
        url = (f"https://mmbiz.qpic.cn/{ids.mmbiz_path('jpg', article.biz, article.mid, article.idx, 'b', n)}"
               "/640?wx_fmt=jpeg&from=appmsg")
        images.append(url)
        blocks.append(f'<p style="{style}">第{n + 1}段。{article.digest}</p>'
                      f'<p style="{style}text-align: center;"><img class="rich_pages wxw-img" '
                      f'data-ratio="0.75" data-src="{url.replace("&", "&amp;")}" data-type="jpeg" '
                      f'data-w="1080" style="{style}"  /></p>')
    article.body, article.images = "\n".join(blocks), images
    article.revision += 1  # served from the template, not a recorded sample


def url_of(a: Article) -> str:
    return f"https://mp.weixin.qq.com/s?__biz={a.biz}&mid={a.mid}&idx={a.idx}&sn={a.sn}"


def warc_bytes(collection: Collection) -> dict[str, int]:
    """Compressed bytes in the WARC files, by record type."""
    out: dict[str, int] = {}
    for path in collection.warcs.glob("*.warc.gz"):
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                rec.raw_stream.read()
                out[rec.rec_type] = out.get(rec.rec_type, 0) + it.get_record_length()
    return out


def plain_fetch(emulator: Emulator, articles: list[Article], root: Path) -> tuple[float, dict[str, int]]:
    """The peer: each page and its pictures fetched one after the other and recorded."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": emulator.proxy_url}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(emulator.ca_cert_path))))
    collection = Collection.create(root)
    started = time.perf_counter()
    with CaptureWriter(collection) as writer:
        for article in articles:
            for url in [url_of(article), *article.images]:
                headers = [("Host", url.split("/")[2]), ("Accept-Encoding", "gzip")]
                with opener.open(urllib.request.Request(url, headers=dict(headers)), timeout=30) as r:
                    body = r.read()
                    writer.write_exchange(HttpRequest("GET", url, headers),
                                          HttpResponse(r.status, r.reason, list(r.headers.items()), body))
    return time.perf_counter() - started, warc_bytes(collection)


def unrecorded_run(capture: BrowserCapture, emulator: Emulator, articles: list[Article]) -> float:
    """The second peer: the same browser doing the same steps straight to the emulator, with no
    recording proxy and nothing written: what recording costs the browser path."""
    pool = capture.pool
    assert pool is not None
    started = time.perf_counter()
    for article in articles:
        pool.context(emulator.proxy_url).close()  # (re)starts the browser as a capture would
        context = pool._browser.new_context(proxy={"server": emulator.proxy_url}, ignore_https_errors=True,
                                            viewport={"width": 414, "height": 896})
        result = BrowserResult(url_of(article), "peer")
        _load(context.new_page(), url_of(article), time.monotonic() + 60, result, True)
        context.close()
    return time.perf_counter() - started


def earlier_load(page: Any, url: str, deadline: float, result: BrowserResult,
                 pdf: bool) -> _Rendered:
    """``capture._load`` as it was: network idle awaited (500 ms without a request) before the
    renditions, whatever was in flight."""
    response = page.goto(url, wait_until="domcontentloaded", timeout=_left_ms(deadline))
    _settle_pictures(page, deadline - (deadline - time.monotonic()) / 4)
    try:
        page.wait_for_load_state("load", timeout=_left_ms(deadline))
        page.wait_for_load_state("networkidle", timeout=min(_left_ms(deadline), 3000))
    except Exception:  # noqa: BLE001
        pass
    result.images_total, result.images_loaded = page.evaluate(IMAGES_JS)
    return _Rendered(final_url=response.url if response is not None else url,
                     screenshot=page.screenshot(full_page=True, timeout=_left_ms(deadline)),
                     dom=page.content().encode("utf-8"),
                     pdf=page.pdf(print_background=True) if pdf else b"")


def before_and_after(capture: BrowserCapture, articles: list[Article], root: Path) -> tuple[float, float]:
    """Seconds a page with the earlier steps and with today's, alternating page by page."""
    collection = Collection.create(root)
    spent = {True: 0.0, False: 0.0}
    current_load, current_poll = capture_module._load, proxy_module.POLL_SECONDS
    with CaptureWriter(collection) as writer:
        for n, article in enumerate(articles):
            earlier = n % 2 == 1
            capture_module._load = earlier_load if earlier else current_load  # type: ignore[assignment]
            proxy_module.POLL_SECONDS = 0.5 if earlier else current_poll
            started = time.perf_counter()
            capture.capture_post(url_of(article), f"wechat:{article.mid}_{article.idx}", writer)
            spent[earlier] += time.perf_counter() - started
    capture_module._load, proxy_module.POLL_SECONDS = current_load, current_poll
    halves = (len(articles) + 1) // 2, len(articles) // 2
    return spent[True] / max(halves[1], 1), spent[False] / max(halves[0], 1)


def browser_run(capture: BrowserCapture, articles: list[Article],
                root: Path) -> tuple[float, dict[str, int], int]:
    collection = Collection.create(root)
    failed = 0
    started = time.perf_counter()
    with CaptureWriter(collection) as writer:
        for article in articles:
            result = capture.capture_post(url_of(article), f"wechat:{article.mid}_{article.idx}", writer)
            if not result.ok or result.images_loaded < len(article.images):
                failed += 1
                print("  not complete:", result.errors, file=sys.stderr)
    return time.perf_counter() - started, warc_bytes(collection), failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--pictures", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="weidang-browser-bench-") as tmp:
        world = World(accounts=max(1, args.articles // 20 + 1), posts=25, seed=7)
        articles = [a for acc in world.wechat.values() for a in acc.articles() if a.state == "ok"]
        articles = articles[:args.articles + 1]
        for article in articles:
            with_pictures(article, args.pictures)
        emulator = Emulator(world, state_dir=Path(tmp) / "emulator").start()
        capture = BrowserCapture(BrowserSettings(upstream_proxy=emulator.proxy_url,
                                                 upstream_ca_file=str(emulator.ca_cert_path)))
        if capture.unavailable:
            sys.exit(capture.unavailable)
        try:
            report(capture, emulator, articles, Path(tmp), args.pictures)
        finally:
            capture.close()
            emulator.stop()


def report(capture: BrowserCapture, emulator: Emulator, articles: list[Article], tmp: Path,
           pictures: int) -> None:
    first, rest = articles[:1], articles[1:]
    one, _, _ = browser_run(capture, first, tmp / "one")
    print(f"one {pictures}-picture article, Chromium's start included: {one:.2f} s")
    seconds, sizes, failed = browser_run(capture, rest, tmp / "many")
    peer_seconds, peer_sizes = plain_fetch(emulator, rest, tmp / "peer")
    unrecorded = unrecorded_run(capture, emulator, rest)
    before, after = before_and_after(capture, rest, tmp / "before-after")
    n = len(rest)
    pool = capture.pool
    assert pool is not None
    print(f"{n} articles in a row: {seconds / n:.2f} s a page (goal <= 2), {failed} incomplete, "
          f"{pool.restarts} browser restarts")
    print(f"plain fetch of the same pages and pictures (the peer): {peer_seconds / n:.2f} s a page; "
          f"browser / plain = {seconds / peer_seconds:.1f}x")
    print(f"the same browser steps without recording: {unrecorded / n:.2f} s a page; "
          f"recorded / unrecorded = {seconds / unrecorded:.2f}x")
    print(f"interleaved page by page: the earlier steps {before:.2f} s a page, today's {after:.2f} s "
          f"a page (before / after = {before / after:.2f}x)")
    print(f"peak memory of the pool's Chromium (PSS): {pool.peak_memory / 1e6:.0f} MB (goal <= 500)")
    total, peer_total = sum(sizes.values()), sum(peer_sizes.values())
    print(f"WARC bytes per post: browser {total / n / 1e3:.1f} kB "
          f"(renditions {sizes.get('resource', 0) / n / 1e3:.1f} kB), plain {peer_total / n / 1e3:.1f} kB; "
          f"the browser adds {(total - peer_total) / n / 1e3:.1f} kB a post")
    print("  by record type (browser):", {k: f"{v / n / 1e3:.1f} kB" for k, v in sorted(sizes.items())})


if __name__ == "__main__":
    main()
