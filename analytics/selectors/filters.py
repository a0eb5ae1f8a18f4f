"""What a report covers: one small value every report takes, from the admin's form, the dashboard or the
merchants' portal alike."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, replace

from django.db.models import Q

from analytics.models import AgeBand
from stores.models import Store

DAY, MONTH = "day", "month"


@dataclass(frozen=True)
class ReportFilter:
    """Programmes, a period (both days included), stores and members' attributes.

    - `programme_ids`: None for every programme (the whole group's secretariat), else those;
    - `store_ids`: the stores the report is about (one in the admin; a merchant's own in the portal), or None
      for all; `category`: a store category instead (or as well: the stores must then be of it);
    - `gender` ("" for not given), `age_band` (analytics.models.AgeBand), `postal_prefix` (the start of the
      postal code, "190" or "190-0011"), `rank_id`: the members' attributes on the day of each figure;
      None (or "") for any;
    - `by`: "day" or "month". By month the period is taken in whole months.
    """

    start: datetime.date
    end: datetime.date
    programme_ids: frozenset[int] | None = None
    store_ids: frozenset[int] | None = None
    category: str = ""
    gender: str | None = None
    age_band: int | None = None
    postal_prefix: str = ""
    rank_id: int | None = None
    by: str = MONTH

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        if self.by not in (DAY, MONTH):
            raise ValueError(f"by must be {DAY!r} or {MONTH!r}")

    @property
    def first(self) -> datetime.date:
        return self.start.replace(day=1) if self.by == MONTH else self.start

    @property
    def last(self) -> datetime.date:
        if self.by == DAY:
            return self.end
        return self.end.replace(day=calendar.monthrange(self.end.year, self.end.month)[1])

    @property
    def by_members(self) -> bool:
        """Whether the report selects on members' attributes."""
        chosen = (self.gender, self.age_band, self.postal_prefix or None, self.rank_id)
        return any(value is not None for value in chosen)

    @property
    def by_stores(self) -> bool:
        return self.store_ids is not None or bool(self.category)

    def buckets(self, today: datetime.date | None = None) -> list[datetime.date]:
        """The first day of each day or month of the period (up to today, if given)."""
        last = min(self.last, today) if today else self.last
        found, day = [], self.first
        while day <= last:
            found.append(day)
            day = day + datetime.timedelta(days=1) if self.by == DAY else _next_month(day)
        return found

    def bucket_of(self, day: datetime.date) -> datetime.date:
        return day if self.by == DAY else day.replace(day=1)

    def with_(self, **changes) -> ReportFilter:
        return replace(self, **changes)

    def attributes_q(self, prefix: str = "") -> Q:
        """The member-attribute condition on a summary row (its gender, age_band, postal_code, rank)."""
        q = Q()
        if self.gender is not None:
            q &= Q(**{f"{prefix}gender": self.gender})
        if self.age_band is not None:
            q &= Q(**{f"{prefix}age_band": self.age_band})
        if self.postal_prefix:
            q &= Q(**{f"{prefix}postal_code__startswith": self.postal_prefix})
        if self.rank_id is not None:
            q &= Q(**{f"{prefix}rank_id": self.rank_id})
        return q

    def programme_q(self, field: str = "programme_id") -> Q:
        return Q() if self.programme_ids is None else Q(**{f"{field}__in": self.programme_ids})


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def bucket_label(day: datetime.date, by: str) -> str:
    return f"{day:%Y/%m}" if by == MONTH else f"{day:%Y/%m/%d}"


def selected_store_ids(report: ReportFilter) -> frozenset[int] | None:
    """The stores a report is about: those named, of the category if one is chosen; None for all."""
    if not report.by_stores:
        return None
    stores = Store.objects.all()
    if report.store_ids is not None:
        stores = stores.filter(pk__in=report.store_ids)
    if report.category:
        stores = stores.filter(category=report.category)
    return frozenset(stores.values_list("pk", flat=True))


def places(report: ReportFilter) -> list[str]:
    """The places of the visits summaries a report reads: the programme (""), a store ("s:<id>") each, or a
    category ("c:<category>")."""
    if report.store_ids is not None:
        ids = selected_store_ids(report) or frozenset()
        return [f"s:{pk}" for pk in sorted(ids)]
    if report.category:
        return [f"c:{report.category}"]
    return [""]


def age_band_label(band: int | None) -> str:
    return str(AgeBand(band).label) if band is not None else ""


def attributes_text(report: ReportFilter, *, ranks: dict[int, str] | None = None) -> list[str]:
    """The member filters as words, for the page and the CSV."""
    from django.utils.translation import gettext as _

    from members.models import Member

    found = []
    if report.gender is not None:
        found.append(str(dict(Member.Gender.choices).get(report.gender, report.gender)))
    if report.age_band is not None:
        found.append(age_band_label(report.age_band))
    if report.postal_prefix:
        found.append(_("postal code %(prefix)s…") % {"prefix": report.postal_prefix})
    if report.rank_id is not None:
        found.append((ranks or {}).get(report.rank_id, str(report.rank_id)))
    return found
