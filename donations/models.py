"""Point donations: the organisations a programme's secretariat registers, each donation a member makes to
one (its points leave the member's account as a `donation` entry of the ledger), and the monthly
settlement that pays each organisation what it was given.

1 point = 1 yen: the programme has no other rate for points leaving it (DOMAIN: "1 point = 1 yen when
spent"), so a settlement's yen are its points (`YEN_PER_POINT`), frozen on the row when it is closed.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from billing.zengin import ZenginError, to_halfwidth_kana
from members.models import Member
from points.models import Entry, Programme
from stores.models import Merchant, account_number_validator, bank_code_validator, branch_code_validator

YEN_PER_POINT = 1


def zengin_text_validator(value: str) -> None:
    """Refuse a name that a bank transfer file cannot carry (kanji, symbols such as ・ or &)."""
    try:
        to_halfwidth_kana(value)
    except ZenginError as error:
        raise ValidationError(str(error)) from None


class Organisation(models.Model):
    """Who members may give points to: a charity, a school's parents' association, a disaster fund."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("organisation name"), max_length=100)
    purpose = models.TextField(_("purpose"), help_text=_("What the donations are used for; shown to members."))
    website = models.URLField(_("website"), blank=True)
    active_from = models.DateField(
        _("accepts donations from"), null=True, blank=True, help_text=_("Empty: from the start.")
    )
    active_until = models.DateField(
        _("accepts donations until (not included)"),
        null=True,
        blank=True,
        help_text=_("The first day donations are no longer accepted. Empty: with no end."),
    )
    is_public = models.BooleanField(
        _("shown on the public page"), default=True, help_text=_("Its running total on /donations/.")
    )
    position = models.PositiveSmallIntegerField(_("display order"), default=0)
    # Where the monthly settlement is paid (a 全銀 総合振込 line), kept as stores.Merchant keeps a store's.
    bank_code = models.CharField(_("bank code"), max_length=4, validators=[bank_code_validator])
    bank_name_kana = models.CharField(
        _("bank name (kana)"), max_length=15, blank=True, validators=[zengin_text_validator]
    )
    branch_code = models.CharField(_("branch code"), max_length=3, validators=[branch_code_validator])
    branch_name_kana = models.CharField(
        _("branch name (kana)"), max_length=15, blank=True, validators=[zengin_text_validator]
    )
    account_type = models.CharField(
        _("account type"), max_length=10, choices=Merchant.AccountType.choices, default=Merchant.AccountType.ORDINARY
    )
    account_number = models.CharField(_("account number"), max_length=7, validators=[account_number_validator])
    account_holder_kana = models.CharField(
        _("account holder (kana)"), max_length=100, validators=[zengin_text_validator]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("donation organisation")
        verbose_name_plural = _("donation organisations")
        ordering = ["programme", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="organisation_name_per_programme"),
            models.CheckConstraint(
                condition=Q(active_from__isnull=True)
                | Q(active_until__isnull=True)
                | Q(active_from__lt=F("active_until")),
                name="organisation_active_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def last_day(self) -> datetime.date | None:
        """The last day it takes donations, when it has an end."""
        return self.active_until - datetime.timedelta(days=1) if self.active_until else None

    def is_active_on(self, day) -> bool:
        """Whether it takes donations on `day`: [active_from, active_until), either end open when empty."""
        return (self.active_from is None or self.active_from <= day) and (
            self.active_until is None or day < self.active_until
        )


class DonationSettlement(models.Model):
    """What one organisation is paid for one month's close: its donations not settled before, frozen."""

    class Status(models.TextChoices):
        CLOSED = "closed", _("To be paid")
        PAID = "paid", _("Paid")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="settlements", verbose_name=_("organisation")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    starts_at = models.DateTimeField(_("period starts at"))
    ends_at = models.DateTimeField(_("period ends at (exclusive)"))
    donation_count = models.PositiveIntegerField(_("number of donations"))
    total_points = models.BigIntegerField(_("points"))
    total_yen = models.BigIntegerField(_("amount (yen)"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.CLOSED)
    # The notice to the organisation, rendered once after the close and never redone.
    notice_pdf = models.FileField(_("notice PDF"), upload_to="donations/%Y/%m/", blank=True)
    notice_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    closed_at = models.DateTimeField(_("closed at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment recorded by"),
    )

    class Meta:
        verbose_name = _("donation settlement")
        verbose_name_plural = _("donation settlements")
        ordering = ["-year", "-month", "organisation"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year", "month"], name="settlement_once_per_month"),
            models.CheckConstraint(
                condition=Q(donation_count__gte=1, total_points__gte=1, total_yen__gte=1),
                name="settlement_not_empty",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False), name="settlement_paid_has_date"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="settlement_status")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.label}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月分"


class Donation(models.Model):
    """One member's gift of points to an organisation; its points left the account as `entry`."""

    class Channel(models.TextChoices):
        SITE = "site", _("Member site")
        DESK = "desk", _("Secretariat's desk")
        API = "api", _("App")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="donations", verbose_name=_("organisation")
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("ledger entry"))
    points = models.BigIntegerField(_("points"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff"),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=190, unique=True)
    created_at = models.DateTimeField(_("donated at"))
    settlement = models.ForeignKey(
        DonationSettlement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
        verbose_name=_("paid in settlement"),
    )

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The close: an organisation's donations not settled yet.
            models.Index(
                fields=["organisation", "created_at"], condition=Q(settlement__isnull=True), name="donation_unsettled"
            ),
            models.Index(fields=["member", "created_at"], name="donation_member"),
            models.Index(fields=["created_at"], name="donation_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=1), name="donation_points_positive"),
            models.CheckConstraint(
                condition=~Q(channel="desk") | Q(staff__isnull=False), name="donation_desk_names_staff"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.points:,} pt"

    @property
    def yen(self) -> int:
        return self.points * YEN_PER_POINT
