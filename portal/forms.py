"""The portal's login and password-reset forms: only merchant portal users get through them."""

from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
