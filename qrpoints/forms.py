"""The admin's forms of events and flyers: what the database's constraints refuse, said on the form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from points.models import Funder
from qrpoints.models import Flyer, QrEvent
from stores.models import Store


def _check_period(form: forms.ModelForm, data: dict) -> None:
    start, end = data.get("valid_from"), data.get("valid_until")
    if start and end and start >= end:
        form.add_error("valid_until", _("The end must come after the start."))


def _check_cap(form: forms.ModelForm, data: dict, taken: int) -> None:
    cap = data.get("max_claims")
    if cap is not None and cap < taken:
        form.add_error(
            "max_claims", _("%(count)s members have already claimed it: the limit cannot be lower.") % {"count": taken}
        )


def _in_programme(programme, stores) -> list[Store]:
    """The stores among `stores` that do not take part in the programme."""
    if programme is None:
        return []
    taking_part = set(Store.objects.filter(participation__programme=programme).values_list("pk", flat=True))
    return [store for store in stores if store.pk not in taking_part]


class QrEventForm(forms.ModelForm):
    class Meta:
        model = QrEvent
        fields = ["programme", "name", "points", "valid_from", "valid_until", "max_claims", "funder", "store"]

    def clean(self):
        data = super().clean()
        _check_period(self, data)
        _check_cap(self, data, self.instance.claims_count)
        store = data.get("store")
        if data.get("funder") == Funder.STORE and store is None:
            self.add_error("store", _("Name the store that pays for the points."))
        outside = _in_programme(data.get("programme"), [store] if store else [])
        if outside:
            self.add_error("store", _("%(store)s does not take part in this programme.") % {"store": outside[0]})
        return data


class FlyerForm(forms.ModelForm):
    class Meta:
        model = Flyer
        fields = ["programme", "name", "points", "stores", "valid_from", "valid_until", "max_claims", "funder"]

    def clean(self):
        data = super().clean()
        _check_period(self, data)
        _check_cap(self, data, self.instance.rights_count)
        outside = _in_programme(data.get("programme"), data.get("stores") or [])
        if outside:
            names = ", ".join(str(store) for store in outside)
            self.add_error("stores", _("Not in this programme: %(stores)s.") % {"stores": names})
        return data
