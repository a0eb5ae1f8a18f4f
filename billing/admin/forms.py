"""Forms of the billing admin: closing and reopening a period, the amount filter, adjustments."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings as django_settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import BillingAdjustment, BillingSettings, Period
from billing.periods import parse_period, period_bounds, period_containing
from common.formatting import datetime_text
from points.models import Programme


def last_ended_period(billing_settings: BillingSettings, *, now: datetime.datetime) -> tuple[int, int]:
    """The period before the one running at `now`: the one a secretariat usually closes."""
    year, month = period_containing(timezone.localdate(now), closing_day=billing_settings.closing_day)
    return (year, month - 1) if month > 1 else (year - 1, 12)


def next_due_period(programme: Programme, *, now: datetime.datetime) -> tuple[int, int]:
    """The period the secretariat closes next: the one after the last closed, or, before any close, the last
    period that has ended."""
    latest = Period.objects.filter(programme=programme, status=Period.Status.CLOSED).order_by("-year", "-month").first()
    if latest is None:
        return last_ended_period(programme.billing_settings, now=now)
    return (latest.year, latest.month + 1) if latest.month < 12 else (latest.year + 1, 1)


class ClosePeriodForm(forms.Form):
    programme = forms.ModelChoiceField(
        Programme.objects.filter(billing_settings__isnull=False).order_by("code"), label=_("Programme")
    )
    period = forms.CharField(
        label=_("Period"),
        max_length=7,
        help_text=_("The month the period closes in, as YYYY-MM (for example 2026-10)."),
    )

    def __init__(self, *args, now: datetime.datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        programmes = list(self.fields["programme"].queryset.select_related("billing_settings")[:2])
        if len(programmes) == 1:
            year, month = next_due_period(programmes[0], now=self.now)
            self.fields["programme"].initial = programmes[0].pk
            self.fields["period"].initial = f"{year}-{month:02d}"

    def clean_period(self) -> tuple[int, int]:
        try:
            return parse_period(self.cleaned_data["period"])
        except ValueError:
            raise forms.ValidationError(_("Enter the period as YYYY-MM, for example 2026-10.")) from None

    def clean(self):
        cleaned = super().clean()
        programme, period = cleaned.get("programme"), cleaned.get("period")
        if programme is None or period is None:
            return cleaned
        year, month = period
        _starts_at, ends_at = period_bounds(year=year, month=month, closing_day=programme.billing_settings.closing_day)
        # The same rule as the close itself, checked here so that the queued task does not fail on it.
        opens_at = ends_at + datetime.timedelta(minutes=django_settings.BILLING_CLOSE_GRACE_MINUTES)
        if self.now < opens_at:
            self.add_error(
                "period",
                _("The period %(period)s has not ended yet; it can be closed from %(when)s.")
                % {"period": f"{year}-{month:02d}", "when": datetime_text(opens_at)},
            )
        elif Period.objects.filter(programme=programme, year=year, month=month, status=Period.Status.CLOSED).exists():
            self.add_error("period", _("This period is already closed."))
        return cleaned


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit trail, for example what was wrong in the statements."),
    )


class AmountRangeForm(forms.Form):
    """Yen either way (the absolute net amount), both bounds included."""

    amount_min = forms.IntegerField(
        label=_("from (yen)"), min_value=0, required=False, widget=forms.NumberInput(attrs={"style": "width: 9em"})
    )
    amount_max = forms.IntegerField(
        label=_("to (yen)"), min_value=0, required=False, widget=forms.NumberInput(attrs={"style": "width: 9em"})
    )

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("The lower amount is above the upper one."))
        return cleaned


class BillingAdjustmentForm(forms.ModelForm):
    class Meta:
        model = BillingAdjustment
        fields = ["store", "amount_yen", "tax", "reason", "corrects"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 2})}

    def clean_amount_yen(self):
        amount = self.cleaned_data["amount_yen"]
        if amount == 0:
            raise forms.ValidationError(_("Enter a non-zero amount."))
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("An adjustment needs a reason."))
        return reason

    def clean(self):
        cleaned = super().clean()
        store = cleaned.get("store") or (self.instance.store if self.instance.pk else None)
        corrects = cleaned.get("corrects")
        if store is not None and corrects is not None and corrects.store_id != store.pk:
            self.add_error("corrects", _("The corrected statement belongs to another store."))
        if (
            self.instance.pk
            and BillingAdjustment.objects.filter(pk=self.instance.pk, applied_in__isnull=False).exists()
        ):
            raise forms.ValidationError(_("This adjustment is already on a statement and can no longer change."))
        return cleaned
