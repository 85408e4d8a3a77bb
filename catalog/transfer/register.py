"""The package's register (登记表) as CSV: one row per kept post, Chinese column headers.

UTF-8 with a byte-order mark (without it Excel reads the Chinese as mojibake) and every cell
through ``catalog.spreadsheet.neutralise``, so that a post's text never becomes a live formula in
the receiving archive's spreadsheet. ``read_register`` gives the rows back (for the audit).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.spreadsheet import neutralise, restore
from catalog.transfer.metadata_xml import CLASSIFICATION_LEVEL, code_parts

if TYPE_CHECKING:
    from catalog.transfer.contents import Item

COLUMNS = ("档号", "题名", "责任者", "日期", "保管期限", "密级", "立档单位", "分类", "平台", "账号",
           "帖文标识", "网址", "发布时间", "最近采集时间", "版本数", "状态", "元数据文件", "WACZ文件",
           "WARC文件", "记录数", "演示数据")


def register_csv(items: Sequence[Item], metadata_paths: dict[str, str], wacz_paths: dict[str, str],
                 demo: bool) -> bytes:
    """The register's bytes; ``metadata_paths`` and ``wacz_paths`` by post key, package paths."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(COLUMNS)
    for item in items:
        view, current = item.view, item.view.versions[-1] if item.view.versions else None
        title = (current.title or current.text[:60]) if current else ""
        records = sum(1 + len(v.evidence) for v in view.versions) + len(view.statuses)
        row = (item.code, title, item.post.get("account_name") or view.account,
               view.published_at or view.first_captured, item.decision.retention,
               CLASSIFICATION_LEVEL, f"全宗 {code_parts(item.code)['全宗号']}",
               item.decision.classification, view.platform, view.account, view.post_id, view.url,
               view.published_at or "", view.last_captured, len(view.versions), view.status,
               metadata_paths[item.key], wacz_paths[item.key], " ".join(sorted(item.files)),
               records, "是" if demo else "否")
        out.writerow([neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def read_register(path: Path) -> list[dict[str, str]]:
    """The rows of a register file, cells restored to what was written."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: restore(v) for k, v in row.items()} for row in csv.DictReader(fh)]
