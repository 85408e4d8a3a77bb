"""The package as a bag (BagIt, RFC 8493): the ``bagit`` library's SHA-256 and SHA-512 manifests,
plus SM3 manifests weidang writes and checks itself (``sm3_manifest``).

Order matters, because each manifest covers the ones before it: ``bagit`` moves the payload into
``data/`` and writes ``manifest-sha256.txt`` and ``manifest-sha512.txt``; weidang writes
``manifest-sm3.txt``; ``bagit`` then writes its tag manifests, which list ``bagit.txt``,
``bag-info.txt``, every payload manifest (the SM3 one too, so ``bagit`` notices an edited SM3
manifest even though it cannot read it) and the tag folder ``transfer-form/``; weidang's
``tagmanifest-sm3.txt`` comes last. ``bagit.txt`` says version 1.0, the version RFC 8493 defines
(the library writes 0.97 by default and reads both).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import bagit

from catalog.transfer import sm3_manifest
from catalog.transfer.errors import TransferError

ALGORITHMS = ["sha256", "sha512"]
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
FORM_FOLDER = "transfer-form"  # a tag folder: the form states the payload's digest, so it is not payload


def make_bag(folder: Path, info: dict[str, str], processes: int = 1) -> None:
    """Turn ``folder`` (holding the payload) into a bag with SHA-256, SHA-512 and SM3 manifests."""
    try:
        bagit.make_bag(str(folder), bag_info=dict(info), checksums=ALGORITHMS, processes=processes)
    except (bagit.BagError, OSError, RuntimeError) as exc:
        raise TransferError(f"the bag could not be made in {folder}: {exc}") from exc
    (folder / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    sm3_manifest.write_payload_manifest(folder)
    retag(folder)


def retag(folder: Path) -> None:
    """Write the tag manifests again after a tag file changed (the form added, bag-info edited)."""
    try:
        bagit.Bag(str(folder)).save()
    except (bagit.BagError, OSError) as exc:
        raise TransferError(f"the tag manifests of {folder} could not be written: {exc}") from exc
    sm3_manifest.write_tag_manifest(folder)


def payload_digest(folder: Path) -> str:
    """The package digest: the SHA-256 of ``manifest-sha256.txt``, which lists every payload file
    with its SHA-256 (one value a form or register can carry for the whole payload)."""
    return hashlib.sha256((folder / "manifest-sha256.txt").read_bytes()).hexdigest()


def payload_oxum(folder: Path) -> tuple[int, int]:
    """(bytes, files) of the payload, as ``bag-info.txt``'s Payload-Oxum says."""
    info = bagit.Bag(str(folder)).info
    octets, _, count = str(info.get("Payload-Oxum", "0.0")).partition(".")
    return int(octets), int(count)
