"""Which posts go into a transfer package: of those selected, only the ones currently kept.

The face resolves what the archivist named (an account and year, a 专题, posts by id) into post
keys, as ``weidang appraise`` does; here the keys meet the appraisal: a post whose current
decision is a keep goes in with its 档号, a discarded or never appraised one stays out (it stays
in the WARC files all the same). An empty result is refused with the reason, never written as
an empty package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from catalog.appraisal import Decision, current_decisions
from catalog.transfer.errors import TransferError


@dataclass(frozen=True)
class Selected:
    kept: list[Decision]  # in post order
    discarded: int  # selected, but currently discarded: left out
    unappraised: int  # selected, never appraised: left out


def kept_posts(conn: Connection, keys: Sequence[tuple[str, str]], asked: str) -> Selected:
    """The kept posts among ``keys``; ``asked`` says in words what was selected (for errors)."""
    if not keys:
        raise TransferError(f"the selection ({asked}) holds no post; nothing to transfer")
    decisions = current_decisions(conn, list(keys))
    kept = [d for d in decisions if d.decision == "keep" and d.code]
    discarded = sum(1 for d in decisions if d.decision == "discard")
    unappraised = len(set(keys)) - len(decisions)
    if not kept:
        raise TransferError(
            f"none of the {len(set(keys))} posts selected ({asked}) is kept: {discarded} discarded, "
            f"{unappraised} not appraised. Only posts appraised as kept (`weidang appraise … --keep`) "
            "are transferred")
    return Selected(kept, discarded, unappraised)
