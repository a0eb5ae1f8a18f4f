"""Forms of the coupons admin: a template as an operator fills it in, and the report's period."""

from __future__ import annotations

import datetime
import unicodedata

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coupons.models import CouponTemplate
from points.models import Participation, Programme
from stores.models import Store

# The browser's own date-and-time picker; the value is read in the local time zone (Asia/Tokyo).
LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
# Longer reports would scan too much for a page; a year is what an operator compares.
MAX_REPORT_DAYS = 366


def _local_datetime_field(label, help_text):
    return forms.DateTimeField(
        label=label,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME),
    )


class CouponTemplateForm(forms.ModelForm):
    starts_at = _local_datetime_field(_("issued from"), _("Japan time. Purchases from this moment on issue coupons."))
    ends_at = _local_datetime_field(
        _("issued until (exclusive)"),
        _("Japan time. No coupon is issued from this moment on; coupons already issued stay valid."),
    )
    store_ids = forms.ModelMultipleChoiceField(
        label=_("usable at these stores"),
        queryset=Store.objects.none(),
        required=False,
        widget=FilteredSelectMultiple(_("stores"), is_stacked=False),
        help_text=_("With no store and no category chosen, the coupon can be used at every store of the programme."),
    )
    categories = forms.TypedMultipleChoiceField(
        label=_("usable in these store categories"),
        choices=Store.Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "coupon-choice"}),
        help_text=_("The coupon can be used at the stores chosen above and at every store of these categories."),
    )

    class Meta:
        model = CouponTemplate
        fields = [
            "programme",
            "name",
            "status",
            "benefit",
            "discount_yen",
            "bonus_points",
            "funder",
            "condition",
            "purchases_needed",
            "within_days",
            "item_category",
            "min_amount_yen",
            "starts_at",
            "ends_at",
            "valid_days",
            "store_ids",
            "categories",
            "limit_per_member",
        ]

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
        if "store_ids" in self.fields:
            self.fields["store_ids"].queryset = stores

    def clean_store_ids(self) -> list[int]:
        return sorted(store.pk for store in self.cleaned_data["store_ids"])

    def clean_categories(self) -> list[str]:
        return sorted(set(self.cleaned_data["categories"]))

    def clean_item_category(self) -> str:
        return unicodedata.normalize("NFKC", self.cleaned_data["item_category"] or "").strip()

    def clean(self):
        cleaned = super().clean()
        self._check_period(cleaned)
        self._check_benefit(cleaned)
        self._check_condition(cleaned)
        self._check_stores(cleaned)
        return cleaned

    def _check_period(self, cleaned):
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The issuing period must end after it starts."))

    def _check_benefit(self, cleaned):
        # Only the chosen benefit is kept: the other amount is set to zero.
        if cleaned.get("benefit") == CouponTemplate.Benefit.DISCOUNT_YEN:
            cleaned["bonus_points"] = 0
            if not cleaned.get("discount_yen"):
                self.add_error("discount_yen", _("A discount coupon needs a discount of at least 1 yen."))
        elif cleaned.get("benefit") == CouponTemplate.Benefit.BONUS_POINTS:
            cleaned["discount_yen"] = 0
            if not cleaned.get("bonus_points"):
                self.add_error("bonus_points", _("A bonus-points coupon needs at least 1 point."))

    def _check_condition(self, cleaned):
        if cleaned.get("condition") == CouponTemplate.Condition.CATEGORY_PURCHASES:
            if not cleaned.get("item_category"):
                self.add_error("item_category", _("Name the item category whose purchases are counted."))
        else:
            cleaned["item_category"] = ""

    def _check_stores(self, cleaned):
        programme = cleaned.get("programme") or (self.instance.programme if self.instance.programme_id else None)
        chosen = set(cleaned.get("store_ids") or [])
        if programme is None or not chosen:
            return
        taking_part = set(
            Participation.objects.filter(programme=programme, store_id__in=chosen).values_list("store_id", flat=True)
        )
        if chosen - taking_part:
            names = ", ".join(str(store) for store in Store.objects.filter(pk__in=chosen - taking_part))
            self.add_error(
                "store_ids",
                _("These stores do not take part in %(programme)s: %(stores)s")
                % {"programme": programme, "stores": names},
            )


class ReportForm(forms.Form):
    start = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(
        label=_("to (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Japan time.")
    )
    programme = forms.ModelChoiceField(Programme.objects.all(), label=_("programme"), required=False)

    @classmethod
    def this_month(cls) -> ReportForm:
        today = timezone.localdate()
        return cls({"start": today.replace(day=1).isoformat(), "last": today.isoformat()})

    def clean(self):
        cleaned = super().clean()
        start, last = cleaned.get("start"), cleaned.get("last")
        if start and last:
            if last < start:
                self.add_error("last", _("The last day must not be before the first."))
            elif (last - start).days >= MAX_REPORT_DAYS:
                self.add_error("last", _("Choose at most %(days)d days.") % {"days": MAX_REPORT_DAYS})
        return cleaned

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The chosen days as a half-open period of dates: [start, the day after the last)."""
        return self.cleaned_data["start"], self.cleaned_data["last"] + datetime.timedelta(days=1)
