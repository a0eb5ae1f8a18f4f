"""Card-linked offers: a store's promise of money or points back on a purchase, shown only to the members
it targets (whose consent to targeted offers holds), activated by the member, matched to purchases at the
till or in a card issuer's file, and paid after a waiting period.

An offer's budget and a member's uses are counters moved by conditional UPDATEs (`used + x <= budget`), so
concurrent purchases never pass them. A `Redemption` is one qualifying purchase with its benefit: pending
until its due date, then paid (points through the ledger, funded by the merchant; or yen, a payout line the
monthly close bills), or cancelled (the purchase voided before) or reversed (returned after). A return after
payment takes back what the rest of the purchase no longer earns: a `Reversal`, whole or in part.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Entry, Funder, Programme
from ranks.models import Rank
from stores.models import Merchant, Store


class Offer(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        STOPPED = "stopped", _("Stopped")

    class Benefit(models.TextChoices):
        YEN = "yen", _("Yen back")
        POINTS = "points", _("Points")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="offers", verbose_name=_("merchant"))
    stores = models.ManyToManyField(Store, related_name="offers", verbose_name=_("stores"))
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
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
    min_purchase_yen = models.PositiveIntegerField(_("minimum purchase (yen)"), default=0)
    max_purchase_yen = models.PositiveIntegerField(_("maximum purchase (yen)"), null=True, blank=True)
    benefit = models.CharField(_("benefit"), max_length=6, choices=Benefit.choices, default=Benefit.YEN)
    benefit_fixed = models.PositiveIntegerField(_("fixed benefit (yen or points)"), default=0)
    benefit_rate_bp = models.PositiveIntegerField(
        _("benefit rate (1/100 %)"), default=0, help_text=_("500 = 5 % of the purchase, rounded down.")
    )
    benefit_cap = models.PositiveIntegerField(_("benefit cap per purchase"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("times per member"), default=1)
    budget = models.BigIntegerField(_("total budget (yen or points)"))
    # The benefits promised so far (pending and paid), moved only by conditional UPDATEs.
    budget_used = models.BigIntegerField(_("budget used"), default=0, editable=False)
    funder = models.CharField(_("paid by"), max_length=12, choices=Funder.choices, default=Funder.STORE)
    fee_per_redemption_yen = models.PositiveIntegerField(_("fee per redemption (yen, before tax)"), default=0)
    waiting_days = models.PositiveSmallIntegerField(
        _("waiting period (days)"), default=30, help_text=_("Paid this many days after the purchase's payment date.")
    )
    # Targeting: every condition given must hold; only members consenting to targeted offers are chosen.
    genders = models.JSONField(_("genders"), default=list, blank=True)
    age_min = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("age to"), null=True, blank=True)
    min_rank = models.ForeignKey(
        Rank, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("rank or above")
    )
    not_visited_days = models.PositiveSmallIntegerField(
        _("has not visited the merchant's stores in (days)"), null=True, blank=True
    )
    shops_in_category = models.CharField(
        _("has shopped in the store category"), max_length=20, choices=Store.Category.choices, blank=True
    )
    postal_prefixes = models.JSONField(_("postal code prefixes"), default=list, blank=True)
    # Areas (geohash cells, postal areas) the app receives and decides on the phone: never a member's position.
    areas = models.JSONField(_("areas"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("card-linked offer")
        verbose_name_plural = _("card-linked offers")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="offer_period_order"),
            models.CheckConstraint(
                condition=Q(budget_used__gte=0) & Q(budget_used__lte=F("budget")), name="offer_budget_holds"
            ),
            models.CheckConstraint(condition=Q(per_member_limit__gte=1), name="offer_per_member_limit_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def benefit_for(self, amount_yen: int) -> int:
        """The benefit on a purchase of this amount (fixed plus the rate, rounded down, capped)."""
        value = self.benefit_fixed + amount_yen * self.benefit_rate_bp // 10_000
        if self.benefit_cap is not None:
            value = min(value, self.benefit_cap)
        return value


class PaymentCard(models.Model):
    """A member's payment card as the card issuer names it (a token, never the card number), linking the
    issuer's transaction files to the member."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    token = models.CharField(_("card token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("linked payment card")
        verbose_name_plural = _("linked payment cards")

    def __str__(self) -> str:
        return f"…{self.token[-4:]}"


class Activation(models.Model):
    """A member's activation of an offer (needed before it pays), with the uses counted against its limit."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="activations", verbose_name=_("offer"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    activated_at = models.DateTimeField(_("activated at"))
    uses = models.PositiveIntegerField(_("uses"), default=0, editable=False)

    class Meta:
        verbose_name = _("offer activation")
        verbose_name_plural = _("offer activations")
        constraints = [
            models.UniqueConstraint(fields=["offer", "member"], name="activation_once"),
            models.CheckConstraint(condition=Q(uses__gte=0), name="activation_uses_not_negative"),
        ]
        indexes = [models.Index(fields=["member", "offer"], name="activation_member")]

    def __str__(self) -> str:
        return f"{self.offer} / {self.member_id}"


class CardTransaction(models.Model):
    """A line of a card issuer's transaction file: a purchase, or a return naming its purchase."""

    transaction_id = models.CharField(_("transaction id"), max_length=64, unique=True)
    token = models.CharField(_("card token"), max_length=64, db_index=True)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    occurred_at = models.DateTimeField(_("occurred at"))
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="returns", verbose_name=_("returns")
    )
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("card transaction")
        verbose_name_plural = _("card transactions")

    def __str__(self) -> str:
        return self.transaction_id


class Redemption(models.Model):
    """One qualifying purchase and its benefit: pending until due, then paid, cancelled or reversed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled (voided before payment)")
        REVERSED = "reversed", _("Reversed (returned after payment)")

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("offer"))
    activation = models.ForeignKey(Activation, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    # What qualified: the till's earn entry, or a card transaction ("till:<entry id>", "card:<transaction id>").
    source = models.CharField(_("source"), max_length=80)
    purchase = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    card_transaction = models.ForeignKey(
        CardTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount_yen = models.BigIntegerField(_("purchase (yen)"))
    benefit = models.BigIntegerField(_("benefit (yen or points)"))
    fee_yen = models.BigIntegerField(_("fee (yen, before tax)"))
    occurred_at = models.DateTimeField(_("purchased at"))
    due_on = models.DateField(_("due on"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True, db_index=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True, db_index=True)
    # The points paid (a bonus entry funded by the merchant); what a return takes back is in its reversals.
    payout_entry = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("offer redemption")
        verbose_name_plural = _("offer redemptions")
        constraints = [
            models.UniqueConstraint(fields=["offer", "source"], name="redemption_once_per_source"),
            models.CheckConstraint(condition=Q(benefit__gt=0), name="redemption_benefit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.offer} {self.benefit:,d}"


class Reversal(models.Model):
    """A paid benefit taken back, whole or in part, by a return after payment (a void or partial refund at
    the till, a return line in the card file): what the return left of the purchase no longer earns it. The
    close nets it in the period it was recorded; points are taken back by a void of the bonus paid."""

    redemption = models.ForeignKey(
        Redemption, on_delete=models.PROTECT, related_name="reversals", verbose_name=_("redemption")
    )
    benefit = models.BigIntegerField(_("benefit taken back (yen or points)"))
    # The whole benefit: the redemption no longer counts, and its fee is given back to the merchant.
    whole = models.BooleanField(_("whole"), default=False)
    fee_yen = models.BigIntegerField(_("fee given back (yen, before tax)"), default=0)
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    points_entry = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("offer benefit taken back")
        verbose_name_plural = _("offer benefits taken back")
        constraints = [models.CheckConstraint(condition=Q(benefit__gt=0), name="reversal_benefit_positive")]

    def __str__(self) -> str:
        return f"{self.redemption} −{self.benefit:,d}"


class OfferPolicy(models.Model):
    """A programme's rules for offers: whether merchants create their own in the portal (as drafts the
    secretariat publishes), and the fee per benefit paid that those offers carry."""

    programme = models.OneToOneField(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    portal_creation = models.BooleanField(_("merchants create offers in the portal"), default=False)
    fee_per_redemption_yen = models.PositiveIntegerField(_("fee per redemption (yen, before tax)"), default=0)

    class Meta:
        verbose_name = _("offer policy")
        verbose_name_plural = _("offer policies")

    def __str__(self) -> str:
        return str(self.programme)
