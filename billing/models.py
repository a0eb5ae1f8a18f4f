"""Monthly billing: settings, periods, and the statements a close freezes.

A closed period's statements are snapshots: their lines are copied out of the
ledger once and never edited (PostgreSQL refuses UPDATE and DELETE of lines
by trigger). A correction after the close is a `BillingAdjustment` that the
next period's statement carries as a line, with its reason. Document numbers
are gapless per issuer and year (`DocumentSequence`); a reopened period keeps
its cancelled statements, numbers and PDFs, so no number ever disappears.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from points.models import Programme
from stores.models import (
    Merchant,
    Store,
    account_number_validator,
    bank_code_validator,
    branch_code_validator,
    invoice_number_validator,
)

consignor_code_validator = RegexValidator(r"^\d{10}$", _("A consignor code is 10 digits."))

# Basis points: 10,000 = 1 yen per point (or 100 %).
BP = 10_000


class SnapshotField(models.JSONField):
    """A JSONField that bulk-inserts as VALUES rows.

    Having a placeholder per value turns off Django's UNNEST path for bulk
    inserts on PostgreSQL, which escapes every JSON document into an array
    literal character by character: for a close of 200 statements that took
    longer than writing them.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class Tax(models.TextChoices):
    TAXABLE_10 = "taxable_10", _("Consumption tax at 10 percent")
    NON_TAXABLE = "non_taxable", _("Outside consumption tax (point settlement)")


class BillingSettings(models.Model):
    """How a programme bills its stores, and who the secretariat is on the documents."""

    programme = models.OneToOneField(
        Programme, on_delete=models.PROTECT, related_name="billing_settings", verbose_name=_("programme")
    )
    closing_day = models.PositiveSmallIntegerField(
        _("closing day"),
        default=0,
        validators=[MaxValueValidator(28)],
        help_text=_("Day of the month the period closes on (1-28); 0 closes at month end."),
    )
    issue_price_bp = models.PositiveIntegerField(
        _("charge per point issued (1/10,000 yen)"),
        default=BP,
        help_text=_("What a store pays per point it issues; 10,000 = 1.00 yen."),
    )
    payback_rate_bp = models.PositiveIntegerField(
        _("payback per point spent (1/10,000 yen)"),
        default=BP,
        help_text=_("What a store is paid per point spent there; 10,000 = 1.00 yen."),
    )
    system_fee_yen = models.PositiveIntegerField(_("monthly system fee (yen, before tax)"), default=0)
    terminal_rental_yen = models.PositiveIntegerField(_("terminal rental per terminal (yen, before tax)"), default=0)
    transaction_fee_yen = models.PositiveIntegerField(_("fee per transaction (yen, before tax)"), default=0)
    payment_due_months = models.PositiveSmallIntegerField(
        _("payment due, months after the period"), default=1, validators=[MaxValueValidator(3)]
    )
    payment_due_day = models.PositiveSmallIntegerField(
        _("payment due, day of that month"),
        default=0,
        validators=[MaxValueValidator(28)],
        help_text=_("0 = the last day of the month."),
    )
    close_automatically = models.BooleanField(
        _("close automatically"), default=True, help_text=_("The nightly task closes the period once it has ended.")
    )
    # The issuer's name, address and phone are the programme's secretariat (points.Programme), which the exchange
    # slip prints too; the registration number is the invoices' own.
    issuer_registration_number = models.CharField(
        _("issuer registration number"), max_length=14, validators=[invoice_number_validator]
    )
    # The secretariat's own account: where stores pay, and what the transfer file is drawn on.
    consignor_code = models.CharField(
        _("consignor code (Zengin)"), max_length=10, blank=True, validators=[consignor_code_validator]
    )
    consignor_name_kana = models.CharField(_("consignor name (kana)"), max_length=40, blank=True)
    bank_code = models.CharField(_("bank code"), max_length=4, blank=True, validators=[bank_code_validator])
    bank_name = models.CharField(_("bank name"), max_length=60, blank=True)
    bank_name_kana = models.CharField(_("bank name (kana)"), max_length=15, blank=True)
    branch_code = models.CharField(_("branch code"), max_length=3, blank=True, validators=[branch_code_validator])
    branch_name = models.CharField(_("branch name"), max_length=60, blank=True)
    branch_name_kana = models.CharField(_("branch name (kana)"), max_length=15, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=10, choices=Merchant.AccountType.choices, default=Merchant.AccountType.ORDINARY
    )
    account_number = models.CharField(
        _("account number"), max_length=7, blank=True, validators=[account_number_validator]
    )

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")

    def __str__(self) -> str:
        return str(self.programme)


class StoreBillingTerms(models.Model):
    """A store's own terms where they differ from its programme's; empty fields follow the programme."""

    store = models.OneToOneField(Store, on_delete=models.PROTECT, related_name="billing_terms", verbose_name=_("store"))
    issue_price_bp = models.PositiveIntegerField(_("charge per point issued (1/10,000 yen)"), null=True, blank=True)
    payback_rate_bp = models.PositiveIntegerField(_("payback per point spent (1/10,000 yen)"), null=True, blank=True)
    system_fee_yen = models.PositiveIntegerField(_("monthly system fee (yen, before tax)"), null=True, blank=True)
    terminal_rental_yen = models.PositiveIntegerField(
        _("terminal rental per terminal (yen, before tax)"), null=True, blank=True
    )
    transaction_fee_yen = models.PositiveIntegerField(_("fee per transaction (yen, before tax)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("store billing terms")
        verbose_name_plural = _("store billing terms")

    def __str__(self) -> str:
        return str(self.store)


class Period(models.Model):
    """One billing month of a programme: [starts_at, ends_at) in Asia/Tokyo."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSING = "closing", _("Closing")
        CLOSED = "closed", pgettext_lazy("billing period", "Closed")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at (exclusive)"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    # Written outside the close's transaction, so the admin can watch a close that is running.
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    tie_out = models.JSONField(_("tie-out"), default=dict, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("billing period")
        verbose_name_plural = _("billing periods")
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "year", "month"], name="period_once_per_month"),
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="period_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月分"


class DocumentSequence(models.Model):
    """The last document number an issuer used in a year; taken under a row lock, so numbers have no gaps."""

    issuer_registration_number = models.CharField(_("issuer registration number"), max_length=14)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document sequence")
        verbose_name_plural = _("document sequences")
        constraints = [
            models.UniqueConstraint(fields=["issuer_registration_number", "year"], name="sequence_per_issuer_year")
        ]

    def __str__(self) -> str:
        return f"{self.issuer_registration_number} {self.year}: {self.last_number}"


class Statement(models.Model):
    """A store's statement and invoice (or payment notice) for a period, frozen when the period closed."""

    class Direction(models.TextChoices):
        STORE_PAYS = "store_pays", _("Store pays")
        STORE_IS_PAID = "store_is_paid", _("Store is paid")
        EVEN = "even", _("Nothing to settle")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled (period reopened)")

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="statements", verbose_name=_("period"))
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant"))
    number = models.CharField(_("document number"), max_length=30)
    issuer_registration_number = models.CharField(_("issuer registration number"), max_length=14)
    issued_on = models.DateField(_("issued on"), db_index=True)
    due_on = models.DateField(_("due on"))
    recipient_name = models.CharField(_("counterparty"), max_length=200, db_index=True)
    direction = models.CharField(_("direction"), max_length=14, choices=Direction.choices)
    # Signed: positive when the store pays the secretariat.
    net_amount_yen = models.BigIntegerField(_("net amount (yen)"), db_index=True)
    taxable_amount_yen = models.BigIntegerField(_("taxable amount (yen, before tax)"))
    tax_yen = models.BigIntegerField(_("consumption tax (yen)"))
    non_taxable_amount_yen = models.BigIntegerField(_("point settlement (yen, outside tax)"))
    points_issued = models.BigIntegerField(_("points issued"))
    points_spent = models.BigIntegerField(_("points spent"))
    # The rest of the document as printed: parties, daily totals, notes.
    snapshot = SnapshotField(_("snapshot"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    settled_on = models.DateField(_("paid / paid out on"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("settlement recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-issued_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer_registration_number", "number"], name="statement_number_unique"),
            models.UniqueConstraint(
                fields=["period", "store"],
                condition=~Q(status="cancelled"),
                name="statement_once_per_store_period",
            ),
        ]
        indexes = [models.Index(fields=["due_on", "settled_on"], name="statement_due")]

    def __str__(self) -> str:
        return f"{self.number} {self.recipient_name}"

    @property
    def amount_yen(self) -> int:
        """What changes hands, whichever way."""
        return abs(self.net_amount_yen)


class StatementLine(models.Model):
    class Kind(models.TextChoices):
        POINTS_ISSUED = "points_issued", _("Points issued")
        BONUS_STORE = "bonus_store", _("Campaign bonus funded by the store")
        VOID_ISSUED = "void_issued", _("Points issued, voided or refunded")
        POINTS_SPENT = "points_spent", _("Points spent")
        VOID_SPENT = "void_spent", _("Points spent, voided or refunded")
        POINTS_SOLD = "points_sold", _("Points sold (prepaid), yen taken for the programme")
        SYSTEM_FEE = "system_fee", _("Monthly system fee")
        TERMINAL_RENTAL = "terminal_rental", _("Terminal rental")
        TRANSACTION_FEE = "transaction_fee", _("Transaction fees")
        ADJUSTMENT = "adjustment", _("Adjustment")
        OFFER_CASHBACK = "offer_cashback", _("Card-linked offers: yen paid back to members")
        OFFER_FEE = "offer_fee", _("Card-linked offers: fees")

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.BigIntegerField(_("quantity"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    unit_price = models.CharField(_("unit price"), max_length=30, blank=True)
    # Signed like the statement: positive when the store owes it.
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    tax = models.CharField(_("tax"), max_length=12, choices=Tax.choices)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "position"]
        constraints = [models.UniqueConstraint(fields=["statement", "position"], name="statement_line_position")]

    def __str__(self) -> str:
        return f"{self.description} {self.amount_yen:+,d}"


class StatementFile(models.Model):
    """An issued PDF: written once, with its SHA-256, kept at least seven years (電子帳簿保存法)."""

    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="file")
    pdf = models.FileField(_("PDF"), upload_to="statements/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("bytes"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retain_until = models.DateField(_("retain until"))

    class Meta:
        verbose_name = _("issued PDF")
        verbose_name_plural = _("issued PDFs")

    def __str__(self) -> str:
        return self.pdf.name


class BillingAdjustment(models.Model):
    """A correction found after a close: it becomes a line of the store's next statement."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    amount_yen = models.BigIntegerField(
        _("amount (yen)"), help_text=_("Positive when the store owes it; before tax for taxable adjustments.")
    )
    tax = models.CharField(_("tax"), max_length=12, choices=Tax.choices, default=Tax.NON_TAXABLE)
    reason = models.CharField(_("reason"), max_length=300)
    corrects = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects statement"),
    )
    applied_in = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
        verbose_name=_("applied in statement"),
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("billing adjustment")
        verbose_name_plural = _("billing adjustments")
        constraints = [
            models.CheckConstraint(condition=~Q(amount_yen=0), name="adjustment_not_zero"),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.amount_yen:+,d}"
