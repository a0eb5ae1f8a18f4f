"""Member ranks: each programme's ladder, the rule that qualifies a member for a rank, each member's rank
now, and an append-only record of every change with the figures it was decided on."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Programme


class RankPolicy(models.Model):
    """How a programme's members qualify: the purchases (net of voids and refunds) of one or more windows, the
    best of them counting ("this year's purchases, or the last three months'")."""

    programme = models.OneToOneField(
        Programme, on_delete=models.PROTECT, related_name="rank_policy", verbose_name=_("programme")
    )
    calendar_month = models.BooleanField(_("this calendar month"), default=False)
    last_months = models.PositiveSmallIntegerField(
        _("the last N months"), default=0, help_text=_("0: not used. 3: the three months up to yesterday.")
    )
    calendar_year = models.BooleanField(_("this calendar year"), default=False)
    downgrade_grace_days = models.PositiveSmallIntegerField(
        _("grace before a downgrade (days)"),
        default=0,
        help_text=_("A member below their rank keeps it this many days before moving down."),
    )
    at_once = models.BooleanField(
        _("move up at once"),
        default=False,
        help_text=_("A rank reached by a purchase applies from the next purchase, not from the next midnight."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("rank rule")
        verbose_name_plural = _("rank rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(calendar_month=True) | models.Q(calendar_year=True) | models.Q(last_months__gt=0),
                name="rankpolicy_has_a_window",
            )
        ]

    def __str__(self) -> str:
        return str(self.programme)


class Rank(models.Model):
    """A step of a programme's ladder: reached with purchases of at least `threshold_yen` in the policy's
    windows; the lowest step (threshold 0) is where every member starts."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="ranks", verbose_name=_("programme")
    )
    name = models.CharField(_("rank name"), max_length=40)
    threshold_yen = models.PositiveBigIntegerField(_("purchases needed (yen)"), default=0)
    multiplier_percent = models.PositiveIntegerField(
        _("earn rate multiplier (%)"), default=100, help_text=_("150: one and a half times the store's rate.")
    )
    extra_rate_bp = models.PositiveIntegerField(
        _("extra earn rate (basis points)"),
        default=0,
        help_text=_("Added to the store's rate, per 10,000 yen: 50 gives 0.5% more of the purchase as points."),
    )
    benefits = models.TextField(_("benefits shown to the member"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("rank")
        verbose_name_plural = _("ranks")
        ordering = ["programme", "threshold_yen"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "threshold_yen"], name="rank_threshold_once"),
            models.UniqueConstraint(fields=["programme", "name"], name="rank_name_once"),
        ]

    def __str__(self) -> str:
        return self.name


class MemberRank(models.Model):
    """A member's rank in a programme now (no row: the ladder's lowest rank)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    rank = models.ForeignKey(Rank, on_delete=models.PROTECT, related_name="+", verbose_name=_("rank"))
    since = models.DateField(_("since"))
    # The first day the member's purchases were below the rank; a downgrade waits the grace from it.
    below_since = models.DateField(_("below the rank since"), null=True, blank=True)
    # A rank brought over from an old system is the member's at least until this day (legacy.services).
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("member's rank")
        verbose_name_plural = _("members' ranks")
        constraints = [models.UniqueConstraint(fields=["member", "programme"], name="memberrank_once")]

    def __str__(self) -> str:
        return str(self.rank)


class RankRecord(models.Model):
    """One change of a member's rank, append-only, with what it was decided on: the secretariat's answer to
    "why am I Silver?"."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    rank_before = models.ForeignKey(
        Rank, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("rank before")
    )
    rank = models.ForeignKey(Rank, on_delete=models.PROTECT, related_name="+", verbose_name=_("rank"))
    effective_on = models.DateField(_("effective from"))
    purchases_yen = models.BigIntegerField(_("qualifying purchases (yen)"))
    reason = models.CharField(_("decided on"), max_length=300)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rank change")
        verbose_name_plural = _("rank changes")
        indexes = [models.Index(fields=["member", "programme", "effective_on"], name="rankrecord_member")]

    def __str__(self) -> str:
        return f"{self.rank_before or '—'} → {self.rank}"
