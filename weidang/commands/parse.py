"""`weidang parse`: read one saved platform answer and print the records in it, for checking a
capture by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from harvesters import HARVESTERS, HarvestError, Post
from harvesters.dates import DateError, in_shanghai, parse_time_option
from weidang.i18n import _


@click.command("parse")
@click.argument("platform", type=click.Choice(sorted(HARVESTERS)))
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--url", default="", metavar="URL",
              help="The address the answer came from; it holds what the body does not, such as "
                   "the post id of a Weibo long text (statuses/extend?id=...).")
@click.option("--captured-at", "captured_at", metavar="TIME",
              help="When the answer was received (ISO 8601, China time if no offset); relative "
                   "dates like 5分钟前 count from it (default: the file's modification time).")
def command(platform: str, file: Path, url: str, captured_at: str | None) -> int:
    """Print the posts found in one saved Weibo or WeChat answer, as JSON lines.

    FILE is an API answer (JSON), a JSON-lines file of listing items, an article page or a
    Weibo detail page. Accounts and comments found are printed too, with "record" saying which.
    """
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise HarvestError(_("cannot read %(file)s: %(why)s", file=file, why=exc.strerror or exc)) from None
    when = _captured_at(captured_at, file)
    harvester = HARVESTERS[platform]()
    try:
        result = harvester.parse(harvester.request_for_url(url), 200, {}, body, when)
    except HarvestError as exc:
        raise HarvestError(_("the file %(file)s cannot be read as a %(platform)s answer: %(why)s",
                             file=file.name, platform=platform, why=exc)) from None
    if result.account is not None:
        click.echo(json.dumps({"record": "account", **result.account.to_json()},
                              ensure_ascii=False))
    for post in result.posts:
        click.echo(json.dumps({"record": "post", **post_summary(post)}, ensure_ascii=False))
    for comment in result.comments:
        click.echo(json.dumps({"record": "comment", **comment.to_json()}, ensure_ascii=False))
    if result.problem is not None:
        raise result.problem
    return 0


def post_summary(post: Post) -> dict[str, Any]:
    """The fields an archivist checks, with media as a plain list of addresses."""
    return {
        "platform": post.platform, "account_id": post.account_id,
        "account_name": post.account_name, "post_id": post.post_id,
        "platform_ids": post.platform_ids, "url": post.url,
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "title": post.title, "text": post.text, "long_text_complete": post.long_text_complete,
        "media": post.media_urls(), "media_kinds": [m.kind for m in post.media],
        "repost": post_summary(post.repost) if post.repost is not None else None,
        "repost_note": post.repost_note, "pinned": post.pinned, "edited": post.edited,
        "edit_count": post.edit_count, "counts": post.counts, "location": post.location,
        "source": post.source, "status": post.status,
    }


def _captured_at(option: str | None, file: Path) -> dt.datetime:
    if option:
        try:
            return parse_time_option(option)
        except DateError as exc:
            raise click.BadParameter(str(exc), param_hint="--captured-at") from None
    try:
        return in_shanghai(dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC))
    except OSError as exc:
        raise HarvestError(_("cannot read %(file)s: %(why)s", file=file, why=exc.strerror or exc)) from None
