"""The member site's forms: what a member types, checked with messages in their language."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from members import validation
from members.models import Card
from offers.services import PaymentCardError, payment_card_token_checked


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("e-mail"), max_length=254)


class CardCodeForm(forms.Form):
    number = forms.CharField(
        label=_("card number"), max_length=64, help_text=_("As printed on the card or the receipt.")
    )
    code = forms.CharField(
        label=_("registration code"), max_length=20, help_text=_("Printed on the receipt's registration notice.")
    )


class NewCardForm(CardCodeForm):
    card_type = forms.ChoiceField(label=_("card type"), choices=Card.CardType.choices)


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    name_kana = forms.CharField(label=_("name (kana)"), max_length=100)
    email = forms.EmailField(label=_("e-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    postal_code = forms.CharField(label=_("postal code"), max_length=8, required=False)
    address = forms.CharField(label=_("address"), max_length=200, required=False)

    def clean(self):
        cleaned = super().clean()
        for field in ("name", "name_kana", "phone", "postal_code", "address"):
            if field in cleaned and cleaned[field]:
                try:
                    cleaned[field] = validation.field_clean(field, cleaned[field])
                except (ValueError, ValidationError) as exc:
                    self.add_error(field, exc.messages if isinstance(exc, ValidationError) else str(exc))
        return cleaned


def consent_form_class(lines):
    """A form with a box per purpose the member is asked about (membersite.selectors.member_consent_lines)."""
    fields = {
        line.key: forms.BooleanField(label=line.label, help_text=line.detail, required=False, initial=line.given)
        for line in lines
    }
    return type("ConsentForm", (forms.Form,), fields)


class RegistrationForm(ProfileForm):
    agree = forms.BooleanField(label=_("I agree to the terms and the privacy policy"), required=True)


class WithdrawForm(forms.Form):
    confirm = forms.CharField(
        label=_("Type 退会 to confirm"), max_length=10, help_text=_("Your points will be lost and cannot be restored.")
    )

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value not in ("退会", "withdraw"):
            raise ValidationError(_("Type 退会 exactly to confirm."))
        return value


class DonationForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("organisation"), coerce=int)
    points = forms.IntegerField(label=_("points"), min_value=1, max_value=10_000_000)
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(o.pk, f"{o.name}（{o.programme.name}）") for o in organisations]


class PaymentCardForm(forms.Form):
    token = forms.CharField(
        label=_("card token"),
        max_length=100,
        help_text=_(
            "The token your card issuer shows for the card (8 to 64 letters and digits), never the card number."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_token(self):
        try:
            return payment_card_token_checked(self.cleaned_data["token"])
        except PaymentCardError as exc:
            if exc.code == "card_number" and hasattr(self.data, "copy"):
                # Not shown back on the page either.
                self.data = self.data.copy()
                self.data["token"] = ""
            raise ValidationError(str(exc)) from None
