"""The catalog's record of each package written (table ``transfers``, append-only)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from catalog.schema import transfers


@dataclass(frozen=True)
class TransferRow:
    transfer_id: str
    created_at: str
    actor: str
    selection: str
    folder: str
    items: int
    payload_bytes: int
    payload_sha256: str
    demo: bool
    posts: list[tuple[str, str, str]]  # platform, post_id, 档号
    events: dict[str, tuple[int, str]]  # collection -> (event number, event hash)


def record_transfer(conn: Connection, row: TransferRow) -> None:
    conn.execute(insert(transfers).values(
        transfer_id=row.transfer_id, created_at=row.created_at, actor=row.actor,
        selection=row.selection, folder=row.folder, items=row.items,
        payload_bytes=row.payload_bytes, payload_sha256=row.payload_sha256, demo=int(row.demo),
        posts=json.dumps(row.posts, ensure_ascii=False), events=json.dumps(row.events)))


def transfer_rows(conn: Connection) -> list[TransferRow]:
    """Every package written, oldest first."""
    out = []
    for r in conn.execute(select(transfers).order_by(transfers.c.seq)):
        out.append(TransferRow(r.transfer_id, r.created_at, r.actor, r.selection, r.folder,
                               int(r.items), int(r.payload_bytes), r.payload_sha256, bool(r.demo),
                               [(str(p[0]), str(p[1]), str(p[2])) for p in json.loads(r.posts)],
                               {k: (int(v[0]), str(v[1])) for k, v in json.loads(r.events).items()}))
    return out
