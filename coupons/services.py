"""Every write of the coupons app: coupons issued on an earning, a redemption at a till, the nightly expiry,
and the operators' changes to templates."""

from __future__ import annotations

import datetime
import unicodedata

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.services import PromotionSummaries, audited_promotion_save
from common.snapshots import RunningRows
from coupons import conditions, errors, sql
from coupons.models import CODE_LENGTH, Coupon, CouponTemplate, new_coupon_code
from members.models import Member
from points import errors as ledger_errors
from points import services as points_services
from points.models import Entry
from points.services import Posting, programme_for_store
from stores.models import Store, Terminal

# Longer item categories are cut to what the history keeps (the API allows 40 characters).
# A new code colliding with an existing one is a one-in-a-trillion event; a few retries are plenty.
CODE_ATTEMPTS = 5


_ACTIVE = RunningRows(
    model=CouponTemplate,
    active=lambda programme_id: CouponTemplate.objects.filter(
        programme_id=programme_id, status=CouponTemplate.Status.ACTIVE
    ).order_by("pk"),
)


def coupon_templates_active(*, programme_id: int, at: datetime.datetime) -> list[CouponTemplate]:
    """The programme's templates issuing coupons at a moment (one small query while they are unchanged)."""
    return _ACTIVE.running(programme_id, at)


def coupons_after_earn(
    *, posting: Posting, store: Store, occurred_at: datetime.datetime, item_categories: frozenset[str]
) -> list[Coupon]:
    """Issue the coupons whose condition the earning meets (its item categories as the till recorded them,
    `points_item_categories_record`).

    Runs in the earning's transaction, right after the earning: the account is row-locked, so two earnings of one
    member are counted one after the other and the limit per member holds. A retry of the earning (a
    replayed posting) gets back the coupons the first one issued.
    """
    if not posting.entries:
        return []
    earn = posting.entries[0]
    if posting.replayed:
        return list(Coupon.objects.filter(issued_by=earn).select_related("template").order_by("pk"))
    templates = coupon_templates_active(programme_id=posting.account.programme_id, at=occurred_at)
    if not templates:
        return []
    purchase = conditions.Purchase(
        earn_id=earn.pk,
        account_id=posting.account.pk,
        member_id=posting.account.member_id,
        store_id=store.pk,
        amount_yen=earn.amount_yen or 0,
        occurred_at=occurred_at,
        item_categories=frozenset(item_categories),
    )
    return _issue(conditions.templates_met(templates, purchase), purchase)


def _valid_until(template: CouponTemplate, issued_at: datetime.datetime) -> datetime.date:
    return timezone.localtime(issued_at).date() + datetime.timedelta(days=template.valid_days - 1)


def _issue(templates: list[CouponTemplate], purchase: conditions.Purchase) -> list[Coupon]:
    """One coupon of each template, written together."""
    coupons = [
        Coupon(
            template=template,
            member_id=purchase.member_id,
            code=new_coupon_code(),
            issued_at=purchase.occurred_at,
            issued_at_store_id=purchase.store_id,
            issued_by_id=purchase.earn_id,
            valid_until=_valid_until(template, purchase.occurred_at),
        )
        for template in templates
    ]
    pending = coupons
    for _attempt in range(CODE_ATTEMPTS):
        if not pending:
            return coupons
        pending = sql.coupons_insert(pending)
        for coupon in pending:
            coupon.code = new_coupon_code()
    raise IntegrityError("no free coupon code after several attempts")


def coupons_after_void(*, original_entry: Entry) -> list[Coupon]:
    """After a void or refund of a purchase (points_void), in its transaction: once nothing is left of the
    purchase, the coupons it earned and that were not used are withdrawn (a redeemed one was honoured and
    stays). Returns the purchase's withdrawn coupons, for the receipt."""
    earns = Entry.objects.filter(operation=original_entry.operation, kind=Entry.Kind.EARN)
    earn = earns.first()
    if earn is None:
        return []
    coupons = Coupon.objects.filter(issued_by=earn)
    reversed_points = -(Entry.objects.filter(reverses=earn).aggregate(n=Sum("points"))["n"] or 0)
    if reversed_points >= earn.points:
        coupons.filter(status=Coupon.Status.ISSUED).update(status=Coupon.Status.WITHDRAWN)
    return list(coupons.filter(status=Coupon.Status.WITHDRAWN).select_related("template").order_by("pk"))


# --- redemption at a till ----------------------------------------------------------------


def coupon_code_normalise(code: str) -> str:
    """The code as stored: full-width characters made half-width, upper case, without hyphens and spaces."""
    normalised = unicodedata.normalize("NFKC", code or "").upper()
    return "".join(character for character in normalised if character not in "- \t")


def coupon_redeem(
    *,
    code: str,
    terminal: Terminal,
    idempotency_key: str,
    occurred_at: datetime.datetime | None = None,
    receipt_no: str = "",
) -> Coupon:
    """Redeem a coupon at a terminal's store, once.

    A retry with the same key gets back the same coupon without redeeming it again; any other attempt on a
    redeemed coupon is refused. A bonus-points coupon gives its points in the same transaction.
    """
    code = coupon_code_normalise(code)
    occurred_at = occurred_at or timezone.now()
    store = terminal.store
    done = Coupon.objects.filter(redemption_key=idempotency_key).select_related("template", "bonus").first()
    if done is not None:
        if done.code != code:
            raise errors.CouponKeyReused()
        return done
    if len(code) != CODE_LENGTH:
        raise errors.CouponNotFound()
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().filter(code=code).first()
        if coupon is None:
            raise errors.CouponNotFound()
        if coupon.redemption_key == idempotency_key:
            # The first attempt with this key committed while this one waited for the lock.
            return Coupon.objects.select_related("template", "bonus").get(pk=coupon.pk)
        if coupon.status == Coupon.Status.REDEEMED:
            raise errors.CouponAlreadyRedeemed()
        if coupon.status == Coupon.Status.WITHDRAWN:
            raise errors.CouponWithdrawn()
        # A suspended (or ended) membership is refused at the till, discount coupons included; the coupon
        # stays issued and can be used once the member is reinstated.
        points_services.member_check_usable(member_id=coupon.member_id)
        template = CouponTemplate.objects.select_related("programme").get(pk=coupon.template_id)
        coupon.template = template
        _check_usable(coupon, store, occurred_at)
        if template.benefit == CouponTemplate.Benefit.BONUS_POINTS:
            coupon.bonus = _give_bonus(coupon, terminal, idempotency_key, occurred_at, receipt_no)
        coupon.status = Coupon.Status.REDEEMED
        coupon.redeemed_at = occurred_at
        coupon.redeemed_at_store = store
        coupon.redeemed_by_terminal = terminal
        coupon.redemption_key = idempotency_key
        coupon.save(
            update_fields=[
                "status",
                "redeemed_at",
                "redeemed_at_store",
                "redeemed_by_terminal",
                "redemption_key",
                "bonus",
            ]
        )
    return coupon


def _check_usable(coupon: Coupon, store: Store, occurred_at: datetime.datetime) -> None:
    template = coupon.template
    try:
        programme_for_store(store=store, programme=template.programme)
    except ledger_errors.StoreNotInProgramme:
        raise errors.CouponOtherProgramme() from None
    if coupon.status == Coupon.Status.EXPIRED or timezone.localtime(occurred_at).date() > coupon.valid_until:
        raise errors.CouponExpired()
    if not template.usable_at(store):
        raise errors.CouponNotUsableHere()


def _give_bonus(coupon: Coupon, terminal: Terminal, key: str, occurred_at, receipt_no: str):
    """The coupon's points, as a bonus entry of the member's account with the template's funder, issued by the
    store where the coupon is redeemed (points.services.points_coupon_bonus writes it)."""
    template = coupon.template
    posting = points_services.points_coupon_bonus(
        member_id=coupon.member_id,
        programme=template.programme,
        store=terminal.store,
        terminal=terminal,
        points=template.bonus_points,
        funder=template.funder,
        reason=template.name,
        idempotency_key=key,
        occurred_at=occurred_at,
        receipt_no=receipt_no,
    )
    return posting.entries[0]


# --- the nightly expiry ------------------------------------------------------------------


def coupons_expire_lapsed(*, today: datetime.date | None = None) -> int:
    """Mark the coupons whose last valid day has passed as expired; returns how many."""
    today = today or timezone.localdate()
    return Coupon.objects.filter(status=Coupon.Status.ISSUED, valid_until__lt=today).update(
        status=Coupon.Status.EXPIRED
    )


# --- the operators' changes --------------------------------------------------------------


TEMPLATE_SUMMARIES = PromotionSummaries(
    created=gettext_noop("Created a coupon template"),
    activated=gettext_noop("Activated a coupon template"),
    changed_running=gettext_noop("Changed a running coupon template"),
    changed=gettext_noop("Changed a coupon template"),
)


def coupon_template_save(*, template: CouponTemplate, staff, changed: list[str] | None = None) -> CouponTemplate:
    """Create or change a template; every change goes to the audit trail, saying when it was running."""
    return audited_promotion_save(template, staff=staff, changed=changed, summaries=TEMPLATE_SUMMARIES)


def coupon_template_set_status(*, template: CouponTemplate, status: str, staff) -> CouponTemplate:
    template.status = status
    return coupon_template_save(template=template, staff=staff, changed=["status"])


# --- the member's lifecycle ----------------------------------------------------------------------------------


def coupons_transfer(*, source: Member, target: Member) -> int:
    """On a merge: every coupon of source now belongs to target, in its state (an issued coupon is still
    redeemable once, by its code). Returns how many moved. Assumes the caller's transaction, which has locked
    both members."""
    return Coupon.objects.filter(member=source).update(member=target)
