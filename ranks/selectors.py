"""What the secretariat reads of a member's ranks: the member page's rank and history per programme."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from points.models import Account, Programme
from ranks.models import RankRecord
from ranks.services import Standing, rank_standing

HISTORY_SHOWN = 20


@dataclass(frozen=True)
class MemberRankLine:
    programme: Programme
    standing: Standing
    records: list[RankRecord]


def member_ranks(*, member_id: int, programme_ids: Collection[int] | None = None) -> list[MemberRankLine]:
    """Per programme of the member's accounts that has ranks (of those named, or all): the rank now with what
    remains to the next (or to keep it), and the latest changes with the figures each was decided on, newest
    first."""
    lines = []
    programmes = Programme.objects.filter(
        pk__in=Account.objects.filter(member_id=member_id).values("programme_id"), rank_policy__isnull=False
    ).order_by("code")
    if programme_ids is not None:
        programmes = programmes.filter(pk__in=programme_ids)
    for programme in programmes:
        standing = rank_standing(member_id=member_id, programme=programme)
        if standing is None:
            continue
        records = list(
            RankRecord.objects.filter(member_id=member_id, programme=programme)
            .select_related("rank_before", "rank")
            .order_by("-effective_on", "-pk")[:HISTORY_SHOWN]
        )
        lines.append(MemberRankLine(programme, standing, records))
    return lines
