"""`weidang transfer verify`: a package checked on its own, by the archive that receives it.

Nothing here reads a catalog or a home: only the package. It checks, and names every failure in
Chinese first with English beside it:

- the bag, with the ``bagit`` library: structure, ``bagit.txt``, every payload file against the
  SHA-256 and SHA-512 manifests (missing, extra, changed), the tag manifests;
- the SM3 manifests ``bagit`` cannot read (``sm3_manifest``): every payload and tag file listed,
  none extra, every SM3 recomputed;
- each WACZ: ``datapackage-digest.json`` against ``datapackage.json``, and every file of the
  ZIP against its hash and size in ``datapackage.json``; demo marks agree with ``bag-info.txt``;
- the seal and its RFC 3161 time-stamp token, when the package carries them: the seal is one
  weidang seal and a newline, and the token time-stamps exactly those bytes (signed by a CA in
  ``ca_file`` when one is given).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import bagit

from catalog.transfer import sm3_manifest
from warc_store.errors import StoreError
from warc_store.seal import SEAL_SUFFIX, TOKEN_SUFFIX, Seal, seal_bytes
from warc_store.timestamp import TimestampError, check_token

DEMO_TAG = "Weidang-Demo"  # in bag-info.txt: "true" for demo data
WACZ_FOLDER = "data/wacz"
SEAL_FOLDER = "data/seals"


@dataclass
class PackageCheck:
    """What ``verify_package`` found: problems (each a failure) and notes (what was proven)."""

    folder: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    payload_files: int = 0
    payload_bytes: int = 0
    demo: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_package(folder: Path, ca_file: Path | None = None, processes: int = 1) -> PackageCheck:
    """Every check of the module docstring; never raises for what it finds, only reports it."""
    out = PackageCheck(folder)
    bag = _bagit(folder, out, processes)
    if bag is None:
        return out
    out.demo = str(bag.info.get(DEMO_TAG, "")).lower() == "true"
    octets, _, count = str(bag.info.get("Payload-Oxum", "0.0")).partition(".")
    out.payload_bytes, out.payload_files = int(octets or 0), int(count or 0)
    _sm3(folder, out)
    for wacz in sorted((folder / WACZ_FOLDER).glob("*.wacz")):
        _wacz(folder, wacz, out)
    _seals(folder, ca_file, out)
    return out


def _bagit(folder: Path, out: PackageCheck, processes: int) -> bagit.Bag | None:
    try:
        bag = bagit.Bag(str(folder))
    except (bagit.BagError, OSError) as exc:
        out.problems.append(f"不是 BagIt 包 not a BagIt bag: {folder}: {exc}")
        return None
    try:
        bag.validate(processes=processes)
        out.notes.append("BagIt 校验通过 bag valid: every payload file matches the SHA-256 and "
                         "SHA-512 manifests, and every tag file its tag manifests (bagit library)")
    except bagit.BagValidationError as exc:
        if exc.details:
            out.problems += [_bagit_detail(d) for d in exc.details]
        else:
            out.problems.append(f"BagIt 校验失败 bag invalid: {exc.message}")
    except bagit.BagError as exc:
        out.problems.append(f"BagIt 校验失败 bag invalid: {exc}")
    return bag


def _bagit_detail(detail: bagit.BagError) -> str:
    path = getattr(detail, "path", "?")
    if isinstance(detail, bagit.ChecksumMismatch):
        return (f"文件内容已改变 changed: {path} does not match its {detail.algorithm} in the "
                f"manifest (expected {detail.expected}, found {detail.found})")
    if isinstance(detail, bagit.FileMissing):
        return f"文件缺失 missing: {path} is in the manifest but not in the package"
    if isinstance(detail, bagit.UnexpectedFile):
        return f"多余文件 unexpected: {path} is in the package but in no manifest"
    return f"BagIt 校验失败 bag invalid: {detail}"


def _sm3(folder: Path, out: PackageCheck) -> None:
    checked = 0
    for name, files in ((sm3_manifest.PAYLOAD, sm3_manifest.payload_files(folder)),
                        (sm3_manifest.TAGS, sm3_manifest.tag_files(folder))):
        path = folder / name
        if not path.is_file():
            out.problems.append(f"缺少 SM3 清单 missing SM3 manifest: {name} is not in the package")
            continue
        try:
            listed = sm3_manifest.read_manifest(path)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            out.problems.append(f"SM3 清单无法读取 unreadable SM3 manifest: {name}: {exc}")
            continue
        present = set(files)
        for rel in sorted(set(listed) - present):
            out.problems.append(f"文件缺失 missing: {rel} is in {name} but not in the package")
        for rel in sorted(present - set(listed)):
            out.problems.append(f"SM3 清单未列出 not in {name}: {rel}")
        for rel in sorted(present & set(listed)):
            found = sm3_manifest.sm3_hex(folder / rel)
            checked += 1
            if found != listed[rel]:
                out.problems.append(f"SM3 不符 SM3 mismatch: {rel} (in {name}: {listed[rel]}, "
                                    f"computed {found})")
    out.notes.append(f"SM3 校验 SM3 checked: {checked} files against manifest-sm3.txt and "
                     "tagmanifest-sm3.txt")


def _wacz(folder: Path, path: Path, out: PackageCheck) -> None:
    rel = path.relative_to(folder).as_posix()
    try:
        with zipfile.ZipFile(path) as zf:
            data = zf.read("datapackage.json")
            digest = json.loads(zf.read("datapackage-digest.json"))
            package = json.loads(data)
            if digest.get("hash") != "sha256:" + hashlib.sha256(data).hexdigest():
                out.problems.append(f"WACZ 清单摘要不符 datapackage digest mismatch: {rel}: "
                                    "datapackage-digest.json does not match datapackage.json")
            names = set(zf.namelist())
            for resource in package.get("resources", []):
                _resource(zf, rel, resource, names, out)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        out.problems.append(f"WACZ 无法读取 unreadable WACZ: {rel}: {exc}")
        return
    if bool(package.get("weidang-demo")) != out.demo:
        out.problems.append(f"演示标记不一致 demo mark differs: {rel} says weidang-demo "
                            f"{bool(package.get('weidang-demo'))}, bag-info.txt says {out.demo}")
    out.notes.append(f"WACZ 校验 WACZ checked: {rel}: {len(package.get('resources', []))} files "
                     "match datapackage.json")


def _resource(zf: zipfile.ZipFile, rel: str, resource: dict[str, object], names: set[str],
              out: PackageCheck) -> None:
    inner = str(resource.get("path", ""))
    if inner not in names:
        out.problems.append(f"WACZ 文件缺失 missing in WACZ: {rel}: {inner}")
        return
    hasher, size = hashlib.sha256(), 0
    with zf.open(inner) as fh:
        while chunk := fh.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    if resource.get("hash") != "sha256:" + hasher.hexdigest() or resource.get("bytes") != size:
        out.problems.append(f"WACZ 文件内容已改变 changed in WACZ: {rel}: {inner} does not match "
                            "its hash and size in datapackage.json")


def _seals(folder: Path, ca_file: Path | None, out: PackageCheck) -> None:
    seals = folder / SEAL_FOLDER
    if not seals.is_dir():
        out.notes.append("无封印 no seal: the package carries none")
        return
    for token in sorted(seals.glob("*" + TOKEN_SUFFIX)):
        if not token.with_suffix(SEAL_SUFFIX).exists():
            out.problems.append(f"时间戳无封印 token without seal: {token.name}")
    for path in sorted(seals.glob("*" + SEAL_SUFFIX)):
        name = f"{SEAL_FOLDER}/{path.name}"
        data = path.read_bytes()
        try:
            seal = Seal.parse(data.decode("ascii"))
        except (UnicodeDecodeError, StoreError):
            out.problems.append(f"封印无法读取 not a seal: {name}")
            continue
        if data != seal_bytes(seal):
            out.problems.append(f"封印已改动 seal edited: {name} is not exactly the seal and a newline")
        token = path.with_suffix(TOKEN_SUFFIX)
        if not token.exists():
            out.notes.append(f"封印 seal {name}: no time-stamp token")
            continue
        try:
            stamp = check_token(data, token.read_bytes(), ca_file)
        except TimestampError as exc:
            shown = name.removesuffix(SEAL_SUFFIX) + TOKEN_SUFFIX
            out.problems.append(f"时间戳不符 time-stamp fails: {shown}: {exc}")
            continue
        who = "signer checked against the CA file" if stamp.signer_checked else \
            "signer NOT checked: pass the TSA's CA certificate (--tsa-ca FILE) to check it"
        out.notes.append(f"时间戳 time-stamp: {name} stamped {stamp.time.isoformat()} by "
                         f"{stamp.authority} ({who})")
