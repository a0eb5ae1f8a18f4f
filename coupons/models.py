"""Receipt coupons: the operators' templates, the coupons issued from them, and the item categories of
earnings that the category condition counts.

A template's condition and where its coupons can be used are plain columns and JSON lists, so that the
active templates of a programme load in one query at every earn. A coupon is redeemed once: its row is
locked for the redemption, and the redemption's idempotency key is unique.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Entry, Funder, Programme
from stores.models import Store, Terminal

# 32 letters and digits without 0/O and 1/I, which are misread on a receipt; 8 of them are 40 bits.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_coupon_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class CouponTemplate(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    class Benefit(models.TextChoices):
        DISCOUNT_YEN = "discount_yen", _("Discount in yen, honoured by the store")
        BONUS_POINTS = "bonus_points", _("Bonus points when presented")

    class Condition(models.TextChoices):
        NTH_PURCHASE_AT_STORE = "nth_purchase_at_store", _("N-th purchase at the same store")
        CATEGORY_PURCHASES = "category_purchases", _("Purchases from an item category")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("coupon name"), max_length=60, help_text=_("Printed on the receipt."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    benefit = models.CharField(_("benefit"), max_length=14, choices=Benefit.choices, default=Benefit.DISCOUNT_YEN)
    discount_yen = models.PositiveIntegerField(_("discount (yen)"), default=0)
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    funder = models.CharField(
        _("bonus funded by"),
        max_length=12,
        choices=Funder.choices,
        default=Funder.SECRETARIAT,
        help_text=_("For bonus points: the secretariat, or the store where the coupon is redeemed."),
    )
    condition = models.CharField(
        _("condition"), max_length=24, choices=Condition.choices, default=Condition.NTH_PURCHASE_AT_STORE
    )
    purchases_needed = models.PositiveSmallIntegerField(
        _("number of purchases (N)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("The coupon is issued on the purchase that makes this number, the purchase itself included."),
    )
    within_days = models.PositiveSmallIntegerField(
        _("within (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3660)],
        help_text=_(
            "Only purchases of the last this many days count (90 = the purchase and the 90 days before it). "
            "Empty: no limit."
        ),
    )
    item_category = models.CharField(
        _("item category"),
        max_length=40,
        blank=True,
        help_text=_("For the item category condition: the category as the terminals send it."),
    )
    min_amount_yen = models.PositiveIntegerField(
        _("minimum purchase (yen)"),
        default=0,
        help_text=_("Only purchases of at least this amount count, the one at the till included."),
    )
    starts_at = models.DateTimeField(_("issued from"))
    ends_at = models.DateTimeField(_("issued until (exclusive)"))
    valid_days = models.PositiveSmallIntegerField(
        _("validity (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3660)],
        help_text=_("Counted from the day of issue: 30 = the day of issue and the 29 days after it."),
    )
    store_ids = models.JSONField(_("usable at these stores"), default=list, blank=True)
    categories = models.JSONField(_("usable in these store categories"), default=list, blank=True)
    limit_per_member = models.PositiveSmallIntegerField(
        _("limit per member"),
        null=True,
        blank=True,
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("How many coupons of this kind one member can receive. Empty: no limit."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["pk"]
        indexes = [models.Index(fields=["programme", "status", "ends_at"], name="coupontemplate_active")]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="coupontemplate_period_not_empty"),
            models.CheckConstraint(
                condition=Q(benefit="discount_yen", discount_yen__gt=0, bonus_points=0)
                | Q(benefit="bonus_points", bonus_points__gt=0, discount_yen=0),
                name="coupontemplate_one_benefit",
            ),
            models.CheckConstraint(
                condition=Q(condition="nth_purchase_at_store") | ~Q(item_category=""),
                name="coupontemplate_category_named",
            ),
            models.CheckConstraint(condition=Q(purchases_needed__gte=1), name="coupontemplate_purchases_positive"),
            models.CheckConstraint(condition=Q(valid_days__gte=1), name="coupontemplate_validity_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def usable_anywhere(self) -> bool:
        return not self.store_ids and not self.categories

    def usable_at(self, store: Store) -> bool:
        """Anywhere in the programme when no store and no category is chosen; else at the chosen stores and at
        every store of the chosen categories."""
        return self.usable_anywhere or store.pk in self.store_ids or store.category in self.categories


class Coupon(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REDEEMED = "redeemed", _("Redeemed")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn (its purchase was voided)")

    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("coupon template")
    )
    # The index on (member, template, issued_at) serves lookups by member.
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("member")
    )
    code = models.CharField(_("code"), max_length=CODE_LENGTH, unique=True, default=new_coupon_code, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(_("issued at"))
    issued_at_store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued at store")
    )
    issued_by = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuing earning"))
    valid_until = models.DateField(_("valid until"))
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    redeemed_at_store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("redeemed at store")
    )
    redeemed_by_terminal = models.ForeignKey(
        Terminal, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("terminal")
    )
    redemption_key = models.CharField(
        _("redemption idempotency key"), max_length=200, null=True, blank=True, unique=True
    )
    bonus = models.OneToOneField(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("bonus entry")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        indexes = [
            # The per-member limit and the restart of the count after an issue.
            models.Index(fields=["member", "template", "issued_at"], name="coupon_member_template"),
            # The changelist filtered by status, newest first.
            models.Index(fields=["status", "-issued_at"], name="coupon_status_recent"),
            # The report: by issue and by redemption date.
            models.Index(fields=["issued_at"], name="coupon_issued_at"),
            models.Index(fields=["redeemed_at"], condition=Q(redeemed_at__isnull=False), name="coupon_redeemed_at"),
            # The nightly expiry.
            models.Index(fields=["valid_until"], condition=Q(status="issued"), name="coupon_open_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status="redeemed", redeemed_at__isnull=False, redeemed_at_store__isnull=False)
                    & Q(redemption_key__isnull=False)
                )
                | (~Q(status="redeemed") & Q(redeemed_at__isnull=True) & Q(redemption_key__isnull=True)),
                name="coupon_redeemed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return self.printed_code

    @property
    def printed_code(self) -> str:
        """As printed on the receipt: ABCD-EFGH."""
        half = CODE_LENGTH // 2
        return f"{self.code[:half]}-{self.code[half:]}"
