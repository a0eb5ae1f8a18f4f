"""The reports' filter form: what the report covers, as a ReportFilter."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.bands import DORMANCY_THRESHOLDS
from analytics.models import AgeBand
from analytics.monthly.services import report_days
from analytics.selectors import CATEGORY, DAY, ISSUED, MONTH, SPENT, STORE, ReportFilter
from billing.periods import parse_period
from members.models import Member
from points.models import Programme
from ranks.models import Rank
from stores.models import Store

ANY = ""
NOT_GIVEN = "-"


def _year_ago(today: datetime.date) -> datetime.date:
    """The first day of the month eleven months ago: a year of months up to this one."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    return datetime.date(year, (month - 1) % 12 + 1, 1)


class ReportForm(forms.Form):
    programme = forms.ModelChoiceField(
        Programme.objects.all(), label=_("Programme"), required=False, empty_label=_("All my programmes")
    )
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=_("Figures"), choices=[(MONTH, _("by month")), (DAY, _("by day"))], initial=MONTH)
    store = forms.ModelChoiceField(
        Store.objects.order_by("code"), label=_("Store"), required=False, empty_label=_("Every store")
    )
    category = forms.ChoiceField(label=_("Store category"), required=False)
    gender = forms.ChoiceField(label=_("Gender"), required=False)
    age_band = forms.TypedChoiceField(
        label=_("Age"), required=False, coerce=int, empty_value=None, choices=[(ANY, _("Any")), *AgeBand.choices]
    )
    postal_prefix = forms.RegexField(
        label=_("Postal code starts with"),
        regex=r"^[0-9-]{0,8}$",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"size": 8, "placeholder": "190-00"}),
    )
    rank = forms.ModelChoiceField(Rank.objects.order_by("programme", "threshold_yen"), label=_("Rank"), required=False)

    # The longest period a report reads by day.
    MAX_DAYS = 400

    def __init__(self, *args, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        today = today or timezone.localdate()
        self.fields["start"].initial = _year_ago(today)
        self.fields["end"].initial = today
        self.fields["category"].choices = [(ANY, _("Any")), *Store.Category.choices]
        genders = [(value or NOT_GIVEN, label) for value, label in Member.Gender.choices]
        self.fields["gender"].choices = [(ANY, _("Any")), *genders]
        self.fields["rank"].empty_label = _("Any")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if data.get("by") == DAY and (end - start).days > self.MAX_DAYS:
                raise forms.ValidationError(
                    _("By day, a report covers at most %(days)s days; choose by month.") % {"days": self.MAX_DAYS}
                )
        return data

    def report_filter(self, programme_ids) -> ReportFilter:
        data = self.cleaned_data
        gender = data.get("gender")
        return ReportFilter(
            start=data["start"],
            end=data["end"],
            by=data.get("by") or MONTH,
            programme_ids=programme_ids,
            store_ids=frozenset({data["store"].pk}) if data.get("store") else None,
            category=data.get("category") or "",
            gender=None if not gender else ("" if gender == NOT_GIVEN else gender),
            age_band=data.get("age_band"),
            postal_prefix=data.get("postal_prefix") or "",
            rank_id=data["rank"].pk if data.get("rank") else None,
        )

    def initial_filter(self, programme_ids) -> ReportFilter:
        """The report shown before the form is sent: a year of months up to today."""
        fields = self.fields
        return ReportFilter(start=fields["start"].initial, end=fields["end"].initial, programme_ids=programme_ids)


class CirculationForm(ReportForm):
    level = forms.ChoiceField(
        label=_("Matrix by"),
        choices=[(CATEGORY, _("store category")), (STORE, _("store"))],
        initial=CATEGORY,
        required=False,
    )
    side = forms.ChoiceField(
        label=_("With a store or category chosen"),
        choices=[(ISSUED, _("where its points were spent")), (SPENT, _("where the points spent there came from"))],
        initial=ISSUED,
        required=False,
    )


class MembersForm(ReportForm):
    threshold = forms.TypedChoiceField(
        label=_("Dormant after"),
        coerce=int,
        choices=[(days, _("%(days)s days without a visit") % {"days": days}) for days in DORMANCY_THRESHOLDS],
        initial=90,
        required=False,
        empty_value=None,
    )


class MonthlyReportsForm(forms.Form):
    """A programme's month to make the monthly reports of, by hand."""

    programme = forms.ModelChoiceField(Programme.objects.filter(is_active=True).order_by("code"), label=_("Programme"))
    month = forms.CharField(
        label=_("Month"),
        max_length=7,
        help_text=_("The programme's month (its billing period) as YYYY-MM, for example 2026-10."),
    )

    def clean_month(self) -> tuple[int, int]:
        try:
            return parse_period(self.cleaned_data["month"])
        except ValueError:
            raise forms.ValidationError(_("Enter the month as YYYY-MM, for example 2026-10.")) from None

    def clean(self):
        cleaned = super().clean()
        programme, month = cleaned.get("programme"), cleaned.get("month")
        if programme is not None and month is not None:
            _first, last = report_days(programme=programme, year=month[0], month=month[1])
            if last >= timezone.localdate():
                raise forms.ValidationError(_("That month has not ended yet."))
        return cleaned
