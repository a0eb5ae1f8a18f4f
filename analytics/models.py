"""The summary tables behind the reports (docs/analytics.md).

Every table is derived from the ledger (and the members' attributes) by `analytics.services.analytics_refresh`,
set-based, for a range of Tokyo days (by the day an entry was recorded, as the monthly close reads it); a
day's rows are replaced whole. Nothing here is a record of its own: the tables can be rebuilt at any time
(`manage.py refresh_analytics --from DATE`), and `verify_ledger` reconciles them with the ledger.

A row's member attributes are the member's on that day: gender and postal code as recorded, the age band
from the birth year and month, the rank from the member's rank records. References to programmes, stores,
members and ranks carry no database constraint: a summary never stands in the way of the rows it counts.

The reports read these rows through `analytics.selectors`, and the programmes they may show through the
proxies below (`PointsReport` ...), one per report, which give each report its place in the admin's index
and its own view permission.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Member
from points.models import Entry, Funder, Programme
from ranks.models import Rank
from stores.models import Merchant, Store


def _programme():
    return models.ForeignKey(
        Programme, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", verbose_name=_("programme")
    )


def _store(verbose_name=None):
    return models.ForeignKey(
        Store,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name or _("store"),
    )


class AgeBand(models.IntegerChoices):
    UNDER_20 = 10, _("under 20")
    TWENTIES = 20, _("20s")
    THIRTIES = 30, _("30s")
    FORTIES = 40, _("40s")
    FIFTIES = 50, _("50s")
    SIXTIES = 60, _("60s")
    SEVENTY_PLUS = 70, _("70 and over")


class Period(models.TextChoices):
    DAY = "D", _("day")
    MONTH = "M", _("month")


class MemberAttributes(models.Model):
    """A member's attributes on the day of the row: what the reports' member filters select on."""

    gender = models.CharField(_("gender"), max_length=6, blank=True, default="", choices=Member.Gender.choices)
    age_band = models.PositiveSmallIntegerField(_("age band"), null=True, blank=True, choices=AgeBand.choices)
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True, default="")
    rank = models.ForeignKey(
        Rank,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rank"),
    )

    class Meta:
        abstract = True


class PointsFlow(MemberAttributes):
    """Points moved by the ledger's entries, per day or month, programme, kind and funder, at four grains:
    the programme (A), each store (S), each set of member attributes (M), and both (F); a report reads the
    coarsest grain its filters allow. Expired points count at the store that issued them (their lots')."""

    class Grain(models.TextChoices):
        PROGRAMME = "A", _("programme")
        STORE = "S", _("store")
        MEMBERS = "M", _("member attributes")
        STORE_MEMBERS = "F", _("store and member attributes")

    period = models.CharField(_("period"), max_length=1, choices=Period.choices)
    day = models.DateField(_("first day"))
    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    programme = _programme()
    store = _store()
    kind = models.CharField(_("kind"), max_length=10, choices=Entry.Kind.choices)
    funder = models.CharField(_("funded by"), max_length=12, choices=Funder.choices, blank=True)
    points = models.BigIntegerField(_("points"))
    entries = models.BigIntegerField(_("entries"))
    amount_yen = models.BigIntegerField(_("amount (yen)"), default=0)
    # Distinct members behind the row: exact for the row; a report adding rows up takes the largest as what
    # it can be sure of (the five-member rule).
    members = models.BigIntegerField(_("members"))

    class Meta:
        verbose_name = _("points moved (summary)")
        verbose_name_plural = _("points moved (summary)")
        indexes = [
            models.Index(fields=["period", "grain", "programme", "day"], name="pointsflow_programme"),
            models.Index(fields=["period", "grain", "store", "day"], name="pointsflow_store"),
            models.Index(fields=["day"], name="pointsflow_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.points}"


class LotFlow(models.Model):
    """Points that came into lots and went out of them, per day, programme and issuing store: the
    outstanding points by issuing store at the end of any day are the sum of these rows up to it."""

    day = models.DateField(_("day"))
    programme = _programme()
    store = _store(_("issuing store"))
    issued = models.BigIntegerField(_("points into lots"))
    used = models.BigIntegerField(_("points out of lots"))

    class Meta:
        verbose_name = _("lot movements (summary)")
        verbose_name_plural = _("lot movements (summary)")
        indexes = [
            models.Index(fields=["programme", "day"], name="lotflow_programme"),
            models.Index(fields=["store", "day"], name="lotflow_store"),
            models.Index(fields=["day"], name="lotflow_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.issued - self.used:+d}"


class Circulation(models.Model):
    """Points issued at one store and spent at another (or the same), per day or month and programme: what
    spends took from lots, less what voided spends gave back."""

    period = models.CharField(_("period"), max_length=1, choices=Period.choices)
    day = models.DateField(_("first day"))
    programme = _programme()
    issued_at = _store(_("issuing store"))
    spent_at = _store(_("spending store"))
    points = models.BigIntegerField(_("points"))
    members = models.BigIntegerField(_("members"))

    class Meta:
        verbose_name = _("circulation (summary)")
        verbose_name_plural = _("circulation (summary)")
        indexes = [
            models.Index(fields=["period", "programme", "day"], name="circulation_programme"),
            # A store's points, issued or spent there (the portal's 分析, the report for chosen stores): the
            # period's rows of the store only. Not partial: a prepared statement is planned for any period.
            models.Index(fields=["period", "programme", "issued_at", "day"], name="circulation_issued"),
            models.Index(fields=["period", "programme", "spent_at", "day"], name="circulation_spent"),
            models.Index(fields=["day"], name="circulation_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.issued_at_id}→{self.spent_at_id} {self.points}"


def _place():
    return models.CharField(
        _("place"),
        max_length=30,
        blank=True,
        default="",
        help_text=_("Empty: anywhere in the programme; s:<store id> a store; c:<category> a store category."),
    )


class Visit(MemberAttributes):
    """A member's visit: a day with a purchase, in a programme, at one place (`place`): a store, a store
    category, or anywhere in the programme. The previous and next visit to the same place are kept, for the
    days between visits and for dormancy."""

    programme = _programme()
    place = _place()
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", verbose_name=_("member")
    )
    day = models.DateField(_("day"))
    receipts = models.PositiveIntegerField(_("purchases"))
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    previous_day = models.DateField(_("previous visit"), null=True, blank=True)
    next_day = models.DateField(_("next visit"), null=True, blank=True)
    gap_days = models.PositiveIntegerField(_("days since the previous visit"), null=True, blank=True)
    first_in_month = models.BooleanField(_("first visit of the month"), default=False)

    class Meta:
        verbose_name = _("visit (summary)")
        verbose_name_plural = _("visits (summary)")
        indexes = [
            models.Index(fields=["member", "programme", "place", "day"], name="visit_member"),
            # A store's or a category's visits of members of some attributes are read from this index alone.
            models.Index(
                fields=["place", "programme", "day"],
                include=[
                    "gender",
                    "age_band",
                    "postal_code",
                    "rank",
                    "gap_days",
                    "first_in_month",
                    "next_day",
                    "amount_yen",
                ],
                name="visit_place",
            ),
            models.Index(fields=["day"], name="visit_day"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}"


class VisitDay(MemberAttributes):
    """Visits per day, programme and place, by the days since the previous visit there (in bands) and
    whether it was the member's first of the month; with the members' attributes for the programme as a
    whole (grain M), without them for every place (grain P). The visits of one day are distinct members,
    and so are the first visits of a month."""

    class Grain(models.TextChoices):
        PLACE = "P", _("place")
        MEMBERS = "M", _("member attributes")

    day = models.DateField(_("day"))
    programme = _programme()
    place = _place()
    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    # 0 for a first visit, else the upper end of the band of days since the previous one (analytics.bands).
    gap_band = models.PositiveSmallIntegerField(_("days since the previous visit"))
    first_in_month = models.BooleanField(_("first visit of the month"))
    visits = models.BigIntegerField(_("visits"))
    receipts = models.BigIntegerField(_("purchases"))
    amount_yen = models.BigIntegerField(_("amount (yen)"))

    class Meta:
        verbose_name = _("visits per day (summary)")
        verbose_name_plural = _("visits per day (summary)")
        indexes = [
            models.Index(fields=["grain", "programme", "place", "day"], name="visitday_place"),
            models.Index(fields=["day"], name="visitday_day"),
            # A report for members of some gender (and age) or age reads only their rows, from the index alone:
            # the rows with the attributes are as many as the visits, thousands a day. Not partial indexes: a
            # statement prepared (settings: server-side binding) is planned for any grain after a few runs.
            models.Index(
                fields=["grain", "programme", "place", "gender", "age_band", "day"],
                include=["gap_band", "first_in_month", "visits", "amount_yen"],
                name="visitday_gender",
            ),
            models.Index(
                fields=["grain", "programme", "place", "age_band", "day"],
                include=["gender", "gap_band", "first_in_month", "visits", "amount_yen"],
                name="visitday_age",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.visits}"


class Dormancy(MemberAttributes):
    """Members who reached N days without a visit to a place on a day (`became`), and who came back to it
    after more than N days (`returned`); the dormant members on a day are the sum of `became − returned` up
    to it. A return counts under the attributes of the visit before the silence, so that the two cancel."""

    day = models.DateField(_("day"))
    programme = _programme()
    place = _place()
    grain = models.CharField(_("grain"), max_length=1, choices=VisitDay.Grain.choices)
    threshold = models.PositiveSmallIntegerField(_("days without a visit"))
    became = models.BigIntegerField(_("became dormant"))
    returned = models.BigIntegerField(_("came back"))

    class Meta:
        verbose_name = _("dormancy (summary)")
        verbose_name_plural = _("dormancy (summary)")
        indexes = [
            models.Index(fields=["threshold", "grain", "programme", "place", "day"], name="dormancy_place"),
            models.Index(fields=["day"], name="dormancy_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.threshold}: +{self.became} -{self.returned}"


class Registration(MemberAttributes):
    """Members who registered on a day, per programme they hold an account in."""

    day = models.DateField(_("day"))
    programme = _programme()
    registrations = models.BigIntegerField(_("registrations"))

    class Meta:
        verbose_name = _("registrations (summary)")
        verbose_name_plural = _("registrations (summary)")
        indexes = [models.Index(fields=["programme", "day"], name="registration_programme")]

    def __str__(self) -> str:
        return f"{self.day} {self.registrations}"


class SummaryState(models.Model):
    """How far the summaries go: one row. `final_through` is the last day refreshed after it had ended (its
    rows no longer change); `covered_until` the moment the latest refresh read the ledger up to;
    `reconciled_through` the last day verify_ledger found right."""

    first_day = models.DateField(_("first day summarised"), null=True, blank=True)
    final_through = models.DateField(_("final through"), null=True, blank=True)
    covered_until = models.DateTimeField(_("ledger read up to"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    seconds = models.FloatField(_("seconds taken"), default=0)
    # The last final day verify_ledger found to reconcile with the ledger: later runs read only the days after
    # it. A refresh that rewrites a day up to it moves it back.
    reconciled_through = models.DateField(_("reconciled through"), null=True, blank=True)
    # Counts the refreshes that rewrote final days, so that a verification read before one records nothing.
    final_rewrites = models.PositiveIntegerField(_("final days rewritten"), default=0)

    class Meta:
        verbose_name = _("state of the summaries")
        verbose_name_plural = _("state of the summaries")

    def __str__(self) -> str:
        return str(self.final_through or "")


# --- the reports in the admin: a programme's report, one proxy each ---------------------------------------


class PointsReport(Programme):
    class Meta:
        proxy = True
        verbose_name = _("points issued, spent and outstanding")
        verbose_name_plural = _("points issued, spent and outstanding")


class CirculationReport(Programme):
    class Meta:
        proxy = True
        verbose_name = _("circulation between stores")
        verbose_name_plural = _("circulation between stores")


class MembersReport(Programme):
    class Meta:
        proxy = True
        verbose_name = _("members and visits")
        verbose_name_plural = _("members and visits")


class PromotionsReport(Programme):
    class Meta:
        proxy = True
        verbose_name = _("campaigns, coupons and rallies")
        verbose_name_plural = _("campaigns, coupons and rallies")


# --- the monthly reports: made after the close, mailed, the last twelve kept ---------------------------------


def _report_path(report, filename: str) -> str:
    return f"monthly-reports/{report.year}/{report.month:02d}/{filename}"


class MonthlyReport(models.Model):
    """A programme's month as a PDF with the charts and a CSV with the tables: the secretariat's (no
    merchant), or a merchant's about its own stores. One per owner and month; the twelve newest of an owner
    are kept (analytics.monthly.services). `sent_at` is set when its mail is handed over, once."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name=_("programme"))
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="monthly_reports",
        verbose_name=_("merchant"),
        help_text=_("Empty for the secretariat's report."),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    pdf = models.FileField(_("PDF"), upload_to=_report_path)
    csv = models.FileField(_("CSV"), upload_to=_report_path)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-year", "-month", "programme", "merchant"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "year", "month"],
                condition=models.Q(merchant__isnull=True),
                name="monthly_report_once_for_the_secretariat",
            ),
            models.UniqueConstraint(
                fields=["programme", "merchant", "year", "month"],
                condition=models.Q(merchant__isnull=False),
                name="monthly_report_once_per_merchant",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "year", "month"], name="monthly_report_merchant")]
        permissions = [("make_monthlyreport", _("Can make and send the monthly reports"))]

    def __str__(self) -> str:
        return f"{self.label} {self.merchant.name if self.merchant_id else self.programme.name}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def filename(self) -> str:
        owner = self.merchant.code if self.merchant_id else self.programme.code
        return f"monthly-report-{owner}-{self.year}{self.month:02d}"
