"""四性 checks of a transfer package (``weidang audit PACKAGE``, ``run_audit(ctx, "package")``).

The package is checked on its own, as at 移交与接收 (DA/T 70): no catalog, no collection. What
the collection audit does by re-reading the collection, this does by re-reading the package:
the bag's manifests (``transfer verify``), every record of every WARC file inside each WACZ
(the same scanner as ``weidang verify``), the metadata files against the register and against
the WARC files they describe, formats, secrets (the same detector) and stray files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml import etree

from catalog.audit.authenticity import ARCHIVAL_CODE_FORM
from catalog.audit.model import Property, Result, check
from catalog.audit.secret_scan import file_findings, json_finding
from catalog.audit.usability import OPEN_FORMATS
from catalog.transfer import sm3_manifest
from catalog.transfer.metadata_xml import NAMESPACE
from catalog.transfer.register import read_register
from catalog.transfer.verify import WACZ_FOLDER, PackageCheck, verify_package
from warc_store.digests import new_sm3
from warc_store.scan import scan

PACKAGE = "package"
REQUIRED = ("档号", "题名", "责任者", "日期", "保管期限", "密级", "立档单位")  # DA/T 46 core, per post
PAYLOAD_SUFFIXES = (".wacz", ".xml", ".csv", ".seal", ".tsr")  # what a payload holds
TAG_SUFFIXES = (".txt", ".html", ".pdf")
_NS = f"{{{NAMESPACE}}}"


@dataclass
class WarcScan:
    wacz: str
    name: str
    size: int = 0
    sha256: str = ""
    sm3: str = ""
    records: int = 0
    bad: list[str] = field(default_factory=list)  # "offset N record ID: problem"
    mimes: dict[str, int] = field(default_factory=dict)


@dataclass
class PackageContext:
    """A transfer package folder; ``ca_file`` checks who signed its time-stamp token."""

    folder: Path
    ca_file: Path | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @cached_property
    def verify(self) -> PackageCheck:
        return verify_package(self.folder, self.ca_file)

    @cached_property
    def warcs(self) -> list[WarcScan]:
        """Every WARC file in every WACZ, read through once: records checked, file hashed."""
        out = []
        for wacz in sorted((self.folder / WACZ_FOLDER).glob("*.wacz")):
            rel = wacz.relative_to(self.folder).as_posix()
            with zipfile.ZipFile(wacz) as zf:
                for name in (n for n in zf.namelist() if n.startswith("archive/")):
                    out.append(_scan_member(zf, name, rel))
        return out

    @cached_property
    def metadata(self) -> dict[str, etree._Element]:
        """Each metadata file, parsed (a file that does not parse is left out; see the check)."""
        out = {}
        for path in sorted((self.folder / "data" / "metadata").glob("*.xml")):
            try:
                out[path.relative_to(self.folder).as_posix()] = etree.parse(str(path)).getroot()
            except etree.XMLSyntaxError:
                continue
        return out


def _scan_member(zf: zipfile.ZipFile, name: str, wacz: str) -> WarcScan:
    result = WarcScan(wacz, name.removeprefix("archive/"))
    sha256, sm3 = hashlib.sha256(), new_sm3()

    def on_raw(chunk: bytes) -> None:
        result.size += len(chunk)
        sha256.update(chunk)
        sm3.update(chunk)

    with zf.open(name) as fh:
        for rec in scan(fh, on_raw):  # type: ignore[arg-type]
            result.records += 1
            if not rec.ok:
                result.bad.append(f"offset {rec.offset} record {rec.record_id or '?'}: "
                                  + "; ".join(rec.problems))
    result.sha256, result.sm3 = sha256.hexdigest(), sm3.hexdigest()
    return result


def _text(node: etree._Element, path: str) -> str:
    found = node.find("/".join(_NS + part for part in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


def _code(root: etree._Element) -> str:
    return _text(root, "文件实体/档号")


@check("authenticity.package_fixity", Property.AUTHENTICITY,
       "包的固定性信息（BagIt、SM3、WACZ 清单、封印）均核验一致",
       "Package fixity: BagIt manifests, SM3 manifests, WACZ datapackages, seal", kind=PACKAGE)
def package_fixity(ctx: PackageContext) -> Result:
    return Result.of(ctx.verify.problems, "; ".join(ctx.verify.notes))


@check("authenticity.records", Property.AUTHENTICITY, "记录摘要重新计算并与元数据所载电子属性一致",
       "Every record digest recomputed; each WARC file matches the digests its metadata states",
       kind=PACKAGE)
def records(ctx: PackageContext) -> Result:
    problems = [f"{w.wacz} {w.name} {b}" for w in ctx.warcs for b in w.bad if "digest" in b]
    stated: dict[str, tuple[str, str, str]] = {}
    for root in ctx.metadata.values():
        for node in root.iter(_NS + "文件"):
            name = _text(node, "文件名")
            stated[name] = (_text(node, "大小"), _text(node, "SHA256"), _text(node, "SM3"))
    for w in ctx.warcs:
        if w.name in stated and stated[w.name] != (str(w.size), w.sha256, w.sm3):
            problems.append(f"{w.wacz} {w.name}: size, SHA-256 or SM3 differ from its metadata "
                            f"(stated {stated[w.name][0]} bytes, found {w.size})")
    records_seen = sum(w.records for w in ctx.warcs)
    return Result.of(problems, f"{len(ctx.warcs)} WARC files, {records_seen} records: every block and "
                               "payload digest recomputed; every file's size, SHA-256 and SM3 as its "
                               "metadata states")


@check("authenticity.archival_codes", Property.AUTHENTICITY, "档号唯一且格式正确",
       "档号 unique and well-formed, the same in metadata and register", kind=PACKAGE)
def archival_codes(ctx: PackageContext) -> Result:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path, root in ctx.metadata.items():
        code = _code(root)
        if not ARCHIVAL_CODE_FORM.match(code):
            problems.append(f"{path}: 档号 {code!r} is not of the form "
                            "全宗号-门类代码·年度-保管期限-机构代码-件号")
        if code in seen:
            problems.append(f"{code} is in both {seen[code]} and {path}")
        seen[code] = path
    register = _register(ctx)
    listed = {row.get("档号", "") for row in register}
    problems += [f"register.csv: 档号 {c} has no metadata file" for c in sorted(listed - set(seen))]
    problems += [f"{seen[c]}: 档号 {c} is not in register.csv" for c in sorted(set(seen) - listed)]
    return Result.of(problems, f"{len(seen)} 档号: unique, of the DA/T 22 form, and the same in the "
                               "metadata files and the register")


def _register(ctx: PackageContext) -> list[dict[str, str]]:
    path = ctx.folder / "data" / "register.csv"
    return read_register(path) if path.is_file() else []


@check("integrity.counts", Property.INTEGRITY, "件数和字节数与登记相符",
       "Item and byte counts match the register", kind=PACKAGE)
def counts(ctx: PackageContext) -> Result:
    files = sm3_manifest.payload_files(ctx.folder)
    actual = sum((ctx.folder / rel).stat().st_size for rel in files)
    problems = []
    if (actual, len(files)) != (ctx.verify.payload_bytes, ctx.verify.payload_files):
        problems.append(f"bag-info.txt Payload-Oxum says {ctx.verify.payload_bytes} bytes in "
                        f"{ctx.verify.payload_files} files; the payload holds {actual} bytes in {len(files)}")
    register = _register(ctx)
    if not register:
        problems.append("data/register.csv is missing or empty")
    if len(register) != len(ctx.metadata):
        problems.append(f"register.csv lists {len(register)} items; there are {len(ctx.metadata)} "
                        "readable metadata files")
    for row in register:
        for column in ("元数据文件", "WACZ文件"):
            if not (ctx.folder / row.get(column, "")).is_file():
                problems.append(f"register.csv {row.get('档号')}: its {column} {row.get(column)!r} "
                                "is not in the package")
    return Result.of(problems, f"{len(register)} items and {actual:,} bytes in {len(files)} payload "
                               "files, as register.csv and bag-info.txt state")


@check("integrity.metadata", Property.INTEGRITY, "必要元数据齐全，且与内容关联",
       "Required metadata present, and linked to the content", kind=PACKAGE)
def metadata(ctx: PackageContext) -> Result:
    problems = []
    parsed = set(ctx.metadata)
    for path in sorted((ctx.folder / "data" / "metadata").glob("*.xml")):
        rel = path.relative_to(ctx.folder).as_posix()
        if rel not in parsed:
            problems.append(f"{rel}: not well-formed XML")
    warcs = {(w.wacz, w.name) for w in ctx.warcs}
    for rel, root in ctx.metadata.items():
        missing = [name for name in REQUIRED if not _text(root, f"文件实体/{name}")]
        if missing:
            problems.append(f"{rel}: lacks {', '.join(missing)}")
        versions = list(root.iter(_NS + "版本"))
        if not versions:
            problems.append(f"{rel}: no version")
        for node in root.iter(_NS + "文件"):
            where = (_text(node, "所在包"), _text(node, "文件名"))
            if where not in warcs:
                problems.append(f"{rel}: names {where[1]} in {where[0]}, which the package does not hold")
    return Result.of(problems, f"{len(ctx.metadata)} metadata files: each well-formed, with "
                               f"{', '.join(REQUIRED)}, its versions, and the WARC files holding its "
                               "records present in their WACZ")


@check("usability.warc_parse", Property.USABILITY, "每个 WARC 文件均可解析", "Every WARC file parses",
       kind=PACKAGE)
def warc_parse(ctx: PackageContext) -> Result:
    problems = [f"{w.wacz} {w.name} {b}" for w in ctx.warcs for b in w.bad if "digest" not in b]
    return Result.of(problems, f"{len(ctx.warcs)} WARC files, {sum(w.records for w in ctx.warcs)} "
                               "records: every record read to its end")


@check("usability.formats", Property.USABILITY, "文件格式为开放格式", "Formats are open ones",
       kind=PACKAGE)
def formats(ctx: PackageContext) -> Result:
    problems = [f"{rel}: not a format a package holds ({', '.join(PAYLOAD_SUFFIXES)})"
                for rel in sm3_manifest.payload_files(ctx.folder) if not rel.endswith(PAYLOAD_SUFFIXES)]
    problems += [f"{rel}: not a tag file format ({', '.join(TAG_SUFFIXES)})"
                 for rel in sm3_manifest.tag_files(ctx.folder) if not rel.endswith(TAG_SUFFIXES)]
    mimes: dict[str, int] = {}
    for wacz in sorted((ctx.folder / WACZ_FOLDER).glob("*.wacz")):
        with zipfile.ZipFile(wacz) as zf:
            for line in zf.read("indexes/index.cdx").splitlines():
                mime = str(json.loads(line.split(b" ", 2)[2]).get("mime", "")).lower()
                mimes[mime] = mimes.get(mime, 0) + 1
    problems += [f"{m}: {n} records in the WACZ indexes" for m, n in sorted(mimes.items())
                 if m and m != "warc/revisit" and m not in OPEN_FORMATS]
    return Result.of(problems, "WACZ 1.1.1 (ZIP of WARC 1.1), XML, CSV, HTML, PDF; contents: "
                               + ", ".join(f"{m} ({n})" for m, n in sorted(mimes.items())))


@check("security.secrets", Property.SECURITY, "包内文件无密钥、口令等秘密",
       "No secret in the package's metadata, register and form", kind=PACKAGE)
def secrets(ctx: PackageContext) -> Result:
    problems: list[str] = []
    scanned = 0
    for path in sorted(p for p in ctx.folder.rglob("*") if p.is_file() and p.suffix != ".wacz"):
        rel = path.relative_to(ctx.folder).as_posix()
        scanned += 1
        if path.suffix in (".xml", ".csv"):  # value by value: a link's own query values are public
            found = json_finding(_values(path))
            problems += [f"{rel}: {found}"] if found else []
        else:
            problems += file_findings(path, rel)
    return Result.of(problems, f"{scanned} files scanned (metadata, register, form, manifests); the "
                               "WARC records were scanned by the collection audit before transfer")


def _values(path: Path) -> list[str]:
    """The texts and attribute values of a metadata file, or the cells of the register."""
    if path.suffix == ".csv":
        return [cell for row in read_register(path) for cell in row.values() if cell]
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError:
        return [path.read_text(encoding="utf-8", errors="replace")]
    return [text for node in root.iter() for text in (node.text, *node.attrib.values()) if text]


@check("security.stray_files", Property.SECURITY, "包内无非档案文件、无可执行内容",
       "No file that is not a record, nothing executable", kind=PACKAGE)
def stray_files(ctx: PackageContext) -> Result:
    problems: list[str] = []
    for path in sorted(p for p in ctx.folder.rglob("*") if p.is_file()):
        rel = path.relative_to(ctx.folder).as_posix()
        if path.stat().st_mode & 0o111:
            problems.append(f"{rel}: executable")
        if path.suffix in (".html", ".xml") and b"<script" in path.read_bytes().lower():
            problems.append(f"{rel}: holds a script")
    return Result.of(problems, "every file is a record, its metadata, a manifest or the form; none "
                               "is executable or holds a script")
