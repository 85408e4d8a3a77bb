"""Per-post metadata as XML, following the core elements of DA/T 46-2009 (文书类电子文件元数据方案).

One file per kept post: the archival description (题名, 责任者, 日期, 档号 and its parts,
保管期限, 密级, 立档单位, 分类, the appraisal), the social-media fields the standard has no
element for (platform, account, post id, address, publish and capture times, capture method and
software, repost source, counts, edit and deletion status with evidence, media), each version
with the WARC records it rests on (file, record id, offset), and the electronic attributes of
the files holding them (format, size, SHA-256 and SM3). Element names are the standard's Chinese
terms; an ``en`` attribute on the root's children says what each group is for readers without
Chinese. Written with lxml, so every file is well-formed and UTF-8.

Posts are public on their platform when captured, so 密级 is 公开; 立档单位 is the fonds (全宗)
the 档号 belongs to (the archive's own name is not known to weidang).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:
    from catalog.transfer.contents import Item


NAMESPACE = "urn:weidang:transfer:da-t-46:1"
FORMAT = "weidang-dat46/1"
CLASSIFICATION_LEVEL = "公开"  # 密级: published posts are public
WARC_FORMAT = "WARC/1.1 (ISO 28500:2017), gzip per record; in WACZ 1.1.1"


@dataclass(frozen=True)
class FileFacts:
    """A WARC file's electronic attributes, from the collection's fixity manifest and warcinfo."""

    name: str
    size: int
    sha256: str
    sm3: str
    software: str
    wacz: str  # the package path of the WACZ holding it


def code_parts(code: str) -> dict[str, str]:
    """档号 ``0194-XM·2026-Y-BGS-0001`` -> its parts (DA/T 22 order)."""
    fonds, rest = code.split("-", 1)
    category_year, retention, unit, item = rest.rsplit("-", 3)
    category, _, year = category_year.partition("·")
    return {"全宗号": fonds, "门类代码": category, "年度": year, "保管期限代码": retention,
            "机构代码": unit, "件号": item}


def post_xml(item: Item, files: Mapping[str, FileFacts], capture_method: str, demo: bool) -> bytes:
    """The metadata file of one kept post (UTF-8, with an XML declaration)."""
    view, decision = item.view, item.decision
    current = view.versions[-1] if view.versions else None
    post = item.post
    root = etree.Element("电子文件元数据", nsmap={None: NAMESPACE})
    root.set("格式", FORMAT)
    if demo:
        root.set("演示数据", "true")
    parts = code_parts(item.code)
    desc = _group(root, "文件实体", "archival description (DA/T 46 core elements)")
    _leaf(desc, "档号", item.code)
    code = etree.SubElement(desc, "档号组成")
    for name, value in parts.items():
        _leaf(code, name, value)
    _leaf(desc, "题名", (current.title if current else "") or (current.text[:60] if current else ""))
    _leaf(desc, "责任者", post.get("account_name") or view.account)
    _leaf(desc, "日期", view.published_at or view.first_captured)
    _leaf(desc, "保管期限", decision.retention)
    _leaf(desc, "密级", CLASSIFICATION_LEVEL)
    _leaf(desc, "立档单位", f"全宗 {parts['全宗号']}")
    _leaf(desc, "分类", decision.classification)
    appraisal = etree.SubElement(desc, "鉴定")
    for name, value in (("结论", "保存 keep"), ("鉴定人", decision.reviewer), ("鉴定时间", decision.at),
                        ("事件序号", str(decision.event_seq)), ("事件哈希", decision.event_hash)):
        _leaf(appraisal, name, value)
    _social(root, item, post, current, capture_method)
    _versions(root, item)
    _media(root, view.media)
    _statuses(root, item)
    _attributes(root, item, files)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _group(parent: etree._Element, name: str, en: str) -> etree._Element:
    node = etree.SubElement(parent, name)
    node.set("en", en)
    return node


def _leaf(parent: etree._Element, name: str, value: object) -> etree._Element:
    node = etree.SubElement(parent, name)
    node.text = "" if value is None else str(value)
    return node


def _social(root: etree._Element, item: Item, post: dict[str, Any], current: Any, method: str) -> None:
    view = item.view
    social = _group(root, "社交媒体", "social-media fields")
    for name, value in (("平台", view.platform), ("账号", view.account),
                        ("账号名称", post.get("account_name", "")), ("帖文标识", view.post_id),
                        ("网址", view.url), ("发布时间", view.published_at or ""),
                        ("首次采集时间", view.first_captured), ("最近采集时间", view.last_captured),
                        ("采集方式", method), ("状态", view.status),
                        ("已编辑", "是" if post.get("edited") else "否"),
                        ("编辑次数", post.get("edit_count", 0)), ("版本数", len(view.versions)),
                        ("来源", post.get("source", "")), ("地点", post.get("location", ""))):
        _leaf(social, name, value)
    repost = post.get("repost") or {}
    if repost or post.get("repost_note"):
        node = etree.SubElement(social, "转发来源")
        for name, value in (("平台", repost.get("platform", "")), ("帖文标识", repost.get("post_id", "")),
                            ("账号", repost.get("account_id", "")), ("网址", repost.get("url", "")),
                            ("说明", post.get("repost_note", ""))):
            _leaf(node, name, value)
    counts = etree.SubElement(social, "互动计数")
    for name, value in sorted((post.get("counts") or {}).items()):
        _leaf(counts, "计数", value).set("类型", str(name))


def _record(parent: etree._Element, name: str, place: Mapping[str, Any]) -> None:
    node = etree.SubElement(parent, name)
    for key, tag in (("record_id", "记录标识"), ("warc_file", "WARC文件"), ("offset", "偏移量"),
                     ("url", "网址"), ("role", "作用"), ("payload_digest", "载荷摘要")):
        if place.get(key) not in (None, ""):
            _leaf(node, tag, place[key])


def _versions(root: etree._Element, item: Item) -> None:
    group = _group(root, "版本列表", "every version captured, with the WARC records it rests on")
    for version in item.view.versions:
        node = etree.SubElement(group, "版本")
        node.set("序号", str(version.version))
        for name, value in (("采集时间", version.captured_at), ("采集批次", version.harvest_id),
                            ("结果", version.outcome), ("题名", version.title), ("正文", version.text)):
            _leaf(node, name, value)
        meta = version.metadata_record
        _record(node, "元数据记录", {"record_id": meta.record_id, "warc_file": meta.warc_file,
                                     "offset": meta.offset, "url": meta.uri})
        for proof in version.evidence:
            _record(node, "证据记录", proof)


def _media(root: etree._Element, media: list[dict[str, Any]]) -> None:
    group = _group(root, "媒体列表", "pictures and videos, each with the record holding its bytes")
    for m in media:
        node = etree.SubElement(group, "媒体")
        node.set("版本", str(m.get("version")))
        node.set("类型", str(m.get("kind")))
        _leaf(node, "网址", m.get("url", ""))
        _record(node, "记录", {**m, "url": ""})


def _statuses(root: etree._Element, item: Item) -> None:
    group = _group(root, "状态事件列表", "deletions, blocks and restorations found, with evidence")
    for status in item.view.statuses:
        node = etree.SubElement(group, "状态事件")
        node.set("状态", status.status)
        for name, value in (("发现时间", status.found_at), ("原因", status.reason),
                            ("采集批次", status.harvest_id)):
            _leaf(node, name, value)
        meta = status.metadata_record
        _record(node, "元数据记录", {"record_id": meta.record_id, "warc_file": meta.warc_file,
                                     "offset": meta.offset})
        if status.evidence is not None:
            ev = status.evidence
            _record(node, "证据记录", {"record_id": ev.record_id, "warc_file": ev.warc_file,
                                       "offset": ev.offset, "url": ev.uri})


def _attributes(root: etree._Element, item: Item, files: Mapping[str, FileFacts]) -> None:
    group = _group(root, "电子属性", "electronic attributes of the files holding the post's records")
    for name in sorted(item.files):
        facts = files[name]
        node = etree.SubElement(group, "文件")
        for tag, value in (("文件名", facts.name), ("所在包", facts.wacz), ("格式", WARC_FORMAT),
                           ("大小", facts.size), ("SHA256", facts.sha256), ("SM3", facts.sm3),
                           ("采集软件", facts.software)):
            _leaf(node, tag, value)
