"""`weidang topics`: thematic collections (专题), saved searches or hand-picked lists of posts."""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict

import click

from weidang.appraising import now, parse_post, topic_posts
from weidang.context import AppContext, pass_app
from weidang.i18n import N_, _, china_time
from weidang.store import catalog_db


@click.group("topics", short_help="Thematic collections (专题): named selections of posts.")
def command() -> None:
    """Thematic collections (专题): name a selection of posts to appraise and transfer as a unit."""


@command.command("create")
@click.argument("name")
@click.option("--query", default=None, metavar="WORDS",
              help="Make it a saved search of these words (posts harvested later join it).")
@click.option("--account", default=None, help="Saved search: only this account.")
@click.option("--platform", default=None, help="Saved search: only weibo or wechat.")
@click.option("--since", default=None, metavar="DATE", help="Saved search: published on or after.")
@click.option("--until", default=None, metavar="DATE", help="Saved search: published on or before.")
@click.option("--description", default="", help="What the topic is about.")
@pass_app
def create(app: AppContext, name: str, query: str | None, account: str | None,
           platform: str | None, since: str | None, until: str | None, description: str) -> int:
    """Create a topic: a saved search (with --query or filters), else a list to add posts to."""
    from catalog.topics import create_topic  # noqa: PLC0415 - SQLAlchemy loads with the catalog
    from weidang.commands.search import build_filters  # noqa: PLC0415

    saved = None
    if any(v is not None for v in (query, account, platform, since, until)):
        build_filters(account, platform, since, until, None)  # refuses a bad filter now
        saved = {k: v for k, v in (("text", query or ""), ("account", account),
                                   ("platform", platform), ("since", since),
                                   ("until", until)) if v is not None}
    with catalog_db(app.home, app.settings) as db, db.write() as conn:
        topic = create_topic(conn, name, saved, description, getpass.getuser(), now())
    click.echo(_("Topic %(name)s created: a saved search.", name=topic.name) if topic.kind == "search" else
               _("Topic %(name)s created: a list; add posts with `weidang topics add NAME "
                 "PLATFORM:POST_ID...`.", name=topic.name))
    return 0


@command.command("add")
@click.argument("name")
@click.argument("posts", nargs=-1, required=True, metavar="PLATFORM:POST_ID...")
@pass_app
def add(app: AppContext, name: str, posts: tuple[str, ...]) -> int:
    """Add captured posts to a hand-picked topic."""
    from catalog.topics import add_members  # noqa: PLC0415

    keys = [parse_post(p) for p in posts]
    with catalog_db(app.home, app.settings) as db, db.write() as conn:
        added = add_members(conn, name, keys, getpass.getuser(), now())
    click.echo(_("%(added)s posts added to %(name)s (%(already)s were in it already).", added=added,
                 name=name, already=len(keys) - added))
    return 0


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document for machines.")
@pass_app
def list_(app: AppContext, as_json: bool) -> int:
    """List the topics."""
    from catalog.topics import list_topics  # noqa: PLC0415

    with catalog_db(app.home, app.settings) as db, db.read() as conn:
        topics = list_topics(conn)
    if as_json:
        click.echo(json.dumps([asdict(t) for t in topics], ensure_ascii=False, indent=2))
        return 0
    if not topics:
        click.echo(_("No topics yet; make one with `weidang topics create NAME`."))
    for t in topics:
        what = _("saved search %(query)s", query=json.dumps(t.query, ensure_ascii=False)) \
            if t.kind == "search" else _("list of %(n)s posts", n=t.members)
        click.echo(f"{t.name}  {what}  " + _("(by %(who)s, %(when)s)", who=t.created_by,
                                              when=china_time(t.created_at))
                   + (f"  {t.description}" if t.description else ""))
    return 0


@command.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON document for machines.")
@pass_app
def show(app: AppContext, name: str, as_json: bool) -> int:
    """Show a topic's posts, each with its current appraisal decision."""
    from catalog.appraisal import current_decisions  # noqa: PLC0415
    from catalog.topics import require_topic  # noqa: PLC0415

    with catalog_db(app.home, app.settings) as db, db.read() as conn:
        topic = require_topic(conn, name)
        keys = topic_posts(app, conn, name)
        decided = {(d.platform, d.post_id): d for d in current_decisions(conn, keys)}
    rows = [{"post": f"{p}:{i}", "decision": (decided[(p, i)].decision if (p, i) in decided
                                              else N_("not appraised")),
             "code": decided[(p, i)].code if (p, i) in decided else None} for p, i in keys]
    if as_json:
        click.echo(json.dumps({**asdict(topic), "posts": rows}, ensure_ascii=False, indent=2))
        return 0
    click.echo(_("Topic %(name)s: %(n)s posts (%(description)s).", name=topic.name, n=len(rows),
                 description=topic.description) if topic.description else
               _("Topic %(name)s: %(n)s posts.", name=topic.name, n=len(rows)))
    for row in rows:
        click.echo(f"  {row['post']}  {_(str(row['decision']))}"
                   + (f"  档号 {row['code']}" if row["code"] else ""))
    return 0
