"""Forms of mail to members in the admin: the mailing as an operator writes it (text and segment), the time of
a scheduled sending, and a programme's expiry reminder."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mailing.composing import templates_check
from mailing.models import ExpiryReminder, Mailing
from mailing.services import reminder_default_text
from members.models import Member
from points.models import Programme
from ranks.models import Rank
from stores.models import Store

LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
# Commas (half- or full-width, or the Japanese 、), spaces and line breaks all separate entries.
SEPARATORS = re.compile(r"[,、\s]+")
POSTAL_PREFIX = re.compile(r"\d{1,7}")
TEMPLATE_HELP = _(
    "You may write {{ name }}, {{ balance }}, {{ expiring_points }}, {{ expiring_on }} and {{ programme }}: "
    "each becomes the member's own (their name, balance, points expiring next month and the first day they "
    "expire, the programme's name)."
)


def _entries(text: str) -> list[str]:
    """The entries of a comma-separated field, full-width characters made half-width, without repeats."""
    normalised = unicodedata.normalize("NFKC", text or "")
    return list(dict.fromkeys(entry for entry in SEPARATORS.split(normalised) if entry))


def _check_templates(form, cleaned) -> None:
    subject, body = cleaned.get("subject"), cleaned.get("body")
    if subject is None or body is None:
        return
    try:
        templates_check(subject=subject, body=body)
    except (TemplateSyntaxError, TemplateDoesNotExist, LookupError, TypeError, ValueError) as error:
        form.add_error(None, _("The text cannot be used as a template: %(error)s") % {"error": error})


class MailingForm(forms.ModelForm):
    genders = forms.TypedMultipleChoiceField(
        label=_("genders"),
        choices=[(value, label) for value, label in Member.Gender.choices if value],
        required=False,
        widget=forms.CheckboxSelectMultiple,
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
    rank_ids = forms.ModelMultipleChoiceField(
        label=_("ranks"),
        queryset=Rank.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members at one of these ranks in the programme. None: any rank."),
    )
    store_ids = forms.ModelMultipleChoiceField(
        label=_("visited one of these stores"),
        queryset=Store.objects.none(),
        required=False,
        widget=FilteredSelectMultiple(_("stores"), is_stacked=False),
        help_text=_("Members who bought at one of these stores at any time. None: not a condition."),
    )

    class Meta:
        model = Mailing
        fields = [
            "programme",
            "purpose",
            "subject",
            "body",
            "genders",
            "age_min",
            "age_max",
            "postal_prefixes",
            "rank_ids",
            "visited_within_days",
            "not_visited_for_days",
            "store_ids",
            "expiring_next_month",
        ]
        widgets = {"body": forms.Textarea(attrs={"rows": 14, "cols": 80})}
        help_texts = {"subject": TEMPLATE_HELP, "body": TEMPLATE_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "programme" not in self.fields:
            return  # read-only: the mailing can no longer change
        programmes = Programme.objects.filter(is_active=True)
        self.fields["programme"].queryset = programmes
        if self.instance.programme_id is None:
            only = list(programmes[:2])
            if len(only) == 1:
                self.fields["programme"].initial = only[0].pk
        ranks = Rank.objects.filter(programme__in=programmes).select_related("programme")
        stores = Store.objects.filter(programmes__in=programmes).distinct()
        if self.instance.programme_id is not None:
            ranks = Rank.objects.filter(programme=self.instance.programme_id).select_related("programme")
            stores = Store.objects.filter(programmes=self.instance.programme_id)
        self.fields["rank_ids"].queryset = ranks.order_by("programme__code", "threshold_yen")
        self.fields["store_ids"].queryset = stores.order_by("code")
        self.initial["postal_prefixes"] = ", ".join(self.instance.postal_prefixes or [])
        self.initial.setdefault("rank_ids", self.instance.rank_ids or [])
        self.initial.setdefault("store_ids", self.instance.store_ids or [])

    def clean_genders(self) -> list[str]:
        return sorted(set(self.cleaned_data["genders"]))

    def clean_rank_ids(self) -> list[int]:
        return sorted(rank.pk for rank in self.cleaned_data["rank_ids"])

    def clean_store_ids(self) -> list[int]:
        return sorted(store.pk for store in self.cleaned_data["store_ids"])

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

    def clean(self):
        cleaned = super().clean()
        _check_templates(self, cleaned)
        age_min, age_max = cleaned.get("age_min"), cleaned.get("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            self.add_error("age_max", _("The upper age must not be below the lower age."))
        programme = cleaned.get("programme")
        if programme is not None:
            if Rank.objects.filter(pk__in=cleaned.get("rank_ids") or []).exclude(programme=programme).exists():
                self.add_error("rank_ids", _("Choose ranks of the mailing's programme."))
            if Store.objects.filter(pk__in=cleaned.get("store_ids") or []).exclude(programmes=programme).exists():
                self.add_error("store_ids", _("Choose stores of the mailing's programme."))
        return cleaned


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("send at"),
        help_text=_("Japan time."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_DATETIME),
    )

    def clean_send_at(self):
        send_at = self.cleaned_data["send_at"]
        if send_at <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future, or send the mailing now."))
        return send_at


class ExpiryReminderForm(forms.ModelForm):
    class Meta:
        model = ExpiryReminder
        fields = ["programme", "active", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10, "cols": 80})}
        help_texts = {"subject": TEMPLATE_HELP, "body": TEMPLATE_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.initial.setdefault("subject", reminder_default_text()[0])
            self.initial.setdefault("body", reminder_default_text()[1])

    def clean(self):
        cleaned = super().clean()
        _check_templates(self, cleaned)
        return cleaned
