"""The point ledger.

An Account holds one member's points in one programme. Every change is an
Entry (append-only; PostgreSQL refuses UPDATE and DELETE by trigger). Points
that come in form Lots with an expiry date; points that go out consume lots,
oldest expiry first, and each consumption is a LotUse, so any point can be
traced from the store that issued it to the entry that used it.

Invariants (checked by `manage.py verify_ledger`):
- account.balance - account.debt == sum of the account's entries;
- account.balance == sum of the remaining points of its lots;
- lot.points - lot.remaining == sum of the lot's uses;
- balance, debt and lot remainders are never negative, and balance or debt is zero.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Card, Member
from stores.models import Store, Terminal, postal_code_validator


class Programme(models.Model):
    code = models.CharField(_("programme code"), max_length=20, unique=True)
    name = models.CharField(_("programme name"), max_length=100)
    expiry_months = models.PositiveSmallIntegerField(
        _("validity (months)"),
        default=24,
        help_text=_("Points are valid until the end of the month this many months after they were earned."),
    )
    max_backdate_days = models.PositiveSmallIntegerField(
        _("oldest accepted transaction (days)"),
        default=7,
        help_text=_("Offline transactions older than this are refused."),
    )
    spend_anywhere = models.BooleanField(_("points can be spent at any participating store"), default=True)
    sells_points = models.BooleanField(
        _("sells points"),
        default=False,
        help_text=_(
            "Members may buy points (1 point = 1 yen) at the desk or a till: a prepaid payment instrument under "
            "the Payment Services Act, kept apart from free points."
        ),
    )
    spend_purchased_first = models.BooleanField(
        _("spend purchased points first"),
        default=False,
        help_text=_("Off: free points are spent first (they are the ones that expire unused)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The secretariat that runs the programme, as it names itself on invoices, statements and exchange slips.
    secretariat_name = models.CharField(
        _("secretariat name"),
        max_length=200,
        blank=True,
        help_text=_("Printed on every document; the programme name when empty."),
    )
    secretariat_postal_code = models.CharField(
        _("secretariat postal code"), max_length=8, blank=True, validators=[postal_code_validator]
    )
    secretariat_address = models.CharField(_("secretariat address"), max_length=300, blank=True)
    secretariat_phone = models.CharField(_("secretariat phone"), max_length=20, blank=True)
    stores = models.ManyToManyField(Store, through="Participation", related_name="programmes", verbose_name=_("stores"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def issuer_name(self) -> str:
        """Who issues the programme's documents: its secretariat, or the programme itself."""
        return self.secretariat_name or self.name


class Participation(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, verbose_name=_("programme"))
    store = models.ForeignKey(Store, on_delete=models.PROTECT, verbose_name=_("store"))
    accepts_spend = models.BooleanField(_("accepts points as payment"), default=True)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    is_primary = models.BooleanField(
        _("the store's primary programme"),
        default=False,
        help_text=_(
            "Where a store takes part in several programmes: a spend that names no programme is in this one, "
            "and its receipt line comes first. Without one, the programme the store joined first."
        ),
    )
    earn_rate_bp = models.PositiveIntegerField(
        _("earn rate in this programme (basis points)"),
        null=True,
        blank=True,
        help_text=_("Empty: the store's own rate. 100 = 1%."),
    )

    class Meta:
        verbose_name = _("participating store")
        verbose_name_plural = _("participating stores")
        constraints = [
            models.UniqueConstraint(fields=["programme", "store"], name="participation_unique"),
            models.UniqueConstraint(
                fields=["store"], condition=models.Q(is_primary=True), name="participation_one_primary"
            ),
            models.CheckConstraint(condition=models.Q(earn_rate_bp__lte=10000), name="participation_rate_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} / {self.store}"


class StaffProgramme(models.Model):
    """A programme a staff member works for. A company's own staff work for its programme only, and the back
    office shows them that programme's members, ledger, promotions, billing and reports and nothing of the
    others (common/scoping.py); staff with no row work for the whole group, as its secretariat does."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_programmes",
        limit_choices_to={"is_staff": True},
        verbose_name=_("staff member"),
    )
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))

    class Meta:
        verbose_name = _("programme of a staff member")
        verbose_name_plural = _("programmes of staff members")
        ordering = ["user__username", "programme__code"]
        constraints = [models.UniqueConstraint(fields=["user", "programme"], name="staffprogramme_unique")]

    def __str__(self) -> str:
        return f"{self.user} / {self.programme}"


class Account(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("member"))
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("programme")
    )
    balance = models.BigIntegerField(_("spendable points"), default=0)
    debt = models.BigIntegerField(
        _("debt"), default=0, help_text=_("Points voided after they were spent; repaid first by the next earnings.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("point account")
        verbose_name_plural = _("point accounts")
        constraints = [
            models.UniqueConstraint(fields=["member", "programme"], name="account_one_per_member_programme"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_not_negative"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="account_debt_not_negative"),
            models.CheckConstraint(condition=Q(balance=0) | Q(debt=0), name="account_balance_or_debt"),
        ]

    def __str__(self) -> str:
        return f"{self.member} / {self.programme.code}"

    @property
    def net(self) -> int:
        return self.balance - self.debt


class Funder(models.TextChoices):
    STORE = "store", _("The store")
    SECRETARIAT = "secretariat", _("The secretariat")


class Entry(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earn")
        BONUS = "bonus", _("Bonus")
        SPEND = "spend", _("Spend")
        VOID = "void", _("Void / refund")
        ADJUST = "adjust", _("Manual adjustment")
        TRANSFER = "transfer", _("Transfer")
        EXPIRE = "expire", _("Expiry")
        EXCHANGE = "exchange", _("Gift exchange")
        DONATION = "donation", _("Donation")
        PURCHASE = "purchase", _("Points bought")
        # Purchased points paid back in cash, which only the end of the programme allows (資金決済法).
        REFUND = "refund", _("Purchased points refunded")
        # An opening balance brought over from a programme's old system (one entry per lot), or, negative, its
        # rollback; never an earning: no report or close counts it as points issued.
        IMPORT = "import", _("Brought over from the old system")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.BigIntegerField(_("points"))
    # One business operation (a purchase with its bonuses, a transfer's two legs) shares an operation id.
    operation = models.UUIDField(_("operation"), default=uuid.uuid4, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    card = models.ForeignKey(
        Card, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("card")
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    terminal = models.ForeignKey(
        Terminal, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("terminal")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff"),
    )
    amount_yen = models.BigIntegerField(_("purchase amount (yen)"), null=True, blank=True)
    receipt_no = models.CharField(_("receipt number"), max_length=50, blank=True)
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals", verbose_name=_("reverses")
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Who pays for bonus points (the monthly close bills them): the store where they were earned, or the
    # secretariat. Blank for every other kind.
    funder = models.CharField(_("funded by"), max_length=12, choices=Funder.choices, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["account", "-recorded_at"], name="entry_account_recent"),
            models.Index(fields=["store", "recorded_at"], name="entry_store_recorded"),
            # The ledger changelist lists newest first, with id as tie-breaker.
            models.Index(fields=["kind", "-recorded_at", "-id"], name="entry_kind_recent"),
            models.Index(fields=["-recorded_at", "-id"], name="entry_recent_id"),
            # A terminal's day (the API's /day, the admin's count of today's transactions).
            models.Index(fields=["terminal", "recorded_at"], name="entry_terminal_recorded"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="entry_points_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind__in=["earn", "bonus"]) | Q(points__gt=0), name="entry_earn_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["spend", "expire", "exchange", "donation"]) | Q(points__lt=0),
                name="entry_spend_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_yen__isnull=True) | Q(amount_yen__gte=0), name="entry_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="bonus", funder__in=["store", "secretariat"]) | (~Q(kind="bonus") & Q(funder="")),
                name="entry_bonus_has_funder",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjust") | (~Q(reason="") & Q(staff__isnull=False)),
                name="entry_adjust_has_reason_and_staff",
            ),
            # An opening balance adds points; its rollback takes them back and names the entry it reverses.
            models.CheckConstraint(
                condition=~Q(kind="import")
                | Q(points__gt=0, reverses__isnull=True, amount_yen__isnull=True)
                | Q(points__lt=0, reverses__isnull=False, amount_yen__isnull=True),
                name="entry_import_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points:+d}"


class PurchaseCategory(models.Model):
    """An item category of an earning, as the till sent it: what the coupons' and campaigns' item category
    conditions count. Part of the purchase, written with it by the till (`points_item_categories_record`)."""

    # The unique (earn, category) and the history index serve lookups by earning and by account.
    earn = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("earning")
    )
    # The earning's account and time, copied so that the history is counted from one index.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("account")
    )
    category = models.CharField(_("item category"), max_length=40)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("item category of a purchase")
        verbose_name_plural = _("item categories of purchases")
        indexes = [models.Index(fields=["account", "category", "occurred_at"], name="purchasecategory_history")]
        constraints = [models.UniqueConstraint(fields=["earn", "category"], name="purchasecategory_once")]

    def __str__(self) -> str:
        return self.category


class Lot(models.Model):
    """Points that came into an account together and expire together."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots", verbose_name=_("account"))
    # The entry that brought the points in (an earn, a refund, a transfer's incoming leg).
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="lots", verbose_name=_("entry"))
    # The store that issued these points; a lot moved by a transfer keeps it.
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("issuing store")
    )
    origin = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved from lot"),
    )
    # Points a company issued to be spent only at its own stores (its campaign's); null: anywhere in the
    # programme. A lot moved or given back keeps it.
    merchant = models.ForeignKey(
        "stores.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("usable only at this company's stores"),
    )
    # Points bought for money (a prepaid payment instrument): never refunded in cash, reported at the base
    # dates. A lot moved or given back keeps it.
    purchased = models.BooleanField(_("purchased"), default=False, db_default=False)
    points = models.BigIntegerField(_("points"))
    remaining = models.BigIntegerField(_("remaining"))
    earned_at = models.DateTimeField(_("earned at"))
    expires_on = models.DateField(_("valid until"))

    class Meta:
        verbose_name = _("point lot")
        verbose_name_plural = _("point lots")
        indexes = [
            models.Index(
                fields=["account", "expires_on", "earned_at", "id"],
                condition=Q(remaining__gt=0),
                name="lot_open_fifo",
            ),
            models.Index(fields=["expires_on"], condition=Q(remaining__gt=0), name="lot_open_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="lot_points_positive"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")), name="lot_remaining_in_range"
            ),
        ]

    def __str__(self) -> str:
        return _("%(remaining)s/%(points)s points valid until %(date)s") % {
            "remaining": self.remaining,
            "points": self.points,
            "date": self.expires_on,
        }


class LotUse(models.Model):
    """Points of a lot taken by an outgoing entry (spend, void, expiry, transfer, debt repayment)."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="lot_uses", verbose_name=_("entry"))
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="uses", verbose_name=_("lot"))
    points = models.BigIntegerField(_("points"))

    class Meta:
        verbose_name = _("lot use")
        verbose_name_plural = _("lot uses")
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="lotuse_points_positive")]

    def __str__(self) -> str:
        return _("%(points)s points of lot %(lot)s used by entry %(entry)s") % {
            "points": self.points,
            "lot": self.lot_id,
            "entry": self.entry_id,
        }


class Checkpoint(models.Model):
    """How far the ledger has been verified (one row): every rule held for the entries, lots and lot uses up to
    these ids when a verification that read them passed. `manage.py verify_ledger` then reads only what came
    after (points/verification.py says exactly what it re-reads); `--full` reads everything and rewrites it."""

    # The standard rules (per account, per lot): the rows up to these ids are summed in CheckpointAccount.
    entry_through = models.BigIntegerField(_("entries verified through id"))
    lot_through = models.BigIntegerField(_("lots verified through id"))
    lotuse_through = models.BigIntegerField(_("lot uses verified through id"))
    # The entries recorded before this moment (the start of the day before the run, Tokyo time) are final.
    recorded_before = models.DateTimeField(_("entries recorded before"))
    # The deep rules (per-entry links) held through these ids; empty until a deep verification passed.
    deep_entry_through = models.BigIntegerField(_("links verified through entry id"), null=True, blank=True)
    deep_lot_through = models.BigIntegerField(_("links verified through lot id"), null=True, blank=True)
    deep_lotuse_through = models.BigIntegerField(_("links verified through lot use id"), null=True, blank=True)
    full_at = models.DateTimeField(_("last full verification"))
    verified_at = models.DateTimeField(_("last verification"))

    class Meta:
        verbose_name = _("ledger verification checkpoint")
        verbose_name_plural = _("ledger verification checkpoints")

    def __str__(self) -> str:
        return f"entries through #{self.entry_through}"


class CheckpointAccount(models.Model):
    """An account's figures over the rows of the checkpoint: Σ entries, Σ points its entries brought in, Σ sizes
    of its lots."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("account")
    )
    total = models.BigIntegerField(_("sum of entries"))
    credited = models.BigIntegerField(_("points brought in"))
    size = models.BigIntegerField(_("sum of lot sizes"))

    class Meta:
        verbose_name = _("account at the verification checkpoint")
        verbose_name_plural = _("accounts at the verification checkpoint")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.total}"
