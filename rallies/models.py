"""Point rallies: stamps collected at participating stores, goals that reward them, and prize draws.

A rally's conditions are plain columns and a JSON list of store ids, so that the
running rallies of a programme load in one query at every earn. The database
enforces the stamp rule (a partial unique index per rule over live stamps) and
that a goal rewards a member once (a partial unique index over live rewards).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Entry, Funder, Programme
from stores.models import Store


class Rally(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Ended")

    class StampPer(models.TextChoices):
        STORE_DAY = "store_day", _("One stamp per store and day")
        STORE = "store", _("One stamp per store for the whole rally")
        PURCHASE = "purchase", _("One stamp per qualifying purchase")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    name = models.CharField(
        _("rally name"), max_length=60, help_text=_("Printed on the receipt with the member's progress.")
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at (exclusive)"))
    store_ids = models.JSONField(_("participating stores"), default=list, blank=True)
    min_amount_yen = models.PositiveIntegerField(
        _("qualifying purchase from (yen)"),
        default=0,
        help_text=_("A purchase of at least this amount earns a stamp. 0: any purchase that earns points."),
    )
    stamp_per = models.CharField(_("stamp rule"), max_length=10, choices=StampPer.choices, default=StampPer.STORE_DAY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("point rally")
        verbose_name_plural = _("point rallies")
        ordering = ["-starts_at", "pk"]
        indexes = [models.Index(fields=["programme", "status", "ends_at"], name="rally_running")]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="rally_period_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class RallyGoal(models.Model):
    class Kind(models.TextChoices):
        DISTINCT_STORES = "distinct_stores", _("Stamps at a number of different stores")
        STAMPS = "stamps", _("A number of stamps in all")
        ALL_STORES_OF = "all_stores_of", _("A stamp at every store of an area")

    class Reward(models.TextChoices):
        BONUS = "bonus", _("Bonus points")
        DRAW = "draw", _("An entry in the prize draw")

    rally = models.ForeignKey(Rally, on_delete=models.CASCADE, related_name="goals", verbose_name=_("rally"))
    name = models.CharField(
        _("goal name"), max_length=60, help_text=_("Printed on the receipt when the member reaches it.")
    )
    position = models.PositiveSmallIntegerField(
        _("order"), default=1, help_text=_("The receipt shows progress towards the first goal not yet reached.")
    )
    kind = models.CharField(_("goal"), max_length=16, choices=Kind.choices, default=Kind.DISTINCT_STORES)
    target = models.PositiveSmallIntegerField(
        _("how many"), null=True, blank=True, help_text=_("Stores or stamps to collect; empty for an area.")
    )
    area_store_ids = models.JSONField(_("stores of the area"), default=list, blank=True)
    reward = models.CharField(_("reward"), max_length=8, choices=Reward.choices, default=Reward.BONUS)
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    funder = models.CharField(
        _("funded by"),
        max_length=12,
        choices=Funder.choices,
        default=Funder.SECRETARIAT,
        help_text=_("The store: the store where the member reached the goal pays the bonus."),
    )

    class Meta:
        verbose_name = _("rally goal")
        verbose_name_plural = _("rally goals")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="all_stores_of") | Q(target__gte=1), name="rallygoal_counts_something"
            ),
            models.CheckConstraint(condition=~Q(reward="bonus") | Q(bonus_points__gte=1), name="rallygoal_bonus_given"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def size(self) -> int:
        """How many stores or stamps reach the goal."""
        if self.kind == self.Kind.ALL_STORES_OF:
            return len(self.area_store_ids or [])
        return self.target or 0

    def progress(self, stamps: list[tuple[int, object]]) -> int:
        """How far a member's live stamps, as (store id, day) pairs, go towards the goal."""
        if self.kind == self.Kind.STAMPS:
            return len(stamps)
        stores = {store_id for store_id, _day in stamps}
        if self.kind == self.Kind.ALL_STORES_OF:
            return len(stores & set(self.area_store_ids or []))
        return len(stores)

    def met_by(self, stamps: list[tuple[int, object]]) -> bool:
        return self.size > 0 and self.progress(stamps) >= self.size


class Stamp(models.Model):
    """One stamp, given on one purchase. A void of the purchase marks it void; it is never deleted."""

    rally = models.ForeignKey(Rally, on_delete=models.PROTECT, related_name="stamps", verbose_name=_("rally"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    day = models.DateField(_("day"))
    # The rally's rule when the stamp was given, so that the database can hold each stamp to it.
    rule = models.CharField(_("stamp rule"), max_length=10, choices=Rally.StampPer.choices)
    earn = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("purchase"))
    stamped_at = models.DateTimeField(_("stamped at"))
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stamp")
        verbose_name_plural = _("stamps")
        indexes = [
            models.Index(fields=["rally", "member"], name="stamp_rally_member"),
            models.Index(fields=["rally", "store"], name="stamp_rally_store"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rally", "member", "store", "day"],
                condition=Q(voided_at__isnull=True, rule="store_day"),
                name="stamp_once_per_store_day",
            ),
            models.UniqueConstraint(
                fields=["rally", "member", "store"],
                condition=Q(voided_at__isnull=True, rule="store"),
                name="stamp_once_per_store",
            ),
            models.UniqueConstraint(fields=["rally", "earn"], name="stamp_once_per_purchase"),
        ]

    def __str__(self) -> str:
        return f"{self.rally} {self.store_id} {self.day}"


class GoalReached(models.Model):
    """A member reached a goal and got its reward: bonus points (an entry on the purchase) or a draw entry."""

    goal = models.ForeignKey(RallyGoal, on_delete=models.PROTECT, related_name="reached", verbose_name=_("goal"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    earn = models.ForeignKey(
        Entry, on_delete=models.PROTECT, related_name="+", verbose_name=_("purchase that reached it")
    )
    reward = models.CharField(_("reward"), max_length=8, choices=RallyGoal.Reward.choices)
    bonus = models.OneToOneField(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("bonus entry")
    )
    reached_at = models.DateTimeField(_("reached at"))
    revoked_at = models.DateTimeField(
        _("taken back at"), null=True, blank=True, help_text=_("The purchase that reached it was voided.")
    )

    class Meta:
        verbose_name = _("goal reached")
        verbose_name_plural = _("goals reached")
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "member"], condition=Q(revoked_at__isnull=True), name="goal_rewarded_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goal} {self.member_id}"


class Draw(models.Model):
    """A prize draw among the members who reached a goal: drawn again with its seed, it names the same winners."""

    rally = models.ForeignKey(Rally, on_delete=models.PROTECT, related_name="draws", verbose_name=_("rally"))
    goal = models.ForeignKey(RallyGoal, on_delete=models.PROTECT, related_name="draws", verbose_name=_("goal"))
    seed = models.PositiveBigIntegerField(_("seed"))
    winners_wanted = models.PositiveIntegerField(_("winners wanted"))
    eligible_count = models.PositiveIntegerField(_("eligible members"))
    # SHA-256 of the eligible member ids in order: shows whether a later draw ran over the same members.
    eligible_digest = models.CharField(_("eligible members' fingerprint"), max_length=64)
    drawn_at = models.DateTimeField(_("drawn at"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("drawn by")
    )

    class Meta:
        verbose_name = _("prize draw")
        verbose_name_plural = _("prize draws")
        ordering = ["-drawn_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.goal} #{self.pk}"


class DrawWinner(models.Model):
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="winners", verbose_name=_("draw"))
    position = models.PositiveIntegerField(_("drawn as"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))

    class Meta:
        verbose_name = _("winner")
        verbose_name_plural = _("winners")
        ordering = ["draw", "position"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "position"], name="drawwinner_position_once"),
            models.UniqueConstraint(fields=["draw", "member"], name="drawwinner_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.member_id}"
