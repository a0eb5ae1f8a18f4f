"""The gift-certificate exchange: counters and their hours, the window rules, the catalogue with its stock
ledger, and the exchanges made (or reserved) at the desk.

Stock is an append-only ledger (StockMove) whose sum is cached on the item (`stock_on_hand`), updated
under the item's row lock in the same transaction as the move; the database refuses a negative cache.
An exchange's points go through the point ledger (an EXCHANGE entry, and a VOID entry when cancelled or
lapsed), so balances stay the sum of their entries.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Entry, Programme


class Counter(models.Model):
    """A place where members exchange points: the secretariat's office, a bank branch."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("counter name"), max_length=60)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("exchange counter")
        verbose_name_plural = _("exchange counters")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class CounterHours(models.Model):
    """Opening hours of a counter on one weekday; a weekday without a row is a closed day."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    counter = models.ForeignKey(Counter, on_delete=models.CASCADE, related_name="hours", verbose_name=_("counter"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens at"))
    closes = models.TimeField(_("closes at"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["counter", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="counterhours_opens_before_closes"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="counterhours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class WindowRule(models.Model):
    """When exchanges happen: the days first_day..last_day of every month that pass the filters."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("rule name"), max_length=60)
    first_day = models.PositiveSmallIntegerField(
        _("first day of the month"), default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    last_day = models.PositiveSmallIntegerField(
        _("last day of the month"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("Days past the end of a shorter month are ignored."),
    )
    weekdays_only = models.BooleanField(_("weekdays only"), default=True)
    exclude_holidays = models.BooleanField(
        _("closed on national holidays"),
        default=True,
        help_text=_("Japanese national holidays, substitute holidays included."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("exchange window")
        verbose_name_plural = _("exchange windows")
        ordering = ["first_day", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_day__gte=1, last_day__lte=31, first_day__lte=F("last_day")),
                name="windowrule_days_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """Something in the catalogue: a gift certificate, a ticket, goods."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("item name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    face_value_yen = models.PositiveIntegerField(
        _("face value (yen)"), default=0, help_text=_("0 for goods without a face value.")
    )
    price_points = models.PositiveIntegerField(_("price (points)"), validators=[MinValueValidator(1)])
    stock_on_hand = models.IntegerField(
        _("in stock"), default=0, editable=False, help_text=_("The sum of the item's stock ledger.")
    )
    first_come_per_window = models.PositiveIntegerField(
        _("first-come quantity per window"),
        null=True,
        blank=True,
        help_text=_("How many can be handed over or reserved in one window, all members together. Empty: no cap."),
    )
    limit_per_member_window = models.PositiveSmallIntegerField(
        _("limit per member per window"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    limit_per_member_year = models.PositiveSmallIntegerField(
        _("limit per member per year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Calendar year. Empty: no limit."),
    )
    active_from = models.DateField(_("available from"), null=True, blank=True)
    active_until = models.DateField(_("available until"), null=True, blank=True)
    counters = models.ManyToManyField(
        Counter,
        blank=True,
        related_name="items",
        verbose_name=_("collectable at"),
        help_text=_("Empty: at every counter."),
    )
    position = models.PositiveSmallIntegerField(_("display order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(price_points__gte=1), name="item_price_positive"),
            models.CheckConstraint(condition=Q(stock_on_hand__gte=0), name="item_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(active_from__isnull=True)
                | Q(active_until__isnull=True)
                | Q(active_from__lte=F("active_until")),
                name="item_active_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_active_on(self, day) -> bool:
        return (
            self.is_active
            and (self.active_from is None or self.active_from <= day)
            and (self.active_until is None or day <= self.active_until)
        )


class ExchangeSequence(models.Model):
    """The last exchange serial used in a year; taken under a row lock, so serials have no gaps."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("exchange serial sequence")
        verbose_name_plural = _("exchange serial sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Exchange(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        HANDED_OVER = "handed_over", _("Handed over")
        CANCELLED = "cancelled", _("Cancelled")
        LAPSED = "lapsed", _("Lapsed")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="exchanges", verbose_name=_("counter"))
    serial = models.CharField(_("exchange number"), max_length=20, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    points = models.PositiveIntegerField(_("points"))
    face_value_yen = models.PositiveIntegerField(_("face value (yen)"))
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("ledger entry"))
    return_entry = models.OneToOneField(
        Entry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("points returned by"),
    )
    window_start = models.DateField(_("window"), help_text=_("The first day of the window the exchange counts in."))
    collect_by = models.DateField(_("collect by"), null=True, blank=True)
    override_reason = models.CharField(_("reason for exchanging outside a window"), max_length=300, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    created_at = models.DateTimeField(_("created at"))
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    lapsed_at = models.DateTimeField(_("lapsed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("exchange")
        verbose_name_plural = _("exchanges")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("override_window", _("Can exchange outside a window")),
            ("cancel_exchange", _("Can cancel an exchange")),
        ]
        indexes = [
            # The limits: one member's exchanges of a window or a year.
            models.Index(fields=["member", "window_start"], name="exchange_member_window"),
            models.Index(fields=["member", "created_at"], name="exchange_member_created"),
            # First-come per window, the desk report and the monthly cost.
            models.Index(fields=["window_start"], name="exchange_window"),
            models.Index(fields=["handed_over_at"], condition=Q(handed_over_at__isnull=False), name="exchange_handed"),
            models.Index(fields=["cancelled_at"], condition=Q(cancelled_at__isnull=False), name="exchange_cancelled"),
            # The nightly lapse.
            models.Index(fields=["collect_by"], condition=Q(status="reserved"), name="exchange_open_reservations"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="reserved", collect_by__isnull=False) | ~Q(status="reserved"),
                name="exchange_reservation_has_collect_by",
            ),
            models.CheckConstraint(
                condition=~Q(status="handed_over") | Q(handed_over_at__isnull=False),
                name="exchange_handed_over_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled")
                | (Q(cancelled_at__isnull=False, return_entry__isnull=False) & ~Q(cancel_reason="")),
                name="exchange_cancelled_consistent",
            ),
            models.CheckConstraint(
                condition=~Q(status="lapsed") | Q(lapsed_at__isnull=False, return_entry__isnull=False),
                name="exchange_lapsed_consistent",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["cancelled", "lapsed"]) | Q(return_entry__isnull=True),
                name="exchange_return_only_when_undone",
            ),
        ]

    def __str__(self) -> str:
        return self.serial


class ExchangeLine(models.Model):
    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="lines", verbose_name=_("exchange"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    quantity = models.PositiveSmallIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_points = models.PositiveIntegerField(_("points per unit"))
    unit_face_value_yen = models.PositiveIntegerField(_("face value per unit (yen)"))

    class Meta:
        verbose_name = _("exchange line")
        verbose_name_plural = _("exchange lines")
        ordering = ["pk"]
        indexes = [models.Index(fields=["item", "exchange"], name="exchangeline_item")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="exchangeline_quantity_positive"),
            models.UniqueConstraint(fields=["exchange", "item"], name="exchangeline_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item} x {self.quantity}"

    @property
    def points(self) -> int:
        return self.unit_points * self.quantity

    @property
    def face_value_yen(self) -> int:
        return self.unit_face_value_yen * self.quantity


# The kinds that add to the stock and those that take from it.
STOCK_INCOMING = ("received", "released", "returned")
STOCK_OUTGOING = ("reserved", "handed_over", "written_off")


class StockMove(models.Model):
    """One change of an item's stock; append-only. The sign of the quantity follows the kind."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        RESERVED = "reserved", _("Reserved")
        RELEASED = "released", _("Reservation released")
        HANDED_OVER = "handed_over", _("Handed over")
        RETURNED = "returned", _("Returned")
        WRITTEN_OFF = "written_off", _("Written off")

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock_moves", verbose_name=_("item"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    quantity = models.IntegerField(_("quantity"))
    exchange = models.ForeignKey(
        Exchange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_moves",
        verbose_name=_("exchange"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["item", "-created_at"], name="stockmove_item_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=STOCK_INCOMING, quantity__gt=0) | Q(kind__in=STOCK_OUTGOING, quantity__lt=0),
                name="stockmove_sign_follows_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["received", "written_off"]) | Q(exchange__isnull=False),
                name="stockmove_exchange_moves_name_it",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d}"
