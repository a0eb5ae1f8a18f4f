"""The mail provider's reports, as django-anymail's `tracking` signal delivers them from its webhooks (mounted
at /mail/anymail/, guarded by ANYMAIL["WEBHOOK_SECRET"]): a bounce, a complaint or an unsubscribe at the
provider withdraws the address's mail consents (mailing.services); every other event is ignored."""

from anymail.signals import EventType

from mailing.services import mail_consent_withdraw_reported

WITHDRAWING = {EventType.BOUNCED, EventType.COMPLAINED, EventType.UNSUBSCRIBED}


def provider_event_received(sender, event, esp_name, **kwargs) -> None:
    if event.event_type in WITHDRAWING and event.recipient:
        mail_consent_withdraw_reported(
            email=event.recipient, event=event.event_type, provider=esp_name or "", event_id=event.event_id or ""
        )
