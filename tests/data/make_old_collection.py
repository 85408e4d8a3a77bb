"""Write ``old_collection/default``: a collection as weidang wrote it before tallies, creation
events and file ids (commit e2a10cc), with one closed file and one file left ``.open`` by a
writer that died. The upgrade tests read it; it is kept as written, so regenerate it only with
the old code::

    git worktree add /tmp/old e2a10cc
    PYTHONPATH=/tmp/old:tests python3 tests/data/make_old_collection.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from store_helpers import StepClock, json_exchange

import warc_store.capture
from warc_store import CaptureWriter, Collection, StoreConfig

OUT = Path(__file__).parent / "old_collection" / "default"


def main() -> None:
    if hasattr(warc_store.capture, "FILE_ID_FIELD"):
        sys.exit("run this with the code of commit e2a10cc first on PYTHONPATH")
    shutil.rmtree(OUT, ignore_errors=True)
    collection = Collection.create(OUT, StepClock())
    info = {"weidang-harvest-id": "h-old-1"}
    with CaptureWriter(collection, StoreConfig(), info=info) as writer:
        for n in range(2):
            writer.write_exchange(*json_exchange(n))
    writer = CaptureWriter(collection, StoreConfig(), info={"weidang-harvest-id": "h-old-2"})
    for n in range(2, 5):
        writer.write_exchange(*json_exchange(n))
    writer.flush()
    assert writer._current is not None
    path = writer._current.path
    writer._current.fh.close()  # the writer dies in its next record: its lock goes, nothing closed
    writer._current = None
    with open(path, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00partial-record")
    (OUT / ".lock").unlink()


if __name__ == "__main__":
    main()
