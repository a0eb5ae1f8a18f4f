"""Forms of the rallies admin: the rally and its goals as an operator fills them in, and the prize draw.

Participating stores and an area's stores are picked from the programme's stores
and stored as the plain lists of ids the till reads.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from points.models import Participation, Programme
from rallies.models import GoalReached, Rally, RallyGoal
from stores.models import Store

# The browser's own date-and-time picker; the value is read in the local time zone (Asia/Tokyo).
LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
MAX_SEED = 2**63 - 1


def _local_datetime_field(label, help_text):
    return forms.DateTimeField(
        label=label,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME),
    )


def _stores_field(label, help_text, *, required):
    return forms.ModelMultipleChoiceField(
        label=label,
        queryset=Store.objects.none(),
        required=required,
        widget=FilteredSelectMultiple(label, is_stacked=False),
        help_text=help_text,
    )


def _stores_of(programme_id) -> QuerySet:
    if programme_id is None:
        return Store.objects.filter(programmes__is_active=True).distinct().order_by("code")
    return Store.objects.filter(programmes=programme_id).order_by("code")


def _store_names(store_ids) -> str:
    return ", ".join(str(store) for store in Store.objects.filter(pk__in=store_ids).order_by("code"))


class RallyForm(forms.ModelForm):
    starts_at = _local_datetime_field(_("starts at"), _("Japan time. Purchases from this moment earn stamps."))
    ends_at = _local_datetime_field(
        _("ends at (exclusive)"),
        _("Japan time. The rally stops at this moment: for the whole of May, enter 1 June 00:00."),
    )
    store_ids = _stores_field(_("participating stores"), _("Purchases at these stores earn stamps."), required=True)

    class Meta:
        model = Rally
        fields = ["programme", "name", "status", "starts_at", "ends_at", "store_ids", "min_amount_yen", "stamp_per"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        programmes = Programme.objects.filter(is_active=True)
        if "programme" in self.fields:
            self.fields["programme"].queryset = programmes
            if self.instance.programme_id is None:
                only = list(programmes[:2])
                if len(only) == 1:
                    self.fields["programme"].initial = only[0].pk
        if "store_ids" in self.fields:
            self.fields["store_ids"].queryset = _stores_of(self.instance.programme_id)

    def clean_store_ids(self) -> list[int]:
        return sorted(store.pk for store in self.cleaned_data["store_ids"])

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The rally must end after it starts."))
        programme = cleaned.get("programme") or (self.instance.programme if self.instance.programme_id else None)
        chosen = set(cleaned.get("store_ids") or [])
        if programme is not None and chosen:
            taking_part = set(
                Participation.objects.filter(programme=programme, store_id__in=chosen).values_list(
                    "store_id", flat=True
                )
            )
            if chosen - taking_part:
                self.add_error(
                    "store_ids",
                    _("These stores do not take part in %(programme)s: %(stores)s")
                    % {"programme": programme, "stores": _store_names(chosen - taking_part)},
                )
        return cleaned


class RallyGoalForm(forms.ModelForm):
    area_store_ids = _stores_field(
        _("stores of the area"), _("For a goal “a stamp at every store of an area”."), required=False
    )

    class Meta:
        model = RallyGoal
        fields = ["position", "name", "kind", "target", "area_store_ids", "reward", "bonus_points", "funder"]
        # "name" alone reads as a person's name (氏名) in Japanese.
        labels = {"name": _("goal name")}

    def __init__(self, *args, programme_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_store_ids"].queryset = _stores_of(programme_id)

    def clean_area_store_ids(self) -> list[int]:
        return sorted(store.pk for store in self.cleaned_data["area_store_ids"])

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == RallyGoal.Kind.ALL_STORES_OF:
            if not cleaned.get("area_store_ids"):
                self.add_error("area_store_ids", _("Choose the stores of the area."))
            cleaned["target"] = None
        elif kind:
            if not cleaned.get("target"):
                self.add_error("target", _("Say how many stores or stamps reach the goal."))
            cleaned["area_store_ids"] = []
        if cleaned.get("reward") == RallyGoal.Reward.BONUS and not cleaned.get("bonus_points"):
            self.add_error("bonus_points", _("A bonus-point reward needs at least 1 point."))
        if cleaned.get("reward") == RallyGoal.Reward.DRAW:
            cleaned["bonus_points"] = 0
        return cleaned


class RallyGoalFormSet(forms.BaseInlineFormSet):
    """The goals against the rally as submitted with them: its stores, and the goals already reached."""

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "programme_id": self.instance.programme_id}

    def clean(self):
        super().clean()
        rally_stores = set(self.instance.store_ids or [])
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            goal = form.instance
            if form.cleaned_data.get("DELETE"):
                if goal.pk and GoalReached.objects.filter(goal=goal).exists():
                    form.add_error(None, _("Members have reached this goal; it cannot be deleted."))
                continue
            area = set(form.cleaned_data.get("area_store_ids") or [])
            if area - rally_stores:
                form.add_error(
                    "area_store_ids",
                    _("These stores do not take part in the rally: %(stores)s")
                    % {"stores": _store_names(area - rally_stores)},
                )
            kind, target = form.cleaned_data.get("kind"), form.cleaned_data.get("target")
            if kind == RallyGoal.Kind.DISTINCT_STORES and target and target > len(rally_stores):
                form.add_error(
                    "target",
                    _("The rally has only %(count)s stores.") % {"count": len(rally_stores)},
                )


class DrawForm(forms.Form):
    goal = forms.ModelChoiceField(label=_("goal"), queryset=RallyGoal.objects.none())
    winners = forms.IntegerField(label=_("number of winners"), min_value=1, max_value=10_000)
    seed = forms.IntegerField(
        label=_("seed"),
        min_value=0,
        max_value=MAX_SEED,
        required=False,
        help_text=_(
            "Empty for a new draw: a random seed is chosen and recorded. Enter the seed of an earlier draw "
            "to draw it again: the same members give the same winners."
        ),
    )

    def __init__(self, *args, rally: Rally, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].queryset = rally.goals.filter(reward=RallyGoal.Reward.DRAW)
