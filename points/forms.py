import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members import services as member_services
from members.models import Card, Member
from members.selectors import member_search
from points.models import Programme


class MemberOperationForm(forms.Form):
    """A form of an operation on one member, from the member page."""

    def __init__(self, *args, member: Member, **kwargs):
        self.member = member
        super().__init__(*args, **kwargs)


class AdjustForm(MemberOperationForm):
    programme = forms.ModelChoiceField(Programme.objects.filter(is_active=True), label=_("Programme"))
    points = forms.IntegerField(label=_("Points (+ to add, - to deduct)"), min_value=-1_000_000, max_value=1_000_000)
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, member=member, **kwargs)
        # The programme the member holds points in, when there is only one.
        programmes = list(member.accounts.values_list("programme_id", flat=True)[:2])
        if len(programmes) == 1:
            self.fields["programme"].initial = programmes[0]

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Enter a non-zero number of points."))
        return points

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A manual adjustment needs a reason."))
        return reason


class SellPointsForm(MemberOperationForm):
    programme = forms.ModelChoiceField(
        Programme.objects.filter(is_active=True, sells_points=True), label=_("Programme"), empty_label=None
    )
    amount_yen = forms.IntegerField(label=_("Yen paid"), min_value=1, max_value=1_000_000)


class RefundPurchasedForm(MemberOperationForm):
    programme = forms.ModelChoiceField(
        Programme.objects.filter(is_active=False, sells_points=True), label=_("Programme"), empty_label=None
    )


class ReplaceCardForm(MemberOperationForm):
    old_card = forms.ModelChoiceField(Card.objects.none(), label=_("Card to replace"))
    new_card_type = forms.ChoiceField(choices=Card.CardType.choices, label=_("New card type"))
    new_number = forms.CharField(label=_("New card number / IDm"), max_length=64)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False, initial=_("lost card"))

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, member=member, **kwargs)
        self.fields["old_card"].queryset = member.cards.filter(status=Card.Status.ACTIVE).defer("number")

    def clean(self):
        cleaned = super().clean()
        if "new_number" in cleaned and "new_card_type" in cleaned:
            try:
                cleaned["new_number"] = member_services.card_number_normalise(
                    number=cleaned["new_number"], card_type=cleaned["new_card_type"]
                )
            except member_services.CardNumberError as exc:
                self.add_error("new_number", str(exc))
        return cleaned


class MergeForm(MemberOperationForm):
    other = forms.CharField(
        label=_("The other record"),
        help_text=_("Member id, card number / IDm, phone or e-mail of the record to merge into this one."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def clean_other(self):
        found = [m for m in member_search(query=self.cleaned_data["other"])[:3] if m.pk != self.member.pk]
        if not found:
            raise forms.ValidationError(_("No other member matches."))
        if len(found) > 1:
            raise forms.ValidationError(_("More than one member matches; enter the member id."))
        return found[0]


class WithdrawForm(MemberOperationForm):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    confirm = forms.BooleanField(
        label=_("I understand that the remaining points are forfeited and personal data is erased."), required=True
    )


class StatusChangeForm(MemberOperationForm):
    """Suspending or reinstating a member asks for nothing but the press of the button."""


class OutstandingForm(forms.Form):
    on = forms.DateField(label=_("As of the end of"), widget=forms.DateInput(attrs={"type": "date"}))
    programme = forms.ModelChoiceField(Programme.objects.all(), label=_("Programme"), required=False)

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("Choose today or a day in the past."))
        return on

    def moment(self) -> datetime.datetime:
        """The end of the chosen day, Tokyo time (the start of the next)."""
        next_day = self.cleaned_data["on"] + datetime.timedelta(days=1)
        return datetime.datetime.combine(next_day, datetime.time(), tzinfo=timezone.get_default_timezone())


class RecordedDatesForm(forms.Form):
    """The ledger list's date range: days (Tokyo) the entries were recorded, both ends included."""

    recorded_from = forms.DateField(
        label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date", "style": "width: 11em"})
    )
    recorded_to = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date", "style": "width: 11em"})
    )

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("recorded_from"), cleaned.get("recorded_to")
        if first and last and first > last:
            raise forms.ValidationError(_("The first day is after the last."))
        return cleaned


class StoreCodeForm(forms.Form):
    """The ledger list's store: its code typed in (a street has too many stores for a list of links)."""

    store_code = forms.CharField(
        label=_("store code"), required=False, max_length=20, widget=forms.TextInput(attrs={"style": "width: 9em"})
    )
