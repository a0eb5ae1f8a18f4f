from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingConfig(AppConfig):
    name = "mailing"
    verbose_name = _("Mail to members")

    def ready(self):
        # The mail provider's bounce and complaint reports (django-anymail's webhooks) reach mailing.services.
        from anymail.signals import tracking

        from mailing.webhooks import provider_event_received

        tracking.connect(provider_event_received, dispatch_uid="mailing.provider_event")
