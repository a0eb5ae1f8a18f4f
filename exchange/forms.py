"""Forms of the exchange desk and its admin: finding a member, the basket and its confirmation, cancelling,
stock received or written off, and the reports' periods."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models import Counter, Item
from points.models import Programme

# One desk basket: a few items, a few of each. Larger numbers are typing mistakes.
MAX_QUANTITY = 99
IDEMPOTENCY_KEY_RE = re.compile(r"^desk-[0-9a-f]{32}$")
REASON_MAX = 300


def new_idempotency_key() -> str:
    """Made when the basket is shown; the confirmation posts it back, so a double submit exchanges once."""
    return f"desk-{uuid.uuid4().hex}"


class CardLookupForm(forms.Form):
    """What a USB card reader types (the number, then Enter), or what staff type from the card."""

    card = forms.CharField(
        label=_("card number"),
        max_length=80,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "inputmode": "text"}),
        help_text=_("Hold the card to the reader, or type its number and press Enter."),
    )


class PhoneLookupForm(forms.Form):
    phone = forms.CharField(
        label=_("phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
        help_text=_("Exact number; hyphens and spaces do not matter."),
    )

    def clean_phone(self) -> str:
        digits = re.sub(r"\D", "", self.cleaned_data["phone"])
        if len(digits) < 10:
            raise forms.ValidationError(_("A phone number has at least 10 digits."))
        return self.cleaned_data["phone"]


class CounterChoiceForm(forms.Form):
    counter = forms.ModelChoiceField(label=_("counter"), queryset=Counter.objects.none(), empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counter"].queryset = Counter.objects.filter(is_active=True).select_related("programme")


class _ReasonField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", REASON_MAX)
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 60}))
        super().__init__(**kwargs)


class BasketForm(forms.Form):
    """The items and quantities chosen at the desk, for one member at one counter.

    One quantity field per item (`qty_<item id>`); the hidden idempotency key travels from the basket to the
    confirmation and on to the exchange, so pressing "confirm" twice makes one exchange.
    """

    reserve = forms.BooleanField(
        label=_("Reserve for later collection"),
        required=False,
        help_text=_("For a request by phone: the items are set aside and the points taken now."),
    )
    override_reason = _ReasonField(
        label=_("Reason for exchanging outside a window"),
        required=False,
        help_text=_("Only when the desk is outside an exchange window; leave empty otherwise."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, items: list[Item], can_override: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[self.quantity_field(item)] = forms.IntegerField(
                label=item.name,
                min_value=0,
                max_value=MAX_QUANTITY,
                required=False,
                initial=0,
                widget=forms.NumberInput(attrs={"class": "desk-qty", "min": 0, "max": MAX_QUANTITY, "size": 3}),
            )
        if not can_override:
            del self.fields["override_reason"]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_idempotency_key())

    @staticmethod
    def quantity_field(item: Item) -> str:
        return f"qty_{item.pk}"

    def clean_idempotency_key(self) -> str:
        key = self.cleaned_data["idempotency_key"]
        if not IDEMPOTENCY_KEY_RE.match(key):
            raise forms.ValidationError(_("The form is out of date; open the desk again."))
        return key

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.lines():
            raise forms.ValidationError(_("Choose at least one item."))
        return cleaned

    def lines(self) -> list[tuple[Item, int]]:
        """(item, quantity) for every item chosen, in catalogue order."""
        data = getattr(self, "cleaned_data", {})
        return [(item, data[self.quantity_field(item)]) for item in self.items if data.get(self.quantity_field(item))]

    def quantity_inputs(self):
        """The quantity fields next to their items, for the desk table."""
        return [(item, self[self.quantity_field(item)]) for item in self.items]


class CollectForm(forms.Form):
    override_reason = _ReasonField(label=_("Reason for handing over outside a window"), required=False)


class CancelForm(forms.Form):
    reason = _ReasonField(
        label=_("Reason for cancelling"),
        help_text=_("The points go back to the member's original lots and the goods back into stock."),
    )


class StockForm(forms.Form):
    """Stock received from the supplier, or written off (lost, damaged, expired)."""

    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=100_000)
    reason = _ReasonField(label=_("reason"), required=False)

    def __init__(self, *args, write_off: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if write_off:
            self.fields["reason"].required = True
            self.fields["reason"].help_text = _("Why the stock is gone: lost, damaged, expired.")
        else:
            self.fields["reason"].help_text = _("For example the delivery note's number.")


class DeskReportForm(forms.Form):
    day = forms.DateField(label=_("day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    counter = forms.ModelChoiceField(
        label=_("counter"), queryset=Counter.objects.none(), required=False, empty_label=_("All counters")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counter"].queryset = Counter.objects.all()
        if not self.is_bound:
            self.initial.setdefault("day", timezone.localdate())


class MonthlyCostForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("programme"), queryset=Programme.objects.none(), empty_label=None)
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    month = forms.IntegerField(
        label=_("month"),
        min_value=1,
        max_value=12,
        required=False,
        help_text=_("Choose a month to see its items."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.order_by("code")
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("year", today.year)
            self.initial.setdefault("programme", Programme.objects.order_by("code").first())
