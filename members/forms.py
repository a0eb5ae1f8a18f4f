"""Back-office forms for members and cards.

Personal fields are plain form fields, not model fields of the form: the
admin hands their cleaned values to members.services, which encrypts them and
sets the blind indexes together. A ModelForm writing them straight onto the
instance would leave the indexes stale.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin import widgets
from django.utils.translation import gettext_lazy as _

from members import validation
from members.models import Card, Member
from members.services import (
    PERSONAL_FIELDS,
    CardNumberError,
    card_find,
    card_in_use_message,
    card_number_normalise,
)


class MemberForm(forms.ModelForm):
    name = forms.CharField(label=_("name"), max_length=validation.MAX_LENGTH["name"], required=False)
    name_kana = forms.CharField(label=_("name (kana)"), max_length=validation.MAX_LENGTH["name_kana"], required=False)
    birth_date = forms.DateField(label=_("birth date"), required=False, widget=widgets.AdminDateWidget)
    phone = forms.CharField(
        label=_("phone"),
        max_length=validation.MAX_LENGTH["phone"],
        required=False,
        help_text=_("Digits, with or without hyphens (10 or 11 digits)."),
    )
    email = forms.EmailField(label=_("e-mail"), required=False)
    address = forms.CharField(
        label=_("address"),
        max_length=validation.MAX_LENGTH["address"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )

    class Meta:
        model = Member
        fields = [
            "gender",
            "birth_year",
            "birth_month",
            "postal_code",
            "terms_version",
            "opt_in_mail_magazine",
            "opt_in_direct_mail",
            "opt_in_targeted_offers",
        ]
        help_texts = {
            "birth_year": _("Filled in from the birth date when one is given."),
            "birth_month": _("Filled in from the birth date when one is given."),
            "terms_version": _("Required to register a member."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for field in self.personal_fields:
                self.initial.setdefault(field, getattr(self.instance, field))

    @property
    def personal_fields(self) -> list[str]:
        """The personal fields this form carries (none for staff who may not see them)."""
        return [field for field in PERSONAL_FIELDS if field in self.fields]

    @property
    def is_registration(self) -> bool:
        return self.instance.pk is None or self.instance.status == Member.Status.UNREGISTERED

    def personal_data(self) -> dict:
        """Cleaned personal values for members.services (only the fields this form has)."""
        return {field: self.cleaned_data.get(field) for field in self.personal_fields}

    # Each field as the import cleans it too (members.validation).
    def clean_name(self):
        return validation.name_clean(self.cleaned_data["name"])

    def clean_name_kana(self):
        return validation.name_kana_clean(self.cleaned_data["name_kana"])

    def clean_phone(self):
        return validation.phone_clean(self.cleaned_data["phone"])

    def clean_email(self):
        return validation.email_clean(self.cleaned_data["email"])

    def clean_address(self):
        return validation.address_clean(self.cleaned_data["address"])

    def clean_postal_code(self):
        return validation.postal_code_clean(self.cleaned_data.get("postal_code", ""))

    def clean(self):
        cleaned = super().clean()
        birth_date = cleaned.get("birth_date")
        if birth_date:
            # The clear year and month are what statistics read; they follow the full date.
            cleaned["birth_year"] = birth_date.year
            cleaned["birth_month"] = birth_date.month
        if self.is_registration:
            # A name that is not on the form, or already refused, is not asked for again.
            name = cleaned.get("name", "") if "name" in self.fields and "name" not in self.errors else None
            errors = validation.registration_errors(terms_version=cleaned.get("terms_version"), name=name)
            for field, error in errors.items():
                self.add_error(field, error)
        return cleaned


class CardNumberFormMixin:
    """Card type and number, normalised for the type; refuses a number already in use."""

    def clean_card_number(self, *, member: Member | None) -> str | None:
        card_type = self.cleaned_data.get("card_type")
        number = self.cleaned_data.get("number")
        if not card_type or not number:
            return None
        try:
            number = card_number_normalise(number=number, card_type=card_type)
        except CardNumberError as exc:
            self.add_error("number", str(exc))
            return None
        existing = card_find(number=number)
        if existing is not None:
            self.add_error("number", card_in_use_message(card=existing, member=member))
            return None
        self.cleaned_data["number"] = number
        return number


class AttachCardForm(CardNumberFormMixin, forms.Form):
    card_type = forms.ChoiceField(label=_("card type"), choices=Card.CardType.choices)
    number = forms.CharField(
        label=_("card number"),
        max_length=80,
        help_text=_("Transit IC: the 16 hexadecimal digits of the IDm. Programme card: 16 digits."),
    )

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member

    def clean(self):
        cleaned = super().clean()
        if self.member.status == Member.Status.WITHDRAWN:
            raise forms.ValidationError(_("A card cannot be attached to a withdrawn member."))
        self.clean_card_number(member=self.member)
        return cleaned


class CardCreateForm(CardNumberFormMixin, forms.ModelForm):
    """Adding a card in the admin: with no member, a provisional member is created to hold its points."""

    number = forms.CharField(
        label=_("card number"),
        max_length=80,
        help_text=_("Transit IC: the 16 hexadecimal digits of the IDm. Programme card: 16 digits."),
    )

    class Meta:
        model = Card
        # The number is a plain form field: card_create normalises, encrypts and indexes it.
        fields = ["card_type", "member"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "member" in self.fields:
            self.fields["member"].required = False
            self.fields["member"].help_text = _("Leave empty to create a provisional member for the card.")

    def clean(self):
        cleaned = super().clean()
        member = cleaned.get("member")
        if member is not None and member.status == Member.Status.WITHDRAWN:
            self.add_error("member", _("A card cannot be attached to a withdrawn member."))
        self.clean_card_number(member=member)
        return cleaned
