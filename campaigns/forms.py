"""Forms of the campaigns admin: the campaign as an operator fills it in, and the forecast's period.

The campaign's JSON lists (weekdays, stores, categories, genders, postal prefixes,
item categories) are edited as checkboxes, store pickers and comma-separated
text, and stored as the plain lists the rules read.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign
from members.models import Member
from points.models import Participation, Programme
from ranks.models import Rank
from stores.models import Store

# The browser's own date-and-time picker; the value is read in the local time zone (Asia/Tokyo).
LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
# Commas (half- or full-width, or the Japanese 、), spaces and line breaks all separate entries.
SEPARATORS = re.compile(r"[,、\s]+")
POSTAL_PREFIX = re.compile(r"\d{1,7}")
MAX_ITEM_CATEGORY = 50


def _local_datetime_field(label, help_text):
    return forms.DateTimeField(
        label=label,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME),
    )


def _checkboxes(label, choices, *, coerce=str, help_text=""):
    return forms.TypedMultipleChoiceField(
        label=label,
        choices=choices,
        coerce=coerce,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "campaign-choice"}),
        help_text=help_text,
    )


def _stores_field(label, help_text):
    return forms.ModelMultipleChoiceField(
        label=label,
        queryset=Store.objects.none(),
        required=False,
        widget=FilteredSelectMultiple(label, is_stacked=False),
        help_text=help_text,
    )


def _entries(text: str) -> list[str]:
    """The entries of a comma-separated field, full-width characters made half-width, without repeats."""
    normalised = unicodedata.normalize("NFKC", text or "")
    return list(dict.fromkeys(entry for entry in SEPARATORS.split(normalised) if entry))


class CampaignForm(forms.ModelForm):
    starts_at = _local_datetime_field(_("starts at"), _("Japan time. The campaign gives bonuses from this moment."))
    ends_at = _local_datetime_field(
        _("ends at (exclusive)"),
        _("Japan time. The campaign stops at this moment: for the whole of May, enter 1 June 00:00."),
    )
    weekdays = _checkboxes(
        _("weekdays"), [(day, WEEKDAYS_ABBR[day]) for day in range(7)], coerce=int, help_text=_("None: every day.")
    )
    hour_from = forms.TypedChoiceField(
        label=_("from hour"),
        choices=[("", "—"), *((hour, f"{hour}:00") for hour in range(24))],
        coerce=int,
        empty_value=None,
        required=False,
    )
    hour_to = forms.TypedChoiceField(
        label=_("until hour (exclusive)"),
        choices=[("", "—"), *((hour, f"{hour}:00") for hour in range(1, 25))],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("From 17:00 until 20:00 gives bonuses on purchases from 17:00 to 19:59. Empty: all day."),
    )
    store_ids = _stores_field(_("only at these stores"), _("None chosen: every store of the programme."))
    excluded_store_ids = _stores_field(_("not at these stores"), "")
    categories = _checkboxes(
        _("only in these store categories"), Store.Category.choices, help_text=_("None: every category.")
    )
    excluded_categories = _checkboxes(_("not in these store categories"), Store.Category.choices)
    genders = _checkboxes(
        _("genders"),
        [(value, label) for value, label in Member.Gender.choices if value],
        help_text=_("None: everyone, including members who did not give their gender."),
    )
    postal_prefixes = forms.CharField(
        label=_("postal code prefixes"),
        required=False,
        help_text=_(
            "The start of the member's postal code, digits only, separated by commas: "
            "for example 100, 1010. Empty: any postal code."
        ),
    )
    item_categories = forms.CharField(
        label=_("item categories"),
        required=False,
        help_text=_(
            "Item categories as the terminals send them, separated by commas. The campaign then applies "
            "only when the purchase includes one of them. Empty: any purchase."
        ),
    )

    class Meta:
        model = Campaign
        fields = [
            "programme",
            "name",
            "status",
            "kind",
            "multiplier_percent",
            "fixed_points",
            "starts_at",
            "ends_at",
            "weekdays",
            "hour_from",
            "hour_to",
            "store_ids",
            "excluded_store_ids",
            "categories",
            "excluded_categories",
            "genders",
            "age_min",
            "age_max",
            "postal_prefixes",
            "registered",
            "birthday_month",
            "min_rank",
            "min_amount_yen",
            "first_purchase_at_store",
            "item_categories",
            "budget_points",
            "cap_per_member_day",
            "cap_per_member",
            "funder",
            "usable_only_at",
            "priority",
            "exclusive",
        ]
        # "name" alone reads as a person's name (氏名) in Japanese.
        labels = {"name": _("campaign name")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        programmes = Programme.objects.filter(is_active=True)
        if "programme" in self.fields:
            self.fields["programme"].queryset = programmes
            if self.instance.programme_id is None:
                only = list(programmes[:2])
                if len(only) == 1:
                    self.fields["programme"].initial = only[0].pk
        stores = Store.objects.filter(programmes__in=programmes).distinct().order_by("code")
        if self.instance.programme_id is not None:
            stores = Store.objects.filter(programmes=self.instance.programme_id).order_by("code")
        for name in ("store_ids", "excluded_store_ids"):
            if name in self.fields:
                self.fields[name].queryset = stores
        for name in ("postal_prefixes", "item_categories"):
            self.initial[name] = ", ".join(getattr(self.instance, name) or [])
        if "min_rank" in self.fields:
            ranks = Rank.objects.filter(programme__in=programmes).select_related("programme")
            if self.instance.programme_id is not None:
                ranks = ranks.filter(programme=self.instance.programme_id)
            self.fields["min_rank"].queryset = ranks.order_by("programme__code", "threshold_yen")

    # --- each field as the rules store it ------------------------------------------------

    def clean_weekdays(self) -> list[int]:
        return sorted(set(self.cleaned_data["weekdays"]))

    def clean_store_ids(self) -> list[int]:
        return sorted(store.pk for store in self.cleaned_data["store_ids"])

    def clean_excluded_store_ids(self) -> list[int]:
        return sorted(store.pk for store in self.cleaned_data["excluded_store_ids"])

    def clean_postal_prefixes(self) -> list[str]:
        prefixes = _entries(self.cleaned_data["postal_prefixes"])
        wrong = [prefix for prefix in prefixes if not POSTAL_PREFIX.fullmatch(prefix)]
        if wrong:
            raise forms.ValidationError(
                _(
                    "Postal code prefixes are 1 to 7 digits, without hyphens, separated by commas "
                    "(for example 100, 1010). Not understood: %(wrong)s"
                ),
                params={"wrong": ", ".join(wrong)},
                code="postal_prefix",
            )
        return prefixes

    def clean_item_categories(self) -> list[str]:
        categories = _entries(self.cleaned_data["item_categories"])
        if any(len(category) > MAX_ITEM_CATEGORY for category in categories):
            raise forms.ValidationError(
                _("An item category is at most %(max)d characters."), params={"max": MAX_ITEM_CATEGORY}
            )
        return categories

    # --- the conditions together ---------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        self._check_period(cleaned)
        self._check_hours(cleaned)
        self._check_ages(cleaned)
        self._check_amount(cleaned)
        self._check_stores(cleaned)
        self._check_categories(cleaned)
        self._check_budget(cleaned)
        self._check_rank(cleaned)
        return cleaned

    def _check_rank(self, cleaned):
        rank, programme = cleaned.get("min_rank"), cleaned.get("programme")
        programme_id = programme.pk if programme is not None else self.instance.programme_id
        if rank is not None and programme_id is not None and rank.programme_id != programme_id:
            self.add_error("min_rank", _("Choose a rank of the campaign's programme."))

    def _check_period(self, cleaned):
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The campaign must end after it starts."))

    def _check_hours(self, cleaned):
        hour_from, hour_to = cleaned.get("hour_from"), cleaned.get("hour_to")
        if hour_from is not None and hour_to is not None and hour_to <= hour_from:
            self.add_error(
                "hour_to",
                _(
                    "The end hour must be later than the start hour. A campaign over midnight is two "
                    "campaigns (for example 22:00–24:00 and 0:00–2:00)."
                ),
            )

    def _check_ages(self, cleaned):
        age_min, age_max = cleaned.get("age_min"), cleaned.get("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            self.add_error("age_max", _("The upper age must not be below the lower age."))

    def _check_amount(self, cleaned):
        kind = cleaned.get("kind")
        if kind == Campaign.Kind.MULTIPLIER and (cleaned.get("multiplier_percent") or 0) <= 100:
            self.add_error(
                "multiplier_percent",
                _("A multiplier campaign needs a multiplier above 100% (200% = double points)."),
            )
        if kind == Campaign.Kind.FIXED and not cleaned.get("fixed_points"):
            self.add_error("fixed_points", _("A fixed-bonus campaign needs a bonus of at least 1 point."))

    def _check_stores(self, cleaned):
        included, excluded = cleaned.get("store_ids") or [], cleaned.get("excluded_store_ids") or []
        both = set(included) & set(excluded)
        if both:
            self.add_error(
                "excluded_store_ids",
                _("A store cannot be both included and excluded: %(stores)s") % {"stores": self._store_names(both)},
            )
        programme = cleaned.get("programme") or (self.instance.programme if self.instance.programme_id else None)
        chosen = set(included) | set(excluded)
        if programme is None or not chosen:
            return
        taking_part = set(
            Participation.objects.filter(programme=programme, store_id__in=chosen).values_list("store_id", flat=True)
        )
        if chosen - taking_part:
            self.add_error(
                None,
                _("These stores do not take part in %(programme)s: %(stores)s")
                % {"programme": programme, "stores": self._store_names(chosen - taking_part)},
            )

    def _check_categories(self, cleaned):
        both = set(cleaned.get("categories") or []) & set(cleaned.get("excluded_categories") or [])
        if both:
            labels = dict(Store.Category.choices)
            self.add_error(
                "excluded_categories",
                _("A category cannot be both included and excluded: %(categories)s")
                % {"categories": ", ".join(str(labels[category]) for category in sorted(both))},
            )

    def _check_budget(self, cleaned):
        budget = cleaned.get("budget_points")
        if budget is not None and budget < self.instance.budget_used:
            self.add_error(
                "budget_points",
                _("The campaign has already given %(used)s points; the budget cannot be lower.")
                % {"used": f"{self.instance.budget_used:,}"},
            )

    @staticmethod
    def _store_names(store_ids) -> str:
        return ", ".join(str(store) for store in Store.objects.filter(pk__in=store_ids).order_by("code"))


class ForecastForm(forms.Form):
    weeks = forms.IntegerField(
        label=_("weeks"),
        min_value=1,
        max_value=52,
        initial=4,
        help_text=_("How many past weeks of real purchases to replay the campaign over."),
    )
