"""The portal's login and password-reset forms (only merchant portal users get through them), and the
period of its analytics."""

import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.selectors import DAY, MONTH
from stores.models import MerchantUser


def is_merchant_user(user) -> bool:
    return user is not None and MerchantUser.objects.filter(user=user).exists()


class PortalAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "not_merchant": _(
            "This account cannot use the merchant portal. Secretariat staff sign in to the back office instead."
        ),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not is_merchant_user(user):
            raise ValidationError(self.error_messages["not_merchant"], code="not_merchant")


class PortalPasswordResetForm(PasswordResetForm):
    """Sends the reset link only to merchant portal users: staff passwords are never reset from here."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if is_merchant_user(user))


class AnalyticsForm(forms.Form):
    """The period of the portal's analytics: this month unless another is chosen."""

    # The longest period read by day.
    MAX_DAYS = 400

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=_("Figures"), choices=[(MONTH, _("by month")), (DAY, _("by day"))], initial=MONTH)

    def __init__(self, *args, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        today = today or timezone.localdate()
        self.fields["start"].initial = today.replace(day=1)
        self.fields["end"].initial = today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError(_("The period ends before it starts."))
            if data.get("by") == DAY and (end - start).days > self.MAX_DAYS:
                raise ValidationError(
                    _("By day, a report covers at most %(days)s days; choose by month.") % {"days": self.MAX_DAYS}
                )
        return data

    def period(self) -> tuple[datetime.date, datetime.date, str]:
        """(from, to, by) as sent, or this month by month before the form is sent."""
        if self.is_bound:
            data = self.cleaned_data
            return data["start"], data["end"], data.get("by") or MONTH
        return self.fields["start"].initial, self.fields["end"].initial, MONTH
