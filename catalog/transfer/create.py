"""`weidang transfer create`: one package of kept posts, written beside its final place and
renamed into it when whole.

Steps: the kept posts among those selected (``selection``), their records and WARC files
(``contents``); demo data never mixed with real captures (``warc_store.demo``); one WACZ per
account (``warc_store.wacz``); one DA/T 46 metadata file per post (``metadata_xml``); the CSV
register (``register``); the newest seal of each collection and its time-stamp token; the bag
(``bag``); the package audit (四性, run by the face on the bag); the transfer event in each source
collection's hash-chained log and the catalog's ``transfers`` row (``record``); the 移交登记表,
rendered by the face, as a tag folder; then the tag manifests again and the rename.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from catalog.db import Database
from catalog.schema import iso
from catalog.transfer import bag as bagging
from catalog.transfer.contents import Collections, Item, gather
from catalog.transfer.errors import TransferError
from catalog.transfer.form_data import FormData, item_rows, premis_events
from catalog.transfer.metadata_xml import FileFacts, code_parts, post_xml
from catalog.transfer.record import TransferRow, record_transfer
from catalog.transfer.register import register_csv
from catalog.transfer.selection import Selected, kept_posts
from catalog.transfer.verify import DEMO_TAG
from warc_store import Collection, StoreError, read_warcinfo
from warc_store.demo import demo_marks
from warc_store.replay_index import with_originals
from warc_store.seal import stored_seals
from warc_store.wacz import DEMO_NOTE, write_collection_wacz

PART_SUFFIX = ".weidang-transfer-part"  # .NAME.weidang-transfer-part: a package being written
# collection, outcome ("success" or "failure"), detail -> the event's (seq, hash)
EventSink = Callable[[str, str, dict[str, Any]], tuple[int, str]]
Auditor = Callable[[Path], tuple[bool, list[dict[str, Any]]]]  # bag folder -> (ok, audit rows)
FormRenderer = Callable[[FormData], dict[str, bytes]]  # file name in transfer-form/ -> bytes


@dataclass(frozen=True)
class TransferAsk:
    out: Path
    selection: str  # what was selected, in words (for the register, the form, errors)
    actor: str
    transfer_id: str
    when: dt.datetime
    software: str = "weidang"
    processes: int = 1


@dataclass(frozen=True)
class Created:
    folder: Path
    items: int
    payload_files: int
    payload_bytes: int
    payload_sha256: str
    demo: bool
    audit_ok: bool
    discarded: int
    unappraised: int
    events: dict[str, tuple[int, str]]


def create_package(db: Database, keys: Sequence[tuple[str, str]], ask: TransferAsk,
                   collections: Collections, sink: EventSink, audit: Auditor,
                   render_form: FormRenderer) -> Created:
    """Write the package of the kept posts among ``keys`` into ``ask.out`` (new, or empty)."""
    out = ask.out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TransferError(f"{out} exists and is not empty; a package is written into a new folder")
    cache: dict[str, Collection | None] = {}

    def once(name: str) -> Collection | None:  # each collection (and its index) opened once
        if name not in cache:
            cache[name] = collections(name)
        return cache[name]

    with db.read() as conn:
        selected = kept_posts(conn, keys, ask.selection)
        items = gather(conn, selected.kept, once)
    opened = {name: c for name in sorted({i.collection for i in items}) if (c := once(name)) is not None}
    groups = _groups(items)
    demo = _demo(groups, opened)
    if out.exists():
        out.rmdir()  # an empty folder made for it: the finished package is renamed into its place
    stage = _stage(out)
    try:
        return _write(stage, db, items, groups, opened, demo, selected, ask, sink, audit, render_form)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _groups(items: list[Item]) -> dict[tuple[str, str], list[Item]]:
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault((item.collection, item.view.account), []).append(item)
    return groups


def _files(collection: Collection, members: list[Item]) -> list[str]:
    try:
        return with_originals(collection, sorted(set().union(*(i.files for i in members))))
    except StoreError as exc:
        raise TransferError(f"the WARC files of the package cannot be chosen: {exc}") from exc


def _demo(groups: dict[tuple[str, str], list[Item]], opened: dict[str, Collection]) -> bool:
    paths = [opened[name].warcs / f for (name, _), members in groups.items()
             for f in _files(opened[name], members)]
    marks = demo_marks(dict.fromkeys(paths))
    refusal = marks.refusal()
    if refusal:
        raise TransferError(refusal)
    return marks.demo


def _stage(out: Path) -> Path:
    """The folder the package is written in, beside its final place; one left by a run that
    was interrupted is weidang's own (by its name) and is removed."""
    stage = out.with_name(f".{out.name}{PART_SUFFIX}")
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    return stage


def _write(stage: Path, db: Database, items: list[Item], groups: dict[tuple[str, str], list[Item]],
           opened: dict[str, Collection], demo: bool, selected: Selected, ask: TransferAsk,
           sink: EventSink, audit: Auditor, render_form: FormRenderer) -> Created:
    facts, wacz_paths, packages = _waczs(stage, groups, opened, demo, ask)
    metadata_paths = _metadata(stage, items, facts, demo)
    (stage / "register.csv").write_bytes(register_csv(items, metadata_paths, wacz_paths, demo))
    seals = _seals(stage, opened)
    bagging.make_bag(stage, _bag_info(items, ask, demo), ask.processes)
    payload_bytes, payload_files = bagging.payload_oxum(stage)
    digest = bagging.payload_digest(stage)
    audit_ok, rows = audit(stage)
    # The form cites the transfer events, so they are logged before it is printed; a package
    # that is then not finished gets a failure event naming it, and no row in the catalog.
    events = {name: sink(name, "success", {
        "transfer_id": ask.transfer_id, "package": str(ask.out), "payload_sha256": digest,
        "items": len(items), "posts": [f"{i.key} {i.code}" for i in items if i.collection == name],
        "demo": demo}) for name in opened}
    try:
        files = {f for p in packages for f in p["warc_files"]}
        form = FormData(ask.transfer_id, iso(ask.when), ask.actor, ask.selection, demo,
                        item_rows(items), selected.discarded, selected.unappraised, payload_files,
                        payload_bytes, digest, sum(facts[f].size for f in files), packages, rows,
                        audit_ok, premis_events(items, opened, files, events, iso(ask.when)), seals)
        folder = stage / bagging.FORM_FOLDER
        folder.mkdir()
        for name, data in render_form(form).items():
            (folder / name).write_bytes(data)
        bagging.retag(stage)
        stage.rename(ask.out)
    except BaseException as exc:
        for name in opened:
            sink(name, "failure", {"transfer_id": ask.transfer_id, "package": str(ask.out),
                                   "note": "the package was not finished; nothing was transferred",
                                   "reason": str(exc) or type(exc).__name__})
        raise
    with db.write() as conn:
        record_transfer(conn, TransferRow(
            ask.transfer_id, iso(ask.when), ask.actor, ask.selection, str(ask.out), len(items),
            payload_bytes, digest, demo,
            [(i.view.platform, i.view.post_id, i.code) for i in items], events))
    return Created(ask.out, len(items), payload_files, payload_bytes, digest, demo, audit_ok,
                   selected.discarded, selected.unappraised, events)


def _waczs(stage: Path, groups: dict[tuple[str, str], list[Item]], opened: dict[str, Collection],
           demo: bool, ask: TransferAsk) -> tuple[dict[str, FileFacts], dict[str, str], list[dict[str, Any]]]:
    (stage / "wacz").mkdir()
    facts: dict[str, FileFacts] = {}
    where: dict[str, str] = {}
    packages = []
    several = len(opened) > 1
    for (name, account), members in groups.items():
        collection = opened[name]
        files = _files(collection, members)
        stem = account.replace(":", "-") + (f"-{name}" if several else "")
        rel = f"wacz/{quote(stem, safe='=-_.')}.wacz"
        pages = [p for item in members for p in item.pages]
        try:
            made = write_collection_wacz(collection, files, stage / rel, pages,
                                         title=f"{account} 移交 {ask.transfer_id}",
                                         description=f"{len(members)} kept posts of {account}; "
                                                     f"selection: {ask.selection}",
                                         demo=demo, created=ask.when)
        except StoreError as exc:
            raise TransferError(f"the WACZ of {account} cannot be written: {exc}") from exc
        manifest = {e.file: e for e in collection.manifest.entries()}
        for f in files:
            entry = manifest.get(f)
            if entry is None:
                raise TransferError(f"{f} has no entry in the fixity manifest of {collection.root}; "
                                    "run `weidang verify`")
            software = read_warcinfo(collection.warcs / f).get("software", "")
            facts[f] = FileFacts(f, entry.size, entry.sha256, entry.sm3, software, "data/" + rel)
        for item in members:
            where[item.key] = "data/" + rel
        packages.append({"path": "data/" + rel, "account": account, "bytes": made.size,
                         "sha256": made.sha256, "warc_files": files, "pages": made.pages,
                         "index_lines": made.index_lines})
    return facts, where, packages


def _metadata(stage: Path, items: list[Item], facts: dict[str, FileFacts], demo: bool) -> dict[str, str]:
    (stage / "metadata").mkdir()
    paths = {}
    for item in items:
        rel = f"metadata/{item.view.platform}-{quote(item.view.post_id, safe='-_.')}.xml"
        method = _method(item)
        (stage / rel).write_bytes(post_xml(item, facts, method, demo))
        paths[item.key] = "data/" + rel
    return paths


def _method(item: Item) -> str:
    roles = sorted({str(e.get("role")) for v in item.view.versions for e in v.evidence})
    return (f"weidang harvest of the {item.view.platform} platform's answers (HTTP, recorded as WARC); "
            f"records: {', '.join(roles)}")


def _seals(stage: Path, opened: dict[str, Collection]) -> list[str]:
    """The newest seal of each collection (and its token), as `weidang seal` kept it."""
    shown = []
    for name, collection in opened.items():
        kept = stored_seals(collection)
        if not kept:
            continue
        newest = kept[-1]
        folder = stage / "seals"
        folder.mkdir(exist_ok=True)
        prefix = f"{name}-" if len(opened) > 1 else ""
        shutil.copyfile(newest.seal_file, folder / (prefix + newest.seal_file.name))
        if newest.token_file is not None:
            shutil.copyfile(newest.token_file, folder / (prefix + newest.token_file.name))
        value = newest.seal_file.read_text(encoding="ascii").strip()
        shown.append(f"{name}: {value}" + (" (RFC 3161 time-stamped)" if newest.token_file else ""))
    return shown


def _bag_info(items: list[Item], ask: TransferAsk, demo: bool) -> dict[str, str]:
    fonds = sorted({code_parts(i.code)["全宗号"] for i in items})
    info = {"Source-Organization": "全宗 " + ", ".join(fonds),
            "External-Identifier": ask.transfer_id,
            "External-Description": f"移交 transfer of {len(items)} kept posts ({ask.selection})",
            "Bagging-Date": ask.when.astimezone(dt.UTC).strftime("%Y-%m-%d"),
            "Bag-Software-Agent": f"{ask.software} (bagit {bagging.bagit.VERSION})",
            "Internal-Sender-Identifier": ask.transfer_id,
            "Internal-Sender-Description": ask.selection,
            "Weidang-Items": str(len(items)),
            "Weidang-Transferred-By": ask.actor}
    if demo:
        info[DEMO_TAG] = "true"
        info["Weidang-Demo-Note"] = DEMO_NOTE
    return info
