"""Demo data: records written by `weidang demo` (from the emulator), never genuine captures.

A demo harvest's writer puts ``WARC-Weidang-Demo: true`` on every record it writes (the
warcinfo record also carries the ``weidang-demo: true`` field), so a record taken out of its
file, replayed by pywb or copied into a package still says that it is not a capture of
m.weibo.cn or mp.weixin.qq.com. WARC 1.1 defines no field for test or sample data
(``WARC-Profile`` only qualifies revisits, and ``WARC-Warcinfo-ID`` points at a warcinfo record a
package may leave behind), so this is an extension field, named like weidang's others.

``demo_marks`` tells, by reading the records themselves, whether files are demo data, real
captures, or a mix (which a package builder must refuse).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from warc_store.collection import Collection
from warc_store.errors import DamagedRecord

DEMO_FIELD = "weidang-demo"  # in a demo file's warcinfo record: "true"
DEMO_HEADER = "WARC-Weidang-Demo"  # on every record a demo harvest writes: "true"


def demo_headers(info: dict[str, str]) -> dict[str, str]:
    """The headers every record gets when the warcinfo fields ``info`` say the file is demo data."""
    return {DEMO_HEADER: "true"} if info.get(DEMO_FIELD, "").lower() == "true" else {}


@dataclass
class DemoMarks:
    """How many records of which files carry the demo mark."""

    records: int = 0
    demo_records: int = 0
    demo_files: list[str] = field(default_factory=list)  # every record marked
    real_files: list[str] = field(default_factory=list)  # no record marked
    mixed_files: list[str] = field(default_factory=list)  # some marked, some not

    @property
    def demo(self) -> bool:
        """Every record is demo data (and there is at least one)."""
        return self.records > 0 and self.demo_records == self.records

    @property
    def mixed(self) -> bool:
        """Demo data and real captures together: never to be packaged as one."""
        return 0 < self.demo_records < self.records

    def refusal(self) -> str | None:
        """Why these files cannot be packaged together, in plain words; None when they can."""
        if not self.mixed:
            return None
        if self.mixed_files:
            return (f"{', '.join(self.mixed_files)} mixes demo records with real captures; "
                    "demo data must never be packaged with real captures")
        return (f"demo data ({', '.join(self.demo_files)}) would be packaged with real captures "
                f"({', '.join(self.real_files)}); package them separately")


def demo_marks(paths: Iterable[Path]) -> DemoMarks:
    """Read every record's headers (not its payload) and count the demo marks, file by file."""
    # Here, not at the top: `weidang verify` imports this module for DEMO_FIELD alone.
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    marks = DemoMarks()
    for path in paths:
        total = marked = 0
        try:
            with open(path, "rb") as fh:
                for record in ArchiveIterator(fh, check_digests=False):
                    total += 1
                    if (record.rec_headers.get_header(DEMO_HEADER) or "").lower() == "true":
                        marked += 1
        except (ArchiveLoadFailed, zlib.error, EOFError) as exc:
            raise DamagedRecord(path.name, str(exc) or exc.__class__.__name__) from exc
        marks.records += total
        marks.demo_records += marked
        kind = marks.real_files if marked == 0 else marks.demo_files if marked == total else marks.mixed_files
        kind.append(path.name)
    return marks


def collection_demo_marks(collection: Collection) -> DemoMarks:
    """The demo marks of a collection's closed files."""
    return demo_marks(collection.closed_files())
