"""Reads of the coupons app: a coupon as the receipt prints it, and the report of issues and redemptions.

Figures here are exact; the admin hides groups of fewer than five members (common.privacy).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from coupons.models import Coupon, CouponTemplate
from stores.models import Store
from stores.selectors import local_midnight

# --- the receipt -------------------------------------------------------------------------


def _store_names(store_ids) -> dict[int, tuple[str, str]]:
    return {
        pk: (code, name) for pk, code, name in Store.objects.filter(pk__in=store_ids).values_list("pk", "code", "name")
    }


def coupon_where(template: CouponTemplate, stores: dict[int, tuple[str, str]] | None = None) -> str:
    """Where the coupon can be used, as the receipt prints it (`stores`: code and name by id, when read)."""
    if template.usable_anywhere:
        return _("Any participating store")
    if stores is None:
        stores = _store_names(template.store_ids)
    names = [name for _code, name in sorted(stores[pk] for pk in template.store_ids if pk in stores)]
    labels = dict(Store.Category.choices)
    names += [str(labels.get(category, category)) for category in template.categories]
    return _("Only at: %(places)s") % {"places": ", ".join(names)}


def coupon_receipt_lines(coupons) -> list[dict]:
    """The coupons in the terminal's answer (the names of the stores they are limited to read in one query)."""
    store_ids = {pk for coupon in coupons for pk in coupon.template.store_ids}
    stores = _store_names(store_ids) if store_ids else {}
    return [coupon_receipt_line(coupon, stores) for coupon in coupons]


def coupon_receipt_line(coupon: Coupon, stores: dict[int, tuple[str, str]] | None = None) -> dict:
    """One coupon in the terminal's answer: what the receipt prints, and the code the till redeems."""
    template = coupon.template
    return {
        "code": coupon.code,
        "printed_code": coupon.printed_code,
        "name": template.name,
        "benefit": template.benefit,
        "discount_yen": template.discount_yen,
        "bonus_points": template.bonus_points,
        "valid_until": coupon.valid_until,
        "where": coupon_where(template, stores),
    }


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Coupons issued in the period (to how many members), how many of them were redeemed since (by how many
    members), and what the redeemed ones gave."""

    issued: int = 0
    issued_members: int = 0
    redeemed: int = 0
    redeemed_members: int = 0
    discount_yen: int = 0
    bonus_points: int = 0

    @property
    def rate_percent(self) -> Decimal | None:
        """Redeemed out of issued, in percent with one decimal (half up)."""
        if not self.issued:
            return None
        return (Decimal(100 * self.redeemed) / self.issued).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TemplateLine:
    template: CouponTemplate
    figures: Figures


@dataclass(frozen=True)
class StoreLine:
    store: Store
    figures: Figures
    # Redeemed at this store during the period, whatever their date of issue.
    redeemed_here: int = 0
    redeemed_here_members: int = 0
    discount_here_yen: int = 0


@dataclass(frozen=True)
class CouponReport:
    start: datetime.date
    end: datetime.date  # exclusive
    total: Figures
    by_template: list[TemplateLine]
    by_store: list[StoreLine]


FIGURES = {
    "issued": Count("pk"),
    "issued_members": Count("member_id", distinct=True),
    "redeemed": Count("pk", filter=Q(status=Coupon.Status.REDEEMED)),
    "redeemed_members": Count("member_id", distinct=True, filter=Q(status=Coupon.Status.REDEEMED)),
}


def _figures(row: dict, *, discount_yen: int = 0, bonus_points: int = 0) -> Figures:
    return Figures(
        issued=row["issued"],
        issued_members=row["issued_members"],
        redeemed=row["redeemed"],
        redeemed_members=row["redeemed_members"],
        discount_yen=discount_yen,
        bonus_points=bonus_points,
    )


def coupon_report(
    *, start: datetime.date, end: datetime.date, programme_ids: Collection[int] | None = None
) -> CouponReport:
    """Coupons issued from `start` up to (not including) `end`, Tokyo days, by template and by issuing store, of
    the programmes named (or all); the redemption rate is the share of them redeemed so far. Each store also
    shows what was redeemed there during the period."""
    issued = Coupon.objects.filter(issued_at__gte=local_midnight(start), issued_at__lt=local_midnight(end))
    redeemed_in_period = Coupon.objects.filter(
        redeemed_at__gte=local_midnight(start), redeemed_at__lt=local_midnight(end)
    )
    if programme_ids is not None:
        issued = issued.filter(template__programme_id__in=programme_ids)
        redeemed_in_period = redeemed_in_period.filter(template__programme_id__in=programme_ids)

    per_template = {row["template_id"]: row for row in issued.values("template_id").annotate(**FIGURES).order_by()}
    templates = CouponTemplate.objects.in_bulk(per_template)
    by_template = [
        TemplateLine(
            template=templates[pk],
            figures=_figures(
                row,
                discount_yen=row["redeemed"] * templates[pk].discount_yen,
                bonus_points=row["redeemed"] * templates[pk].bonus_points,
            ),
        )
        for pk, row in sorted(per_template.items())
    ]

    by_store = _by_store(issued, redeemed_in_period)
    total = issued.aggregate(**FIGURES)
    return CouponReport(
        start=start,
        end=end,
        total=_figures(
            total,
            discount_yen=sum(line.figures.discount_yen for line in by_template),
            bonus_points=sum(line.figures.bonus_points for line in by_template),
        ),
        by_template=by_template,
        by_store=by_store,
    )


def _by_store(issued, redeemed_in_period) -> list[StoreLine]:
    per_store = {
        row["issued_at_store_id"]: row for row in issued.values("issued_at_store_id").annotate(**FIGURES).order_by()
    }
    here: dict[int, dict] = {}
    # By store and discount, so that the yen honoured add up; the members once per store, below.
    for row in (
        redeemed_in_period.values("redeemed_at_store_id", "template__discount_yen").annotate(n=Count("pk")).order_by()
    ):
        line = here.setdefault(row["redeemed_at_store_id"], {"n": 0, "yen": 0, "members": 0})
        line["n"] += row["n"]
        line["yen"] += row["n"] * row["template__discount_yen"]
    members_here = (
        redeemed_in_period.values("redeemed_at_store_id")
        .annotate(members=Count("member_id", distinct=True))
        .values_list("redeemed_at_store_id", "members")
        .order_by()
    )
    for store_id, members in members_here:
        here[store_id]["members"] = members
    stores = Store.objects.filter(pk__in=set(per_store) | set(here)).order_by("code")
    nothing = dict.fromkeys(FIGURES, 0)
    return [
        StoreLine(
            store=store,
            figures=_figures(per_store.get(store.pk, nothing)),
            redeemed_here=here.get(store.pk, {}).get("n", 0),
            redeemed_here_members=here.get(store.pk, {}).get("members", 0),
            discount_here_yen=here.get(store.pk, {}).get("yen", 0),
        )
        for store in stores
    ]


# --- the member page ---------------------------------------------------------------------


def member_coupon_counts(*, member_id: int, programme_ids: Collection[int] | None = None) -> dict[str, int]:
    """How many coupons the member has in each status (issued and still held, redeemed, expired, withdrawn), of
    the programmes named (or all)."""
    counts = dict.fromkeys(Coupon.Status.values, 0)
    rows = (
        _of_programmes(Coupon.objects.filter(member_id=member_id), programme_ids)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def member_coupons(*, member_id: int, limit: int = 10, programme_ids: Collection[int] | None = None) -> list[Coupon]:
    """The member's coupons (of the programmes named, or all) still held, soonest to lapse first, then the latest
    of the others."""
    coupons = _of_programmes(Coupon.objects.filter(member_id=member_id), programme_ids)
    coupons = coupons.select_related("template", "issued_at_store")
    held = list(coupons.filter(status=Coupon.Status.ISSUED).order_by("valid_until", "pk")[:limit])
    if len(held) < limit:
        others = coupons.exclude(status=Coupon.Status.ISSUED).order_by("-issued_at", "-pk")
        held += list(others[: limit - len(held)])
    return held


def _of_programmes(coupons, programme_ids: Collection[int] | None):
    return coupons if programme_ids is None else coupons.filter(template__programme_id__in=programme_ids)
