"""Forms of the legacy import's admin: the upload, and the reason for a rollback."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from legacy.formats import CARDS, LOTS, MEMBERS, RANKS, TOTALS
from points.models import Programme

MAX_FILE_BYTES = 500 * 1024 * 1024


class UploadForm(forms.Form):
    programme = forms.ModelChoiceField(
        Programme.objects.filter(is_active=True).order_by("code"),
        label=_("Programme"),
        help_text=_("The programme the old system's members and points join."),
    )
    members = forms.FileField(label=MEMBERS.name, help_text=_("Members (required)."))
    cards = forms.FileField(label=CARDS.name, required=False, help_text=_("Cards, several per member if need be."))
    lots = forms.FileField(label=LOTS.name, required=False, help_text=_("Point lots, with their dates."))
    ranks = forms.FileField(label=RANKS.name, required=False, help_text=_("Ranks, with their validity."))
    totals = forms.FileField(
        label=TOTALS.name, required=False, help_text=_("The old system's control totals, to reconcile against.")
    )

    FILES = {
        "members": MEMBERS.name,
        "cards": CARDS.name,
        "lots": LOTS.name,
        "ranks": RANKS.name,
        "totals": TOTALS.name,
    }

    def clean(self):
        cleaned = super().clean()
        for field in self.FILES:
            upload = cleaned.get(field)
            if upload is not None and upload.size > MAX_FILE_BYTES:
                self.add_error(field, _("The file is larger than 500 MB."))
        return cleaned

    def files_by_name(self) -> dict:
        return {name: self.cleaned_data[field] for field, name in self.FILES.items() if self.cleaned_data.get(field)}


class RollbackForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=_("Kept in the ledger and the audit trail."),
    )
