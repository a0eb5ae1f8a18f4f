"""Reads of point donations worth naming: a member's donations (for the member site and the record PDF),
the organisations taking donations, and each organisation's running total (the public page)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from donations.models import YEN_PER_POINT, Donation, Organisation
from members.models import Member
from points.models import Programme

# Merges are rare and short chains; this bounds the walk all the same.
MAX_MERGE_DEPTH = 20


def _member_ids_with_merged(member) -> list[int]:
    """The member and every member merged into it, directly or through another merge: a merge keeps the
    donations on the merged record, and the survivor's record shows them."""
    ids, frontier = [member.pk], [member.pk]
    for _depth in range(MAX_MERGE_DEPTH):
        frontier = list(Member.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
        if not frontier:
            break
        ids += frontier
    return ids


def donations_of_member(*, member) -> QuerySet[Donation]:
    """The member's donations (with those of records merged into it), newest first, with each
    organisation and its programme."""
    return (
        Donation.objects.filter(member_id__in=_member_ids_with_merged(member))
        .select_related("organisation__programme")
        .order_by("-created_at", "-pk")
    )


def accepting_on(day: datetime.date) -> Q:
    """Organisations taking donations on `day`: [active_from, active_until), either end open when empty."""
    return (Q(active_from__isnull=True) | Q(active_from__lte=day)) & (
        Q(active_until__isnull=True) | Q(active_until__gt=day)
    )


def organisations_accepting(*, programme: Programme | int, day: datetime.date | None = None) -> QuerySet[Organisation]:
    """The programme's organisations that take donations on `day` (today): what a member may choose."""
    day = day or timezone.localdate()
    return Organisation.objects.filter(accepting_on(day), programme=programme).order_by("position", "pk")


@dataclass(frozen=True)
class Totals:
    donations: int
    points: int

    @property
    def yen(self) -> int:
        return self.points * YEN_PER_POINT


def organisation_totals(*, organisation_ids) -> dict[int, Totals]:
    """Each organisation's running total of every donation so far (settled or not), in one query."""
    rows = (
        Donation.objects.filter(organisation_id__in=list(organisation_ids))
        .values("organisation_id")
        .annotate(count=Count("pk"), points=Sum("points"))
        .order_by()
    )
    return {row["organisation_id"]: Totals(row["count"], row["points"] or 0) for row in rows}


@dataclass(frozen=True)
class PublicOrganisation:
    organisation: Organisation
    totals: Totals


def public_totals(*, day: datetime.date | None = None) -> list[tuple[Programme, list[PublicOrganisation]]]:
    """For the public page: each active programme's public organisations taking donations today, with
    their running totals. Nothing about who gave."""
    day = day or timezone.localdate()
    organisations = list(
        Organisation.objects.filter(accepting_on(day), programme__is_active=True, is_public=True)
        .select_related("programme")
        .order_by("programme__code", "position", "pk")
    )
    totals = organisation_totals(organisation_ids=[o.pk for o in organisations])
    sections: dict[int, tuple[Programme, list[PublicOrganisation]]] = {}
    for organisation in organisations:
        programme = organisation.programme
        sections.setdefault(programme.pk, (programme, []))[1].append(
            PublicOrganisation(organisation, totals.get(organisation.pk, Totals(0, 0)))
        )
    return list(sections.values())


def last_ended_month(*, programme: Programme, now: datetime.datetime | None = None) -> tuple[int, int]:
    """The month (year, month) before the one running at `now`, by the programme's billing closing day:
    the one the nightly close settles."""
    from billing.models import BillingSettings
    from billing.periods import period_containing

    closing_day = BillingSettings.objects.filter(programme=programme).values_list("closing_day", flat=True).first() or 0
    year, month = period_containing(timezone.localdate(now or timezone.now()), closing_day=closing_day)
    return (year, month - 1) if month > 1 else (year - 1, 12)


def programmes_with_organisations() -> QuerySet[Programme]:
    return Programme.objects.filter(is_active=True, pk__in=Organisation.objects.values("programme_id")).order_by("code")
