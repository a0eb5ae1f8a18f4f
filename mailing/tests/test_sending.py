"""A mailing's sending: exactly the members whose consent holds at the moment of sending and who have an
e-mail address, each once, however often the task runs and wherever a run stopped."""

import datetime
import threading

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from mailing import services
from mailing.models import Delivery, Mailing
from mailing.selectors import mailing_recipients
from mailing.services import (
    deliveries_send,
    mailing_cancel,
    mailing_schedule,
    mailing_send_batch,
    mailing_send_now,
    mailing_send_run,
    mailings_send_due,
)
from mailing.tasks import send_mailing
from mailing.tests.factories import MAIL, MailingFactory, member_of, withdraw
from members.models import Member
from points.tests.factories import make_staff

pytestmark = pytest.mark.django_db


def recipients() -> list[str]:
    """Every address mailed so far, once per message."""
    return sorted(address for message in mail.outbox for address in message.to)


@pytest.fixture
def street(programme):
    """Five members who agreed to the mail magazine (the segment's women), and around them: a woman who
    withdrew, a woman who never agreed, a woman without an e-mail address and a man who agreed."""
    agreed = [member_of(programme, gender="female") for _ in range(5)]
    withdraw(member_of(programme, gender="female"))
    member_of(programme, gender="female", consents=())
    member_of(programme, gender="female", email="")
    member_of(programme, gender="male")
    return {"agreed": agreed}


@pytest.fixture
def mailing(programme):
    return MailingFactory(programme=programme, genders=["female"])


def start(mailing) -> Mailing:
    """Sending → as "send now" leaves it, without running the queued task."""
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING, started_at=timezone.now())
    mailing.refresh_from_db()
    return mailing


def test_a_mailing_reaches_exactly_the_consenting_members_of_its_segment(
    street, mailing, sync_tasks, django_capture_on_commit_callbacks
):
    # When an operator sends it now (the queued task runs at once)
    with django_capture_on_commit_callbacks(execute=True):
        mailing_send_now(mailing=mailing, staff=make_staff())

    # Then each of the five women who agreed got one mail, and nobody else any
    assert recipients() == sorted(member.email for member in street["agreed"])
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENT
    assert (mailing.target_count, mailing.sent_count, mailing.skipped_count, mailing.failed_count) == (5, 5, 0, 0)
    sent_to = set(mailing.deliveries.filter(status=Delivery.Status.SENT).values_list("member_id", flat=True))
    assert sent_to == {member.pk for member in street["agreed"]}


def test_running_the_task_again_mails_nobody_twice(street, mailing):
    start(mailing)
    send_mailing(mailing.pk)
    first = recipients()

    # When the task runs again: once as it is (the mailing is sent), once as if a worker had it from the start
    send_mailing(mailing.pk)
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING, cursor=0)
    send_mailing(mailing.pk)

    # Then the same five mails, no more
    assert len(first) == 5
    assert recipients() == first
    assert Delivery.objects.filter(mailing=mailing).count() == 5


def test_a_run_interrupted_after_a_batch_goes_on_with_the_others(street, mailing):
    # Given a run that sent one batch of two and stopped
    start(mailing)
    first = mailing_send_batch(mailing=mailing, size=2)
    assert len(first.outcomes) == 2 and len(mail.outbox) == 2

    # When the task runs again
    assert send_mailing(mailing.pk) == Mailing.Status.SENT

    # Then the other three got theirs, and the first two nothing more
    assert recipients() == sorted(member.email for member in street["agreed"])


def test_a_member_claimed_by_a_worker_that_died_is_not_mailed_again(street, mailing):
    # Given a run that claimed a member's delivery and died before recording whether it was sent
    start(mailing)
    claimed = street["agreed"][0]
    Delivery.objects.create(mailing=mailing, member=claimed, at=timezone.now())

    # When the task runs again
    send_mailing(mailing.pk)

    # Then the others are mailed and that member is not (at most once): the row stays "outcome unknown"
    assert recipients() == sorted(member.email for member in street["agreed"][1:])
    assert Delivery.objects.get(mailing=mailing, member=claimed).status == Delivery.Status.PENDING


class Killed(BaseException):
    """The worker's process ending in the middle of a send (not an error the batch could record)."""


class DiesAtThird(EmailBackend):
    """The locmem backend, whose worker is killed while it sends the third message."""

    sent = 0

    def send_messages(self, messages):
        DiesAtThird.sent += 1
        if DiesAtThird.sent == 3:
            raise Killed
        return super().send_messages(messages)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_only_the_mail_it_was_sending(
    street, mailing, settings, monkeypatch
):
    # Given a worker killed while sending the third member's mail
    settings.EMAIL_BACKEND = "mailing.tests.test_sending.DiesAtThird"
    monkeypatch.setattr(DiesAtThird, "sent", 0)
    start(mailing)
    with pytest.raises(Killed):
        send_mailing(mailing.pk)
    first, second, third, *others = sorted(street["agreed"], key=lambda member: member.pk)
    assert recipients() == sorted([first.email, second.email])

    # When the task runs again
    send_mailing(mailing.pk)

    # Then the members the killed worker had not reached get theirs, the two it sent nothing more, and the
    # one it was sending to nothing (at most once): their row says the outcome is unknown
    assert recipients() == sorted(member.email for member in (first, second, *others))
    statuses = dict(Delivery.objects.filter(mailing=mailing).values_list("member_id", "status"))
    assert statuses == {
        first.pk: Delivery.Status.SENT,
        second.pk: Delivery.Status.SENT,
        third.pk: Delivery.Status.PENDING,
        **{member.pk: Delivery.Status.SENT for member in others},
    }


def test_a_member_who_withdraws_between_scheduling_and_sending_is_skipped(
    street, mailing, django_capture_on_commit_callbacks, sync_tasks
):
    send_at = timezone.now() + datetime.timedelta(hours=2)
    mailing_schedule(mailing=mailing, send_at=send_at, staff=make_staff())
    leaves = street["agreed"][0]
    withdraw(leaves)

    # When the minute's check runs after the time
    with django_capture_on_commit_callbacks(execute=True):
        started = mailings_send_due(now=send_at + datetime.timedelta(minutes=1))

    assert started == [mailing.pk]
    assert recipients() == sorted(member.email for member in street["agreed"][1:])
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT


def test_a_scheduled_mailing_waits_for_its_time(street, mailing):
    send_at = timezone.now() + datetime.timedelta(hours=2)
    mailing_schedule(mailing=mailing, send_at=send_at, staff=make_staff())

    assert mailings_send_due(now=send_at - datetime.timedelta(minutes=1)) == []
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SCHEDULED


def test_a_mail_is_not_sent_to_a_member_who_withdrew_an_instant_before(programme):
    # (moved from members: the consent is read from the ledger just before each message)
    stays, leaves, never = member_of(programme), member_of(programme), member_of(programme, consents=())
    mailing = start(MailingFactory(programme=programme, subject="商店街だより", body="{{ name }} 様"))
    # The list is drawn up while both consent...
    drawn = list(mailing_recipients(mailing).order_by("pk").values_list("pk", flat=True))
    assert drawn == sorted([stays.pk, leaves.pk])
    # ...then one withdraws just before the send.
    withdraw(leaves)

    outcomes = deliveries_send(mailing=mailing, member_ids=[*drawn, never.pk])

    assert outcomes == {
        stays.pk: Delivery.Status.SENT,
        leaves.pk: Delivery.Status.SKIPPED_NO_CONSENT,
        never.pk: Delivery.Status.SKIPPED_NO_CONSENT,
    }
    assert [message.to for message in mail.outbox] == [[stays.email]]
    assert mail.outbox[0].body.startswith(f"{stays.name} 様\n")


def test_a_member_whose_address_was_erased_after_the_list_was_drawn_is_skipped(programme):
    member = member_of(programme)
    mailing = start(MailingFactory(programme=programme))
    Member.objects.filter(pk=member.pk).update(email="", email_bidx="")

    assert deliveries_send(mailing=mailing, member_ids=[member.pk]) == {member.pk: Delivery.Status.SKIPPED_NO_EMAIL}
    assert mail.outbox == []


def test_each_mail_is_written_for_its_member_and_carries_one_click_unsubscribe(programme):
    from exchange.tests.factories import give_points

    member = member_of(programme, name="山田 花子")
    give_points(member, programme, 1_234)
    mailing = start(
        MailingFactory(programme=programme, subject="{{ name }}様へ {{ programme }}", body="残高 {{ balance }} pt")
    )

    send_mailing(mailing.pk)

    (message,) = mail.outbox
    assert message.subject == f"山田 花子様へ {programme.name}"
    assert message.body.startswith("残高 1,234 pt\n")
    url = message.extra_headers["List-Unsubscribe"]
    assert url.startswith("<https://members.example.jp/mail/unsubscribe/") and url.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The footer says why, and how to stop, in Japanese, with the same link and the sender.
    assert url[1:-1] in message.body
    assert "配信停止" in message.body and "ひかり商店街事務局" in message.body
    assert "&" not in message.subject  # plain text: nothing escaped


class FailingFor(EmailBackend):
    """The locmem backend, refusing one address as a provider's API would."""

    refused = ""

    def send_messages(self, messages):
        if any(self.refused in message.to for message in messages):
            raise ConnectionError("refused")
        return super().send_messages(messages)


def test_a_failed_mail_is_logged_and_the_others_go_on(street, mailing, settings, monkeypatch):
    settings.EMAIL_BACKEND = "mailing.tests.test_sending.FailingFor"
    refused = street["agreed"][2]
    monkeypatch.setattr(FailingFor, "refused", refused.email)
    start(mailing)

    send_mailing(mailing.pk)

    assert len(mail.outbox) == 4 and refused.email not in recipients()
    delivery = Delivery.objects.get(mailing=mailing, member=refused)
    assert (delivery.status, delivery.error) == (Delivery.Status.FAILED, "ConnectionError")
    mailing.refresh_from_db()
    assert (mailing.sent_count, mailing.failed_count) == (4, 1)


def test_a_long_mailing_goes_on_in_a_fresh_task(street, mailing, sync_tasks, monkeypatch):
    # Given batches of two and a run that stops after each batch
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    monkeypatch.setattr(services, "RUN_SECONDS", 0)
    start(mailing)

    assert mailing_send_run(mailing_id=mailing.pk, seconds=0) == "more"
    assert len(mail.outbox) == 2
    # When the task runs, it queues its continuation until the mailing is sent
    send_mailing(mailing.pk)

    assert recipients() == sorted(member.email for member in street["agreed"])
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT


def test_a_sending_whose_worker_died_is_taken_up_again(street, mailing, sync_tasks, django_capture_on_commit_callbacks):
    start(mailing)
    mailing_send_batch(mailing=mailing, size=2)
    stale = timezone.now() - services.STALE_AFTER - datetime.timedelta(minutes=1)
    Mailing.objects.filter(pk=mailing.pk).update(progress_at=stale)

    with django_capture_on_commit_callbacks(execute=True):
        assert mailings_send_due() == [mailing.pk]

    assert recipients() == sorted(member.email for member in street["agreed"])


def test_a_sending_still_heard_from_is_left_to_its_worker(street, mailing):
    start(mailing)
    Mailing.objects.filter(pk=mailing.pk).update(progress_at=timezone.now())

    assert mailings_send_due() == []


def test_a_cancelled_mailing_stops_before_its_next_batch(street, mailing):
    start(mailing)
    mailing_send_batch(mailing=mailing, size=2)
    mailing_cancel(mailing=mailing, staff=make_staff())

    assert send_mailing(mailing.pk) == Mailing.Status.CANCELLED
    assert len(mail.outbox) == 2


def test_a_sent_mailing_cannot_be_sent_again_or_changed(street, mailing):
    start(mailing)
    send_mailing(mailing.pk)

    with pytest.raises(services.MailingError):
        mailing_send_now(mailing=mailing, staff=make_staff())
    mailing.subject = "もう一度"
    with pytest.raises(services.MailingError):
        services.mailing_save(mailing=mailing, staff=make_staff())
    assert len(mail.outbox) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_mail_each_member_once(programme):
    # Given a mailing being sent, and two workers that both take it up at the same moment
    members = [member_of(programme) for _ in range(30)]
    mailing = start(MailingFactory(programme=programme))
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            one = Mailing.objects.select_related("programme").get(pk=mailing.pk)
            while not mailing_send_batch(mailing=one, size=7).done:
                pass
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each member got exactly one mail
    assert errors == []
    assert recipients() == sorted(member.email for member in members)
    assert Delivery.objects.filter(mailing=mailing, status=Delivery.Status.SENT).count() == 30


def test_the_purpose_decides_whose_consent_counts(programme):
    from members.models import Consent

    magazine_only = member_of(programme)
    direct_mail = member_of(programme, consents=(Consent.Purpose.DIRECT_MAIL,))
    mailing = start(MailingFactory(programme=programme, purpose=Consent.Purpose.DIRECT_MAIL))

    send_mailing(mailing.pk)

    assert recipients() == [direct_mail.email]
    assert MAIL != mailing.purpose and magazine_only.email not in recipients()
