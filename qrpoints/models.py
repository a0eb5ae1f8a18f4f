"""Points members get by scanning a QR code with their phone, signed in on the member site.

An event's poster (a QrEvent) credits its points once per member, to at most `max_claims` members, within
its period. A flyer's code (a Flyer) gives the member a right (FlyerRight) that becomes points only when they
also scan the visit code of one of the flyer's stores (a StoreVisitCode, printed at the counter or shown by
the terminal) within the flyer's period. The codes hold a signed token naming the object and its nonce,
never the points (qrpoints.tokens).

The counters (`claims_count`, `rights_count`) are raised by one conditional UPDATE in the claim's
transaction, so concurrent claims never pass the cap; the database refuses a count above it and a second
claim or right of one member.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Entry, Funder, Programme
from stores.models import Store

# More than this on one scan is a typo in the form, not a promotion.
MAX_QR_POINTS = 100_000


def new_nonce() -> str:
    """A fresh nonce for a code: 8 random bytes, URL-safe."""
    return secrets.token_urlsafe(8)


class QrEvent(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("event name"), max_length=60, help_text=_("Printed on the poster and in the history."))
    points = models.PositiveIntegerField(
        _("points"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QR_POINTS)]
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until (exclusive)"))
    max_claims = models.PositiveIntegerField(
        _("most members who may claim"), validators=[MinValueValidator(1)], help_text=_("Each member claims once.")
    )
    claims_count = models.PositiveIntegerField(_("claims so far"), default=0, editable=False)
    funder = models.CharField(_("funded by"), max_length=12, choices=Funder.choices, default=Funder.SECRETARIAT)
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
        help_text=_(
            "The store that pays for the points when the store funds them (billed at the close); otherwise the "
            "store where the event is held, if any."
        ),
    )
    nonce = models.CharField(_("code nonce"), max_length=16, default=new_nonce, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("QR event")
        verbose_name_plural = _("QR events")
        ordering = ["-valid_from", "-pk"]
        indexes = [models.Index(fields=["programme", "valid_from"], name="qrevent_programme_from")]
        constraints = [
            models.CheckConstraint(condition=Q(valid_from__lt=F("valid_until")), name="qrevent_period_not_empty"),
            models.CheckConstraint(condition=Q(points__gt=0), name="qrevent_points_positive"),
            models.CheckConstraint(condition=Q(claims_count__lte=F("max_claims")), name="qrevent_within_cap"),
            models.CheckConstraint(
                condition=~Q(funder=Funder.STORE) | Q(store__isnull=False), name="qrevent_store_funder_names_store"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QrClaim(models.Model):
    """One member's claim of an event's points, with the bonus entry that credited them."""

    event = models.ForeignKey(QrEvent, on_delete=models.PROTECT, related_name="claims", verbose_name=_("QR event"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("ledger entry"))
    claimed_at = models.DateTimeField(_("claimed at"))

    class Meta:
        verbose_name = _("QR event claim")
        verbose_name_plural = _("QR event claims")
        indexes = [models.Index(fields=["member"], name="qrclaim_member")]
        constraints = [models.UniqueConstraint(fields=["event", "member"], name="qrclaim_once_per_member")]

    def __str__(self) -> str:
        return f"{self.event} / {self.member_id}"


class Flyer(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(_("flyer name"), max_length=60, help_text=_("Printed on the flyer and in the history."))
    points = models.PositiveIntegerField(
        _("points"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QR_POINTS)]
    )
    stores = models.ManyToManyField(
        Store,
        related_name="+",
        verbose_name=_("stores where the visit counts"),
        help_text=_("The member scans the visit code of one of these stores to receive the points."),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until (exclusive)"))
    max_claims = models.PositiveIntegerField(
        _("most members who may take it"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Counted when the flyer is scanned: a member who has it is credited at the store. Empty: no limit."
        ),
    )
    rights_count = models.PositiveIntegerField(_("members who scanned it"), default=0, editable=False)
    funder = models.CharField(
        _("funded by"),
        max_length=12,
        choices=Funder.choices,
        default=Funder.SECRETARIAT,
        help_text=_("The store: the store where the member scans the visit code pays for the points."),
    )
    nonce = models.CharField(_("code nonce"), max_length=16, default=new_nonce, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("flyer")
        verbose_name_plural = _("flyers")
        ordering = ["-valid_from", "-pk"]
        indexes = [models.Index(fields=["programme", "valid_from"], name="flyer_programme_from")]
        constraints = [
            models.CheckConstraint(condition=Q(valid_from__lt=F("valid_until")), name="flyer_period_not_empty"),
            models.CheckConstraint(condition=Q(points__gt=0), name="flyer_points_positive"),
            models.CheckConstraint(
                condition=Q(max_claims__isnull=True) | Q(rights_count__lte=F("max_claims")), name="flyer_within_cap"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FlyerRight(models.Model):
    """A member scanned a flyer: the right to its points, redeemed by a visit to one of its stores."""

    flyer = models.ForeignKey(Flyer, on_delete=models.PROTECT, related_name="rights", verbose_name=_("flyer"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    scanned_at = models.DateTimeField(_("flyer scanned at"))
    entry = models.OneToOneField(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("ledger entry")
    )
    redeemed_at = models.DateTimeField(_("credited at"), null=True, blank=True)
    redeemed_store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("store visited")
    )

    class Meta:
        verbose_name = _("flyer right")
        verbose_name_plural = _("flyer rights")
        indexes = [
            # A visit looks up the member's rights not yet credited.
            models.Index(fields=["member"], condition=Q(entry__isnull=True), name="flyerright_open"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["flyer", "member"], name="flyerright_once_per_member"),
            models.CheckConstraint(
                condition=Q(entry__isnull=True, redeemed_at__isnull=True, redeemed_store__isnull=True)
                | Q(entry__isnull=False, redeemed_at__isnull=False, redeemed_store__isnull=False),
                name="flyerright_redeemed_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flyer} / {self.member_id}"


class StoreVisitCode(models.Model):
    """A store's visit code: the QR at its counter. Issuing a new one retires the old (a poster photographed
    and shared is stopped by printing a new one); a store has at most one live code."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    nonce = models.CharField(_("code nonce"), max_length=16, default=new_nonce, editable=False)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("store visit code")
        verbose_name_plural = _("store visit codes")
        ordering = ["store", "-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store"], condition=Q(retired_at__isnull=True), name="storevisitcode_one_live"
            ),
        ]

    def __str__(self) -> str:
        return str(self.store)
