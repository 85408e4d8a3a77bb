"""WACZ 1.1.1 packages: WARC files, their sorted replay index, a page list and a manifest in a ZIP.

Layout (https://specs.webrecorder.net/wacz/1.1.1/)::

    archive/NAME.warc.gz       the WARC files as they are, ZIP "stored" (not deflated again), so
                               readers seek into them by the offsets of the index
    indexes/index.cdx          the replay index (``replay_index.py``): CDXJ, sorted; pywb's
                               ``wb-manager add --unpack-wacz`` takes up only ``*.cdx``, and
                               wabac.js (ReplayWeb.page) reads ``*.cdx`` whole
    pages/pages.jsonl          a header line, then one page per line (url, ts, title, text)
    datapackage.json           every file above with its sha256 and size, WACZ version, title,
                               created, software, and ``weidang-demo`` for demo data
    datapackage-digest.json    the sha256 of datapackage.json

Why not py-wacz's ``wacz create``: it re-reads and re-indexes every WARC (with cdxj-indexer),
detects pages itself or matches given pages to records, and would make weidang depend on its
pinned dependencies (frictionless, typer, boilerpy3 ...). weidang already has the index of every
record and the pages from its catalog; writing the ZIP and the manifest is little code. py-wacz
stays the independent check: the tests run ``wacz validate`` on what this module writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warc_store.cdxj import IndexEntry, url_key
from warc_store.collection import Collection
from warc_store.demo import DEMO_FIELD
from warc_store.errors import StoreError
from warc_store.lines import fsync_dir
from warc_store.reader import read_warcinfo
from warc_store.replay_index import file_entries, originals_outside, replay_lines

WACZ_VERSION = "1.1.1"
PAGES_FORMAT = "json-pages-1.0"
DEMO_PROPERTY = DEMO_FIELD  # the warcinfo field of demo WARC files, as a datapackage.json property
DEMO_NOTE = ("演示数据 DEMO DATA: from weidang's built-in platform emulator, not captured from a real "
             "platform; never cite it.")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Page:
    """One entry of pages.jsonl: a URL that is in the package, when, and what it is."""

    url: str
    ts: datetime | str  # an aware datetime, RFC 3339 text, or a 14-digit CDX timestamp (UTC)
    title: str = ""
    text: str | None = None
    id: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"url": self.url, "ts": rfc3339(self.ts)}
        if self.id:
            out["id"] = self.id
        if self.title:
            out["title"] = self.title
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass(frozen=True)
class WaczWritten:
    path: Path
    sha256: str
    size: int
    files: list[str]  # the paths inside the ZIP, datapackage files last
    index_lines: int
    pages: int
    demo: bool
    datapackage: dict[str, object] = field(default_factory=dict)


def rfc3339(moment: datetime | str) -> str:
    """``2026-11-25T08:00:01Z`` from a datetime, an ISO string or a 14-digit timestamp."""
    if isinstance(moment, str):
        text = moment.strip()
        if len(text) == 14 and text.isdigit():
            moment = datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError as exc:
                raise StoreError(f"the page time {text!r} is neither RFC 3339 nor a 14-digit "
                                 "timestamp") from exc
    if moment.tzinfo is None:
        raise StoreError(f"the page time {moment.isoformat()} has no time zone; give it in UTC "
                         "or with an offset")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_wacz(out: Path, warcs: Sequence[Path], entries: Iterable[IndexEntry], pages: Iterable[Page], *,
               title: str, description: str = "", demo: bool = False, software: str = "weidang",
               created: datetime | None = None, expected_sha256: dict[str, str] | None = None) -> WaczWritten:
    """Write a WACZ of ``warcs`` (whose records ``entries`` index) with ``pages``, atomically.

    ``expected_sha256`` (file name -> hex, e.g. from the fixity manifest) is checked against the
    bytes as they are copied in, so a package never carries a file that changed since it was sealed.
    Raises StoreError when a page's URL is not among the replayable records, or an entry names a
    file that is not packed.
    """
    names = [p.name for p in warcs]
    if len(set(names)) != len(names):
        raise StoreError("two WARC files of the package have the same name: " + ", ".join(sorted(names)))
    entries = list(entries)
    strays = sorted({e.filename for e in entries} - set(names))
    if strays:
        raise StoreError(f"the index entries name files that are not in the package: {', '.join(strays)}")
    lines = replay_lines(entries)
    page_list = _checked_pages(list(pages), lines)
    moment = (created or datetime.now(UTC)).astimezone(UTC)
    tmp = out.with_name(out.name + ".part")
    try:
        written = _write_zip(tmp, warcs, lines, page_list, moment, expected_sha256 or {},
                             _package_fields(title, description, demo, software, moment))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    size, digest = _hash_file(out)
    files, package = written
    return WaczWritten(out, digest, size, files, len(lines), len(page_list), demo, package)


def write_collection_wacz(collection: Collection, filenames: Sequence[str], out: Path,
                          pages: Iterable[Page], *, title: str, description: str = "", demo: bool = False,
                          created: datetime | None = None) -> WaczWritten:
    """A WACZ of closed files of ``collection`` (see ``replay_index.with_originals`` for the files
    a set of files needs). Marked as demo data when asked, or when any file's warcinfo says so."""
    paths = [collection.warcs / name for name in filenames]
    for path in paths:
        if not path.is_file():
            raise StoreError(f"{path.name} is not a closed WARC file of {collection.root} "
                             "(files still being written cannot be packed)")
    entries = file_entries(collection, filenames)
    outside = originals_outside(collection, entries)
    if outside:
        shown = "; ".join(f"{url} needs {name}" for url, name in sorted(outside.items())[:5])
        raise StoreError(f"revisits in the package refer to originals in files left out ({shown}); "
                         "add those files (replay_index.with_originals lists them)")
    demo = demo or any(read_warcinfo(p).get(DEMO_PROPERTY, "").lower() == "true" for p in paths)
    fixity = {e.file: e.sha256 for e in collection.manifest.entries()}
    return write_wacz(out, paths, entries, pages, title=title, description=description, demo=demo,
                      software=_software(), created=created,
                      expected_sha256={n: fixity[n] for n in filenames if n in fixity})


def _checked_pages(pages: list[Page], lines: list[bytes]) -> list[Page]:
    keys = {line.split(b" ", 1)[0].decode("ascii") for line in lines}
    missing = [p.url for p in pages if url_key(p.url) not in keys]
    if missing:
        raise StoreError(f"{len(missing)} page(s) are not among the package's records, e.g. {missing[0]}; "
                         "a page must be the URL of a response in the packed WARC files")
    return pages


def _package_fields(title: str, description: str, demo: bool, software: str,
                    moment: datetime) -> dict[str, object]:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    fields: dict[str, object] = {"profile": "data-package", "wacz_version": WACZ_VERSION,
                                 "title": title, "created": stamp, "modified": stamp, "software": software}
    text = "\n\n".join(t for t in (DEMO_NOTE if demo else "", description) if t)
    if text:
        fields["description"] = text
    if demo:
        fields[DEMO_PROPERTY] = True
    return fields


def _write_zip(path: Path, warcs: Sequence[Path], lines: list[bytes], pages: list[Page], moment: datetime,
               expected: dict[str, str], package: dict[str, object]) -> tuple[list[str], dict[str, object]]:
    stamp = moment.timetuple()[:6]
    resources: list[dict[str, object]] = []
    with zipfile.ZipFile(path, "w", allowZip64=True) as zf:
        for warc in warcs:
            resources.append(_add_file(zf, warc, "archive/" + warc.name, stamp, expected.get(warc.name)))
        resources.append(_add_bytes(zf, "indexes/index.cdx", b"".join(lines), stamp))
        resources.append(_add_bytes(zf, "pages/pages.jsonl", _pages_jsonl(pages), stamp))
        package = {**package, "resources": resources}
        data = json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")
        _add_bytes(zf, "datapackage.json", data, stamp)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
        _add_bytes(zf, "datapackage-digest.json", json.dumps(digest, indent=2).encode("utf-8"), stamp)
        return [str(r["path"]) for r in resources] + ["datapackage.json", "datapackage-digest.json"], package


def _pages_jsonl(pages: list[Page]) -> bytes:
    header: dict[str, object] = {"format": PAGES_FORMAT, "id": "pages", "title": "All Pages"}
    if any(p.text is not None for p in pages):
        header["hasText"] = True
    rows = [header, *(p.to_json() for p in pages)]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def _resource(name: str, sha256: str, size: int) -> dict[str, object]:
    # Frictionless wants lowercase resource names; py-wacz names them the same way.
    return {"name": name.rsplit("/", 1)[-1].lower(), "path": name, "hash": "sha256:" + sha256, "bytes": size}


def _add_bytes(zf: zipfile.ZipFile, name: str, data: bytes, stamp: tuple[int, ...]) -> dict[str, object]:
    info = zipfile.ZipInfo(name, stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED  # text: allowed deflated by the spec
    zf.writestr(info, data)
    return _resource(name, hashlib.sha256(data).hexdigest(), len(data))


def _add_file(zf: zipfile.ZipFile, path: Path, name: str, stamp: tuple[int, ...],
              expected: str | None) -> dict[str, object]:
    info = zipfile.ZipInfo(name, stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_STORED  # the spec: WARCs are not compressed again
    try:
        size = path.stat().st_size
        info.file_size = size  # lets zipfile choose ZIP64 for files over 2 GiB
        hasher = hashlib.sha256()
        with open(path, "rb") as src, zf.open(info, "w") as dst:
            while chunk := src.read(CHUNK):
                hasher.update(chunk)
                dst.write(chunk)
    except OSError as exc:
        raise StoreError(f"cannot read the WARC file {path}: {exc.strerror or exc}") from exc
    digest = hasher.hexdigest()
    if expected is not None and digest != expected:
        raise StoreError(f"{path.name} no longer has the SHA-256 recorded when it was closed; "
                         "run `weidang verify` before packing it")
    return _resource(name, digest, size)


def _hash_file(path: Path) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return size, hasher.hexdigest()


def _software() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"weidang {version('weidang')}"
    except PackageNotFoundError:
        return "weidang"
