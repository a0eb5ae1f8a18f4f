"""Mail to members in the admin: an operator writes a mailing, sees how many members it reaches (fewer than
five shown as such), sends it now or schedules it, and reads its progress and send log; auditors read."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from mailing.models import Delivery, ExpiryReminder, Mailing
from mailing.tests.factories import MailingFactory, member_of
from ranks.models import Rank
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:mailing_mailing_add")


def shown(message: str, **values) -> str:
    """A message in the language the admin speaks to a user who asked for none."""
    with translation.override(django_settings.LANGUAGE_CODE):
        text = gettext(message)
    return text % values if values else text


def change_url(mailing) -> str:
    return reverse("admin:mailing_mailing_change", args=[mailing.pk])


def form_data(programme, **fields) -> dict:
    return {
        "programme": programme.pk,
        "purpose": "mail_magazine",
        "subject": "{{ programme }} 年末セールのお知らせ",
        "body": "{{ name }} 様\n残高 {{ balance }} ポイント",
        "genders": [],
        "age_min": "",
        "age_max": "",
        "postal_prefixes": "",
        "visited_within_days": "",
        "not_visited_for_days": "",
        **fields,
    }


@pytest.fixture
def women(programme):
    return [member_of(programme, gender="female", postal_code="100-0001") for _ in range(6)]


def test_an_operator_writes_a_mailing_and_sees_whom_it_reaches(operator_client, programme, women):
    member_of(programme, gender="male")

    response = operator_client.post(ADD, form_data(programme, genders=["female"], postal_prefixes="100、１０１"))

    mailing = Mailing.objects.get()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert (mailing.genders, mailing.postal_prefixes, mailing.status) == (["female"], ["100", "101"], "draft")
    assert mailing.created_by.username == "unyou"
    assert AuditEvent.objects.filter(object_type="mailing.Mailing", object_id=str(mailing.pk)).exists()
    page = operator_client.get(change_url(mailing)).content.decode()
    assert f'<span id="mailing-reach">{shown("%(count)s members", count="6")}</span>' in page
    assert 'id="mailing-send"' in page and 'id="mailing-schedule"' in page


def test_a_reach_of_fewer_than_five_is_not_shown_as_a_number(operator_client, programme, women):
    mailing = MailingFactory(programme=programme, postal_prefixes=["999"])
    member_of(programme, postal_code="999-0001")

    page = operator_client.get(change_url(mailing)).content.decode()

    assert f'<span id="mailing-reach">{shown("fewer than 5 members")}</span>' in page
    assert "5名未満" in page


@pytest.mark.parametrize(
    "body",
    ["{% if name %}閉じていない", "{% load humanize %}{{ balance|intcomma }}", '{% include "admin/base.html" %}'],
)
def test_a_template_that_does_not_render_or_reaches_beyond_the_mail_is_refused(operator_client, programme, body):
    response = operator_client.post(ADD, form_data(programme, body=body))

    assert response.status_code == 200
    assert not Mailing.objects.exists()
    assert "テンプレートとして使えない文面です" in response.content.decode()


def test_ranks_and_stores_of_another_programme_are_refused(operator_client, programme):
    from points.tests.factories import ProgrammeFactory, join

    other = ProgrammeFactory(code="OTHER")
    rank = Rank.objects.create(programme=other, name="ゴールド", threshold_yen=1)
    store = join(StoreFactory(), other)

    response = operator_client.post(ADD, form_data(programme, rank_ids=[rank.pk], store_ids=[store.pk]))

    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"rank_ids", "store_ids"}
    assert not Mailing.objects.exists()


def test_sending_now_from_the_admin_mails_them_and_shows_the_send_log(
    operator_client, programme, women, sync_tasks, django_capture_on_commit_callbacks
):
    mailing = MailingFactory(programme=programme, genders=["female"])
    send = reverse("admin:mailing_mailing_send", args=[mailing.pk])
    question = operator_client.get(send).content.decode()
    assert shown("Send this mailing now to %(members)s?", members=shown("%(count)s members", count="6")) in question

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(send)

    assert response.status_code == 302
    assert len(mail.outbox) == 6
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENT
    page = operator_client.get(change_url(mailing)).content.decode()
    assert shown("%(sent)s sent, %(skipped)s skipped, %(failed)s failed", sent="6", skipped="0", failed="0") in page
    assert 'id="mailing-send"' not in page and "_save" not in page  # sent: read-only, nothing to send
    log = operator_client.get(reverse("admin:mailing_delivery_changelist") + f"?mailing__id__exact={mailing.pk}")
    rows = log.content.decode().split('id="result_list"')[1].split("</tbody>")[0]
    assert all(member.pseudonym in rows for member in women)
    assert rows.count("送信済み") == 6


def test_scheduling_from_the_admin(operator_client, programme, women):
    mailing = MailingFactory(programme=programme)
    send_at = timezone.localtime() + datetime.timedelta(days=1)

    response = operator_client.post(
        reverse("admin:mailing_mailing_schedule", args=[mailing.pk]), {"send_at": send_at.strftime("%Y-%m-%dT%H:%M")}
    )

    assert response.status_code == 302
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SCHEDULED
    assert mailing.send_at == send_at.replace(second=0, microsecond=0)
    assert mail.outbox == []
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert messages and "に送信します" in messages[0]


def test_a_time_in_the_past_is_refused(operator_client, programme):
    mailing = MailingFactory(programme=programme)
    past = timezone.localtime() - datetime.timedelta(hours=1)

    response = operator_client.post(
        reverse("admin:mailing_mailing_schedule", args=[mailing.pk]), {"send_at": past.strftime("%Y-%m-%dT%H:%M")}
    )

    assert response.status_code == 200
    assert shown("Choose a time in the future, or send the mailing now.") in response.content.decode()
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT


def test_cancelling_a_scheduled_mailing(operator_client, programme):
    mailing = MailingFactory(
        programme=programme, status=Mailing.Status.SCHEDULED, send_at=timezone.now() + datetime.timedelta(hours=1)
    )

    operator_client.post(reverse("admin:mailing_mailing_cancel", args=[mailing.pk]))

    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.CANCELLED


def test_auditors_read_mailings_and_the_send_log_but_send_nothing(auditor_client, programme, women):
    mailing = MailingFactory(programme=programme)

    page = auditor_client.get(change_url(mailing))
    send = auditor_client.post(reverse("admin:mailing_mailing_send", args=[mailing.pk]))

    assert page.status_code == 200 and 'id="mailing-send"' not in page.content.decode()
    assert send.status_code == 403
    assert auditor_client.get(reverse("admin:mailing_delivery_changelist")).status_code == 200
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT and mail.outbox == []


def test_nobody_edits_the_send_log(secretariat_client, programme, women):
    mailing = MailingFactory(programme=programme, status=Mailing.Status.SENT)
    delivery = Delivery.objects.create(mailing=mailing, member=women[0], at=timezone.now())

    response = secretariat_client.post(reverse("admin:mailing_delivery_change", args=[delivery.pk]), {"status": "sent"})

    assert response.status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.PENDING


def test_an_operator_sets_the_programmes_expiry_reminder(operator_client, programme):
    add = reverse("admin:mailing_expiryreminder_add")
    form = operator_client.get(add).content.decode()
    assert "来月有効期限を迎えます" in form  # the default text, to start from

    response = operator_client.post(
        add, {"programme": programme.pk, "active": "on", "subject": "失効のお知らせ", "body": "{{ name }} 様"}
    )

    assert response.status_code == 302
    reminder = ExpiryReminder.objects.get()
    assert (reminder.programme, reminder.active, reminder.subject) == (programme, True, "失効のお知らせ")
