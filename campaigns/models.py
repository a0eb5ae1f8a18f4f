"""Bonus-point campaigns: the operators' rules, and the record of every bonus they gave and why.

A campaign's conditions are plain columns and JSON lists (store ids, categories,
genders, postal prefixes), so that the active campaigns of a programme load in
one query at every earn. The budget is counted on the campaign row, under its
row lock, so that it is never exceeded by concurrent earnings.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Account, Entry, Funder, Programme


class Campaign(models.Model):
    class Kind(models.TextChoices):
        MULTIPLIER = "multiplier", _("Multiplier on base points")
        FIXED = "fixed", _("Fixed bonus points")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    class Registered(models.TextChoices):
        ANY = "any", _("Registered or not")
        REGISTERED = "registered", _("Registered members only")
        UNREGISTERED = "unregistered", _("Unregistered cards only")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("campaign name"), max_length=60, help_text=_("Printed on the receipt next to the bonus."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MULTIPLIER)
    multiplier_percent = models.PositiveIntegerField(
        _("multiplier (%)"),
        default=200,
        validators=[MinValueValidator(100), MaxValueValidator(10_000)],
        help_text=_("200 = double points: the bonus is the base points once more (rounded down)."),
    )
    fixed_points = models.PositiveIntegerField(_("fixed bonus (points)"), default=0)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at (exclusive)"))
    # Monday = 0; empty = every day.
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    hour_from = models.PositiveSmallIntegerField(
        _("from hour"), null=True, blank=True, validators=[MaxValueValidator(23)]
    )
    hour_to = models.PositiveSmallIntegerField(
        _("until hour (exclusive)"), null=True, blank=True, validators=[MaxValueValidator(24)]
    )
    store_ids = models.JSONField(_("only at these stores"), default=list, blank=True)
    excluded_store_ids = models.JSONField(_("not at these stores"), default=list, blank=True)
    categories = models.JSONField(_("only in these store categories"), default=list, blank=True)
    excluded_categories = models.JSONField(_("not in these store categories"), default=list, blank=True)
    genders = models.JSONField(_("genders"), default=list, blank=True)
    age_min = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("age up to (inclusive)"), null=True, blank=True)
    postal_prefixes = models.JSONField(_("postal code prefixes"), default=list, blank=True)
    registered = models.CharField(_("registration"), max_length=12, choices=Registered.choices, default=Registered.ANY)
    birthday_month = models.BooleanField(_("in the member's birthday month"), default=False)
    min_rank = models.ForeignKey(
        "ranks.Rank",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("members of this rank or above"),
        help_text=_("The member's rank in the campaign's programme at the purchase. Empty: any rank."),
    )
    min_amount_yen = models.PositiveIntegerField(_("minimum purchase (yen)"), default=0)
    first_purchase_at_store = models.BooleanField(_("first purchase at the store"), default=False)
    item_categories = models.JSONField(_("item categories"), default=list, blank=True)
    budget_points = models.PositiveBigIntegerField(
        _("budget (points)"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    budget_used = models.PositiveBigIntegerField(_("budget used (points)"), default=0, editable=False)
    cap_per_member_day = models.PositiveIntegerField(_("cap per member and day (points)"), null=True, blank=True)
    cap_per_member = models.PositiveIntegerField(_("cap per member (points)"), null=True, blank=True)
    funder = models.CharField(_("funded by"), max_length=12, choices=Funder.choices, default=Funder.SECRETARIAT)
    usable_only_at = models.ForeignKey(
        "stores.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("points usable only at this company's stores"),
        help_text=_("A company's own campaign: its points are spent only at the company's stores. Empty: anywhere."),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=100, help_text=_("Lower comes first."))
    exclusive = models.BooleanField(
        _("excludes other campaigns"),
        default=False,
        help_text=_("When it applies, no other campaign applies to the purchase."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["priority", "pk"]
        indexes = [models.Index(fields=["programme", "status", "ends_at"], name="campaign_active")]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="campaign_period_not_empty"),
            models.CheckConstraint(
                condition=Q(budget_points__isnull=True) | Q(budget_used__lte=F("budget_points")),
                name="campaign_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignApplication(models.Model):
    """One bonus a campaign gave on one earning, and why: what an operator reads to explain it."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="applications", verbose_name=_("campaign")
    )
    bonus = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("bonus entry"))
    earn = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("earning"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    day = models.DateField(_("day"))
    points = models.PositiveIntegerField(_("points"))
    reason = models.CharField(_("why"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign bonus")
        verbose_name_plural = _("campaign bonuses")
        indexes = [models.Index(fields=["campaign", "member", "day"], name="application_member_day")]

    def __str__(self) -> str:
        return f"{self.campaign} +{self.points}"
