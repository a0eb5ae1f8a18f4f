"""Forms of the donations admin: the desk's donation, and the month to close."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.periods import parse_period
from points.models import Programme


class DeskDonationForm(forms.Form):
    member = forms.CharField(
        label=_("Member id or card number"),
        max_length=40,
        help_text=_("The member id (M and 10 letters) or the number of one of the member's cards."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    points = forms.IntegerField(label=_("Points to donate"), min_value=1, max_value=100_000_000)


class DeskConfirmForm(forms.Form):
    """What the confirmation page posts back: the member found, the points, and the key made when the page
    was shown, so that a double submit donates once."""

    member_id = forms.IntegerField(widget=forms.HiddenInput)
    points = forms.IntegerField(min_value=1, max_value=100_000_000, widget=forms.HiddenInput)
    key = forms.CharField(max_length=100, widget=forms.HiddenInput)


class CloseMonthForm(forms.Form):
    programme = forms.ModelChoiceField(Programme.objects.order_by("code"), label=_("Programme"))
    period = forms.CharField(
        label=_("Month"),
        max_length=7,
        help_text=_("The month to settle, as YYYY-MM (for example 2026-10), by the programme's closing day."),
    )

    def clean_period(self) -> tuple[int, int]:
        try:
            return parse_period(self.cleaned_data["period"])
        except ValueError:
            raise forms.ValidationError(_("Enter the month as YYYY-MM, for example 2026-10.")) from None
