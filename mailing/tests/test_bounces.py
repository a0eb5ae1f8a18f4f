"""The mail provider's reports: a bounce, a complaint or an unsubscribe at the provider withdraws the address's
mail consents; the webhooks answer only with the secret, and only once one is set."""

import base64
import json

import pytest
from anymail.signals import AnymailTrackingEvent, EventType, tracking

from audit.models import AuditEvent
from mailing.tests.factories import MAIL, member_of
from members.models import Consent
from members.selectors import consent_holds

pytestmark = pytest.mark.django_db

DIRECT = Consent.Purpose.DIRECT_MAIL
WEBHOOK = "/mail/anymail/postmark/tracking/"
SECRET = "postmark:s3cret-hook"


def basic(secret: str) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


def postmark_bounce(email: str, kind: str = "HardBounce") -> str:
    """A Postmark bounce webhook's body, as Postmark posts it."""
    return json.dumps(
        {
            "RecordType": "Bounce",
            "ID": 4323372036854775807,
            "Type": kind,
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Tag": "",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": email,
            "From": "jimukyoku@example.jp",
            "BouncedAt": "2026-12-01T10:00:00Z",
            "DumpAvailable": False,
            "Inactive": True,
            "CanActivate": True,
            "Subject": "商店街だより",
        }
    )


@pytest.fixture
def member(programme):
    return member_of(programme, consents=(MAIL, DIRECT), email="Hanako.Yamada@example.jp")


@pytest.fixture
def secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def holds(member) -> tuple[bool, bool]:
    return consent_holds(member_id=member.pk, purpose=MAIL), consent_holds(member_id=member.pk, purpose=DIRECT)


def test_a_bounce_posted_by_the_provider_withdraws_the_addresss_mail_consents(client, member, secret):
    # The provider reports the address as it was sent, in whatever case
    response = client.post(
        WEBHOOK,
        postmark_bounce("hanako.yamada@EXAMPLE.JP"),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(SECRET),
    )

    assert response.status_code == 200
    assert holds(member) == (False, False)
    newest = Consent.objects.filter(member=member).first()
    assert (newest.given, newest.channel) == (False, Consent.Channel.SITE)
    event = AuditEvent.objects.get(object_id=str(member.pk), summary__contains="bounce")
    assert event.detail["provider"] == "Postmark" and event.detail["event_id"] == "4323372036854775807"
    # No personal data in the audit trail.
    assert "example.jp" not in json.dumps(event.detail).lower()


def test_a_report_without_the_secret_changes_nothing(client, member, secret):
    response = client.post(
        WEBHOOK, postmark_bounce(member.email), content_type="application/json", HTTP_AUTHORIZATION=basic("x:y")
    )
    unauthenticated = client.post(WEBHOOK, postmark_bounce(member.email), content_type="application/json")

    assert response.status_code == 400 and unauthenticated.status_code == 400
    assert holds(member) == (True, True)


def test_the_webhooks_are_not_there_until_a_secret_is_set(client, member, settings):
    settings.ANYMAIL = {}

    response = client.post(WEBHOOK, postmark_bounce(member.email), content_type="application/json")

    assert response.status_code == 404
    assert holds(member) == (True, True)


@pytest.mark.parametrize("event_type", [EventType.COMPLAINED, EventType.UNSUBSCRIBED])
def test_a_complaint_or_an_unsubscribe_at_the_provider_withdraws_them_too(member, event_type):
    event = AnymailTrackingEvent(event_type=event_type, recipient=member.email, event_id="ev-1")

    tracking.send(sender=object, event=event, esp_name="Amazon SES")

    assert holds(member) == (False, False)


@pytest.mark.parametrize("event_type", [EventType.DELIVERED, EventType.OPENED, EventType.DEFERRED])
def test_other_reports_change_nothing(member, event_type):
    event = AnymailTrackingEvent(event_type=event_type, recipient=member.email)

    tracking.send(sender=object, event=event, esp_name="Amazon SES")

    assert holds(member) == (True, True)


def test_a_bounce_of_an_unknown_address_changes_nobodys_consent(member):
    tracking.send(
        sender=object,
        event=AnymailTrackingEvent(event_type=EventType.BOUNCED, recipient="someone@else.example"),
        esp_name="Postmark",
    )

    assert holds(member) == (True, True)
    assert Consent.objects.filter(given=False).count() == 0
