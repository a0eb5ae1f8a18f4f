"""Unsubscribe: the link of every mail shows a page on GET and changes nothing; a POST (the page's button, or
the mail client's RFC 8058 one-click request, without a CSRF token) withdraws the consent in the ledger."""

import pytest
from django.core import mail
from django.test import Client

from audit.models import AuditEvent
from mailing.composing import unsubscribe_token
from mailing.tasks import send_mailing
from mailing.tests.factories import MAIL, MailingFactory, member_of
from mailing.tests.test_sending import start
from members.models import Consent
from members.selectors import consent_holds

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return url.removeprefix("https://members.example.jp")


@pytest.fixture
def member(programme):
    return member_of(programme, consents=(MAIL, Consent.Purpose.DIRECT_MAIL))


@pytest.fixture
def link(programme, member) -> str:
    """The unsubscribe link of the mail the member received, as its List-Unsubscribe header gives it."""
    send_mailing(start(MailingFactory(programme=programme)).pk)
    (message,) = mail.outbox
    return path_of(message.extra_headers["List-Unsubscribe"].strip("<>"))


def test_opening_the_link_shows_a_page_and_changes_nothing(client, member, link):
    rows = Consent.objects.filter(member=member).count()

    response = client.get(link, HTTP_ACCEPT_LANGUAGE="ja")

    page = response.content.decode()
    assert response.status_code == 200
    assert "メールマガジンの配信を停止します" in page and 'id="unsubscribe"' in page
    assert consent_holds(member_id=member.pk, purpose=MAIL)
    assert Consent.objects.filter(member=member).count() == rows


def test_the_pages_button_withdraws_the_consent(client, member, link):
    response = client.post(link, {"List-Unsubscribe": "One-Click"}, HTTP_ACCEPT_LANGUAGE="ja")

    assert response.status_code == 200
    assert "今後、メールマガジンはお送りしません" in response.content.decode()
    assert not consent_holds(member_id=member.pk, purpose=MAIL)
    newest = Consent.objects.filter(member=member, purpose=MAIL).first()
    assert (newest.given, newest.channel, newest.staff) == (False, Consent.Channel.SITE, None)
    # Only the purpose of the mail: direct mail still holds.
    assert consent_holds(member_id=member.pk, purpose=Consent.Purpose.DIRECT_MAIL)
    assert AuditEvent.objects.filter(object_id=str(member.pk), summary__contains="unsubscribe link").exists()


def test_a_mail_clients_one_click_post_needs_no_csrf_token(member, link):
    # RFC 8058: the client POSTs "List-Unsubscribe=One-Click" to the header's URL, with no cookie and no token
    client = Client(enforce_csrf_checks=True)

    response = client.post(link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert not consent_holds(member_id=member.pk, purpose=MAIL)


def test_a_second_click_changes_nothing_more(client, member, link):
    client.post(link)
    rows = Consent.objects.filter(member=member).count()

    assert client.post(link).status_code == 200
    assert Consent.objects.filter(member=member).count() == rows


def test_a_withdrawn_member_is_not_mailed_again(client, programme, member, link):
    client.post(link)
    mail.outbox.clear()

    send_mailing(start(MailingFactory(programme=programme)).pk)

    assert mail.outbox == []


def test_a_token_tampered_with_is_not_found(client, member, link):
    other = member_of(member.accounts.first().programme)
    # The signature of the member's link on another member's id
    token = link.split("/")[3]
    theirs = unsubscribe_token(member_id=other.pk, purpose=MAIL).split(":", 1)[0]
    forged = f"/mail/unsubscribe/{theirs}:{token.split(':', 1)[1]}/"

    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404
    assert client.post("/mail/unsubscribe/nonsense/").status_code == 404
    assert consent_holds(member_id=other.pk, purpose=MAIL)
    assert consent_holds(member_id=member.pk, purpose=MAIL)


def test_a_token_for_a_purpose_that_is_not_mail_is_not_found(client, member):
    token = unsubscribe_token(member_id=member.pk, purpose=Consent.Purpose.ANALYSIS)

    assert client.get(f"/mail/unsubscribe/{token}/").status_code == 404
    assert client.post(f"/mail/unsubscribe/{token}/").status_code == 404
