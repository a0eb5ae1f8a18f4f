"""The offer form, shared by the admin (the secretariat, for any merchant) and the portal (a merchant, for
its own stores, where the programme allows). Areas are cell or postal-area names, never coordinates."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from members.models import Member
from offers.models import Offer
from stores.models import Store

LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
SEPARATORS = re.compile(r"[,、\s]+")
AREA = re.compile(r"[0-9A-Za-z\-]{1,12}")

FIELDS = [
    "title",
    "description",
    "stores",
    "starts_at",
    "ends_at",
    "weekdays",
    "hour_from",
    "hour_to",
    "min_purchase_yen",
    "max_purchase_yen",
    "benefit",
    "benefit_fixed",
    "benefit_rate_bp",
    "benefit_cap",
    "per_member_limit",
    "budget",
    "waiting_days",
    "genders",
    "age_min",
    "age_max",
    "min_rank",
    "not_visited_days",
    "shops_in_category",
    "postal_prefixes",
    "areas",
]


def _entries(text: str) -> list[str]:
    normalised = unicodedata.normalize("NFKC", text or "")
    return list(dict.fromkeys(entry for entry in SEPARATORS.split(normalised) if entry))


class OfferForm(forms.ModelForm):
    starts_at = forms.DateTimeField(
        label=_("starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME)
    )
    ends_at = forms.DateTimeField(
        label=_("ends at (exclusive)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("weekdays"),
        choices=[(day, WEEKDAYS_ABBR[day]) for day in range(7)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: every day."),
    )
    genders = forms.TypedMultipleChoiceField(
        label=_("genders"),
        choices=[choice for choice in Member.Gender.choices if choice[0]],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    postal_prefixes = forms.CharField(
        label=_("postal code prefixes"), required=False, help_text=_("Comma-separated, e.g. 150, 151.")
    )
    areas = forms.CharField(
        label=_("areas"),
        required=False,
        help_text=_(
            "Geohash cells or postal areas, comma-separated; the app decides on the phone, no position is sent."
        ),
    )

    class Meta:
        model = Offer
        fields = ["programme", "merchant", *FIELDS, "funder", "fee_per_redemption_yen"]

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        for name in ("postal_prefixes", "areas"):
            value = self.initial.get(name)
            if isinstance(value, list):
                self.initial[name] = ", ".join(value)
        if "stores" in self.fields:
            stores = Store.objects.order_by("code")
            if merchant is not None:
                stores = stores.filter(merchant=merchant)
            self.fields["stores"].queryset = stores

    def clean_postal_prefixes(self):
        entries = _entries(self.cleaned_data.get("postal_prefixes"))
        if any(not entry.isdigit() or len(entry) > 7 for entry in entries):
            raise forms.ValidationError(_("Postal code prefixes are 1 to 7 digits."))
        return entries

    def clean_areas(self):
        entries = _entries(self.cleaned_data.get("areas"))
        if any(not AREA.fullmatch(entry) for entry in entries):
            raise forms.ValidationError(_("An area is a cell or area code of up to 12 letters and digits."))
        return entries

    def clean(self):
        cleaned = super().clean()
        merchant = self.merchant or cleaned.get("merchant")
        stores = cleaned.get("stores") or []
        if merchant is not None and any(store.merchant_id != merchant.pk for store in stores):
            self.add_error("stores", _("An offer runs only at the merchant's own stores."))
        if not cleaned.get("benefit_fixed") and not cleaned.get("benefit_rate_bp"):
            self.add_error("benefit_fixed", _("An offer needs a fixed benefit or a rate."))
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        return cleaned


class PortalOfferForm(OfferForm):
    """The merchant's own offer in the portal: programme, merchant, funder and fee are set for it."""

    class Meta(OfferForm.Meta):
        fields = FIELDS
